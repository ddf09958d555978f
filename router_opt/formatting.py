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


# --- helpers for the economics analyses (issue 4) ---


def multiplier(value: float) -> str:
    """A reasoning multiplier as the seed prints it: 3 significant digits, at most 2 decimals
    (0.16, 2.07, 10.9, 28.8)."""
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    decimals = 2 if magnitude < 10 else (1 if magnitude < 100 else 0)
    return f"{value:.{decimals}f}"


def signed_percent(share: float) -> str:
    """A 0..1 change as a signed percentage with one decimal: +2.1%."""
    return "n/a" if not math.isfinite(share) else f"{share * 100:+.1f}%"


def tokens(value: float) -> str:
    """A token count with a K/M/B/T suffix and 3 significant digits: 24.8M, 432M, 6.40M."""
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= scale:
            scaled = value / scale
            decimals = 2 if abs(scaled) < 10 else (1 if abs(scaled) < 100 else 0)
            return f"{scaled:.{decimals}f}{suffix}"
    return f"{value:,.0f}"


def scientific(value: float) -> str:
    """A quantity too large for separators, such as FLOPs: 3.36e+23."""
    return "n/a" if not math.isfinite(value) else f"{value:.2e}"


def decimal(value: float, places: int = 1) -> str:
    """A plain number with thousands separators and fixed decimals (hours, months)."""
    return "n/a" if not math.isfinite(value) else f"{value:,.{places}f}"


def usd_per_mtok(value: float) -> str:
    """A price per million tokens: $2.50/M, $0.144/M."""
    return f"{usd(value)}/M"


def signed_usd(value: float) -> str:
    """A change in dollars, always with its sign: +$1.20, -$0.035."""
    return ("+" if value > 0 else "") + usd(value) if value != 0 else "$0.00"
