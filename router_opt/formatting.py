"""Rounding and number formatting for people: the one place it happens (renderers and the plain-word
explanations in a Result use it). Machine figures (JSON, CSV)
carry full precision and never pass through here."""

from __future__ import annotations

import math


def usd(value: float) -> str:
    """Dollars with enough digits to be read: 3 significant digits below $1, trailing zeros dropped (so
    $0.000028 per call stays visible and reads as the seed writes it), cents from $1, thousands separators from $1,000."""
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude == 0:
        return "$0.00"
    sign = "-" if value < 0 else ""
    if magnitude < 1:
        decimals = max(2, 2 - math.floor(math.log10(magnitude)))
        digits = f"{magnitude:.{decimals}f}".rstrip("0")
        if len(digits.split(".")[1]) < 2:
            digits = f"{magnitude:.2f}"
        return f"{sign}${digits}"
    return f"{sign}${magnitude:,.2f}"


def ratio(value: float) -> str:
    """An overspend multiple, as the seed writes them: 24.0x."""
    return "n/a" if not math.isfinite(value) else f"{value:.1f}x"


def percent(share: float) -> str:
    """A 0..1 share as a percentage with one decimal."""
    return f"{share * 100:.1f}%"


def quality(value: float) -> str:
    return f"{value:.1f}"


def count(value: float) -> str:
    """Invocations and headcounts: whole numbers with separators, decimals only when present."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def limit(value: float, unit: str) -> str:
    """A constraint's limit or use in its own unit."""
    if not math.isfinite(value):
        return "n/a"
    if unit == "USD/day":
        return f"{usd(value)}/day"
    if unit == "share":
        return percent(value)
    if unit == "tasks":
        return count(value)
    return f"{value:,.4g} {unit}"
