"""The consent frontier: every consent set of a tier as (price floor, capability loss), exactly.

For a tier, the plan from a consent set serves consented capabilities (and those shown
``retained``) with the student and routes the rest to the teacher. Both the cost of a conversation
and the monthly loss are sums over capabilities of what each one's choice contributes, and the
floor is an increasing affine function of the cost. So the Pareto set over consent sets is built
exactly by merging Pareto sets one capability at a time: the set after capability i is the Pareto
set of (set after i−1) + each of the capability's two choices. No 2^k enumeration, no greedy step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.model.evaluate import Evaluation
from econ.model.loss import loss_drop
from econ.model.plans import Assignment
from econ.model.tiers import price_floor_usd_month
from econ.scenario.schema import Plan, Route, Scenario, Tier

__all__ = [
    "Choice",
    "Frontier",
    "FrontierPoint",
    "consent_plan",
    "consent_point",
    "pareto_merge",
    "tier_choices",
    "tier_frontier",
]


def consent_plan(tier: Tier, scenario: Scenario) -> Plan:
    """Student by default; unconsented capabilities go to the teacher (via the tier's router)."""
    r = tier.plan.route
    teacher = scenario.teacher_id
    router = (r.router_usd_per_conversation, r.router_error_rate) if r and r.to == teacher else (
        0.0, 0.0)
    return Plan(model=scenario.student_id, route=Route(
        to=teacher, capabilities="unconsented", router_usd_per_conversation=router[0],
        router_error_rate=router[1]))


@dataclass(frozen=True)
class Choice:
    """What one capability adds to (cost per conversation, loss per month) for each choice."""

    capability: str
    consent_cost: float
    consent_loss: float
    keep_cost: float
    keep_loss: float


@dataclass(frozen=True)
class FrontierPoint:
    consent: tuple[str, ...]
    cost_per_conversation_usd: float
    price_floor_usd_month: float
    loss_usd_month: float
    unmeasured: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"consent": list(self.consent),
                "cost_per_conversation_usd": self.cost_per_conversation_usd,
                "price_floor_usd_month": self.price_floor_usd_month,
                "loss_usd_month": self.loss_usd_month,
                "unmeasured": list(self.unmeasured)}


@dataclass(frozen=True)
class Frontier:
    tier: str
    points: tuple[FrontierPoint, ...]  # floor ascending, loss descending
    retained: tuple[str, ...]  # kept on the student whatever the consent
    base_cost_per_conversation_usd: float
    base_loss_usd_month: float

    def least_loss_under_floor(self, target_floor_usd_month: float) -> FrontierPoint | None:
        """The consent set with the least loss whose floor is at or under the target."""
        ok = [p for p in self.points if p.price_floor_usd_month <= target_floor_usd_month]
        return ok[-1] if ok else None

    def cheapest_under_loss(self, max_loss_usd_month: float) -> FrontierPoint | None:
        """The consent set with the lowest floor whose loss is at or under the budget."""
        return next((p for p in self.points if p.loss_usd_month <= max_loss_usd_month), None)


def tier_choices(ev: Evaluation, tier: Tier) -> tuple[list[Choice], float, float, Assignment]:
    """Per-capability choices of a tier, and the cost and loss every consent set shares."""
    s = ev.scenario
    plan = consent_plan(tier, s)
    assert plan.route is not None
    e, router = plan.route.router_error_rate, plan.route.router_usd_per_conversation
    student, teacher = s.student_id, s.teacher_id
    conversations = tier.users * tier.conversations_per_user_month
    retained = {r.capability for r in ev.retention if r.verdict == "retained"}
    base_cost = router + max(0.0, 1.0 - sum(c.traffic_share for c in s.capabilities)) * \
        ev.costs.uncategorised[student]
    base_loss = 0.0
    choices = []
    for c in s.capabilities:
        cs, ct = ev.costs.per_capability[student][c.id], ev.costs.per_capability[teacher][c.id]
        unit_loss = conversations * c.traffic_share * loss_drop(ev.retention_of(c.id)) * \
            c.severity_usd
        on_student_cost = c.traffic_share * ((1 - e) * cs + e * ct)
        if c.id in retained:
            base_cost += on_student_cost
            base_loss += (1 - e) * unit_loss
            continue
        choices.append(Choice(c.id, on_student_cost, (1 - e) * unit_loss,
                              c.traffic_share * ((1 - e) * ct + e * cs), e * unit_loss))
    assignment = Assignment(student, teacher, frozenset(), router, e)
    return choices, base_cost, base_loss, assignment


def pareto_merge(choices: Sequence[Choice]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Exact Pareto set of (cost, loss) sums over all consent sets; masks mark consented choices.

    Returns costs (ascending), losses (descending) and the bit mask of each point.
    """
    cost = np.zeros(1)
    loss = np.zeros(1)
    masks = np.array([0], dtype=object)
    for i, ch in enumerate(choices):
        cost = np.concatenate([cost + ch.keep_cost, cost + ch.consent_cost])
        loss = np.concatenate([loss + ch.keep_loss, loss + ch.consent_loss])
        masks = np.concatenate([masks, masks | (1 << i)])
        cost, loss, masks = _pareto(cost, loss, masks)
    return cost, loss, list(masks)


def _pareto(cost: np.ndarray, loss: np.ndarray,
            masks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep points no other point matches or beats on both objectives (one of equal twins)."""
    order = np.lexsort((loss, cost))
    cost, loss, masks = cost[order], loss[order], masks[order]
    best_before = np.minimum.accumulate(np.concatenate([[np.inf], loss[:-1]]))
    keep = loss < best_before
    return cost[keep], loss[keep], masks[keep]


def tier_frontier(ev: Evaluation, tier_id: str) -> Frontier:
    s = ev.scenario
    tier = next(t for t in s.tiers if t.id == tier_id)
    choices, base_cost, base_loss, _ = tier_choices(ev, tier)
    costs, losses, masks = pareto_merge(choices)
    unmeasured = {r.capability for r in ev.retention if r.verdict == "unmeasured"}
    retained = tuple(c.id for c in s.capabilities if ev.retention_of(c.id).verdict == "retained")
    points = []
    for cost, loss, mask in zip(costs, losses, masks, strict=True):
        consent = tuple(ch.capability for i, ch in enumerate(choices) if mask >> i & 1)
        per_conv = float(base_cost + cost)
        floor = float(price_floor_usd_month(tier.conversations_per_user_month * per_conv,
                                            tier.target_gross_margin, s.fees))
        points.append(FrontierPoint(consent, per_conv, floor, float(base_loss + loss),
                                    tuple(c for c in consent if c in unmeasured)))
    return Frontier(tier_id, tuple(points), retained, base_cost, base_loss)


def consent_point(ev: Evaluation, tier_id: str, consent: Sequence[str]) -> FrontierPoint:
    """Where one consent set lies in a tier's frontier plane (on the frontier or not)."""
    s = ev.scenario
    tier = next(t for t in s.tiers if t.id == tier_id)
    choices, cost, loss, _ = tier_choices(ev, tier)
    chosen = set(consent)
    for ch in choices:
        on = ch.capability in chosen
        cost += ch.consent_cost if on else ch.keep_cost
        loss += ch.consent_loss if on else ch.keep_loss
    unmeasured = {r.capability for r in ev.retention if r.verdict == "unmeasured"}
    picked = tuple(ch.capability for ch in choices if ch.capability in chosen)
    floor = float(price_floor_usd_month(tier.conversations_per_user_month * cost,
                                        tier.target_gross_margin, s.fees))
    return FrontierPoint(picked, float(cost), floor, float(loss),
                         tuple(c for c in picked if c in unmeasured))
