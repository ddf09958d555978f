"""Uncertain inputs (issue 18): `router-opt ranges` against an independent Monte Carlo, the robust
plan against the LP at the quantile, and reproducibility."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.models import Catalog
from router_opt.plan import load_inputs, optimize_inputs
from router_opt.uncertainty import one_draw, prepare_draws, ranges, run_draws

TYPES = ["extract", "write", "reason"]
# id: (input $/Mtok, output $/Mtok, {type: quality}, {type: (low, high)}, price ranges or None)
MODELS = {
    "large": (10.0, 30.0, {"extract": 99, "write": 99, "reason": 99}, {}, None),
    "mid": (2.0, 6.0, {"extract": 90, "write": 88, "reason": 85}, {"extract": (86, 94), "write": (82, 94)}, None),
    "small": (
        0.5,
        1.5,
        {"extract": 86, "write": 80, "reason": 70},
        {"extract": (78, 94), "write": (74, 86), "reason": (60, 80)},
        ((0.3, 0.7), (1.0, 2.0)),
    ),
    "tiny": (0.1, 0.2, {"extract": 80, "write": 70}, {"extract": (70, 90), "write": (58, 82)}, ((0.05, 0.2), None)),
}
# (task type, bar, invocations/day, input tokens, output tokens)
TASKS = [
    ("extract", 80, 5000, 800, 100),
    ("extract", 85, 2000, 1500, 200),
    ("write", 80, 1000, 600, 900),
    ("write", 86, 400, 900, 1200),
    ("reason", 75, 300, 2000, 800),
    ("reason", 90, 100, 3000, 1500),
]
VOLUME = (0.8, 1.2)


def _write_case(tmp_path):
    models = []
    for model_id, (price_in, price_out, quality, interval, price_range) in MODELS.items():
        spec = {
            "id": model_id,
            "tier": "Commercial Large" if model_id == "large" else "Commercial Small",
            "provider": "Acme",
            "input_usd_per_mtok": price_in,
            "output_usd_per_mtok": price_out,
            "quality": quality,
        }
        if interval:
            spec["quality_interval"] = {t: list(v) for t, v in interval.items()}
        if price_range is not None:
            if price_range[0] is not None:
                spec["input_usd_per_mtok_range"] = list(price_range[0])
            if price_range[1] is not None:
                spec["output_usd_per_mtok_range"] = list(price_range[1])
        models.append(spec)
    catalog = {"name": "uncertain", "prices_as_of": "2025-06-01", "baseline": "large", "models": models}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    lines = ["department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens,min_quality"]
    for i, (task_type, bar, calls, tokens_in, tokens_out) in enumerate(TASKS):
        lines.append(f"Ops,Analyst,1,task{i},{task_type},{calls},{tokens_in},{tokens_out},{bar}")
    (tmp_path / "workload.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "policy.yaml").write_text("default_min_quality: 0\n")
    return tmp_path / "catalog.yaml", tmp_path / "workload.csv", tmp_path / "policy.yaml"


@pytest.fixture
def case(tmp_path):
    return _write_case(tmp_path)


def _arrays():
    ids = list(MODELS)
    point = np.array([[MODELS[m][2].get(t, np.nan) for m in ids] for t in TYPES])
    intervals = [[MODELS[m][3].get(t) for m in ids] for t in TYPES]
    sd = np.array([[(iv[1] - iv[0]) / 3.92 if iv else 0.0 for iv in row] for row in intervals])
    price = {}
    for side, position in (("in", 0), ("out", 1)):
        low, high = [], []
        for m in ids:
            given = MODELS[m][4][position] if MODELS[m][4] and MODELS[m][4][position] else (MODELS[m][position],) * 2
            low.append(given[0])
            high.append(given[1])
        price[side] = (np.array(low), np.array(high))
    return ids, point, sd, price


def _reference(n: int, seed: int = 12345) -> dict:
    """Closed-form Monte Carlo: with no coupling, each task takes its cheapest model whose sampled
    quality meets the bar; the plan's $/day is the sum of those minima."""
    ids, point, sd, price = _arrays()
    rng = np.random.default_rng(seed)
    rated = ~np.isnan(point)
    z = stats.norm.rvs(size=(n, *point.shape), random_state=rng)
    quality = np.clip(np.where(rated, point, 0)[None] + sd[None] * z, 0, 100)
    quality = np.where(rated[None], quality, -np.inf)
    p_in = stats.uniform.rvs(price["in"][0], price["in"][1] - price["in"][0], size=(n, len(ids)), random_state=rng)
    p_out = stats.uniform.rvs(price["out"][0], price["out"][1] - price["out"][0], size=(n, len(ids)), random_state=rng)
    volume = stats.uniform.rvs(VOLUME[0], VOLUME[1] - VOLUME[0], size=n, random_state=rng)
    optimal = np.zeros(n)
    baseline = np.zeros(n)
    for task_type, bar, calls, tokens_in, tokens_out in TASKS:
        k = TYPES.index(task_type)
        cost = calls * volume[:, None] * (tokens_in * p_in + tokens_out * p_out) / 1e6  # n x M
        optimal += np.where(quality[:, k, :] >= bar, cost, np.inf).min(axis=1)
        baseline += cost[:, ids.index("large")]
    return {"optimal": optimal, "savings": baseline - optimal, "overspend": baseline / optimal}


def _check_quantiles(estimates: dict[int, float], reference: np.ndarray, n: int) -> None:
    """Each P_p estimated from n draws sits where the reference distribution puts p, within 4.5
    standard errors of a sample quantile's rank (sqrt(p(1-p)/n)), plus the reference's own error."""
    for p, estimate in estimates.items():
        rank = float(np.mean(reference <= estimate))
        tolerance = 4.5 * np.sqrt(p / 100 * (1 - p / 100) / n) + 4.5 * np.sqrt(0.25 / reference.size)
        assert abs(rank - p / 100) <= tolerance, (p, estimate, rank, tolerance)


def test_quantiles_match_an_independent_monte_carlo(case):
    catalog, workload, policy = case
    draws = 400
    result = ranges(load_inputs(catalog, workload, policy), draws=draws, seed=7, volume_range=VOLUME)
    assert result.feasible_draws == draws  # "large" (no interval, 99) meets every bar
    reference = _reference(40_000)
    spreads = {s.metric: s for s in result.spreads}
    for metric, key in (
        ("optimal_usd_per_day", "optimal"),
        ("savings_usd_per_day", "savings"),
        ("overspend_ratio", "overspend"),
    ):
        s = spreads[metric]
        _check_quantiles({10: s.p10, 50: s.p50, 90: s.p90}, reference[key], draws)
    # The reference's own percentiles, side by side, within a few percent.
    for p, value in zip(
        (10, 50, 90),
        (spreads["optimal_usd_per_day"].p10, spreads["optimal_usd_per_day"].p50, spreads["optimal_usd_per_day"].p90),
    ):
        assert value == pytest.approx(np.percentile(reference["optimal"], p), rel=0.06)


def test_probability_the_nominal_model_meets_its_bar(case):
    """Per task: P(N(point, sd) >= bar) of the nominal plan's model, in closed form."""
    catalog, workload, policy = case
    draws = 600
    inputs = load_inputs(catalog, workload, policy)
    result = ranges(inputs, draws=draws, seed=3)
    nominal = optimize_inputs(inputs)
    ids, point, sd, _ = _arrays()
    by_task = {t.task: t for t in result.tasks}
    checked = 0
    for row in nominal.tasks:
        k, m = TYPES.index(row.task_type), ids.index(row.model)
        expected = 1.0 if sd[k, m] == 0 else float(stats.norm.sf(row.min_quality, point[k, m], sd[k, m]))
        got = by_task[row.task].probability_meets_bar
        assert by_task[row.task].models == row.model
        assert abs(got - expected) <= 4.5 * np.sqrt(max(expected * (1 - expected), 1e-4) / draws) + 1e-12, (
            row.task,
            got,
            expected,
        )
        checked += expected < 1
    assert checked >= 3  # the cheap models the nominal plan picks are uncertain
    # Least likely first.
    probabilities = [t.probability_meets_bar for t in result.tasks]
    assert probabilities == sorted(probabilities)


def test_nominal_plan_cost_and_baseline_under_each_draw(case):
    """The nominal routing priced at the draw's prices and volume, recomputed here; at the point
    inputs (no ranges) the draws give the nominal figures exactly."""
    catalog, workload, policy = case
    inputs = load_inputs(catalog, workload, policy)
    setup, nominal = prepare_draws(inputs, volume_range=VOLUME)
    record = one_draw((setup, 5, 11))
    from router_opt.uncertainty import sample

    _, price_in, price_out, volume = sample(setup, np.random.default_rng([11, 5]))
    ids = list(MODELS)
    expected = sum(
        a.share
        * a.invocations_per_day
        * volume
        * (
            TASKS[int(a.task[4:])][3] * price_in[ids.index(a.model)]
            + TASKS[int(a.task[4:])][4] * price_out[ids.index(a.model)]
        )
        / 1e6
        for a in nominal.assignments
    )
    assert record["nominal_plan_usd_per_day"] == pytest.approx(expected, rel=1e-12)
    assert record["optimal_usd_per_day"] <= record["nominal_plan_usd_per_day"] + 1e-9 or not all(record["task_meets"])

    fixed = Catalog.model_validate(
        inputs.catalog.model_dump()
        | {
            "models": [
                m.model_dump()
                | {"quality_interval": None, "input_usd_per_mtok_range": None, "output_usd_per_mtok_range": None}
                for m in inputs.catalog.models
            ]
        }
    )
    point = ranges(type(inputs)(**{**inputs.__dict__, "catalog": fixed}), draws=3, seed=1)
    for s in point.spreads:
        if s.metric != "nominal_plan_excess_usd_per_day":
            assert s.p10 == pytest.approx(s.nominal, rel=1e-12) and s.p90 == pytest.approx(s.nominal, rel=1e-12)
    assert all(t.probability_meets_bar == 1.0 for t in point.tasks)
    assert any("no quality_interval" in w for w in point.warnings)


def _quantile_catalog(inputs, confidence: float) -> Catalog:
    """The catalog whose quality is each interval's (1 - confidence) quantile (scipy), clipped."""
    models = []
    for m in inputs.catalog.models:
        quality = dict(m.quality)
        for t, (low, high) in (m.quality_interval or {}).items():
            quantile = stats.norm.ppf(1 - confidence, loc=m.quality[t], scale=(high - low) / (2 * 1.96))
            quality[t] = float(np.clip(quantile, 0, 100))
        models.append(m.model_copy(update={"quality": quality}))
    return inputs.catalog.model_copy(update={"models": tuple(models)})


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.99])
def test_robust_plan_is_the_lp_at_the_quantile(case, confidence):
    catalog, workload, policy = case
    inputs = load_inputs(catalog, workload, policy)
    robust = optimize_inputs(inputs, confidence=confidence)
    at_quantile = optimize_inputs(type(inputs)(**{**inputs.__dict__, "catalog": _quantile_catalog(inputs, confidence)}))
    assert [(a.task, a.model, a.share) for a in robust.assignments] == [
        (a.task, a.model, a.share) for a in at_quantile.assignments
    ]
    assert robust.totals.optimal_usd_per_day == pytest.approx(at_quantile.totals.optimal_usd_per_day, rel=1e-12)
    # Reports keep the point quality: the interval only decides eligibility.
    ids, point, _, _ = _arrays()
    for row in robust.tasks:
        assert row.quality == point[TYPES.index(row.task_type), ids.index(row.model)]
    # Closed form: each task's cheapest model whose quantile meets its bar.
    quantile_catalog = _quantile_catalog(inputs, confidence)
    for (task_type, bar, _, tokens_in, tokens_out), row in zip(TASKS, robust.tasks):
        eligible = [m for m in quantile_catalog.models if task_type in m.quality and m.quality[task_type] >= bar]
        cheapest = min(eligible, key=lambda m: tokens_in * m.input_usd_per_mtok + tokens_out * m.output_usd_per_mtok)
        assert row.model == cheapest.id


def test_confidence_costs_are_reported(case):
    catalog, workload, policy = case
    runner = CliRunner()
    args = ["optimize", "-c", str(catalog), "-w", str(workload), "-p", str(policy), "-f", "json"]
    nominal = runner.invoke(app, args)
    robust = runner.invoke(app, [*args, "--confidence", "0.9"])
    assert nominal.exit_code == 0 and robust.exit_code == 0, robust.output
    import json

    plan, safe = json.loads(nominal.stdout), json.loads(robust.stdout)
    extra = safe["totals"]["optimal_usd_per_day"] - plan["totals"]["optimal_usd_per_day"]
    assert extra > 0
    note = next(w for w in safe["warnings"] if w.startswith("--confidence 0.9"))
    from router_opt.formatting import usd

    assert usd(extra) in note and usd(plan["totals"]["optimal_usd_per_day"]) in note
    assert not any("--confidence" in w for w in plan["warnings"])
    blended = runner.invoke(app, [*args, "--confidence", "0.9", "--mode", "blended"])
    assert blended.exit_code == 2 and "strict and single" in blended.output


def test_same_seed_same_bytes(case):
    catalog, workload, policy = case
    runner = CliRunner()
    base = ["ranges", "-c", str(catalog), "-w", str(workload), "-p", str(policy), "--draws", "30"]
    outputs = {}
    for fmt in ("json", "table", "markdown"):
        first = runner.invoke(app, [*base, "--seed", "4", "--volume-range", "0.8,1.2", "-f", fmt])
        second = runner.invoke(app, [*base, "--seed", "4", "--volume-range", "0.8,1.2", "-f", fmt])
        assert first.exit_code == 0, first.output
        assert first.stdout_bytes == second.stdout_bytes
        outputs[fmt] = first.stdout_bytes
    other = runner.invoke(app, [*base, "--seed", "5", "--volume-range", "0.8,1.2", "-f", "json"])
    assert other.stdout_bytes != outputs["json"]
    assert b"P10" in outputs["table"] and b"| Figure | P10 | P50 | P90 | Nominal |" in outputs["markdown"]
    bad = runner.invoke(app, [*base, "--volume-range", "1.2"])
    assert bad.exit_code == 2 and "LOW,HIGH" in bad.output


def test_draws_are_identical_in_another_process(case):
    """one_draw depends on (setup, k, seed) only: a process pool's map gives the sequential records."""
    catalog, workload, policy = case
    setup, _ = prepare_draws(load_inputs(catalog, workload, policy), volume_range=VOLUME)
    setup = pickle.loads(pickle.dumps(setup))
    sequential = run_draws(setup, 6, seed=9)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = run_draws(setup, 6, seed=9, map_fn=pool.map)
    for a, b in zip(sequential, pooled, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key]), key


def test_catalog_without_uncertainty_serialises_as_before(case):
    catalog, _, _ = case
    inputs = load_inputs(catalog)
    dumped = inputs.catalog.model_dump(mode="json")
    assert "quality_interval" in dumped["models"][1] and "quality_interval" not in dumped["models"][0]
    assert "input_usd_per_mtok_range" not in dumped["models"][1]
    assert dumped["models"][2]["input_usd_per_mtok_range"] == [0.3, 0.7]


def test_intervals_are_checked(case):
    from router_opt.models import ModelSpec

    base = {"id": "x", "tier": "Instruct", "provider": "Acme", "usd_per_mtok": 1, "quality": {"a": 80}}
    with pytest.raises(ValueError, match="low \\(90\\) is above high"):
        ModelSpec.model_validate(base | {"quality_interval": {"a": [90, 70]}})
    with pytest.raises(ValueError, match="no quality for 'b'"):
        ModelSpec.model_validate(base | {"quality_interval": {"b": [70, 90]}})
    with pytest.raises(ValueError, match="input_usd_per_mtok_range"):
        ModelSpec.model_validate(base | {"input_usd_per_mtok_range": [2, 1]})


def test_the_readme_confidence_example():
    """README: the bundled catalog with +-3-point intervals, --confidence 0.9 -> $8.01/day, +$2.99."""
    import json as _json

    from typer.testing import CliRunner

    from router_opt.cli import app

    args = ["-c", "examples/uncertainty/catalog.yaml", "-p", "policies/default.yaml", "-f", "json"]
    result = CliRunner().invoke(app, ["optimize", *args, "--confidence", "0.9"])
    assert result.exit_code == 0, result.output
    robust = _json.loads(result.stdout)
    nominal = _json.loads(CliRunner().invoke(app, ["optimize", *args]).stdout)
    assert round(robust["totals"]["optimal_usd_per_day"], 2) == 8.01
    assert round(nominal["totals"]["optimal_usd_per_day"], 2) == 5.02
    assert any("$2.99/day (+59.5%)" in w for w in robust["warnings"])


def test_ranges_with_todays_routing():
    """--actual in ranges: today's routing priced in every draw. With quality intervals but fixed
    prices, today's $/day and all-large's both scale with the draw's volume factor alone, so their
    ratio is the nominal one in every draw; savings against today are today minus the draw's optimum."""
    from router_opt.plan import load_inputs
    from router_opt.uncertainty import prepare_draws, run_draws

    inputs = load_inputs("examples/uncertainty/catalog.yaml", None, "policies/default.yaml")
    fixed_prices = tuple(
        m.model_copy(update={"input_usd_per_mtok_range": None, "output_usd_per_mtok_range": None})
        for m in inputs.catalog.models
    )
    inputs = type(inputs)(**{**inputs.__dict__, "catalog": inputs.catalog.model_copy(update={"models": fixed_prices})})
    setup, nominal = prepare_draws(inputs, volume_range=(0.8, 1.2), actual_routing="examples/actual/routing.csv")
    records = run_draws(setup, 30, seed=5)
    today, all_large = nominal.actual.actual_usd_per_day, nominal.totals.baseline_usd_per_day
    for r in records:
        assert r["actual_usd_per_day"] / today == pytest.approx(r["baseline_usd_per_day"] / all_large, rel=1e-12)
        assert r["actual_usd_per_day"] == pytest.approx(today * r["volume"], rel=1e-12)
    from router_opt.uncertainty import summarise

    summary = summarise(setup, nominal, records, 5, inputs)
    spreads = {s.metric: s for s in summary.spreads}
    savings = np.array([r["actual_usd_per_day"] - r["optimal_usd_per_day"] for r in records])
    assert spreads["savings_vs_actual_usd_per_day"].p50 == pytest.approx(np.percentile(savings, 50), rel=1e-12)
    assert spreads["actual_usd_per_day"].nominal == today
