"""Compare two models on per-example results without a scenario (``econ compare``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from econ.base.errors import EconError
from econ.base.formatting import ci_points, points
from econ.evidence.results_io import ResultRow, results_to_eval_data
from econ.evidence.retention import Retention, compare_slices
from econ.outputs.report import format_table

__all__ = ["METHODS", "compare_json", "compare_results", "compare_text"]

METHODS = {
    "pass_rate_interval": "wilson (95%)",
    "drop_interval_paired": "newcombe_paired_score (Newcombe 1998, method 10; 95%)",
    "drop_interval_unpaired": "newcombe_hybrid_score (Newcombe 1998, method 10; 95%)",
    "test_paired": "mcnemar_exact below 25 discordant pairs, else mcnemar_chi2_cc",
    "test_unpaired": "two_proportion_z (pooled)",
    "min_detectable_drop": "two-sided alpha 0.05, power 0.8 (normal approximation; Connor 1987 "
                           "when paired)",
}


def compare_results(rows: Sequence[ResultRow], teacher: str, student: str,
                    tolerance: float = 0.02,
                    tolerances: Mapping[str, float] | None = None) -> tuple[Retention, ...]:
    """Retention of every capability in the results, ``teacher`` against ``student``."""
    models = sorted({r.model for r in rows})
    for role, mid in (("teacher", teacher), ("student", student)):
        if mid not in models:
            raise EconError(f"--{role} {mid}: no results for this model; the files have "
                            f"{', '.join(models) or 'no rows'}")
    data = results_to_eval_data(rows)
    tol = tolerances or {}
    return tuple(
        compare_slices(cap, per_model.get(teacher), per_model.get(student), tol.get(cap, tolerance))
        for cap, per_model in sorted(data.items()))


def compare_json(results: Sequence[Retention], teacher: str, student: str) -> dict[str, Any]:
    return {
        "teacher": teacher,
        "student": student,
        "capabilities": [r.to_json() for r in results],
        "lost": [r.capability for r in results if r.verdict == "lost"],
        "unmeasured_capabilities": [r.capability for r in results if r.verdict == "unmeasured"],
        "underpowered_capabilities": [r.capability for r in results if r.underpowered],
        "methods": METHODS,
    }


def compare_text(results: Sequence[Retention], teacher: str, student: str) -> str:
    rows = [[r.capability, str(r.n_teacher), str(r.n_student), str(r.n_paired),
             f"{points(r.teacher_pass_rate)} {ci_points(r.teacher_ci)}",
             f"{points(r.student_pass_rate)} {ci_points(r.student_ci)}",
             f"{points(r.drop)} {ci_points(r.drop_ci)}",
             "—" if r.p_value is None else f"{r.p_value:.3g}", r.test or "—",
             "none" if r.min_detectable_drop is None else points(r.min_detectable_drop),
             points(r.tolerance),
             r.verdict + (f" (need n≈{r.n_to_settle:,})" if r.n_to_settle else "")]
            for r in results]
    head = (f"{teacher} (teacher) vs {student} (student): pass rates, drops and tolerances in %, "
            "95% intervals\n")
    table = format_table(["capability", "n teacher", "n student", "n paired", "teacher (%)",
                          "student (%)", "drop (pts)", "p", "test", "MDD (pts)", "tol (pts)",
                          "verdict"], rows, [False, True, True, True, True, True, True, True,
                                             False, True, True, False])
    lost = [r.capability for r in results if r.verdict == "lost"]
    tail = f"\nLOST: {', '.join(lost)}\n" if lost else "\nno capability lost\n"
    return head + table + tail
