"""The economics analyses (issue 4): every worked example of the seed as a test with its exact figure,
each expected value worked out by hand in the comment beside it (never copied from router-opt's output)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router_opt import formatting as fmt
from router_opt.analyses.breakeven import breakeven, self_hosted_usd_per_mtok
from router_opt.analyses.frontier import area_under_curve, frontier
from router_opt.analyses.reasoning import (
    MultiplierTable,
    load_multiplier_table,
    reasoning_from_catalog,
    reasoning_from_table,
)
from router_opt.analyses.training import (
    api_bill_for_task_types,
    fine_tuning_payback,
    flops_estimate,
    training_cost,
    training_report,
)
from router_opt.analyses.trajectory import (
    load_price_trajectory,
    price_factor,
    table_price,
    task_cost_by_year,
    trajectory,
)
from router_opt.cli import app
from router_opt.errors import InputError, RouterOptError
from router_opt.models import Policy
from router_opt.plan import Inputs, load_inputs, optimize_inputs

from .helpers import make_catalog, make_workload

runner = CliRunner()


@pytest.fixture(scope="module")
def bundled() -> Inputs:
    return load_inputs()


def _inputs(catalog, workload, policy=None) -> Inputs:
    return Inputs(catalog, workload, policy or Policy(), "test", "test", "test")


# --- reasoning multiplier (seed 003 'Reasoning Multiplier') -------------------------------------

# Seed rows: (instruct, reasoning, cost x) -> the seed's printed RM and verdict. The seed divides the
# gain as printed to 0.1%:
#   Simple Q&A       (97-95)/95 = 2.105% -> 2.1  / 13.3 = 0.158  -> 0.16 Never
#   Creative Writing (90-88)/88 = 2.273% -> 2.3  / 5.0  = 0.460  -> 0.46 Marginal
#   Code Gen         (95-90)/90 = 5.556% -> 5.6  / 2.7  = 2.074  -> 2.07 Hard only
#   Legal Analysis   (92-80)/80 = 15.0%  -> 15.0 / 2.7  = 5.556  -> 5.56 Buy
#   Math Reasoning   (97-75)/75 = 29.33% -> 29.3 / 2.7  = 10.85  -> 10.9 Strong buy
#   Complex Agentic  (80-45)/45 = 77.78% -> 77.8 / 2.7  = 28.81  -> 28.8 Essential
SEED_RM = [
    ("Simple Q&A", 2.1 / 13.3, "0.16", "Never"),
    ("Creative Writing", 2.3 / 5.0, "0.46", "Marginal"),
    ("Code Gen", 5.6 / 2.7, "2.07", "Hard only"),
    ("Legal Analysis", 15.0 / 2.7, "5.56", "Buy"),
    ("Math Reasoning", 29.3 / 2.7, "10.9", "Strong buy"),
    ("Complex Agentic", 77.8 / 2.7, "28.8", "Essential"),
]


def test_seed_reasoning_table_reproduces_rm_and_verdicts():
    result = reasoning_from_table(load_multiplier_table())
    assert [r.task for r in result.rows] == [row[0] for row in SEED_RM]
    for row, (_, rm, printed, verdict) in zip(result.rows, SEED_RM):
        assert row.reasoning_multiplier == pytest.approx(rm, rel=1e-12)
        assert fmt.multiplier(row.reasoning_multiplier) == printed
        assert row.verdict == verdict


def test_unrounded_gain_shows_where_the_seed_rounded():
    # Dividing the unrounded gain: Creative Writing (2/88 x 100) / 5 = 0.4545 -> 0.45 (seed 0.46);
    # Code Gen (5/90 x 100) / 2.7 = 2.0576 -> 2.06 (seed 2.07). The verdicts do not change.
    table = load_multiplier_table().model_copy(update={"gain_percent_decimals": None})
    rows = {r.task: r for r in reasoning_from_table(table).rows}
    assert rows["Creative Writing"].reasoning_multiplier == pytest.approx(200 / 88 / 5, rel=1e-12)
    assert fmt.multiplier(rows["Creative Writing"].reasoning_multiplier) == "0.45"
    assert rows["Code Gen"].reasoning_multiplier == pytest.approx(500 / 90 / 2.7, rel=1e-12)
    assert fmt.multiplier(rows["Code Gen"].reasoning_multiplier) == "2.06"
    assert [r.verdict for r in rows.values()] == [v for *_, v in SEED_RM]


def test_reasoning_from_catalog_pair(bundled):
    # Bundled catalog, reasoning ($5) against commercial-large ($2.50), both one price: cost x 2.0.
    # faq: (97-95)/95 = 2.105% / 2 = 1.053 -> Hard only (1 <= RM < 5).
    result = reasoning_from_catalog(bundled.catalog, bundled.workload, instruct_model="commercial-large")
    faq = next(r for r in result.rows if r.task_type == "faq")
    assert faq.cost_multiple == pytest.approx(2.0, rel=1e-12)
    assert faq.reasoning_multiplier == pytest.approx(200 / 95 / 2.0, rel=1e-12)
    assert faq.verdict == "Hard only"
    # Three times the tokens on the reasoning side: cost x 6, RM 0.351 -> Marginal.
    tripled = reasoning_from_catalog(
        bundled.catalog, bundled.workload, instruct_model="commercial-large", reasoning_token_multiplier=3
    )
    faq3 = next(r for r in tripled.rows if r.task_type == "faq")
    assert faq3.reasoning_multiplier == pytest.approx(200 / 95 / 6.0, rel=1e-12)
    assert faq3.verdict == "Marginal"
    # Default pair is Reasoning tier vs Instruct tier: $5 / $0.06 = 83.33x.
    default = reasoning_from_catalog(bundled.catalog, bundled.workload)
    assert (default.reasoning_model, default.instruct_model) == ("reasoning", "instruct")
    assert default.rows[0].cost_multiple == pytest.approx(5 / 0.06, rel=1e-12)


def test_reasoning_cost_multiple_mixes_input_and_output_by_workload():
    # Reasoning $1 in / $10 out, instruct $0.5 in / $1 out; the task is 3,000 in + 1,000 out tokens,
    # so 75% input: reasoning 0.75 x 1 + 0.25 x 10 = 3.25, instruct 0.75 x 0.5 + 0.25 x 1 = 0.625,
    # cost x 5.2. Gain (90-80)/80 = 12.5% -> RM 12.5 / 5.2 = 2.404.
    catalog = make_catalog(
        [
            {"id": "r", "tier": "Reasoning", "input": 1.0, "output": 10.0, "quality": {"general": 90}},
            {"id": "i", "tier": "Instruct", "input": 0.5, "output": 1.0, "quality": {"general": 80}},
        ]
    )
    workload = make_workload([{"invocations_per_day": 10, "input_tokens": 3000, "output_tokens": 1000}])
    row = reasoning_from_catalog(catalog, workload).rows[0]
    assert row.cost_multiple == pytest.approx(5.2, rel=1e-12)
    assert row.reasoning_multiplier == pytest.approx(12.5 / 5.2, rel=1e-12)


def test_reasoning_table_errors_name_file_line_and_field(tmp_path):
    bad = tmp_path / "rm.yaml"
    bad.write_text(
        "name: t\nbands:\n  - {verdict: Never, min_rm: 0}\n  - {verdict: Buy, min_rm: -1}\n"
        "rows:\n  - {task: x, instruct_quality: 0, reasoning_quality: 1, cost_multiple: 2}\n"
    )
    with pytest.raises(InputError) as info:
        load_multiplier_table(bad)
    text = str(info.value)
    assert f"{bad}:4" in text and "bands[1].min_rm" in text
    assert f"{bad}:6" in text and "rows[0].instruct_quality" in text


def test_reasoning_unknown_model_is_an_input_error(bundled):
    with pytest.raises(RouterOptError, match="not in catalog"):
        reasoning_from_catalog(bundled.catalog, instruct_model="nope")


# --- price trajectory (seed 003 'Model Price Trajectory', 'Per-Task Cost Evolution') ----------------


def test_faq_on_fine_tuned_reproduces_the_seed_row():
    # 800 tokens x $0.06, 0.04, 0.02, 0.006, 0.002 per M = $0.000048, 0.000032, 0.000016, 0.0000048,
    # 0.0000016.
    result = task_cost_by_year(800, "Fine-Tuned")
    assert [r.year for r in result.rows] == [2024, 2025, 2026, 2028, 2030]
    expected = [0.000048, 0.000032, 0.000016, 0.0000048, 0.0000016]
    assert [r.usd_per_invocation for r in result.rows] == pytest.approx(expected, rel=1e-12)
    assert [fmt.usd(r.usd_per_invocation) for r in result.rows] == [
        "$0.000048",
        "$0.000032",
        "$0.000016",
        "$0.0000048",
        "$0.0000016",
    ]


def test_geometric_interpolation_and_decline():
    prices = load_price_trajectory()
    # Large 2027 between 2026 $1.25 and 2028 $0.40: sqrt(1.25 x 0.40) = 0.70711.
    price, basis = table_price(prices.entry("Commercial Large"), 2027)
    assert price == pytest.approx(math.sqrt(1.25 * 0.40), rel=1e-12) and basis == "interpolated"
    # Reasoning has no column: 45%/year from the base year, 2030 = 0.55^5 = 0.050328.
    factor, basis = price_factor(prices, "Reasoning", 2030, 2025)
    assert factor == pytest.approx(0.55**5, rel=1e-12) and basis == "decline"
    # Fine-Tuned 2024 relative to 2025: 0.06 / 0.04 = 1.5.
    assert price_factor(prices, "Fine-Tuned", 2024, 2025)[0] == pytest.approx(1.5, rel=1e-12)
    with pytest.raises(RouterOptError, match="outside"):
        table_price(prices.entry("Fine-Tuned"), 2031)


def test_trajectory_reoptimises_when_relative_prices_cross():
    # One task, 1,000 calls/day of 600 + 400 tokens (1M tokens/day), bar 80. Catalog (2025 prices):
    # large $2.50 (baseline), small $0.035, tuned $0.04, all quality 90.
    # 2024: small x 2.0 = $0.07, tuned x 1.5 = $0.06 -> tuned, $0.06/day; all-large $5.00/day -> 83.33x.
    # 2025: small $0.035 < tuned $0.04 -> small, $0.035/day.
    # 2030: small 0.035 x 0.004/0.075 = $0.0018667, tuned 0.04 x 0.002/0.04 = $0.002 -> small.
    catalog = make_catalog(
        [
            {"id": "large", "tier": "Commercial Large", "input": 2.5, "quality": {"general": 90}},
            {"id": "small", "tier": "Commercial Small", "input": 0.035, "quality": {"general": 90}},
            {"id": "tuned", "tier": "Fine-Tuned", "input": 0.04, "quality": {"general": 90}},
        ]
    )
    workload = make_workload(
        [{"invocations_per_day": 1000, "input_tokens": 600, "output_tokens": 400, "min_quality": 80}]
    )
    result = trajectory(_inputs(catalog, workload), years=[2024, 2025, 2030])
    y2024, y2025, y2030 = result.rows
    assert result.base_year == 2025
    assert y2024.optimal_usd_per_day == pytest.approx(0.06, rel=1e-9)
    assert y2024.baseline_usd_per_day == pytest.approx(5.0, rel=1e-9)
    assert y2024.overspend_ratio == pytest.approx(5.0 / 0.06, rel=1e-9)
    assert y2025.optimal_usd_per_day == pytest.approx(0.035, rel=1e-9)
    assert y2030.optimal_usd_per_day == pytest.approx(0.035 * 0.004 / 0.075, rel=1e-9)
    # $0.00006 a call in 2024 is below $0.001: every task is cheap.
    assert y2024.share_tasks_below_cheap == 1.0


def test_trajectory_on_the_bundled_inputs(bundled):
    result = trajectory(bundled)
    assert [r.year for r in result.rows] == list(range(2024, 2031))
    by_year = {r.year: r for r in result.rows}
    # 2025 is the catalog's own year: the plan is today's plan (the seed's rows sum to $5.025/day).
    today = optimize_inputs(bundled)
    assert by_year[2025].optimal_usd_per_day == pytest.approx(today.totals.optimal_usd_per_day, rel=1e-9)
    assert by_year[2025].optimal_usd_per_day == pytest.approx(5.025, rel=1e-3)
    # All-large is every task on the Large tier: 2030 = $16.0100125/day x 0.12/2.50.
    assert by_year[2030].baseline_usd_per_day == pytest.approx(16.0100125 * 0.12 / 2.50, rel=1e-9)
    # More quality never... here: falling prices never raise the plan's cost.
    costs = [r.optimal_usd_per_day for r in result.rows]
    assert costs == sorted(costs, reverse=True)
    assert by_year[2027].basis_by_tier["Commercial Large"] == "interpolated"


# --- self-hosting breakeven (seed 003 'Self-Hosting vs API', 'Inference Throughput', GPU prices) ----


def test_breakeven_default_by_hand(bundled):
    # L40S $2.25/h (the seed's $1,620 month / 720 h), 7B at 10,000 tok/s, utilisation 0.5, overhead 15%:
    #   $/M = 2.25 / (10,000 x 3,600 x 0.5) x 1e6 x 1.15 = 0.125 x 1.15 = $0.14375
    #   one GPU a day = 2.25 x 24 x 1.15 = $62.10; capacity 10,000 x 86,400 x 0.5 = 432M tokens/day
    #   breakeven vs commercial-large $2.50/M = 62.10 / 2.50 x 1e6 = 24.84M tokens/day (< 432M)
    #   workload: 6,404,005 tokens/day -> API 6.404005 x 2.50 = $16.0100125/day (= the all-large bill)
    #   monthly saving = (16.0100125 - 62.10) x 365/12 = -46.0899875 x 30.41666... = -$1,401.9037...
    #   (the API is cheaper); at the seed's 30-day month it would be -$1,382.699625 (docs/VALIDATION.md)
    r = breakeven(bundled.catalog, bundled.workload)
    assert r.self_hosted_usd_per_mtok == pytest.approx(0.14375, rel=1e-12)
    assert r.gpu_usd_per_day == pytest.approx(62.10, rel=1e-12)
    assert r.tokens_per_day_per_gpu == pytest.approx(432e6, rel=1e-12)
    assert r.breakeven_tokens_per_day == pytest.approx(24.84e6, rel=1e-12)
    assert r.always_cheaper_above_tokens_per_day == pytest.approx(24.84e6, rel=1e-12)
    assert r.tokens_per_day == 6_404_005
    assert r.gpus_needed == 1
    assert r.monthly_saving_usd == pytest.approx(-46.0899875 * 365 / 12, rel=1e-9)
    assert r.yearly_saving_usd == pytest.approx(-46.0899875 * 365, rel=1e-9)
    assert breakeven(bundled.catalog, bundled.workload, days_per_month=30).monthly_saving_usd == pytest.approx(
        -1382.699625, rel=1e-9
    )


def test_breakeven_seed_figures():
    # The seed's own L40S row: 2.25 / (10,000 x 3,600) x 1e6 = $0.0625/M at full load, no overhead
    # (the seed prints $0.06).
    assert self_hosted_usd_per_mtok(2.25, 10_000, 1.0, 0.0) == pytest.approx(0.0625, rel=1e-12)
    # Against Claude Sonnet $3/M at full load, no overhead: 2.25 x 24 / 3 x 1e6 = 18M tokens/day, not
    # the seed's "~2M tokens/day" (docs/VALIDATION.md §6b).
    r = breakeven(api_model="claude-sonnet", utilisation=1.0, overhead=0.0, tokens_per_day=2e6)
    assert r.breakeven_tokens_per_day == pytest.approx(18e6, rel=1e-12)
    # At 2M tokens/day the API costs 2 x 3 x 365/12 = $182.50/month vs one GPU's 54 x 365/12 = $1,642.50
    # (the seed's 30-day month: $180 vs its $1,620).
    assert r.monthly_saving_usd == pytest.approx(182.5 - 1642.5, rel=1e-12)
    seed = breakeven(api_model="claude-sonnet", utilisation=1.0, overhead=0.0, tokens_per_day=2e6, days_per_month=30)
    assert seed.self_hosted_usd_per_month == pytest.approx(1620, rel=1e-12)
    assert seed.api_usd_per_month == pytest.approx(180, rel=1e-12)


def test_breakeven_whole_gpu_steps():
    # GPU $1/h, no overhead: $24/day. API $1/M: breakeven 24M tokens/day. Capacity 40M/day.
    # 2 GPUs carry (40M, 80M] for $48: the API wins below 48M. 3 GPUs (80M, 120M] for $72 < $80: GPU
    # wins. n < 40 / (40 - 24) = 2.5 -> n = 2, so self-hosting is never dearer above 2 x 24M = 48M.
    r = breakeven(
        api_usd_per_mtok=1.0,
        usd_per_gpu_hour=1.0,
        tokens_per_second=40e6 / 86_400,
        utilisation=1.0,
        overhead=0.0,
        tokens_per_day=50e6,
    )
    assert r.breakeven_tokens_per_day == pytest.approx(24e6, rel=1e-12)
    assert r.always_cheaper_above_tokens_per_day == pytest.approx(48e6, rel=1e-12)
    # At 50M tokens/day: 2 GPUs ($48/day) vs API $50/day -> +$2/day = 2 x 365/12 = $60.8333/month, $730/year.
    assert r.gpus_needed == 2
    assert r.monthly_saving_usd == pytest.approx(2 * 365 / 12, rel=1e-9)
    assert r.yearly_saving_usd == pytest.approx(730.0, rel=1e-9)


def test_breakeven_never_when_the_gpu_is_dearer_per_token():
    # API $0.01/M: one L40S day ($62.10) buys 6.21B API tokens, far above its 432M capacity.
    r = breakeven(api_usd_per_mtok=0.01, tokens_per_day=1e6)
    assert r.breakeven_tokens_per_day is None and r.always_cheaper_above_tokens_per_day is None


def test_breakeven_needs_a_throughput_choice_on_a_gpu_with_two():
    with pytest.raises(RouterOptError, match="several throughput rows"):
        breakeven(api_usd_per_mtok=3.0, gpu="A100-80GB", tokens_per_day=1e6)
    # 14B on A100 at the seed's price midpoint $1.75, full load, no overhead: 1.75 / (3,004 x 3,600) x 1e6.
    r = breakeven(
        api_usd_per_mtok=3.0, gpu="a100-80gb", serving_model="14B", utilisation=1, overhead=0, tokens_per_day=1e6
    )
    assert r.self_hosted_usd_per_mtok == pytest.approx(1.75 / (3004 * 3600) * 1e6, rel=1e-12)


# --- training cost (seed 004) and fine-tuning payback (seed 003 'Fine-Tuning ROI Example') --------


def test_seed_004_training_cases():
    # 32 x 72 x $6 = $13,824 + 15% ($2,073.60) = $15,897.60.
    # Slower run (hours x 1.25 = 90): 32 x 90 x 6 = $17,280 + $2,592 = $19,872.00.
    # Retry (the run done twice): 2 x $15,897.60 = $31,795.20.
    result = training_cost(gpus=32, usd_per_gpu_hour=6.0, hours=72, overhead=0.15)
    base, slower, retry = result.cases
    assert base.compute_usd == 13_824.0
    assert base.total_usd == pytest.approx(15_897.60, abs=1e-9)
    assert round(base.total_usd, 2) == 15_897.60
    assert slower.hours == 90.0 and round(slower.total_usd, 2) == 19_872.00
    assert round(retry.total_usd, 2) == 31_795.20
    # Half utilisation bills twice the hours: 2 x $15,897.60.
    half = training_cost(gpus=32, usd_per_gpu_hour=6.0, hours=72, overhead=0.15, utilisation=0.5)
    assert half.cases[0].total_usd == pytest.approx(31_795.20, rel=1e-12)


def test_training_report_defaults_are_seed_004():
    report = training_report()
    assert report.run.gpus == 32 and report.run.hours == 72
    assert round(report.run.cases[0].total_usd, 2) == 15_897.60


def test_training_from_flops():
    # 7B x 8T tokens: 6 x 7e9 x 8e12 = 3.36e23 FLOPs (seed 003 'Training Compute' prints 3.4e23).
    # On H100 (989 TFLOP/s dense BF16) at 42.5% MFU: 3.36e23 / (989e12 x 0.425) / 3600 = 222,050 GPU-h;
    # on 512 GPUs: 433.7 h = 18.1 days.
    estimate = flops_estimate(7e9, 8e12, 989e12, 0.425, 512)
    assert estimate.training_flops == pytest.approx(3.36e23, rel=1e-12)
    assert estimate.gpu_hours == pytest.approx(3.36e23 / (989e12 * 0.425) / 3600, rel=1e-12)
    assert estimate.hours == pytest.approx(3.36e23 / (989e12 * 0.425) / 3600 / 512, rel=1e-12)
    report = training_report(parameters=7e9, tokens=8e12, gpus=512, usd_per_gpu_hour=2.5, overhead=0.0)
    assert report.run.flops.peak_flops_per_gpu == 989e12
    assert report.run.cases[0].total_usd == pytest.approx(3.36e23 / (989e12 * 0.425) / 3600 * 2.5, rel=1e-12)
    with pytest.raises(RouterOptError, match="either hours"):
        training_report(parameters=7e9, tokens=8e12, hours=10)


def test_seed_fine_tuning_payback():
    # $100 + $1,620 + $4,000 = $5,720 first month; $45,000 - $5,720 = $39,280 saved in month one;
    # then $45,000 - $1,620 = $43,380 a month, so the $4,100 one-time cost pays back in 4,100 / 43,380
    # = 0.0945 months. The stated $45,000 is for 5M tok/day on Sonnet: 5 x $3 x 365/12 = $456.25 a month
    # ($450 in the seed's 30-day month).
    report = training_report()
    p = report.payback
    assert p.first_month_investment_usd == 5_720.0
    assert p.net_saving_month_one_usd == 39_280.0
    assert p.monthly_saving_after_month_one_usd == 43_380.0
    assert p.payback_months == pytest.approx(4_100 / 43_380, rel=1e-12)
    assert p.api_usd_per_month_from_volume == pytest.approx(456.25, rel=1e-12)
    assert p.horizon_months == 12 and p.horizon_days == 365


def test_payback_never_when_serving_costs_more():
    p = fine_tuning_payback(100, 4000, 1620, 450)
    assert p.payback_months is None
    assert p.net_saving_over_horizon_usd == pytest.approx(12 * (450 - 1620) - 4100, rel=1e-12)


def test_payback_for_a_task_family_of_the_workload(bundled):
    # The bundled faq tasks: 80 x (560+240) + 30 x (840+360) + 20 x (840+360) + 10 x (420+180)
    # = 64,000 + 36,000 + 24,000 + 6,000 = 130,000 tokens/day, on commercial-large $2.50/M:
    # $0.325/day = 0.325 x 365/12 = $9.8854 a month ($118.625 a year; $9.75 in a 30-day month).
    usd_per_month, tokens_per_day, price = api_bill_for_task_types(bundled.catalog, bundled.workload, ["faq"])
    assert tokens_per_day == 130_000
    assert usd_per_month == pytest.approx(0.325 * 365 / 12, rel=1e-12)
    assert usd_per_month * 12 == pytest.approx(118.625, rel=1e-12)
    assert price == pytest.approx(2.5, rel=1e-12)
    report = training_report(task_types=("faq",), catalog=bundled.catalog, workload=bundled.workload)
    assert report.payback.api_usd_per_month == pytest.approx(0.325 * 365 / 12, rel=1e-12)
    assert report.payback.payback_months is None
    with pytest.raises(RouterOptError, match="do not occur"):
        api_bill_for_task_types(bundled.catalog, bundled.workload, ["haiku"])


# --- frontier ------------------------------------------------------------------------------------


def _two_model_inputs():
    # One task, 1M tokens/day. cheap: $1/M, quality 80; dear (baseline): $3/M, quality 90.
    catalog = make_catalog(
        [
            {"id": "dear", "input": 3.0, "quality": {"general": 90}},
            {"id": "cheap", "input": 1.0, "quality": {"general": 80}},
        ]
    )
    workload = make_workload([{"invocations_per_day": 1000, "input_tokens": 1000, "output_tokens": 0}])
    return _inputs(catalog, workload)


def test_frontier_by_hand():
    # Default range: lowest quality on offer 80 to the highest bar every task meets, 90.
    # Bars 80, 85, 90: $1, $3, $3 a day against all-large $3 -> shares 1/3, 1, 1.
    # Area = 0.5 x (1/3 + 1) / 2 + 0.5 x (1 + 1) / 2 = 1/3 + 1/2 = 0.8333.
    result = frontier(_two_model_inputs(), points=3)
    assert [p.min_quality for p in result.points] == [80.0, 85.0, 90.0]
    assert [p.optimal_usd_per_day for p in result.points] == pytest.approx([1.0, 3.0, 3.0], rel=1e-9)
    assert [p.share_routed_away_from_baseline for p in result.points] == pytest.approx([1.0, 0.0, 0.0], abs=1e-9)
    assert [p.quality_retained for p in result.points] == pytest.approx([80 / 90, 1.0, 1.0], rel=1e-9)
    assert result.area_under_curve == pytest.approx(1 / 3 + 1 / 2, rel=1e-9)
    assert result.stopped_at_min_quality is None


def test_frontier_stops_at_an_infeasible_bar():
    # Bars 80, 90, 100: nothing reaches 100, so the sweep stops there with two points.
    result = frontier(_two_model_inputs(), low=80, high=100, points=3)
    assert [p.min_quality for p in result.points] == [80.0, 90.0]
    assert result.stopped_at_min_quality == 100.0
    assert "cannot be served" in result.stop_reason
    with pytest.raises(RouterOptError, match="no plan exists"):
        frontier(_two_model_inputs(), low=95, high=100, points=2)


def test_area_under_curve_closed_form():
    # A straight line from 0.2 to 0.6 over any bar range has area (0.2 + 0.6) / 2 = 0.4.
    assert area_under_curve([50, 60, 70], [0.2, 0.4, 0.6]) == pytest.approx(0.4, rel=1e-12)


def test_frontier_on_the_bundled_inputs_is_monotone_with_exact_endpoints(bundled):
    result = frontier(bundled)
    points = result.points
    # Bundled catalog: the lowest quality for any workload task type is instruct's agentic_workflow 35;
    # the binding best is agentic_workflow's 80 (reasoning). 19 points: a 2.5 step.
    assert len(points) == 19 and result.stopped_at_min_quality is None
    assert points[0].min_quality == 35.0 and points[-1].min_quality == 80.0
    costs = [p.optimal_usd_per_day for p in points]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(costs)), "a higher bar never costs less"
    for end in (points[0], points[-1]):
        single = optimize_inputs(bundled, min_quality=end.min_quality)
        assert end.optimal_usd_per_day == pytest.approx(single.totals.optimal_usd_per_day, rel=1e-9)
        assert end.usd_per_day_by_department == pytest.approx(
            {d.department: d.optimal_usd_per_day for d in single.departments}, rel=1e-9
        )
    # Department $/day add up to the enterprise's.
    for p in points:
        assert sum(p.usd_per_day_by_department.values()) == pytest.approx(p.optimal_usd_per_day, rel=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_frontier_monotone_on_random_instances(seed):
    from .helpers import random_instance

    catalog, workload, policy = random_instance(300 + seed)
    # The sweep sets the bar of rows without their own, so clear theirs.
    workload = workload.model_copy(
        update={"tasks": tuple(t.model_copy(update={"min_quality": None}) for t in workload.tasks)}
    )
    result = frontier(_inputs(catalog, workload, policy), points=7)
    costs = [p.optimal_usd_per_day for p in result.points]
    assert all(b >= a * (1 - 1e-9) - 1e-12 for a, b in itertools.pairwise(costs))


# --- the command line ----------------------------------------------------------------------------


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "command, expected",
    [
        ("frontier", "Cost-quality frontier"),
        ("reasoning", "Reasoning multiplier"),
        ("trajectory", "Plan by year"),
        ("breakeven", "Breakeven volume"),
        ("training-cost", "$15,897.60"),
    ],
)
def test_each_command_runs_with_no_arguments(command, expected):
    result = invoke(command)
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_frontier_json():
    data = json.loads(invoke("frontier", "--format", "json").output)
    assert data["analysis"] == "frontier"
    assert len(data["points"]) == 19
    assert data["points"][0]["min_quality"] == 35.0 and data["points"][-1]["min_quality"] == 80.0


def test_reasoning_json_seed_table():
    data = json.loads(invoke("reasoning", "--source", "table", "--format", "json").output)
    assert [r["verdict"] for r in data["rows"]] == [v for *_, v in SEED_RM]
    assert data["rows"][5]["reasoning_multiplier"] == pytest.approx(77.8 / 2.7, rel=1e-12)
    table = invoke("reasoning", "--source", "table").output
    for _, _, printed, verdict in SEED_RM:
        assert printed in table and verdict in table


def test_reasoning_json_catalog_pair():
    data = json.loads(invoke("reasoning", "--instruct-model", "commercial-large", "--format", "json").output)
    faq = next(r for r in data["rows"] if r["task_type"] == "faq")
    assert faq["cost_multiple"] == pytest.approx(5.0 / 2.5, rel=1e-12)  # $5 / $2.50


def test_trajectory_json_and_task_row():
    data = json.loads(
        invoke("trajectory", "--task-tokens", "800", "--task-tier", "Fine-Tuned", "--format", "json").output
    )
    rows = {r["year"]: r for r in data["rows"]}
    assert rows[2030]["baseline_usd_per_day"] == pytest.approx(16.0100125 * 0.12 / 2.50, rel=1e-9)
    task = {r["year"]: r["usd_per_invocation"] for r in data["task"]["rows"]}
    # 800 x $0.02/M in 2026; 2027 interpolated: 800 x sqrt(0.02 x 0.006)/1e6.
    assert task[2026] == pytest.approx(0.000016, rel=1e-12)
    assert task[2027] == pytest.approx(800 * math.sqrt(0.02 * 0.006) / 1e6, rel=1e-12)


def test_breakeven_json_and_options():
    data = json.loads(invoke("breakeven", "--format", "json").output)
    assert data["breakeven_tokens_per_day"] == pytest.approx(24.84e6, rel=1e-12)  # see test_breakeven_default_by_hand
    # H100 at $2.50 (seed midpoint), 8B at 16,200 tok/s, full load, no overhead: 2.5 / (16,200 x 3,600) x 1e6.
    data = json.loads(
        invoke("breakeven", "--gpu", "H100-SXM", "--utilisation", "1", "--overhead", "0", "--format", "json").output
    )
    assert data["self_hosted_usd_per_mtok"] == pytest.approx(2.5 / (16_200 * 3_600) * 1e6, rel=1e-12)


def test_training_cost_json_and_options():
    data = json.loads(invoke("training-cost", "--format", "json").output)
    assert data["run"]["cases"][0]["total_usd"] == pytest.approx(15_897.60, abs=1e-9)
    assert data["payback"]["net_saving_month_one_usd"] == 39_280.0
    # 16 GPUs x 10 h x $2 = $320 + 10% = $352.
    data = json.loads(
        invoke(
            "training-cost",
            "--gpus",
            "16",
            "--hours",
            "10",
            "--usd-per-gpu-hour",
            "2",
            "--overhead",
            "0.1",
            "--format",
            "json",
        ).output
    )
    assert data["run"]["cases"][0]["total_usd"] == pytest.approx(352.0, rel=1e-12)
    table = invoke("training-cost", "--task-type", "faq").output
    assert "$9.89/month" in table and "never" in table  # the faq family, priced in test_payback_for_a_task_family


def test_markdown_and_output_file(tmp_path: Path):
    md = invoke("breakeven", "--format", "markdown").output
    assert md.startswith("## router-opt breakeven") and "| Figure | Value |" in md
    target = tmp_path / "rm.json"
    result = invoke("reasoning", "--source", "table", "--format", "json", "--output", str(target))
    assert result.exit_code == 0
    assert json.loads(target.read_text())["analysis"] == "reasoning"


def test_bad_input_exits_2(tmp_path: Path):
    result = runner.invoke(app, ["breakeven", "--gpu", "TPU"])
    assert result.exit_code == 2 and "unknown GPU 'TPU'" in result.output
    bad = tmp_path / "prices.yaml"
    bad.write_text("name: p\ntiers:\n  - tier: Fine-Tuned\n    source: x\n    annual_decline: 1.5\n")
    result = runner.invoke(app, ["trajectory", "--prices", str(bad)])
    assert result.exit_code == 2 and f"{bad}:5" in result.output and "annual_decline" in result.output


def test_bundled_data_files_validate():
    # Each bundled economics file loads under its strict schema (a typo in a key would be an error).
    from router_opt.analyses.breakeven import load_self_hosting
    from router_opt.analyses.training import load_training_examples

    assert isinstance(load_multiplier_table(), MultiplierTable)
    assert {str(e.tier) for e in load_price_trajectory().tiers} == {
        "Reasoning",
        "Commercial Large",
        "Commercial Small",
        "Open-Source",
        "Fine-Tuned",
        "Instruct",
        "Specialist",
    }
    assert load_self_hosting().gpu("l40s").usd_per_hour == 1620 / (30 * 24)
    assert load_training_examples().fine_tuning.api_usd_per_month == 45_000
