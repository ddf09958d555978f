"""What every analysis shares: the frozen result base and a few constants."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from router_opt.units import DAYS_PER_MONTH, DAYS_PER_YEAR, MONTHS_PER_YEAR

# The JSON of every analysis result carries this; change keys only with a bump.
# 1.1: months are 365/12 days (router_opt.units), not 30; breakeven adds yearly figures and payback
# its horizon in days.
ANALYSIS_SCHEMA_VERSION = "1.1"
TOKENS_PER_MTOK = 1_000_000
SECONDS_PER_HOUR = 3600
HOURS_PER_DAY = 24
# Months and years: one convention for every analysis and report, stated in router_opt.units (a year
# is 365 days, a month 365/12). The seed's 30-day months are reproduced in docs/VALIDATION.md.
__all__ = ["DAYS_PER_MONTH", "DAYS_PER_YEAR", "MONTHS_PER_YEAR"]


class AnalysisResult(BaseModel):
    """Base of every analysis result: frozen, no unknown keys, full precision (renderers round)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def round_half_up(value: float, decimals: int) -> float:
    """Round as a person does on paper (2.25 -> 2.3), not Python's round-half-to-even; used only where
    a seed table's own rounding convention is being reproduced."""
    scale = 10**decimals
    return math.copysign(math.floor(abs(value) * scale + 0.5) / scale, value)
