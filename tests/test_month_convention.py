"""One month, one year (issue 14, item 7): a year is 365 days and a month a twelfth of it, so every
command's monthly figure x 12 is its yearly figure, in JSON and in the table. Expected figures are
worked by hand in the comments."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from router_opt import formatting as fmt
from router_opt import units
from router_opt.analyses import common
from router_opt.cli import app

runner = CliRunner()

# "$1,888.88/month · $22,666.50/year": a monthly and a yearly figure shown side by side.
PAIR = re.compile(r"(-?\$[\d,]+\.\d\d)/month · (-?\$[\d,]+\.\d\d)/year")


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def test_the_convention():
    assert units.DAYS_PER_YEAR == 365 and units.MONTHS_PER_YEAR == 12
    assert units.DAYS_PER_MONTH == pytest.approx(30.416666666666668, rel=1e-15)
    # The analyses take their month from router_opt.units, not a 30-day month of their own.
    assert common.DAYS_PER_MONTH is units.DAYS_PER_MONTH
    # $1,620 a month (the seed's L40S month) is 1620 x 12 / 365 = $53.2603/day; $54/day is $1,642.50/month.
    assert units.per_day_from_per_month(1620) == pytest.approx(53.26027397260274, rel=1e-12)
    assert units.per_month_from_per_day(54) == pytest.approx(1642.5, rel=1e-12)
    assert units.per_year_from_per_month(units.per_month_from_per_day(54)) == pytest.approx(54 * 365, rel=1e-12)
    assert units.per_year_from_per_day(54) == 19_710


def test_breakeven_json_month_times_12_is_the_year():
    # One L40S: $2.25/h x 24 x 1.15 = $62.10/day; x 365/12 = $1,888.875/month; x 365 = $22,666.50/year.
    # The bundled workload: 6,404,005 tokens/day at $2.50/M = $16.0100125/day: $486.9712/month,
    # $5,843.6545625/year. Saving (16.0100125 - 62.10) x 365 = -$16,822.8454375/year.
    data = json.loads(invoke("breakeven", "--format", "json"))
    assert data["schema_version"] == "1.1"
    assert data["days_per_month"] == pytest.approx(365 / 12, rel=1e-15) and data["days_per_year"] == 365
    assert data["gpu_usd_per_month"] == pytest.approx(1888.875, rel=1e-12)
    assert data["gpu_usd_per_year"] == pytest.approx(22_666.5, rel=1e-12)
    assert data["breakeven_usd_per_month_on_api"] == pytest.approx(1888.875, rel=1e-12)
    assert data["breakeven_usd_per_year_on_api"] == pytest.approx(22_666.5, rel=1e-12)
    assert data["api_usd_per_month"] == pytest.approx(16.0100125 * 365 / 12, rel=1e-12)
    assert data["api_usd_per_year"] == pytest.approx(5843.6545625, rel=1e-12)
    assert data["self_hosted_usd_per_year"] == pytest.approx(22_666.5, rel=1e-12)
    assert data["yearly_saving_usd"] == pytest.approx(-16_822.8454375, rel=1e-12)
    for month, year in (
        ("gpu_usd_per_month", "gpu_usd_per_year"),
        ("breakeven_usd_per_month_on_api", "breakeven_usd_per_year_on_api"),
        ("api_usd_per_month", "api_usd_per_year"),
        ("self_hosted_usd_per_month", "self_hosted_usd_per_year"),
        ("monthly_saving_usd", "yearly_saving_usd"),
    ):
        assert data[month] * 12 == data[year], (month, year)


@pytest.mark.parametrize("fmt_name", ["table", "markdown"])
def test_breakeven_table_month_times_12_is_the_year(fmt_name):
    text = invoke("breakeven", "--format", fmt_name)
    data = json.loads(invoke("breakeven", "--format", "json"))
    pairs = PAIR.findall(text)
    # One GPU, the API bill at breakeven, the API and self-hosting at the workload's volume.
    assert len(pairs) == 4, text
    assert pairs[0] == ("$1,888.88", "$22,666.50") and pairs[1] == pairs[0]
    assert pairs[2] == ("$486.97", "$5,843.65") and pairs[3] == pairs[0]
    for month, year in pairs:
        # Each shown figure is the same full-precision month, rounded once: the year shown is
        # within 12 half-cents of 12 x the month shown.
        assert abs(dollars(month) * 12 - dollars(year)) <= 12 * 0.005 + 1e-9
    assert f"{fmt.usd(data['monthly_saving_usd'])} (the API is cheaper" in text
    assert re.search(r"Yearly saving\s*\|?\s*-\$16,822\.85", text)
    assert "A month is 30.42 days (365 / 12) and a year 365 days" in text
    assert "/year" in text and "$22,666.50/year" in text and "$1,863.00" not in text


def test_breakeven_bill_at_breakeven_is_one_gpus_month():
    # Against Claude Sonnet ($3/M) breakeven is 62.10 / 3 = 20.7M tokens/day, where the API bill is one
    # GPU's $1,888.875/month by definition: shown as the same figure, not one rounded to a cent apart.
    text = invoke("breakeven", "--api-model", "claude-sonnet")
    pairs = PAIR.findall(text)
    assert pairs[0] == pairs[1] == ("$1,888.88", "$22,666.50")
    assert "20.7M tokens/day" in text


def test_breakeven_seed_month_given():
    # --days-per-month 30 reproduces the seed's month: $62.10 x 30 = $1,863.00, and its year is 12 of
    # them, $22,356.00 (360 days), said so in the note.
    data = json.loads(invoke("breakeven", "--days-per-month", "30", "--format", "json"))
    assert data["gpu_usd_per_month"] == pytest.approx(1863.0, rel=1e-12)
    assert data["gpu_usd_per_year"] == pytest.approx(22_356.0, rel=1e-12)
    assert data["days_per_year"] == 360
    text = invoke("breakeven", "--days-per-month", "30")
    assert "$1,863.00/month · $22,356.00/year" in text
    assert "a year here is 12 of them (360 days), not 365" in text


def test_training_payback_year_is_12_months():
    # Seed payback: one-time $4,100, monthly saving $45,000 - $1,620 = $43,380; over 12 months
    # (365 days) 12 x 43,380 - 4,100 = $516,460. Volume check 5M x $3/M x 365/12 = $456.25/month.
    data = json.loads(invoke("training-cost", "--format", "json"))["payback"]
    assert data["horizon_months"] == 12 and data["horizon_days"] == 365
    assert data["days_per_month"] == pytest.approx(365 / 12, rel=1e-15)
    assert data["net_saving_over_horizon_usd"] == 12 * data["monthly_saving_after_month_one_usd"] - data["one_time_usd"]
    assert data["net_saving_over_horizon_usd"] == pytest.approx(516_460.0, rel=1e-12)
    assert data["api_usd_per_month_from_volume"] == pytest.approx(456.25, rel=1e-12)
    text = invoke("training-cost")
    assert re.search(r"Net over 12 months \(365 days\)\s+\$516,460\.00", text)
    assert "x 30.42 days = $456.25/month" in text
    # The stated bill is 45,000 / 456.25 = 98.6x its own volume and price.
    assert "98.6x what its own volume and price give" in text
    # A 24-month horizon is 730 days: 24 x 43,380 - 4,100 = $1,037,020.
    data = json.loads(invoke("training-cost", "--horizon-months", "24", "--format", "json"))["payback"]
    assert data["horizon_days"] == 730
    assert data["net_saving_over_horizon_usd"] == pytest.approx(1_037_020.0, rel=1e-12)


def test_training_payback_task_family_month_and_year():
    # The bundled faq family: 130,000 tokens/day on commercial-large $2.50/M = $0.325/day, so
    # $9.8854/month and 12 x that = 0.325 x 365 = $118.625 a year; serving ($1,620/month) costs more:
    # 12 x (9.885416... - 1620) - 4,100 = -$23,421.375 over the year.
    data = json.loads(invoke("training-cost", "--task-type", "faq", "--format", "json"))["payback"]
    assert data["api_usd_per_month"] == pytest.approx(0.325 * 365 / 12, rel=1e-12)
    assert data["api_usd_per_month"] * 12 == pytest.approx(118.625, rel=1e-12)
    assert data["payback_months"] is None
    assert data["net_saving_over_horizon_usd"] == pytest.approx(118.625 - 12 * 1620 - 4100, rel=1e-12)


def test_optimize_year_is_365_days_and_fixed_costs_a_twelfth_per_month():
    # The optimize report's year is units.DAYS_PER_YEAR days of the plan.
    data = json.loads(invoke("optimize", "--format", "json"))
    assert data["settings"]["days_per_year"] == units.DAYS_PER_YEAR
    totals = data["totals"]
    assert totals["optimal_usd_per_year"] == pytest.approx(totals["optimal_usd_per_day"] * 365, rel=1e-12)
    assert totals["baseline_usd_per_year"] == pytest.approx(totals["baseline_usd_per_day"] * 365, rel=1e-12)


def test_engine_fixed_cost_per_day_matches_the_convention(tmp_path):
    # A self-hosted deployment at $912.50/month costs 912.50 x 12 / 365 = $30.00/day in the engine,
    # the same day units.per_day_from_per_month gives (and $912.50 x 12 = $10,950 = $30 x 365 a year).
    catalog = tmp_path / "c.yaml"
    catalog.write_text(
        "name: c\nprices_as_of: 2025-06-01\nbaseline: big\nmodels:\n"
        "  - {id: big, tier: Commercial Large, provider: openai, usd_per_mtok: 10.0, quality: {faq: 95}}\n"
        "  - {id: own, tier: Fine-Tuned, provider: Self-hosted, deployment: self-hosted, usd_per_mtok: 0.0,\n"
        "     fixed_usd_per_month: 912.5, quality: {faq: 96}}\n"
    )
    workload = tmp_path / "w.csv"
    # 10 workers x 1,000 calls x 1,000 tokens = 10M tokens/day: $100/day on big, so the deployment (free
    # per token, $30/day fixed) is provisioned and the plan costs exactly its fixed $30/day.
    workload.write_text(
        "department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens\n"
        "Ops,Agent,10,Answer,faq,1000,500,500\n"
    )
    data = json.loads(invoke("optimize", "-c", str(catalog), "-w", str(workload), "--format", "json"))
    (deployment,) = data["deployments"]
    assert deployment["fixed_usd_per_day"] == pytest.approx(units.per_day_from_per_month(912.5), rel=1e-12)
    assert deployment["fixed_usd_per_day"] == pytest.approx(30.0, rel=1e-12)
    assert data["totals"]["optimal_usd_per_day"] == pytest.approx(30.0, rel=1e-9)
    assert data["totals"]["optimal_usd_per_year"] == pytest.approx(912.5 * 12, rel=1e-9)
