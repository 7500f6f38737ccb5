"""Compare two models on per-example results without a scenario (``econ compare``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from econ.base.errors import EconError
from econ.base.multiplicity import Multiplicity
from econ.evidence.family import correction_changes, judge_family, verdict_statement
from econ.evidence.results_io import ResultRow, results_to_eval_data
from econ.evidence.retention import Retention, compare_slices
from econ.outputs.report import format_table
from econ.outputs.verdicts import CAPABILITY_COLUMNS, capability_cells, changes_line

__all__ = ["METHODS", "compare_json", "compare_results", "compare_text"]

METHODS = {
    "pass_rate_interval": "wilson (95%)",
    "drop_interval": "MOVER (Newcombe's square-and-add) with Clopper–Pearson limits, 95%; "
                     "paired with Newcombe's corrected φ when example ids match; chosen by "
                     "coverage (at or above 95% from 10 to 200 examples)",
    "drop_interval_graded_or_clustered": "paired t, Welch t, or cluster-robust (CR1) t on G − 1 "
                                         "degrees of freedom when examples share a cluster",
    "p_value": "one-sided at the tolerance on the observed drop's side (the claim: lost or "
               "retained), the interval inverted; p_zero: one-sided, drop above zero",
    "multiplicity": "p_adjusted and p_zero_adjusted: Holm (default), Benjamini–Hochberg or "
                    "none over the capabilities of the comparison",
    "min_detectable_drop": "two-sided alpha 0.05, power 0.8 (normal approximation; Connor 1987 "
                           "when paired; the t test's standard error when graded or clustered)",
    "verdict": "lost / retained: adjusted p at the tolerance below 0.025; degraded: adjusted p "
               "at zero below 0.025; inconclusive under 10 examples (pairs, clusters), and lost "
               "held back when the drop is below the minimum detectable drop",
}


def compare_results(rows: Sequence[ResultRow], teacher: str, student: str,
                    tolerance: float = 0.02,
                    tolerances: Mapping[str, float] | None = None,
                    multiplicity: Multiplicity = "holm") -> tuple[Retention, ...]:
    """Retention of every capability in the results, ``teacher`` against ``student``, judged
    as one family with the ``multiplicity`` correction."""
    models = sorted({r.model for r in rows})
    for role, mid in (("teacher", teacher), ("student", student)):
        if mid not in models:
            raise EconError(f"--{role} {mid}: no results for this model; the files have "
                            f"{', '.join(models) or 'no rows'}")
    data = results_to_eval_data(rows)
    tol = tolerances or {}
    return judge_family([
        compare_slices(cap, per_model.get(teacher), per_model.get(student), tol.get(cap, tolerance),
                       settle=False)
        for cap, per_model in sorted(data.items())], multiplicity)


def compare_json(results: Sequence[Retention], teacher: str, student: str) -> dict[str, Any]:
    return {
        "teacher": teacher,
        "student": student,
        "multiplicity": results[0].multiplicity if results else "none",
        "capabilities": [r.to_json() for r in results],
        "lost": [r.capability for r in results if r.verdict == "lost"],
        "unmeasured_capabilities": [r.capability for r in results if r.verdict == "unmeasured"],
        "underpowered_capabilities": [r.capability for r in results if r.underpowered],
        "changed_by_correction": correction_changes(results),
        "verdict_statement": verdict_statement(results),
        "methods": METHODS,
    }


def compare_text(results: Sequence[Retention], teacher: str, student: str) -> str:
    head = (f"{teacher} (teacher) vs {student} (student): pass rates, drops and tolerances in %, "
            "95% intervals; p-values one-sided\n")
    table = format_table([h for h, _ in CAPABILITY_COLUMNS],
                         [capability_cells(r) for r in results],
                         [right for _, right in CAPABILITY_COLUMNS])
    lines = [verdict_statement(results)]
    change = changes_line(results)
    if change:
        lines.append(change)
    lost = [r.capability for r in results if r.verdict == "lost"]
    lines.append(f"LOST: {', '.join(lost)}" if lost else "no capability lost")
    return head + table + "\n" + "\n".join(lines) + "\n"
