from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from econ.evidence.retention import SliceResults, compare_slices


def outcomes(passes: list[int], prefix: str = "ex") -> dict[str, bool]:
    return {f"{prefix}{i}": bool(v) for i, v in enumerate(passes)}


def test_identical_results_paired_is_retained_when_large():
    passes = [1] * 900 + [0] * 100
    t = SliceResults.from_outcomes(outcomes(passes))
    r = compare_slices("c", t, t, tolerance=0.02)
    assert r.claim == "retained" and r.p_value < 0.025 and r.p_zero >= 0.5
    assert r.n_paired == 1000 and r.drop == 0.0 and r.design == "paired"
    assert r.verdict == "retained"
    assert r.interval_method == "mover_clopper_pearson_paired"


def test_unpaired_when_ids_differ():
    t = SliceResults.from_outcomes(outcomes([1] * 90 + [0] * 10, "a"))
    s = SliceResults.from_outcomes(outcomes([1] * 80 + [0] * 20, "b"))
    r = compare_slices("c", t, s)
    assert r.n_paired == 0 and r.design == "unpaired"
    assert r.interval_method == "mover_clopper_pearson"


def test_counts_only_is_unpaired():
    r = compare_slices("c", SliceResults(100, 90), SliceResults(100, 60))
    assert r.design == "unpaired" and r.verdict == "lost" and r.claim == "lost"


def test_unmeasured():
    r = compare_slices("c", SliceResults(10, 9), None)
    assert r.verdict == "unmeasured" and r.drop is None and not r.underpowered
    r = compare_slices("c", None, None)
    assert r.verdict == "unmeasured"


def test_verdicts():
    assert compare_slices("c", SliceResults(1000, 990), SliceResults(1000, 989)).verdict == \
        "retained"
    assert compare_slices("c", SliceResults(1000, 900), SliceResults(1000, 700)).verdict == "lost"
    r = compare_slices("c", SliceResults(12, 9), SliceResults(12, 7))
    assert r.verdict == "inconclusive" and r.n_to_settle is not None and r.n_to_settle > 12
    assert r.underpowered
    # significantly worse, but the interval still reaches under the tolerance
    d = compare_slices("c", SliceResults(4000, 3800), SliceResults(4000, 3700), tolerance=0.03)
    assert d.drop_ci[0] > 0 and d.drop_ci[0] <= 0.03 < d.drop_ci[1]
    assert d.verdict == "degraded"


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=120),
       st.randoms(use_true_random=False))
def test_shuffling_example_order_changes_nothing(pairs, rnd: random.Random):
    t = {f"e{i}": a for i, (a, _) in enumerate(pairs)}
    s = {f"e{i}": b for i, (_, b) in enumerate(pairs)}
    keys = list(t)
    rnd.shuffle(keys)
    r1 = compare_slices("c", SliceResults.from_outcomes(t), SliceResults.from_outcomes(s))
    r2 = compare_slices("c", SliceResults.from_outcomes({k: t[k] for k in keys}),
                        SliceResults.from_outcomes({k: s[k] for k in keys}))
    assert r1 == r2


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=200))
def test_drop_interval_contains_drop(pairs):
    t = {f"e{i}": a for i, (a, _) in enumerate(pairs)}
    s = {f"e{i}": b for i, (_, b) in enumerate(pairs)}
    r = compare_slices("c", SliceResults.from_outcomes(t), SliceResults.from_outcomes(s))
    assert r.drop_ci[0] - 1e-12 <= r.drop <= r.drop_ci[1] + 1e-12


@pytest.mark.parametrize("n", [1, 5, 40])
def test_edge_all_pass_all_fail(n):
    r = compare_slices("c", SliceResults(n, n), SliceResults(n, 0))
    assert r.drop == 1.0
    assert r.drop_ci[0] <= 1.0 <= r.drop_ci[1] + 1e-12


@given(st.integers(3000, 20000), st.floats(0.05, 0.95))
def test_identical_results_are_retained_when_n_is_large(n, rate):
    outcomes_ = {f"e{i}": i < int(rate * n) for i in range(n)}
    same = SliceResults.from_outcomes(outcomes_)
    r = compare_slices("c", same, same, tolerance=0.02)
    assert r.p_zero >= 0.5 and r.drop == 0.0
    assert r.verdict == "retained"
