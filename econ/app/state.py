"""The app's session state: every widget key in one place, and the edits they hold.

Widget keys are ``w|<scenario file>|<what>|<id>``; the loaded text of a scenario is kept under
``loaded|<file name>``. Nothing here computes a figure: it turns widget state into ``Edits``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from econ.model.loader import Loaded
from econ.scenario.edits import Edits, TierEdit

__all__ = ["DEFAULT_SCENARIO", "LOADED_PREFIX", "NO_ROUTE", "adopt_from_chart",
           "edits_from_widgets", "init_widgets", "reload_from_disk", "scenarios_folder",
           "set_consent", "widget_defaults", "wkey"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = "frontier-vs-distilled.yaml"
LOADED_PREFIX = "loaded|"
NO_ROUTE = "(no routing)"


def scenarios_folder() -> Path:
    """The folder the app lists and saves into (``ECON_SCENARIOS`` or the repository's own)."""
    return Path(os.environ.get("ECON_SCENARIOS", REPO_ROOT / "scenarios")).resolve()


def reload_from_disk() -> None:
    """Forget every loaded scenario text, so the next run reads the files again."""
    for k in [k for k in st.session_state if str(k).startswith(LOADED_PREFIX)]:
        del st.session_state[k]


def wkey(source: str, *parts: str) -> str:
    return "|".join(("w", source, *parts))


def widget_defaults(source: str, loaded: Loaded) -> dict[str, Any]:
    """The value each editing widget takes from the file (before anyone touches it)."""
    s = loaded.scenario
    out: dict[str, Any] = {}
    for c in s.capabilities:
        out[wkey(source, "consent", c.id)] = c.id in s.consent
    for t in s.tiers:
        out[wkey(source, "price", t.id)] = float(t.price_usd_month)
        out[wkey(source, "model", t.id)] = t.plan.model
        out[wkey(source, "route", t.id)] = t.plan.route.to if t.plan.route else NO_ROUTE
    return out


def init_widgets(source: str, loaded: Loaded) -> None:
    ss = st.session_state
    for key, value in widget_defaults(source, loaded).items():
        ss.setdefault(key, value)


def edits_from_widgets(source: str, loaded: Loaded) -> Edits:
    ss = st.session_state
    s = loaded.scenario
    consent = tuple(c.id for c in s.capabilities if ss[wkey(source, "consent", c.id)])
    tiers = {}
    for t in s.tiers:
        route = ss[wkey(source, "route", t.id)]
        tiers[t.id] = TierEdit(price_usd_month=ss[wkey(source, "price", t.id)],
                               model=ss[wkey(source, "model", t.id)],
                               route_to="" if route == NO_ROUTE else route)
    return Edits(consent=consent, tiers=tiers)


def set_consent(source: str, capabilities: list[str], consent: tuple[str, ...]) -> None:
    for c in capabilities:
        st.session_state[wkey(source, "consent", c)] = c in consent


def adopt_from_chart(source: str, capabilities: list[str], chart_key: str) -> None:
    event = st.session_state.get(chart_key) or {}
    picked = (event.get("selection") or {}).get("pick") or []
    points = st.session_state.get(wkey(source, "frontier_points"), [])
    if picked and "point" in picked[0] and 0 <= int(picked[0]["point"]) < len(points):
        set_consent(source, capabilities, tuple(points[int(picked[0]["point"])]))
