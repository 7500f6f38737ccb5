"""Two plans side by side: plan A (pinned) against plan B (the current one), tier by tier.

In: two evaluations of the same scenario under different consent sets, prices or plans, and
optionally the Monte Carlo of each. Out: one row per tier with each plan's price, floor (None
for a free tier), cost per user, gross margin at the price, capability loss, unmeasured traffic
and P(margin ≥ target), and the change B − A (margins and shares in percentage points). No
arithmetic is left to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from econ.decisions.uncertainty import TierUncertainty
from econ.model.evaluate import Evaluation

__all__ = ["PlanComparison", "compare_plans"]


@dataclass(frozen=True)
class PlanComparison:
    tier: str
    consent_a: tuple[str, ...]
    consent_b: tuple[str, ...]
    price_a_usd_month: float
    price_b_usd_month: float
    floor_a_usd_month: float | None  # None for a free tier: it has no floor
    floor_b_usd_month: float | None
    margin_a: float | None  # gross margin at the price; None for a free tier
    margin_b: float | None
    loss_a_usd_month: float
    loss_b_usd_month: float
    unmeasured_a: float  # share of the tier's conversations served without eval data
    unmeasured_b: float
    p_meets_target_a: float | None  # None without a Monte Carlo, or for a free tier
    p_meets_target_b: float | None
    cost_per_user_a_usd_month: float = 0.0
    cost_per_user_b_usd_month: float = 0.0

    @property
    def floor_change_usd_month(self) -> float | None:
        if self.floor_a_usd_month is None or self.floor_b_usd_month is None:
            return None
        return self.floor_b_usd_month - self.floor_a_usd_month

    @property
    def cost_per_user_change_usd_month(self) -> float:
        return self.cost_per_user_b_usd_month - self.cost_per_user_a_usd_month

    @property
    def loss_change_usd_month(self) -> float:
        return self.loss_b_usd_month - self.loss_a_usd_month

    @property
    def margin_change_points(self) -> float | None:
        if self.margin_a is None or self.margin_b is None:
            return None
        return 100 * (self.margin_b - self.margin_a)


def _p(mc: Sequence[TierUncertainty] | None, tier: str) -> float | None:
    if mc is None:
        return None
    return next(r.p_margin_meets_target for r in mc if r.tier == tier)


def compare_plans(a: Evaluation, b: Evaluation,
                  mc_a: Sequence[TierUncertainty] | None = None,
                  mc_b: Sequence[TierUncertainty] | None = None) -> tuple[PlanComparison, ...]:
    """Plan A against plan B for every tier of B (a tier only one plan has is left out)."""
    rows = []
    for tb in b.tiers:
        tier = tb.economics.tier
        ta = next((t for t in a.tiers if t.economics.tier == tier), None)
        if ta is None:
            continue
        ea, eb = ta.economics, tb.economics
        rows.append(PlanComparison(
            tier=tier, consent_a=ta.consent, consent_b=tb.consent,
            price_a_usd_month=ea.price_usd_month, price_b_usd_month=eb.price_usd_month,
            floor_a_usd_month=ea.price_floor_usd_month,
            floor_b_usd_month=eb.price_floor_usd_month,
            margin_a=ea.gross_margin_at_price, margin_b=eb.gross_margin_at_price,
            loss_a_usd_month=ta.loss_usd_month, loss_b_usd_month=tb.loss_usd_month,
            unmeasured_a=ta.unmeasured_traffic_share,
            unmeasured_b=tb.unmeasured_traffic_share,
            p_meets_target_a=_p(mc_a, tier), p_meets_target_b=_p(mc_b, tier),
            cost_per_user_a_usd_month=ea.cost_per_user_month_usd,
            cost_per_user_b_usd_month=eb.cost_per_user_month_usd))
    return tuple(rows)
