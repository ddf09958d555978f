"""The worked examples of README "Constraints" (examples/constraints/), run through the CLI.

Every expected figure below is worked out by hand from the example files, not copied from a run.
The catalog prices each model with one figure for input and output, so a task's $/day is its
Mtok/day x the model's $/Mtok:

    model      provider     $/Mtok  regions  latency  context  extra
    large      OpenAI        5.00   us, eu   3000 ms  128k     the baseline
    small      Anthropic     1.00   us        800 ms  200k
    open-70b   Mistral       0.50   eu       2000 ms   32k
    tuned-7b   Self-hosted   0.10   us, eu    200 ms    8k     capacity 2 Mtok/day
    coder-34b  Rented GPU    0.10   us       1500 ms   32k     $365/month x 12 / 365 = $12/day fixed

    task               dept         calls/day          tokens/call      Mtok/day  bar  limits
    Ticket triage      Support      10 x 100 = 1,000   900+100          1         95
    Live chat intent   Support      10 x 200 = 2,000   400+100          1         90   <= 1000 ms
    Reply summary      Support      10 x 100 = 1,000   1,800+200        2         88
    Code generation    Engineering   8 x 50  =   400   20,000+5,000    10         90
    Commit summary     Engineering   8 x 125 = 1,000   900+100          1         88   region us
    Document tagging   Legal         2 x 250 =   500   1,800+200        1         92   region eu
    Contract review    Legal         4 x 25  =   100   45,000+5,000     5         90   (45k prompt)
    total                                      6,000                   21

All-large baseline: 21 Mtok x $5 = $105/day in every example.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router_opt.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "constraints"
runner = CliRunner()
CENT = 1e-6  # money is compared to well below a cent; the hand figures are exact


def run(*args: str, policy: str | None = None):
    argv = ["optimize", "-c", str(EXAMPLES / "catalog.yaml"), "-w", str(EXAMPLES / "workload.csv")]
    if policy is not None:
        argv += ["-p", str(EXAMPLES / f"{policy}.yaml")]
    return runner.invoke(app, argv + list(args), catch_exceptions=False)


def solve(*args: str, policy: str | None = None) -> dict:
    result = run("--format", "json", *args, policy=policy)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def shares(plan: dict, task: str) -> dict[str, float]:
    return {a["model"]: a["share"] for a in plan["assignments"] if a["task"] == task}


def department_usd(plan: dict) -> dict[str, float]:
    return {d["department"]: d["optimal_usd_per_day"] for d in plan["departments"]}


def constraint(plan: dict, kind: str, subject: str) -> dict:
    (row,) = [c for c in plan["constraints"] if c["kind"] == kind and c["subject"] == subject]
    return row


def test_capacity_binds_under_the_default_policy():
    plan = solve()  # no -p: the bundled policy; every row carries its own min_quality, which wins
    # tuned-7b is the cheapest allowed model for Ticket triage, Live chat intent and Document tagging:
    # 3 Mtok/day against 2. Moving a task off it costs: triage -> large 5.00-0.10 = 4.90/Mtok,
    # tagging -> large (small is us-only, open-70b 90 < 92) 4.90/Mtok, chat -> small 1.00-0.10 = 0.90/Mtok.
    # So chat spills: 2 Mtok x $0.10 + 1 Mtok x $1.00 = $1.20/day for the three.
    assert shares(plan, "Ticket triage") == pytest.approx({"tuned-7b": 1.0}, abs=1e-6)
    assert shares(plan, "Document tagging") == pytest.approx({"tuned-7b": 1.0}, abs=1e-6)
    assert shares(plan, "Live chat intent") == pytest.approx({"small": 1.0}, abs=1e-6)
    cap = constraint(plan, "capacity", "tuned-7b")
    assert cap["binding"] and cap["limit"] == 2 and cap["used"] == pytest.approx(2.0, abs=1e-9)
    # coder-34b: 10 Mtok x $0.10 + $12 fixed = $13/day < large 10 x $5 = $50 -> provisioned.
    (deployment,) = plan["deployments"]
    assert deployment["model"] == "coder-34b" and deployment["provisioned"]
    assert deployment["fixed_usd_per_day"] == pytest.approx(12.0, abs=CENT)
    assert shares(plan, "Code generation") == pytest.approx({"coder-34b": 1.0}, abs=1e-6)
    # Total: triage 0.10 + chat 1.00 + reply summary (open-70b, 2 x 0.50) 1.00 + code 1.00
    #        + commit summary (small; open-70b is eu-only) 1.00 + tagging 0.10 + contract (small 5 x 1.00) 5.00
    #        = 9.20 variable + 12 fixed = $21.20/day
    t = plan["totals"]
    assert t["optimal_usd_per_day"] == pytest.approx(21.20, abs=CENT)
    assert t["fixed_usd_per_day"] == pytest.approx(12.0, abs=CENT)
    assert t["baseline_usd_per_day"] == pytest.approx(105.0, abs=CENT)
    assert t["overspend_ratio"] == pytest.approx(105 / 21.20, rel=1e-9)  # 4.95x
    # Support 0.10 + 1.00 + 1.00 = 2.10; Engineering 1.00 + 1.00 = 2.00 (fixed cost is not a role's);
    # Legal 0.10 + 5.00 = 5.10.
    assert department_usd(plan) == pytest.approx({"Support": 2.10, "Engineering": 2.00, "Legal": 5.10}, abs=CENT)


def test_latency_and_context_limits_show_in_the_decisions():
    plan = solve("--explain")
    decisions = {d["task"]: d for d in plan["decisions"]}
    chat = decisions["Live chat intent"]
    # open-70b ($0.50) would beat small ($1.00) but answers in 2000 ms > 1000 ms; large (3000 ms) too.
    assert "open-70b: too slow for the task's latency limit" in chat["excluded_cheaper"]
    assert chat["binding"] == ["capacity tuned-7b"]
    assert chat["cheapest_eligible"] == "tuned-7b"
    contract = decisions["Contract review"]
    # open-70b (5 x 0.50 = $2.50) has the quality (92 >= 90) but a 32k window < the 45k prompt.
    assert "open-70b: context window too small for the prompt" in contract["excluded_cheaper"]
    # Raising the bar to 91 leaves only large (small is 90): 5 x (5.00 - 1.00) = $20/day.
    assert contract["threshold_plus_one_usd_per_day"] == pytest.approx(20.0, abs=CENT)
    assert contract["fallbacks"] == ["large"]
    commit = decisions["Commit summary"]
    assert "open-70b: not served from an allowed region" in commit["excluded_cheaper"]


def test_residency_moves_legal_to_the_only_eu_model_that_fits():
    plan = solve(policy="residency")
    # Legal may use eu only: Contract review loses small (us), open-70b is eu but its window is too
    # small, so large: 5 Mtok x $5 = $25 instead of $5 -> 21.20 + 20 = $41.20/day.
    assert shares(plan, "Contract review") == pytest.approx({"large": 1.0}, abs=1e-6)
    # Document tagging carries its own region column (eu) and stays where it was.
    assert shares(plan, "Document tagging") == pytest.approx({"tuned-7b": 1.0}, abs=1e-6)
    assert plan["totals"]["optimal_usd_per_day"] == pytest.approx(41.20, abs=CENT)
    assert department_usd(plan)["Legal"] == pytest.approx(25.10, abs=CENT)
    # 100 of 6,000 calls stay on the baseline model.
    assert plan["totals"]["share_routed_away_from_baseline"] == pytest.approx(5900 / 6000, rel=1e-9)


def test_vendor_volume_cap_splits_a_task():
    plan = solve(policy="vendor-cap")
    # Mistral may carry 10% of 6,000 calls = 600. Its only task is Reply summary (1,000 calls, 2 Mtok),
    # so 40% of it (400 calls, 0.8 Mtok) moves to the next cheapest, small: 0.8 x (1.00 - 0.50) = +$0.40.
    assert shares(plan, "Reply summary") == pytest.approx({"open-70b": 0.6, "small": 0.4}, abs=1e-9)
    assert plan["totals"]["optimal_usd_per_day"] == pytest.approx(21.60, abs=CENT)
    mistral = constraint(plan, "volume_share", "Mistral")
    assert mistral["binding"] and mistral["used"] == pytest.approx(0.10, abs=1e-9)
    # Anthropic: chat 1.00 + reply summary 0.4 x 2.00 = 0.80 + commit 1.00 + contract 5.00 = $7.80
    # of $21.60 = 36.1%, under its 50% spend cap.
    anthropic = constraint(plan, "spend_share", "Anthropic")
    assert not anthropic["binding"]
    assert anthropic["used"] == pytest.approx(7.80 / 21.60, abs=1e-9)


def test_single_mode_sends_each_task_to_one_model():
    plan = solve("--mode", "single", "--time-limit", "30", policy="vendor-cap")
    # Reply summary cannot be split 60/40: wholly on open-70b breaks the 600-call cap, so wholly on
    # small: 2 Mtok x $1.00 = $2.00 instead of $1.00 -> 21.20 + 1.00 = $22.20/day.
    assert shares(plan, "Reply summary") == pytest.approx({"small": 1.0}, abs=1e-6)
    assert plan["totals"]["optimal_usd_per_day"] == pytest.approx(22.20, abs=CENT)
    assert plan["solve"]["status"] == "optimal" and plan["solve"]["mip_gap"] == pytest.approx(0.0, abs=1e-6)
    assert all(a["share"] == 1.0 for a in plan["assignments"])
    assert plan["settings"]["time_limit_seconds"] == 30


def test_budget_with_quality_objective():
    plan = solve("--objective", "quality", policy="budget")
    # Support ($15): its best models fit. tuned-7b's 2 Mtok go where leaving it loses most quality:
    # chat (96 -> small 92: 4 x 2,000 calls), triage (96 -> large 95: 1 x 1,000); tagging (1 x 500)
    # goes to large. Support = 0.10 + 0.10 + reply summary on large 2 x 5 = $10.20.
    # Legal ($35): tagging on large $5 + contract review on large (94) $25 = $30.
    # Engineering ($3): coder-34b $1 + commit summary on small $1 leaves $1. Commit summary to large
    # buys 5 points x 1,000 calls for $4 (1,250 per $); code generation to large 2 x 400 for $49
    # (16 per $). So $1 buys 1/4 of commit summary on large.
    assert shares(plan, "Commit summary") == pytest.approx({"small": 0.75, "large": 0.25}, abs=1e-6)
    assert shares(plan, "Code generation") == pytest.approx({"coder-34b": 1.0}, abs=1e-6)
    assert shares(plan, "Document tagging") == pytest.approx({"large": 1.0}, abs=1e-6)
    assert department_usd(plan) == pytest.approx({"Support": 10.20, "Engineering": 3.00, "Legal": 30.00}, abs=1e-4)
    # Total 10.20 + 3.00 + 30.00 + 12 fixed = $55.20/day.
    assert plan["totals"]["optimal_usd_per_day"] == pytest.approx(55.20, abs=1e-4)
    # Quality: (1,000x96 + 2,000x96 + 1,000x95 + 500x95 + 400x90 + 1,000x(0.75x90 + 0.25x95) + 100x94) / 6,000
    #        = 567,150 / 6,000 = 94.525
    assert plan["totals"]["plan_quality"] == pytest.approx(94.525, abs=1e-6)
    for department, used in (("Support", 10.20), ("Legal", 30.00)):
        row = constraint(plan, "budget", department)
        assert not row["binding"] and row["used"] == pytest.approx(used, abs=1e-4)
    engineering = constraint(plan, "budget", "Engineering")
    assert engineering["binding"] and engineering["used"] == pytest.approx(3.00, abs=1e-6)


def test_infeasible_budget_names_the_constraint_to_relax():
    result = run(policy="infeasible")
    # Legal's cheapest plan: tagging on tuned-7b $0.10 + contract review on small $5.00 = $5.10;
    # against a $4 budget it is short by $1.10/day.
    assert result.exit_code == 2
    assert "No routing plan satisfies every constraint" in result.output
    assert re.search(r"budget of Legal: short by \$1\.10?/day \(limit \$4(\.00)?/day\)", result.output), result.output
    assert "Traceback" not in result.output


def test_highspy_direct_gives_the_same_plan():
    plan = solve("--solver", "highspy")
    assert "(direct)" in plan["settings"]["solver"]
    assert plan["totals"]["optimal_usd_per_day"] == pytest.approx(21.20, abs=CENT)
    assert shares(plan, "Live chat intent") == pytest.approx({"small": 1.0}, abs=1e-6)
