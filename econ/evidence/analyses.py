"""How one capability's teacher and student results are compared: the analysis of a design.

An analysis knows the observed drop, its bounds at any one-sided level, the one-sided p-values
of "drop above δ0" and "drop below δ0" (the bounds inverted, so they agree), the minimum
detectable drop, and the power it would have at another sample size. Two kinds:

- :class:`BinaryAnalysis`, pass/fail outcomes: MOVER with Clopper–Pearson limits
  (:mod:`econ.base.mover`), paired when example ids match (or when inline counts give the
  discordant pairs), unpaired otherwise;
- :class:`MeanAnalysis`, graded scores or clustered examples: a difference of means with a t
  reference (:mod:`econ.base.clustered`), paired t, Welch's t or cluster-robust.

Power at ``m`` units: the observed rates (or standard deviation) are taken as the truth, the
estimate is normal around the drop with the design's variance over ``m``, and it carries the
interval's half-width at ``m`` (unrounded, so power rises with ``m``).
May import: econ.base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from econ.base import mover, stats
from econ.base.clustered import MeanDiff

__all__ = ["ALPHA", "MAX_SETTLE_N", "POWER", "SETTLE_GAP", "Analysis", "BinaryAnalysis",
           "MeanAnalysis", "sample_size_to_settle"]

ALPHA = 0.05  # two-sided; each claim is one side at ALPHA / 2
POWER = 0.8
SETTLE_GAP = 1e-3  # a drop within 0.1 point of the tolerance cannot be settled either way
MAX_SETTLE_N = 10_000_000


@dataclass(frozen=True)
class BinaryAnalysis:
    """Passes k1 of n1 (teacher) and k2 of n2 (student); paired designs give the four cells."""

    k1: float
    n1: float
    k2: float
    n2: float
    cells: tuple[float, float, float, float] | None = None  # both, teacher only, student only,
    # neither (paired)

    @property
    def paired(self) -> bool:
        return self.cells is not None

    @cached_property
    def phi(self) -> float:
        return 0.0 if self.cells is None else mover.phi_at(*self.cells)

    @property
    def drop(self) -> float:
        if self.cells is not None:
            return (self.cells[1] - self.cells[2]) / self.n1
        return self.k1 / self.n1 - self.k2 / self.n2

    @property
    def units(self) -> int:
        return int(self.n1) if self.paired else int(min(self.n1, self.n2))

    @property
    def unit(self) -> str:
        return "pairs" if self.paired else "examples per model"

    @property
    def interval_method(self) -> str:
        return "mover_clopper_pearson_paired" if self.paired else "mover_clopper_pearson"

    def bounds(self, gamma: float) -> tuple[float, float]:
        return mover.bounds_at(self.k1, self.n1, self.k2, self.n2, self.phi, gamma)

    def p_above(self, delta0: float) -> float:
        return mover.p_above(self.k1, self.n1, self.k2, self.n2, self.phi, delta0)

    def p_below(self, delta0: float) -> float:
        return mover.p_below(self.k1, self.n1, self.k2, self.n2, self.phi, delta0)

    def _discordance(self) -> float:
        assert self.cells is not None
        return (self.cells[1] + self.cells[2]) / self.n1

    def mdd(self, m: float | None = None) -> float | None:
        """Minimum detectable drop at ``m`` units (default: as measured)."""
        if self.cells is not None:
            return stats.min_detectable_drop_paired(int(m or self.n1), self._discordance(),
                                                    ALPHA, POWER)
        n1, n2 = (self.n1, self.n2) if m is None else (m, m)
        return stats.min_detectable_drop_unpaired(self.k1 / self.n1, int(n1), int(n2), ALPHA,
                                                  POWER)

    def power(self, m: float, gamma: float, tolerance: float) -> float:
        p1, p2 = self.k1 / self.n1, self.k2 / self.n2
        if self.cells is not None:
            cells = [x * m / self.n1 for x in self.cells]
            phi = mover.phi_at(*cells)
            unit_var = self._discordance() - self.drop ** 2
        else:
            phi, unit_var = 0.0, p1 * (1 - p1) + p2 * (1 - p2)
        lo, hi = mover.bounds_at(p1 * m, m, p2 * m, m, phi, gamma)
        return _power(self.drop, lo, hi, tolerance, math.sqrt(max(unit_var, 1e-12) / m))


@dataclass(frozen=True)
class MeanAnalysis:
    """A difference of means (graded scores, or clustered outcomes)."""

    diff: MeanDiff
    paired: bool

    @property
    def drop(self) -> float:
        return self.diff.estimate

    @property
    def units(self) -> int:
        return self.diff.units

    @property
    def unit(self) -> str:
        if self.diff.clusters is not None:
            return "clusters"
        return "pairs" if self.paired else "examples per model"

    @property
    def interval_method(self) -> str:
        return self.diff.method

    def bounds(self, gamma: float) -> tuple[float, float]:
        return self.diff.bounds(gamma)

    def p_above(self, delta0: float) -> float:
        return self.diff.p_above(delta0)

    def p_below(self, delta0: float) -> float:
        return self.diff.p_below(delta0)

    def _at(self, m: float) -> tuple[float, float]:
        """Standard error and degrees of freedom at ``m`` units."""
        d = self.diff
        scale = d.units / m
        return d.se * math.sqrt(scale), max(d.df / scale, 1.0)

    def mdd(self, m: float | None = None) -> float | None:
        from scipy import stats as sp

        se, df = (self.diff.se, self.diff.df) if m is None else self._at(m)
        if not math.isfinite(se):
            return None
        value = float((sp.t.isf(ALPHA / 2, df) + sp.t.ppf(POWER, df)) * se)
        return value if value <= 1.0 else None

    def power(self, m: float, gamma: float, tolerance: float) -> float:
        from scipy import stats as sp

        se, df = self._at(m)
        if not math.isfinite(se):
            return 0.0
        half = float(sp.t.isf(gamma, df)) * se
        return _power(self.drop, self.drop - half, self.drop + half, tolerance, max(se, 1e-12))


Analysis = BinaryAnalysis | MeanAnalysis


def _power(drop: float, lo: float, hi: float, tolerance: float, se: float) -> float:
    """Probability that the interval clears the tolerance on the side of the observed drop,
    the estimate normal around the drop with standard error ``se``."""
    from scipy import special

    margin = drop - tolerance - (drop - lo) if drop > tolerance else tolerance - drop - (hi - drop)
    return float(special.ndtr(margin / se))


def sample_size_to_settle(a: Analysis, gamma: float, tolerance: float,
                          floor: int) -> int | None:
    """Smallest sample (in ``a.unit``) at which the claim on the observed drop's side of the
    tolerance is made with 80% power at one-sided level ``gamma``, and, for a drop, the drop is
    at least the minimum detectable one; never below ``floor`` or the sample measured. Power
    and the minimum detectable drop are monotone in the sample size, so the smallest is found by
    doubling, then bisection. None when the drop sits on the tolerance or more than 10 million
    would be needed."""
    if abs(a.drop - tolerance) < SETTLE_GAP:
        return None

    def settles(m: int) -> bool:
        if a.power(m, gamma, tolerance) < POWER:
            return False
        if a.drop > tolerance:
            mdd = a.mdd(m)
            return mdd is not None and mdd <= a.drop
        return True

    lo = max(a.units, floor, 1)
    if settles(lo):
        return lo
    hi = lo
    while not settles(hi):
        if hi >= MAX_SETTLE_N:
            return None
        lo, hi = hi, min(2 * hi, MAX_SETTLE_N)
    while hi - lo > 1:  # settles(hi), not settles(lo)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if settles(mid) else (mid, hi)
    return hi
