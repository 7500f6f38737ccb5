"""data/SOURCES.md: every section a scenario cites exists, and scenarios cite nothing outside."""

from __future__ import annotations

import re

import pytest

from econ.scenario.sources import SOURCES_FILE, cited_sections, source_sections
from tests.conftest import ROOT, SCENARIOS

ALL = sorted(SCENARIOS.glob("*.yaml"))


def test_sources_file_has_the_reference_sections():
    sections = source_sections(SOURCES_FILE.read_text(encoding="utf-8"))
    assert sorted(sections) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert sections[11][0].startswith("Serving-benchmark console output")
    assert sections[9][0].startswith("Serving hardware")
    assert sections[10][0].startswith("Coverage reference corpus")
    assert sections[3][0].startswith("API prices")
    assert "o1" in sections[3][1]
    assert sections[8][0].startswith("Reasoning")
    assert "tens of thousands" in sections[8][1]
    assert all(body for _, body in sections.values())


def test_citations_are_read_from_comments_only():
    text = ("a: 1  # WildChat (§4), and §7 of data/SOURCES.md\n"
            "b: '§9'\n"
            "# DeepSeek-R1 README §12, data/SOURCES.md §6\n")
    assert cited_sections(text) == [4, 6, 7]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_cited_section_exists_in_sources(path):
    text = path.read_text(encoding="utf-8")
    sections = source_sections(SOURCES_FILE.read_text(encoding="utf-8"))
    cited = cited_sections(text)
    assert cited, f"{path.name} cites no section of data/SOURCES.md"
    missing = [n for n in cited if n not in sections]
    assert not missing, f"{path.name} cites §{missing} which data/SOURCES.md lacks"
    assert "data/SOURCES.md" in text


_PATHLIKE = re.compile(r"(?<![\w./~-])(?:[\w.~-]*/[\w./-]+\.(?:md|json|jsonl|ya?ml|csv)\b"
                       r"|(?:\.\./|/|~/)[\w./-]+)")


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_scenario_names_a_path_outside_the_repository(path):
    repo = ROOT.resolve()
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for token in _PATHLIKE.findall(line):
            if "/" not in token:
                continue
            where = [(base / token).resolve() for base in (path.parent, ROOT)]
            inside = [p for p in where if p.is_relative_to(repo) and p.exists()]
            assert inside, f"{path.name}:{i} names {token!r}, not a file in the repository"


def test_the_old_reference_path_would_be_caught(tmp_path):
    """The check above fails on the path the scenarios used to cite."""
    token = "shared/reference/econ_reference.md"
    assert _PATHLIKE.findall(f"# compiled in {token} (sections)") == [token]
    assert not any((b / token).resolve().exists() for b in (SCENARIOS, ROOT))
