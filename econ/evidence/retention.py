"""Capability retention: does the student keep what the teacher does, slice by slice?

For one capability, the teacher's and the student's eval results give pass rates (Wilson), the drop
teacher − student with an interval (paired when example ids match, unpaired otherwise), a test, the
minimum detectable drop, and a verdict against the capability's tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

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
    if common:
        return _paired(base, t, s, common, tolerance)
    return _unpaired(base, t, s, tolerance)


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

    def interval_at(m: int) -> tuple[float, float]:
        k = m / n
        return stats.newcombe_paired(round(a * k), round(b * k), round(c * k), round(d * k))

    return _finish(base, n, drop, ci, p, test, "newcombe_paired_score", mdd, tolerance,
                   interval_at)


def _unpaired(base: Retention, t: SliceResults, s: SliceResults,
              tolerance: float) -> Retention:
    pt, ps = t.passed / t.examples, s.passed / s.examples
    drop = pt - ps
    ci = stats.newcombe_unpaired(t.passed, t.examples, s.passed, s.examples)
    p = stats.two_proportion_p(t.passed, t.examples, s.passed, s.examples)
    mdd = stats.min_detectable_drop_unpaired(pt, t.examples, s.examples, ALPHA, POWER)

    def interval_at(m: int) -> tuple[float, float]:
        return stats.newcombe_unpaired(round(pt * m), m, round(ps * m), m)

    return _finish(base, 0, drop, ci, p, "two_proportion_z", "newcombe_hybrid_score", mdd,
                   tolerance, interval_at)


def _finish(base: Retention, n_paired: int, drop: float, ci: tuple[float, float],
            p: float, test: str, method: str, mdd: float | None, tolerance: float,
            interval_at: Callable[[int], tuple[float, float]]) -> Retention:
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
        n_to_settle = _sample_size_to_settle(n, drop, tolerance, interval_at)
    return replace(base, n_paired=n_paired, drop=drop, drop_ci=ci, p_value=p, test=test,
                   interval_method=method, min_detectable_drop=mdd, verdict=verdict,
                   n_to_settle=n_to_settle)


def _sample_size_to_settle(n: int, drop: float, tolerance: float,
                           interval_at: Callable[[int], tuple[float, float]]) -> int | None:
    """Smallest sample (per model) whose interval, at the observed rates, clears the tolerance.

    ``interval_at(m)`` is the 95% interval of the drop with every observed count scaled to m
    examples. None when the drop sits on the tolerance or no sample up to 10 million would do.
    """
    if abs(drop - tolerance) < SETTLE_GAP:
        return None

    def cleared(m: int) -> bool:
        lo, hi = interval_at(m)
        return lo > tolerance if drop > tolerance else hi <= tolerance

    lo_n, hi_n = n, max(n + 1, 2 * n)
    while not cleared(hi_n):
        lo_n, hi_n = hi_n, 2 * hi_n
        if hi_n > MAX_SETTLE_N:
            return None
    while hi_n - lo_n > 1:
        mid = (lo_n + hi_n) // 2
        lo_n, hi_n = (lo_n, mid) if cleared(mid) else (mid, hi_n)
    return hi_n
