"""Statistics repairs, each against a computation written out here: n_to_settle at 80% power
(searched without assuming monotonicity), partial pairing, integer inputs in sensitivity."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sp

from econ.base import stats
from econ.cli import main
from econ.evidence.retention import SliceResults, compare_slices
from tests.conftest import SELF_HOSTED, raw_yaml


@pytest.mark.parametrize("seed", range(5))
def test_array_intervals_equal_the_scalar_ones(seed):
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 500, 50)
    k1, k2 = rng.integers(0, n + 1), rng.integers(0, n + 1)
    lo, hi = stats.newcombe_unpaired_arrays(k1, n, k2, n)
    for i in range(50):
        assert (lo[i], hi[i]) == pytest.approx(
            stats.newcombe_unpaired(int(k1[i]), int(n[i]), int(k2[i]), int(n[i])), abs=1e-12)
    cells = rng.integers(0, 40, (4, 50))
    cells[0] += 1
    lo, hi = stats.newcombe_paired_arrays(*cells)
    for i in range(50):
        assert (lo[i], hi[i]) == pytest.approx(
            stats.newcombe_paired(*(int(x) for x in cells[:, i])), abs=1e-12)


def power_unpaired(m, pt, ps, tol):
    """Power of one sample size, by hand: counts scaled and rounded, Newcombe's interval at
    them, the estimate normal around the observed drop with the binomial variance."""
    kt, ks = round(pt * m), round(ps * m)
    lo, hi = stats.newcombe_unpaired(kt, m, ks, m)
    d, d_m = pt - ps, (kt - ks) / m
    se = math.sqrt((pt * (1 - pt) + ps * (1 - ps)) / m)
    margin = d - tol - (d_m - lo) if d > tol else tol - d - (hi - d_m)
    return sp.norm.cdf(margin / se)


@pytest.mark.parametrize(("t", "s", "n", "tol"), [
    (270, 255, 300, 0.02),   # factual_qa of the default scenario: 5 points, inconclusive
    (186, 178, 200, 0.02),   # 4 points on a 2-point tolerance
    (90, 88, 100, 0.05),     # under the tolerance: settles as retained
])
def test_n_to_settle_is_the_first_sample_with_80_percent_power(t, s, n, tol):
    r = compare_slices("c", SliceResults(n, t), SliceResults(n, s), tol)
    assert r.verdict == "inconclusive"
    pt, ps = t / n, s / n
    m = n
    while power_unpaired(m, pt, ps, tol) < 0.8:  # every m in order: no monotonicity assumed
        m += 1
    assert r.n_to_settle == m
    # and about twice the plug-in size that only centres the interval on the tolerance
    plug_in = n
    while True:
        kt, ks = round(pt * plug_in), round(ps * plug_in)
        lo, hi = stats.newcombe_unpaired(kt, plug_in, ks, plug_in)
        if (lo > tol) if pt - ps > tol else (hi <= tol):
            break
        plug_in += 1
    assert m > plug_in


def test_n_to_settle_paired():
    # 60 pairs: 40 both pass, 12 teacher only, 5 student only, 3 neither; tolerance 0.02
    t = {f"e{i}": i < 52 for i in range(60)}
    s = {f"e{i}": i < 40 or 52 <= i < 57 for i in range(60)}
    r = compare_slices("c", SliceResults.from_outcomes(t), SliceResults.from_outcomes(s), 0.02)
    assert (r.n_paired, r.pairing, r.verdict) == (60, "paired on 60 of 60", "inconclusive")
    a, b, c, d = 40, 12, 5, 3
    drop, disc = (b - c) / 60, (b + c) / 60
    m = 60
    while True:
        k = m / 60
        cells = [round(x * k) for x in (a, b, c, d)]
        lo, _ = stats.newcombe_paired(*cells)
        se = math.sqrt((disc - drop * drop) / m)
        if sp.norm.cdf((drop - 0.02 - ((cells[1] - cells[2]) / m - lo)) / se) >= 0.8:
            break
        m += 1
    assert r.n_to_settle == m


def test_partial_pairing_analyses_both_and_says_which_decided():
    # teacher on e0..e49, student on e25..e74: 25 shared ids of 75
    t = {f"e{i}": i % 10 != 0 for i in range(50)}        # 45 of 50 pass
    s = {f"e{i}": i % 4 != 0 for i in range(25, 75)}     # 38 of 50 pass
    r = compare_slices("c", SliceResults.from_outcomes(t), SliceResults.from_outcomes(s), 0.02)
    assert r.pairing == "paired on 25 of 75"
    shared = [f"e{i}" for i in range(25, 50)]
    a = sum(t[i] and s[i] for i in shared)
    b = sum(t[i] and not s[i] for i in shared)
    c = sum(not t[i] and s[i] for i in shared)
    d = sum(not t[i] and not s[i] for i in shared)
    paired = stats.newcombe_paired(a, b, c, d)
    assert (sum(t.values()), sum(s.values())) == (45, 38)
    unpaired = stats.newcombe_unpaired(45, 50, 38, 50)
    narrower = min((paired, "paired overlap"), (unpaired, "unpaired, all examples"),
                   key=lambda x: x[0][1] - x[0][0])
    assert r.drop_ci == pytest.approx(narrower[0], abs=1e-12)
    assert r.decided_by == narrower[1]
    # the unpaired analysis uses every example: nothing silently dropped
    assert narrower[1] == "unpaired, all examples"
    assert (r.n_teacher, r.n_student, r.n_paired) == (50, 50, 0)


def test_sensitivity_rounds_integers_and_reports_the_value_used(capsys):
    assert main(["sensitivity", str(SELF_HOSTED), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    y = raw_yaml(SELF_HOSTED)
    rows = {i["input"]: i for i in out["tiers"]["enterprise"]["inputs"]}
    row = rows["models.llama-70b.gpus_per_replica"]
    assert (row["base_value"], row["low_value"], row["high_value"]) == (4, 3, 5)  # 3.2, 4.8
    # the enterprise tier is the 70B alone; its cost is linear in GPUs per replica
    tier = next(t for t in y["tiers"] if t["id"] == "enterprise")
    assert main(["evaluate", str(SELF_HOSTED), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)["tiers"]["enterprise"]
    rate, fixed = y["fees"]["payment_rate"], y["fees"]["payment_fixed_usd"]
    for gpus, key in ((3, "floor_at_low_usd_month"), (5, "floor_at_high_usd_month")):
        per_user = ev["cost_per_user_month_usd"] * gpus / 4
        floor = (per_user + fixed) / (1 - tier["target_gross_margin"] - rate)
        assert row[key] == pytest.approx(floor, rel=1e-9)
