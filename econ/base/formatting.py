"""Number formatting shared by the text reports, ``econ compare`` and the app ("—" for None)."""

from __future__ import annotations

__all__ = ["DAYS_PER_MONTH", "ci_percent", "ci_points", "duration", "number", "percent", "points"]

DAYS_PER_MONTH = 365.25 / 12


def number(x: float | None, digits: int = 2, unit: str = "") -> str:
    """``1,234.57``, with `` unit`` appended when given."""
    return "—" if x is None else f"{x:,.{digits}f}" + (f" {unit}" if unit else "")


def points(x: float | None, digits: int = 1) -> str:
    """A fraction as percentage points without the sign, for columns headed "(%)"."""
    return "—" if x is None else f"{100 * x:.{digits}f}"


def percent(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage with its sign: ``12.3%``."""
    return "—" if x is None else f"{x:.{digits}%}"


def ci_points(v: tuple[float, float] | None) -> str:
    """An interval of fractions in percentage points: ``[1.2, 3.4]``."""
    return "—" if v is None else f"[{points(v[0])}, {points(v[1])}]"


def ci_percent(v: tuple[float, float] | None) -> str:
    """An interval of fractions as percentages: ``[1.2%, 3.4%]`` (empty for None)."""
    return "" if v is None else f"[{percent(v[0])}, {percent(v[1])}]"


def duration(months: float | None) -> str:
    """A span given in months, in the unit that reads best: minutes or hours under two days,
    days under two months, else months. None (never) reads ``never``."""
    if months is None:
        return "never"
    hours = months * DAYS_PER_MONTH * 24
    if hours < 1:
        return f"{60 * hours:.0f} minutes"
    if hours < 48:
        return f"{hours:.1f} hours"
    if hours < 2 * DAYS_PER_MONTH * 24:
        return f"{hours / 24:.1f} days"
    return f"{months:,.1f} months"
