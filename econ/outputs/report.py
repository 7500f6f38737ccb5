"""Render an evaluation: a JSON-ready dict and a readable text report (units in every header)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from econ.base.formatting import ci_points, duration, number, points
from econ.decisions.candidates import candidates_table
from econ.decisions.payback import Payback, payback
from econ.model.evaluate import Evaluation, TierResult
from econ.model.plans import Assignment

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Headline",
    "coverage_banner",
    "evaluation_json",
    "format_table",
    "headline",
    "payback_frame",
    "payback_lines",
    "payback_text",
    "plan_text",
    "text_report",
]


@dataclass(frozen=True)
class Headline:
    teacher: str
    student: str
    teacher_cost_per_conversation_usd: float
    student_cost_per_conversation_usd: float
    teacher_to_student_cost_ratio: float | None
    cost_usd_month: float
    revenue_usd_month: float
    conversations_month: float
    unmeasured_traffic_share: float
    underpowered_traffic_share: float
    uncategorised_traffic_share: float


def headline(ev: Evaluation) -> Headline:
    """The figures a planning session looks at first."""
    s, costs = ev.scenario, ev.model_cost_per_conversation_usd
    t, st = costs[s.teacher_id], costs[s.student_id]
    return Headline(s.teacher_id, s.student_id, t, st, t / st if st > 0 else None,
                    ev.blend.cost_usd_month, ev.blend.revenue_usd_month, ev.conversations_month,
                    ev.coverage.unmeasured_traffic_share, ev.coverage.underpowered_traffic_share,
                    ev.coverage.uncategorised_traffic_share)


def _plan_json(a: Assignment) -> dict[str, Any]:
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


def _tier_json(t: TierResult) -> dict[str, Any]:
    e = t.economics
    return {
        "plan": _plan_json(t.assignment),
        "model": t.assignment.default_model,
        "teacher": t.teacher,
        "consent": list(t.consent),
        "retained": list(t.retained),
        "unmeasured_traffic_share": t.unmeasured_traffic_share,
        "price_floor_carrying_free_users_usd_month":
            t.price_floor_carrying_free_users_usd_month,
        "subsidy_usd_month": t.subsidy_usd_month,
        "price_usd_month": e.price_usd_month,
        "users": e.users,
        "conversations_per_user_month": e.conversations_per_user_month,
        "target_gross_margin": e.target_gross_margin,
        "cost_per_conversation_usd": e.cost_per_conversation_usd,
        "cost_per_user_month_usd": e.cost_per_user_month_usd,
        "price_floor_usd_month": e.price_floor_usd_month,
        "gross_margin_at_price": e.gross_margin_at_price,
        "meets_target": e.meets_target,
        "revenue_usd_month": e.revenue_usd_month,
        "cost_usd_month": e.cost_usd_month,
        "fees_usd_month": e.fees_usd_month,
        "capabilities_at_risk": list(t.at_risk),
        "loss_usd_month": t.loss_usd_month,
        "loss_counted_pessimistically": list(t.pessimistic_loss),
    }


def evaluation_json(ev: Evaluation) -> dict[str, Any]:
    s = ev.scenario
    cons = {c.capability: c for c in ev.consequences}
    caps = []
    for c in s.capabilities:
        r = ev.retention_of(c.id)
        q = cons[c.id]
        caps.append({
            "id": c.id,
            "label": c.label,
            "traffic_share": c.traffic_share,
            "severity_usd": c.severity_usd,
            "load_bearing": c.load_bearing,
            "consented": c.id in ev.consent,
            "consented_by_tiers": [t.economics.tier for t in ev.tiers if c.id in t.consent],
            "measured": r.verdict != "unmeasured",
            **r.to_json(),
            "extra_failed_conversations_month": q.extra_failed_conversations_month,
            "extra_failed_conversations_month_ci": _pair(q.extra_failed_conversations_month_ci),
            "extra_failure_cost_usd_month": q.cost_usd_month,
            "extra_failure_cost_usd_month_ci": _pair(q.cost_usd_month_ci),
            "extra_failures_pessimistic": q.pessimistic,
        })
    cov = ev.coverage
    sources = _cost_sources(ev)
    out: dict[str, Any] = _clean({
        "scenario": s.name,
        "models": {
            mid: {
                "role": m.role,
                "serving": m.serving,
                "cost_per_conversation_usd": ev.model_cost_per_conversation_usd[mid],
                "cost_per_conversation_usd_by_capability": dict(ev.costs.per_capability[mid]),
                "gpu_cost_extrapolated": any(w.startswith(f"{mid}: ") for w in ev.warnings),
                **sources.get(mid, {}),
                "reasoning_tokens_per_turn": m.reasoning_tokens_per_turn,
                "tokens_per_conversation": dict(ev.model_tokens_per_conversation[mid]),
            }
            for mid, m in s.models.items()
        },
        "warnings": list(ev.warnings),
        "teacher": s.teacher_id,
        "student": s.student_id,
        "reference": s.teacher_id,
        "consent": list(ev.consent),
        "candidates": {r.model: r.to_json() for r in candidates_table(ev)},
        "capabilities": caps,
        "unmeasured_traffic_share": cov.unmeasured_traffic_share,
        "underpowered_traffic_share": cov.underpowered_traffic_share,
        "uncategorised_traffic_share": cov.uncategorised_traffic_share,
        "coverage": {
            "unmeasured_capabilities": list(cov.unmeasured_capabilities),
            "underpowered_capabilities": list(cov.underpowered_capabilities),
            "unmeasured_traffic_share_by_model": dict(cov.unmeasured_traffic_share_by_model),
            "eval_only_capabilities": list(cov.eval_only_capabilities),
        },
        "conversations_month": ev.conversations_month,
        "tiers": {t.economics.tier: _tier_json(t) for t in ev.tiers},
        "blend": {
            "revenue_usd_month": ev.blend.revenue_usd_month,
            "cost_usd_month": ev.blend.cost_usd_month,
            "fees_usd_month": ev.blend.fees_usd_month,
            "blended_gross_margin": ev.blend.blended_gross_margin,
            "free_users_per_paying_user": ev.blend.free_users_per_paying_user,
            "free_users_carried_per_paying_user": ev.blend.free_users_carried_per_paying_user,
        },
        "payback": _payback_json(payback(ev)),
    })
    return out


def _cost_sources(ev: Evaluation) -> dict[str, dict[str, Any]]:
    """Where each model's cost per conversation comes from (empty without measurements)."""
    from econ.model.measured import cost_sources

    if ev.measured is None:
        return {}
    return cost_sources(ev.scenario, ev.measured.time_models, ev.measured.fits)


def _measured_lines(ev: Evaluation) -> list[str]:
    """One line per model whose cost is measured conversations (none otherwise)."""
    out = []
    for mid, src in _cost_sources(ev).items():
        mc = src.get("measured_conversations")
        if mc is None:
            continue
        out.append(f"Cost of {mid}: measured conversations ({len(mc['files'])} AIPerf run(s), "
                   f"{mc['completed_conversations']} conversations of "
                   f"{mc['turns_per_conversation']:.2f} turns, "
                   f"{mc['input_tokens_per_conversation']:,.0f} input and "
                   f"{mc['output_tokens_per_conversation']:,.0f} output tokens): "
                   f"{mc['gpu_seconds_per_conversation']:,.4f} GPU-seconds per conversation, "
                   "charged to every capability as measured (not rescaled to its shape)")
    return out


def _payback_json(p: Payback | None) -> dict[str, Any] | None:
    if p is None:
        return None
    out = p.to_json()
    for tier, t in zip(out["tiers"].values(), p.tiers, strict=True):
        tier["baseline_plan"] = _plan_json(t.baseline_assignment)
    return out


def _pair(v: tuple[float, float] | None) -> list[float] | None:
    return None if v is None else [v[0], v[1]]


def _clean(x: Any) -> Any:
    """Plain JSON types; non-finite numbers become null."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, str | int):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f if math.isfinite(f) else None


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


def coverage_banner(ev: Evaluation) -> list[str]:
    """The unmeasured and underpowered traffic warnings every text output starts with."""
    cov = ev.coverage
    out = []
    if cov.unmeasured_traffic_share > 0:
        out.append(f"!! UNMEASURED TRAFFIC: {points(cov.unmeasured_traffic_share)}% of "
                   "conversations exercise capabilities with no eval results for the teacher "
                   "or the student: "
                   f"{', '.join(cov.unmeasured_capabilities)}")
    if cov.underpowered_traffic_share > 0:
        out.append(f"!! UNDERPOWERED TRAFFIC: {points(cov.underpowered_traffic_share)}% of "
                   f"conversations are in capabilities whose eval slice cannot detect a drop as "
                   f"large as its tolerance: {', '.join(cov.underpowered_capabilities)}")
    out += [f"!! EXTRAPOLATED GPU COST: {w}" for w in ev.warnings]
    return out


def payback_text(months: float | None, never_because: str | None) -> str:
    """A payback in words: its duration, or "never pays back" with the reason."""
    if months is None:
        return f"never pays back ({never_because})" if never_because else "never pays back"
    return f"pays back in {duration(months)}"


def payback_frame(pb: Payback) -> pd.DataFrame:
    """Per tier: baseline, savings, added loss, net, and both paybacks in words."""
    import pandas as pd

    return pd.DataFrame([{
        "tier": r.tier, "baseline": plan_text(r.baseline_assignment),
        "gross_savings_usd_month": r.gross_savings_usd_month,
        "added_loss_usd_month": r.added_loss_usd_month,
        "net_of_loss_savings_usd_month": r.net_of_loss_savings_usd_month,
        "cash_payback": payback_text(r.cash_payback_months, r.cash_payback_never_because),
        "net_of_loss_payback": payback_text(r.net_of_loss_payback_months,
                                            r.net_of_loss_payback_never_because),
    } for r in pb.tiers])


def payback_lines(pb: Payback | None) -> list[str]:
    """The payback paragraph and table of the text report."""
    if pb is None:
        return []
    out = [f"Distillation of {', '.join(pb.distilled_models)}"
           + ("" if pb.distilled_models_stated else " (taken as distilled: the students the "
              "tiers serve; name it in distillation.model)")
           + f": one-off {number(pb.one_off_usd, 0)} USD, "
           f"{pb.distillations_per_year} distillation(s) a year. Against each tier's best plan "
           f"without it (same consent set and routing, every undistilled model tried, by cost "
           f"plus capability loss) the plans save {number(pb.gross_savings_usd_month, 0)} "
           f"USD/mo gross and add {number(pb.added_loss_usd_month, 0)} USD/mo of capability "
           f"loss, net of loss {number(pb.net_of_loss_savings_usd_month, 0)} USD/mo",
           f"  cash (one-off ÷ gross savings): "
           f"{payback_text(pb.cash_payback_months, pb.cash_payback_never_because)}; "
           f"12-month cash {number(pb.cash_12_months_usd, 0)} USD",
           f"  net of capability loss (one-off ÷ net): "
           f"{payback_text(pb.net_of_loss_payback_months, pb.net_of_loss_payback_never_because)}"
           f"; 12-month net of loss {number(pb.net_of_loss_12_months_usd, 0)} USD",
           "Per tier (paybacks as if the tier alone carried the one-off cost):"]
    out.append(format_table(
        ["tier", "baseline (best plan without distillation)", "gross savings (USD/mo)",
         "added loss (USD/mo)", "net of loss (USD/mo)", "cash payback", "net-of-loss payback"],
        [[r.tier, plan_text(r.baseline_assignment), number(r.gross_savings_usd_month, 0),
          number(r.added_loss_usd_month, 0), number(r.net_of_loss_savings_usd_month, 0),
          duration(r.cash_payback_months), duration(r.net_of_loss_payback_months)]
         for r in pb.tiers],
        [False, False, True, True, True, True, True]))
    out += [f"  {r.tier}: {kind} payback never comes: {why}" for r in pb.tiers
            for kind, why in (("cash", r.cash_payback_never_because),
                              ("net-of-loss", r.net_of_loss_payback_never_because))
            if why is not None and (kind == "cash" or why != r.cash_payback_never_because)]
    return out


def text_report(ev: Evaluation) -> str:
    s = ev.scenario
    out = [f"Scenario: {s.name}", "", *coverage_banner(ev)]
    cov = ev.coverage
    out.append(f"Uncategorised traffic: {points(cov.uncategorised_traffic_share)}%")
    if cov.eval_only_capabilities:
        out.append("Measured by the evals but not in the scenario: "
                   + ", ".join(cov.eval_only_capabilities))
    out += ["", f"Candidates (verdicts against the reference teacher {s.teacher_id}: "
            "r retained, d degraded, l lost, i inconclusive, u unmeasured; floor if the tier "
            "were served by the model alone)"]
    tier_ids = [t.id for t in s.tiers]
    rows = []
    for cand in candidates_table(ev):
        verdicts = " ".join(v[0] for v in cand.verdicts.values()) or "(reference)"
        rows.append([cand.model, cand.role, cand.serving,
                     number(cand.cost_per_conversation_usd, 5),
                     number(100 * cand.cost_per_conversation_usd, 3), verdicts,
                     *[number(cand.tier_floors_usd_month[t], 2) for t in tier_ids]])
    out.append(format_table(
        ["model", "role", "serving", "cost/conv (USD)", "cost/conv (¢)",
         "verdicts (" + " ".join(c.id[:4] for c in s.capabilities) + ")",
         *[f"{t} floor (USD/mo)" for t in tier_ids]],
        rows, [False, False, False, True, True, False, *[True] * len(tier_ids)]))
    out += _measured_lines(ev)
    out += ["", f"Capabilities (teacher {s.teacher_id} vs student {s.student_id}; pass rates and "
            "drop in %, 95% intervals)"]
    rows = []
    for c in s.capabilities:
        r = ev.retention_of(c.id)
        rows.append([
            c.id, points(c.traffic_share), number(c.severity_usd, 2),
            f"{r.n_teacher}/{r.n_student}",
            f"{points(r.teacher_pass_rate)} {ci_points(r.teacher_ci)}",
            f"{points(r.student_pass_rate)} {ci_points(r.student_ci)}",
            f"{points(r.drop)} {ci_points(r.drop_ci)}",
            points(r.min_detectable_drop) if r.min_detectable_drop is not None else "none",
            r.verdict + (f" (need n≈{r.n_to_settle})" if r.n_to_settle else "")
            + (f"; {r.pairing}" if r.pairing else "")
            + (f", decided {r.decided_by}" if r.decided_by else ""),
            ", ".join(t.economics.tier for t in ev.tiers if c.id in t.consent),
        ])
    out.append(format_table(
        ["capability", "share (%)", "severity (USD)", "n (T/S)", "teacher (%)", "student (%)",
         "drop (pts)", "MDD (pts)", "verdict", "consented by tiers"],
        rows, [False, True, True, True, True, True, True, True, False, False]))
    out += ["", f"Tiers (monthly conversations: {ev.conversations_month:,.0f})"]
    rows = []
    for t in ev.tiers:
        e = t.economics
        floor = "free" if t.free else number(e.price_floor_usd_month, 2)
        carrying = ("—" if t.price_floor_carrying_free_users_usd_month is None
                    else number(t.price_floor_carrying_free_users_usd_month, 2))
        rows.append([
            e.tier, plan_text(t.assignment), ", ".join(t.consent) or "(nothing)",
            number(e.price_usd_month, 2),
            number(100 * e.cost_per_conversation_usd, 3), number(e.conversations_per_user_month, 0),
            number(e.cost_per_user_month_usd, 2), floor, carrying,
            points(e.gross_margin_at_price), points(e.target_gross_margin, 0),
            number(t.loss_usd_month, 0), ", ".join(t.at_risk) or "",
        ])
    out.append(format_table(
        ["tier", "plan", "consent to lose", "price (USD/mo)", "cost/conv (¢)", "conv/user/mo",
         "cost/user (USD/mo)", "floor (USD/mo)", "floor carrying free users (USD/mo)",
         "margin (%)", "target (%)", "loss (USD/mo)", "at risk (no consent)"],
        rows, [False, False, False, True, True, True, True, True, True, True, True, True, False]))
    for t in ev.tiers:
        if t.free and t.subsidy_usd_month is not None:
            out.append(f"Free tier {t.economics.tier}: costs "
                       f"{number(t.economics.cost_per_user_month_usd, 2)} USD per user a month; "
                       f"needs a subsidy of {number(t.subsidy_usd_month, 0)} USD/mo from the "
                       "paying tiers")
    b = ev.blend
    out += ["", f"Blended gross margin: {points(b.blended_gross_margin)}%; revenue "
            f"{number(b.revenue_usd_month, 0)} USD/mo; cost {number(b.cost_usd_month, 0)} USD/mo"]
    if b.free_users_carried_per_paying_user is not None:
        out.append(f"Each paying user's gross profit carries "
                   f"{b.free_users_carried_per_paying_user:,.1f} free users "
                   f"(there are {b.free_users_per_paying_user:,.1f} per paying user)")
    out += payback_lines(payback(ev))
    return "\n".join(out) + "\n"
