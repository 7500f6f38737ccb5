"""Plain-text pieces every text output shares: aligned tables and a plan in words.

May import: econ.base … econ.model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from econ.model.plans import Assignment

__all__ = ["format_table", "plan_json", "plan_text"]


def plan_json(a: Assignment) -> dict[str, Any]:
    return {
        "model": a.default_model,
        "route_to": a.route_to,
        "routed_capabilities": sorted(a.routed),
        "router_usd_per_conversation": a.router_usd_per_conversation,
        "router_error_rate": a.router_error_rate,
    }



def plan_text(a: Assignment) -> str:
    if a.route_to is None:
        return a.default_model
    routed = ", ".join(sorted(a.routed)) or "nothing"
    return f"{a.default_model}; {routed} → {a.route_to}"



def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 right: Sequence[bool] | None = None) -> str:
    """Aligned plain-text table; ``right`` marks right-aligned (numeric) columns."""
    right = right or [False] * len(headers)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)
