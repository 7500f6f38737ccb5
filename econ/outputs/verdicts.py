"""Verdict tables in cells and words: one set of columns for ``econ compare``, the text report,
the exports, the decision record and the app.

Every table of verdicts shows the raw one-sided p-value at the tolerance and the p-value adjusted
for the family, and carries :func:`econ.evidence.family.verdict_statement` under it.
May import: econ.base, econ.evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from econ.base.formatting import ci_points, points
from econ.base.mover import MIN_P
from econ.evidence.family import CORRECTION_WORDS, correction_changes, verdict_statement
from econ.evidence.retention import Retention

__all__ = [
    "CAPABILITY_COLUMNS",
    "candidates_statement",
    "capability_cells",
    "capability_records",
    "changes_line",
    "design_text",
    "level_text",
    "p_text",
    "verdict_statement",
    "verdict_text",
]

_SHORT = {"holm": "Holm", "bh": "Benjamini–Hochberg", "none": "correction"}


def p_text(p: float | None) -> str:
    if p is None:
        return "—"
    if p <= MIN_P:
        return f"<{MIN_P:.0e}"
    return f"{p:.2g}" if p < 0.01 else f"{p:.3f}"


def level_text(r: Retention, side: str) -> str:
    """The teacher's or student's pass rate (%) with its interval, or mean score (×100)."""
    if r.outcome == "mean_score":
        v = r.teacher_mean_score if side == "teacher" else r.student_mean_score
        return f"{points(v)} mean score"
    rate = r.teacher_pass_rate if side == "teacher" else r.student_pass_rate
    return f"{points(rate)} {ci_points(r.teacher_ci if side == 'teacher' else r.student_ci)}"


def design_text(r: Retention) -> str:
    """paired/unpaired, clustered with its design effect, and how pairing was decided."""
    if r.design is None:
        return "—"
    text = r.design
    if r.n_clusters is not None and r.design_effect is not None:
        text += f" ({r.n_clusters} clusters, design effect {r.design_effect:.2f})"
    if r.pairing and (r.decided_by or not text.startswith("paired") or "given" in r.pairing):
        text += f"; {r.pairing}"
    if r.decided_by:
        text += f", decided {r.decided_by}"
    return text


def verdict_text(r: Retention) -> str:
    """The verdict, what the correction changed, why a claim was held back, and the sample
    size that would settle it."""
    text = r.verdict
    notes = []
    if r.changed_by_correction:
        notes.append(f"{r.verdict_unadjusted} before {_SHORT.get(r.multiplicity, '')}".strip())
    if r.held_back:
        notes.append(r.held_back)
    if r.n_to_settle:
        notes.append(f"need ≈{r.n_to_settle:,} {r.settle_unit or 'examples'}")
    return text + (f" ({'; '.join(notes)})" if notes else "")


CAPABILITY_COLUMNS: tuple[tuple[str, bool], ...] = (  # header, right-aligned
    ("capability", False), ("n T/S", True), ("design", False), ("teacher (%)", True),
    ("student (%)", True), ("drop (pts)", True), ("claim", False), ("p at tol", True),
    ("p adj.", True), ("p>0 adj.", True), ("MDD (pts)", True), ("tol (pts)", True),
    ("verdict", False))


def capability_cells(r: Retention) -> list[str]:
    """One row of the capability table in the order of :data:`CAPABILITY_COLUMNS`."""
    return [r.capability, f"{r.n_teacher}/{r.n_student}", design_text(r),
            level_text(r, "teacher"), level_text(r, "student"),
            f"{points(r.drop)} {ci_points(r.drop_ci)}", r.claim or "—", p_text(r.p_value),
            p_text(r.p_adjusted), p_text(r.p_zero_adjusted),
            "—" if r.min_detectable_drop is None else points(r.min_detectable_drop),
            points(r.tolerance), verdict_text(r)]


def capability_records(rets: Sequence[Retention]) -> list[dict[str, Any]]:
    """Plain records of a comparison's verdicts (full precision) for exports and the record."""
    return [{
        "capability": r.capability, "n_teacher": r.n_teacher, "n_student": r.n_student,
        "n_paired": r.n_paired, "n_clusters": r.n_clusters, "design": r.design,
        "design_effect": r.design_effect, "outcome": r.outcome,
        "drop": r.drop, "drop_ci_low": None if r.drop_ci is None else r.drop_ci[0],
        "drop_ci_high": None if r.drop_ci is None else r.drop_ci[1],
        "tolerance": r.tolerance, "claim": r.claim, "p_value": r.p_value,
        "p_adjusted": r.p_adjusted, "p_zero": r.p_zero, "p_zero_adjusted": r.p_zero_adjusted,
        "min_detectable_drop": r.min_detectable_drop, "verdict": r.verdict,
        "verdict_unadjusted": r.verdict_unadjusted, "n_to_settle": r.n_to_settle,
        "settle_unit": r.settle_unit,
    } for r in rets]


def changes_line(rets: Sequence[Retention]) -> str | None:
    """"The correction changed: a: lost → inconclusive, …" or None when it changed nothing."""
    changes = correction_changes(rets)
    if not changes:
        return None
    return f"The {_SHORT.get(rets[0].multiplicity, '')} correction changed: " + ", ".join(changes)


def candidates_statement(ev: Any) -> str:
    """The line under the candidates table (an ``Evaluation``): each model's capabilities are
    one family against the reference teacher."""
    s = ev.scenario
    rets = [r for (t, m), rs in ev.pairs.items() if t == s.teacher_id for r in rs]
    paired = sorted({m for (t, m), rs in ev.pairs.items() if t == s.teacher_id
                     for r in rs if r.design and r.design.startswith("paired")})
    clustered = any(r.n_clusters is not None for r in rets)
    return (f"Candidates' verdicts: each model's capabilities are one family against "
            f"{s.teacher_id}, {CORRECTION_WORDS.get(s.multiplicity, s.multiplicity)}; one-sided "
            "at α = 0.025 a side; intervals as in the capability table; paired (example ids "
            "match or discordant pairs given) for " + (", ".join(paired) or "no model")
            + ("; clustered where examples share a cluster" if clustered else "") + ".")


def tier_verdicts_statement(multiplicity: str) -> str:
    """The line under a table of each tier's verdicts (the consent matrix, the record's tiers)."""
    return ("Verdicts: the serving model against the tier's teacher, each comparison's "
            f"capabilities one family, {CORRECTION_WORDS.get(multiplicity, multiplicity)}; "
            "one-sided at α = 0.025 a side; methods as under the capability table.")
