"""LP/MIP solvers behind one protocol. Each backend declares what it can do (`Capabilities`) and
answers with a `Status`; the engine picks a backend by name or by capability, never by testing
names. A new backend (OR-Tools PDLP, cuOpt) is one class here plus one line in `BACKENDS`.

The only module that imports pulp and highspy.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import metadata
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from router_opt.engine.program import LinearProgram


class Status(StrEnum):
    """How a solve ended (the values are what a saved plan's `solve.status` says)."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    """Stopped at the time limit with a feasible plan that may not be optimal (see the MIP gap)."""
    INFEASIBLE = "infeasible"
    FAILED = "failed"

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.TIME_LIMIT)


@dataclass(frozen=True)
class Capabilities:
    mip: bool
    """Solves programs with integer columns."""
    duals: bool
    """Returns row duals of an LP."""
    basis_start: bool
    """Starts from a given basis (what the decomposition's restricted LPs rely on)."""
    time_limit: bool = True
    add_columns: bool = False
    """Keeps a solved LP open (`open`) to add columns and solve again from where it ended (the
    decomposition prices columns out in rounds instead of handing the LP all of them)."""


@dataclass(frozen=True)
class RawSolution:
    status: Status
    x: np.ndarray | None
    row_dual: np.ndarray | None
    mip_gap: float | None
    solver: str
    """The solver's name and version as a report prints it."""
    basis: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None
    """When the solve was asked to keep it (`keep_basis`): a function giving the final basis as
    (column, row) status codes (BASIS_LOWER, BASIS_BASIC, BASIS_UPPER, ...), read only if called (it
    costs about 0.2 s per 500,000 columns): a later solve of a similar program starts there."""


class Backend(Protocol):
    name: str
    capabilities: Capabilities

    def available(self) -> bool:
        """Whether its package is installed."""

    def label(self) -> str:
        """Its name and version as a report prints it."""

    def solve(
        self,
        program: LinearProgram,
        time_limit_seconds: float | None = None,
        start_basis: tuple[np.ndarray, np.ndarray] | None = None,
        presolve: bool = True,
        keep_basis: bool = False,
    ) -> RawSolution:
        """Solve `program`; `start_basis` = (basic columns, basic rows) masks, or (column, row) status
        codes as a `RawSolution.basis` holds them, where supported; `keep_basis`: return the final
        basis where supported."""


class LPSession(Protocol):
    """An LP held open by its solver: solve, add columns, solve again from the basis it ended on."""

    def run(self, keep_basis: bool = False) -> RawSolution:
        """Solve (again); `keep_basis` as in `Backend.solve`."""

    def add_columns(
        self, cost: np.ndarray, upper: np.ndarray, start: np.ndarray, index: np.ndarray, value: np.ndarray
    ) -> None:
        """Append columns (lower bound 0), their entries column-wise: column c's rows are
        index[start[c]:start[c + 1]]. They start non-basic at 0, so the last plan stays feasible.
        Raises RuntimeError where the solver refuses them (then none was added)."""


class OpenBackend(Backend, Protocol):
    """A backend whose capabilities include `add_columns`."""

    def open(
        self,
        program: LinearProgram,
        time_limit_seconds: float | None = None,
        start_basis: tuple[np.ndarray, np.ndarray] | None = None,
        presolve: bool = True,
    ) -> LPSession:
        """`program` handed to the solver and held open; `start_basis` and `presolve` as in `solve`."""


@functools.cache
def version(distribution: str) -> str:
    """An installed package's version, read once: `metadata.version` parses its METADATA file on
    every call (a decomposition names the solver after each of its several solves)."""
    return metadata.version(distribution)


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


class HighspyBackend:
    """HiGHS through its own Python API: the program's arrays handed over as they are."""

    name = "highspy"
    capabilities = Capabilities(mip=True, duals=True, basis_start=True, add_columns=True)

    def available(self) -> bool:
        return _installed("highspy")

    def label(self) -> str:
        return f"HiGHS {version('highspy')} (direct)"

    def solve(self, program, time_limit_seconds=None, start_basis=None, presolve=True, keep_basis=False) -> RawSolution:
        """A `start_basis` starts the dual simplex there (presolve is then off, since it would
        discard the basis): the decomposition passes the plan it expects to be nearly optimal, so
        HiGHS only has to make the few changes left, or the basis its previous round ended on."""
        return self.open(program, time_limit_seconds, start_basis, presolve).run(keep_basis)

    def open(self, program, time_limit_seconds=None, start_basis=None, presolve=True) -> HighspySession:
        """`program` handed to HiGHS and held there (see `LPSession`); `start_basis` and `presolve`
        as in `solve`. HiGHS skips its presolve once it holds a basis ("useful basis so presolve
        not used"), so a run after `add_columns` goes on from where the last one ended."""
        import highspy

        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        if time_limit_seconds is not None:
            highs.setOptionValue("time_limit", float(time_limit_seconds))
        if start_basis is not None or not presolve:
            highs.setOptionValue("presolve", "off")
        highs.passModel(_highs_lp(highspy, program))
        if start_basis is not None:
            highs.setBasis(_highs_basis(highspy, start_basis))
        return HighspySession(highs, is_mip=bool(program.col_integer.any()))


class HighspySession:
    """A HiGHS instance holding one LP (see `LPSession`)."""

    def __init__(self, highs, is_mip: bool):
        self.highs = highs
        self.is_mip = is_mip

    def run(self, keep_basis: bool = False) -> RawSolution:
        import highspy

        self.highs.run()
        answer = _answer(highspy, self.highs, self.is_mip)
        if keep_basis and answer.status is Status.OPTIMAL:
            answer = replace(answer, basis=functools.partial(_final_basis, self.highs))
        return answer

    def add_columns(self, cost, upper, start, index, value) -> None:
        import highspy

        n = cost.size
        before = self.highs.getNumCol()
        status = self.highs.addCols(
            n,
            cost,
            np.zeros(n),
            np.where(np.isinf(upper), highspy.kHighsInf, upper),
            index.size,
            start[:-1].astype(np.int32),
            index.astype(np.int32),
            value,
        )
        # A refusal (a row named twice in a column, say) would leave the LP without the columns the
        # caller counts on: say so rather than let it read a solution of another shape.
        if status == highspy.HighsStatus.kError or self.highs.getNumCol() != before + n:
            raise RuntimeError(f"HiGHS refused {n:,} added columns ({status})")


def _answer(highspy, highs, is_mip: bool) -> RawSolution:
    name = HighspyBackend().label()
    status = highs.getModelStatus()
    statuses = highspy.HighsModelStatus
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == statuses.kOptimal:
        code = Status.OPTIMAL
    elif status in (statuses.kInfeasible, statuses.kUnboundedOrInfeasible):
        return RawSolution(Status.INFEASIBLE, None, None, None, name)
    elif status == statuses.kTimeLimit and has_solution:
        code = Status.TIME_LIMIT
    else:
        return RawSolution(Status.FAILED, None, None, None, f"{name}: {highs.modelStatusToString(status)}")
    solution = highs.getSolution()
    x = np.asarray(solution.col_value, dtype=float)
    duals = None if is_mip else np.asarray(solution.row_dual, dtype=float)
    return RawSolution(code, x, duals, float(info.mip_gap) if is_mip else None, name)


def _highs_lp(highspy, program):
    lp = highspy.HighsLp()
    lp.num_col_ = program.n_cols
    lp.num_row_ = program.n_rows
    lp.col_cost_ = program.col_cost
    lp.col_lower_ = program.lower()
    lp.col_upper_ = np.where(np.isinf(program.col_upper), highspy.kHighsInf, program.col_upper)
    lp.row_lower_ = np.where(np.isinf(program.row_lower), -highspy.kHighsInf, program.row_lower)
    lp.row_upper_ = np.where(np.isinf(program.row_upper), highspy.kHighsInf, program.row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = program.row_start
    lp.a_matrix_.index_ = program.row_index
    lp.a_matrix_.value_ = program.row_value
    if program.col_integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in program.col_integer
        ]
    return lp


# HiGHS's basis status codes (HighsBasisStatus), as `RawSolution.basis` holds them.
BASIS_LOWER, BASIS_BASIC, BASIS_UPPER = 0, 1, 2


def _highs_basis(highspy, start_basis):
    """Masks (True: basic) or status codes. Codes come from another program's basis, so their count
    of basic variables may not fit this one: HiGHS is told it is alien and completes it."""
    # One gather from an object array of the statuses, not a Python conditional per column.
    statuses = np.array(list(highspy.HighsBasisStatus.__members__.values()), dtype=object)
    statuses = statuses[np.argsort([int(s) for s in statuses])]
    basis = highspy.HighsBasis()
    basis.col_status = statuses[start_basis[0].astype(np.intp)].tolist()
    basis.row_status = statuses[start_basis[1].astype(np.intp)].tolist()
    basis.valid = True
    basis.alien = start_basis[0].dtype != bool
    return basis


def _final_basis(highs) -> tuple[np.ndarray, np.ndarray]:
    basis = highs.getBasis()
    return _status_codes(basis.col_status), _status_codes(basis.row_status)


def _status_codes(statuses) -> np.ndarray:
    return np.fromiter(map(int, statuses), dtype=np.int8, count=len(statuses))


class PulpBackend:
    """The program written out through PuLP, for HiGHS (PuLP's interface) or CBC (bundled)."""

    capabilities = Capabilities(mip=True, duals=True, basis_start=False)

    def __init__(self, name: str, engine: str):
        self.name = name
        self.engine = engine

    def available(self) -> bool:
        return _installed("pulp") and (self.engine != "highs" or _installed("highspy"))

    def label(self) -> str:
        import pulp

        if self.engine == "highs":
            return f"HiGHS {version('highspy')} via PuLP {pulp.__version__}"
        return f"CBC (bundled with PuLP {pulp.__version__})"

    def solve(self, program, time_limit_seconds=None, start_basis=None, presolve=True, keep_basis=False) -> RawSolution:
        import pulp

        prob, columns, constraints = _pulp_problem(pulp, program)
        solver, name = self._solver(pulp, time_limit_seconds)
        try:
            prob.solve(solver)
        except pulp.PulpSolverError as exc:
            return RawSolution(Status.FAILED, None, None, None, f"{name}: {exc}")
        # After a failed solve PuLP still fills in values: only the status says whether they mean anything.
        status = pulp.LpStatus[prob.status]
        if status == "Infeasible":
            return RawSolution(Status.INFEASIBLE, None, None, None, name)
        if status != "Optimal":
            return RawSolution(Status.FAILED, None, None, None, f"{name}: status {status}")
        is_mip = bool(program.col_integer.any())
        gap = None
        code = Status.OPTIMAL
        if is_mip and self.engine == "highs":
            gap = float(prob.solverModel.getInfo().mip_gap)
            if prob.solverModel.getModelStatus().name == "kTimeLimit":
                code = Status.TIME_LIMIT
        elif is_mip:
            gap = 0.0 if prob.sol_status == pulp.LpSolutionOptimal else None
            if prob.sol_status != pulp.LpSolutionOptimal:
                code = Status.TIME_LIMIT
        x = np.array([c.varValue or 0.0 for c in columns], dtype=float)
        duals = None if is_mip else np.array([c.pi if c.pi is not None else 0.0 for c in constraints], dtype=float)
        return RawSolution(code, x, duals, gap, name)

    def _solver(self, pulp, time_limit_seconds):
        if self.engine == "highs":
            return pulp.HiGHS(msg=False, timeLimit=time_limit_seconds), self.label()
        with warnings.catch_warnings():
            # PuLP 3.x warns that bundled CBC goes away in 4.0; the dependency pin keeps us on 3.x.
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_seconds)
        return solver, self.label()


def _pulp_problem(pulp, program):
    prob = pulp.LpProblem("routing", pulp.LpMinimize)
    columns = [
        prob.add_variable(
            f"c{k}",
            lowBound=lower,
            upBound=None if np.isinf(upper) else float(upper),
            cat=pulp.LpInteger if integer else pulp.LpContinuous,
        )
        for k, (lower, upper, integer) in enumerate(
            zip(program.lower().tolist(), program.col_upper.tolist(), program.col_integer.tolist())
        )
    ]
    costs = program.col_cost.tolist()
    prob.setObjective(pulp.LpAffineExpression([(columns[k], c) for k, c in enumerate(costs) if c != 0]))
    start, index, value = program.row_start.tolist(), program.row_index.tolist(), program.row_value.tolist()
    constraints = []
    for r, (lower, upper) in enumerate(zip(program.row_lower.tolist(), program.row_upper.tolist())):
        expr = pulp.LpAffineExpression(
            [(columns[c], v) for c, v in zip(index[start[r] : start[r + 1]], value[start[r] : start[r + 1]])]
        )
        if lower == upper:
            constraint = pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", lower)
        elif np.isinf(upper):
            constraint = pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}", lower)
        else:
            constraint = pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}", upper)
        prob.addConstraint(constraint)
        constraints.append(constraint)
    return prob, columns, constraints


BACKENDS: dict[str, Backend] = {
    "highs": PulpBackend("highs", "highs"),
    "highspy": HighspyBackend(),
    "cbc": PulpBackend("cbc", "cbc"),
}
"""By the name `--solver` takes. `highs` and `cbc` go through PuLP; `highspy` is HiGHS direct."""


def for_decomposition() -> OpenBackend:
    """The first available backend that starts from a given basis and keeps an LP open to add
    columns (`open`): what the decomposition's restricted LPs need."""
    for backend in BACKENDS.values():
        if backend.capabilities.basis_start and backend.capabilities.add_columns and backend.available():
            return backend
    raise RuntimeError("no installed LP solver can start from a basis and add columns: install highspy")
