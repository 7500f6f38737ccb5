"""Evaluate a scenario: every headline figure, from validated inputs, as one frozen result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from econ.evidence.retention import Retention, SliceResults, compare_slices
from econ.model.cost import CostTable, TokenTimeModel, cost_table
from econ.model.loss import Consequence, consequence, loss_drop, plan_loss_usd_month
from econ.model.plans import Assignment, plan_cost_per_conversation, resolve_plan, served_share
from econ.model.prices import TokenPrices
from econ.model.tiers import Blend, TierEconomics, blend_tiers, tier_economics
from econ.scenario.schema import Scenario

__all__ = [
    "Coverage",
    "EvalData",
    "Evaluation",
    "Measured",
    "TierResult",
    "coverage",
    "evaluate",
    "inline_eval_data",
    "retention_table",
]

EvalData = Mapping[str, Mapping[str, SliceResults]]  # capability -> model -> results


@dataclass(frozen=True)
class Measured:
    """What the scenario's measurements resolve to: prices, GPU time models, eval results."""

    prices: Mapping[str, TokenPrices]
    time_models: Mapping[str, TokenTimeModel]
    evals: EvalData
    eval_only_capabilities: tuple[str, ...] = ()
    fits: Mapping[str, Any] = field(default_factory=dict)  # model -> econ.model.fit.Fit


def inline_eval_data(scenario: Scenario) -> dict[str, dict[str, SliceResults]]:
    return {c.id: {mid: SliceResults(e.examples, e.passed) for mid, e in c.evals.items()}
            for c in scenario.capabilities}


@dataclass(frozen=True)
class Coverage:
    unmeasured_traffic_share: float
    underpowered_traffic_share: float
    uncategorised_traffic_share: float
    unmeasured_capabilities: tuple[str, ...]
    underpowered_capabilities: tuple[str, ...]
    unmeasured_traffic_share_by_model: Mapping[str, float]
    eval_only_capabilities: tuple[str, ...]


@dataclass(frozen=True)
class TierResult:
    economics: TierEconomics
    assignment: Assignment
    at_risk: tuple[str, ...]  # served by a non-teacher model without consent or shown retention
    loss_usd_month: float
    pessimistic_loss: tuple[str, ...]  # capabilities whose loss is counted at the prior's worst


@dataclass(frozen=True)
class Evaluation:
    scenario: Scenario
    costs: CostTable
    model_cost_per_conversation_usd: Mapping[str, float]
    retention: tuple[Retention, ...]
    consequences: tuple[Consequence, ...]
    coverage: Coverage
    tiers: tuple[TierResult, ...]
    blend: Blend
    conversations_month: float
    consent: tuple[str, ...] = field(default=())

    def retention_of(self, capability: str) -> Retention:
        return next(r for r in self.retention if r.capability == capability)


def retention_table(scenario: Scenario, evals: EvalData,
                    model: str | None = None) -> tuple[Retention, ...]:
    """Retention of every scenario capability, teacher against ``model`` (the student)."""
    teacher, student = scenario.teacher_id, model or scenario.student_id
    return tuple(
        compare_slices(c.id, evals.get(c.id, {}).get(teacher), evals.get(c.id, {}).get(student),
                       c.tolerance)
        for c in scenario.capabilities
    )


def coverage(scenario: Scenario, retention: Iterable[Retention], evals: EvalData,
             eval_only: Iterable[str] = ()) -> Coverage:
    share = {c.id: c.traffic_share for c in scenario.capabilities}
    rets = list(retention)
    unmeasured = tuple(r.capability for r in rets if r.verdict == "unmeasured")
    underpowered = tuple(r.capability for r in rets if r.underpowered)
    used = {t.plan.model for t in scenario.tiers} | {
        t.plan.route.to for t in scenario.tiers if t.plan.route is not None}
    by_model = {
        mid: sum(c.traffic_share for c in scenario.capabilities
                 if evals.get(c.id, {}).get(mid, SliceResults(0, 0)).examples == 0)
        for mid in scenario.models if mid in used
    }
    return Coverage(
        unmeasured_traffic_share=sum(share[c] for c in unmeasured),
        underpowered_traffic_share=sum(share[c] for c in underpowered),
        uncategorised_traffic_share=max(0.0, 1.0 - sum(share.values())),
        unmeasured_capabilities=unmeasured,
        underpowered_capabilities=underpowered,
        unmeasured_traffic_share_by_model=by_model,
        eval_only_capabilities=tuple(eval_only),
    )


def evaluate(scenario: Scenario, measured: Measured,
             consent: Iterable[str] | None = None) -> Evaluation:
    """Every headline output of a scenario; ``consent`` replaces the scenario's consent set."""
    consent_set = tuple(scenario.consent if consent is None else consent)
    costs = cost_table(scenario, measured.prices, measured.time_models)
    retention = retention_table(scenario, measured.evals)
    retained = {r.capability for r in retention if r.verdict == "retained"}
    conversations = sum(t.users * t.conversations_per_user_month for t in scenario.tiers)
    caps = [c.id for c in scenario.capabilities]
    severity = {c.id: c.severity_usd for c in scenario.capabilities}
    share = {c.id: c.traffic_share for c in scenario.capabilities}
    drops = {r.capability: loss_drop(r) for r in retention}
    consequences = tuple(
        consequence(r, conversations * share[r.capability], severity[r.capability])
        for r in retention)
    teacher = scenario.teacher_id
    tiers = []
    for t in scenario.tiers:
        a = resolve_plan(t.plan, caps, consent_set, retained)
        econ = tier_economics(t, float(plan_cost_per_conversation(a, scenario, costs)),
                              scenario.fees)
        at_risk = tuple(c for c in caps
                        if a.primary(c) != teacher and c not in consent_set and c not in retained)
        loss = float(plan_loss_usd_month(a, scenario, t.users * t.conversations_per_user_month,
                                         drops))
        pessimistic = [r.capability for r in retention
                       if r.drop is None and served_share(a, r.capability, scenario.student_id)]
        tiers.append(TierResult(econ, a, at_risk, loss, tuple(pessimistic)))
    model_costs = {mid: float(plan_cost_per_conversation(
        Assignment(mid, None, frozenset(), 0.0, 0.0), scenario, costs)) for mid in scenario.models}
    return Evaluation(
        scenario=scenario,
        costs=costs,
        model_cost_per_conversation_usd=model_costs,
        retention=retention,
        consequences=consequences,
        coverage=coverage(scenario, retention, measured.evals, measured.eval_only_capabilities),
        tiers=tuple(tiers),
        blend=blend_tiers([t.economics for t in tiers]),
        conversations_month=conversations,
        consent=consent_set,
    )

