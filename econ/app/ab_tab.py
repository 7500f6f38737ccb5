"""A/B plans: pin the current consent sets, prices and plans as plan A, change things, and see
A and B side by side, tier by tier (figures from :func:`econ.decisions.ab.compare_plans`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from econ.app.grid import Spec, show_table
from econ.app.state import wkey
from econ.app.text import Markdown, markdown, say
from econ.base.draw_limits import DEFAULT_DRAWS
from econ.base.errors import EconError
from econ.decisions.ab import compare_plans
from econ.decisions.uncertainty import simulate
from econ.model.evaluate import Evaluation, evaluate
from econ.model.loader import Loaded
from econ.scenario.edits import Edits, apply_to_scenario

__all__ = ["ab_tab"]

COLUMNS: dict[str, Spec] = {
    "tier": ("Tier", "text", None),
    "plan": ("Plan", "text", None),
    "consent": ("Consents to lose", "text", None),
    "price_usd_month": ("Price (USD/mo)", "money", None),
    "floor_usd_month": ("Floor (USD/mo)", "money", "none for a free tier"),
    "cost_per_user_usd_month": ("Cost per user (USD/mo)", "money", None),
    "margin": ("Margin at price", "share", None),
    "loss_usd_month": ("Loss (USD/mo)", "money", "expected cost of failed conversations a month"),
    "unmeasured": ("Unmeasured traffic", "share",
                   "share of the tier's conversations served without eval results"),
    "p_meets_target": ("P(margin ≥ target)", "share",
                       "share of Monte Carlo draws meeting the target margin (tick the box "
                       "above to compute it)"),
}


def _pin(source: str, edits: Edits) -> None:
    st.session_state[wkey(source, "plan_a")] = edits


def _unpin(source: str) -> None:
    st.session_state.pop(wkey(source, "plan_a"), None)


def _rows(a: Evaluation, b: Evaluation, with_mc: bool, loaded: Loaded, draws: int,
          seed: int) -> list[dict[str, Any]]:
    mc_a = simulate(a, loaded.measured, draws, seed) if with_mc else None
    mc_b = simulate(b, loaded.measured, draws, seed) if with_mc else None
    rows: list[dict[str, Any]] = []
    for r in compare_plans(a, b, mc_a, mc_b):
        for plan, consent, price, floor, per_user, margin, loss, unmeasured, p in (
                ("A", r.consent_a, r.price_a_usd_month, r.floor_a_usd_month,
                 r.cost_per_user_a_usd_month, r.margin_a, r.loss_a_usd_month, r.unmeasured_a,
                 r.p_meets_target_a),
                ("B", r.consent_b, r.price_b_usd_month, r.floor_b_usd_month,
                 r.cost_per_user_b_usd_month, r.margin_b, r.loss_b_usd_month, r.unmeasured_b,
                 r.p_meets_target_b)):
            rows.append({"tier": r.tier, "plan": plan, "consent": ", ".join(consent) or "nothing",
                         "price_usd_month": price, "floor_usd_month": floor,
                         "cost_per_user_usd_month": per_user, "margin": margin,
                         "loss_usd_month": loss, "unmeasured": unmeasured, "p_meets_target": p})
    return rows


def ab_tab(source: str, ev: Evaluation, loaded: Loaded, edits: Edits) -> None:
    key = wkey(source, "plan_a")
    pinned: Edits | None = st.session_state.get(key)
    cols = st.columns(2)
    cols[0].button("Pin the current plan as A", key=wkey(source, "pin"), on_click=_pin,
                   args=(source, edits), type="primary" if pinned is None else "secondary")
    if pinned is None:
        st.info("Pin the current consent sets, prices and plans as plan A; then change ticks, "
                "prices or plans and compare A with the current plan B here.")
        return
    cols[1].button("Unpin A", key=wkey(source, "unpin"), on_click=_unpin, args=(source,))
    a = evaluate(apply_to_scenario(loaded.scenario, pinned), loaded.measured)
    with_mc = st.checkbox("With P(margin ≥ target) from the Monte Carlo (draws and seed of the "
                          "Uncertainty tab)", key=wkey(source, "ab_mc"))
    draws = int(st.session_state.get(wkey(source, "draws"), DEFAULT_DRAWS))
    seed = int(st.session_state.get(wkey(source, "seed"), 0))
    try:
        table = pd.DataFrame(_rows(a, ev, with_mc, loaded, draws, seed))
    except EconError as exc:
        say(st.error, "{exc}", exc=exc)
        return
    show_table(table, COLUMNS, key=wkey(source, "ab_table"))
    changes = []
    for r in compare_plans(a, ev):
        moved = (f"cost per user {r.cost_per_user_change_usd_month:+,.2f} USD/mo (free)"
                 if r.floor_change_usd_month is None
                 else f"floor {r.floor_change_usd_month:+,.2f} USD/mo")
        changes.append(markdown("**{tier}**: {moved}, loss {loss} USD/mo{margin}", tier=r.tier,
                                moved=moved, loss=f"{r.loss_change_usd_month:+,.2f}",
                                margin="" if r.margin_change_points is None
                                else f", margin {r.margin_change_points:+.1f} pp"))
    say(st.markdown, "B − A: {changes}", changes=Markdown("; ".join(changes)))
