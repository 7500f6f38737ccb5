"""One run of the app: pick a scenario, apply the widget edits, evaluate once, render the tabs."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from econ.app.compare_tab import compare_tab
from econ.app.consent_tab import consent_table, headline_metrics, tiers_panel
from econ.app.export_tab import export_and_save
from econ.app.frontier_tab import frontier_tab
from econ.app.source import parse_cached, select_source
from econ.app.state import edits_from_widgets, init_widgets, scenarios_folder
from econ.app.uncertainty_tab import uncertainty_tab
from econ.model.evaluate import evaluate
from econ.model.loader import Loaded
from econ.scenario.edits import apply_to_scenario

__all__ = ["main"]


def main() -> None:
    st.title("econ: which capabilities to lose, at which price floor")
    source, text, from_folder = select_source()
    loaded = parse_cached(text, source, str(scenarios_folder()), confined=not from_folder)
    if not isinstance(loaded, Loaded):
        st.error("This scenario has problems:\n\n" + "\n".join(f"- `{p}`" for p in loaded))
        return
    init_widgets(source, loaded)
    edits = edits_from_widgets(source, loaded)
    try:
        working = apply_to_scenario(loaded.scenario, edits)
    except (ValidationError, ValueError) as exc:
        st.error(f"These edits make the scenario invalid: {exc}")
        return
    ev = evaluate(working, loaded.measured)
    st.caption(f"`{source}` · {working.description}")
    headline_metrics(ev)
    tabs = st.tabs(["Consent & tiers", "Frontier", "Uncertainty & sensitivity",
                    "Export & save", "Compare with revision"])
    with tabs[0]:
        consent_table(source, ev)
        tiers_panel(source, ev)
    with tabs[1]:
        frontier_tab(source, ev)
    with tabs[2]:
        uncertainty_tab(source, ev, loaded)
    with tabs[3]:
        export_and_save(source, ev, loaded, edits, from_folder)
    with tabs[4]:
        compare_tab(source, ev, from_folder)
