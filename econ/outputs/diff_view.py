"""A scenario diff as rows for display: values in their units, margin changes in points.

In: a :class:`~econ.decisions.scenario_diff.ScenarioDiff`. Out: lists of dicts of strings with
plain-word keys, for the app's Compare tab (never a Python list repr; a change of a fraction in
percentage points, since "+245.8 %" of a margin reads as a relative change).
May import: econ.base, econ.decisions.
"""

from __future__ import annotations

from typing import Any

from econ.base.formatting import number
from econ.decisions.scenario_diff import ScenarioDiff

__all__ = ["input_rows", "output_rows", "plain_value"]


def plain_value(v: Any) -> str:
    """An input value as text: lists joined with commas, mappings as ``key: value``."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | tuple):
        return ", ".join(plain_value(x) for x in v) or "(none)"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {plain_value(x)}" for k, x in v.items()) or "(none)"
    if isinstance(v, float):
        return f"{v:,.6g}"
    return str(v)


def input_rows(d: ScenarioDiff) -> list[dict[str, str]]:
    return [{"Input": c.path, "Before": plain_value(c.old), "After": plain_value(c.new)}
            for c in d.inputs]


def _value(x: float | None, unit: str) -> str:
    if x is None:
        return "—"
    if unit == "fraction":
        return f"{100 * x:.1f}%"
    if unit == "USD":
        return number(x, 5)
    if unit == "consent sets":
        return f"{x:,.0f}"
    return number(x, 2)


def output_rows(d: ScenarioDiff) -> list[dict[str, str]]:
    rows = []
    for o in d.outputs:
        if o.change is None:
            change = relative = "—"
        elif o.unit == "fraction":
            change = f"{100 * o.change:+.1f} pp"
            relative = "—"
        else:
            change = _value(o.change, o.unit)
            change = change if change.startswith("-") else "+" + change
            relative = "—" if o.change_pct is None else f"{o.change_pct:+.1f}%"
        unit = "share" if o.unit == "fraction" else o.unit
        rows.append({"Output": o.name, "Unit": unit, "Before": _value(o.old, o.unit),
                     "After": _value(o.new, o.unit), "Change": change,
                     "Relative change": relative})
    return rows
