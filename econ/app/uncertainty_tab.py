"""Monte Carlo intervals of the floors and the tornado of one tier."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from econ.app.state import wkey
from econ.base.draw_limits import DEFAULT_DRAWS, MAX_DRAWS
from econ.base.errors import EconError
from econ.decisions.sensitivity import sensitivity, tornado
from econ.decisions.uncertainty import floor_intervals, simulate
from econ.model.evaluate import Evaluation
from econ.model.loader import Loaded
from econ.outputs.charts import (
    interval_spec,
    tornado_records,
    tornado_spec,
    with_data,
    with_prices,
)

__all__ = ["uncertainty_tab"]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


@st.cache_data(max_entries=64, show_spinner=False)
def _tornados(key: str, _ev: Evaluation, _loaded: Loaded, swing: float) -> dict[str, pd.DataFrame]:
    """Every tier's tornado at ``swing``: not recomputed when only the draws or the seed move."""
    del key  # the cache key: the working scenario and the loaded text
    rows = sensitivity(_ev, _loaded.measured, swing)
    floors = {t.economics.tier: t.economics.price_floor_usd_month for t in _ev.tiers}
    return {t.id: pd.DataFrame(tornado_records(tornado(rows, t.id)[:15], t.id, floors[t.id],
                                               swing))
            for t in _ev.scenario.tiers}


def uncertainty_tab(source: str, ev: Evaluation, loaded: Loaded) -> None:
    cols = st.columns(3)
    for what, default in (("draws", DEFAULT_DRAWS), ("seed", 0), ("swing", 0.2)):
        st.session_state.setdefault(wkey(source, what), default)
    draws = int(cols[0].number_input(
        "Monte Carlo draws", 1000, MAX_DRAWS, step=1000, key=wkey(source, "draws"),
        help="The same draws feed this tab, the A/B tab and the decision record; each tier's "
        "result is kept until something it depends on changes."))
    seed = int(cols[1].number_input("seed", 0, 2**31 - 1, key=wkey(source, "seed")))
    swing = float(cols[2].number_input("sensitivity swing (±, fraction)", 0.01, 0.9, step=0.05,
                                       key=wkey(source, "swing")))
    with st.spinner(f"Monte Carlo ({draws:,} draws)…"):
        # each tier's result is cached under a hash of what it reads (econ.decisions)
        try:
            mc = pd.DataFrame(floor_intervals(simulate(ev, loaded.measured, draws, seed), ev))
        except EconError as exc:
            st.error(str(exc))
            return
    with st.spinner("Sensitivity…"):
        tornados = _tornados(ev.scenario.model_dump_json() + loaded.text, ev, loaded, swing)
    prices = {t.economics.tier: t.economics.price_usd_month for t in ev.tiers}
    st.vega_lite_chart(with_data(interval_spec(), floors=with_prices(_records(mc), prices)),
                       width="stretch", height=60 + 36 * len(mc))
    st.caption("Each tier's Monte Carlo price floor relative to its deterministic floor: P5–P95 "
               "bar, P50 dot; the green tick is the tier's price (paid tiers).")
    st.dataframe(mc, hide_index=True, width="stretch", column_order=[
        "tier", "floor_usd_month", "floor_p5_usd_month", "floor_p50_usd_month",
        "floor_p95_usd_month", "p_margin_meets_target"], column_config={
        "floor_p5_usd_month": st.column_config.NumberColumn("floor P5 (USD/mo)", format="%.2f"),
        "floor_p50_usd_month": st.column_config.NumberColumn("floor P50 (USD/mo)", format="%.2f"),
        "floor_p95_usd_month": st.column_config.NumberColumn("floor P95 (USD/mo)", format="%.2f"),
        "floor_usd_month": st.column_config.NumberColumn("floor (USD/mo)", format="%.2f"),
        "p_margin_meets_target": st.column_config.NumberColumn("P(margin ≥ target)",
                                                               format="percent"),
    })
    tier = st.selectbox("Tornado for tier", list(tornados), key=wkey(source, "ttier"))
    data = tornados[tier]
    if data.empty:
        st.info("No input moves this tier's floor.")
        return
    st.vega_lite_chart(with_data(tornado_spec(), tornado=_records(data)), width="stretch",
                       height=100 + 30 * data["input"].nunique(), key=wkey(source, "tornado", tier))
    st.caption(f"Tier {tier}'s price floor with each input moved by −{100 * swing:g}% (blue) and "
               f"+{100 * swing:g}% (orange), largest swing on top; the rule is the floor.")
