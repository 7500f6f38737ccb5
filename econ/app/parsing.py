"""A scenario text parsed once: the cached loader the page and the reload share.

In: scenario text, its name and the scenarios folder. Out: a validated ``Loaded``, or its
problems as FILE:LINE: field: message lines (the messages of ``econ validate``).
May import: econ.base, econ.model; never another module of ``econ.app`` (so the page's source
picker and the reload both import it without importing each other).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from econ.base.errors import ScenarioError
from econ.model.loader import Loaded, parse_scenario

__all__ = ["parse_cached"]


@st.cache_resource(max_entries=32, show_spinner=False)
def parse_cached(text: str, name: str, folder: str,
                 confined: bool = False) -> Loaded | list[str]:
    """Validated scenario, or its problems as FILE:LINE: field: message lines. An uploaded
    scenario is ``confined``: it may read only files inside the scenarios folder and the data
    folder beside it."""
    try:
        return parse_scenario(text, name, base_dir=Path(folder),
                              confine_to=Path(folder) if confined else None)
    except ScenarioError as exc:
        return str(exc).splitlines()
