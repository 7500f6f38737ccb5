"""What losing a capability costs: expected extra failed conversations and their USD.

A measured capability loses ``max(drop, 0)`` of its conversations when the student serves it. A
capability without eval data for both models has unknown loss and is counted at the pessimistic
end of a uniform prior on the student's pass rate: the teacher's pass rate (1 if unmeasured)
minus the prior's 2.5% quantile, 0.025 — never as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from econ.evidence.retention import Retention
from econ.model.plans import Assignment, served_share
from econ.scenario.schema import Scenario

__all__ = ["PESSIMISTIC_STUDENT_PASS_RATE", "Consequence", "consequence", "loss_drop",
           "plan_loss_usd_month"]

PESSIMISTIC_STUDENT_PASS_RATE = 0.025


def loss_drop(r: Retention) -> float:
    """Drop in pass rate used to price a capability's loss (pessimistic when unmeasured)."""
    if r.drop is None:
        teacher = r.teacher_pass_rate if r.teacher_pass_rate is not None else 1.0
        return max(0.0, teacher - PESSIMISTIC_STUDENT_PASS_RATE)
    return max(0.0, r.drop)


@dataclass(frozen=True)
class Consequence:
    """Extra failed conversations a month if the student served all of a capability's traffic."""

    capability: str
    conversations_month: float
    extra_failed_conversations_month: float
    extra_failed_conversations_month_ci: tuple[float, float] | None
    cost_usd_month: float
    cost_usd_month_ci: tuple[float, float] | None
    pessimistic: bool


def consequence(r: Retention, conversations_month: float, severity_usd: float) -> Consequence:
    if r.drop is None or r.drop_ci is None:
        extra = conversations_month * loss_drop(r)
        return Consequence(r.capability, conversations_month, extra, None, extra * severity_usd,
                           None, True)
    lo, hi = r.drop_ci
    extra = conversations_month * r.drop
    ci = (conversations_month * lo, conversations_month * hi)
    return Consequence(r.capability, conversations_month, extra, ci, extra * severity_usd,
                       (ci[0] * severity_usd, ci[1] * severity_usd), False)


def plan_loss_usd_month(a: Assignment, scenario: Scenario, conversations_month: Any,
                        drops: Mapping[str, Mapping[str, Any]], teacher: str,
                        shares: Mapping[str, Any] | None = None) -> Any:
    """Severity-weighted extra failures a month of the conversations a plan serves with a model
    other than the tier's ``teacher``; ``drops`` is model -> capability -> drop against that
    teacher, and it (and ``shares``) may hold Monte Carlo arrays."""
    total: Any = 0.0
    for m in a.models:
        if m == teacher:
            continue
        for c in scenario.capabilities:
            on_model = served_share(a, c.id, m)
            if on_model > 0:
                share = c.traffic_share if shares is None else shares[c.id]
                total = total + conversations_month * share * on_model * drops[m][c.id] * \
                    c.severity_usd
    return total
