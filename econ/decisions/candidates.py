"""The candidates table: every model on the table, as a planning session compares them.

For each model: its role, its traffic-weighted cost per conversation (and the reasoning and
cache-write tokens in it; for a self-hosted model, its 90% prediction interval), each
capability's verdict against the reference teacher (none for the reference itself), and each
tier's price floor and cost per user if that tier were served by the model alone (no router; a
free tier has no floor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from econ.model.evaluate import Evaluation
from econ.model.tiers import price_floor_usd_month

__all__ = ["CandidateRow", "candidates_table"]


@dataclass(frozen=True)
class CandidateRow:
    model: str
    role: str
    serving: str
    cost_per_conversation_usd: float
    retention_against: str | None  # the teacher the verdicts compare with; None: the reference
    verdicts: Mapping[str, str]
    tier_floors_usd_month: dict[str, float | None]  # None for a free tier
    reasoning_tokens_per_conversation: float = 0.0
    cache_write_tokens_per_conversation: float = 0.0
    tier_costs_per_user_month_usd: dict[str, float] = field(default_factory=dict)
    # a self-hosted model's 90% interval of its cost per conversation (econ.model.interval)
    cost_interval_usd: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "serving": self.serving,
                "cost_per_conversation_usd": self.cost_per_conversation_usd,
                "cost_per_conversation_usd_interval_90": (
                    None if self.cost_interval_usd is None else list(self.cost_interval_usd)),
                "reasoning_tokens_per_conversation": self.reasoning_tokens_per_conversation,
                "cache_write_tokens_per_conversation": self.cache_write_tokens_per_conversation,
                "retention_against": self.retention_against,
                "verdicts": dict(self.verdicts),
                "tier_floors_usd_month": dict(self.tier_floors_usd_month),
                "tier_costs_per_user_month_usd": dict(self.tier_costs_per_user_month_usd)}


def candidates_table(ev: Evaluation) -> tuple[CandidateRow, ...]:
    s = ev.scenario
    ref = s.teacher_id
    rows = []
    for mid, m in s.models.items():
        cost = ev.model_cost_per_conversation_usd[mid]
        verdicts = {} if mid == ref else {
            r.capability: r.verdict for r in ev.retention_against(ref, mid)}
        per_user = {t.id: t.conversations_per_user_month * cost for t in s.tiers}
        floors = {t.id: None if t.price_usd_month <= 0 else float(price_floor_usd_month(
            per_user[t.id], t.target_gross_margin, s.fees)) for t in s.tiers}
        tokens = ev.model_tokens_per_conversation.get(mid, {})
        iv = ev.gpu_intervals.get(mid)
        rows.append(CandidateRow(mid, m.role, m.serving, cost, None if mid == ref else ref,
                                 verdicts, floors, tokens.get("reasoning_tokens", 0.0),
                                 tokens.get("cache_write_tokens", 0.0), per_user,
                                 None if iv is None else iv.overall.bounds(cost)))
    return tuple(rows)
