"""The coupling constraints of the routing program, one module per family (see base.py for what a
family provides). `FAMILIES` is the registry: the program writes rows in this order, and every
report, explanation and diagnosis finds a row's family through `family_of`. A new family is one
module plus one line here."""

from __future__ import annotations

from router_opt.constraints import budget, capacity, committed_spend, vendor_caps
from router_opt.constraints.base import (
    BindingContext,
    Charge,
    CouplingRow,
    Dominance,
    Family,
    PairContext,
    RowWriter,
    Sense,
)

FAMILIES: tuple[Family, ...] = (
    capacity.FAMILY,
    budget.DEPARTMENT_BUDGET,
    budget.TOTAL_BUDGET,
    vendor_caps.FAMILY,
    committed_spend.FAMILY,
)

_BY_KIND = {kind: family for family in FAMILIES for kind in family.kinds}


def family_of(kind: str) -> Family:
    """The family that writes rows of `kind`."""
    return _BY_KIND[kind]


__all__ = [
    "FAMILIES",
    "BindingContext",
    "Charge",
    "CouplingRow",
    "Dominance",
    "Family",
    "PairContext",
    "RowWriter",
    "Sense",
    "family_of",
]
