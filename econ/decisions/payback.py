"""Distillation payback: what producing the student costs against what serving it saves.

Monthly savings = serving every tier's traffic with the teacher − serving it with each tier's
plan. One distillation costs GPU-hours × $/GPU-hour + evaluation + data + people; with a
re-distillation cadence of M months, a year holds ceil(12 ÷ M) distillations (the first at month
0). Payback months = one-off cost ÷ monthly savings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from econ.model.evaluate import Evaluation

__all__ = ["Payback", "payback"]


@dataclass(frozen=True)
class Payback:
    one_off_usd: float
    teacher_only_cost_usd_month: float
    plan_cost_usd_month: float
    savings_usd_month: float
    payback_months: float | None  # None when the plans save nothing
    distillations_per_year: int
    net_12_months_usd: float


def payback(ev: Evaluation) -> Payback | None:
    d = ev.scenario.distillation
    if d is None:
        return None
    one_off = d.gpu_hours * d.usd_per_gpu_hour + d.eval_usd + d.data_usd + d.people_usd
    teacher_cost = ev.model_cost_per_conversation_usd[ev.scenario.teacher_id]
    teacher_only = sum(t.economics.users * t.economics.conversations_per_user_month
                       for t in ev.tiers) * teacher_cost
    plan_cost = sum(t.economics.cost_usd_month for t in ev.tiers)
    savings = teacher_only - plan_cost
    per_year = math.ceil(12 / d.redistill_every_months) if d.redistill_every_months else 1
    months = one_off / savings if savings > 0 else None
    return Payback(one_off, teacher_only, plan_cost, savings, months, per_year,
                   12 * savings - per_year * one_off)
