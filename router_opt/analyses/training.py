"""What a training or fine-tuning run costs, and whether fine-tuning pays back.

Run cost (seed 004):  GPUs x $/GPU-hour x billed hours, plus overhead, where billed hours = hours of
work / utilisation. Three cases, as seed 004 asks a budget to have: the base case, a slower run (hours x
`slower_run_factor`) and a retry (the base run plus `retry_runs` repeats of it).

From model size and data: FLOPs = 6 x N x D (dense; seed 003 'Training Compute (FLOPs)'), and
GPU-hours = FLOPs / (peak FLOP/s x MFU) / 3600.

Fine-tuning payback (seed 003 'Fine-Tuning ROI Example'): one-time cost (fine-tune + data prep) against
the monthly saving (API bill the task family no longer pays - serving cost); months to pay back =
one-time cost / monthly saving. Months are 365/12 days (router_opt.units), so the default 12-month
horizon is a 365-day year.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from router_opt.analyses.common import (
    ANALYSIS_SCHEMA_VERSION,
    DAYS_PER_MONTH,
    SECONDS_PER_HOUR,
    TOKENS_PER_MTOK,
    AnalysisResult,
)
from router_opt.analyses.data import TRAINING_EXAMPLE, DataFile, load_bundled_or
from router_opt.errors import RouterOptError
from router_opt.models import Catalog, Workload

PositiveFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
TFLOPS = 1e12


class RunSpec(DataFile):
    gpus: Annotated[int, Field(ge=1)]
    """GPUs in the cluster."""
    gpu: Annotated[str, Field(min_length=1)]
    """GPU id (its peak FLOP/s is looked up in the self-hosting data for FLOPs-based estimates)."""
    usd_per_gpu_hour: NonNegative
    hours: PositiveFinite
    """Hours of work at full utilisation."""
    overhead: NonNegative
    """Share added for storage, data movement, orchestration and operations (0.15 = 15%)."""
    utilisation: Share = 1.0
    """Share of the billed GPU time doing the run's work."""


class CaseSpec(DataFile):
    slower_run_factor: Annotated[float, Field(ge=1, allow_inf_nan=False)]
    """The slower run takes this many times the base hours."""
    retry_runs: NonNegative
    """Repeats of the base run in the retry case (1 = the run is done twice in all)."""


class FlopsSpec(DataFile):
    mfu: Share
    """Model FLOP utilisation: achieved / peak FLOP/s."""


class FineTuningSpec(DataFile):
    fine_tune_usd: NonNegative
    data_prep_usd: NonNegative
    serving_usd_per_month: NonNegative
    api_usd_per_month: NonNegative
    """The API bill the fine-tuned model replaces, as stated."""
    api_tokens_per_day: NonNegative | None = None
    """The volume the stated API bill is said to be for (used to check it)."""
    api_usd_per_mtok: NonNegative | None = None
    """The API price the stated bill is said to be at (used to check it)."""


class TrainingExamples(DataFile):
    """The training-cost data file (the bundled one is seed 004's example and seed 003's ROI table)."""

    name: Annotated[str, Field(min_length=1)]
    run: RunSpec
    cases: CaseSpec
    flops: FlopsSpec
    fine_tuning: FineTuningSpec


def load_training_examples(path: str | Path | None = None) -> TrainingExamples:
    """A training-cost data file, or the bundled seed examples when `path` is None."""
    return load_bundled_or(path, TRAINING_EXAMPLE, TrainingExamples, "training cost")


class CaseRow(AnalysisResult):
    case: Literal["base", "slower run", "retry"]
    hours: float
    """Wall-clock hours billed for the case (all repeats)."""
    gpu_hours: float
    """GPUs x billed hours."""
    compute_usd: float
    overhead_usd: float
    total_usd: float
    how: str
    """What the case assumes."""


class FlopsEstimate(AnalysisResult):
    parameters: float
    tokens: float
    training_flops: float
    """6 x parameters x tokens."""
    peak_flops_per_gpu: float
    """Peak dense FLOP/s of one GPU."""
    peak_source: str
    mfu: float
    gpu_hours: float
    """FLOPs / (peak x MFU) / 3600."""
    hours: float
    """gpu_hours / GPUs: the run's hours of work on the cluster."""


class TrainingCostResult(AnalysisResult):
    gpus: int
    gpu: str
    usd_per_gpu_hour: float
    hours: float
    """Hours of work at full utilisation (from FLOPs when `flops` is set)."""
    utilisation: float
    overhead: float
    slower_run_factor: float
    retry_runs: float
    flops: FlopsEstimate | None
    cases: tuple[CaseRow, ...]


class PaybackResult(AnalysisResult):
    fine_tune_usd: float
    data_prep_usd: float
    one_time_usd: float
    """fine_tune_usd + data_prep_usd."""
    serving_usd_per_month: float
    api_usd_per_month: float
    """The API bill the fine-tuned model replaces."""
    api_basis: str
    """Where that bill comes from: stated, or the workload's task types priced on a catalog model."""
    task_types: tuple[str, ...]
    """The task family moved (empty for a stated bill)."""
    tokens_per_day: float | None
    """The family's (or the stated) daily volume."""
    api_usd_per_mtok: float | None
    api_usd_per_month_from_volume: float | None
    """tokens_per_day x api_usd_per_mtok x days_per_month: a check on a stated bill."""
    days_per_month: float
    first_month_investment_usd: float
    """one_time_usd + one month of serving."""
    net_saving_month_one_usd: float
    """api bill - first-month investment."""
    monthly_saving_after_month_one_usd: float
    """api bill - serving, each month after the first."""
    payback_months: float | None
    """one_time_usd / monthly saving; None if serving costs at least the API bill (it never pays back)."""
    horizon_months: int
    horizon_days: float
    """horizon_months x days_per_month: 365 for the default 12 months."""
    net_saving_over_horizon_usd: float
    """horizon x monthly saving - one_time_usd."""


class TrainingReport(AnalysisResult):
    """The `training-cost` command's result: the run budget and the fine-tuning payback."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    analysis: Literal["training-cost"] = "training-cost"
    source: str
    """Data file the defaults came from."""
    run: TrainingCostResult
    payback: PaybackResult


def _case(case, gpus, rate, hours, overhead, utilisation, how) -> CaseRow:
    billed_hours = hours / utilisation
    gpu_hours = gpus * billed_hours
    compute = gpu_hours * rate
    extra = compute * overhead
    # compute + extra rather than compute x (1 + overhead): the seed adds the overhead to the raw cost,
    # and this order keeps $13,824 + $2,073.60 = $15,897.60 exact in binary floating point.
    return CaseRow(
        case=case,
        hours=billed_hours,
        gpu_hours=gpu_hours,
        compute_usd=compute,
        overhead_usd=extra,
        total_usd=compute + extra,
        how=how,
    )


def flops_estimate(
    parameters: float, tokens: float, peak_flops_per_gpu: float, mfu: float, gpus: int, peak_source: str = "given"
) -> FlopsEstimate:
    """Hours of work for a dense model of `parameters` trained on `tokens` on `gpus` GPUs."""
    for name, value in (("parameters", parameters), ("tokens", tokens), ("peak FLOP/s", peak_flops_per_gpu)):
        if not (math.isfinite(value) and value > 0):
            raise RouterOptError(f"{name} must be a number > 0, got {value}")
    if not 0 < mfu <= 1:
        raise RouterOptError(f"MFU must be in (0, 1], got {mfu}")
    if gpus < 1:
        raise RouterOptError(f"GPUs must be at least 1, got {gpus}")
    flops = 6.0 * parameters * tokens
    gpu_hours = flops / (peak_flops_per_gpu * mfu) / SECONDS_PER_HOUR
    return FlopsEstimate(
        parameters=parameters,
        tokens=tokens,
        training_flops=flops,
        peak_flops_per_gpu=peak_flops_per_gpu,
        peak_source=peak_source,
        mfu=mfu,
        gpu_hours=gpu_hours,
        hours=gpu_hours / gpus,
    )


def training_cost(
    gpus: int,
    usd_per_gpu_hour: float,
    hours: float | None,
    overhead: float,
    utilisation: float = 1.0,
    slower_run_factor: float = 1.25,
    retry_runs: float = 1.0,
    gpu: str = "GPU",
    flops: FlopsEstimate | None = None,
) -> TrainingCostResult:
    """Base, slower-run and retry cases for a run of `hours` (or `flops.hours` when given)."""
    if flops is not None:
        hours = flops.hours
    problems = []
    if gpus < 1:
        problems.append(f"GPUs must be at least 1, got {gpus}")
    if not (math.isfinite(usd_per_gpu_hour) and usd_per_gpu_hour >= 0):
        problems.append(f"$/GPU-hour must be a number >= 0, got {usd_per_gpu_hour}")
    if hours is None or not (math.isfinite(hours) and hours > 0):
        problems.append(f"hours must be a number > 0, got {hours}")
    if not (math.isfinite(overhead) and overhead >= 0):
        problems.append(f"overhead must be a share >= 0 (0.15 = 15%), got {overhead}")
    if not 0 < utilisation <= 1:
        problems.append(f"utilisation must be in (0, 1], got {utilisation}")
    if not (math.isfinite(slower_run_factor) and slower_run_factor >= 1):
        problems.append(f"slower-run factor must be >= 1, got {slower_run_factor}")
    if not (math.isfinite(retry_runs) and retry_runs >= 0):
        problems.append(f"retry runs must be >= 0, got {retry_runs}")
    if problems:
        raise RouterOptError("; ".join(problems))
    base = _case("base", gpus, usd_per_gpu_hour, hours, overhead, utilisation, "as planned")
    slower = _case(
        "slower run",
        gpus,
        usd_per_gpu_hour,
        hours * slower_run_factor,
        overhead,
        utilisation,
        f"hours x {slower_run_factor:g}",
    )
    repeats = 1 + retry_runs
    retry = CaseRow(
        case="retry",
        hours=base.hours * repeats,
        gpu_hours=base.gpu_hours * repeats,
        compute_usd=base.compute_usd * repeats,
        overhead_usd=base.overhead_usd * repeats,
        total_usd=base.total_usd * repeats,
        how=f"base run done {repeats:g} times",
    )
    return TrainingCostResult(
        gpus=gpus,
        gpu=gpu,
        usd_per_gpu_hour=usd_per_gpu_hour,
        hours=hours,
        utilisation=utilisation,
        overhead=overhead,
        slower_run_factor=slower_run_factor,
        retry_runs=retry_runs,
        flops=flops,
        cases=(base, slower, retry),
    )


def api_bill_for_task_types(
    catalog: Catalog,
    workload: Workload,
    task_types: Iterable[str],
    api_model: str | None = None,
    days_per_month: float = DAYS_PER_MONTH,
) -> tuple[float, float, float]:
    """(API $/month, tokens/day, blended $/M) of the workload's tasks of `task_types` on `api_model`
    (default: the catalog's baseline, the model the all-large habit sends them to today)."""
    wanted = set(task_types)
    unknown = wanted - {t.task_type for t in workload.tasks}
    if unknown:
        raise RouterOptError(
            f"task type(s) {', '.join(sorted(unknown))} do not occur in workload '{workload.name}' "
            f"(it has: {', '.join(dict.fromkeys(t.task_type for t in workload.tasks))})"
        )
    model_id = api_model or catalog.baseline
    model = next((m for m in catalog.models if m.id == model_id), None)
    if model is None:
        raise RouterOptError(
            f"API model '{model_id}' is not in catalog '{catalog.name}' (ids: {', '.join(m.id for m in catalog.models)})"
        )
    usd_per_day = tokens_per_day = 0.0
    for t in workload.tasks:
        if t.task_type in wanted:
            volume = t.invocations_per_day * t.headcount
            usd_per_day += (
                volume
                * (t.input_tokens * model.input_usd_per_mtok + t.output_tokens * model.output_usd_per_mtok)
                / TOKENS_PER_MTOK
            )
            tokens_per_day += volume * (t.input_tokens + t.output_tokens)
    blended = usd_per_day / tokens_per_day * TOKENS_PER_MTOK if tokens_per_day > 0 else 0.0
    return usd_per_day * days_per_month, tokens_per_day, blended


def fine_tuning_payback(
    fine_tune_usd: float,
    data_prep_usd: float,
    serving_usd_per_month: float,
    api_usd_per_month: float,
    api_basis: str = "stated",
    task_types: tuple[str, ...] = (),
    tokens_per_day: float | None = None,
    api_usd_per_mtok: float | None = None,
    days_per_month: float = DAYS_PER_MONTH,
    horizon_months: int = 12,
) -> PaybackResult:
    """Months for the monthly saving (API bill - serving) to repay the one-time cost."""
    for name, value in (
        ("fine-tune $", fine_tune_usd),
        ("data prep $", data_prep_usd),
        ("serving $/month", serving_usd_per_month),
        ("API $/month", api_usd_per_month),
    ):
        if not (math.isfinite(value) and value >= 0):
            raise RouterOptError(f"{name} must be a number >= 0, got {value}")
    if not (math.isfinite(days_per_month) and days_per_month > 0):
        raise RouterOptError(f"days per month must be > 0, got {days_per_month}")
    if horizon_months < 1:
        raise RouterOptError(f"horizon must be at least 1 month, got {horizon_months}")
    one_time = fine_tune_usd + data_prep_usd
    monthly_saving = api_usd_per_month - serving_usd_per_month
    from_volume = (
        tokens_per_day * api_usd_per_mtok / TOKENS_PER_MTOK * days_per_month
        if tokens_per_day is not None and api_usd_per_mtok is not None
        else None
    )
    return PaybackResult(
        fine_tune_usd=fine_tune_usd,
        data_prep_usd=data_prep_usd,
        one_time_usd=one_time,
        serving_usd_per_month=serving_usd_per_month,
        api_usd_per_month=api_usd_per_month,
        api_basis=api_basis,
        task_types=tuple(task_types),
        tokens_per_day=tokens_per_day,
        api_usd_per_mtok=api_usd_per_mtok,
        api_usd_per_month_from_volume=from_volume,
        days_per_month=days_per_month,
        first_month_investment_usd=one_time + serving_usd_per_month,
        net_saving_month_one_usd=api_usd_per_month - (one_time + serving_usd_per_month),
        monthly_saving_after_month_one_usd=monthly_saving,
        payback_months=one_time / monthly_saving if monthly_saving > 0 else None,
        horizon_months=horizon_months,
        horizon_days=horizon_months * days_per_month,
        net_saving_over_horizon_usd=horizon_months * monthly_saving - one_time,
    )


def _flops(
    parameters: float | None,
    tokens: float | None,
    hours: float | None,
    gpu: str,
    gpus: int,
    peak_tflops: float | None,
    mfu: float,
    self_hosting,
):
    """The FLOPs-based estimate (6 x parameters x tokens at `mfu` of the GPU's peak: `peak_tflops`, else
    the self-hosting data's figure for `gpu`); it needs both parameters and tokens, and no hours."""
    from router_opt.analyses.breakeven import load_self_hosting

    if parameters is None or tokens is None:
        raise RouterOptError("a FLOPs-based estimate needs both parameters and tokens")
    if hours is not None:
        raise RouterOptError("give either hours or parameters and tokens, not both")
    if peak_tflops is None:
        spec = (self_hosting if self_hosting is not None else load_self_hosting()).gpu(gpu)
        if spec.peak_dense_bf16_tflops is None:
            raise RouterOptError(
                f"no peak FLOP/s on record for {spec.id}; give it (`peak_tflops`)", option="peak_tflops"
            )
        peak_tflops, peak_source = (
            spec.peak_dense_bf16_tflops,
            next((s for s in spec.sources if s.startswith("peak")), f"{spec.id} peak"),
        )
    else:
        peak_source = "given"
    return flops_estimate(parameters, tokens, peak_tflops * TFLOPS, mfu, gpus, peak_source)


def _api_bill(
    api_usd_per_month: float | None,
    task_types: tuple[str, ...],
    api_model: str | None,
    catalog: Catalog | None,
    workload: Workload | None,
    days_per_month: float,
    ft,
) -> tuple[float, str, float | None, float | None]:
    """(API bill replaced per month, its basis, the task family's tokens per day and $/M): the bill
    given, else the workload's `task_types` priced on `api_model`, else the example's stated bill."""
    if api_usd_per_month is not None:
        if task_types:
            raise RouterOptError("give either an API bill or task types to price, not both")
        return api_usd_per_month, "given", None, None
    if task_types:
        if catalog is None or workload is None:
            raise RouterOptError("pricing task types needs a catalog and a workload")
        bill, family_tokens, family_price = api_bill_for_task_types(
            catalog, workload, task_types, api_model, days_per_month
        )
        return bill, f"workload {workload.name} on {api_model or catalog.baseline}", family_tokens, family_price
    return ft.api_usd_per_month, "stated", ft.api_tokens_per_day, ft.api_usd_per_mtok


def training_report(
    examples: TrainingExamples | None = None,
    gpus: int | None = None,
    gpu: str | None = None,
    usd_per_gpu_hour: float | None = None,
    hours: float | None = None,
    overhead: float | None = None,
    utilisation: float | None = None,
    slower_run_factor: float | None = None,
    retry_runs: float | None = None,
    parameters: float | None = None,
    tokens: float | None = None,
    mfu: float | None = None,
    peak_tflops: float | None = None,
    fine_tune_usd: float | None = None,
    data_prep_usd: float | None = None,
    serving_usd_per_month: float | None = None,
    api_usd_per_month: float | None = None,
    task_types: tuple[str, ...] = (),
    api_model: str | None = None,
    catalog: Catalog | None = None,
    workload: Workload | None = None,
    days_per_month: float = DAYS_PER_MONTH,
    horizon_months: int = 12,
    self_hosting=None,
) -> TrainingReport:
    """The run budget and the fine-tuning payback, every input not given taken from `examples`
    (default: the bundled seed examples).

    Hours: `hours`, else from FLOPs when `parameters` and `tokens` are given (peak FLOP/s of `gpu` from
    the self-hosting data unless `peak_tflops`), else the example's hours. API bill replaced:
    `api_usd_per_month`, else the workload's `task_types` priced on `api_model` (needs `catalog` and
    `workload`), else the example's stated bill."""

    examples = examples if examples is not None else load_training_examples()
    run, cases, ft = examples.run, examples.cases, examples.fine_tuning
    gpus = run.gpus if gpus is None else gpus
    gpu = run.gpu if gpu is None else gpu
    flops = None
    if parameters is not None or tokens is not None:
        flops = _flops(
            parameters, tokens, hours, gpu, gpus, peak_tflops, examples.flops.mfu if mfu is None else mfu, self_hosting
        )
    run_result = training_cost(
        gpus=gpus,
        usd_per_gpu_hour=run.usd_per_gpu_hour if usd_per_gpu_hour is None else usd_per_gpu_hour,
        hours=run.hours if hours is None and flops is None else hours,
        overhead=run.overhead if overhead is None else overhead,
        utilisation=run.utilisation if utilisation is None else utilisation,
        slower_run_factor=cases.slower_run_factor if slower_run_factor is None else slower_run_factor,
        retry_runs=cases.retry_runs if retry_runs is None else retry_runs,
        gpu=gpu,
        flops=flops,
    )

    api_usd_per_month, basis, family_tokens, family_price = _api_bill(
        api_usd_per_month, task_types, api_model, catalog, workload, days_per_month, ft
    )
    payback = fine_tuning_payback(
        fine_tune_usd=ft.fine_tune_usd if fine_tune_usd is None else fine_tune_usd,
        data_prep_usd=ft.data_prep_usd if data_prep_usd is None else data_prep_usd,
        serving_usd_per_month=ft.serving_usd_per_month if serving_usd_per_month is None else serving_usd_per_month,
        api_usd_per_month=api_usd_per_month,
        api_basis=basis,
        task_types=tuple(task_types),
        tokens_per_day=family_tokens,
        api_usd_per_mtok=family_price,
        days_per_month=days_per_month,
        horizon_months=horizon_months,
    )
    return TrainingReport(source=examples.name, run=run_result, payback=payback)
