"""Render an evaluation: a JSON-ready dict and a readable text report (units in every header)."""

from __future__ import annotations

import math
from typing import Any

from econ.base.formatting import number, points
from econ.decisions.candidates import candidates_table
from econ.decisions.payback import payback
from econ.evidence.family import correction_changes, verdict_statement
from econ.model.evaluate import Evaluation, TierResult
from econ.outputs.headline import Headline, headline, headline_line, headlines, share_percent
from econ.outputs.payback_view import payback_frame, payback_json, payback_lines, payback_text
from econ.outputs.tables import format_table, plan_json, plan_text
from econ.outputs.verdicts import (
    CAPABILITY_COLUMNS,
    candidates_statement,
    capability_cells,
    changes_line,
)
from econ.scenario.schema import Tier

__all__ = [
    "BLEND",
    "Headline",
    "coverage_banner",
    "evaluation_json",
    "format_table",
    "headline",
    "headlines",
    "interval_json",
    "payback_frame",
    "payback_lines",
    "payback_text",
    "plan_text",
    "text_report",
]

BLEND = "traffic-weighted blend of the tiers"


def _tier_json(t: TierResult) -> dict[str, Any]:
    e = t.economics
    return {
        "plan": plan_json(t.assignment),
        "model": t.assignment.default_model,
        "teacher": t.teacher,
        "consent": list(t.consent),
        "retained": list(t.retained),
        "unmeasured_traffic_share": t.unmeasured_traffic_share,
        "underpowered_traffic_share": t.underpowered_traffic_share,
        "uncategorised_traffic_share": t.uncategorised_traffic_share,
        "unmeasured_capabilities": list(t.unmeasured_capabilities),
        "underpowered_capabilities": list(t.underpowered_capabilities),
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
                **interval_json(ev, mid),
            }
            for mid, m in s.models.items()
        },
        "warnings": list(ev.warnings),
        "teacher": s.teacher_id,
        "student": s.student_id,
        "reference": s.teacher_id,
        "consent": list(ev.consent),
        "candidates": {r.model: r.to_json() for r in candidates_table(ev)},
        "candidates_verdict_statement": candidates_statement(ev),
        "capabilities": caps,
        "multiplicity": s.multiplicity,
        "verdict_statement": verdict_statement(ev.retention),
        "changed_by_correction": correction_changes(ev.retention),
        "unmeasured_traffic_share": cov.unmeasured_traffic_share,
        "underpowered_traffic_share": cov.underpowered_traffic_share,
        "uncategorised_traffic_share": cov.uncategorised_traffic_share,
        "coverage": {
            "scenario_shares_are": BLEND,
            "traffic_share_without_capability": cov.traffic_share_without_capability,
            "unmeasured_capabilities": list(cov.unmeasured_capabilities),
            "underpowered_capabilities": list(cov.underpowered_capabilities),
            "unmeasured_traffic_share_by_model": dict(cov.unmeasured_traffic_share_by_model),
            "eval_only_capabilities": list(cov.eval_only_capabilities),
        },
        "conversations_month": ev.conversations_month,
        # whole replicas of each self-hosted model at the scenario's volume; the costs above are
        # at continuous sizing, whole replicas multiply them by the factor (econ breakeven)
        "fleet": {m: f.to_json() for m, f in ev.fleet.sizes.items()},
        "headlines": {h.tier: h.to_json() for h in headlines(ev)},
        "tiers": {t.economics.tier: _tier_json(t) for t in ev.tiers},
        "blend": {
            "revenue_usd_month": ev.blend.revenue_usd_month,
            "cost_usd_month": ev.blend.cost_usd_month,
            "fees_usd_month": ev.blend.fees_usd_month,
            "blended_gross_margin": ev.blend.blended_gross_margin,
            "free_users_per_paying_user": ev.blend.free_users_per_paying_user,
            "free_users_carried_per_paying_user": ev.blend.free_users_carried_per_paying_user,
        },
        "payback": payback_json(payback(ev)),
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
    for mid, iv in ev.gpu_intervals.items():
        low, high = iv.overall.bounds(ev.model_cost_per_conversation_usd[mid])
        out.append(f"Cost of {mid}: 90% interval {number(low, 5)}–{number(high, 5)} "
                   f"USD/conversation (×/÷ {iv.overall.factor:.2f}; self-hosted GPU time from "
                   "its fit, widened outside its runs)")
    return out


def interval_json(ev: Evaluation, mid: str) -> dict[str, Any]:
    """A self-hosted model's cost intervals for ``--json`` (empty for any other model)."""
    iv = ev.gpu_intervals.get(mid)
    if iv is None:
        return {}
    per_cap = ev.costs.per_capability[mid]
    return {"cost_per_conversation_usd_interval":
            iv.overall.to_json(ev.model_cost_per_conversation_usd[mid]),
            "cost_per_conversation_usd_interval_by_capability":
            {c: i.to_json(float(per_cap[c])) for c, i in iv.by_capability.items()}}


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


def _per_tier(ev: Evaluation, share: str) -> str:
    return ", ".join(f"{t.economics.tier} {share_percent(getattr(t, share))}" for t in ev.tiers)


def coverage_banner(ev: Evaluation) -> list[str]:
    """The unmeasured and underpowered traffic warnings every text output starts with: each
    tier's share of its own conversations a model other than its teacher serves, and their
    traffic-weighted blend."""
    cov = ev.coverage
    out = []
    if cov.unmeasured_traffic_share > 0:
        out.append(f"!! UNMEASURED TRAFFIC: {points(cov.unmeasured_traffic_share)}% of "
                   f"conversations ({BLEND}: {_per_tier(ev, 'unmeasured_traffic_share')}) are "
                   "served by a model other than their tier's teacher on capabilities with no "
                   "eval results for it or the teacher: "
                   f"{', '.join(cov.unmeasured_capabilities)}")
    if cov.underpowered_traffic_share > 0:
        out.append(f"!! UNDERPOWERED TRAFFIC: {points(cov.underpowered_traffic_share)}% of "
                   f"conversations ({BLEND}: {_per_tier(ev, 'underpowered_traffic_share')}) "
                   "are served by a model other than their tier's teacher on capabilities "
                   "whose eval slice cannot detect a drop as large as its tolerance: "
                   f"{', '.join(cov.underpowered_capabilities)}")
    out += [f"!! EXTRAPOLATED GPU COST: {w}" for w in ev.warnings]
    return out


def _fleet_lines(ev: Evaluation) -> list[str]:
    """One line per self-hosted model: whole replicas at the scenario's volume."""
    out = []
    for mid, f in ev.fleet.sizes.items():
        out.append(f"Fleet of {mid}: {f.replicas} replica(s) (at least {f.min_replicas}, in "
                   f"steps of {f.replica_granularity}) for {f.conversations_month:,.0f} "
                   f"conversations a month ({f.basis}), {f.continuous_replicas:,.2f} if sized "
                   f"exactly; the costs above are sized exactly, whole replicas cost "
                   f"×{f.factor:.3f} ({f.usd_month:,.0f} USD a month; econ breakeven)")
    return out


def text_report(ev: Evaluation) -> str:
    s = ev.scenario
    out = [f"Scenario: {s.name}", "", *coverage_banner(ev)]
    cov = ev.coverage
    out.append(f"Uncategorised traffic: {points(cov.traffic_share_without_capability)}% of "
               "conversations no capability claims; served by a model other than the tier's "
               f"teacher: {points(cov.uncategorised_traffic_share)}% ({BLEND}: "
               f"{_per_tier(ev, 'uncategorised_traffic_share')})")
    if cov.eval_only_capabilities:
        out.append("Measured by the evals but not in the scenario: "
                   + ", ".join(cov.eval_only_capabilities))
    out += ["", "Headline per tier (the tier's teacher against the plan it serves):"]
    out += [f"  {headline_line(h)}" for h in headlines(ev)]
    out += ["", f"Candidates (verdicts against the reference teacher {s.teacher_id}: "
            "r retained, d degraded, l lost, i inconclusive, u unmeasured; floor (a free tier: "
            "cost per user) if the tier were served by the model alone)"]
    tier_ids = [t.id for t in s.tiers]

    def free(t: Tier) -> bool:
        return t.price_usd_month <= 0

    rows = []
    for cand in candidates_table(ev):
        verdicts = " ".join(v[0] for v in cand.verdicts.values()) or "(reference)"
        rows.append([cand.model, cand.role, cand.serving,
                     number(cand.cost_per_conversation_usd, 5),
                     number(100 * cand.cost_per_conversation_usd, 3), verdicts,
                     *[number(cand.tier_costs_per_user_month_usd[t.id], 2) if free(t)
                       else number(cand.tier_floors_usd_month[t.id], 2) for t in s.tiers]])
    out.append(format_table(
        ["model", "role", "serving", "cost/conv (USD)", "cost/conv (¢)",
         "verdicts (" + " ".join(c.id[:4] for c in s.capabilities) + ")",
         *[f"{t.id} cost/user (USD/mo)" if free(t) else f"{t.id} floor (USD/mo)"
           for t in s.tiers]],
        rows, [False, False, False, True, True, False, *[True] * len(tier_ids)]))
    out.append(candidates_statement(ev))
    out += _measured_lines(ev)
    out += _fleet_lines(ev)
    out += ["", f"Capabilities (teacher {s.teacher_id} vs student {s.student_id}; pass rates and "
            "drop in %, 95% intervals; p-values one-sided)"]
    rows = []
    for c in s.capabilities:
        r = ev.retention_of(c.id)
        cells = capability_cells(r)
        rows.append([cells[0], points(c.traffic_share), number(c.severity_usd, 2), *cells[1:],
                     ", ".join(t.economics.tier for t in ev.tiers if c.id in t.consent)])
    heads = [h for h, _ in CAPABILITY_COLUMNS]
    right = [a for _, a in CAPABILITY_COLUMNS]
    out.append(format_table(
        [heads[0], "share (%)", "severity (USD)", *heads[1:], "consented by tiers"],
        rows, [right[0], True, True, *right[1:], False]))
    out.append(verdict_statement(ev.retention))
    change = changes_line(ev.retention)
    if change:
        out.append(change)
    out += ["", f"Tiers (monthly conversations: {ev.conversations_month:,.0f})"]
    rows = []
    for t in ev.tiers:
        e = t.economics
        floor = "— (free)" if t.free else number(e.price_floor_usd_month, 2)
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
