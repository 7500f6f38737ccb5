"""econ compare on results files built here, checked against statsmodels."""

from __future__ import annotations

import json
import random

import pytest
from statsmodels.stats.proportion import proportion_confint

from econ.cli import main
from tests import verdicts_by_hand as hand
from tests.multitest_reference import multipletests

SLICES = {  # capability: (teacher pass rate, student pass rate, examples)
    "chat": (0.9, 0.89, 400),
    "clarify": (0.8, 0.3, 40),
    "legacy_csv": (0.95, 0.9, 12),
    "perfect": (1.0, 1.0, 30),
}


def build(tmp_path, fmt="csv", seed=7, student_ids_offset=0):
    rnd = random.Random(seed)
    rows = []
    for cap, (pt, ps, n) in SLICES.items():
        for i in range(n):
            rows.append(("teacher-x", f"{cap}-{i}", cap, int(rnd.random() < pt)))
            rows.append(("student-y", f"{cap}-{i + student_ids_offset}", cap,
                         int(rnd.random() < ps)))
    p = tmp_path / f"results.{fmt}"
    if fmt == "csv":
        p.write_text("model,example_id,capability,passed\n"
                     + "".join(f"{m},{e},{c},{v}\n" for m, e, c, v in rows))
    else:
        p.write_text("".join(json.dumps({"model": m, "example_id": e, "capability": c,
                                         "passed": bool(v)}) + "\n" for m, e, c, v in rows))
    return p, rows


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_compare_matches_statsmodels(tmp_path, capsys, fmt):
    path, rows = build(tmp_path, fmt)
    code, out = run(capsys, "compare", str(path), "--teacher", "teacher-x", "--student",
                    "student-y", "--json")
    result = json.loads(out.out)
    by_cap = {c["capability"]: c for c in result["capabilities"]}
    assert set(by_cap) == set(SLICES)
    designs = {}
    for cap in SLICES:
        t = {e: v for m, e, c, v in rows if m == "teacher-x" and c == cap}
        s = {e: v for m, e, c, v in rows if m == "student-y" and c == cap}
        a = sum(1 for e in t if t[e] and s[e])
        b = sum(1 for e in t if t[e] and not s[e])
        c_ = sum(1 for e in t if s[e] and not t[e])
        n = len(t)
        designs[cap] = hand.Binary(a + b, n, a + c_, n, (a, b, c_, n - a - b - c_))
        got = by_cap[cap]
        assert got["n_paired"] == n and got["design"] == "paired"
        lo, hi = proportion_confint(sum(t.values()), n, method="wilson")
        assert got["teacher_ci"] == pytest.approx([lo, hi], abs=1e-8)
        lo, hi = proportion_confint(sum(s.values()), n, method="wilson")
        assert got["student_ci"] == pytest.approx([lo, hi], abs=1e-8)
        assert got["drop"] == pytest.approx((b - c_) / n, abs=1e-12)
        assert got["drop_ci"] == pytest.approx(list(designs[cap].bounds(0.025)), abs=1e-9)
        above = got["claim"] == "lost"
        assert got["p_value"] == pytest.approx(designs[cap].p(0.02, above), rel=1e-6, abs=1e-12)
        assert got["p_zero"] == pytest.approx(designs[cap].p(0.0, True), rel=1e-6, abs=1e-12)
    caps = sorted(SLICES)
    want = multipletests([by_cap[c]["p_value"] for c in caps], method="holm")[1]
    assert [by_cap[c]["p_adjusted"] for c in caps] == pytest.approx(list(want), abs=1e-15)
    verdicts = hand.verdicts(designs, dict.fromkeys(SLICES, 0.02), "holm")
    assert {c: by_cap[c]["verdict"] for c in SLICES} == verdicts
    assert by_cap["clarify"]["verdict"] == "lost"
    assert result["lost"] == ["clarify"]
    assert "legacy_csv" in result["underpowered_capabilities"]
    assert result["multiplicity"] == "holm"
    assert result["verdict_statement"].startswith("Verdicts: one-sided tests at each tolerance")
    assert code == 3


@pytest.mark.parametrize("method", ["holm", "bh", "none"])
def test_each_correction_matches_a_recomputation(tmp_path, capsys, method):
    path, rows = build(tmp_path, seed=11)
    _, out = run(capsys, "compare", str(path), "--teacher", "teacher-x", "--student",
                 "student-y", "--json", "--multiplicity", method)
    result = json.loads(out.out)
    designs = {}
    for cap in SLICES:
        t = {e: v for m, e, c, v in rows if m == "teacher-x" and c == cap}
        s = {e: v for m, e, c, v in rows if m == "student-y" and c == cap}
        a = sum(t[e] and s[e] for e in t)
        b = sum(t[e] and not s[e] for e in t)
        c_ = sum(s[e] and not t[e] for e in t)
        designs[cap] = hand.Binary(a + b, len(t), a + c_, len(t), (a, b, c_, len(t) - a - b - c_))
    got = {c["capability"]: c["verdict"] for c in result["capabilities"]}
    assert got == hand.verdicts(designs, dict.fromkeys(SLICES, 0.02), method)
    assert result["multiplicity"] == method


def test_compare_unpaired_when_ids_differ(tmp_path, capsys):
    path, _ = build(tmp_path, student_ids_offset=100000)
    _, out = run(capsys, "compare", str(path), "--teacher", "teacher-x", "--student",
                 "student-y", "--json")
    for c in json.loads(out.out)["capabilities"]:
        assert c["n_paired"] == 0 and c["design"] == "unpaired"
        assert c["interval_method"] == "mover_clopper_pearson"


def test_exit_zero_when_nothing_lost(tmp_path, capsys):
    p = tmp_path / "r.csv"
    p.write_text("model,example_id,capability,passed\n"
                 + "".join(f"a,{i},chat,1\nb,{i},chat,1\n" for i in range(50)))
    code, out = run(capsys, "compare", str(p), "--teacher", "a", "--student", "b")
    assert code == 0
    assert "no capability lost" in out.out


def test_text_output_names_methods_and_units(tmp_path, capsys):
    path, _ = build(tmp_path)
    _, out = run(capsys, "compare", str(path), "--teacher", "teacher-x", "--student",
                 "student-y")
    assert "95% intervals" in out.out and "drop (pts)" in out.out
    assert "p at tol" in out.out and "p adj." in out.out and "LOST: clarify" in out.out
    lines = out.out.splitlines()
    # the line under the table says how the verdicts were reached
    statement = next(i for i, line in enumerate(lines) if line.startswith("Verdicts: "))
    assert lines[statement - 1].startswith("legacy_csv") or lines[statement - 1].startswith(
        "perfect")
    assert "Holm-adjusted (family-wise error) over 4 measured capabilities" in lines[statement]
    assert "MOVER with Clopper–Pearson limits" in lines[statement]
    assert "paired: chat, clarify, legacy_csv, perfect" in lines[statement]


def bad(capsys, tmp_path, text, name="r.csv", teacher="a", student="b"):
    p = tmp_path / name
    p.write_text(text)
    code, out = run(capsys, "compare", str(p), "--teacher", teacher, "--student", student)
    assert code == 1 and out.out == "" and "Traceback" not in out.err
    return p, out.err.strip()


def test_missing_column(capsys, tmp_path):
    p, err = bad(capsys, tmp_path, "model,example_id,passed\na,1,1\n")
    assert err == (f"{p}:1: capability: missing column 'capability'; the header needs model, "
                   "example_id, capability, passed")


def test_passed_not_binary(capsys, tmp_path):
    p, err = bad(capsys, tmp_path, "model,example_id,capability,passed\na,1,c,1\nb,1,c,2\n")
    assert err == f"{p}:3: passed: passed must be 0/1 or true/false (got '2')"


def test_duplicate_example(capsys, tmp_path):
    p, err = bad(capsys, tmp_path,
                 "model,example_id,capability,passed\na,1,c,1\nb,1,c,0\na,1,c,0\n")
    assert err == (f"{p}:4: example_id: duplicate (model, example_id); first on line 2: keep "
                   "one row per model and example (got 'a, 1')")


def test_model_not_in_file(capsys, tmp_path):
    _, err = bad(capsys, tmp_path, "model,example_id,capability,passed\na,1,c,1\nb,1,c,1\n",
                 student="bb")
    assert err == "--student bb: no results for this model; the files have a, b"


def test_jsonl_bad_line(capsys, tmp_path):
    p, err = bad(capsys, tmp_path, '{"model": "a", "example_id": 1, "capability": "c", '
                 '"passed": 1}\n{"model": "b", \n', name="r.jsonl")
    assert err.startswith(f"{p}:2: (top level): invalid JSON at column")


def test_missing_results_file(capsys, tmp_path):
    code, out = run(capsys, "compare", str(tmp_path / "none.csv"), "--teacher", "a",
                    "--student", "b")
    assert code == 1
    assert out.err.strip() == f"{tmp_path / 'none.csv'}: (top level): results file not found"


def test_bad_tolerance(capsys, tmp_path):
    path, _ = build(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(path), "--teacher", "a", "--student", "b", "--tolerance", "2"])
    assert exc.value.code == 1  # a usage error is bad input
