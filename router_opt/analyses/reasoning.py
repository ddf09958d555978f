"""The reasoning multiplier: when does a reasoning model earn its price over an instruct model?

For one task type:

    gain          = (reasoning quality - instruct quality) / instruct quality        (relative)
    cost multiple = reasoning $ per call / instruct $ per call
    RM            = gain in percent / cost multiple

RM is "percent of quality gained per 1x of extra cost"; a verdict band (Never ... Essential, edges in
`catalogs/economics/reasoning-multiplier-2025.yaml`) turns it into advice. Two sources of inputs: a
multiplier table (the seed's, by default) or a catalog, comparing two of its models per task type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from router_opt.analyses.common import ANALYSIS_SCHEMA_VERSION, AnalysisResult, round_half_up
from router_opt.analyses.data import REASONING_TABLE, DataFile, load_bundled_or
from router_opt.errors import RouterOptError
from router_opt.models import Catalog, ModelSpec, Tier, Workload

Quality = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class VerdictBand(DataFile):
    """One verdict and the lowest RM that earns it."""

    verdict: Annotated[str, Field(min_length=1)]
    """Advice for tasks in the band, e.g. `Buy`."""
    min_rm: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    """Lowest reasoning multiplier in the band (inclusive)."""


class MultiplierRow(DataFile):
    """One task of a multiplier table."""

    task: Annotated[str, Field(min_length=1)]
    """Task name as the table prints it."""
    task_type: str | None = None
    """The catalog task type the row corresponds to, if any."""
    instruct_quality: Positive
    """Quality of the instruct (non-reasoning) model, same scale as `reasoning_quality`."""
    reasoning_quality: Quality
    """Quality of the reasoning model."""
    cost_multiple: Positive
    """Reasoning model's cost per task as a multiple of the instruct model's."""


class MultiplierTable(DataFile):
    """A reasoning-multiplier data file (the bundled one is the seed's table)."""

    name: Annotated[str, Field(min_length=1)]
    """Short name shown in reports."""
    sources: tuple[str, ...] = ()
    """Where the figures come from."""
    gain_percent_decimals: Annotated[int, Field(ge=0, le=10)] | None = None
    """Round the gain (in percent) to this many decimals before dividing, as a printed table does;
    null divides the unrounded gain."""
    bands: tuple[VerdictBand, ...] = Field(min_length=1)
    """Verdict bands, lowest first; the first must start at 0."""
    rows: tuple[MultiplierRow, ...] = Field(min_length=1)
    """The tasks."""

    @model_validator(mode="after")
    def _bands_ascending(self) -> MultiplierTable:
        check_bands(self.bands)
        return self


def check_bands(bands: tuple[VerdictBand, ...]) -> None:
    """Bands must start at 0 and rise strictly, so every RM >= 0 falls in exactly one."""
    problems = []
    if bands and bands[0].min_rm != 0:
        problems.append(f"bands[0].min_rm: the lowest band must start at 0, got {bands[0].min_rm:g}")
    for i in range(1, len(bands)):
        if bands[i].min_rm <= bands[i - 1].min_rm:
            problems.append(
                f"bands[{i}].min_rm: must be above the previous band's {bands[i - 1].min_rm:g}, got {bands[i].min_rm:g}"
            )
    if problems:
        raise ValueError("\n".join(problems))


def verdict_for(rm: float, bands: tuple[VerdictBand, ...]) -> str:
    """The last band whose edge `rm` reaches; a negative RM (reasoning is worse) gets the lowest band."""
    verdict = bands[0].verdict
    for band in bands:
        if rm >= band.min_rm:
            verdict = band.verdict
    return verdict


class ReasoningRow(AnalysisResult):
    task: str
    """Task name (table) or task type (catalog)."""
    task_type: str | None
    instruct_quality: float
    reasoning_quality: float
    gain_share: float
    """Relative quality gain, (reasoning - instruct) / instruct, unrounded (0.021 = 2.1%)."""
    gain_percent: float
    """The gain the RM divides, in percent: `gain_share` x 100, rounded if `gain_percent_decimals` says so."""
    cost_multiple: float
    """Reasoning $ per call / instruct $ per call."""
    reasoning_multiplier: float
    """gain_percent / cost_multiple."""
    verdict: str


class ReasoningResult(AnalysisResult):
    """The reasoning multiplier per task (type), with the inputs it came from."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    analysis: Literal["reasoning"] = "reasoning"
    source: str
    """`table <name>` or `catalog <name>`."""
    instruct_model: str
    """Instruct side: a catalog model id, or `instruct` for a table."""
    reasoning_model: str
    """Reasoning side: a catalog model id, or `reasoning` for a table."""
    instruct_token_multiplier: float
    """Tokens the instruct model spends per call relative to the task's tokens (catalog source)."""
    reasoning_token_multiplier: float
    """Tokens the reasoning model spends per call relative to the task's tokens, e.g. 3 for thinking tokens."""
    gain_percent_decimals: int | None
    bands: tuple[VerdictBand, ...]
    rows: tuple[ReasoningRow, ...]
    skipped: tuple[str, ...] = ()
    """Task types that could not be compared, and why."""


def _row(
    task: str,
    task_type: str | None,
    instruct_q: float,
    reasoning_q: float,
    cost_multiple: float,
    decimals: int | None,
    bands: tuple[VerdictBand, ...],
) -> ReasoningRow:
    gain = (reasoning_q - instruct_q) / instruct_q
    gain_percent = gain * 100 if decimals is None else round_half_up(gain * 100, decimals)
    rm = gain_percent / cost_multiple
    return ReasoningRow(
        task=task,
        task_type=task_type,
        instruct_quality=instruct_q,
        reasoning_quality=reasoning_q,
        gain_share=gain,
        gain_percent=gain_percent,
        cost_multiple=cost_multiple,
        reasoning_multiplier=rm,
        verdict=verdict_for(rm, bands),
    )


def load_multiplier_table(path: str | Path | None = None) -> MultiplierTable:
    """A multiplier table file, or the bundled seed table when `path` is None."""
    return load_bundled_or(path, REASONING_TABLE, MultiplierTable, "reasoning multiplier table")


def reasoning_from_table(table: MultiplierTable) -> ReasoningResult:
    """RM and verdict for every row of a multiplier table, from its qualities and cost multiples."""
    rows = tuple(
        _row(
            r.task,
            r.task_type,
            r.instruct_quality,
            r.reasoning_quality,
            r.cost_multiple,
            table.gain_percent_decimals,
            table.bands,
        )
        for r in table.rows
    )
    return ReasoningResult(
        source=f"table {table.name}",
        instruct_model="instruct",
        reasoning_model="reasoning",
        instruct_token_multiplier=1.0,
        reasoning_token_multiplier=1.0,
        gain_percent_decimals=table.gain_percent_decimals,
        bands=table.bands,
        rows=rows,
    )


def _pick(catalog: Catalog, model_id: str | None, tier: Tier, role: str) -> ModelSpec:
    if model_id is not None:
        for model in catalog.models:
            if model.id == model_id:
                return model
        raise RouterOptError(
            f"`{role}_model` '{model_id}' is not in catalog '{catalog.name}' "
            f"(ids: {', '.join(m.id for m in catalog.models)})",
            option=f"{role}_model",
        )
    for model in catalog.models:
        if model.tier is tier:
            return model
    raise RouterOptError(
        f"catalog '{catalog.name}' has no {tier} tier model; name one with `{role}_model` "
        f"(ids: {', '.join(m.id for m in catalog.models)})",
        option=f"{role}_model",
    )


def _input_shares(workload: Workload | None) -> dict[str, float]:
    """Share of each task type's daily tokens that are input (prompt) tokens, from the workload."""
    if workload is None:
        return {}
    totals: dict[str, list[float]] = {}
    for t in workload.tasks:
        volume = t.invocations_per_day * t.headcount
        acc = totals.setdefault(t.task_type, [0.0, 0.0])
        acc[0] += volume * t.input_tokens
        acc[1] += volume * (t.input_tokens + t.output_tokens)
    return {k: (v[0] / v[1] if v[1] > 0 else 0.5) for k, v in totals.items()}


def reasoning_from_catalog(
    catalog: Catalog,
    workload: Workload | None = None,
    reasoning_model: str | None = None,
    instruct_model: str | None = None,
    reasoning_token_multiplier: float = 1.0,
    instruct_token_multiplier: float = 1.0,
    bands: tuple[VerdictBand, ...] | None = None,
    gain_percent_decimals: int | None = None,
) -> ReasoningResult:
    """RM per task type for two catalog models: by default the first Reasoning-tier model against the
    first Instruct-tier model.

    Cost multiple = (reasoning $/token x its token multiplier) / (instruct $/token x its token
    multiplier), where $/token mixes each model's input and output prices in the proportion of the
    workload's input and output tokens for that task type (half and half without a workload, or for a
    type the workload does not use). With a workload, only the task types it uses are compared.
    `bands` default to the bundled table's."""
    if reasoning_token_multiplier <= 0 or instruct_token_multiplier <= 0:
        raise RouterOptError("token multipliers must be above 0")
    bands = bands if bands is not None else load_multiplier_table().bands
    try:
        check_bands(bands)
    except ValueError as exc:
        raise RouterOptError(str(exc)) from None
    reasoning = _pick(catalog, reasoning_model, Tier.REASONING, "reasoning")
    instruct = _pick(catalog, instruct_model, Tier.INSTRUCT, "instruct")
    if reasoning.id == instruct.id:
        raise RouterOptError(f"the reasoning and instruct models are the same model ('{reasoning.id}')")
    shares = _input_shares(workload)
    if workload is not None:
        task_types = list(dict.fromkeys(t.task_type for t in workload.tasks))
    else:
        task_types = catalog.task_types

    rows, skipped = [], []
    for task_type in task_types:
        if task_type not in reasoning.quality or task_type not in instruct.quality:
            missing = [m.id for m in (reasoning, instruct) if task_type not in m.quality]
            skipped.append(f"{task_type}: not rated by {', '.join(missing)}")
            continue
        instruct_q = instruct.quality[task_type]
        if instruct_q <= 0:
            skipped.append(f"{task_type}: {instruct.id} rates it {instruct_q:g}, so a relative gain is undefined")
            continue
        share_in = shares.get(task_type, 0.5)
        per_token_r = share_in * reasoning.input_usd_per_mtok + (1 - share_in) * reasoning.output_usd_per_mtok
        per_token_i = share_in * instruct.input_usd_per_mtok + (1 - share_in) * instruct.output_usd_per_mtok
        if per_token_i <= 0:
            skipped.append(f"{task_type}: {instruct.id} is free, so the cost multiple is unbounded")
            continue
        multiple = (per_token_r * reasoning_token_multiplier) / (per_token_i * instruct_token_multiplier)
        rows.append(
            _row(task_type, task_type, instruct_q, reasoning.quality[task_type], multiple, gain_percent_decimals, bands)
        )
    if not rows:
        raise RouterOptError(f"no task type is rated by both {reasoning.id} and {instruct.id}: " + "; ".join(skipped))
    return ReasoningResult(
        source=f"catalog {catalog.name}",
        instruct_model=instruct.id,
        reasoning_model=reasoning.id,
        instruct_token_multiplier=instruct_token_multiplier,
        reasoning_token_multiplier=reasoning_token_multiplier,
        gain_percent_decimals=gain_percent_decimals,
        bands=bands,
        rows=tuple(rows),
        skipped=tuple(skipped),
    )
