"""Number formatting shared by the text reports, ``econ compare``, the exports, the record and
the app: one way to show each kind of figure.

- money (``money``): thousands separators and cents, ``134,072.00``;
- cost per conversation (``unit_cost``): six decimals of a dollar, ``0.004123``, everywhere;
- shares (``percent``): a percentage at one decimal, ``82.8%``;
- counts (``count``): whole with thousands separators, two decimals only if not whole;
- a figure that does not exist (None, NaN): ``—``, never ``None`` or ``nan``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

__all__ = ["DAYS_PER_MONTH", "MISSING", "UNIT_COST_DIGITS", "Kind", "cell", "ci_percent",
           "ci_points", "count", "duration", "money", "number", "percent", "points",
           "unit_cost"]

DAYS_PER_MONTH = 365.25 / 12
MISSING = "—"
UNIT_COST_DIGITS = 6  # cost per conversation: a ten-thousandth of a cent
# p: a p-value; volume: conversations a month, shown whole
Kind = Literal["text", "money", "unit_cost", "count", "volume", "share", "p"]


def _absent(x: Any) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def money(x: float | None) -> str:
    """USD with thousands separators and cents: ``1,644,564.00``."""
    return MISSING if x is None or _absent(x) else f"{round(x, 2) + 0.0:,.2f}"  # never -0.00


def unit_cost(x: float | None) -> str:
    """A cost per conversation in USD, at the one precision every screen uses."""
    if x is None or _absent(x):
        return MISSING
    return f"{round(x, UNIT_COST_DIGITS) + 0.0:,.{UNIT_COST_DIGITS}f}"


def count(x: float | None) -> str:
    """A count: ``42`` or ``1,250``; an average that is not whole keeps two decimals."""
    if x is None or _absent(x):
        return MISSING
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def cell(x: Any, kind: Kind) -> str:
    """One table cell of ``kind`` as shown on screen and in Markdown (``—`` if absent)."""
    if kind == "text":
        return MISSING if _absent(x) or x == "" else str(x)
    if _absent(x):
        return MISSING
    if kind == "share":
        return percent(float(x))
    if kind == "volume":
        return f"{float(x):,.0f}"
    return {"money": money, "unit_cost": unit_cost, "count": count}[kind](float(x))


def number(x: float | None, digits: int = 2, unit: str = "") -> str:
    """``1,234.57``, with `` unit`` appended when given."""
    return MISSING if _absent(x) else f"{x:,.{digits}f}" + (f" {unit}" if unit else "")


def points(x: float | None, digits: int = 1) -> str:
    """A fraction as percentage points without the sign, for columns headed "(%)"."""
    return "—" if x is None else f"{100 * x:.{digits}f}"


def percent(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage with its sign: ``12.3%``."""
    return MISSING if _absent(x) else f"{x:.{digits}%}"


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
