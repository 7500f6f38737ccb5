"""Tier figures written out again for the tests, independently of econ's plan, tier, loss,
coverage and payback code.

Inputs: the raw scenario YAML and what ``econ evaluate --json`` reports per model and capability
(the cost of one conversation, checked by hand in test_golden.py). Retention verdicts (which
capabilities a model keeps, for an ``unconsented`` route) come from
``econ.evidence.retention.compare_slices`` judged as one family per comparison by
``econ.evidence.family.judge_family`` (the scenario's multiplicity correction, inline
``paired_with`` counts paired), which test_verdicts.py checks against statsmodels; everything
else (routing, cost per user, floor, loss, coverage, baseline choice, payback) is computed here
from the rules as DESIGN.md states them.
"""

from __future__ import annotations

import math
from typing import Any

from econ.evidence.family import judge_family
from econ.evidence.retention import Retention, SliceResults, compare_slices

PESSIMISTIC_STUDENT_PASS_RATE = 0.025  # the uniform prior's 2.5% quantile

Plan = dict[str, Any]


class Hand:
    def __init__(self, y: dict[str, Any], out: dict[str, Any]) -> None:
        self.y, self.out = y, out
        self.caps = y["capabilities"]
        self.rest = max(0.0, 1.0 - sum(c["traffic_share"] for c in self.caps))
        self._family: dict[tuple[str, str], dict[str, Retention]] = {}

    def family(self, teacher: str, model: str) -> dict[str, Retention]:
        """The comparison's verdicts: every capability of ``model`` against ``teacher``."""
        if (teacher, model) not in self._family:
            rets = []
            for c in self.caps:
                ev = c.get("evals", {})
                disc = (ev.get(model, {}).get("paired_with") or {}).get(teacher)
                if disc is None:
                    disc = (ev.get(teacher, {}).get("paired_with") or {}).get(model)
                (nt, pt), (ns, ps) = self.counts(c, teacher), self.counts(c, model)
                rets.append(compare_slices(c["id"], SliceResults(nt, pt), SliceResults(ns, ps),
                                           c.get("tolerance", 0.02), disc, settle=False))
            self._family[(teacher, model)] = {
                r.capability: r for r in judge_family(rets, self.y.get("multiplicity", "holm"))}
        return self._family[(teacher, model)]

    # --- who is who -------------------------------------------------------------------------
    def tier(self, tier_id: str) -> dict[str, Any]:
        return next(t for t in self.y["tiers"] if t["id"] == tier_id)

    def role(self, model: str) -> str:
        return str(self.y["models"][model]["role"])

    def teacher(self, tier: dict[str, Any]) -> str:
        if tier.get("teacher"):
            return str(tier["teacher"])
        plan = tier["plan"]
        for m in (plan["model"], plan.get("route", {}).get("to")):
            if m and self.role(m) == "teacher":
                return str(m)
        return str(self.y.get("reference") or next(
            k for k, v in self.y["models"].items() if v["role"] == "teacher"))

    def consent(self, tier: dict[str, Any]) -> list[str]:
        c = tier.get("consent")
        return list(self.y.get("consent", []) if c is None else c)

    def conversations(self, tier: dict[str, Any]) -> float:
        return float(tier["users"] * tier["conversations_per_user_month"])

    # --- evals ------------------------------------------------------------------------------
    def counts(self, cap: dict[str, Any], model: str) -> tuple[int, int]:
        e = cap.get("evals", {}).get(model)
        return (e["examples"], e["passed"]) if e else (0, 0)

    def measured(self, cap: dict[str, Any], teacher: str, model: str) -> bool:
        return self.counts(cap, teacher)[0] > 0 and self.counts(cap, model)[0] > 0

    def drop(self, cap: dict[str, Any], teacher: str, model: str) -> float:
        """Pass-rate drop priced as loss: measured, or the prior's pessimistic end."""
        (nt, pt), (ns, ps) = self.counts(cap, teacher), self.counts(cap, model)
        t = pt / nt if nt else None
        if t is None or not ns:
            return max(0.0, (1.0 if t is None else t) - PESSIMISTIC_STUDENT_PASS_RATE)
        return max(0.0, t - ps / ns)

    def verdict(self, cap: dict[str, Any], teacher: str, model: str) -> str:
        return self.family(teacher, model)[cap["id"]].verdict

    # --- money ------------------------------------------------------------------------------
    def unit_cost(self, model: str, cap: dict[str, Any] | None) -> float:
        """USD per conversation of one capability (None: uncategorised traffic) on ``model``."""
        m = self.out["models"][model]
        by_cap = m["cost_per_conversation_usd_by_capability"]
        if cap is not None:
            return float(by_cap[cap["id"]])
        if self.rest <= 0:
            return 0.0
        covered = sum(c["traffic_share"] * by_cap[c["id"]] for c in self.caps)
        return float((m["cost_per_conversation_usd"] - covered) / self.rest)

    def served(self, plan: Plan, tier: dict[str, Any],
               cap: dict[str, Any] | None) -> dict[str, float]:
        """model -> share of the capability's conversations it serves under ``plan``."""
        default, route = plan["model"], plan.get("route")
        if route is None or route["to"] == default:
            return {default: 1.0}
        what = route.get("capabilities", "unconsented")
        if what == "unconsented":
            teacher = self.teacher(tier)
            keep = set(self.consent(tier)) | {
                c["id"] for c in self.caps
                if default != teacher and self.verdict(c, teacher, default) == "retained"}
            routed = cap is None or cap["id"] not in keep
        else:
            routed = cap is not None and cap["id"] in what
        e = route.get("router_error_rate", 0.0)
        primary, other = (route["to"], default) if routed else (default, route["to"])
        return {primary: 1.0 - e, other: e}

    def cost_per_conversation(self, plan: Plan, tier: dict[str, Any]) -> float:
        route = plan.get("route")
        total = route.get("router_usd_per_conversation", 0.0) if route else 0.0
        for cap, share in [(c, c["traffic_share"]) for c in self.caps] + [(None, self.rest)]:
            total += share * sum(w * self.unit_cost(m, cap)
                                 for m, w in self.served(plan, tier, cap).items())
        return float(total)

    def cost_month(self, plan: Plan, tier: dict[str, Any]) -> float:
        return self.conversations(tier) * self.cost_per_conversation(plan, tier)

    def loss_month(self, plan: Plan, tier: dict[str, Any]) -> float:
        """Severity-weighted extra failures a month against the tier's teacher."""
        teacher = self.teacher(tier)
        return sum(self.conversations(tier) * c["traffic_share"] * w
                   * self.drop(c, teacher, m) * c["severity_usd"]
                   for c in self.caps for m, w in self.served(plan, tier, c).items()
                   if m != teacher)

    # --- coverage ---------------------------------------------------------------------------
    def coverage(self, tier: dict[str, Any]) -> dict[str, Any]:
        """Shares of the tier's conversations a model other than its teacher serves: on
        capabilities without eval results for it or the teacher, on undecided ones whose slice
        cannot detect a drop of the tolerance, and on traffic no capability claims."""
        teacher, plan = self.teacher(tier), tier["plan"]
        out: dict[str, Any] = {"unmeasured": 0.0, "underpowered": 0.0, "uncategorised": 0.0,
                               "unmeasured_caps": [], "underpowered_caps": []}
        for c in self.caps:
            for m, w in self.served(plan, tier, c).items():
                if m == teacher or w == 0:
                    continue
                nt, ns = self.counts(c, teacher)[0], self.counts(c, m)[0]
                if not nt or not ns:
                    out["unmeasured"] += c["traffic_share"] * w
                    out["unmeasured_caps"].append(c["id"])
                    continue
                r = self.family(teacher, m)[c["id"]]
                if r.verdict == "inconclusive" and r.underpowered:
                    out["underpowered"] += c["traffic_share"] * w
                    out["underpowered_caps"].append(c["id"])
        out["uncategorised"] = self.rest * sum(
            w for m, w in self.served(plan, tier, None).items() if m != teacher)
        for k in ("unmeasured_caps", "underpowered_caps"):
            out[k] = list(dict.fromkeys(out[k]))
        return out

    def blend(self, key: str) -> float:
        """A tier figure blended over the tiers by their conversations a month."""
        tiers = self.y["tiers"]
        total = sum(self.conversations(t) for t in tiers)
        return sum(self.conversations(t) * self.coverage(t)[key] for t in tiers) / total

    # --- payback ----------------------------------------------------------------------------
    def distilled(self) -> list[str]:
        d = self.y["distillation"]
        if d.get("model"):
            return [d["model"]]
        served = []
        for t in self.y["tiers"]:
            for m in (t["plan"]["model"], t["plan"].get("route", {}).get("to")):
                if m and self.role(m) == "student" and m not in served:
                    served.append(m)
        return served

    def one_off(self) -> float:
        d = self.y["distillation"]
        return float(d.get("gpu_hours", 0) * d.get("usd_per_gpu_hour", 0) + d.get("data_usd", 0)
                     + d.get("eval_usd", 0) + d.get("people_usd", 0))

    def baseline_plans(self, tier: dict[str, Any]) -> list[Plan]:
        """Every plan without a distilled model the tier's baseline is picked from."""
        distilled = self.distilled()
        others = [m for m in self.y["models"] if m not in distilled]
        plan = tier["plan"]
        out: list[Plan] = [tier["baseline"]] if tier.get("baseline") else []
        defaults = others if plan["model"] in distilled else [plan["model"]]
        for m in defaults:
            if "route" not in plan:
                out.append({"model": m})
                continue
            targets = others if plan["route"]["to"] in distilled else [plan["route"]["to"]]
            for to in targets:
                out.append({"model": m} if to == m else
                           {"model": m, "route": {**plan["route"], "to": to}})
        out.append({"model": self.teacher(tier)})
        return [p for p in out if p["model"] not in distilled
                and p.get("route", {}).get("to") not in distilled]

    def baseline(self, tier: dict[str, Any]) -> Plan:
        """The tier's plan itself when it serves no distilled model, else the plan without one
        of least monthly cost plus loss."""
        plan = tier["plan"]
        if not {plan["model"], plan.get("route", {}).get("to")} & set(self.distilled()):
            return dict(plan)
        plans = self.baseline_plans(tier)
        scores = [self.cost_month(p, tier) + self.loss_month(p, tier) for p in plans]
        return plans[scores.index(min(scores))]


def months(one_off: float, per_month: float) -> float | None:
    return one_off / per_month if per_month > 0 else None


def duration_words(m: float | None) -> str:
    """As econ prints a span: hours under two days, days under two months, else months."""
    if m is None:
        return "never"
    days = m * 365.25 / 12
    if days * 24 < 1:
        return f"{60 * 24 * days:.0f} minutes"
    if days < 2:
        return f"{24 * days:.1f} hours"
    return f"{days:.1f} days" if days < 2 * 365.25 / 12 else f"{m:,.1f} months"


def isclose(a: float | None, b: float | None, rel: float = 1e-9, abs_: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
