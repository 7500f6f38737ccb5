"""A shareable view: the URL's query parameters hold the scenario, the tier the ticks show,
each tier's consent set and every edited price, so a link reopens the same view.

``?scenario=frontier-vs-distilled.yaml&tier=free&consent.free=analysis,math&price.plus=25``.
A link is read once per session, before the widgets take the file's values; afterwards the URL
follows the widgets. A link naming an unknown scenario, tier or capability, or a price that is
not a non-negative number, opens the rest of the view and says what it ignored.
"""

from __future__ import annotations

import math

import streamlit as st

from econ.app.state import scenarios_folder, wkey
from econ.model.loader import Loaded
from econ.scenario.store import list_scenarios

__all__ = ["link_scenario", "open_link", "write_link"]

_APPLIED = "share|applied"
_IGNORED = "share|ignored"


def link_scenario() -> None:
    """Before the sidebar is drawn: the link's scenario becomes the pick (first run only)."""
    ss = st.session_state
    if _APPLIED in ss or "pick" in ss:
        return
    name = st.query_params.get("scenario")
    if name is None:
        return
    if name in {p.name for p in list_scenarios(scenarios_folder())}:
        ss["pick"] = name
    else:
        ss[_IGNORED] = [f"scenario {name!r} (not in the scenarios folder)"]


def open_link(source: str, loaded: Loaded) -> None:
    """Before ``init_widgets`` on the first run: the link's tier, consent sets and prices."""
    ss = st.session_state
    if ss.get(_APPLIED):
        return
    ss[_APPLIED] = True
    s = loaded.scenario
    tiers = {t.id: t for t in s.tiers}
    caps = [c.id for c in s.capabilities]
    ignored: list[str] = list(ss.get(_IGNORED, []))
    sets = {t.id: s.tier_consent(t) for t in s.tiers}
    for key, value in st.query_params.to_dict().items():
        kind, _, tier = key.partition(".")
        if kind == "scenario":
            continue
        if kind == "tier":
            if value in tiers:
                ss[wkey(source, "ctier")] = value
            else:
                ignored.append(f"tier {value!r}")
        elif kind in ("consent", "price") and tier not in tiers:
            ignored.append(f"{key} (no tier {tier!r})")
        elif kind == "consent":
            chosen = [c for c in value.split(",") if c]
            ignored += [f"{key}: capability {c!r}" for c in chosen if c not in caps]
            sets[tier] = tuple(c for c in caps if c in chosen)
        elif kind == "price":
            try:
                price = float(value)
            except ValueError:
                price = -1.0
            if math.isfinite(price) and price >= 0:
                ss[wkey(source, "price", tier)] = price
            else:
                ignored.append(f"{key}={value!r} (not a price)")
        else:
            ignored.append(key)
    ss[wkey(source, "consent_sets")] = sets
    ss[_IGNORED] = ignored


def write_link(source: str, loaded: Loaded, from_folder: bool) -> None:
    """The URL follows the view: scenario (when it is a file of the folder, not an upload),
    tier, every tier's consent set and the prices edited away from the file's."""
    ss = st.session_state
    ignored = ss.pop(_IGNORED, None)
    if ignored:
        st.warning("The link named what this scenario does not have; ignored: "
                   + "; ".join(ignored))
    s = loaded.scenario
    params = {"scenario": source} if from_folder else {}
    params["tier"] = str(ss.get(wkey(source, "ctier"), ""))
    sets = ss.get(wkey(source, "consent_sets"), {})
    for t in s.tiers:
        params[f"consent.{t.id}"] = ",".join(sets.get(t.id, s.tier_consent(t)))
        price = ss.get(wkey(source, "price", t.id))
        if price is not None and float(price) != float(t.price_usd_month):
            params[f"price.{t.id}"] = repr(float(price))
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
