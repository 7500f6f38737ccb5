"""A comparison's capabilities as one family: the multiplicity correction, and the words.

One comparison (a student or served model against its teacher) tests one claim per measured
capability at its tolerance ("lost" or "retained", on the side of the observed drop) and one at
zero ("degraded"). With k capabilities at α each, about k·α claims come from chance alone, so the
p-values of each kind are adjusted together (:mod:`econ.base.multiplicity`: Holm by default,
Benjamini–Hochberg or none) and the verdicts re-judged on the adjusted ones. An inconclusive
verdict's sample size to settle is at the level that earns the claim whatever the other
capabilities show (α/k under a correction).
:func:`verdict_statement` is the one line every verdict table carries.
May import: econ.base, econ.evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from econ.base.multiplicity import Multiplicity, adjust, strictest_level
from econ.evidence.retention import ALPHA_ONE_SIDED, MIN_UNITS, Retention, judge

__all__ = ["CORRECTION_WORDS", "correction_changes", "judge_family", "verdict_statement"]

CORRECTION_WORDS: dict[str, str] = {
    "holm": "Holm-adjusted (family-wise error)",
    "bh": "Benjamini–Hochberg-adjusted (false discovery rate)",
    "none": "not adjusted for multiplicity",
}
_METHOD_WORDS = {
    "mover_clopper_pearson": "MOVER with Clopper–Pearson limits",
    "mover_clopper_pearson_paired": "MOVER with Clopper–Pearson limits and Newcombe's φ",
    "paired_t": "paired t",
    "welch_t": "Welch t",
    "cluster_robust_paired": "cluster-robust (CR1) t on G − 1 df",
    "cluster_robust_unpaired": "cluster-robust (CR1) t on G − 1 df",
}


def judge_family(rets: Sequence[Retention], method: Multiplicity = "holm") -> tuple[
        Retention, ...]:
    """The verdicts of one comparison's capabilities with their p-values adjusted together."""
    measured = [i for i, r in enumerate(rets) if r.p_value is not None and r.p_zero is not None]
    m = len(measured)
    p_tol = adjust([rets[i].p_value or 0.0 for i in measured], method)
    p_zero = adjust([rets[i].p_zero or 0.0 for i in measured], method)
    level = strictest_level(ALPHA_ONE_SIDED, m, method)
    out = [replace(r, multiplicity=method, family_size=m) for r in rets]
    for j, i in enumerate(measured):
        r = replace(out[i], p_adjusted=p_tol[j], p_zero_adjusted=p_zero[j])
        out[i] = judge(r, p_tol[j], p_zero[j], level)
    return tuple(out)


def correction_changes(rets: Sequence[Retention]) -> list[str]:
    """"capability: before → after" for every verdict the correction changed."""
    return [f"{r.capability}: {r.verdict_unadjusted} → {r.verdict}" for r in rets
            if r.changed_by_correction]


def verdict_statement(rets: Sequence[Retention]) -> str:
    """One line: the correction, the interval methods, which capabilities were paired,
    clustered or graded, and when a claim is held back."""
    measured = [r for r in rets if r.drop is not None]
    method = rets[0].multiplicity if rets else "none"
    parts = [f"Verdicts: one-sided tests at each tolerance at α = {ALPHA_ONE_SIDED:g} a side "
             f"(a 95% interval's bound), {CORRECTION_WORDS.get(method, method)} over "
             f"{len(measured)} measured "
             + ("capability" if len(measured) == 1 else "capabilities")]
    methods = sorted({_METHOD_WORDS.get(r.interval_method or "", r.interval_method or "")
                      for r in measured})
    if methods:
        parts.append("intervals: " + ", ".join(methods))
    paired = [r.capability for r in measured if r.design and r.design.startswith("paired")]
    unpaired = [r.capability for r in measured if r.design and r.design.startswith("unpaired")]
    parts.append("paired: " + (", ".join(paired) or "none"))
    if unpaired:
        parts.append("unpaired: " + ", ".join(unpaired))
    clustered = [f"{r.capability} ({r.n_clusters} clusters, design effect "
                 f"{r.design_effect:.2f})" for r in measured
                 if r.n_clusters is not None and r.design_effect is not None]
    parts.append("clustered: " + (", ".join(clustered) or "none"))
    graded = [r.capability for r in measured if r.outcome == "mean_score"]
    if graded:
        parts.append("mean score (graded): " + ", ".join(graded))
    parts.append(f"no verdict under {MIN_UNITS} examples (pairs, clusters), no lost one below the "
                 "minimum detectable drop")
    return "; ".join(parts) + "."
