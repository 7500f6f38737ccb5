"""What adopting a frontier point changes in a tier's plan, in words.

In: an evaluation, a tier and a frontier point (or two plans). Out: the plan the point prices
and a sentence such as ``pro: model o1 → llama-8b-distilled, routed to o1 (router 0.0002
USD/conversation, 2.0% misrouted)`` when the model, the route or its router changes; ``None``
when only the consent set does. ``econ frontier``'s ``choice:`` line and the app's frontier tab
say it. Imports: ``econ.decisions.frontier``, ``econ.model``, ``econ.scenario``.
"""

from __future__ import annotations

from econ.base.formatting import percent
from econ.decisions.frontier import FrontierPoint, point_plan
from econ.model.evaluate import Evaluation
from econ.scenario.schema import Plan, Route

__all__ = ["plan_change", "plan_change_words"]


def _router(r: Route) -> str:
    return (f"router {r.router_usd_per_conversation:g} USD/conversation, "
            f"{percent(r.router_error_rate)} misrouted")


def _routed(r: Route) -> str:
    return ("every unconsented capability" if r.capabilities == "unconsented"
            else ", ".join(r.capabilities) or "nothing")


def plan_change_words(tier_id: str, old: Plan, new: Plan) -> str | None:
    """``tier: model a → b, routed to c (router …)``: how ``new`` differs from ``old`` in its
    model, route target, router and what it routes; ``None`` when they are the same."""
    parts = []
    if old.model != new.model:
        parts.append(f"model {old.model} → {new.model}")
    o, n = old.route, new.route
    if n is None:
        if o is not None:
            parts.append(f"no longer routed (was routed to {o.to})")
    elif o is None:
        parts.append(f"routed to {n.to} ({_router(n)})")
    else:
        if o.to != n.to:
            parts.append(f"route {o.to} → {n.to}")
        elif parts:
            parts.append(f"still routed to {n.to}")
        if (o.router_usd_per_conversation, o.router_error_rate) != (
                n.router_usd_per_conversation, n.router_error_rate):
            parts.append(f"{_router(o)} → {_router(n)}")
        if o.capabilities != n.capabilities:
            parts.append(f"routes {_routed(n)} (was {_routed(o)})")
    return f"{tier_id}: " + ", ".join(parts) if parts else None


def plan_change(ev: Evaluation, tier_id: str, point: FrontierPoint) -> str | None:
    """How adopting ``point`` changes tier ``tier_id``'s plan as evaluated (``None``: only the
    consent set changes)."""
    tier = next(t for t in ev.scenario.tiers if t.id == tier_id)
    return plan_change_words(tier_id, tier.plan, point_plan(ev, tier_id, point))
