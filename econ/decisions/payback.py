"""Distillation payback against the best plan without distillation, per tier and overall.

The baseline of a tier is the plan it would have without a distilled student: its ``baseline:``
plan if the scenario states one, else its teacher alone. For each tier:

- gross savings = baseline serving cost − plan serving cost (USD/month);
- added loss = plan capability loss − baseline capability loss (USD/month): what the tier's
  consent set (and any unconsented risk) costs in failed conversations;
- net = gross savings − added loss.

One distillation costs GPU-hours × $/GPU-hour + evaluation + data + people; with a
re-distillation cadence of M months, a year holds ceil(12 ÷ M) distillations (the first at month
0). Payback months = one-off cost ÷ overall net (None when the net is not positive); 12-month
net = 12 × net − distillations a year × one-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from econ.model.evaluate import Evaluation
from econ.scenario.schema import Plan, Scenario

__all__ = ["Payback", "TierPayback", "baseline_scenario", "payback"]


@dataclass(frozen=True)
class TierPayback:
    tier: str
    baseline: str  # the baseline plan, in words
    baseline_cost_usd_month: float
    plan_cost_usd_month: float
    gross_savings_usd_month: float
    added_loss_usd_month: float
    net_usd_month: float

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Payback:
    one_off_usd: float
    teacher_only_cost_usd_month: float  # the baselines' serving cost (each tier's teacher)
    plan_cost_usd_month: float
    savings_usd_month: float  # gross
    payback_months: float | None  # None when the net saves nothing
    distillations_per_year: int
    net_12_months_usd: float
    added_loss_usd_month: float = 0.0
    net_usd_month: float = 0.0
    tiers: tuple[TierPayback, ...] = field(default=())

    @property
    def gross_savings_usd_month(self) -> float:
        return self.savings_usd_month


def baseline_scenario(s: Scenario) -> Scenario:
    """The scenario with every tier on its baseline plan (its ``baseline`` or its teacher)."""
    data = s.model_dump(mode="python")
    for t, raw in zip(s.tiers, data["tiers"], strict=True):
        plan = t.baseline or Plan(model=s.tier_teacher(t))
        raw["plan"] = plan.model_dump(mode="python", exclude_none=True)
    return Scenario.model_validate(data)


def _describe(plan: Plan) -> str:
    if plan.route is None:
        return f"{plan.model} alone"
    return f"{plan.model}, routed to {plan.route.to}"


def payback(ev: Evaluation, baseline: Evaluation | None = None) -> Payback | None:
    """Payback of the scenario's distillation; ``baseline`` is the evaluation of
    :func:`baseline_scenario` (computed from ``ev`` when not given)."""
    s = ev.scenario
    d = s.distillation
    if d is None:
        return None
    if baseline is None:
        baseline = _baseline_evaluation(ev)
    one_off = d.gpu_hours * d.usd_per_gpu_hour + d.eval_usd + d.data_usd + d.people_usd
    rows = []
    for t, res, base in zip(s.tiers, ev.tiers, baseline.tiers, strict=True):
        gross = base.economics.cost_usd_month - res.economics.cost_usd_month
        added = res.loss_usd_month - base.loss_usd_month
        rows.append(TierPayback(t.id, _describe(t.baseline or Plan(model=s.tier_teacher(t))),
                                base.economics.cost_usd_month, res.economics.cost_usd_month,
                                gross, added, gross - added))
    base_cost = sum(r.baseline_cost_usd_month for r in rows)
    plan_cost = sum(r.plan_cost_usd_month for r in rows)
    gross = sum(r.gross_savings_usd_month for r in rows)
    added = sum(r.added_loss_usd_month for r in rows)
    net = gross - added
    per_year = math.ceil(12 / d.redistill_every_months) if d.redistill_every_months else 1
    months = one_off / net if net > 0 else None
    return Payback(one_off, base_cost, plan_cost, gross, months, per_year,
                   12 * net - per_year * one_off, added, net, tuple(rows))


def _baseline_evaluation(ev: Evaluation) -> Evaluation:
    """Evaluate the baseline plans with the same measurements and consent sets."""
    from econ.model.evaluate import evaluate

    if ev.measured is None:
        raise ValueError("payback needs an evaluation that kept its measurements")
    return evaluate(baseline_scenario(ev.scenario), ev.measured,
                    consent={t.economics.tier: t.consent for t in ev.tiers})
