"""The headline of a tier: its teacher against the models its plan serves, and its coverage.

In: an :class:`~econ.model.evaluate.Evaluation`. Out: one frozen :class:`Headline` per tier, its
JSON and its line of text. The app shows the headline of the tier picked; the text report one
line per tier.
May import: econ.base … econ.model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from econ.base.formatting import number
from econ.model.evaluate import Evaluation

__all__ = ["Headline", "headline", "headline_line", "headlines", "share_percent"]


def share_percent(x: float) -> str:
    """A traffic share as a percentage, with a second decimal when a non-zero share would
    read 0.0% (0.016% of plus's traffic is not none)."""
    return f"{x:.2%}" if 0 < abs(x) < 0.0005 else f"{x:.1%}"


@dataclass(frozen=True)
class Headline:
    tier: str
    teacher: str
    served: tuple[str, ...]  # the models the tier's plan serves, default model first
    route_to: str | None  # where the plan routes what it does not keep (None: one model)
    teacher_cost_per_conversation_usd: float  # the teacher alone, traffic-weighted
    plan_cost_per_conversation_usd: float  # the tier's plan: its models, router included
    teacher_to_plan_cost_ratio: float | None
    cost_usd_month: float  # the tier's serving cost
    conversations_month: float  # the tier's conversations
    unmeasured_traffic_share: float  # of the tier's traffic, see TierResult
    underpowered_traffic_share: float
    uncategorised_traffic_share: float
    unmeasured_capabilities: tuple[str, ...]
    underpowered_capabilities: tuple[str, ...]

    @property
    def served_text(self) -> str:
        """``llama-8b-distilled`` or ``llama-8b-distilled, routed to gpt-4o``."""
        if self.route_to is None or self.route_to == self.served[0]:
            return self.served[0]
        return f"{self.served[0]}, routed to {self.route_to}"

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("served", "unmeasured_capabilities", "underpowered_capabilities"):
            out[k] = list(out[k])
        return out


def headline(ev: Evaluation, tier_id: str) -> Headline:
    """The figures a planning session looks at first, for one tier."""
    t = ev.tier(tier_id)
    e = t.economics
    teacher = ev.model_cost_per_conversation_usd[t.teacher]
    plan = e.cost_per_conversation_usd
    return Headline(
        tier=tier_id, teacher=t.teacher, served=t.assignment.models,
        route_to=t.assignment.route_to, teacher_cost_per_conversation_usd=teacher,
        plan_cost_per_conversation_usd=plan,
        teacher_to_plan_cost_ratio=teacher / plan if plan > 0 else None,
        cost_usd_month=e.cost_usd_month, conversations_month=t.conversations_month,
        unmeasured_traffic_share=t.unmeasured_traffic_share,
        underpowered_traffic_share=t.underpowered_traffic_share,
        uncategorised_traffic_share=t.uncategorised_traffic_share,
        unmeasured_capabilities=t.unmeasured_capabilities,
        underpowered_capabilities=t.underpowered_capabilities)


def headlines(ev: Evaluation) -> tuple[Headline, ...]:
    return tuple(headline(ev, t.economics.tier) for t in ev.tiers)


def headline_line(h: Headline) -> str:
    """One line of the text report: the tier's teacher, its plan, their ratio, its coverage."""
    ratio = "—" if h.teacher_to_plan_cost_ratio is None else \
        f"{h.teacher_to_plan_cost_ratio:,.1f}×"
    return (f"{h.tier}: teacher {h.teacher} at "
            f"{number(h.teacher_cost_per_conversation_usd, 5)} USD/conv.; plan {h.served_text} "
            f"at {number(h.plan_cost_per_conversation_usd, 5)} USD/conv. (teacher ÷ plan "
            f"{ratio}); served by models other than the teacher: "
            f"{share_percent(h.unmeasured_traffic_share)} unmeasured, "
            f"{share_percent(h.underpowered_traffic_share)} underpowered, "
            f"{share_percent(h.uncategorised_traffic_share)} uncategorised traffic")
