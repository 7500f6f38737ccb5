"""A scenario may take its eval results from per-example files instead of inline counts."""

from __future__ import annotations

import json

from econ.cli import main
from tests.conftest import BASIC as DEFAULT


def scenario_with_results(tmp_path, rows: str, drop_inline: bool = True):
    text = DEFAULT.read_text()
    if drop_inline:
        text = text.replace(
            "    evals:\n      teacher: {examples: 12, passed: 9}      # [assumption] a 12-example "
            "slice: underpowered\n      student: {examples: 12, passed: 4}      # [assumption]\n",
            "")
    text = text.replace("consent: [creative_assist, factual_qa]",
                        "eval_results: [results.csv]\nconsent: [creative_assist, factual_qa]")
    (tmp_path / "results.csv").write_text("model,example_id,capability,passed\n" + rows)
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


def test_results_file_gives_paired_statistics(tmp_path, capsys):
    rows = "".join(f"teacher,q{i},clarifying_questions,1\nstudent,q{i},clarifying_questions,"
                   f"{int(i % 3 == 0)}\n" for i in range(30))
    rows += "teacher,z1,voice_input,1\nstudent,z1,voice_input,0\n"
    p = scenario_with_results(tmp_path, rows)
    assert main(["evaluate", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cap = next(c for c in out["capabilities"] if c["id"] == "clarifying_questions")
    assert cap["n_paired"] == 30 and cap["design"] == "paired"
    assert cap["interval_method"] == "mover_clopper_pearson_paired"
    assert cap["drop"] == 20 / 30
    assert out["coverage"]["eval_only_capabilities"] == ["voice_input"]
    assert main(["evaluate", str(p)]) == 0
    assert "Measured by the evals but not in the scenario: voice_input" in \
        capsys.readouterr().out


def test_inline_and_file_for_same_slice_is_an_error(tmp_path, capsys):
    rows = "teacher,q1,clarifying_questions,1\n"
    p = scenario_with_results(tmp_path, rows, drop_inline=False)
    assert main(["evaluate", str(p)]) == 1
    err = capsys.readouterr().err.strip()
    line = next(i for i, t in enumerate(p.read_text().splitlines(), 1)
                if "teacher: {examples: 12, passed: 9}" in t)
    assert err == (f"{p}:{line}: capabilities[5].evals.teacher: given both inline and in "
                   "eval_results files; keep one")


def test_bad_results_file_is_reported_with_its_own_line(tmp_path, capsys):
    p = scenario_with_results(tmp_path, "teacher,q1,clarifying_questions,yes\n")
    assert main(["evaluate", str(p)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"{tmp_path / 'results.csv'}:2: passed: passed must be 0/1 or true/false "
                   "(got 'yes')")
