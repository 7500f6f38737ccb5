"""One run of the app: pick a scenario, apply the widget edits, evaluate once, render the tabs."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from econ.app.ab_tab import ab_tab
from econ.app.author_tab import author_tab
from econ.app.breakeven_panel import breakeven_panel
from econ.app.compare_tab import compare_tab
from econ.app.consent_tab import consent_table, headline_metrics, tiers_panel
from econ.app.export_tab import export_and_save
from econ.app.frontier_tab import frontier_tab
from econ.app.parsing import parse_cached
from econ.app.reload import reload_changes
from econ.app.share import link_notice, link_scenario, open_link, write_link
from econ.app.source import select_source
from econ.app.sources_panel import sources_expander
from econ.app.state import edits_from_widgets, init_widgets, scenarios_folder
from econ.app.text import code, lines, say
from econ.app.uncertainty_tab import prefetch_uncertainty, uncertainty_tab
from econ.model.evaluate import evaluate
from econ.model.loader import Loaded
from econ.scenario.edits import apply_to_scenario

__all__ = ["TABS", "main"]

TABS = ["Consent & tiers", "Frontier", "Uncertainty & sensitivity", "Export & save",
        "Compare with revision", "A/B plans", "Author"]


# widget kinds whose value must survive a run in which their tab is not drawn (Streamlit drops
# the state of a widget that is not rendered; re-assigning it at the top of a run keeps it)
KEPT_WIDGETS = frozenset({"consent", "ctier", "price", "model", "route", "ftier", "fpick",
                          "target", "draws", "seed", "swing", "ttier", "rev", "saveas",
                          "ab_mc"})


def keep_hidden_widgets() -> None:
    ss = st.session_state
    for key in list(ss):
        parts = str(key).split("|")
        if len(parts) >= 3 and parts[0] == "w" and parts[2] in KEPT_WIDGETS:
            ss[key] = ss[key]


def main() -> None:
    st.set_page_config(page_title="econ", layout="wide")
    # a narrower margin around the page, so six columns fit at 1024 px with the sidebar open; a
    # smaller title and top margin, so the tabs are on the first screen at 900 px; the tab bar
    # wraps onto a second row instead of scrolling (every tab visible at 1024 px)
    st.html("<style>.block-container{padding-left:2rem;padding-right:2rem;padding-top:2.5rem}"
            ".block-container h1{font-size:2rem;padding-top:0}"
            "[role='tablist']{flex-wrap:wrap;row-gap:0.25rem}</style>")
    st.title("econ: which capabilities to lose, at which price floor")
    link_scenario()
    source, text, from_folder = select_source()
    loaded = parse_cached(text, source, str(scenarios_folder()), confined=not from_folder)
    if not isinstance(loaded, Loaded):
        say(st.error, "This scenario has problems:\n\n{problems}", problems=lines(loaded))
        return
    keep_hidden_widgets()
    open_link(source, loaded)
    init_widgets(source, loaded)
    edits = edits_from_widgets(source, loaded)
    link_notice()
    try:
        working = apply_to_scenario(loaded.scenario, edits)
    except (ValidationError, ValueError) as exc:
        say(st.error, "These edits make the scenario invalid: {exc}", exc=exc)
        return
    write_link(source, working, from_folder)
    ev = evaluate(working, loaded.measured)
    say(st.caption, "{source} · {description}", source=code(source),
        description=working.description)
    if from_folder:
        reload_changes(source)
    headline_metrics(source, ev)
    # the tabs track which one is open, and only that one is computed: a tick on the first
    # tab never reruns the Monte Carlo, the frontier or git (st.session_state["tab"] = label
    # opens a tab, as in the tests)
    tabs = st.tabs(TABS, key="tab", on_change="rerun")
    if tabs[0].open is not False:
        with tabs[0]:
            consent_table(source, ev)
            tiers_panel(source, ev)
            breakeven_panel(source, ev)
    if tabs[1].open:
        with tabs[1]:
            frontier_tab(source, ev)
    if tabs[2].open:
        with tabs[2]:
            uncertainty_tab(source, ev, loaded)
    else:
        prefetch_uncertainty(source, ev, loaded)
    if tabs[3].open:
        with tabs[3]:
            export_and_save(source, ev, loaded, edits, from_folder)
    if tabs[4].open:
        with tabs[4]:
            compare_tab(source, ev, from_folder)
    if tabs[5].open:
        with tabs[5]:
            ab_tab(source, ev, loaded, edits)
    if tabs[6].open:
        with tabs[6]:
            author_tab(source, loaded, from_folder)
    sources_expander(text)
