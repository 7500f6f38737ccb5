"""The project's sources file (``data/SOURCES.md``) and the ``§N`` citations in scenario text.

In: the text of ``data/SOURCES.md`` and of a scenario YAML. Out: the sections by number, the
sections a scenario cites. Pure text; the front ends read the files. May import: nothing of econ.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["SOURCES_FILE", "cited_sections", "source_sections"]

SOURCES_FILE = Path(__file__).resolve().parents[2] / "data" / "SOURCES.md"

_HEADING = re.compile(r"^## §(\d+) (.+)$", re.M)
_CITATION = re.compile(r"§(\d+)")


def source_sections(markdown: str) -> dict[int, tuple[str, str]]:
    """Section number → (title, body) of a sources file whose sections open ``## §N title``."""
    heads = list(_HEADING.finditer(markdown))
    out: dict[int, tuple[str, str]] = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(markdown)
        out[int(m.group(1))] = (m.group(2).strip(), markdown[m.end():end].strip())
    return out


def cited_sections(scenario_text: str) -> list[int]:
    """The ``§N`` numbers cited in a scenario's comments, ascending, each once.

    Only comments count, and a ``§N`` that follows "README" names a section of that README, not
    of the sources file.
    """
    found: set[int] = set()
    for line in scenario_text.splitlines():
        if "#" not in line:
            continue
        comment = line[line.index("#"):]
        for m in _CITATION.finditer(comment):
            if comment[:m.start()].rstrip().endswith("README"):
                continue
            found.add(int(m.group(1)))
    return sorted(found)
