"""The consent frontier of one tier: chart, point list and the inverse query."""

from __future__ import annotations

import math
from functools import partial

import streamlit as st

from econ.app.state import NO_ROUTE, set_consent, wkey
from econ.app.text import code, say
from econ.base.formatting import number
from econ.decisions.adoption import plan_change
from econ.decisions.frontier import (
    Frontier,
    FrontierPoint,
    consent_point,
    point_plan,
    tier_frontier,
)
from econ.model.evaluate import Evaluation
from econ.outputs.charts import frontier_spec, price_rules, with_data
from econ.outputs.record_charts import frontier_records

__all__ = ["frontier_tab"]


def _generation_key(source: str, tier: str) -> str:
    return wkey(source, "fgen", tier)


def _chart_key(source: str, tier: str) -> str:
    gen = st.session_state.get(_generation_key(source, tier), 0)
    return wkey(source, "frontier_chart", tier, str(gen))


def _identity(p: FrontierPoint) -> tuple[frozenset[str], str | None, bool]:
    """What makes a point the same plan after the frontier is recomputed (its index may move)."""
    return frozenset(p.consent), p.student, p.routed


def _adopt(source: str, caps: list[str], tier: str, index: int) -> None:
    """Adopt point ``index`` of the tier's frontier as listed on this run: its consent set and
    its plan (model, route target, router, what is routed) go into the tier; the point list
    shows it on the next run (found again by what it is), and the plan change is said once."""
    ss = st.session_state
    points = ss.get(wkey(source, "frontier_points", tier), [])
    if not 0 <= index < len(points):
        return
    point, plan, change = points[index]
    set_consent(source, caps, tuple(point.consent), tier, plan)
    ss[wkey(source, "fadopted", tier)] = (_identity(point), change, point)


def _adopt_clicked(source: str, caps: list[str], tier: str, chart_key: str) -> None:
    """A chart click: adopt the point, and start a fresh chart (a new key) so clicking the same
    point again, after a manual tick, adopts it again."""
    ss = st.session_state
    event = ss.get(chart_key) or {}
    picked = (event.get("selection") or {}).get("pick") or []
    if picked and "point" in picked[0]:
        _adopt(source, caps, tier, int(picked[0]["point"]))
        ss[_generation_key(source, tier)] = ss.get(_generation_key(source, tier), 0) + 1


def _adopted_message(tier: str, point: FrontierPoint, change: str | None) -> str:
    what = "floor" if point.price_floor_usd_month is not None else "cost per user"
    return (f"Adopted into tier {tier}: consent to lose {', '.join(point.consent) or 'nothing'} "
            f"({what} {number(point.measure_usd_month, 2, 'USD')}/month, loss "
            f"{number(point.loss_usd_month, 0, 'USD')}/month); "
            + (f"plan changes: {change}." if change else "same model and route."))


def frontier_tab(source: str, ev: Evaluation) -> None:
    ss = st.session_state
    tiers = [t.id for t in ev.scenario.tiers]
    caps = [c.id for c in ev.scenario.capabilities]
    ss.setdefault(wkey(source, "ftier"), tiers[min(1, len(tiers) - 1)])
    tier = st.selectbox("Tier", tiers, key=wkey(source, "ftier"))
    front: Frontier = tier_frontier(ev, tier)
    plans = [point_plan(ev, tier, p) for p in front.points]
    adopt = [(p.model, p.route.to if p.route else NO_ROUTE,
              (p.route.router_usd_per_conversation, p.route.router_error_rate) if p.route
              else None, p.route.capabilities if p.route else None) for p in plans]
    changes = [plan_change(ev, tier, p) for p in front.points]
    ss[wkey(source, "frontier_points", tier)] = list(zip(front.points, adopt, changes,
                                                         strict=True))
    here = front.current if front.current is not None else consent_point(
        ev, tier, ev.tier(tier).consent)
    price = float(ev.tier(tier).economics.price_usd_month)
    free = price <= 0  # a free tier has no floor: its frontier trades cost per user for loss
    what = front.measure  # "price floor", or a free tier's "cost per user"
    target_key = wkey(source, "target", tier)
    # a free tier's default target is its own cost per user rounded up to the cent, which its
    # plan reaches
    ss.setdefault(target_key, math.ceil(round(100 * here.measure_usd_month, 9)) / 100 if free
                  else price)
    target = float(ss[target_key])
    spec = with_data(frontier_spec(what), frontier=frontier_records(front), current=[
        {"measure_usd_month": here.measure_usd_month,
         "loss_usd_month": here.loss_usd_month}], prices=price_rules(price, target, free))
    chart_key = _chart_key(source, tier)
    st.vega_lite_chart(spec, width="stretch", key=chart_key,
                       on_select=partial(_adopt_clicked, source, caps, tier, chart_key),
                       selection_mode="pick")
    say(st.caption, "{n} Pareto-optimal plans (student × consent set) for tier {tier}, "
        "teacher {teacher}; router: {router}. Orange diamond: the current consent set ({what} "
        "{value}/month, loss {loss}/month). {rules}Red points consent to lose an unmeasured "
        "capability. Click a point to adopt its plan and consent set into this tier only.",
        n=len(front.points), tier=tier, teacher=code(front.teacher), router=front.router,
        what="cost per user" if free else "floor",
        value=number(here.measure_usd_month, 2, "USD"),
        loss=number(here.loss_usd_month, 0, "USD"),
        rules=(f"Tier {tier} charges nothing: no floor, no card fees; the dashed rule is the "
               "target cost per user below (the subsidy it needs per user). " if free else
               f"Dashed rules: the tier's price ({number(price, 2, 'USD')}/month) and the "
               "target price below. "))
    if front.thinning.note():
        say(st.warning, "Frontier {note}.", note=front.thinning.note())
    labels = [f"{p.measure_usd_month:,.2f} USD/mo {'per user' if free else 'floor'} · "
              f"{p.loss_usd_month:,.0f} USD/mo "
              f"loss · {p.student or front.teacher}"
              f"{' routed' if p.routed and p.student else ' alone'} · "
              f"{', '.join(p.consent) or '(nothing)'}" for p in front.points]
    pick_key = wkey(source, "fpick", tier)
    adopted = ss.pop(wkey(source, "fadopted", tier), None)
    if adopted is not None:  # the point just adopted, wherever it now sits in the list
        say(st.success, "{text}", text=_adopted_message(tier, adopted[2], adopted[1]))
        found = [i for i, p in enumerate(front.points) if _identity(p) == adopted[0]]
        ss[pick_key] = found[0] if found else None
    current = [i for i, p in enumerate(front.points) if _identity(p) == _identity(here)]
    if pick_key not in ss or (ss[pick_key] is not None and ss[pick_key] >= len(labels)):
        ss[pick_key] = current[0] if current else None
    cols = st.columns([3, 1], vertical_alignment="bottom")
    chosen = cols[0].selectbox("Frontier point", range(len(labels)),
                               format_func=lambda i: labels[i], key=pick_key,
                               placeholder="pick a point of the frontier")
    cols[1].button("Adopt this plan and consent set", key=wkey(source, "fadopt", tier),
                   on_click=_adopt, disabled=chosen is None,
                   args=(source, caps, tier, -1 if chosen is None else chosen))
    if chosen is not None and changes[chosen]:
        say(st.caption, "Adopting it changes the plan: {change}.", change=changes[chosen])
    target = st.number_input(f"Target {what} (USD/month): least loss that reaches it",
                             min_value=0.0, step=0.01 if free else 1.0, key=target_key)
    best = front.least_loss_within(target)
    if best is None:
        lowest = front.points[0].measure_usd_month
        say(st.error, "No consent set brings tier {tier}'s {what} to {target}/month or below; "
            "the lowest is {lowest}/month.", tier=tier, what=what,
            target=number(target, 2, "USD"), lowest=number(lowest, 2, "USD"))
    else:
        i = front.points.index(best)
        short = "cost per user" if free else "floor"
        say(st.success, "Least loss at a {short} ≤ {target}/month: consent to lose {consent} → "
            "{short} {value}/month, loss {loss}/month; {plan}", short=short,
            target=number(target, 2, "USD"), consent=", ".join(best.consent) or "nothing",
            value=number(best.measure_usd_month, 2, "USD"),
            loss=number(best.loss_usd_month, 0, "USD"),
            plan=f"plan changes: {changes[i]}." if changes[i] else "same model and route.")
        st.button("Adopt it", key=wkey(source, "tadopt", tier), on_click=_adopt,
                  args=(source, caps, tier, i))
