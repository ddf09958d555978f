"""What a constraint family is: the rows it adds to the routing program and everything said about
them afterwards (their use in the report's units, the sentence explaining a binding row, which
tasks it keeps off a cheaper model, the relaxation text of an infeasible plan, the policy line that
sets it, and what the dominance presolve may prune around it).

A family is one module under router_opt/constraints/ with a `Family` subclass, its
instance listed once in `router_opt.constraints.FAMILIES`. Nothing else in the code base dispatches
on a row's kind.

Rows are kept in one canonical form, `activity <= rhs`, so the program, the decomposition and the
Lagrangian proofs price every row alike (lambda >= 0). A `>=` row (a commitment: at least $X) is
stored negated and carries `Sense.AT_LEAST`, which the reports use to give its use and shadow price
the right sign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from router_opt.frame import RoutingProblem
    from router_opt.models import Policy


class Sense(StrEnum):
    """Which way a row limits its activity, as the policy states it."""

    AT_MOST = "<="
    AT_LEAST = ">="


@dataclass(frozen=True)
class CouplingRow:
    """A constraint that ties tasks together, in words a report can print."""

    kind: str
    """The family's kind: capacity, deployment, budget, total_budget, spend_share, ..."""
    subject: str
    """The model, department or provider it limits."""
    limit: float
    """Right-hand side as the policy states it, in `unit`."""
    unit: str
    """Mtok/day, USD/day, share, or tasks."""
    sense: Sense = Sense.AT_MOST


@dataclass(frozen=True)
class Charge:
    """A column of the program that is not a (task, model) share: money paid for something other
    than traffic (a deployment's fixed cost, an unused commitment). Budgets and spend shares count
    it as spend with `provider`."""

    kind: str
    subject: str
    """The model or provider it belongs to."""
    provider: str
    usd_per_day: float
    """Objective coefficient: $/day per unit of the column."""
    upper: float
    """1 for a yes/no decision, inf for an amount."""
    integer: bool
    model: int = -1
    """Catalog index of the model it belongs to (-1: none)."""


@dataclass
class PairContext:
    """What a family needs to write its rows over a list of (task, model) pairs."""

    problem: RoutingProblem
    pair_task: np.ndarray
    pair_model: np.ndarray
    pair_cost: np.ndarray
    """$/day of each pair at a share of 1."""
    days_per_year: int
    capacity_rows: np.ndarray | None
    """M bools: models that get a capacity row even without a pair (None: only those with one)."""
    charges: list[Charge] = field(default_factory=list)

    @property
    def n_pairs(self) -> int:
        return int(self.pair_task.size)

    def charge_index(self, kind: str, subject: str) -> int:
        """Position of a charge column among `charges` (-1: none)."""
        for k, charge in enumerate(self.charges):
            if charge.kind == kind and charge.subject == subject:
                return k
        return -1

    def spend_charges(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(charge positions, $/day per unit, provider) of every charge: what spend-based rows add."""
        index = np.arange(len(self.charges))
        cost = np.array([c.usd_per_day for c in self.charges], dtype=float)
        return index, cost, [c.provider for c in self.charges]


class RowWriter:
    """Collects the coupling rows of every family as COO entries in canonical `<=` form."""

    def __init__(self) -> None:
        self.rows: list[CouplingRow] = []
        self.rhs: list[float] = []
        self.entry_row: list[np.ndarray] = []
        self.entry_pair: list[np.ndarray] = []
        self.entry_value: list[np.ndarray] = []
        self.charge_row: list[int] = []
        self.charge_index: list[int] = []
        self.charge_value: list[float] = []

    def row(self, row: CouplingRow, rhs: float) -> int:
        """Add a row reading `activity <= rhs` (a `>=` row: pass its entries and rhs negated)."""
        self.rows.append(row)
        self.rhs.append(float(rhs))
        return len(self.rows) - 1

    def entries(self, rows, pairs: np.ndarray, values: np.ndarray) -> None:
        pairs = np.asarray(pairs, dtype=np.int64)
        self.entry_row.append(np.broadcast_to(np.asarray(rows, dtype=np.int64), pairs.shape))
        self.entry_pair.append(pairs)
        self.entry_value.append(np.asarray(values, dtype=float))

    def charge(self, row: int, charge_index: int, value: float) -> None:
        self.charge_row.append(row)
        self.charge_index.append(charge_index)
        self.charge_value.append(float(value))


@dataclass(frozen=True)
class Dominance:
    """What the dominance presolve may do around a family's rows (see engine.presolve): a model
    `not_free` may not serve as a dominator (moving share onto it uses a limited row); a model to
    `keep` never has its pairs pruned (a row needs share on it, e.g. a commitment); `prune` False
    turns the presolve off altogether (a spend share: a cheaper plan shrinks the total every share
    is taken of)."""

    not_free: np.ndarray | None = None
    keep: np.ndarray | None = None
    prune: bool = True


@dataclass
class BindingContext:
    """What `keeps_off` needs: for the tasks that are off their cheapest eligible model, which
    cheaper eligible models they have."""

    problem: RoutingProblem
    rows: np.ndarray
    """The tasks considered (indexes into the workload)."""
    cheaper: np.ndarray
    """rows x M bools: an eligible model cheaper than what the plan pays for the task."""
    on_model: np.ndarray
    """rows x M bools: the models the plan sends the task to."""
    model_column: dict[str, int]


class Family:
    """One kind (or a few kinds written together) of coupling row. Subclasses override what their
    rows need; the defaults here are what a plain `<=` row in its own unit does."""

    kinds: tuple[str, ...] = ()
    """The row kinds this family writes."""
    decomposable: bool = True
    """Whether the price-and-fix decomposition may solve programs with these rows (it handles rows
    on pair columns only: no charge columns)."""
    provider_section: str | None = None
    """The policy key whose entries are named by provider (checked against the catalog's)."""
    provider_wildcard: bool = False
    """Whether that section may use `*` for every provider."""

    def applies(self, problem: RoutingProblem) -> bool:
        """Whether the problem's policy or catalog sets up any row of this family."""
        raise NotImplementedError

    def price_factor(self, policy: Policy, providers: np.ndarray) -> np.ndarray | None:
        """A factor on the prices of each model (by its provider): a contract's discount. None: 1."""
        return None

    def charges(self, problem: RoutingProblem, days_per_year: int) -> list[Charge]:
        """Charge columns the family adds to the program (before any row is written)."""
        return []

    def write_rows(self, ctx: PairContext, out: RowWriter) -> None:
        """Write the family's rows and entries (canonical `<=` form)."""
        raise NotImplementedError

    def dominance(self, problem: RoutingProblem) -> Dominance:
        """What the dominance presolve may prune around the family's rows."""
        return Dominance()

    def report(
        self, row: CouplingRow, activity: float, traffic: float, rhs: float, spend: float, volume: float
    ) -> tuple[float, float, float]:
        """(used, limit, per_unit) in the row's own unit from its canonical activity (all columns),
        traffic (pair columns only) and rhs; `per_unit` turns the canonical dual into the change per
        unit of the stated limit. `spend` and `volume` are the plan's $/day and invocations/day."""
        return default_report(row, activity, rhs)

    def explain(self, row, gain: str) -> str:
        """The sentence for a binding row; `gain` says what one more unit of its limit is worth."""
        raise NotImplementedError

    def keeps_off(self, row, ctx: BindingContext) -> np.ndarray:
        """For a binding row: which of ctx.rows it keeps off a cheaper model (bools)."""
        return np.zeros(ctx.rows.size, dtype=bool)

    def elastic_scale(self, row: CouplingRow, problem: RoutingProblem) -> float:
        """The size a relaxation of the row is measured against (its relative change)."""
        return max(abs(row.limit), 1e-6)

    def relaxation(self, row: CouplingRow, slack: float, problem: RoutingProblem) -> str:
        """What to loosen, and by how much, when the elastic program needs `slack` on the row."""
        raise NotImplementedError

    def policy_key(self, row: CouplingRow, policy: Policy) -> tuple | None:
        """The policy setting the row comes from (a key path for the policy locator); None when
        it comes from the catalog."""
        return None

    def listed(self, row: CouplingRow) -> bool:
        """Whether reports list the row as a constraint (a deployment's link row is no limit anyone
        set: the deployments table reports the decision instead)."""
        return True

    def switched_off(self, row: CouplingRow, unprovisioned: set[str]) -> bool:
        """Whether the row belongs to a deployment the plan leaves off (`unprovisioned`: model ids):
        such a row is formally tight at 0 = 0, but no limit holds anything back."""
        return False

    def budget_label(self, row: CouplingRow) -> str | None:
        """What a budget sweep calls the row when it is a $/day budget; None for other rows."""
        return None

    def plan_charges_usd_per_day(
        self, problem: RoutingProblem, t_idx: np.ndarray, m_idx: np.ndarray, share: np.ndarray, days_per_year: int
    ) -> float:
        """What a plan that was not solved for (the all-large baseline, today's routing) pays
        beyond its traffic because of the family's rows. Deployments are not counted: such plans
        run on APIs."""
        return 0.0


def default_report(row: CouplingRow, activity: float, rhs: float) -> tuple[float, float, float]:
    """Use and limit of a row whose canonical activity is already in its unit: a `>=` row was
    stored negated, so its use is -activity, and one more unit of its limit moves the canonical
    rhs by -1."""
    if row.sense is Sense.AT_LEAST:
        return -activity, -rhs, -1.0
    return activity, rhs, 1.0
