"""The timed paths the benchmark compares. Each function runs one path on one case and mode and
returns a dict of stage seconds and the objective; `run.py` calls each in its own subprocess so that
peak memory is per run.

- shipped:        router-opt's own path (`plan.optimize_inputs` with solver="auto", no decision records,
                  as the CLI without --explain), stages timed by wrapping the functions plan.py calls,
                  then the JSON report written to a file;
- pulp_forced:    the same with solver="highs" (the same pruned program, through PuLP + HiGHS);
- highspy_direct: every eligible pair (no dominance pruning) as sparse arrays straight to highspy:
                  the practical limit for this LP;
- naive_pulp:     the LP a typical first attempt writes: nested loops over tasks x models with dict
                  look-ups, PuLP variables and `lpSum` rows, solved with `pulp.HiGHS(msg=False)`;
- presolve_off:   what-if, not shipped: the shipped (pruned) program to highspy with HiGHS presolve off;
- warm_sifting:   what-if, not shipped: benchmarks/sifting.py, the same program solved by column sifting
                  warm-started from the uncoupled closed form (presolve off).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

TOKENS_PER_MTOK = 1_000_000


def _load(case: dict):
    from router_opt.plan import load_inputs

    started = time.perf_counter()
    inputs = load_inputs(case["catalog"], case["workload"], case["policy"])
    return inputs, time.perf_counter() - started


def shipped(case: dict, mode: str, solver: str = "auto", output: str | None = None) -> dict:
    """load_inputs -> optimize_inputs (build_problem, solve, build_result) -> render JSON -> write."""
    from router_opt import plan
    from router_opt.io import write_atomic
    from router_opt.report import render

    seconds: dict[str, float] = {}
    captured: dict[str, object] = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            value = function(*args, **kwargs)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
            captured[name] = value
            return value

        return wrapper

    originals = {name: getattr(plan, name) for name in ("build_problem", "solve", "build_result")}
    for name, function in originals.items():
        setattr(plan, name, timed(name, function))
    try:
        total_started = time.perf_counter()
        inputs, load_seconds = _load(case)
        # As `router-opt optimize -f json` does without --explain: no decision records.
        result = plan.optimize_inputs(inputs, mode=mode, solver=solver, decisions=False)
        render_started = time.perf_counter()
        text = render(result, "json")  # UTF-8 bytes
        output_path = Path(output) if output else Path(case["directory"]) / f"shipped-{solver}-{mode}.json"
        write_atomic(output_path, text)
        written = time.perf_counter()
    finally:
        for name, function in originals.items():
            setattr(plan, name, function)
    missing = {"build_problem", "solve", "build_result"} - set(seconds)
    if missing:
        raise RuntimeError(f"router_opt.plan no longer calls {sorted(missing)}: update benchmarks/paths.py")
    solution = captured["solve"]
    binding = [c for c in result.constraints if c.binding]
    return {
        "load": load_seconds,
        "frame": seconds["build_problem"],
        "build": solution.build_seconds,
        "solve": solution.solve_seconds,
        "solve_call": seconds["solve"],
        "report": seconds["build_result"] + (written - render_started),
        "result": seconds["build_result"],
        "render": written - render_started,
        "total": written - total_started,
        "objective": result.totals.optimal_usd_per_day,
        "solver": result.settings.solver,
        "method": solution.method,
        "status": result.solve.status,
        "pairs": result.solve.eligible_pairs,
        "columns": result.solve.candidate_pairs,
        "capacity_rows": sum(1 for c in result.constraints if c.kind == "capacity"),
        "binding_capacity": sum(1 for c in binding if c.kind == "capacity"),
        "binding": len(binding),
        "coupling_rows": len(result.constraints),
        "split_tasks": sum(1 for t in result.tasks if t.models > 1),
        "json_mib": len(text) / 2**20,
    }


def pulp_forced(case: dict, mode: str) -> dict:
    return shipped(case, mode, solver="highs")


def highspy_direct(case: dict, mode: str) -> dict:
    """All eligible pairs, no dominance pruning, sparse arrays passed to highspy (HiGHS's own presolve on)."""
    from router_opt.engine import BACKENDS, build_program
    from router_opt.frame import Mode, build_problem

    inputs, load_seconds = _load(case)
    started = time.perf_counter()
    # Mode(...) matters: build_problem compares `mode is Mode.BLENDED`, so the string 'blended' would
    # silently give the strict program.
    problem = build_problem(inputs.catalog, inputs.workload, inputs.policy, mode=Mode(mode))
    framed = time.perf_counter()
    program = build_program(problem, candidates=problem.eligible)
    built = time.perf_counter()
    raw = BACKENDS["highspy"].solve(program, None)
    solved = time.perf_counter()
    if raw.status != "optimal":
        raise RuntimeError(f"highspy direct: status {raw.status} ({raw.solver})")
    return {
        "load": load_seconds,
        "frame": framed - started,
        "build": built - framed,
        "solve": solved - built,
        "total": load_seconds + solved - started,
        "objective": float(program.col_cost @ raw.x),
        "solver": raw.solver,
        "columns": program.n_cols,
        "rows": program.n_rows,
    }


def presolve_off(case: dict, mode: str) -> dict:
    """What-if, not shipped: the program `solve(solver="auto")` builds (dominance-pruned), passed to
    highspy exactly as the highspy backend does, but with HiGHS's presolve switched off."""
    import highspy

    from router_opt.engine import build_program, dominated_candidates
    from router_opt.frame import Mode, build_problem

    inputs, load_seconds = _load(case)
    started = time.perf_counter()
    problem = build_problem(inputs.catalog, inputs.workload, inputs.policy, mode=Mode(mode))
    framed = time.perf_counter()
    program = build_program(problem, candidates=problem.eligible & ~dominated_candidates(problem))
    built = time.perf_counter()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("presolve", "off")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = program.n_cols, program.n_rows
    lp.col_cost_ = program.col_cost
    lp.col_lower_ = program.lower() if hasattr(program, "lower") else np.zeros(program.n_cols)
    lp.col_upper_ = np.where(np.isinf(program.col_upper), highspy.kHighsInf, program.col_upper)
    lp.row_lower_ = np.where(np.isinf(program.row_lower), -highspy.kHighsInf, program.row_lower)
    lp.row_upper_ = np.where(np.isinf(program.row_upper), highspy.kHighsInf, program.row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = program.row_start
    lp.a_matrix_.index_ = program.row_index
    lp.a_matrix_.value_ = program.row_value
    highs.passModel(lp)
    highs.run()
    solved = time.perf_counter()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"presolve off: {highs.modelStatusToString(highs.getModelStatus())}")
    x = np.asarray(highs.getSolution().col_value)
    return {
        "load": load_seconds,
        "frame": framed - started,
        "build": built - framed,
        "solve": solved - built,
        "total": load_seconds + solved - started,
        "objective": float(program.col_cost @ x),
        "solver": "HiGHS (direct, presolve off)",
        "columns": program.n_cols,
        "iterations": int(highs.getInfo().simplex_iteration_count),
    }


def warm_sifting(case: dict, mode: str) -> dict:
    """What-if, not shipped: benchmarks/sifting.py (closed-form warm start + column sifting, presolve off)."""
    from sifting import warm_sifting as run

    from router_opt.frame import Mode, build_problem

    inputs, load_seconds = _load(case)
    started = time.perf_counter()
    problem = build_problem(inputs.catalog, inputs.workload, inputs.policy, mode=Mode(mode))
    framed = time.perf_counter()
    try:
        figures = run(problem)
    except NotImplementedError as exc:  # budgets, vendor caps: the prototype has capacity rows only
        return {"skipped": str(exc)}
    return figures | {
        "load": load_seconds,
        "frame": framed - started,
        "total": load_seconds + (framed - started) + figures["build"] + figures["solve"],
        "solver": "HiGHS (direct, warm-started sifting, presolve off)",
    }


def naive_pulp(case: dict, mode: str) -> dict:
    """The first attempt: dicts of prices and qualities, nested loops, PuLP variables and lpSum rows.
    Strict: a variable only where the model meets the task's threshold; blended: wherever the model
    rates the task type, plus a quality row per task. A capacity row per capacitated model."""
    import pulp

    inputs, load_seconds = _load(case)
    catalog, workload, policy = inputs.catalog, inputs.workload, inputs.policy
    started = time.perf_counter()

    prices = {m.id: (m.input_usd_per_mtok, m.output_usd_per_mtok) for m in catalog.models}
    quality = {m.id: dict(m.quality) for m in catalog.models}
    capacity = {m.id: m.capacity_mtok_per_day for m in catalog.models if m.capacity_mtok_per_day is not None}
    tasks = {}
    for t, demand in enumerate(workload.tasks):
        tasks[t] = {
            "type": demand.task_type,
            "volume": demand.invocations_per_day * demand.headcount,
            "input": demand.input_tokens,
            "output": demand.output_tokens,
            "threshold": policy.threshold_for(demand),
        }

    cost, qual, keys = {}, {}, []
    for t, task in tasks.items():
        for m in prices:  # noqa: PLC0206 - the naive path looks things up on purpose
            q = quality[m].get(task["type"])
            if q is None or (mode == "strict" and q < task["threshold"]):
                continue
            p_in, p_out = prices[m]
            cost[t, m] = task["volume"] * (task["input"] * p_in + task["output"] * p_out) / TOKENS_PER_MTOK
            qual[t, m] = q
            keys.append((t, m))

    prob = pulp.LpProblem("naive_routing", pulp.LpMinimize)
    x = prob.add_variable_dicts("x", keys, lowBound=0, upBound=1)
    prob += pulp.lpSum(cost[k] * x[k] for k in keys)
    for t, task in tasks.items():
        prob += pulp.lpSum(x[t, m] for m in prices if (t, m) in x) == 1, f"assign_{t}"
        if mode == "blended":
            prob += pulp.lpSum(qual[t, m] * x[t, m] for m in prices if (t, m) in x) >= task["threshold"], f"quality_{t}"
    for m, cap in capacity.items():
        terms = [
            (tasks[t]["volume"] * (tasks[t]["input"] + tasks[t]["output"]) / TOKENS_PER_MTOK) * x[t, m]
            for t in tasks
            if (t, m) in x
        ]
        if terms:
            prob += pulp.lpSum(terms) <= cap, f"capacity_{m}"
    built = time.perf_counter()
    prob.solve(pulp.HiGHS(msg=False))
    solved = time.perf_counter()
    status = pulp.LpStatus[prob.status]
    if status != "Optimal":
        raise RuntimeError(f"naive PuLP: status {status}")
    return {
        "load": load_seconds,
        "build": built - started,
        "solve": solved - built,
        "total": load_seconds + solved - started,
        "objective": float(pulp.value(prob.objective)),
        "solver": f"HiGHS via PuLP {pulp.__version__} (naive build)",
        "columns": len(keys),
    }


def profile(case: dict, mode: str, top: int = 12) -> dict:
    """The shipped path under cProfile: the functions with the most own time and the most cumulative time."""
    import cProfile
    import io
    import pstats

    import router_opt.io
    import router_opt.plan
    import router_opt.report  # noqa: F401

    profiler = cProfile.Profile()
    profiler.enable()
    figures = shipped(case, mode, output=str(Path(case["directory"]) / f"profile-{mode}.json"))
    profiler.disable()
    stats = pstats.Stats(profiler)

    def rows(sort_key: str, only: str | None = None) -> list[dict]:
        stats.sort_stats(sort_key)
        out = []
        for func in stats.fcn_list:
            if only is not None and only not in func[0]:
                continue
            _cc, nc, tt, ct, _ = stats.stats[func]
            filename, line, name = func
            if filename == "~":  # a builtin: its name says it all
                out.append({"function": name, "calls": nc, "own": tt, "cumulative": ct})
                if len(out) >= top:
                    break
                continue
            where = filename
            for marker in ("site-packages/", "/work/main/", "/source/", "lib/python3"):
                if marker in where:
                    where = where.split(marker, 1)[1]
                    break
            out.append({"function": f"{where}:{line}({name})", "calls": nc, "own": tt, "cumulative": ct})
            if len(out) >= top:
                break
        return out

    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
    (Path(case["directory"]) / f"profile-{mode}.txt").write_text(text.getvalue(), encoding="utf-8")
    return {
        "total": figures["total"],
        "stages": {k: figures[k] for k in ("load", "frame", "build", "solve", "result", "render")},
        "by_own_time": rows("tottime"),
        "by_cumulative": rows("cumulative", only="router_opt/"),
    }


PATHS = {
    "shipped": shipped,
    "pulp_forced": pulp_forced,
    "highspy_direct": highspy_direct,
    "naive_pulp": naive_pulp,
    "presolve_off": presolve_off,
    "warm_sifting": warm_sifting,
    "profile": profile,
}


def objectives_agree(values: list[float], rel: float = 1e-6) -> bool:
    finite = [v for v in values if v is not None and np.isfinite(v)]
    if len(finite) < 2:
        return True
    reference = finite[0]
    return all(abs(v - reference) <= rel * max(1.0, abs(reference)) for v in finite)


def sweeps(case: dict, mode: str, points: int = 5) -> dict:
    """Frontier (`points` bars over the servable range) and trajectory (`points` years from the
    catalog's price year, bundled price table) sweeps, each run warm-started (the shipped default:
    each point starts the decomposition from the previous point's coupling prices), cold, and (on
    cases small enough) with the full LP through highspy. Seconds per point, and whether every
    curve agrees with the first to 1e-9 relative."""
    from router_opt.analyses.frontier import frontier
    from router_opt.analyses.trajectory import trajectory

    inputs, _ = _load(case)
    # Sweeping the bar needs rows without their own bar: take them away (the benchmark's rows all have one).
    unbarred = inputs.workload.model_copy(
        update={"tasks": tuple(t.model_copy(update={"min_quality": None}) for t in inputs.workload.tasks)}
    )
    import dataclasses

    swept = dataclasses.replace(inputs, workload=unbarred)
    base_year = inputs.catalog.prices_as_of.year
    years = range(base_year, base_year + points)
    runs = {
        "frontier": lambda solver, warm: [
            p.optimal_usd_per_day
            for p in frontier(swept, points=points, mode=mode, solver=solver, warm_start=warm).points
        ],
        "trajectory": lambda solver, warm: [
            r.optimal_usd_per_day
            for r in trajectory(inputs, years=years, mode=mode, solver=solver, warm_start=warm).rows
        ],
    }
    variants = [("warm", "auto", True), ("cold", "auto", False)]
    if len(inputs.workload.tasks) <= 10_000:
        variants.append(("full_lp", "highspy", False))
    figures: dict = {"points": points}
    for sweep, run in runs.items():
        curves = {}
        for name, solver, warm in variants:
            started = time.perf_counter()
            curves[name] = run(solver, warm)
            figures[f"{sweep}_{name}_s_per_point"] = (time.perf_counter() - started) / max(1, len(curves[name]))
        reference = curves["warm"]
        figures[f"{sweep}_points"] = len(reference)
        figures[f"{sweep}_agree"] = all(
            len(c) == len(reference) and all(abs(a - b) <= 1e-9 * max(1.0, abs(b)) for a, b in zip(c, reference))
            for c in curves.values()
        )
        figures[f"{sweep}_usd_per_day"] = [reference[0], reference[-1]]
    return figures


PATHS["sweeps"] = sweeps
