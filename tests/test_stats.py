"""Statistics checked against independent implementations (statsmodels, scipy) to 1e-8."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
)

from econ.base import stats

COUNTS = [(0, 1), (1, 1), (0, 12), (12, 12), (3, 12), (50, 100), (97, 198), (487, 500),
          (0, 500), (1, 2)]


@pytest.mark.parametrize(("k", "n"), COUNTS)
def test_wilson_matches_statsmodels(k, n):
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert stats.wilson_interval(k, n) == pytest.approx((lo, hi), abs=1e-8)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [
    (56, 70, 48, 80), (9, 12, 4, 12), (12, 12, 0, 12), (0, 10, 0, 20), (5, 5, 5, 5),
    (142, 198, 97, 198), (1, 1, 0, 1), (487, 500, 464, 500)])
def test_unpaired_interval_and_test_match_statsmodels(k1, n1, k2, n2):
    lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert stats.newcombe_unpaired(k1, n1, k2, n2) == pytest.approx((lo, hi), abs=1e-8)


def test_newcombe_unpaired_published_example():
    # Newcombe (1998a), Stat Med 17:873, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    lo, hi = stats.newcombe_unpaired(56, 70, 48, 80)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_newcombe_paired_published_example():
    # Fagerland, Lydersen & Laake, Statistical Analysis of Contingency Tables, ch. 8 (Cavo et al.
    # 2012): table [[59, 6], [16, 80]], Newcombe square-and-add: -0.0621 (-0.1186 to -0.0046)
    lo, hi = stats.newcombe_paired(59, 6, 16, 80)
    assert (round(lo, 4), round(hi, 4)) == (-0.1186, -0.0046)


def _newcombe_paired_reference(a, b, c, d):
    """Written out from Newcombe (1998b) with statsmodels' Wilson intervals."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = proportion_confint(a + b, n, method="wilson")
    l2, u2 = proportion_confint(a + c, n, method="wilson")
    prod = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    if prod == 0:
        phi = 0.0
    elif cross > n / 2:
        phi = (cross - n / 2) / math.sqrt(prod)
    elif cross >= 0:
        phi = 0.0
    else:
        phi = cross / math.sqrt(prod)
    lo = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2))
    hi = p1 - p2 + math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1))
    return lo, hi


@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
def test_newcombe_paired_matches_reference(a, b, c, d):
    if a + b + c + d == 0:
        return
    assert stats.newcombe_paired(a, b, c, d) == pytest.approx(
        _newcombe_paired_reference(a, b, c, d), abs=1e-8)


def _power_unpaired(p1, n1, n2, delta):
    """Power of the pooled two-sided z-test, written out independently."""
    p2 = p1 - delta
    pbar = (n1 * p1 + n2 * p2) / (n1 + n2)
    se0 = math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2))
    se1 = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return sps.norm.cdf((delta - sps.norm.ppf(0.975) * se0) / se1)


@pytest.mark.parametrize(("p1", "n"), [(0.9, 12), (0.9, 100), (0.5, 400), (0.97, 500),
                                       (0.7, 30)])
def test_min_detectable_drop_unpaired_has_80_percent_power(p1, n):
    mdd = stats.min_detectable_drop_unpaired(p1, n, n)
    assert mdd is not None
    assert _power_unpaired(p1, n, n, mdd) == pytest.approx(0.8, abs=1e-6)


def test_twelve_examples_cannot_detect_ten_points():
    mdd = stats.min_detectable_drop_unpaired(0.9, 12, 12)
    assert mdd is not None and mdd > 0.10
    paired = stats.min_detectable_drop_paired(12, 0.1)
    assert paired is not None and paired > 0.10


def test_min_detectable_drop_paired_matches_connor():
    # Connor (1987): n = (za*sqrt(psi) + zb*sqrt(psi - d^2))^2 / d^2 at the detectable drop
    n, psi = 200, 0.2
    d = stats.min_detectable_drop_paired(n, psi)
    za, zb = sps.norm.ppf(0.975), sps.norm.ppf(0.8)
    assert (za * math.sqrt(psi) + zb * math.sqrt(psi - d * d)) ** 2 / d ** 2 == pytest.approx(n)


def test_nothing_detectable_with_one_example():
    assert stats.min_detectable_drop_unpaired(0.5, 1, 1) is None
    assert stats.min_detectable_drop_paired(1, 0.0) is None


@given(st.integers(1, 300), st.data())
def test_wilson_contains_estimate_and_narrows(n, data):
    k = data.draw(st.integers(0, n))
    lo, hi = stats.wilson_interval(k, n)
    assert lo - 1e-12 <= k / n <= hi + 1e-12
    lo4, hi4 = stats.wilson_interval(4 * k, 4 * n)
    assert hi4 - lo4 < hi - lo


@given(st.integers(1, 200), st.integers(1, 200), st.data())
def test_unpaired_interval_contains_estimate(n1, n2, data):
    k1, k2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    lo, hi = stats.newcombe_unpaired(k1, n1, k2, n2)
    assert lo - 1e-12 <= k1 / n1 - k2 / n2 <= hi + 1e-12
