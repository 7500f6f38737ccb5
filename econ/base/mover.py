"""The interval of a drop in pass rate econ uses, and the one-sided p-values it implies.

Method: MOVER (the "method of variance estimates recovery", Newcombe's square-and-add; Zou &
Donner 2008) over Clopper–Pearson limits of each pass rate. Paired outcomes add Newcombe's
(1998, method 10) corrected correlation φ of the two rates. It was chosen by its coverage
(``tests/test_coverage.py``): at or above 95% at every pass-rate pair of the grid for 10 to 200
examples, paired and unpaired, where Newcombe's Wilson-based interval (econ's earlier one),
Agresti–Caffo and Miettinen–Nurminen fall to 90–93% at 10–20 examples.

One design is five numbers: passes ``k1`` of ``n1`` (teacher), ``k2`` of ``n2`` (student) and
``phi`` (0 when unpaired; paired: ``k1 = a + b``, ``k2 = a + c``, ``n1 = n2 = n``).

A p-value is the interval inverted: ``p_above(δ0)`` is the one-sided level γ at which the lower
bound of the drop equals δ0, so ``p < 0.025`` exactly when the 95% interval lies above δ0; a test
and the interval never disagree. Past a one-sided level of 0.5 the bound is not defined (the
Clopper–Pearson limits cross their estimate); a drop that no level below 0.5 separates from δ0
gets p = 0.5, and one on the other side gets ``1 − p`` of the opposite claim.
May import: numpy, scipy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "MIN_P",
    "bounds_at",
    "cp_limits",
    "mover_bounds",
    "mover_combine",
    "mover_interval",
    "newcombe_phi",
    "p_above",
    "p_below",
    "phi_at",
]

MIN_P = 1e-100  # p-values below this are reported as it (the limits stay exact down to it)


def cp_limits(k: Any, n: Any, gamma: Any) -> tuple[Any, Any]:
    """One-sided Clopper–Pearson limits of k/n at level ``gamma`` each (two-sided 1 − 2γ).

    ``k`` may be fractional (a scaled count for power); arrays broadcast."""
    from scipy import special

    k, n, g = (np.asarray(x, dtype=float) for x in (k, n, gamma))
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k <= 0, 0.0, special.betaincinv(np.maximum(k, 1e-300), n - k + 1, g))
        hi = np.where(k >= n, 1.0, special.betainccinv(k + 1, np.maximum(n - k, 1e-300), g))
    return lo, hi


def newcombe_phi(both: Any, first_only: Any, second_only: Any, neither: Any) -> Any:
    """Newcombe's corrected correlation of two paired proportions (0 when a margin is empty)."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    root = np.sqrt(np.where(margins > 0, margins, 1.0))
    return np.where(margins <= 0, 0.0,
                    np.where(cross > n / 2, (cross - n / 2) / root,
                             np.where(cross >= 0, 0.0, cross / root)))


def phi_at(both: float, first_only: float, second_only: float, neither: float) -> float:
    """:func:`newcombe_phi` of one table (scalars, without numpy's overhead)."""
    a, b, c, d = both, first_only, second_only, neither
    n = a + b + c + d
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if margins <= 0:
        return 0.0
    cross = a * d - b * c
    if cross > n / 2:
        return (cross - n / 2) / math.sqrt(margins)
    return 0.0 if cross >= 0 else cross / math.sqrt(margins)


def mover_bounds(k1: Any, n1: Any, k2: Any, n2: Any, phi: Any, gamma: Any) -> tuple[Any, Any]:
    """Lower and upper bound of p1 − p2, each at one-sided level ``gamma`` (arrays broadcast)."""
    k1, n1, k2, n2 = (np.asarray(x, dtype=float) for x in (k1, n1, k2, n2))
    l1, u1 = cp_limits(k1, n1, gamma)
    l2, u2 = cp_limits(k2, n2, gamma)
    return mover_combine(k1 / n1, l1, u1, k2 / n2, l2, u2, phi)


def mover_combine(p1: Any, l1: Any, u1: Any, p2: Any, l2: Any, u2: Any,
                  phi: Any) -> tuple[Any, Any]:
    """Square-and-add: limits of each rate (and their correlation φ) → bounds of p1 − p2."""
    p1, l1, u1, p2, l2, u2, phi = (np.asarray(x, dtype=float)
                                   for x in (p1, l1, u1, p2, l2, u2, phi))
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    lower = np.sqrt(np.maximum(0.0, dl1 ** 2 - 2 * phi * dl1 * du2 + du2 ** 2))
    upper = np.sqrt(np.maximum(0.0, du1 ** 2 - 2 * phi * du1 * dl2 + dl2 ** 2))
    d = p1 - p2
    return np.maximum(-1.0, d - lower), np.minimum(1.0, d + upper)


def mover_interval(k1: float, n1: float, k2: float, n2: float, phi: float = 0.0,
                   confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided interval of p1 − p2 at ``confidence``."""
    lo, hi = mover_bounds(k1, n1, k2, n2, phi, (1 - confidence) / 2)
    return float(lo), float(hi)


def bounds_at(k1: float, n1: float, k2: float, n2: float, phi: float,
              gamma: float) -> tuple[float, float]:
    """:func:`mover_bounds` of one design (scalars, without numpy's overhead)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = _cp(k1, n1, gamma)
    l2, u2 = _cp(k2, n2, gamma)
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    lower = math.sqrt(max(0.0, dl1 * dl1 - 2 * phi * dl1 * du2 + du2 * du2))
    upper = math.sqrt(max(0.0, du1 * du1 - 2 * phi * du1 * dl2 + dl2 * dl2))
    d = p1 - p2
    return max(-1.0, d - lower), min(1.0, d + upper)


def _cp(k: float, n: float, gamma: float) -> tuple[float, float]:
    from scipy import special

    lo = 0.0 if k <= 0 else float(special.betaincinv(k, n - k + 1, gamma))
    hi = 1.0 if k >= n else float(special.betainccinv(k + 1, n - k, gamma))
    return lo, hi


def _level_where(bound: Any, target: float, rising: bool) -> float:
    """The one-sided level γ ≤ 0.5 at which ``bound(γ)`` reaches ``target``; ``rising`` says the
    bound grows with γ (a lower bound). MIN_P when even γ = MIN_P is past the target."""
    from scipy import optimize

    def gap(log_gamma: float) -> float:
        v = float(bound(math.exp(log_gamma))) - target
        return v if rising else -v

    lo, hi = math.log(MIN_P), math.log(0.5)
    if gap(lo) >= 0:
        return MIN_P
    return math.exp(float(optimize.brentq(gap, lo, hi, xtol=1e-10, rtol=1e-12)))


def p_above(k1: float, n1: float, k2: float, n2: float, phi: float, delta0: float) -> float:
    """One-sided p-value of "p1 − p2 > δ0": the level at which the lower bound reaches δ0."""
    lower, upper = _bound(k1, n1, k2, n2, phi, 0), _bound(k1, n1, k2, n2, phi, 1)
    if lower(0.5) >= delta0:
        return _level_where(lower, delta0, rising=True)
    if upper(0.5) <= delta0:
        return 1.0 - _level_where(upper, delta0, rising=False)
    return 0.5


def p_below(k1: float, n1: float, k2: float, n2: float, phi: float, delta0: float) -> float:
    """One-sided p-value of "p1 − p2 < δ0": the level at which the upper bound reaches δ0."""
    lower, upper = _bound(k1, n1, k2, n2, phi, 0), _bound(k1, n1, k2, n2, phi, 1)
    if upper(0.5) <= delta0:
        return _level_where(upper, delta0, rising=False)
    if lower(0.5) >= delta0:
        return 1.0 - _level_where(lower, delta0, rising=True)
    return 0.5


def _bound(k1: float, n1: float, k2: float, n2: float, phi: float, side: int) -> Any:
    return lambda g: bounds_at(k1, n1, k2, n2, phi, g)[side]
