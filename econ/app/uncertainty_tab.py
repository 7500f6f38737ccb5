"""Monte Carlo intervals of the floors and the tornado of one tier."""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
import streamlit as st

from econ.app.grid import Spec, show_table
from econ.app.state import wkey
from econ.app.text import markdown, say
from econ.base.draw_limits import DEFAULT_DRAWS, MAX_DRAWS
from econ.base.errors import EconError
from econ.decisions.sensitivity import sensitivity, tornado
from econ.decisions.uncertainty import floor_intervals, prefetch, simulate
from econ.model.evaluate import Evaluation
from econ.model.loader import Loaded
from econ.model.tiers import tier_measure
from econ.outputs.charts import (
    interval_spec,
    tornado_records,
    tornado_spec,
    with_data,
    with_prices,
)

__all__ = ["MC_TABLE", "prefetch_uncertainty", "uncertainty_tab"]

MC_TABLE: dict[str, Spec] = {
    "tier": ("Tier", "text", None),
    "measure": ("Figure", "text", "the price floor; a free tier: its cost per user"),
    "base_usd_month": ("Deterministic (USD/mo)", "money", "without drawing any input"),
    "p5_usd_month": ("P5 (USD/mo)", "money",
                     "5th percentile of the Monte Carlo draws: 5% fall below"),
    "p50_usd_month": ("P50 (USD/mo)", "money", "median of the Monte Carlo draws"),
    "p95_usd_month": ("P95 (USD/mo)", "money",
                      "95th percentile of the Monte Carlo draws: 5% fall above"),
    "p_margin_meets_target": ("P(margin ≥ target)", "share",
                              "share of draws in which the gross margin at the tier's price "
                              "meets its target (none for a free tier)"),
}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


@st.cache_data(max_entries=64, show_spinner=False)
def _tornados(key: str, _ev: Evaluation, _loaded: Loaded, swing: float) -> dict[str, pd.DataFrame]:
    """Every tier's tornado at ``swing``: not recomputed when only the draws or the seed move."""
    del key  # the cache key: the working scenario and the loaded text
    rows = sensitivity(_ev, _loaded.measured, swing)
    return {t.economics.tier: pd.DataFrame(tornado_records(
        tornado(rows, t.economics.tier)[:15], t.economics.tier, t.economics.measure_usd_month,
        swing, tier_measure(t.economics.price_usd_month))) for t in _ev.tiers}


def prefetch_uncertainty(source: str, ev: Evaluation, loaded: Loaded) -> None:
    """While the tab is closed, once it has been opened: start the Monte Carlo of the current
    state in the background at the tab's draws and seed, so that coming back after a tick finds
    the figures computed or under way (not recomputed from the start)."""
    draws = st.session_state.get(wkey(source, "draws"))
    if draws is None:
        return
    with contextlib.suppress(EconError, ValueError):  # the tab shows the error when opened
        prefetch(ev, loaded.measured, int(draws), int(st.session_state.get(wkey(source, "seed"),
                                                                             0)))


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
    with st.spinner(markdown("Monte Carlo ({draws} draws)…", draws=f"{draws:,}")):
        # each tier's result is cached under a hash of what it reads (econ.decisions)
        try:
            mc = pd.DataFrame(floor_intervals(simulate(ev, loaded.measured, draws, seed), ev))
        except EconError as exc:
            say(st.error, "{exc}", exc=exc)
            return
    with st.spinner("Sensitivity…"):
        tornados = _tornados(ev.scenario.model_dump_json() + loaded.text, ev, loaded, swing)
    prices = {t.economics.tier: t.economics.price_usd_month for t in ev.tiers}
    st.vega_lite_chart(with_data(interval_spec(), floors=with_prices(_records(mc), prices)),
                       width="stretch", height=60 + 36 * len(mc))
    st.caption("Each tier's Monte Carlo figure in USD/month (its price floor; a free tier: its "
               "cost per user, the subsidy it needs per user): P5–P95 bar, P50 dot; the orange "
               "tick is the deterministic value, the green tick the tier's price (paid tiers). "
               "P5: 5% of the draws give a lower value; P95: 5% a higher one.")
    show_table(mc, MC_TABLE)
    tier = st.selectbox("Tornado for tier", list(tornados), key=wkey(source, "ttier"))
    data = tornados[tier]
    measure = tier_measure(ev.tier(tier).economics.price_usd_month)
    if data.empty:
        say(st.info, "No input moves this tier's {measure}.", measure=measure)
        return
    st.vega_lite_chart(with_data(tornado_spec(measure), tornado=_records(data)), width="stretch",
                       height=100 + 30 * data["input"].nunique(), key=wkey(source, "tornado", tier))
    say(st.caption, "Tier {tier}'s {measure} with each input moved by −{swing}% (blue) and "
        "+{swing}% (orange), largest swing on top; the rule is the tier's {measure}. Hover a "
        "bar for the input's place in the scenario file.", tier=tier, measure=measure,
        swing=f"{100 * swing:g}")
