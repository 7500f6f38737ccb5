"""Statistics of pass rates: intervals, and what a sample can detect.

Methods (all at 95% unless told otherwise):
- pass rate: Wilson score interval;
- Newcombe's hybrid score intervals of a drop (1998, method 10), unpaired and paired: econ's
  drop interval until issue 21, kept as the reference :mod:`econ.base.mover` was chosen against
  (``tests/test_coverage.py``: it covers 90% at 12 examples);
- minimum detectable drop at two-sided α and power: the normal approximation for two independent
  proportions, and Connor's (1987) formula for paired proportions.
The drop interval and the tests econ uses are in :mod:`econ.base.mover` (pass/fail) and
:mod:`econ.base.clustered` (means: graded scores, clustered examples).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

# scipy is imported where it is called: a command that fails on its input (a scenario that does
# not parse, a traffic log refused at its first line) exits before its 0.6 s of import CPU

__all__ = [
    "min_detectable_drop_paired",
    "min_detectable_drop_unpaired",
    "newcombe_paired",
    "newcombe_paired_arrays",
    "newcombe_unpaired",
    "newcombe_unpaired_arrays",
    "wilson_interval",
    "wilson_interval_arrays",
    "z_value",
]

@lru_cache(maxsize=64)
def _normal_quantile(p: float) -> float:
    """scipy's normal quantile, cached: one evaluation asks for the same few thousands of times."""
    from scipy import stats

    return float(stats.norm.ppf(p))


def z_value(confidence: float = 0.95) -> float:
    return _normal_quantile(0.5 + confidence / 2)


def wilson_interval(passed: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of passed/n; (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = passed / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_unpaired(k1: int, n1: int, k2: int, n2: int,
                      confidence: float = 0.95) -> tuple[float, float]:
    """Interval of p1 − p2 for independent samples (Newcombe's hybrid score, method 10)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def newcombe_paired(both: int, first_only: int, second_only: int, neither: int,
                    confidence: float = 0.95) -> tuple[float, float]:
    """Interval of p1 − p2 on paired outcomes (Newcombe 1998, method 10).

    ``first_only`` counts examples the first model passes and the second fails.
    """
    a, b, c, d = both, first_only, second_only, neither
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, confidence)
    l2, u2 = wilson_interval(a + c, n, confidence)
    phi = _newcombe_phi(a, b, c, d)
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    diff = p1 - p2
    lower = math.sqrt(max(0.0, dl1 ** 2 - 2 * phi * dl1 * du2 + du2 ** 2))
    upper = math.sqrt(max(0.0, du1 ** 2 - 2 * phi * du1 * dl2 + dl2 ** 2))
    return max(-1.0, diff - lower), min(1.0, diff + upper)


def _newcombe_phi(a: int, b: int, c: int, d: int) -> float:
    """Newcombe's corrected correlation of the two paired proportions."""
    n = a + b + c + d
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if margins == 0:
        return 0.0
    cross = a * d - b * c
    if cross > n / 2:
        return (cross - n / 2) / math.sqrt(margins)
    if cross >= 0:
        return 0.0
    return cross / math.sqrt(margins)


def min_detectable_drop_unpaired(p_teacher: float, n_teacher: int, n_student: int,
                                 alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest drop below ``p_teacher`` a two-sided z-test detects with the given power.

    None when even a drop to a pass rate of zero would not be detected.
    """
    if n_teacher == 0 or n_student == 0 or p_teacher <= 0:
        return None
    za, zb = z_value(1 - alpha), _normal_quantile(power)

    def gap(delta: float) -> float:
        p2 = p_teacher - delta
        pbar = (n_teacher * p_teacher + n_student * p2) / (n_teacher + n_student)
        null_sd = math.sqrt(pbar * (1 - pbar) * (1 / n_teacher + 1 / n_student))
        alt_sd = math.sqrt(p_teacher * (1 - p_teacher) / n_teacher + p2 * (1 - p2) / n_student)
        return delta - za * null_sd - zb * alt_sd

    if gap(p_teacher) < 0:
        return None
    from scipy import optimize

    return float(optimize.brentq(gap, 1e-12, p_teacher, xtol=1e-12))


def min_detectable_drop_paired(n_pairs: int, discordance: float, alpha: float = 0.05,
                               power: float = 0.8) -> float | None:
    """Smallest paired drop detected with the given power (Connor 1987).

    ``discordance`` is the observed share of discordant pairs; a drop δ needs at least δ of them,
    so the share used is max(discordance, δ). None when no drop up to 1 is detectable.
    """
    if n_pairs == 0:
        return None
    za, zb = z_value(1 - alpha), _normal_quantile(power)

    def gap(delta: float) -> float:
        psi = max(discordance, delta)
        return delta * math.sqrt(n_pairs) - za * math.sqrt(psi) - zb * math.sqrt(psi - delta ** 2)

    if gap(1.0) < 0:
        return None
    from scipy import optimize

    return float(optimize.brentq(gap, 1e-12, 1.0, xtol=1e-12))


def wilson_interval_arrays(passed: Any, n: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """:func:`wilson_interval` over numpy arrays (n > 0)."""
    z = z_value(confidence)
    passed, n = np.asarray(passed, dtype=float), np.asarray(n, dtype=float)
    p = passed / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def newcombe_unpaired_arrays(k1: Any, n1: Any, k2: Any, n2: Any,
                             confidence: float = 0.95) -> tuple[Any, Any]:
    """:func:`newcombe_unpaired` over numpy arrays."""
    k1, n1, k2, n2 = (np.asarray(x, dtype=float) for x in (k1, n1, k2, n2))
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval_arrays(k1, n1, confidence)
    l2, u2 = wilson_interval_arrays(k2, n2, confidence)
    d = p1 - p2
    return (d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def newcombe_paired_arrays(both: Any, first_only: Any, second_only: Any, neither: Any,
                           confidence: float = 0.95) -> tuple[Any, Any]:
    """:func:`newcombe_paired` over numpy arrays."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval_arrays(a + b, n, confidence)
    l2, u2 = wilson_interval_arrays(a + c, n, confidence)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    root = np.sqrt(np.where(margins > 0, margins, 1.0))
    phi = np.where(margins == 0, 0.0,
                   np.where(cross > n / 2, (cross - n / 2) / root,
                            np.where(cross >= 0, 0.0, cross / root)))
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    lower = np.sqrt(np.maximum(0.0, dl1 ** 2 - 2 * phi * dl1 * du2 + du2 ** 2))
    upper = np.sqrt(np.maximum(0.0, du1 ** 2 - 2 * phi * du1 * dl2 + dl2 ** 2))
    diff = p1 - p2
    return np.maximum(-1.0, diff - lower), np.minimum(1.0, diff + upper)
