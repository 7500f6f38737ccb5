"""A shareable view: the URL's query parameters hold the scenario, the tier the ticks show and
every tier's whole plan (consent set, price, model, route, router, what is routed), plus the
frontier's target floors, so a link reopens the same view. The format is
:mod:`econ.scenario.link`'s:

``?scenario=frontier-vs-distilled.yaml&tier=pro&consent.pro=creative_assist,math&price.pro=200.0
&model.pro=llama-8b-distilled&route.pro=o1&router.pro=0.0002,0.02&routed.pro=unconsented``.

A link is read once per session, before the widgets take the file's values; afterwards the URL
follows the plan as evaluated. A link naming an unknown scenario, tier, model or capability, or
a value that is not one, opens the rest of the view and says what it ignored, as plain text.
"""

from __future__ import annotations

import streamlit as st

from econ.app.state import NO_ROUTE, scenarios_folder, wkey
from econ.base.secrets import redact
from econ.model.loader import Loaded
from econ.scenario.link import link_params, read_link
from econ.scenario.schema import Scenario
from econ.scenario.store import list_scenarios

__all__ = ["link_notice", "link_scenario", "open_link", "write_link"]

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
        shown = name if len(name) <= 60 else name[:60] + "…"
        ss[_IGNORED] = [f"scenario {shown!r} (not in the scenarios folder)"]


def open_link(source: str, loaded: Loaded) -> None:
    """Before ``init_widgets`` on the first run: the link's tier, plans and target floors."""
    ss = st.session_state
    if ss.get(_APPLIED):
        return
    ss[_APPLIED] = True
    s = loaded.scenario
    link = read_link(s, st.query_params.to_dict())
    if link.tier is not None:
        ss[wkey(source, "ctier")] = link.tier
    ss[wkey(source, "consent_sets")] = {t.id: link.edits.tier_consent.get(t.id, s.tier_consent(t))
                                        for t in s.tiers}
    for tier, e in link.edits.tiers.items():
        if e.price_usd_month is not None:
            ss[wkey(source, "price", tier)] = e.price_usd_month
        if e.model is not None:
            ss[wkey(source, "model", tier)] = e.model
        if e.route_to is not None:
            ss[wkey(source, "route", tier)] = e.route_to or NO_ROUTE
        if e.router is not None:
            ss[wkey(source, "router", tier)] = e.router
        if e.routed is not None:
            ss[wkey(source, "routed", tier)] = e.routed
    for tier, target in link.targets_usd_month.items():
        ss[wkey(source, "target", tier)] = target
    ss[_IGNORED] = [*ss.get(_IGNORED, []), *link.ignored]


def link_notice() -> None:
    """Once, after a link was opened: what it named that the scenario lacks, as plain text
    (the values come from a URL: never rendered as Markdown)."""
    ignored = st.session_state.pop(_IGNORED, None)
    if ignored:
        st.warning("The link named what this scenario does not have or cannot take; the rest "
                   "of it is open. Ignored, as written in the link:")
        st.text("\n".join(ignored))


def write_link(source: str, working: Scenario, from_folder: bool) -> None:
    """The URL follows the view: scenario (when it is a file of the folder, not an upload),
    the tier the ticks show, every tier's plan as evaluated (``working``: the scenario with
    the session's edits) and the frontier's target floors set away from the tier's price."""
    ss = st.session_state
    targets = {t.id: float(ss[wkey(source, "target", t.id)]) for t in working.tiers
               if ss.get(wkey(source, "target", t.id)) is not None}
    params = link_params(working, source if from_folder else None,
                         str(ss.get(wkey(source, "ctier"), "")), targets)
    params = {k: redact(v) for k, v in params.items()}  # a link never carries a credential
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
