"""The working scenario against itself at a git revision: inputs changed, outputs moved."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from econ.app.state import scenarios_folder, wkey
from econ.app.text import code, say
from econ.base.errors import EconError
from econ.decisions.scenario_diff import diff_against, headline_outputs
from econ.model.evaluate import Evaluation, evaluate
from econ.model.loader import parse_scenario
from econ.outputs.diff_view import input_rows, output_rows
from econ.scenario.gitrev import NotARepository, file_at_revision
from econ.scenario.schema import Scenario

__all__ = ["compare_tab"]


@st.cache_resource(max_entries=16, show_spinner=False)
def _at_revision(path: str, rev: str,
                 folder: str) -> tuple[Scenario, dict[str, tuple[str, float | None]]] | EconError:
    """The scenario at a git revision and its headline outputs, or what went wrong."""
    try:
        text = file_at_revision(path, rev)
        old = parse_scenario(text, f"{Path(path).name}@{rev}", base_dir=Path(folder))
    except EconError as exc:
        return exc
    return old.scenario, headline_outputs(evaluate(old.scenario, old.measured))


def compare_tab(source: str, ev: Evaluation, from_folder: bool) -> None:
    if not from_folder:
        st.info("Comparing with a git revision needs a scenario from the scenarios folder.")
        return
    st.session_state.setdefault(wkey(source, "rev"), "HEAD")
    rev = st.text_input("Compare the current state (with your unsaved edits) with git revision",
                        key=wkey(source, "rev"))
    old = _at_revision(str(scenarios_folder() / source), rev, str(scenarios_folder()))
    if isinstance(old, NotARepository):
        say(st.info, "{old} — there is no history to compare with.", old=old)
        return
    if isinstance(old, EconError):
        say(st.error, "{old}", old=old)
        return
    d = diff_against(*old, ev)
    say(st.markdown, "**Inputs changed since {rev}: {n}**", rev=code(rev), n=len(d.inputs))
    if d.inputs:
        st.dataframe(pd.DataFrame(input_rows(d)), hide_index=True, width="stretch")
    say(st.markdown, "**Headline outputs moved: {n}**", n=len(d.outputs))
    if d.outputs:
        st.dataframe(pd.DataFrame(output_rows(d)), hide_index=True, width="stretch")
        st.caption("Margins and traffic shares change in percentage points (pp); the relative "
                   "change is given for money and counts only.")
