"""Why no plan exists: the smallest relative loosening of the coupling rows that makes the program
feasible (an elastic copy of it), said in each family's words with the policy line to change."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from router_opt.constraints import CouplingRow, family_of
from router_opt.engine.backends import Backend
from router_opt.engine.program import LinearProgram
from router_opt.errors import RouterOptError
from router_opt.frame import RoutingProblem
from router_opt.models import Policy
from router_opt.validate import policy_locator


class InfeasiblePlanError(RouterOptError):
    """No plan satisfies every constraint; `relaxations` says which to loosen and by how much."""

    def __init__(self, relaxations: list[str]):
        self.relaxations = list(relaxations)
        lines = ["No routing plan satisfies every constraint. The smallest relaxation found (minimum total"]
        lines.append("relative change, from an elastic version of the problem) is:")
        lines += [f"  - {r}" for r in self.relaxations]
        super().__init__("\n".join(lines))


def elastic(program: LinearProgram, scale: np.ndarray) -> LinearProgram:
    """The same rows with a slack column on every coupling row (activity - slack <= rhs),
    minimising the total relative slack."""
    n_coupling = len(program.coupling)
    n = program.n_cols
    counts = np.diff(program.row_start)
    extra = np.zeros(program.n_rows, dtype=np.int64)
    extra[program.first_coupling_row : program.first_coupling_row + n_coupling] = 1
    new_start = np.r_[0, np.cumsum(counts + extra)]
    # Each old entry moves down by the number of slack entries in the rows before it; each coupling
    # row's slack entry goes last in its row.
    entry_row = np.repeat(np.arange(program.n_rows), counts)
    shift = np.r_[0, np.cumsum(extra)][:-1]
    index = np.empty(new_start[-1], dtype=np.int64)
    value = np.empty(new_start[-1])
    moved = np.arange(program.row_index.size) + shift[entry_row]
    index[moved] = program.row_index
    value[moved] = program.row_value
    slack_rows = program.first_coupling_row + np.arange(n_coupling)
    index[new_start[slack_rows + 1] - 1] = n + np.arange(n_coupling)
    value[new_start[slack_rows + 1] - 1] = -1.0
    return replace(
        program,
        col_cost=np.r_[np.zeros(n), 1.0 / scale],
        col_upper=np.r_[program.col_upper, np.full(n_coupling, np.inf)],
        col_integer=np.r_[program.col_integer, np.zeros(n_coupling, dtype=bool)],
        col_lower=None if program.col_lower is None else np.r_[program.col_lower, np.zeros(n_coupling)],
        row_start=new_start,
        row_index=index,
        row_value=value,
        slack_rows=np.arange(n_coupling),
    )


def diagnose(problem: RoutingProblem, program: LinearProgram, backend: Backend) -> list[str]:
    """Which coupling rows to loosen, and by how much, from the elastic program."""
    if not program.coupling:
        return ["no coupling constraint to relax: the tasks' own limits cannot all be met"]
    scale = np.array([family_of(row.kind).elastic_scale(row, problem) for row in program.coupling])
    raw = backend.solve(elastic(program, scale), None)
    if not raw.status.has_plan:
        return ["the elastic problem could not be solved either; check the tasks' limits"]
    slack = raw.x[program.n_cols :]
    where = policy_lines(problem.policy)
    out = []
    for k, row in enumerate(program.coupling):
        s = float(slack[k])
        if s > 1e-9 * max(1.0, scale[k]):
            family = family_of(row.kind)
            out.append(where(row) + family.relaxation(row, s, problem))
    return out or ["the elastic problem needs no relaxation: the infeasibility lies in the tasks' own limits"]


def policy_lines(policy: Policy):
    """For a row set in the policy, `path:line: ` of the setting ('' for one from the catalog or a
    policy without a file): an infeasible plan names the line to change."""
    locate = None

    def where(row: CouplingRow) -> str:
        nonlocal locate
        key = family_of(row.kind).policy_key(row, policy)
        if policy.source_path is None or key is None:
            return ""
        if locate is None:
            locate = policy_locator(policy)
        line, _ = locate(key)
        return f"{policy.source_path}:{line}: " if line is not None else f"{policy.source_path}: "

    return where
