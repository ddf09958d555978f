"""The optimisation engine: the routing program built from a RoutingProblem (program), pairs that
can be dropped (presolve), solvers behind one protocol (backends), the price-and-fix decomposition
(decompose), why no plan exists (diagnose), and the entry point that ties them together (solve).
The coupling rows themselves are written by the constraint families in router_opt.constraints.

Callers import from here; the modules' own names are for the engine and its tests."""

from router_opt.engine.backends import BACKENDS, Backend, Capabilities, RawSolution, Status
from router_opt.engine.diagnose import InfeasiblePlanError
from router_opt.engine.objective import Objective
from router_opt.engine.presolve import dominated_candidates
from router_opt.engine.program import CouplingTerms, LinearProgram, build_program, coupling_terms
from router_opt.engine.solver import (
    SOLVERS,
    ConstraintReport,
    Solution,
    cheapest_eligible,
    solve,
)

__all__ = [
    "BACKENDS",
    "SOLVERS",
    "Backend",
    "Capabilities",
    "ConstraintReport",
    "CouplingTerms",
    "InfeasiblePlanError",
    "LinearProgram",
    "Objective",
    "RawSolution",
    "Solution",
    "Status",
    "build_program",
    "cheapest_eligible",
    "coupling_terms",
    "dominated_candidates",
    "solve",
]
