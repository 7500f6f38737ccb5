"""Verdicts that survive scrutiny (issue 21): small samples, multiplicity, graded scores, and the
worked scenarios recomputed independently (tests/verdicts_by_hand.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from econ.cli import main
from econ.evidence.family import judge_family, verdict_statement
from econ.evidence.retention import MIN_UNITS, SliceResults, compare_slices
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests import verdicts_by_hand as hand
from tests.conftest import DEFAULT, SELF_HOSTED
from tests.multitest_reference import multipletests


def test_twelve_examples_are_not_lost_and_say_what_would_settle_them():
    """clarifying_questions at 9/12 against 4/12: a 42-point drop under a minimum detectable
    drop of 54 points is not shown lost, however the p-values fall."""
    r = compare_slices("clarifying_questions", SliceResults(12, 9), SliceResults(12, 4))
    assert r.verdict == "inconclusive" and r.claim == "lost"
    assert r.min_detectable_drop > r.drop
    assert r.n_to_settle is not None and r.n_to_settle > 12
    assert r.settle_unit == "examples per model"
    for method in ("holm", "bh", "none"):
        (fam,) = judge_family([r], method)
        assert fam.verdict != "lost"


@pytest.mark.parametrize("path", [DEFAULT, SELF_HOSTED])
def test_clarifying_questions_in_the_worked_scenarios_is_never_lost(path):
    loaded = load_scenario(path)
    ev = evaluate(loaded.scenario, loaded.measured)
    for (_, _), rets in ev.pairs.items():
        r = next(x for x in rets if x.capability == "clarifying_questions")
        assert r.verdict != "lost"
        if r.verdict == "inconclusive":
            assert r.n_to_settle is not None


def test_a_held_back_loss_says_why():
    """9 and 3 of 12 passing: the interval clears the tolerance, but a drop of 50 points under a
    minimum detectable drop of 54 is held back (it is degraded: the drop is above zero)."""
    r = compare_slices("c", SliceResults(12, 9), SliceResults(12, 3))
    assert r.p_value < 0.025  # the test alone would call it lost
    assert r.drop < r.min_detectable_drop
    assert r.verdict == "degraded" and r.p_zero < 0.025
    assert r.held_back == "lost held back: the drop is below the minimum detectable drop"
    assert r.n_to_settle is not None


def test_below_the_floor_nothing_is_decided():
    r = compare_slices("c", SliceResults(9, 9), SliceResults(9, 0))
    assert r.drop == 1.0 and r.p_value < 0.025
    assert r.verdict == "inconclusive"
    assert r.held_back == f"fewer than {MIN_UNITS} examples per model"
    assert r.n_to_settle == MIN_UNITS


def family(*counts: tuple[int, int, int]) -> list:
    return [compare_slices(f"c{i}", SliceResults(n, t), SliceResults(n, s), settle=False)
            for i, (t, s, n) in enumerate(counts)]


def test_holm_changes_a_verdict_and_says_so():
    # four capabilities, each with a drop whose one-sided p at the tolerance is 0.008 to 0.016
    rets = family((170, 146, 200), (170, 147, 200), (180, 159, 200), (180, 160, 200))
    raw = [r.p_value for r in rets]
    assert all(0.001 < p < 0.025 for p in raw) and all(r.verdict == "lost" for r in rets)
    fam = judge_family(rets, "holm")
    want = multipletests(raw, method="holm")[1]
    assert [r.p_adjusted for r in fam] == pytest.approx(list(want), abs=1e-15)
    # the smallest adjusted p is 4 × 0.0087 > 0.025: Holm stops at its first step
    assert not any(r.verdict == "lost" for r in fam)
    assert all(r.changed_by_correction and r.verdict_unadjusted == "lost" for r in fam)
    none = judge_family(rets, "none")
    assert [r.verdict for r in none] == ["lost"] * 4
    assert not any(r.changed_by_correction for r in none)


def test_the_statement_names_correction_method_and_design():
    rets = judge_family(family((170, 146, 200), (80, 70, 100)), "bh")
    text = verdict_statement(rets)
    assert "Benjamini–Hochberg-adjusted (false discovery rate) over 2 measured capabilities" \
        in text
    assert "MOVER with Clopper–Pearson limits" in text and "unpaired: c0, c1" in text
    assert "\n" not in text


def graded(teacher: list[float], student: list[float]) -> tuple[SliceResults, SliceResults]:
    ids = [f"e{i}" for i in range(len(teacher))]

    def sl(scores: list[float]) -> SliceResults:
        return SliceResults.from_outcomes({i: v >= 0.5 for i, v in zip(ids, scores, strict=True)},
                                          dict(zip(ids, scores, strict=True)))
    return sl(teacher), sl(student)


def test_graded_scores_that_both_pass_are_not_retained():
    """A teacher at 0.95 and a student at 0.55, both above the pass mark: pass/fail sees no
    drop, the mean score drops by 40 points."""
    t, s = graded([0.95, 0.9, 1.0, 0.93, 0.97] * 6, [0.55, 0.6, 0.52, 0.58, 0.5] * 6)
    assert t.passed == s.passed == 30  # pass/fail alone: retained
    r = compare_slices("c", t, s)
    assert r.outcome == "mean_score" and r.design == "paired"
    assert r.verdict in ("lost", "degraded")
    assert r.drop == pytest.approx(0.95 - 0.55, abs=1e-12)
    assert r.teacher_mean_score == pytest.approx(0.95) and r.student_mean_score == pytest.approx(
        0.55)
    assert r.interval_method == "paired_t"


def test_binary_scores_stay_pass_fail():
    t, s = graded([1.0, 0.0] * 15, [1.0, 0.0] * 15)
    r = compare_slices("c", t, s)
    assert r.outcome == "pass_rate" and r.interval_method == "mover_clopper_pearson_paired"


def test_inline_discordant_pairs_give_the_per_example_analysis():
    """Counts with the discordant pairs equal the same 2×2 table from per-example files."""
    a, b, c, d = 120, 30, 10, 40
    n = a + b + c + d
    inline = compare_slices("c", SliceResults(n, a + b), SliceResults(n, a + c),
                            discordant=b + c)
    ids = [f"e{i}" for i in range(n)]
    t = {x: i < a + b for i, x in enumerate(ids)}
    s = {x: i < a or a + b <= i < a + b + c for i, x in enumerate(ids)}
    files = compare_slices("c", SliceResults.from_outcomes(t), SliceResults.from_outcomes(s))
    assert inline.pairing == f"paired on {n} of {n} (discordant pairs given)"
    for field in ("drop", "drop_ci", "p_value", "p_zero", "min_detectable_drop", "verdict",
                  "n_paired", "design"):
        assert getattr(inline, field) == pytest.approx(getattr(files, field)), field
    unpaired = compare_slices("c", SliceResults(n, a + b), SliceResults(n, a + c))
    assert inline.drop_ci[1] - inline.drop_ci[0] < unpaired.drop_ci[1] - unpaired.drop_ci[0]


def scenario_designs(path, teacher, student):
    """Each capability of a worked scenario as inline counts state it, recomputed by hand."""
    import yaml

    y = yaml.safe_load(path.read_text())
    designs, tol = {}, {}
    for c in y["capabilities"]:
        ev = c.get("evals") or {}
        if teacher not in ev or student not in ev:
            continue
        t, s = ev[teacher], ev[student]
        disc = (s.get("paired_with") or {}).get(teacher, (t.get("paired_with") or {}).get(
            student))
        if disc is None:
            designs[c["id"]] = hand.Binary(t["passed"], t["examples"], s["passed"], s["examples"])
        else:
            n, diff = t["examples"], t["passed"] - s["passed"]
            bb, cc = (disc + diff) // 2, (disc - diff) // 2
            aa = t["passed"] - bb
            designs[c["id"]] = hand.Binary(t["passed"], n, s["passed"], n,
                                           (aa, bb, cc, n - aa - bb - cc))
        tol[c["id"]] = c.get("tolerance", 0.02)
    return designs, tol


@pytest.mark.parametrize("path", [DEFAULT, SELF_HOSTED])
def test_worked_scenarios_match_a_recomputation_with_statsmodels(path, capsys):
    loaded = load_scenario(path)
    ev = evaluate(loaded.scenario, loaded.measured)
    assert loaded.scenario.multiplicity == "holm"
    for (teacher, student), rets in ev.pairs.items():
        designs, tol = scenario_designs(path, teacher, student)
        want = hand.verdicts(designs, tol, "holm")
        got = {r.capability: r.verdict for r in rets if r.capability in designs}
        assert got == want, (teacher, student)
        p_raw = [next(r for r in rets if r.capability == c).p_value for c in designs]
        p_adj = [next(r for r in rets if r.capability == c).p_adjusted for c in designs]
        assert p_adj == pytest.approx(list(multipletests(p_raw, method="holm")[1]), abs=1e-15)
    # the capability table of evaluate --json shows both p-values
    assert main(["evaluate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for c in out["capabilities"]:
        assert {"p_value", "p_adjusted", "p_zero", "p_zero_adjusted", "verdict_unadjusted",
                "multiplicity"} <= set(c)
    assert out["multiplicity"] == "holm"
    assert out["verdict_statement"] == verdict_statement(ev.retention)


def with_pairing(folder, entry: str) -> str:
    text = DEFAULT.read_text().replace(
        "      llama-8b-distilled: {examples: 198, passed: 97}  # R1-Distill-Llama-8B 49.0% of 198",
        "      llama-8b-distilled: {examples: 198, passed: 97, " + entry + "}  #")
    assert entry in text
    p = folder / "s.yaml"
    p.write_text(text)
    return str(p)


def test_inline_counts_paired_with_the_teacher(folder):
    path = with_pairing(folder, "paired_with: {o1: 51}")
    loaded = load_scenario(path)
    ev = evaluate(loaded.scenario, loaded.measured)
    r = next(x for x in ev.retention_against("o1", "llama-8b-distilled")
             if x.capability == "analysis")
    assert r.design == "paired" and r.pairing == "paired on 198 of 198 (discordant pairs given)"
    # 142 and 97 of 198 with 51 discordant items: 48 teacher only, 3 student only
    assert r.drop == pytest.approx((48 - 3) / 198)
    other = next(x for x in ev.retention_against("gpt-4o", "llama-8b-distilled")
                 if x.capability == "analysis")
    assert other.design == "unpaired"  # paired with o1 only


@pytest.mark.parametrize(("entry", "message"), [
    ("paired_with: {o1: 50}", "50 discordant items is impossible with 97 and 142 passed of 198"),
    ("paired_with: {o1: 400}", "must be between 45 and 157"),
    ("paired_with: {o3: 5}", "must name another model with eval counts on this capability"),
])
def test_impossible_pairing_is_an_error_at_its_line(folder, capsys, entry, message):
    path = with_pairing(folder, entry)
    assert main(["validate", path]) == 1
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(Path(path).read_text().splitlines(), 1) if entry in t)
    assert f"{path}:{line}: capabilities[1].evals.llama-8b-distilled.paired_with." in err
    assert message in err and "Traceback" not in err
