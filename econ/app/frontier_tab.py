"""The consent frontier of one tier: chart, point list and the inverse query."""

from __future__ import annotations

from functools import partial

import streamlit as st

from econ.app.state import NO_ROUTE, adopt_from_chart, set_consent, wkey
from econ.base.formatting import number
from econ.decisions.frontier import Frontier, consent_point, point_plan, tier_frontier
from econ.model.evaluate import Evaluation
from econ.outputs.charts import frontier_spec, with_data

__all__ = ["frontier_tab"]


def frontier_tab(source: str, ev: Evaluation) -> None:
    tiers = [t.id for t in ev.scenario.tiers]
    caps = [c.id for c in ev.scenario.capabilities]
    tier = st.selectbox("Tier", tiers, index=min(1, len(tiers) - 1), key=wkey(source, "ftier"))
    front: Frontier = tier_frontier(ev, tier)
    plans = [point_plan(ev, tier, p) for p in front.points]
    adopt = [(p.model, p.route.to if p.route else NO_ROUTE,
              (p.route.router_usd_per_conversation, p.route.router_error_rate) if p.route
              else None) for p in plans]
    st.session_state[wkey(source, "frontier_points")] = [
        (p.consent, a) for p, a in zip(front.points, adopt, strict=True)]
    here = front.current if front.current is not None else consent_point(
        ev, tier, ev.tier(tier).consent)
    rows = [{"point": i, "price_floor_usd_month": p.price_floor_usd_month,
             "loss_usd_month": p.loss_usd_month, "consent": ", ".join(p.consent) or "(nothing)",
             "unmeasured": ", ".join(p.unmeasured)} for i, p in enumerate(front.points)]
    spec = with_data(frontier_spec(), frontier=rows, current=[
        {"price_floor_usd_month": here.price_floor_usd_month,
         "loss_usd_month": here.loss_usd_month}])
    chart_key = wkey(source, "frontier_chart", tier)
    st.vega_lite_chart(spec, width="stretch", key=chart_key,
                       on_select=partial(adopt_from_chart, source, caps, chart_key, tier),
                       selection_mode="pick")
    st.caption(f"{len(front.points)} Pareto-optimal plans (student × consent set) for tier "
               f"{tier}, teacher `{front.teacher}`; router: {front.router}. Orange "
               f"diamond: the current consent set (floor "
               f"{number(here.price_floor_usd_month, 2, 'USD')}/month, loss "
               f"{number(here.loss_usd_month, 0, 'USD')}/month). Red points consent to lose an "
               "unmeasured capability. Click a point to adopt its plan and consent set into "
               "this tier only.")
    labels = [f"{p.price_floor_usd_month:,.2f} USD/mo floor · {p.loss_usd_month:,.0f} USD/mo "
              f"loss · {p.student or front.teacher}"
              f"{' routed' if p.routed and p.student else ' alone'} · "
              f"{', '.join(p.consent) or '(nothing)'}" for p in front.points]
    cols = st.columns([3, 1])
    chosen = cols[0].selectbox("Frontier point", range(len(labels)),
                               format_func=lambda i: labels[i], key=wkey(source, "fpick", tier))
    cols[1].button("Adopt this consent set", key=wkey(source, "fadopt", tier),
                   on_click=set_consent,
                   args=(source, caps, front.points[chosen].consent, tier, adopt[chosen]))
    target = st.number_input("Target price floor (USD/month): least loss that reaches it",
                             min_value=0.0, value=float(
                                 ev.tiers[tiers.index(tier)].economics.price_usd_month),
                             step=1.0, key=wkey(source, "target", tier))
    best = front.least_loss_under_floor(target)
    if best is None:
        lowest = front.points[0].price_floor_usd_month
        st.error(f"No consent set brings tier {tier}'s floor to {number(target, 2, 'USD')}/month "
                 f"or below; the lowest floor is {number(lowest, 2, 'USD')}/month.")
    else:
        st.success(f"Least loss at a floor ≤ {number(target, 2, 'USD')}/month: consent to lose "
                   f"{', '.join(best.consent) or 'nothing'} → floor "
                   f"{number(best.price_floor_usd_month, 2, 'USD')}/month, loss "
                   f"{number(best.loss_usd_month, 0, 'USD')}/month.")
        st.button("Adopt it", key=wkey(source, "tadopt", tier), on_click=set_consent,
                  args=(source, caps, best.consent, tier,
                        adopt[front.points.index(best)]))
