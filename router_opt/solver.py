"""RoutingProblem -> PuLP linear program -> shares. The only module that imports pulp.

Variables x[t, m] >= 0 exist only for eligible (task, model) pairs; each task's shares sum to 1; in
blended mode each task's share-weighted quality meets its threshold. The objective is the plan's
$/day. The LP is built from flat (variable, coefficient) lists, one constraint per task, never by
looping over a task x model grid with dictionary look-ups.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from router_opt.errors import SolverError
from router_opt.frame import Mode, RoutingProblem

# Shares below this are solver noise (simplex leaves 1e-12-sized values); they are set to zero.
SHARE_EPSILON = 1e-9

SOLVERS = ("auto", "highs", "cbc")


@dataclass(frozen=True)
class Solution:
    """What the solver decided, with enough about the run to reproduce it."""

    shares: np.ndarray
    """T x M share of each task's daily volume sent to each model (rows sum to 1)."""
    objective_usd_per_day: float
    """The solver's objective: the plan's cost per day."""
    solver: str
    """Solver that produced the plan, with its version."""
    status: str
    """Solver status as PuLP reports it."""
    build_seconds: float
    solve_seconds: float


def _pick_solver(name: str):
    import pulp

    if name not in SOLVERS:
        raise SolverError(f"unknown solver '{name}'; choose one of {', '.join(SOLVERS)}")
    if name in {"auto", "highs"}:
        highs = pulp.HiGHS(msg=False)
        if highs.available():
            return highs, f"HiGHS {metadata.version('highspy')} via PuLP {pulp.__version__}"
        if name == "highs":
            raise SolverError("HiGHS is not available: install highspy (pip install highspy)")
    with warnings.catch_warnings():
        # PuLP 3.x warns that bundled CBC goes away in 4.0; the dependency pin keeps us on 3.x.
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False), f"CBC (bundled with PuLP {pulp.__version__})"


def solve(problem: RoutingProblem, solver: str = "auto") -> Solution:
    """Solve the routing LP for `problem` and return the optimal shares."""
    import pulp

    started = time.perf_counter()
    task_index, model_index = np.nonzero(problem.eligible)  # row-major: grouped by task
    cost = problem.usd_per_day[task_index, model_index]

    prob = pulp.LpProblem("routing", pulp.LpMinimize)
    shares = [prob.add_variable(f"x{k}", lowBound=0) for k in range(task_index.size)]
    prob.setObjective(pulp.LpAffineExpression(zip(shares, cost.tolist())))

    starts = np.flatnonzero(np.r_[True, task_index[1:] != task_index[:-1]])
    stops = np.r_[starts[1:], task_index.size]
    quality = problem.quality[task_index, model_index].tolist()
    thresholds = problem.tasks["min_quality"].to_numpy()
    for start, stop in zip(starts.tolist(), stops.tolist()):
        t = int(task_index[start])
        block = shares[start:stop]
        prob.addConstraint(
            pulp.LpConstraint(pulp.LpAffineExpression((x, 1.0) for x in block), pulp.LpConstraintEQ, f"assign_{t}", 1.0)
        )
        if problem.mode is Mode.BLENDED:
            prob.addConstraint(
                pulp.LpConstraint(
                    pulp.LpAffineExpression(zip(block, quality[start:stop])),
                    pulp.LpConstraintGE,
                    f"quality_{t}",
                    float(thresholds[t]),
                )
            )
    built = time.perf_counter()

    engine, engine_name = _pick_solver(solver)
    try:
        prob.solve(engine)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"{engine_name} failed: {exc}") from None
    solved = time.perf_counter()

    status = pulp.LpStatus[prob.status]
    # After a failed solve PuLP still fills in values: only an Optimal status is a plan.
    if status != "Optimal":
        raise SolverError(f"{engine_name} returned status '{status}' for a problem router-opt checked as feasible")

    values = np.array([x.varValue or 0.0 for x in shares], dtype=float)
    values[values < SHARE_EPSILON] = 0.0
    dense = np.zeros(problem.eligible.shape, dtype=float)
    dense[task_index, model_index] = np.minimum(values, 1.0)
    return Solution(
        shares=dense,
        objective_usd_per_day=float(pulp.value(prob.objective) or 0.0),
        solver=engine_name,
        status=status,
        build_seconds=built - started,
        solve_seconds=solved - built,
    )


def cheapest_eligible(problem: RoutingProblem) -> np.ndarray:
    """The closed-form strict-mode optimum without coupling constraints: each task wholly on its
    cheapest eligible model (ties: higher quality, then catalog order). The LP's test oracle."""
    cost = np.where(problem.eligible, problem.usd_per_day, np.inf)
    quality = np.nan_to_num(problem.quality, nan=-np.inf)
    # lexsort sorts by the last key first: cost, then -quality, then model position.
    positions = np.broadcast_to(np.arange(cost.shape[1]), cost.shape)
    order = np.lexsort((positions, -quality, cost), axis=1)
    chosen = order[:, 0]
    shares = np.zeros(cost.shape, dtype=float)
    shares[np.arange(cost.shape[0]), chosen] = 1.0
    return shares
