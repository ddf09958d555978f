"""The one object every renderer reads: the plan, its rollups and totals, and how it was made.

- `schema`: the pydantic models (`Result` and its rows) and `SCHEMA_VERSION`: the JSON contract.
- `build`: `build_result`, from the solver's shares to a `Result` (rows and roll-ups).
- `explain`: the decision records and the constraint explanations.
- `columns`: the column-wise row builders the two use.
"""

from router_opt.result.build import build_result
from router_opt.result.schema import (
    SCHEMA_VERSION,
    ActualRow,
    ActualSpend,
    ActualTask,
    Assignment,
    BillingRow,
    ConstraintRow,
    Decision,
    DepartmentRow,
    Deployment,
    ModelRow,
    Result,
    RoleRow,
    Settings,
    SolveInfo,
    TaskRow,
    Totals,
)

__all__ = [
    "SCHEMA_VERSION",
    "ActualRow",
    "ActualSpend",
    "ActualTask",
    "Assignment",
    "BillingRow",
    "ConstraintRow",
    "Decision",
    "DepartmentRow",
    "Deployment",
    "ModelRow",
    "Result",
    "RoleRow",
    "Settings",
    "SolveInfo",
    "TaskRow",
    "Totals",
    "build_result",
]
