"""What the optimizer minimises or maximises (a leaf: results and reports name it too)."""

from __future__ import annotations

from enum import StrEnum


class Objective(StrEnum):
    """What the optimizer minimises or maximises."""

    COST = "cost"
    """Cheapest plan that meets every threshold and constraint."""
    QUALITY = "quality"
    """Best invocation-weighted quality within the budgets (then the cheapest such plan)."""
