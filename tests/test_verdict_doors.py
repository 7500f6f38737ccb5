"""One set of verdicts through every door: the raw and adjusted p-values and the verdict
statement of `econ evaluate --json` are what the text report, the exports, the decision record
and the app show."""

from __future__ import annotations

import json
import re

import openpyxl
import pytest

from econ.cli import main
from econ.evidence.family import verdict_statement
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.outputs.cells import markdown_cell, markdown_text
from econ.outputs.verdicts import p_text
from tests.conftest import DEFAULT


@pytest.fixture(scope="module")
def truth():
    loaded = load_scenario(DEFAULT)
    return evaluate(loaded.scenario, loaded.measured)


def test_text_report_and_json_agree(capsys, truth):
    assert main(["evaluate", str(DEFAULT), "--json"]) == 0
    js = {c["id"]: c for c in json.loads(capsys.readouterr().out)["capabilities"]}
    assert main(["evaluate", str(DEFAULT)]) == 0
    text = capsys.readouterr().out.splitlines()
    for r in truth.retention:
        assert js[r.capability]["p_value"] == r.p_value
        assert js[r.capability]["p_adjusted"] == r.p_adjusted
        if r.p_value is None:
            continue
        row = next(line for line in text if line.startswith(r.capability + " ")
                   and f" {r.verdict}" in line)
        assert f" {p_text(r.p_value)} " in row and f" {p_text(r.p_adjusted)} " in row
    statement = verdict_statement(truth.retention)
    assert statement in text
    # the statement sits right under the capability table
    last = max(i for i, line in enumerate(text) if line.startswith("legacy_csv_input "))
    assert text[last + 1] == statement


def test_exports_carry_raw_and_adjusted_p_values(tmp_path, truth):
    md = tmp_path / "t.md"
    assert main(["export", str(DEFAULT), "-o", str(md)]) == 0
    lines = md.read_text().splitlines()
    at = lines.index("## capabilities")
    head = lines[at + 2]
    assert "p at tolerance (raw)" in head and "p at tolerance (adjusted)" in head
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[at + 4:]
            if line.startswith("| ")}
    for r in truth.retention:
        if r.p_value is not None:
            row = rows[markdown_cell(r.capability)]  # ids are escaped in Markdown (issue 23)
            assert f"| {p_text(float(f'{r.p_value:.3g}'))} |" in row
            assert f"| {p_text(float(f'{r.p_adjusted:.3g}'))} |" in row
    assert lines[-1] == markdown_text(verdict_statement(truth.retention))  # shown literally
    xl = tmp_path / "t.xlsx"
    assert main(["export", str(DEFAULT), "-o", str(xl)]) == 0
    book = openpyxl.load_workbook(xl)
    values = list(book["capabilities"].values)
    got = {row[0]: dict(zip(values[0], row, strict=True)) for row in values[1:]}
    for r in truth.retention:
        want = None if r.p_value is None else float(f"{r.p_value:.3g}")
        assert got[r.capability]["p at tolerance (raw)"] == want
        want = None if r.p_adjusted is None else float(f"{r.p_adjusted:.3g}")
        assert got[r.capability]["p at tolerance (adjusted)"] == want
        assert got[r.capability]["Verdict"] == r.verdict
    notes = dict(list(book["verdict notes"].values)[1:])
    assert notes["capabilities"] == verdict_statement(truth.retention)
    assert notes["candidates"].startswith("Candidates' verdicts: each model's capabilities")


def test_decision_record_carries_the_capability_table(tmp_path, truth):
    assert main(["record", str(DEFAULT), "-o", str(tmp_path), "--draws", "1000"]) == 0
    md = (tmp_path / "decision.md").read_text()
    assert "## Capability verdicts" in md
    assert markdown_text(verdict_statement(truth.retention)) in md
    for r in truth.retention:
        if r.p_value is not None:
            start = f"| {markdown_cell(r.capability)} |"
            row = next(line for line in md.splitlines() if line.startswith(start))
            assert f"| {p_text(r.p_value)} | {p_text(r.p_adjusted)} |" in row
    html = (tmp_path / "decision.html").read_text()
    assert "Capability verdicts" in html and "Holm-adjusted" in html


def test_app_consent_table_shows_both_p_values(folder):
    from tests.test_app import start

    at = start(folder, DEFAULT.name)
    loaded = load_scenario(folder / DEFAULT.name)
    ev = evaluate(loaded.scenario, loaded.measured)
    shown_tier = next(s.value for s in at.selectbox if s.key and s.key.endswith("|ctier"))
    tier = ev.tier(shown_tier)
    student = next(m for m in tier.assignment.models if m != tier.teacher)
    rets = ev.retention_against(tier.teacher, student)
    shown = " ".join(m.value for m in at.markdown)
    for r in rets:
        if r.p_value is not None:
            assert (f"p at tolerance {p_text(r.p_value)}, adjusted {p_text(r.p_adjusted)}"
                    in shown), r.capability
    # the captions are escaped Markdown (issue 23): read them as a reader sees them
    captions = [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]
    assert any(c.startswith(verdict_statement(rets)) for c in captions)
    assert any(c.startswith("Candidates' verdicts: each model's capabilities") for c in captions)
    assert any(c.startswith("Verdicts: the serving model against the tier's teacher")
               for c in captions)
