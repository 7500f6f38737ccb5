"""Statistics repairs, each against a computation written out here: n_to_settle at 80% power
(every sample size checked in order by hand), partial pairing, integer inputs in sensitivity."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import optimize
from scipy import stats as sp

from econ.base import mover, stats
from econ.cli import main
from econ.evidence.retention import SliceResults, compare_slices
from tests.conftest import SELF_HOSTED, raw_yaml


@pytest.mark.parametrize("seed", range(5))
def test_array_intervals_equal_the_scalar_ones(seed):
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 500, 50)
    k1, k2 = rng.integers(0, n + 1), rng.integers(0, n + 1)
    lo, hi = mover.mover_bounds(k1, n, k2, n, 0.0, 0.025)
    for i in range(50):
        assert (lo[i], hi[i]) == pytest.approx(
            mover.mover_interval(int(k1[i]), int(n[i]), int(k2[i]), int(n[i])), abs=1e-12)


def cp(k, n, gamma):
    """Clopper–Pearson limits at one-sided level gamma, scaled (fractional) counts allowed."""
    lo = 0.0 if k <= 0 else sp.beta.ppf(gamma, k, n - k + 1)
    hi = 1.0 if k >= n else sp.beta.ppf(1 - gamma, k + 1, n - k)
    return lo, hi


def power_by_hand(m, pt, ps, tol, gamma, cells=None):
    """Power of one sample size, by hand: the observed rates scaled to m (not rounded), the
    MOVER interval over Clopper–Pearson limits at them, the estimate normal around the observed
    drop with the design's variance."""
    d = pt - ps
    l1, u1 = cp(pt * m, m, gamma)
    l2, u2 = cp(ps * m, m, gamma)
    if cells is None:
        phi, var = 0.0, pt * (1 - pt) + ps * (1 - ps)
    else:
        n = sum(cells)
        a, b, c, dd = (x * m / n for x in cells)
        marg = (a + b) * (c + dd) * (a + c) * (b + dd)
        x = a * dd - b * c
        phi = 0.0 if marg == 0 else (x - m / 2) / math.sqrt(marg) if x > m / 2 else \
            0.0 if x >= 0 else x / math.sqrt(marg)
        d = (cells[1] - cells[2]) / n
        var = (cells[1] + cells[2]) / n - d * d
    lower = math.sqrt(max(0, (pt - l1) ** 2 - 2 * phi * (pt - l1) * (u2 - ps) + (u2 - ps) ** 2))
    upper = math.sqrt(max(0, (u1 - pt) ** 2 - 2 * phi * (u1 - pt) * (ps - l2) + (ps - l2) ** 2))
    margin = d - tol - lower if d > tol else tol - d - upper
    return sp.norm.cdf(margin / math.sqrt(var / m))


def mdd_unpaired_by_hand(p, m):
    """Smallest drop a two-sided 5% z-test detects with 80% power, n = m per model."""
    za, zb = sp.norm.ppf(0.975), sp.norm.ppf(0.8)

    def gap(delta):
        q = p - delta
        pbar = (p + q) / 2
        return delta - za * math.sqrt(2 * pbar * (1 - pbar) / m) - zb * math.sqrt(
            (p * (1 - p) + q * (1 - q)) / m)
    return optimize.brentq(gap, 1e-12, p) if gap(p) >= 0 else None


@pytest.mark.parametrize(("t", "s", "n", "tol"), [
    (270, 255, 300, 0.02),   # factual_qa of gpt-4o-mini: 5 points on a 2-point tolerance
    (186, 178, 200, 0.02),   # 4 points on a 2-point tolerance
    (90, 88, 100, 0.05),     # under the tolerance: settles as retained
    (9, 4, 12, 0.02),        # clarifying_questions: 42 points on 12 examples
])
def test_n_to_settle_is_the_first_sample_with_80_percent_power(t, s, n, tol):
    r = compare_slices("c", SliceResults(n, t), SliceResults(n, s), tol)
    assert r.verdict == "inconclusive" and r.settle_unit == "examples per model"
    pt, ps = t / n, s / n
    m = n
    while True:  # every m in order
        ok = power_by_hand(m, pt, ps, tol, 0.025) >= 0.8
        if ok and pt - ps > tol:  # a drop must also be detectable at that size
            mdd = mdd_unpaired_by_hand(pt, m)
            ok = mdd is not None and mdd <= pt - ps
        if ok:
            break
        m += 1
    assert r.n_to_settle == m


def test_n_to_settle_paired():
    # 60 pairs: 40 both pass, 12 teacher only, 5 student only, 3 neither; tolerance 0.02
    t = {f"e{i}": i < 52 for i in range(60)}
    s = {f"e{i}": i < 40 or 52 <= i < 57 for i in range(60)}
    r = compare_slices("c", SliceResults.from_outcomes(t), SliceResults.from_outcomes(s), 0.02)
    assert (r.n_paired, r.pairing, r.verdict) == (60, "paired on 60 of 60", "inconclusive")
    assert r.settle_unit == "pairs"
    m = 60
    while power_by_hand(m, 52 / 60, 45 / 60, 0.02, 0.025, (40, 12, 5, 3)) < 0.8 or \
            stats.min_detectable_drop_paired(m, 17 / 60) > 7 / 60:
        m += 1
    assert r.n_to_settle == m


def test_a_family_settles_at_its_strictest_level():
    """Under Holm over k capabilities, n_to_settle is the size that earns the claim whatever the
    others show: one-sided level 0.025 / k."""
    from econ.evidence.family import judge_family

    rets = [compare_slices(f"c{i}", SliceResults(300, 270), SliceResults(300, 255), 0.02,
                           settle=False) for i in range(4)]
    fam = judge_family(rets, "holm")
    m = 300
    while power_by_hand(m, 0.9, 0.85, 0.02, 0.025 / 4) < 0.8:
        m += 1
    assert {r.n_to_settle for r in fam} == {m}
    assert m > compare_slices("c", SliceResults(300, 270), SliceResults(300, 255)).n_to_settle


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
    phi = float(mover.newcombe_phi(a, b, c, d))
    paired = mover.mover_interval(a + b, 25, a + c, 25, phi)
    assert (sum(t.values()), sum(s.values())) == (45, 38)
    unpaired = mover.mover_interval(45, 50, 38, 50)
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
