"""Self-hosting on rented GPUs against a per-token API.

    self-hosted $/M tokens = GPU $/hour / (tokens/s x 3600 x utilisation) x 10^6 x (1 + overhead)

A self-hosted GPU costs the same each day whatever the traffic (GPU $/hour x 24 x (1 + overhead)) and
serves at most tokens/s x 86,400 x utilisation tokens a day; more traffic needs another whole GPU. The
API costs volume x its $/M. So:

- breakeven volume V* = GPU $/day / API $ per token: from V* up to one GPU's capacity, one GPU is
  cheaper than the API. If V* exceeds one GPU's capacity the GPU never wins (its $/M at full load is
  above the API's).
- Past one GPU's capacity a second GPU is a step in cost, so just above each step the API can win again.
  Self-hosting is never dearer above n x V*, where n is the largest whole number below
  capacity / (capacity - V*) (n = 1 whenever one GPU at full load costs at most half the API bill).

Months are 365/12 days and a year is 12 of them (router_opt.units), so every yearly figure is its
monthly figure x 12.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from router_opt.analyses.common import (
    ANALYSIS_SCHEMA_VERSION,
    DAYS_PER_MONTH,
    HOURS_PER_DAY,
    MONTHS_PER_YEAR,
    SECONDS_PER_HOUR,
    TOKENS_PER_MTOK,
    AnalysisResult,
)
from router_opt.analyses.data import SELF_HOSTING, DataFile, load_bundled_or
from router_opt.errors import RouterOptError
from router_opt.models import Catalog, Workload

PositiveFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Gpu(DataFile):
    """A rentable GPU."""

    id: Annotated[str, Field(min_length=1)]
    """Name used on the command line (`--gpu L40S`), matched without regard to case."""
    usd_per_hour: PositiveFinite
    """Rental price used by default, USD per GPU-hour."""
    usd_per_hour_range: tuple[PositiveFinite, PositiveFinite] | None = None
    """The source's price range, when it gives one (low, high)."""
    peak_dense_bf16_tflops: PositiveFinite | None = None
    """Peak dense BF16 tensor throughput, TFLOP/s (training-cost uses it for FLOPs-based estimates)."""
    sources: tuple[str, ...] = ()
    """Where each figure comes from."""

    @model_validator(mode="after")
    def _range(self) -> Gpu:
        if self.usd_per_hour_range is not None and self.usd_per_hour_range[0] > self.usd_per_hour_range[1]:
            raise ValueError("usd_per_hour_range: low must not exceed high")
        return self


class Throughput(DataFile):
    """Measured serving throughput of one model size on one GPU."""

    model: Annotated[str, Field(min_length=1)]
    """Served model size, e.g. `7B`."""
    gpu: Annotated[str, Field(min_length=1)]
    """GPU id (one of `gpus`)."""
    tokens_per_second: PositiveFinite
    """Tokens per second one GPU serves at full load."""
    source: str = ""


class ApiPrice(DataFile):
    """An API model's one price per million tokens (input and output alike)."""

    id: Annotated[str, Field(min_length=1)]
    usd_per_mtok: PositiveFinite
    source: str = ""


class SelfHostingDefaults(DataFile):
    gpu: Annotated[str, Field(min_length=1)]
    """GPU used when none is named."""
    utilisation: Share
    """Share of the day a GPU serves at its full throughput (0..1]."""
    overhead: NonNegative
    """Extra cost on top of GPU rental, as a share (0.15 = 15%)."""


class SelfHostingData(DataFile):
    """The self-hosting data file (the bundled one is the seed's tables)."""

    name: Annotated[str, Field(min_length=1)]
    defaults: SelfHostingDefaults
    gpus: tuple[Gpu, ...] = Field(min_length=1)
    throughput: tuple[Throughput, ...] = ()
    api_models: tuple[ApiPrice, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> SelfHostingData:
        ids = [g.id.lower() for g in self.gpus]
        problems = []
        for i, g in enumerate(self.gpus):
            if ids.index(g.id.lower()) != i:
                problems.append(f"gpus[{i}].id: duplicate GPU id '{g.id}'")
        for i, t in enumerate(self.throughput):
            if t.gpu.lower() not in ids:
                problems.append(
                    f"throughput[{i}].gpu: '{t.gpu}' is not one of the gpus ({', '.join(g.id for g in self.gpus)})"
                )
        if self.defaults.gpu.lower() not in ids:
            problems.append(f"defaults.gpu: '{self.defaults.gpu}' is not one of the gpus")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def gpu(self, gpu_id: str) -> Gpu:
        for g in self.gpus:
            if g.id.lower() == gpu_id.lower():
                return g
        raise RouterOptError(f"unknown GPU '{gpu_id}' in '{self.name}'; known: {', '.join(g.id for g in self.gpus)}")


def load_self_hosting(path: str | Path | None = None) -> SelfHostingData:
    """A self-hosting data file, or the bundled seed tables when `path` is None."""
    return load_bundled_or(path, SELF_HOSTING, SelfHostingData, "self-hosting")


def self_hosted_usd_per_mtok(
    usd_per_gpu_hour: float, tokens_per_second: float, utilisation: float, overhead: float
) -> float:
    """$ per million tokens served on one GPU at `utilisation` of its throughput, plus overhead."""
    _check_serving(usd_per_gpu_hour, tokens_per_second, utilisation, overhead)
    return usd_per_gpu_hour / (tokens_per_second * SECONDS_PER_HOUR * utilisation) * TOKENS_PER_MTOK * (1 + overhead)


def _check_serving(usd_per_gpu_hour: float, tokens_per_second: float, utilisation: float, overhead: float) -> None:
    problems = []
    if not (math.isfinite(usd_per_gpu_hour) and usd_per_gpu_hour >= 0):
        problems.append(f"GPU $/hour must be a number >= 0, got {usd_per_gpu_hour}")
    if not (math.isfinite(tokens_per_second) and tokens_per_second > 0):
        problems.append(f"throughput must be a number > 0 tokens/s, got {tokens_per_second}")
    if not (0 < utilisation <= 1):
        problems.append(f"utilisation must be in (0, 1], got {utilisation}")
    if not (math.isfinite(overhead) and overhead >= 0):
        problems.append(f"overhead must be a share >= 0 (0.15 = 15%), got {overhead}")
    if problems:
        raise RouterOptError("; ".join(problems))


class BreakevenResult(AnalysisResult):
    """Self-hosting one model size on rented GPUs against one API model."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    analysis: Literal["breakeven"] = "breakeven"
    gpu: str
    usd_per_gpu_hour: float
    serving_model: str | None
    """Model size served, when the throughput came from the data file."""
    tokens_per_second: float
    utilisation: float
    overhead: float
    sources: tuple[str, ...]
    """Where the GPU price, throughput and API price come from."""
    gpu_usd_per_day: float
    """One GPU for a day, with overhead: the fixed cost of self-hosting."""
    gpu_usd_per_month: float
    """gpu_usd_per_day x days_per_month."""
    gpu_usd_per_year: float
    """gpu_usd_per_month x 12."""
    tokens_per_day_per_gpu: float
    """One GPU's capacity: tokens/s x 86,400 x utilisation."""
    self_hosted_usd_per_mtok: float
    """$/M when the GPU carries its full capacity."""
    api_model: str
    api_usd_per_mtok: float
    """The API's $/M (a catalog model's input and output prices mixed in the workload's proportion)."""
    api_to_self_hosted_price_ratio: float
    """api_usd_per_mtok / self_hosted_usd_per_mtok: how many times cheaper a fully loaded GPU is."""
    breakeven_tokens_per_day: float | None
    """Daily volume from which one GPU is no dearer than the API; None if a GPU never wins."""
    breakeven_usd_per_month_on_api: float | None
    """What the API costs a month at the breakeven volume (one GPU's month, by definition)."""
    breakeven_usd_per_year_on_api: float | None
    """breakeven_usd_per_month_on_api x 12."""
    always_cheaper_above_tokens_per_day: float | None
    """Daily volume above which self-hosting is never dearer, whole GPUs counted; None if never."""
    volume_source: str
    """`workload <name>` or `given`."""
    tokens_per_day: float
    """The volume the monthly figures are for."""
    gpus_needed: int
    """Whole GPUs to carry `tokens_per_day` at the utilisation."""
    api_usd_per_month: float
    self_hosted_usd_per_month: float
    monthly_saving_usd: float
    """api - self-hosted per month; negative when the API is cheaper at this volume."""
    api_usd_per_year: float
    """api_usd_per_month x 12."""
    self_hosted_usd_per_year: float
    """self_hosted_usd_per_month x 12."""
    yearly_saving_usd: float
    """monthly_saving_usd x 12."""
    days_per_month: float
    """Days in a month: 365/12 (router_opt.units) unless given."""
    days_per_year: float
    """days_per_month x 12: 365 unless a month was given."""


def workload_tokens(workload: Workload) -> tuple[float, float]:
    """(tokens per day, input share of them) over all workers."""
    total = inputs = 0.0
    for t in workload.tasks:
        volume = t.invocations_per_day * t.headcount
        total += volume * (t.input_tokens + t.output_tokens)
        inputs += volume * t.input_tokens
    return total, (inputs / total if total > 0 else 0.5)


def api_price(
    name: str | None, catalog: Catalog | None, data: SelfHostingData, input_share: float
) -> tuple[str, float, str]:
    """(id, $/M, source) of the API model: a catalog model id first (default: the catalog's baseline),
    its input and output prices mixed at `input_share`; else one of the data file's API prices."""
    if catalog is not None:
        wanted = name or catalog.baseline
        for model in catalog.models:
            if model.id == wanted:
                mixed = input_share * model.input_usd_per_mtok + (1 - input_share) * model.output_usd_per_mtok
                how = (
                    "one price"
                    if model.input_usd_per_mtok == model.output_usd_per_mtok
                    else f"input ${model.input_usd_per_mtok:g} and output ${model.output_usd_per_mtok:g} at {input_share:.1%} input"
                )
                return model.id, mixed, f"API: catalog {catalog.name}, model {model.id} ({how})"
    if name is None:
        raise RouterOptError("name an API model (`api_model`) or give a catalog", option="api_model")
    for api in data.api_models:
        if api.id.lower() == name.lower():
            return api.id, api.usd_per_mtok, f"API: {api.source or api.id}"
    known = ([m.id for m in catalog.models] if catalog is not None else []) + [a.id for a in data.api_models]
    raise RouterOptError(f"unknown API model '{name}'; known: {', '.join(known)}")


def _gpu_side(
    data: SelfHostingData,
    gpu_spec,
    usd_per_gpu_hour: float | None,
    tokens_per_second: float | None,
    serving_model: str | None,
) -> tuple[float, float, str | None, list[str]]:
    """(GPU $/hour, tokens/s, serving model, sources): each figure given, else the data file's."""
    sources = []
    if usd_per_gpu_hour is None:
        usd_per_gpu_hour = gpu_spec.usd_per_hour
        sources.append(
            next((s for s in gpu_spec.sources if s.startswith("price")), f"price: {gpu_spec.id}, no source given")
        )
    else:
        sources.append("price: given")
    if tokens_per_second is None:
        row = _throughput_row(data, gpu_spec, serving_model)
        tokens_per_second, serving_model = row.tokens_per_second, row.model
        sources.append(f"throughput: {row.source or row.model}")
    else:
        sources.append("throughput: given")
    return usd_per_gpu_hour, tokens_per_second, serving_model, sources


def _throughput_row(data: SelfHostingData, gpu_spec, serving_model: str | None):
    """The one throughput row for the GPU (and `serving_model`, when given); none or several is an
    error listing the rows on record."""
    rows = [t for t in data.throughput if t.gpu.lower() == gpu_spec.id.lower()]
    if serving_model is not None:
        rows = [t for t in rows if t.model.lower() == serving_model.lower()]
    if len(rows) != 1:
        options = ", ".join(f"{t.model} on {t.gpu}" for t in data.throughput)
        what = f"model '{serving_model}' on {gpu_spec.id}" if serving_model else f"{gpu_spec.id}"
        detail = "several throughput rows; pick one with `serving_model`" if len(rows) > 1 else "no throughput row"
        raise RouterOptError(
            f"{what}: {detail} (known: {options}), or give `tokens_per_second`",
            option=("tokens_per_second", "serving_model"),
        )
    return rows[0]


def _api_side(
    api_model: str | None,
    api_usd_per_mtok: float | None,
    catalog: Catalog | None,
    data: SelfHostingData,
    input_share: float,
) -> tuple[str, float, str]:
    """(API model, its $/M, source): the price given, else `api_price`'s; a free API is an error (nothing
    can beat it)."""
    if api_usd_per_mtok is not None:
        if not (math.isfinite(api_usd_per_mtok) and api_usd_per_mtok > 0):
            raise RouterOptError(f"API $/M must be a number > 0, got {api_usd_per_mtok}")
        api_id, api_per_mtok, api_source = api_model or "given", api_usd_per_mtok, "API: price given"
    else:
        api_id, api_per_mtok, api_source = api_price(api_model, catalog, data, input_share)
    if api_per_mtok <= 0:
        raise RouterOptError(f"API model '{api_id}' is free, so self-hosting can never beat it")
    return api_id, api_per_mtok, api_source


def _breakeven_volumes(v_star: float, capacity: float) -> tuple[float | None, float | None]:
    """(breakeven volume, volume above which self-hosting is always cheaper), both None when one GPU
    at full load (`capacity`) never reaches the breakeven volume `v_star` (see the module docstring)."""
    if v_star > capacity:
        return None, None
    if v_star == capacity:
        return v_star, None  # ties at every full GPU, dearer just past each: never strictly ahead
    # Largest whole n with n < capacity / (capacity - V*): the last GPU count whose step the API
    # still undercuts (see the module docstring).
    n_last = math.ceil(capacity / (capacity - v_star)) - 1
    return v_star, n_last * v_star


def _daily_volume(
    tokens_per_day: float | None, workload: Workload | None, workload_volume: float | None
) -> tuple[float, str]:
    """(tokens per day for the monthly figures, where it came from): the figure given, else the workload's."""
    if tokens_per_day is None:
        if workload_volume is None:
            raise RouterOptError("give a daily volume (`tokens_per_day`) or a workload", option="tokens_per_day")
        return workload_volume, f"workload {workload.name}"
    if not (math.isfinite(tokens_per_day) and tokens_per_day >= 0):
        raise RouterOptError(f"tokens per day must be a number >= 0, got {tokens_per_day}")
    return tokens_per_day, "given"


def breakeven(
    catalog: Catalog | None = None,
    workload: Workload | None = None,
    api_model: str | None = None,
    api_usd_per_mtok: float | None = None,
    gpu: str | None = None,
    serving_model: str | None = None,
    usd_per_gpu_hour: float | None = None,
    tokens_per_second: float | None = None,
    utilisation: float | None = None,
    overhead: float | None = None,
    tokens_per_day: float | None = None,
    days_per_month: float | None = None,
    data: SelfHostingData | None = None,
) -> BreakevenResult:
    """Self-hosting vs an API. Anything not given comes from `data` (default: the bundled seed tables):
    the GPU and its price, the throughput of `serving_model` on it, utilisation and overhead. The API's
    $/M is `api_usd_per_mtok`, else `api_model` (a catalog id, default the catalog's baseline, or one of
    the data file's API models). The monthly figures are for `tokens_per_day`, else the workload's, over
    months of `days_per_month` (default 365/12, router_opt.units); a year is 12 months."""
    days_per_month = DAYS_PER_MONTH if days_per_month is None else days_per_month
    data = data if data is not None else load_self_hosting()
    gpu_spec = data.gpu(gpu or data.defaults.gpu)
    usd_per_gpu_hour, tokens_per_second, serving_model, sources = _gpu_side(
        data, gpu_spec, usd_per_gpu_hour, tokens_per_second, serving_model
    )
    utilisation = data.defaults.utilisation if utilisation is None else utilisation
    overhead = data.defaults.overhead if overhead is None else overhead
    per_mtok = self_hosted_usd_per_mtok(usd_per_gpu_hour, tokens_per_second, utilisation, overhead)
    if not (math.isfinite(days_per_month) and days_per_month > 0):
        raise RouterOptError(f"days per month must be > 0, got {days_per_month}")

    workload_volume, input_share = workload_tokens(workload) if workload is not None else (None, 0.5)
    api_id, api_per_mtok, api_source = _api_side(api_model, api_usd_per_mtok, catalog, data, input_share)
    sources.append(api_source)

    gpu_usd_per_day = usd_per_gpu_hour * HOURS_PER_DAY * (1 + overhead)
    capacity = tokens_per_second * SECONDS_PER_HOUR * HOURS_PER_DAY * utilisation
    api_per_token = api_per_mtok / TOKENS_PER_MTOK
    breakeven_volume, always_above = _breakeven_volumes(gpu_usd_per_day / api_per_token, capacity)
    tokens_per_day, volume_source = _daily_volume(tokens_per_day, workload, workload_volume)
    gpus_needed = max(1, math.ceil(tokens_per_day / capacity)) if tokens_per_day > 0 else 0
    api_month = tokens_per_day * api_per_token * days_per_month
    self_month = gpus_needed * gpu_usd_per_day * days_per_month
    gpu_month = gpu_usd_per_day * days_per_month
    # At the breakeven volume the API bill is one GPU's cost by definition (V* x API $/token = GPU $/day):
    # the same figure, not a recomputation that could round to another cent.
    breakeven_month = None if breakeven_volume is None else gpu_month
    return BreakevenResult(
        gpu=gpu_spec.id,
        usd_per_gpu_hour=usd_per_gpu_hour,
        serving_model=serving_model,
        tokens_per_second=tokens_per_second,
        utilisation=utilisation,
        overhead=overhead,
        sources=tuple(sources),
        gpu_usd_per_day=gpu_usd_per_day,
        gpu_usd_per_month=gpu_month,
        gpu_usd_per_year=gpu_month * MONTHS_PER_YEAR,
        tokens_per_day_per_gpu=capacity,
        self_hosted_usd_per_mtok=per_mtok,
        api_model=api_id,
        api_usd_per_mtok=api_per_mtok,
        api_to_self_hosted_price_ratio=api_per_mtok / per_mtok if per_mtok > 0 else math.inf,
        breakeven_tokens_per_day=breakeven_volume,
        breakeven_usd_per_month_on_api=breakeven_month,
        breakeven_usd_per_year_on_api=None if breakeven_month is None else breakeven_month * MONTHS_PER_YEAR,
        always_cheaper_above_tokens_per_day=always_above,
        volume_source=volume_source,
        tokens_per_day=tokens_per_day,
        gpus_needed=gpus_needed,
        api_usd_per_month=api_month,
        self_hosted_usd_per_month=self_month,
        monthly_saving_usd=api_month - self_month,
        api_usd_per_year=api_month * MONTHS_PER_YEAR,
        self_hosted_usd_per_year=self_month * MONTHS_PER_YEAR,
        yearly_saving_usd=(api_month - self_month) * MONTHS_PER_YEAR,
        days_per_month=days_per_month,
        days_per_year=days_per_month * MONTHS_PER_YEAR,
    )
