"""The break-even panel: cost per conversation against monthly volume, self-hosted (whole
replicas) against the API, as ``econ breakeven`` computes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from econ.app.grid import Spec, show_table
from econ.app.text import say
from econ.decisions.breakeven import ON_DEMAND, Breakeven, breakeven
from econ.model.evaluate import Evaluation
from econ.outputs.charts import breakeven_spec, with_data

__all__ = ["BREAKEVEN_TABLE", "EXPANDER_KEY", "breakeven_frame", "breakeven_panel"]

EXPANDER_KEY = "breakeven_open"
POINTS = 240  # volumes drawn, log-spaced: enough to show each step of replicas at low volume


def _label(model: str, price: str) -> str:
    return model if price == ON_DEMAND else f"{model} @ {price}"


BREAKEVEN_TABLE: dict[str, Spec] = {
    "self_hosted": ("self-hosted", "text", None), "api": ("API", "text", None),
    "first_breakeven_conversations_month": ("first break-even (conv./month)", "volume",
                                            "the lowest monthly volume at which the fleet is "
                                            "cheaper than the API"),
    "replicas_at_first_breakeven": ("replicas (first)", "count", None),
    "always_cheaper_from_conversations_month": ("cheaper for good from (conv./month)", "volume",
                                                "from this monthly volume up, the fleet stays "
                                                "cheaper"),
    "replicas_at_always_cheaper": ("replicas (for good)", "count", None)}


def breakeven_frame(b: Breakeven) -> pd.DataFrame:
    """One row per crossover, the columns of ``econ breakeven --json``."""
    return pd.DataFrame([{
        "self_hosted": _label(x.self_hosted, x.price_label), "api": x.api,
        "first_breakeven_conversations_month": x.first_volume,
        "replicas_at_first_breakeven": x.replicas_at_first,
        "always_cheaper_from_conversations_month": x.always_from,
        "replicas_at_always_cheaper": x.replicas_at_always} for x in b.crossovers])


def breakeven_panel(source: str, ev: Evaluation) -> None:
    if ev.measured is None:
        return
    if not ({m.serving for m in ev.scenario.models.values()} >= {"api", "self_hosted"}):
        return
    # computed only while open (st.session_state[EXPANDER_KEY] = True opens it, as in the tests)
    box = st.expander("Break-even volume: self-hosted (whole replicas) against the API",
                      key=EXPANDER_KEY, on_change="rerun")
    if not box.open:
        return
    b = breakeven(ev, ev.measured)
    with box:
        say(st.caption, "Each model serves every conversation of the scenario alone. A "
            "self-hosted fleet is whole replicas (min_replicas, then steps of "
            "replica_granularity), so at low volume its cost per conversation is far above the "
            "exact sizing; the dashed rule is today's {volume} conversations a month.",
            volume=f"{b.volume_today:,.0f}")
        top = max(1e8, 10 * b.volume_today)
        volumes = np.geomspace(1e3, top, POINTS)
        rows = [{"option": _label(o.model, o.price_label), "conversations_month": float(v),
                 "cost_per_conversation_usd": o.cost_per_conversation_usd(float(v)),
                 "replicas": int(o.replicas(float(v)))} for o in b.self_hosted for v in volumes]
        rows += [{"option": f"{a.model} (API)", "conversations_month": float(v),
                  "cost_per_conversation_usd": a.usd_per_conversation, "replicas": 0}
                 for a in b.api for v in (volumes[0], volumes[-1])]
        st.vega_lite_chart(with_data(breakeven_spec(), curves=rows,
                                     today=[{"conversations_month": b.volume_today}]),
                           width="stretch", key=f"breakeven|{source}")
        show_table(breakeven_frame(b), BREAKEVEN_TABLE, key=f"breakeven-table|{source}")
        st.caption("—: never cheaper (the API costs less than the fleet sized exactly). "
                   "`econ breakeven SCENARIO` gives the windows between, utilisation and USD "
                   "per million tokens.")
