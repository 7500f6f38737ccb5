"""The consent frontier of a tier: every (student × consent set) as (floor, loss), exactly.

A free tier has no floor: its frontier trades its cost per user (the subsidy it needs, per user)
against loss; the points are the same (both are increasing in the cost per conversation).

For a tier with teacher τ (its own, or the reference teacher) and each student candidate σ, a
routed plan serves consented capabilities (and those σ keeps ``retained`` against τ) with σ and
routes the rest to τ through the tier's router, misrouting a share ``e`` both ways. Uncategorised
traffic cannot be consented, so it is routed to τ like every unconsented capability (exactly as
``evaluate`` treats a route of ``unconsented``). Both the cost of a conversation and the monthly
loss are sums over capabilities of what each one's choice contributes, and the floor is an
increasing affine function of the cost. So each student's Pareto set is built exactly by merging
Pareto sets one capability at a time (no 2^k enumeration, no greedy step), and the tier's frontier
is the Pareto set of the union over students, plus the plans that need no router: each student
alone, and the teacher alone (the point that consents to nothing).

A student's Pareto set is kept to :data:`MAX_FRONTIER_POINTS` with a stated bound on what is
left out (``Frontier.thinning``, see :mod:`econ.decisions.pareto`).

The router is the tier's own; a tier without one borrows the first router another tier states,
and a scenario with none assumes a free, perfect router and says so (``Frontier.router``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from econ.decisions.pareto import (
    MAX_FRONTIER_POINTS,
    Choice,
    Thinning,
    pareto_merge,
    pareto_merge_thinned,
)
from econ.model.evaluate import Evaluation
from econ.model.loss import loss_drop
from econ.model.tiers import price_floor_usd_month, tier_measure
from econ.scenario.schema import Plan, Route, Scenario, Tier

__all__ = [
    "MAX_FRONTIER_POINTS",
    "Candidate",
    "Choice",
    "Frontier",
    "FrontierPoint",
    "Thinning",
    "consent_point",
    "merge_candidates",
    "merge_candidates_thinned",
    "pareto_merge",
    "pareto_merge_thinned",
    "point_plan",
    "tier_choices",
    "tier_frontier",
    "tier_router",
]

@dataclass(frozen=True)
class Candidate:
    """One student's routed plans for a tier: shared cost and loss, and per-capability choices."""

    student: str
    base_cost: float
    base_loss: float
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class FrontierPoint:
    consent: tuple[str, ...]
    cost_per_conversation_usd: float
    price_floor_usd_month: float | None  # None in a free tier: it has no floor
    loss_usd_month: float
    unmeasured: tuple[str, ...]
    student: str | None = None  # None: the teacher serves everything
    routed: bool = True  # False: one model serves everything, no router
    cost_per_user_month_usd: float = 0.0

    @property
    def measure_usd_month(self) -> float:
        """What the frontier trades loss against: the floor, or a free tier's cost per user."""
        if self.price_floor_usd_month is None:
            return self.cost_per_user_month_usd
        return self.price_floor_usd_month

    def to_json(self) -> dict[str, Any]:
        return {"consent": list(self.consent),
                "student": self.student,
                "routed": self.routed,
                "cost_per_conversation_usd": self.cost_per_conversation_usd,
                "cost_per_user_month_usd": self.cost_per_user_month_usd,
                "price_floor_usd_month": self.price_floor_usd_month,
                "loss_usd_month": self.loss_usd_month,
                "unmeasured": list(self.unmeasured)}


@dataclass(frozen=True)
class Frontier:
    tier: str
    points: tuple[FrontierPoint, ...]  # floor (cost per user) ascending, loss descending
    retained: tuple[str, ...]  # kept on the current student whatever the consent
    base_cost_per_conversation_usd: float
    base_loss_usd_month: float
    teacher: str = ""
    students: tuple[str, ...] = ()
    current: FrontierPoint | None = None  # the tier's plan and consent, as evaluate prices it
    no_consent: FrontierPoint | None = None  # the tier's teacher alone
    router: str = ""
    measure: str = "price floor"  # what the points trade loss against (tiers.tier_measure)
    thinning: Thinning = field(default_factory=Thinning)  # dropped == 0: the exact frontier

    def least_loss_within(self, target_usd_month: float) -> FrontierPoint | None:
        """The point with the least loss whose floor (a free tier: cost per user) is at or
        under the target."""
        ok = [p for p in self.points if p.measure_usd_month <= target_usd_month]
        return ok[-1] if ok else None

    def cheapest_under_loss(self, max_loss_usd_month: float) -> FrontierPoint | None:
        """The point with the lowest floor (cost per user) whose loss is at or under the
        budget."""
        return next((p for p in self.points if p.loss_usd_month <= max_loss_usd_month), None)


def tier_router(scenario: Scenario, tier: Tier) -> tuple[Route | None, str]:
    """The router a tier's routed plans use, and where it comes from."""
    if tier.plan.route is not None:
        return tier.plan.route, f"tier {tier.id}'s router"
    for t in scenario.tiers:
        if t.plan.route is not None:
            return t.plan.route, f"tier {t.id}'s router (tier {tier.id} has none)"
    return None, "no router in the scenario: a free, perfect router is assumed"


def _tier(ev: Evaluation, tier_id: str) -> Tier:
    return next(t for t in ev.scenario.tiers if t.id == tier_id)


def _retained(ev: Evaluation, teacher: str, student: str) -> tuple[str, ...]:
    return tuple(r.capability for r in ev.retention_against(teacher, student)
                 if r.verdict == "retained")


def tier_choices(ev: Evaluation, tier: Tier, student: str | None = None) -> Candidate:
    """One student's per-capability choices in a tier, and the cost and loss its routed plans
    share (router, uncategorised traffic, capabilities it keeps ``retained``)."""
    s = ev.scenario
    teacher = s.tier_teacher(tier)
    student = student or _plan_student(ev, tier) or s.student_id
    route, _ = tier_router(s, tier)
    e = route.router_error_rate if route else 0.0
    router = route.router_usd_per_conversation if route else 0.0
    conversations = tier.users * tier.conversations_per_user_month
    retained = set(_retained(ev, teacher, student))
    drops = {r.capability: loss_drop(r) for r in ev.retention_against(teacher, student)}
    costs = ev.costs
    rest = max(0.0, 1.0 - sum(c.traffic_share for c in s.capabilities))
    base_cost = router + rest * ((1 - e) * costs.uncategorised[teacher]
                                 + e * costs.uncategorised[student])
    base_loss = 0.0
    choices = []
    for c in s.capabilities:
        cs, ct = costs.per_capability[student][c.id], costs.per_capability[teacher][c.id]
        unit_loss = conversations * c.traffic_share * drops[c.id] * c.severity_usd
        on_student_cost = c.traffic_share * ((1 - e) * cs + e * ct)
        if c.id in retained:
            base_cost += on_student_cost
            base_loss += (1 - e) * unit_loss
            continue
        choices.append(Choice(c.id, on_student_cost, (1 - e) * unit_loss,
                              c.traffic_share * ((1 - e) * ct + e * cs), e * unit_loss))
    return Candidate(student, float(base_cost), float(base_loss), tuple(choices))


def merge_candidates(candidates: Sequence[Candidate],
                     extra: Sequence[tuple[float, float]] = (),
                     max_points: int = MAX_FRONTIER_POINTS,
                     ) -> list[tuple[float, float, int, int]]:
    """Pareto set over (candidate × consent set) and ``extra`` fixed points (exact while each
    candidate's set stays within ``max_points``).

    Returns (cost, loss, candidate index, mask) with cost ascending and loss descending; an
    extra point has candidate index ``len(candidates) + j`` and mask 0.
    """
    return merge_candidates_thinned(candidates, extra, max_points)[0]


def merge_candidates_thinned(candidates: Sequence[Candidate],
                             extra: Sequence[tuple[float, float]] = (),
                             max_points: int = MAX_FRONTIER_POINTS,
                             ) -> tuple[list[tuple[float, float, int, int]], Thinning]:
    """:func:`merge_candidates` with what thinning left out over every candidate."""
    cost_parts, loss_parts, who, mask_parts = [], [], [], []
    thinning = Thinning(max_points=max_points)
    for i, cand in enumerate(candidates):
        c, lo, m, thin = pareto_merge_thinned(cand.choices, max_points)
        thinning = thinning.merged(thin)
        cost_parts.append(c + cand.base_cost)
        loss_parts.append(lo + cand.base_loss)
        who.append(np.full(len(c), i))
        mask_parts.append(np.array(m, dtype=object))
    for j, (c_, l_) in enumerate(extra):
        cost_parts.append(np.array([c_]))
        loss_parts.append(np.array([l_]))
        who.append(np.array([len(candidates) + j]))
        mask_parts.append(np.array([0], dtype=object))
    if not cost_parts:
        return [], thinning
    cost = np.concatenate(cost_parts)
    loss = np.concatenate(loss_parts)
    ids = np.concatenate(who)
    masks = np.concatenate(mask_parts)
    order = np.lexsort((ids, loss, cost))
    cost, loss, ids, masks = cost[order], loss[order], ids[order], masks[order]
    best_before = np.minimum.accumulate(np.concatenate([[np.inf], loss[:-1]]))
    keep = loss < best_before
    return [(float(c), float(lo), int(i), int(m)) for c, lo, i, m in
            zip(cost[keep], loss[keep], ids[keep], masks[keep], strict=True)], thinning


def _plan_student(ev: Evaluation, tier: Tier) -> str | None:
    """The non-teacher model of a tier's plan (its default model first)."""
    res = ev.tier(tier.id)
    return next((m for m in res.assignment.models if m != res.teacher), None)


def _unmeasured(ev: Evaluation, teacher: str, student: str | None,
                consent: Sequence[str]) -> tuple[str, ...]:
    if student is None:
        return ()
    none = {r.capability for r in ev.retention_against(teacher, student) if r.drop is None}
    return tuple(c for c in consent if c in none)


def _point(ev: Evaluation, tier: Tier, cost: float, loss: float, consent: tuple[str, ...],
           student: str | None, routed: bool) -> FrontierPoint:
    per_user = tier.conversations_per_user_month * float(cost)
    floor = None if tier.price_usd_month <= 0 else float(price_floor_usd_month(
        per_user, tier.target_gross_margin, ev.scenario.fees))
    teacher = ev.scenario.tier_teacher(tier)
    return FrontierPoint(consent, float(cost), floor, float(loss),
                         _unmeasured(ev, teacher, student, consent), student, routed, per_user)


def _alone(ev: Evaluation, tier: Tier, model: str) -> tuple[float, float]:
    """Cost and loss of one model serving the whole tier, no router."""
    s = ev.scenario
    teacher = s.tier_teacher(tier)
    cost = ev.model_cost_per_conversation_usd[model]
    if model == teacher:
        return cost, 0.0
    drops = {r.capability: loss_drop(r) for r in ev.retention_against(teacher, model)}
    conversations = tier.users * tier.conversations_per_user_month
    loss = sum(conversations * c.traffic_share * drops[c.id] * c.severity_usd
               for c in s.capabilities)
    return cost, float(loss)


def tier_frontier(ev: Evaluation, tier_id: str) -> Frontier:
    s = ev.scenario
    tier = _tier(ev, tier_id)
    teacher = s.tier_teacher(tier)
    students = tuple(m for m in s.model_ids("student") if m != teacher)
    candidates = [tier_choices(ev, tier, st) for st in students]
    extra = [_alone(ev, tier, st) for st in students] + [_alone(ev, tier, teacher)]
    points = []
    merged, thinning = merge_candidates_thinned(candidates, extra)
    for cost, loss, i, mask in merged:
        if i < len(candidates):
            cand = candidates[i]
            consent = tuple(ch.capability for j, ch in enumerate(cand.choices) if mask >> j & 1)
            points.append(_point(ev, tier, cost, loss, consent, cand.student, True))
        elif i - len(candidates) < len(students):
            st = students[i - len(candidates)]
            retained = set(_retained(ev, teacher, st))
            consent = tuple(c.id for c in s.capabilities if c.id not in retained)
            points.append(_point(ev, tier, cost, loss, consent, st, False))
        else:
            points.append(_point(ev, tier, cost, loss, (), None, False))
    t_cost, _ = _alone(ev, tier, teacher)
    no_consent = _point(ev, tier, t_cost, 0.0, (), None, False)
    res = ev.tier(tier_id)
    plan_student = _plan_student(ev, tier)
    current = FrontierPoint(
        res.consent, res.economics.cost_per_conversation_usd,
        res.economics.price_floor_usd_month, res.loss_usd_month,
        _unmeasured(ev, teacher, plan_student, res.consent), plan_student,
        res.assignment.route_to is not None, res.economics.cost_per_user_month_usd)
    base = tier_choices(ev, tier)
    _, router = tier_router(s, tier)
    return Frontier(tier_id, tuple(points), _retained(ev, teacher, base.student),
                    base.base_cost, base.base_loss, teacher, students, current, no_consent,
                    router, tier_measure(tier.price_usd_month), thinning)


def consent_point(ev: Evaluation, tier_id: str, consent: Sequence[str],
                  student: str | None = None) -> FrontierPoint:
    """Where one consent set of a routed plan with ``student`` (default: the tier's plan's, or
    the first student) lies in a tier's frontier plane (on the frontier or not)."""
    tier = _tier(ev, tier_id)
    cand = tier_choices(ev, tier, student)
    cost, loss = cand.base_cost, cand.base_loss
    chosen = set(consent)
    for ch in cand.choices:
        on = ch.capability in chosen
        cost += ch.consent_cost if on else ch.keep_cost
        loss += ch.consent_loss if on else ch.keep_loss
    picked = tuple(ch.capability for ch in cand.choices if ch.capability in chosen)
    return _point(ev, tier, cost, loss, picked, cand.student, True)


def point_plan(ev: Evaluation, tier_id: str, point: FrontierPoint) -> Plan:
    """The tier plan that a frontier point prices (with the point's consent as the tier's
    consent, ``evaluate`` gives the point's floor and loss)."""
    s = ev.scenario
    tier = _tier(ev, tier_id)
    teacher = s.tier_teacher(tier)
    if point.student is None:
        return Plan(model=teacher)
    if not point.routed:
        return Plan(model=point.student)
    route, _ = tier_router(s, tier)
    return Plan(model=point.student, route=Route(
        to=teacher, capabilities="unconsented",
        router_usd_per_conversation=route.router_usd_per_conversation if route else 0.0,
        router_error_rate=route.router_error_rate if route else 0.0))
