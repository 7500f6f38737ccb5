"""Every scenario shipped in scenarios/ loads, validates and evaluates."""

from __future__ import annotations

import json

import pytest

from econ.cli import main
from tests.conftest import SCENARIOS

ALL = sorted(SCENARIOS.glob("*.yaml"))


def test_there_are_worked_scenarios():
    names = {p.name for p in ALL}
    assert {"frontier-vs-distilled.yaml", "self-hosted-llama.yaml"} <= names


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_scenario_validates_and_evaluates(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: ok")
    assert main(["evaluate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"]
    roles = {m["role"] for m in out["models"].values()}
    assert {"teacher", "student"} <= roles
    for tier in out["tiers"].values():
        if tier["price_usd_month"] > 0:
            assert tier["price_floor_usd_month"] > 0
        else:  # a free tier: no floor, a cost per user and a subsidy
            assert tier["price_floor_usd_month"] is None
            assert tier["cost_per_user_month_usd"] > 0 and tier["subsidy_usd_month"] > 0
    assert main(["evaluate", str(path)]) == 0
    text = capsys.readouterr().out
    assert "UNMEASURED TRAFFIC" in text
    assert "(USD/mo)" in text


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_number_line_cites_a_source(path):
    """Worked scenarios explain each figure in a comment (source, derivation or assumption)."""
    import re

    number = re.compile(r":\s*-?\d[\d.]*\s*(#|$)")
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if number.search(line) and "examples" not in line:
            assert "#" in line, f"{path.name}:{i} has a number without a source: {line.strip()}"
