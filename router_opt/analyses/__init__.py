"""Analyses around the routing plan: the economics a CFO asks about next.

Each module is one analysis: a function that takes loaded inputs (and, where it re-optimises, the
same `router_opt.plan.optimize_inputs` the `optimize` command uses) and returns a frozen pydantic
result with units in its field names. Analyses never print; `router_opt.report.analyses` renders them.

- `frontier`: the cost-quality curve from sweeping the global quality bar.
- `budget_frontier`: the best quality each scaling of the policy's budgets buys.
- `reasoning`: the reasoning multiplier (quality gain % per cost multiple) and its verdict.
- `trajectory`: the plan re-priced and re-optimised for each year 2024-2030.
- `breakeven`: self-hosting on a GPU against a per-token API.
- `training`: training-run budgets (base / slower / retry), FLOPs-based estimates, fine-tuning payback.

Seed tables used as defaults live in `catalogs/economics/*.yaml` (see `data.py`).
"""
