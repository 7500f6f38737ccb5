"""The scenario on screen: picked from the scenarios folder or uploaded (parsed, once per text,
by :mod:`econ.app.parsing`)."""

from __future__ import annotations

import streamlit as st

from econ.app.reload import reload_scenario
from econ.app.state import DEFAULT_SCENARIO, LOADED_PREFIX, scenarios_folder
from econ.app.text import say
from econ.base.fileio import MAX_SCENARIO_BYTES, read_text_limited
from econ.scenario.store import list_scenarios

__all__ = ["MAX_UPLOAD_BYTES", "MAX_UPLOAD_MB", "select_source"]

MAX_UPLOAD_MB = 1  # the widget refuses larger files itself; the app checks the bytes again
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
LAST_CHOICE = "source|last"  # "pick" or "upload": whichever the user touched last wins


def _chose(what: str) -> None:
    st.session_state[LAST_CHOICE] = what


def select_source() -> tuple[str, str, bool]:
    """The scenario to work on: (file name, text as loaded, came from the scenarios folder)."""
    names = [p.name for p in list_scenarios(scenarios_folder())]
    ss = st.session_state
    with st.sidebar:
        st.header("Scenario")
        index = names.index(DEFAULT_SCENARIO) if DEFAULT_SCENARIO in names else 0
        name = st.selectbox("Scenario file in scenarios/", names, index=index, key="pick",
                            on_change=_chose, args=("pick",))
        upload = st.file_uploader(f"…or upload a scenario (YAML, at most {MAX_UPLOAD_MB} MB)",
                                  type=["yaml", "yml"], key="upload", on_change=_chose,
                                  args=("upload",), max_upload_size=MAX_UPLOAD_MB)
        if upload is not None and ss.get(LAST_CHOICE) == "pick":
            say(st.caption, "Showing {name}; the uploaded {upload} waits (upload again, or "
                "remove it, to switch).", name=name, upload=upload.name)
        st.button("Reload from disk", on_click=reload_scenario, args=(name,), key="reload",
                  help="Read the file again: what you did not edit takes the file's new "
                  "values, your edits are kept, and the page lists what changed on disk.")
    if upload is not None and ss.get(LAST_CHOICE, "upload") == "upload":
        data = upload.getvalue()
        if len(data) > MAX_UPLOAD_BYTES:
            say(st.sidebar.error, "{upload}: {size} bytes; the limit is {limit} bytes",
                upload=upload.name, size=f"{len(data):,}", limit=f"{MAX_UPLOAD_BYTES:,}")
        else:
            try:
                return upload.name, data.decode("utf-8"), False
            except UnicodeDecodeError:
                say(st.sidebar.error, "{upload}: not UTF-8 text", upload=upload.name)
    key = LOADED_PREFIX + name
    if key not in ss:
        try:  # a FIFO or device named *.yaml in the folder must not hang the server
            ss[key] = read_text_limited(scenarios_folder() / name, MAX_SCENARIO_BYTES)
        except (OSError, UnicodeDecodeError) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
                exc.strerror or str(exc))
            say(st.error, "scenarios/{name}: cannot read: {reason}", name=name, reason=reason)
            st.stop()
    return name, ss[key], True

