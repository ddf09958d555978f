"""The one calendar every figure uses: a year is 365 days, a month is a twelfth of it (365/12 days).

So a monthly figure x 12 is the yearly figure, in every report: the optimiser's fixed cost per day
(monthly x 12 / 365), the optimize report's $/year (x 365), breakeven's GPU and API months and years,
training-cost's payback months. Convert with the functions below rather than by hand.

The seed tables count 30-day months (their L40S serving month is $1,620 = $2.25/h x 24 h x 30).
Figures that differ for that reason are computed both ways in docs/VALIDATION.md; `--days-per-month
30` (breakeven) reproduces them.
"""

from __future__ import annotations

DAYS_PER_YEAR = 365
"""Days in a year (no leap days: a plan's year is a typical year)."""
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR
"""30.41666... days: a twelfth of a year."""
TOKENS_PER_MTOK = 1_000_000
"""Tokens in the million that prices and capacities are quoted per."""
SEED_DAYS_PER_MONTH = 30
"""The seed tables' month, used only to reproduce their figures (docs/VALIDATION.md)."""


def per_day_from_per_month(usd_per_month: float) -> float:
    """$/day of a monthly figure: x 12 / 365 (the order the optimiser uses for fixed costs)."""
    return usd_per_month * MONTHS_PER_YEAR / DAYS_PER_YEAR


def per_month_from_per_day(usd_per_day: float, days_per_month: float = DAYS_PER_MONTH) -> float:
    """$/month of a daily figure: x days in a month (365/12 unless a report is told otherwise)."""
    return usd_per_day * days_per_month


def per_year_from_per_month(usd_per_month: float) -> float:
    """$/year of a monthly figure: x 12, whatever the month's length."""
    return usd_per_month * MONTHS_PER_YEAR


def per_year_from_per_day(usd_per_day: float) -> float:
    """$/year of a daily figure: x 365."""
    return usd_per_day * DAYS_PER_YEAR
