"""Capability retention: does the student keep what the teacher does, slice by slice?

For one capability, the teacher's and the student's eval results give pass rates (Wilson), the drop
teacher − student with an interval (paired when example ids match, unpaired otherwise), a test, the
minimum detectable drop, and a verdict against the capability's tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy import stats as sp_stats

from econ.base import stats

__all__ = [
    "ALPHA",
    "POWER",
    "Retention",
    "SliceResults",
    "Verdict",
    "compare_slices",
]

ALPHA = 0.05
POWER = 0.8
SETTLE_GAP = 1e-3  # a drop within 0.1 point of the tolerance cannot be settled either way
MAX_SETTLE_N = 10_000_000
Verdict = Literal["retained", "lost", "degraded", "inconclusive", "unmeasured"]


@dataclass(frozen=True)
class SliceResults:
    """One model's results on one capability: counts, and per-example outcomes when known."""

    examples: int
    passed: int
    outcomes: dict[str, bool] | None = None

    @classmethod
    def from_outcomes(cls, outcomes: dict[str, bool]) -> SliceResults:
        return cls(len(outcomes), sum(outcomes.values()), dict(outcomes))


@dataclass(frozen=True)
class Retention:
    capability: str
    n_teacher: int
    n_student: int
    n_paired: int
    teacher_pass_rate: float | None
    student_pass_rate: float | None
    teacher_ci: tuple[float, float]
    student_ci: tuple[float, float]
    drop: float | None
    drop_ci: tuple[float, float] | None
    p_value: float | None
    test: str | None
    interval_method: str | None
    min_detectable_drop: float | None
    tolerance: float
    verdict: Verdict
    n_to_settle: int | None
    pairing: str | None = None  # "paired on k of n" whenever some example ids match
    decided_by: str | None = None  # with partial pairing: which analysis gave the verdict

    @property
    def underpowered(self) -> bool:
        """Measured, but the slice cannot detect a drop as large as the tolerance."""
        if self.verdict == "unmeasured":
            return False
        return self.min_detectable_drop is None or self.min_detectable_drop > self.tolerance

    def to_json(self) -> dict[str, object]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("teacher_ci", "student_ci", "drop_ci"):
            v = out[k]
            out[k] = list(v) if isinstance(v, tuple) else v
        out["underpowered"] = self.underpowered
        return out


def compare_slices(capability: str, teacher: SliceResults | None, student: SliceResults | None,
                   tolerance: float = 0.02) -> Retention:
    t = teacher or SliceResults(0, 0)
    s = student or SliceResults(0, 0)
    t_rate = t.passed / t.examples if t.examples else None
    s_rate = s.passed / s.examples if s.examples else None
    base = Retention(
        capability=capability, n_teacher=t.examples, n_student=s.examples, n_paired=0,
        teacher_pass_rate=t_rate, student_pass_rate=s_rate,
        teacher_ci=stats.wilson_interval(t.passed, t.examples),
        student_ci=stats.wilson_interval(s.passed, s.examples),
        drop=None, drop_ci=None, p_value=None, test=None, interval_method=None,
        min_detectable_drop=None, tolerance=tolerance, verdict="unmeasured", n_to_settle=None)
    if t.examples == 0 or s.examples == 0:
        return base
    common = sorted(set(t.outcomes or {}) & set(s.outcomes or {}))
    if not common:
        return _unpaired(base, t, s, tolerance)
    n_all = len(set(t.outcomes or {}) | set(s.outcomes or {}))
    note = f"paired on {len(common)} of {n_all}"
    paired = _paired(base, t, s, common, tolerance)
    if len(common) == n_all:
        return replace(paired, pairing=note)
    # Partial pairing: the paired analysis of the overlap and the unpaired analysis of every
    # example of each model; the one with the narrower interval of the drop decides.
    unpaired = _unpaired(base, t, s, tolerance)
    assert paired.drop_ci is not None and unpaired.drop_ci is not None
    width_p = paired.drop_ci[1] - paired.drop_ci[0]
    width_u = unpaired.drop_ci[1] - unpaired.drop_ci[0]
    if width_p <= width_u:
        return replace(paired, pairing=note, decided_by="paired overlap")
    return replace(unpaired, pairing=note, decided_by="unpaired, all examples")


def _paired(base: Retention, t: SliceResults, s: SliceResults, ids: list[str],
            tolerance: float) -> Retention:
    assert t.outcomes is not None and s.outcomes is not None
    a = b = c = d = 0
    for i in ids:
        tp, sp = t.outcomes[i], s.outcomes[i]
        if tp and sp:
            a += 1
        elif tp:
            b += 1
        elif sp:
            c += 1
        else:
            d += 1
    n = len(ids)
    drop = (b - c) / n
    ci = stats.newcombe_paired(a, b, c, d)
    p, test = stats.mcnemar_p(b, c)
    discordance = (b + c) / n
    mdd = stats.min_detectable_drop_paired(n, discordance, ALPHA, POWER)

    def power_at(ms: np.ndarray) -> np.ndarray:
        k = ms / n
        cells = [np.round(x * k) for x in (a, b, c, d)]
        lo, hi = stats.newcombe_paired_arrays(cells[0], cells[1], cells[2], cells[3])
        return _power(ms, drop, (cells[1] - cells[2]) / ms, lo, hi, tolerance,
                      discordance - drop * drop)

    return _finish(base, n, drop, ci, p, test, "newcombe_paired_score", mdd, tolerance,
                   power_at)


def _unpaired(base: Retention, t: SliceResults, s: SliceResults,
              tolerance: float) -> Retention:
    pt, ps = t.passed / t.examples, s.passed / s.examples
    drop = pt - ps
    ci = stats.newcombe_unpaired(t.passed, t.examples, s.passed, s.examples)
    p = stats.two_proportion_p(t.passed, t.examples, s.passed, s.examples)
    mdd = stats.min_detectable_drop_unpaired(pt, t.examples, s.examples, ALPHA, POWER)

    def power_at(ms: np.ndarray) -> np.ndarray:
        kt, ks = np.round(pt * ms), np.round(ps * ms)
        lo, hi = stats.newcombe_unpaired_arrays(kt, ms, ks, ms)
        return _power(ms, drop, (kt - ks) / ms, lo, hi, tolerance,
                      pt * (1 - pt) + ps * (1 - ps))

    return _finish(base, 0, drop, ci, p, "two_proportion_z", "newcombe_hybrid_score", mdd,
                   tolerance, power_at)


def _finish(base: Retention, n_paired: int, drop: float, ci: tuple[float, float],
            p: float, test: str, method: str, mdd: float | None, tolerance: float,
            power_at: Callable[[np.ndarray], np.ndarray]) -> Retention:
    lo, hi = ci
    verdict: Verdict
    if lo > tolerance:
        verdict = "lost"
    elif hi <= tolerance:
        verdict = "retained"
    elif lo > 0:
        verdict = "degraded"
    else:
        verdict = "inconclusive"
    n_to_settle = None
    if verdict == "inconclusive":
        n = n_paired or min(base.n_teacher, base.n_student)
        n_to_settle = _sample_size_to_settle(n, drop, tolerance, power_at)
    return replace(base, n_paired=n_paired, drop=drop, drop_ci=ci, p_value=p, test=test,
                   interval_method=method, min_detectable_drop=mdd, verdict=verdict,
                   n_to_settle=n_to_settle)


def _power(ms: np.ndarray, drop: float, drop_m: np.ndarray, lo: np.ndarray, hi: np.ndarray,
           tolerance: float, unit_variance: float) -> np.ndarray:
    """Probability that the 95% interval at sample size ``ms`` clears the tolerance on the side
    of the observed drop, if the observed rates are the truth: the estimate is normal around the
    drop with variance ``unit_variance / m`` and carries the interval's half-width with it."""
    se = np.sqrt(max(unit_variance, 1e-12) / ms)
    if drop > tolerance:
        margin = drop - tolerance - (drop_m - lo)
    else:
        margin = tolerance - drop - (hi - drop_m)
    out: np.ndarray = sp_stats.norm.cdf(margin / se)
    return out


def _sample_size_to_settle(n: int, drop: float, tolerance: float,
                           power_at: Callable[[np.ndarray], np.ndarray]) -> int | None:
    """Smallest sample (per model, or pairs) that settles the verdict with 80% power.

    ``power_at(ms)`` is the power at each sample size in ``ms`` with every observed count
    scaled (and rounded) to it. Rounding makes power non-monotone in m, so every m from n
    upward is checked, in blocks that double in size, and the first that reaches 80% is
    returned. None when the drop sits on the tolerance or no sample up to 10 million would do.
    """
    if abs(drop - tolerance) < SETTLE_GAP:
        return None
    start, size = max(n, 1), max(n, 64)
    while start <= MAX_SETTLE_N:
        ms = np.arange(start, min(start + size, MAX_SETTLE_N + 1), dtype=float)
        ok = np.flatnonzero(power_at(ms) >= POWER)
        if ok.size:
            return int(ms[ok[0]])
        start, size = start + size, 2 * size
    return None
