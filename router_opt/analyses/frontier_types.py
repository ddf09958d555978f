"""What a cost-quality frontier sweep returns (`router_opt.analyses.frontier` computes it).

Kept apart from the sweep so that a `Result` can carry a frontier (`optimize --frontier`) without
importing the code that re-optimises: these are types only.
"""

from __future__ import annotations

from typing import Literal

from router_opt.analyses.common import ANALYSIS_SCHEMA_VERSION, AnalysisResult
from router_opt.frame import Mode


class FrontierPoint(AnalysisResult):
    min_quality: float
    """The bar every swept task had to meet."""
    optimal_usd_per_day: float
    baseline_usd_per_day: float
    cost_share_of_baseline: float
    """optimal / all-large $/day."""
    share_routed_away_from_baseline: float
    """Share of invocations the plan sends to a model other than the baseline (0..1)."""
    plan_quality: float
    """Invocation-weighted quality of the plan."""
    quality_retained: float
    """plan quality / all-large quality (RouteLLM's "quality retained")."""
    usd_per_day_by_department: dict[str, float]


class FrontierResult(AnalysisResult):
    """The plan's cost at each quality bar of a sweep."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    analysis: Literal["frontier"] = "frontier"
    catalog: str
    workload: str
    mode: Mode
    baseline_model: str
    requested_min_quality: tuple[float, ...]
    """The grid asked for, lowest first."""
    swept_tasks: int
    """Tasks whose bar the sweep sets (the rest keep their own min_quality)."""
    points: tuple[FrontierPoint, ...]
    """One per bar reached, lowest first."""
    stopped_at_min_quality: float | None
    """First bar at which no plan exists; the sweep stopped there (None if it finished)."""
    stop_reason: str | None
    area_under_curve: float
    """Trapezoid area under cost share (y) over the bar rescaled to 0..1 (x), over the points reached."""
    departments: tuple[str, ...]
