"""Costs and rollups checked against figures worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest

from router_opt.frame import Mode, build_problem
from router_opt.models import Policy
from router_opt.plan import Inputs, optimize_inputs

from .helpers import make_workload


def _inputs(catalog, workload, policy=None):
    return Inputs(catalog, workload, policy or Policy(), "catalog.yaml", "workload.csv", "policy.yaml")


@pytest.fixture
def two_tasks():
    return make_workload(
        [
            # 20 calls/worker/day x 5 workers = 100 calls/day
            {
                "task": "A",
                "task_type": "general",
                "headcount": 5,
                "invocations_per_day": 20,
                "input_tokens": 1200,
                "output_tokens": 300,
                "min_quality": 85,
            },
            # 10 x 5 = 50 calls/day
            {
                "task": "B",
                "task_type": "code",
                "headcount": 5,
                "invocations_per_day": 10,
                "input_tokens": 2000,
                "output_tokens": 1000,
                "min_quality": 90,
            },
        ]
    )


def test_per_invocation_and_per_day_costs(tiny_catalog, two_tasks):
    problem = build_problem(tiny_catalog, two_tasks, Policy())
    # A on large: 1200 x $3/M + 300 x $15/M = 0.0036 + 0.0045 = $0.0081; x 100 calls = $0.81/day
    assert problem.usd_per_invocation[0, 0] == pytest.approx(0.0081, rel=1e-12)
    assert problem.usd_per_day[0, 0] == pytest.approx(0.81, rel=1e-12)
    # A on small: 1200 x 0.15/M + 300 x 0.60/M = 0.00018 + 0.00018 = $0.00036
    assert problem.usd_per_invocation[0, 1] == pytest.approx(0.00036, rel=1e-12)
    # A on tuned: 1500 x 0.04/M = $0.00006; x 100 = $0.006/day
    assert problem.usd_per_day[0, 2] == pytest.approx(0.006, rel=1e-12)
    # B on large: 2000 x 3/M + 1000 x 15/M = $0.021; x 50 = $1.05/day
    assert problem.usd_per_day[1, 0] == pytest.approx(1.05, rel=1e-12)
    # strict eligibility: A (bar 85): large 90 yes, small 80 no, tuned 86 yes; B (bar 90): only large
    assert problem.eligible.tolist() == [[True, False, True], [True, False, False]]


def test_strict_plan_totals(tiny_catalog, two_tasks):
    result = optimize_inputs(_inputs(tiny_catalog, two_tasks))
    t = result.totals
    assert t.optimal_usd_per_day == pytest.approx(0.006 + 1.05, rel=1e-9)  # A on tuned, B on large
    assert t.baseline_usd_per_day == pytest.approx(0.81 + 1.05, rel=1e-12)
    assert t.overspend_ratio == pytest.approx(1.86 / 1.056, rel=1e-9)
    assert t.optimal_usd_per_year == pytest.approx(1.056 * 365, rel=1e-9)
    assert t.savings_usd_per_day == pytest.approx(1.86 - 1.056, rel=1e-9)
    assert t.workers == 5
    assert t.optimal_usd_per_worker_per_day == pytest.approx(1.056 / 5, rel=1e-9)
    assert t.invocations_per_day == 150
    # 100 of 150 calls leave the baseline
    assert t.share_routed_away_from_baseline == pytest.approx(100 / 150, rel=1e-9)
    # (100 x 86 + 50 x 92) / 150 = 88.0; baseline (100 x 90 + 50 x 92) / 150 = 90.666...
    assert t.plan_quality == pytest.approx(88.0, rel=1e-9)
    assert t.baseline_quality == pytest.approx(13600 / 150, rel=1e-12)
    by_task = {a.task: a for a in result.assignments}
    assert by_task["A"].model == "tuned" and by_task["A"].share == pytest.approx(1.0)
    assert by_task["A"].usd_per_invocation == pytest.approx(0.00006, rel=1e-12)
    assert by_task["B"].model == "large"
    assert len(result.roles) == 1 and result.roles[0].headcount == 5


def test_blended_mixes_to_the_bar(tiny_catalog):
    workload = make_workload(
        [
            {
                "task": "C",
                "task_type": "general",
                "invocations_per_day": 100,
                "input_tokens": 1200,
                "output_tokens": 300,
                "min_quality": 88,
            }
        ]
    )
    strict = optimize_inputs(_inputs(tiny_catalog, workload), mode=Mode.STRICT)
    blended = optimize_inputs(_inputs(tiny_catalog, workload), mode=Mode.BLENDED)
    # strict: only large (90) meets 88: 100 x $0.0081 = $0.81
    assert strict.totals.optimal_usd_per_day == pytest.approx(0.81, rel=1e-9)
    # blended: tuned (86) and large (90) half and half average exactly 88:
    # 100 x (0.5 x 0.0081 + 0.5 x 0.00006) = $0.408 (small+large needs 80% large: $0.6552)
    assert blended.totals.optimal_usd_per_day == pytest.approx(0.408, rel=1e-9)
    shares = {a.model: a.share for a in blended.assignments}
    assert shares == pytest.approx({"large": 0.5, "tuned": 0.5}, rel=1e-9)
    assert blended.tasks[0].quality == pytest.approx(88.0, rel=1e-9)


def test_policy_threshold_precedence():
    policy = Policy(
        default_min_quality=50,
        min_quality_by_task_type={"faq": 80},
        min_quality_by_complexity={"hard": 95},
    )
    rows = make_workload(
        [
            {"task_type": "faq", "invocations_per_day": 1, "input_tokens": 1, "output_tokens": 1, "min_quality": 60},
            {"task_type": "faq", "invocations_per_day": 1, "input_tokens": 1, "output_tokens": 1, "complexity": "hard"},
            {"task_type": "faq", "invocations_per_day": 1, "input_tokens": 1, "output_tokens": 1},
            {"task_type": "other", "invocations_per_day": 1, "input_tokens": 1, "output_tokens": 1},
        ]
    ).tasks
    assert [policy.threshold_for(t) for t in rows] == [60, 95, 80, 50]
    # --min-quality replaces every bar except a row's own
    assert [policy.threshold_for(t, 70) for t in rows] == [60, 70, 70, 70]
