"""Distillation payback against the best plan without distillation, per tier and overall.

In: an :class:`~econ.model.evaluate.Evaluation`. Out: a frozen :class:`Payback` (None when the
scenario states no distillation). May import econ.base … econ.model.

The distilled model is ``distillation.model`` (default: every student some tier's plan serves).
A tier whose plan serves no distilled model is its own baseline: distillation changes nothing
for it. For any other tier the baseline is the best plan without a distilled model, by the
tier's own objective (monthly serving cost plus capability loss, against the tier's teacher,
with the tier's consent set, as the frontier weighs them), among

- the tier's plan with each distilled model in it (default model, route target) replaced by
  every undistilled candidate: the same consent set and routing (a route whose target becomes
  the default model is dropped, one model needs no router);
- the tier's stated ``baseline:`` plan, when it serves no distilled model;
- the tier's teacher alone.

Ties go to the first in that order. Then, per tier:

- gross savings = baseline serving cost − plan serving cost (USD/month);
- added loss = plan capability loss − baseline capability loss (USD/month);
- net of loss = gross savings − added loss;
- cash payback = one-off cost ÷ gross savings, net-of-loss payback = one-off ÷ net (months; None,
  "never", with the reason, when the divisor is not positive). A tier's paybacks are those of the
  whole one-off cost carried by that tier alone; the overall ones divide it by the sums.

One distillation costs GPU-hours × $/GPU-hour + evaluation + data + people; with a
re-distillation cadence of M months a year holds ceil(12 ÷ M) distillations (the first at month
0), and the 12-month figures are 12 × savings − distillations a year × one-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from econ.base.formatting import number
from econ.model.evaluate import Evaluation, TierResult, tier_result
from econ.model.plans import Assignment
from econ.scenario.schema import Plan, Scenario, Tier

__all__ = ["BaselineCandidate", "Payback", "TierPayback", "baseline_candidates",
           "distilled_models", "payback", "plan_words"]


@dataclass(frozen=True)
class BaselineCandidate:
    """One plan without distillation that a tier's baseline was chosen from."""

    plan: str  # in words
    cost_usd_month: float
    loss_usd_month: float

    @property
    def objective_usd_month(self) -> float:
        return self.cost_usd_month + self.loss_usd_month

    def to_json(self) -> dict[str, Any]:
        return {"plan": self.plan, "cost_usd_month": self.cost_usd_month,
                "loss_usd_month": self.loss_usd_month,
                "cost_plus_loss_usd_month": self.objective_usd_month}


@dataclass(frozen=True)
class TierPayback:
    tier: str
    serves_distilled_model: bool
    baseline: str  # the baseline plan, in words
    baseline_model: str
    baseline_route_to: str | None
    baseline_assignment: Assignment
    baseline_cost_usd_month: float
    plan_cost_usd_month: float
    baseline_loss_usd_month: float
    plan_loss_usd_month: float
    gross_savings_usd_month: float
    added_loss_usd_month: float
    net_of_loss_savings_usd_month: float
    cash_payback_months: float | None  # the whole one-off carried by this tier alone
    net_of_loss_payback_months: float | None
    cash_payback_never_because: str | None
    net_of_loss_payback_never_because: str | None
    candidates: tuple[BaselineCandidate, ...] = ()

    def to_json(self) -> dict[str, Any]:
        a = self.baseline_assignment
        out = {k: getattr(self, k) for k in self.__dataclass_fields__
               if k not in ("baseline_assignment", "candidates")}
        out["baseline_routed_capabilities"] = sorted(a.routed) if a.route_to else []
        out["baseline_candidates"] = [c.to_json() for c in self.candidates]
        return out


@dataclass(frozen=True)
class Payback:
    one_off_usd: float
    distilled_models: tuple[str, ...]
    distilled_models_stated: bool  # False: every student a tier serves is taken as distilled
    baseline_cost_usd_month: float  # the tiers' baselines' serving cost
    plan_cost_usd_month: float
    gross_savings_usd_month: float
    added_loss_usd_month: float
    net_of_loss_savings_usd_month: float
    cash_payback_months: float | None
    net_of_loss_payback_months: float | None
    cash_payback_never_because: str | None
    net_of_loss_payback_never_because: str | None
    distillations_per_year: int
    cash_12_months_usd: float
    net_of_loss_12_months_usd: float
    tiers: tuple[TierPayback, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "tiers"}
        out["distilled_models"] = list(self.distilled_models)
        out["tiers"] = {t.tier: t.to_json() for t in self.tiers}
        return out


def distilled_models(s: Scenario) -> tuple[tuple[str, ...], bool]:
    """The models the distillation produces, and whether the scenario names them."""
    d = s.distillation
    if d is not None and d.model is not None:
        return (d.model,), True
    served = [m for t in s.tiers for m in (t.plan.model, t.plan.route.to if t.plan.route else None)
              if m is not None and s.models[m].role == "student"]
    return tuple(dict.fromkeys(served)), False


def plan_words(plan: Plan) -> str:
    if plan.route is None:
        return f"{plan.model} alone"
    what = plan.route.capabilities
    routed = "unconsented capabilities" if what == "unconsented" else ", ".join(what) or "nothing"
    return f"{plan.model}, {routed} routed to {plan.route.to}"


def baseline_candidates(s: Scenario, tier: Tier, teacher: str,
                        distilled: tuple[str, ...]) -> tuple[Plan, ...]:
    """The plans without a distilled model a tier's baseline is chosen from (see the module)."""
    undistilled = [m for m in s.models if m not in distilled]

    def subs(model: str) -> list[str]:
        return undistilled if model in distilled else [model]

    plans: list[Plan] = []
    if tier.baseline is not None:
        plans.append(tier.baseline)
    route = tier.plan.route
    for model in subs(tier.plan.model):
        if route is None:
            plans.append(Plan(model=model))
            continue
        for to in subs(route.to):
            plans.append(Plan(model=model) if to == model else
                         Plan(model=model, route=route.model_copy(update={"to": to})))
    plans.append(Plan(model=teacher))
    unique = {p.model_dump_json(): p for p in reversed(plans)}  # first occurrence wins
    ordered = [p for p in plans if unique.get(p.model_dump_json()) is p]
    return tuple(p for p in ordered
                 if p.model not in distilled and (p.route is None or p.route.to not in distilled))


def _never(gross: float, net: float, added: float, serves: bool,
           who: str, s: str) -> tuple[str | None, str | None]:
    """Why the cash and the net-of-loss paybacks never come (None when they do); ``who`` is
    the subject, ``s`` the verb ending that agrees with it."""
    if not serves:
        reason = f"{who} serve{s} no distilled model (it is its own baseline)"
        return reason, reason
    cash = None
    if gross < 0:
        cash = (f"{who} cost{s} {number(-gross, 0, 'USD')}/month more than {who} would without "
                "distillation")
    elif gross == 0:
        cash = f"{who} cost{s} the same as without distillation"
    if net > 0:
        return cash, None
    if cash is not None:
        return cash, cash
    return None, (f"the capability loss {who} add{s} ({number(added, 0, 'USD')}/month) is at "
                  f"least the gross savings ({number(gross, 0, 'USD')}/month)")


def _months(one_off: float, per_month: float) -> float | None:
    return one_off / per_month if per_month > 0 else None


def _tier(ev: Evaluation, t: Tier, res: TierResult, distilled: tuple[str, ...],
          one_off: float) -> TierPayback:
    s = ev.scenario
    serves = any(m in distilled for m in res.assignment.models)
    if serves:
        fixed = t.model_copy(update={"teacher": res.teacher})  # the tier's teacher, whatever plan
        tried = [(p, tier_result(s, fixed.model_copy(update={"plan": p}), res.consent, ev.costs,
                                 ev.pairs))
                 for p in baseline_candidates(s, t, res.teacher, distilled)]
        plan, base = min(tried, key=lambda pr: pr[1].economics.cost_usd_month
                         + pr[1].loss_usd_month)
    else:
        plan, base, tried = t.plan, res, []
    gross = base.economics.cost_usd_month - res.economics.cost_usd_month
    added = res.loss_usd_month - base.loss_usd_month
    net = gross - added
    cash_why, net_why = _never(gross, net, added, serves, f"tier {t.id}'s plan", "s")
    return TierPayback(
        tier=t.id, serves_distilled_model=serves, baseline=plan_words(plan),
        baseline_model=plan.model, baseline_route_to=plan.route.to if plan.route else None,
        baseline_assignment=base.assignment,
        baseline_cost_usd_month=base.economics.cost_usd_month,
        plan_cost_usd_month=res.economics.cost_usd_month,
        baseline_loss_usd_month=base.loss_usd_month, plan_loss_usd_month=res.loss_usd_month,
        gross_savings_usd_month=gross, added_loss_usd_month=added,
        net_of_loss_savings_usd_month=net,
        cash_payback_months=_months(one_off, gross) if cash_why is None else None,
        net_of_loss_payback_months=_months(one_off, net) if net_why is None else None,
        cash_payback_never_because=cash_why, net_of_loss_payback_never_because=net_why,
        candidates=tuple(BaselineCandidate(plan_words(p), r.economics.cost_usd_month,
                                           r.loss_usd_month) for p, r in tried))


def payback(ev: Evaluation) -> Payback | None:
    """Payback of the scenario's distillation against each tier's best plan without it."""
    s = ev.scenario
    d = s.distillation
    if d is None:
        return None
    distilled, stated = distilled_models(s)
    one_off = d.gpu_hours * d.usd_per_gpu_hour + d.eval_usd + d.data_usd + d.people_usd
    rows = tuple(_tier(ev, t, res, distilled, one_off)
                 for t, res in zip(s.tiers, ev.tiers, strict=True))
    gross = sum(r.gross_savings_usd_month for r in rows)
    added = sum(r.added_loss_usd_month for r in rows)
    net = gross - added
    serves = any(r.serves_distilled_model for r in rows)
    cash_why, net_why = _never(gross, net, added, serves, "the plans", "")
    if not serves:
        cash_why = net_why = "no tier's plan serves a distilled model"
    per_year = math.ceil(12 / d.redistill_every_months) if d.redistill_every_months else 1
    return Payback(
        one_off_usd=one_off, distilled_models=distilled, distilled_models_stated=stated,
        baseline_cost_usd_month=sum(r.baseline_cost_usd_month for r in rows),
        plan_cost_usd_month=sum(r.plan_cost_usd_month for r in rows),
        gross_savings_usd_month=gross, added_loss_usd_month=added,
        net_of_loss_savings_usd_month=net,
        cash_payback_months=_months(one_off, gross) if cash_why is None else None,
        net_of_loss_payback_months=_months(one_off, net) if net_why is None else None,
        cash_payback_never_because=cash_why, net_of_loss_payback_never_because=net_why,
        distillations_per_year=per_year,
        cash_12_months_usd=12 * gross - per_year * one_off,
        net_of_loss_12_months_usd=12 * net - per_year * one_off, tiers=rows)
