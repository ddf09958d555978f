"""What every analysis shares: the frozen result base and a few constants."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

# The JSON of every analysis result carries this; change keys only with a bump.
ANALYSIS_SCHEMA_VERSION = "1.0"
TOKENS_PER_MTOK = 1_000_000
SECONDS_PER_HOUR = 3600
HOURS_PER_DAY = 24
# The seed's months are 30 days: its L40S serving month is $1,620 = $2.25/h x 24 h x 30, and
# docs/VALIDATION.md §6c prices "5M tok/day" per 30-day month. Every analysis takes it as a parameter.
DAYS_PER_MONTH = 30.0


class AnalysisResult(BaseModel):
    """Base of every analysis result: frozen, no unknown keys, full precision (renderers round)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def round_half_up(value: float, decimals: int) -> float:
    """Round as a person does on paper (2.25 -> 2.3), not Python's round-half-to-even; used only where
    a seed table's own rounding convention is being reproduced."""
    scale = 10**decimals
    return math.copysign(math.floor(abs(value) * scale + 0.5) / scale, value)
