"""Capability retention: does the student keep what the teacher does, slice by slice?

For one capability, the teacher's and the student's eval results give pass rates (Wilson), the
drop teacher − student with a 95% interval and one-sided p-values (:mod:`econ.evidence.analyses`:
paired when example ids match or inline counts give the discordant pairs, clustered when examples
are grouped, on mean scores when the scores are graded), the minimum detectable drop, and a
verdict against the capability's tolerance:

- ``lost``: the drop is above the tolerance (one-sided p at the tolerance below α/2 = 0.025,
  i.e. the interval lies above it);
- ``retained``: the drop is below the tolerance (the same test on the other side);
- ``degraded``: not lost, but the drop is above zero (one-sided p at zero below 0.025);
- ``inconclusive``: none of these, or any of them on fewer than ``MIN_UNITS`` examples (pairs,
  clusters), which the interval's coverage was not checked at. It comes with the sample size
  that would settle it.
A ``lost`` whose drop is below the minimum detectable drop is held back (``degraded`` if the drop
is above zero, else ``inconclusive``): the slice is too small to show such a drop reliably, and a
drop it does show is likely exaggerated. It also comes with the sample size to settle it;
- ``unmeasured``: no results for one of the two models.
:func:`compare_slices` judges one capability alone; :mod:`econ.evidence.family` judges a
comparison's capabilities together, with a multiplicity correction.
May import: econ.base, econ.evidence.analyses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from econ.base import stats
from econ.base.clustered import paired_mean_diff, unpaired_mean_diff
from econ.evidence.analyses import (
    ALPHA,
    Analysis,
    BinaryAnalysis,
    MeanAnalysis,
    sample_size_to_settle,
)

__all__ = [
    "ALPHA",
    "ALPHA_ONE_SIDED",
    "MIN_UNITS",
    "Retention",
    "SliceResults",
    "Verdict",
    "compare_slices",
    "judge",
]

ALPHA_ONE_SIDED = ALPHA / 2  # each claim is one side of the 95% interval
MIN_UNITS = 10  # the smallest sample the interval's coverage was checked at (test_coverage.py)
Verdict = Literal["retained", "lost", "degraded", "inconclusive", "unmeasured"]
Outcome = Literal["pass_rate", "mean_score"]


@dataclass(frozen=True)
class SliceResults:
    """One model's results on one capability: counts, and per-example outcomes when known
    (with graded scores and clusters when given). ``paired_with`` (inline counts) names models
    scored on the same items, with the number of items exactly one of the two passed."""

    examples: int
    passed: int
    outcomes: dict[str, bool] | None = None
    scores: dict[str, float] | None = None
    clusters: dict[str, str] | None = None
    paired_with: Mapping[str, int] | None = None

    @classmethod
    def from_outcomes(cls, outcomes: dict[str, bool], scores: dict[str, float] | None = None,
                      clusters: dict[str, str] | None = None) -> SliceResults:
        return cls(len(outcomes), sum(outcomes.values()), dict(outcomes), scores, clusters)


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
    drop: float | None  # in pass rate, or in mean score when ``outcome`` is mean_score
    drop_ci: tuple[float, float] | None
    p_value: float | None  # one-sided, at the tolerance, on the observed drop's side (raw)
    test: str | None
    interval_method: str | None
    min_detectable_drop: float | None
    tolerance: float
    verdict: Verdict
    n_to_settle: int | None
    pairing: str | None = None  # "paired on k of n" whenever some example ids match
    decided_by: str | None = None  # with partial pairing: which analysis gave the verdict
    outcome: Outcome = "pass_rate"
    teacher_mean_score: float | None = None  # graded slices
    student_mean_score: float | None = None
    claim: Literal["lost", "retained"] | None = None  # what p_value tests
    p_adjusted: float | None = None  # p_value after the family's correction
    p_zero: float | None = None  # one-sided p of "the drop is above zero" (raw)
    p_zero_adjusted: float | None = None
    verdict_unadjusted: Verdict | None = None  # the verdict without the correction
    multiplicity: str = "none"
    family_size: int = 1
    design: str | None = None  # paired, unpaired, and "clustered" when it is
    n_clusters: int | None = None
    design_effect: float | None = None
    settle_unit: str | None = None  # what n_to_settle counts
    held_back: str | None = None  # why the test's claim was not made
    analysis: Analysis | None = field(default=None, compare=False, repr=False)

    @property
    def underpowered(self) -> bool:
        """Measured, but the slice cannot detect a drop as large as the tolerance."""
        if self.verdict == "unmeasured":
            return False
        return self.min_detectable_drop is None or self.min_detectable_drop > self.tolerance

    @property
    def changed_by_correction(self) -> bool:
        return self.verdict_unadjusted is not None and self.verdict != self.verdict_unadjusted

    def to_json(self) -> dict[str, object]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "analysis"}
        for k in ("teacher_ci", "student_ci", "drop_ci"):
            v = out[k]
            out[k] = list(v) if isinstance(v, tuple) else v
        out["underpowered"] = self.underpowered
        out["changed_by_correction"] = self.changed_by_correction
        return out


def compare_slices(capability: str, teacher: SliceResults | None, student: SliceResults | None,
                   tolerance: float = 0.02, discordant: int | None = None,
                   settle: bool = True) -> Retention:
    """Retention of one capability judged alone (a family of one: no correction).

    ``discordant``: the two were scored on the same items (counts only), and this many items
    were passed by exactly one of them. ``settle=False`` leaves ``n_to_settle`` out (a family
    judges it again at its own level)."""
    t = teacher or SliceResults(0, 0)
    s = student or SliceResults(0, 0)
    base = Retention(
        capability=capability, n_teacher=t.examples, n_student=s.examples, n_paired=0,
        teacher_pass_rate=t.passed / t.examples if t.examples else None,
        student_pass_rate=s.passed / s.examples if s.examples else None,
        teacher_ci=stats.wilson_interval(t.passed, t.examples),
        student_ci=stats.wilson_interval(s.passed, s.examples),
        drop=None, drop_ci=None, p_value=None, test=None, interval_method=None,
        min_detectable_drop=None, tolerance=tolerance, verdict="unmeasured", n_to_settle=None)
    if t.examples == 0 or s.examples == 0:
        return replace(base, verdict_unadjusted="unmeasured")
    a, meta = _choose(t, s, discordant)
    return _assess(base, a, ALPHA_ONE_SIDED if settle else None, **meta)


def _choose(t: SliceResults, s: SliceResults,
            discordant: int | None) -> tuple[Analysis, dict[str, object]]:
    """The analysis of a design, and what the retention says about it."""
    if _graded(t, s) or _clustered(t, s):
        return _mean(t, s, graded=_graded(t, s))
    if discordant is not None and t.outcomes is None and s.outcomes is None:
        return _from_discordant(t, s, discordant), {
            "pairing": f"paired on {t.examples} of {t.examples} (discordant pairs given)"}
    t_ids, s_ids = (t.outcomes or {}).keys(), (s.outcomes or {}).keys()
    common = t_ids & s_ids  # counts of a 2×2 table: the order does not matter
    unpaired = BinaryAnalysis(t.passed, t.examples, s.passed, s.examples)
    if not common:
        return unpaired, {}
    n_all = len(t_ids) + len(s_ids) - len(common)
    note = f"paired on {len(common)} of {n_all}"
    paired = _cells(t, s, common)
    if len(common) == n_all and t.examples == s.examples == n_all:
        return paired, {"pairing": note}
    # Partial pairing: the paired analysis of the overlap and the unpaired analysis of every
    # example of each model; the one with the narrower interval of the drop decides.
    width = [a.bounds(ALPHA_ONE_SIDED)[1] - a.bounds(ALPHA_ONE_SIDED)[0]
             for a in (paired, unpaired)]
    if width[0] <= width[1]:
        return paired, {"pairing": note, "decided_by": "paired overlap"}
    return unpaired, {"pairing": note, "decided_by": "unpaired, all examples"}


def judge(r: Retention, p_tol: float, p_zero: float, settle_level: float | None) -> Retention:
    """The verdict of ``r`` given (possibly adjusted) p-values at the tolerance and at zero, and
    the sample size to settle an inconclusive one at one-sided level ``settle_level`` (None:
    not computed)."""
    a = r.analysis
    assert a is not None and r.drop is not None
    degraded = r.drop > 0 and p_zero < ALPHA_ONE_SIDED
    verdict: Verdict = "inconclusive"
    held = None
    if r.claim == "lost" and p_tol < ALPHA_ONE_SIDED:
        verdict = "lost"
    elif r.claim == "retained" and p_tol <= ALPHA_ONE_SIDED:
        verdict = "retained"
    elif degraded:
        verdict = "degraded"
    if verdict != "inconclusive" and a.units < MIN_UNITS:
        verdict, held = "inconclusive", f"fewer than {MIN_UNITS} {a.unit}"
    elif verdict == "lost" and (r.min_detectable_drop is None
                                or r.drop < r.min_detectable_drop):
        verdict = "degraded" if degraded else "inconclusive"
        held = "lost held back: the drop is below the minimum detectable drop"
    settle = None
    if settle_level is not None and (verdict == "inconclusive" or held is not None):
        settle = sample_size_to_settle(a, settle_level, r.tolerance, MIN_UNITS)
    return replace(r, verdict=verdict, held_back=held, n_to_settle=settle,
                   settle_unit=a.unit if settle is not None else None)


def _assess(base: Retention, a: Analysis, settle_level: float | None,
            **meta: object) -> Retention:
    tol = base.tolerance
    claim: Literal["lost", "retained"] = "lost" if a.drop > tol else "retained"
    p_tol = a.p_above(tol) if claim == "lost" else a.p_below(tol)
    p_zero = a.p_above(0.0)
    design = "paired" if a.paired else "unpaired"
    if a.interval_method.startswith("cluster"):
        design += ", clustered"
    fields: dict[str, object] = {"n_paired": a.units if a.paired else 0, "design": design}
    fields.update(meta)
    r = replace(base, drop=a.drop, drop_ci=a.bounds(ALPHA_ONE_SIDED), p_value=p_tol,
                p_zero=p_zero, claim=claim, test=_test_name(a),
                interval_method=a.interval_method, min_detectable_drop=a.mdd(), analysis=a,
                **fields)  # type: ignore[arg-type]
    r = judge(r, p_tol, p_zero, settle_level)
    return replace(r, p_adjusted=p_tol, p_zero_adjusted=p_zero, verdict_unadjusted=r.verdict)


def _test_name(a: Analysis) -> str:
    if isinstance(a, BinaryAnalysis):
        return f"{a.interval_method} inverted (one-sided)"
    return f"{a.interval_method} (one-sided)"


def _from_discordant(t: SliceResults, s: SliceResults, discordant: int) -> BinaryAnalysis:
    """The 2×2 table of two models scored on the same items, from their counts and the number
    of discordant items (validated by the scenario schema)."""
    n, diff = t.examples, t.passed - s.passed
    b, c = (discordant + diff) / 2, (discordant - diff) / 2
    a = t.passed - b
    return BinaryAnalysis(t.passed, n, s.passed, n, (a, b, c, n - a - b - c))


def _cells(t: SliceResults, s: SliceResults, ids: Iterable[str]) -> BinaryAnalysis:
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
    n = a + b + c + d
    return BinaryAnalysis(a + b, n, a + c, n, (a, b, c, d))


def _per_example(sl: SliceResults) -> bool:
    return sl.outcomes is not None and sl.examples == len(sl.outcomes)


def _graded(t: SliceResults, s: SliceResults) -> bool:
    """Both models have a score on every example, and some score is neither 0 nor 1."""
    for sl in (t, s):
        if not _per_example(sl) or sl.scores is None or set(sl.scores) != set(sl.outcomes or {}):
            return False
    values = [*(t.scores or {}).values(), *(s.scores or {}).values()]
    return any(v not in (0.0, 1.0) for v in values)


def _clustered(t: SliceResults, s: SliceResults) -> bool:
    """Per-example results where some cluster holds more than one example of a model."""
    if not (_per_example(t) and _per_example(s)) or not (t.clusters or s.clusters):
        return False
    for sl in (t, s):
        seen = [(sl.clusters or {}).get(i) for i in sl.outcomes or {}]
        named = [c for c in seen if c is not None]
        if len(named) > len(set(named)):
            return True
    return False


def _values(sl: SliceResults, graded: bool) -> dict[str, float]:
    assert sl.outcomes is not None
    if graded:
        assert sl.scores is not None
        return dict(sl.scores)
    return {i: float(v) for i, v in sl.outcomes.items()}


def _mean(t: SliceResults, s: SliceResults, graded: bool) -> tuple[Analysis, dict[str, object]]:
    """Graded scores or clustered outcomes: a difference of means."""
    tv, sv = _values(t, graded), _values(s, graded)
    common = sorted(set(tv) & set(sv))
    both = len(common) == len(tv) == len(sv)
    tc, sc = t.clusters or {}, s.clusters or {}
    clustered = _clustered(t, s)
    if both:
        cl = [tc.get(i) or sc.get(i) or f"\x00{i}" for i in common] if clustered else None
        diff = paired_mean_diff([tv[i] - sv[i] for i in common], cl)
    else:
        ti, si = sorted(tv), sorted(sv)
        diff = unpaired_mean_diff(
            [tv[i] for i in ti], [sv[i] for i in si],
            [tc.get(i) or f"\x00t{i}" for i in ti] if clustered else None,
            [sc.get(i) or f"\x00s{i}" for i in si] if clustered else None)
    meta: dict[str, object] = {"n_paired": len(common) if both else 0}
    if common:
        meta["pairing"] = f"paired on {len(common)} of {len(set(tv) | set(sv))}" + (
            "" if both else ", analysed unpaired")
    if graded:
        meta |= {"outcome": "mean_score", "teacher_mean_score": sum(tv.values()) / len(tv),
                 "student_mean_score": sum(sv.values()) / len(sv)}
    if diff.clusters is not None:
        meta |= {"n_clusters": diff.clusters, "design_effect": diff.design_effect}
    return MeanAnalysis(diff, paired=both), meta
