"""The "Sources" expander: the sections of ``data/SOURCES.md`` this scenario cites, then all."""

from __future__ import annotations

import streamlit as st

from econ.app.text import say
from econ.scenario.sources import SOURCES_FILE, cited_sections, source_sections

__all__ = ["sources_expander"]


@st.cache_data(show_spinner=False)
def _sources_text(mtime_ns: int) -> str:
    del mtime_ns  # the cache key: a changed file is read again
    return SOURCES_FILE.read_text(encoding="utf-8")


def sources_expander(scenario_text: str) -> None:
    with st.expander("Sources"):
        if not SOURCES_FILE.is_file():
            st.info("data/SOURCES.md is missing from this installation.")
            return
        sections = source_sections(_sources_text(SOURCES_FILE.stat().st_mtime_ns))
        cited = cited_sections(scenario_text)
        say(st.caption, "Each figure in the scenario file cites a section of `data/SOURCES.md` "
            "(`§N`) in a comment, or is marked `[assumption]`. This scenario cites {cited}.",
            cited=", ".join(f"§{n}" for n in cited) or "no section")
        for n, (title, body) in sections.items():
            say(st.markdown, "#### §{n} {title}{cited}", n=n, title=title,
                cited="  · cited here" if n in cited else "")
            st.markdown(body)  # data/SOURCES.md is the project's own Markdown, with its links
