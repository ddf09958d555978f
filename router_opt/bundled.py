"""The catalog, workload and policy that ship with router-opt, found both in a source checkout and
in an installed wheel (where pyproject.toml copies them into the package)."""

from __future__ import annotations

from pathlib import Path

from router_opt.errors import RouterOptError

DEFAULT_CATALOG = "catalogs/seven-tiers-2025.yaml"
DEFAULT_WORKLOAD = "workloads/enterprise-14-roles.csv"
DEFAULT_POLICY = "policies/default.yaml"
# Budgets for the bundled workload, used by `frontier-budget` when no --policy is given.
EXAMPLE_BUDGET_POLICY = "policies/budgets-example.yaml"

_PACKAGE = Path(__file__).resolve().parent


def bundled_path(relative: str) -> Path:
    """Path of a bundled file: inside the installed package, else at the top of the checkout."""
    for root in (_PACKAGE / "bundled", _PACKAGE.parent):
        candidate = root / relative
        if candidate.is_file():
            return candidate
    raise RouterOptError(f"bundled file '{relative}' is missing from this installation; reinstall router-opt")
