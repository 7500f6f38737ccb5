"""The statistics behind verdicts, checked against independent implementations: Clopper–Pearson
limits and the t tests of scipy and statsmodels, statsmodels' multipletests and its OLS with a
cluster-robust covariance."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from econ.base import clustered, mover, multiplicity
from tests.multitest_reference import multipletests


def cp(k: int, n: int, gamma: float) -> tuple[float, float]:
    """statsmodels' Clopper–Pearson ("beta") limits at one-sided level gamma each."""
    lo, hi = proportion_confint(k, n, alpha=2 * gamma, method="beta")
    return (0.0 if k == 0 else float(lo)), (1.0 if k == n else float(hi))


def mover_by_hand(k1, n1, k2, n2, phi, gamma):
    """Zou & Donner's square-and-add, written out over statsmodels' limits."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = cp(k1, n1, gamma)
    l2, u2 = cp(k2, n2, gamma)
    lower = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    upper = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return max(-1.0, p1 - p2 - lower), min(1.0, p1 - p2 + upper)


def phi_by_hand(a, b, c, d):
    """Newcombe (1998b): φ = (ad − bc − n/2)/√(margins) when ad > bc + n/2 (the continuity
    correction), 0 between, (ad − bc)/√(margins) when ad < bc."""
    n = a + b + c + d
    m = (a + b) * (c + d) * (a + c) * (b + d)
    if m == 0:
        return 0.0
    x = a * d - b * c
    return (x - n / 2) / math.sqrt(m) if x > n / 2 else 0.0 if x >= 0 else x / math.sqrt(m)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [
    (9, 12, 4, 12), (142, 198, 97, 198), (487, 500, 446, 500), (12, 12, 0, 12), (0, 10, 0, 20),
    (188, 200, 183, 200), (1, 1, 0, 1), (270, 300, 255, 300)])
def test_unpaired_interval_matches_clopper_pearson_by_hand(k1, n1, k2, n2):
    for gamma in (0.025, 0.005, 0.2):
        got = mover.bounds_at(k1, n1, k2, n2, 0.0, gamma)
        assert got == pytest.approx(mover_by_hand(k1, n1, k2, n2, 0.0, gamma), abs=1e-9)
        arr = mover.mover_bounds(k1, n1, k2, n2, 0.0, gamma)
        assert (float(arr[0]), float(arr[1])) == pytest.approx(got, abs=1e-12)


@pytest.mark.parametrize("cells", [(40, 12, 5, 3), (59, 6, 16, 80), (5, 0, 0, 5), (0, 3, 1, 8),
                                   (120, 30, 10, 40), (3, 0, 9, 0)])
def test_paired_interval_matches_by_hand(cells):
    a, b, c, _ = cells
    n = sum(cells)
    phi = phi_by_hand(*cells)
    assert float(mover.newcombe_phi(*cells)) == pytest.approx(phi, abs=1e-12)
    got = mover.bounds_at(a + b, n, a + c, n, phi, 0.025)
    assert got == pytest.approx(mover_by_hand(a + b, n, a + c, n, phi, 0.025), abs=1e-9)


def level_by_hand(k1, n1, k2, n2, phi, delta0, side):
    """The one-sided level at which statsmodels' bound reaches delta0, by scipy's root finder."""
    def gap(log_g):
        b = mover_by_hand(k1, n1, k2, n2, phi, math.exp(log_g))[side]
        return b - delta0
    return math.exp(optimize.brentq(gap, math.log(1e-100), math.log(0.5), xtol=1e-12))


@pytest.mark.parametrize(("k1", "n1", "k2", "n2", "delta0"), [
    (9, 12, 4, 12, 0.02), (142, 198, 97, 198, 0.02), (487, 500, 446, 500, 0.02),
    (270, 300, 255, 300, 0.0), (188, 200, 183, 200, 0.0), (90, 100, 88, 100, 0.05)])
def test_p_values_are_the_interval_inverted(k1, n1, k2, n2, delta0):
    d = k1 / n1 - k2 / n2
    if d > delta0:
        p = mover.p_above(k1, n1, k2, n2, 0.0, delta0)
        assert p == pytest.approx(level_by_hand(k1, n1, k2, n2, 0.0, delta0, 0), rel=1e-6)
        lo, _ = mover.mover_interval(k1, n1, k2, n2)
        assert (p < 0.025) == (lo > delta0)
        # the two claims' p-values add to one off the tolerance
        assert p + mover.p_below(k1, n1, k2, n2, 0.0, delta0) == pytest.approx(1.0, abs=1e-9)
    else:
        p = mover.p_below(k1, n1, k2, n2, 0.0, delta0)
        assert p == pytest.approx(level_by_hand(k1, n1, k2, n2, 0.0, delta0, 1), rel=1e-6)
        _, hi = mover.mover_interval(k1, n1, k2, n2)
        assert (p <= 0.025) == (hi <= delta0)


@settings(max_examples=60, deadline=None)
@given(st.integers(10, 300), st.data())
def test_test_and_interval_never_disagree(n, data):
    k1 = data.draw(st.integers(0, n))
    k2 = data.draw(st.integers(0, n))
    tol = data.draw(st.sampled_from([0.0, 0.02, 0.05]))
    lo, hi = mover.mover_interval(k1, n, k2, n)
    p_up, p_down = mover.p_above(k1, n, k2, n, 0.0, tol), mover.p_below(k1, n, k2, n, 0.0, tol)
    if abs(lo - tol) > 1e-7:
        assert (p_up < 0.025) == (lo > tol)
    if abs(hi - tol) > 1e-7:
        assert (p_down < 0.025) == (hi < tol)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["holm", "bh", "none"])
def test_multiplicity_matches_statsmodels(seed, method):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.05, 3), rng.uniform(0, 1, 1 + seed)])
    p[0] = p[1]  # ties
    got = multiplicity.adjust(list(p), method)
    if method == "none":
        assert got == list(p)
        return
    _, want, _, _ = multipletests(p, alpha=0.025, method="holm" if method == "holm" else "fdr_bh")
    assert got == pytest.approx(list(want), abs=1e-15)


def test_multiplicity_of_an_empty_family():
    assert multiplicity.adjust([], "holm") == []
    assert multiplicity.strictest_level(0.025, 6, "holm") == pytest.approx(0.025 / 6)
    assert multiplicity.strictest_level(0.025, 6, "none") == 0.025


def clustered_data(seed, clusters=30, size=5):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), size)
    effect = np.repeat(rng.normal(0, 0.3, clusters), size)
    d = np.clip(np.round(0.1 + effect + rng.normal(0, 0.4, clusters * size)), -1, 1)
    return d, g


@pytest.mark.parametrize("seed", range(4))
def test_paired_cluster_robust_matches_statsmodels_ols(seed):
    d, g = clustered_data(seed)
    got = clustered.paired_mean_diff(d, [f"c{x}" for x in g])
    x = np.ones((len(d), 1))
    fit = sm.OLS(d, x).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    naive = sm.OLS(d, x).fit()
    assert got.estimate == pytest.approx(fit.params[0], abs=1e-12)
    assert got.se == pytest.approx(fit.bse[0], rel=1e-10)
    assert got.df == fit.df_resid_inference
    assert got.interval() == pytest.approx(tuple(fit.conf_int(alpha=0.05)[0]), abs=1e-10)
    assert got.design_effect == pytest.approx((fit.bse[0] / naive.bse[0]) ** 2, rel=1e-10)
    # the one-sided p at a tolerance is statsmodels' t test of the same hypothesis
    t = fit.t_test((np.array([[1.0]]), np.array([0.02])))
    two_sided = float(t.pvalue)
    stat = float(np.squeeze(t.tvalue))
    want = two_sided / 2 if stat > 0 else 1 - two_sided / 2
    assert got.p_above(0.02) == pytest.approx(want, rel=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_unpaired_cluster_robust_matches_statsmodels_ols(seed):
    rng = np.random.default_rng(seed)
    g1, g2 = np.repeat(np.arange(20), 4), np.repeat(np.arange(10, 35), 3)  # shared clusters
    y1 = (rng.uniform(size=len(g1)) < 0.8).astype(float)
    y2 = (rng.uniform(size=len(g2)) < 0.6).astype(float)
    got = clustered.unpaired_mean_diff(y1, y2, [str(x) for x in g1], [str(x) for x in g2])
    y = np.concatenate([y1, y2])
    x = sm.add_constant(np.concatenate([np.ones(len(y1)), np.zeros(len(y2))]))
    groups = np.concatenate([g1, g2])
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    naive = sm.OLS(y, x).fit()
    assert got.estimate == pytest.approx(fit.params[1], abs=1e-12)
    assert got.se == pytest.approx(fit.bse[1], rel=1e-10)
    assert got.interval() == pytest.approx(tuple(fit.conf_int(alpha=0.05)[1]), abs=1e-10)
    assert got.design_effect == pytest.approx((fit.bse[1] / naive.bse[1]) ** 2, rel=1e-10)


def test_paired_t_and_welch_match_scipy():
    rng = np.random.default_rng(5)
    t = rng.uniform(0.5, 1.0, 40)
    s = np.clip(t - rng.normal(0.1, 0.15, 40), 0, 1)
    got = clustered.paired_mean_diff(t - s)
    want = sps.ttest_rel(t - 0.02, s, alternative="greater")
    assert got.p_above(0.02) == pytest.approx(want.pvalue, rel=1e-10)
    ci = sps.ttest_rel(t, s).confidence_interval(0.95)
    assert got.interval() == pytest.approx((ci.low, ci.high), abs=1e-12)
    u = rng.uniform(0.2, 0.9, 25)
    got = clustered.unpaired_mean_diff(t, u)
    want = sps.ttest_ind(t - 0.02, u, equal_var=False, alternative="less")
    assert got.p_below(0.02) == pytest.approx(want.pvalue, rel=1e-10)
    ci = sps.ttest_ind(t, u, equal_var=False).confidence_interval(0.95)
    assert got.interval() == pytest.approx((ci.low, ci.high), abs=1e-12)
