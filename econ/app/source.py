"""The scenario on screen: picked from the scenarios folder or uploaded, parsed once per text."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from econ.app.state import DEFAULT_SCENARIO, LOADED_PREFIX, reload_from_disk, scenarios_folder
from econ.base.errors import ScenarioError
from econ.base.fileio import MAX_SCENARIO_BYTES, read_text_limited
from econ.model.loader import Loaded, parse_scenario
from econ.scenario.store import list_scenarios

__all__ = ["MAX_UPLOAD_BYTES", "parse_cached", "select_source"]

MAX_UPLOAD_BYTES = 256 * 1024


@st.cache_resource(max_entries=32, show_spinner=False)
def parse_cached(text: str, name: str, folder: str,
                 confined: bool = False) -> Loaded | list[str]:
    """Validated scenario, or its problems as FILE:LINE: field: message lines. An uploaded
    scenario is ``confined``: it may read only files inside the scenarios folder."""
    try:
        return parse_scenario(text, name, base_dir=Path(folder),
                              confine_to=Path(folder) if confined else None)
    except ScenarioError as exc:
        return str(exc).splitlines()


def select_source() -> tuple[str, str, bool]:
    """The scenario to work on: (file name, text as loaded, came from the scenarios folder)."""
    names = [p.name for p in list_scenarios(scenarios_folder())]
    ss = st.session_state
    with st.sidebar:
        st.header("Scenario")
        index = names.index(DEFAULT_SCENARIO) if DEFAULT_SCENARIO in names else 0
        name = st.selectbox("Scenario file in scenarios/", names, index=index, key="pick")
        upload = st.file_uploader("…or upload a scenario (YAML, at most 256 KB)",
                                  type=["yaml", "yml"], key="upload")
        st.button("Reload from disk", on_click=reload_from_disk,
                  help="Discard the loaded copy and read the file again (edits in the widgets "
                  "are kept).")
    if upload is not None:
        data = upload.getvalue()
        if len(data) > MAX_UPLOAD_BYTES:
            st.sidebar.error(f"{upload.name}: {len(data):,} bytes; the limit is "
                             f"{MAX_UPLOAD_BYTES:,} bytes")
        else:
            try:
                return upload.name, data.decode("utf-8"), False
            except UnicodeDecodeError:
                st.sidebar.error(f"{upload.name}: not UTF-8 text")
    key = LOADED_PREFIX + name
    if key not in ss:
        try:  # a FIFO or device named *.yaml in the folder must not hang the server
            ss[key] = read_text_limited(scenarios_folder() / name, MAX_SCENARIO_BYTES)
        except (OSError, UnicodeDecodeError) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
                exc.strerror or str(exc))
            st.error(f"scenarios/{name}: cannot read: {reason}")
            st.stop()
    return name, ss[key], True

