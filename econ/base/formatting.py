"""Number formatting shared by the text reports, ``econ compare`` and the app ("—" for None)."""

from __future__ import annotations

__all__ = ["ci_percent", "ci_points", "number", "percent", "points"]


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
