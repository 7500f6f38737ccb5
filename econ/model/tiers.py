"""Tier economics: cost per user, price floor, gross margin, and the blend across tiers.

With payment fees of rate r and a fixed amount F per monthly charge, a tier priced at P with cost
C per user keeps P·(1 − r) − F − C. Its gross margin is that over P, and its price floor, the
lowest P meeting the target margin m, is (C + F) ÷ (1 − m − r).

A free tier (price 0) charges nobody: it pays no card fees and has no price floor (None); its
figures are its cost per user and the subsidy it needs (its monthly cost), which the paid tiers'
floors carrying free users absorb. Where one figure per tier is drawn or ranked (the frontier,
the tornado, the Monte Carlo), a free tier's is its cost per user (:func:`tier_measure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from econ.scenario.schema import Fees, Tier

__all__ = [
    "MEASURES",
    "Blend",
    "TierEconomics",
    "blend_tiers",
    "floors_carrying_free_users",
    "gross_margin_at_price",
    "measure_usd_month",
    "price_floor_usd_month",
    "tier_economics",
    "tier_measure",
]

MEASURES = {False: "price floor", True: "cost per user"}  # keyed by "the tier is free"


def tier_measure(price_usd_month: float) -> str:
    """The figure a tier is planned by: its price floor, or a free tier's cost per user."""
    return MEASURES[price_usd_month <= 0]


def measure_usd_month(tier: Tier, cost_per_user_month_usd: Any, fees: Fees) -> Any:
    """The value of :func:`tier_measure` at a cost per user (arrays of draws allowed)."""
    if tier.price_usd_month <= 0:
        return cost_per_user_month_usd
    return price_floor_usd_month(cost_per_user_month_usd, tier.target_gross_margin, fees)


def price_floor_usd_month(cost_per_user_month_usd: Any, target_gross_margin: float,
                          fees: Fees) -> Any:
    return (cost_per_user_month_usd + fees.payment_fixed_usd) / (
        1.0 - target_gross_margin - fees.payment_rate)


def gross_margin_at_price(price_usd_month: float, cost_per_user_month_usd: Any,
                          fees: Fees) -> Any:
    """Gross margin at the set price; None for a free tier."""
    if price_usd_month <= 0:
        return None
    net = price_usd_month * (1.0 - fees.payment_rate) - fees.payment_fixed_usd
    return (net - cost_per_user_month_usd) / price_usd_month


@dataclass(frozen=True)
class TierEconomics:
    tier: str
    price_usd_month: float
    users: float
    conversations_per_user_month: float
    target_gross_margin: float
    cost_per_conversation_usd: float
    cost_per_user_month_usd: float
    price_floor_usd_month: float | None  # None for a free tier: it has no floor
    gross_margin_at_price: float | None
    meets_target: bool | None
    revenue_usd_month: float
    fees_usd_month: float
    cost_usd_month: float

    @property
    def gross_profit_usd_month(self) -> float:
        return self.revenue_usd_month - self.fees_usd_month - self.cost_usd_month

    @property
    def free(self) -> bool:
        return self.price_usd_month <= 0

    @property
    def measure_usd_month(self) -> float:
        """The figure the tier is planned by: its price floor, or a free tier's cost per
        user (see :func:`tier_measure`)."""
        if self.price_floor_usd_month is None:
            return self.cost_per_user_month_usd
        return self.price_floor_usd_month


def tier_economics(tier: Tier, cost_per_conversation_usd: float, fees: Fees) -> TierEconomics:
    per_user = tier.conversations_per_user_month * cost_per_conversation_usd
    margin = gross_margin_at_price(tier.price_usd_month, per_user, fees)
    paid = tier.price_usd_month > 0
    fee_per_user = tier.price_usd_month * fees.payment_rate + fees.payment_fixed_usd if paid else 0
    return TierEconomics(
        tier=tier.id,
        price_usd_month=tier.price_usd_month,
        users=tier.users,
        conversations_per_user_month=tier.conversations_per_user_month,
        target_gross_margin=tier.target_gross_margin,
        cost_per_conversation_usd=cost_per_conversation_usd,
        cost_per_user_month_usd=per_user,
        price_floor_usd_month=float(price_floor_usd_month(per_user, tier.target_gross_margin,
                                                          fees)) if paid else None,
        gross_margin_at_price=margin,
        meets_target=None if margin is None else bool(margin >= tier.target_gross_margin),
        revenue_usd_month=tier.price_usd_month * tier.users,
        fees_usd_month=fee_per_user * tier.users,
        cost_usd_month=per_user * tier.users,
    )


@dataclass(frozen=True)
class Blend:
    revenue_usd_month: float
    cost_usd_month: float
    fees_usd_month: float
    blended_gross_margin: float | None
    free_users_per_paying_user: float | None
    free_users_carried_per_paying_user: float | None


def blend_tiers(tiers: Sequence[TierEconomics]) -> Blend:
    """Margin across tiers, and how many free users each paying user's profit carries."""
    revenue = sum(t.revenue_usd_month for t in tiers)
    cost = sum(t.cost_usd_month for t in tiers)
    fees = sum(t.fees_usd_month for t in tiers)
    margin = (revenue - fees - cost) / revenue if revenue > 0 else None
    free = [t for t in tiers if t.price_usd_month <= 0]
    paid = [t for t in tiers if t.price_usd_month > 0]
    free_users = sum(t.users for t in free)
    paid_users = sum(t.users for t in paid)
    ratio = free_users / paid_users if paid_users > 0 and free else None
    carried = None
    if paid_users > 0 and free_users > 0:
        free_cost_per_user = sum(t.cost_usd_month for t in free) / free_users
        profit_per_paid = sum(t.gross_profit_usd_month for t in paid) / paid_users
        if free_cost_per_user > 0:
            carried = profit_per_paid / free_cost_per_user
    return Blend(revenue, cost, fees, margin, ratio, carried)


def floors_carrying_free_users(tiers: Sequence[TierEconomics], fees: Fees) -> dict[str, float]:
    """Each paid tier's floor when the free tiers' monthly cost is spread evenly over every
    paying user: ``(C + S + F) ÷ (1 − m − r)`` with ``S`` = free tiers' cost ÷ paying users.
    Free tiers get no entry (they have a cost per user and a subsidy, not a floor)."""
    paid = [t for t in tiers if t.price_usd_month > 0]
    paid_users = sum(t.users for t in paid)
    free_cost = sum(t.cost_usd_month for t in tiers if t.price_usd_month <= 0)
    subsidy = free_cost / paid_users if paid_users > 0 else 0.0
    return {t.tier: float(price_floor_usd_month(t.cost_per_user_month_usd + subsidy,
                                                t.target_gross_margin, fees)) for t in paid}
