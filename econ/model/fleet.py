"""The self-hosted fleet at the scenario's volume: how many whole replicas each model runs.

In: the scenario, its cost table (continuous sizing, :mod:`econ.model.cost`) and each tier's
resolved plan. Out: a :class:`Fleet`: per self-hosted model its :class:`FleetSize`
(:mod:`econ.model.replicas`): the conversations it serves a month, the replicas that takes
sized exactly and in whole replicas, and the factor whole ÷ exact by which whole replicas
multiply its cost per conversation. Pure.

The evaluation's costs stay at continuous sizing (the fleet exactly as large as the peak at the
target utilisation); the fleet is reported beside them (``econ evaluate``), and ``econ
breakeven`` prices whole replicas at any volume (:mod:`econ.decisions.breakeven`).

A model's volume is what the tiers' plans send it: each tier's users × conversations per user,
times the share of its capabilities (and uncategorised traffic) the plan serves with the model
(routing and router error included); its continuous cost per conversation is the mix it serves.
One fleet serves every tier that uses the model. A model no plan uses (a candidate) is sized as
if it served every conversation of the scenario alone, as the candidates table prices it; the
fleet says which basis each model's count has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from econ.model.cost import CostTable
from econ.model.plans import UNCATEGORISED, Assignment, plan_cost_per_conversation, served_share
from econ.model.replicas import FleetSize, fleet_size
from econ.scenario.schema import Scenario, SelfHostedModel

__all__ = ["BASIS_ALONE", "BASIS_PLANS", "Fleet", "scenario_fleet"]

BASIS_PLANS = "the tiers' plans"
BASIS_ALONE = "every conversation, as if alone: no tier's plan uses it"


@dataclass(frozen=True)
class Fleet:
    sizes: Mapping[str, FleetSize] = field(default_factory=dict)

    @property
    def factors(self) -> dict[str, float]:
        return {m: s.factor for m, s in self.sizes.items()}


def _served(scenario: Scenario, costs: CostTable, a: Assignment,
            model: str) -> tuple[float, float]:
    """(share of a tier's conversations the model serves, their continuous USD per tier
    conversation) under the assignment."""
    share = usd = 0.0
    for c in scenario.capabilities:
        w = c.traffic_share * served_share(a, c.id, model)
        share += w
        usd += w * float(costs.per_capability[model][c.id])
    rest = max(0.0, 1.0 - sum(c.traffic_share for c in scenario.capabilities))
    w = rest * served_share(a, UNCATEGORISED, model)
    return share + w, usd + w * float(costs.uncategorised[model])


def scenario_fleet(scenario: Scenario, costs: CostTable,
                   assignments: Mapping[str, Assignment]) -> Fleet:
    """Every self-hosted model's fleet under the tiers' plans (tier id -> its assignment)."""
    total = sum(t.users * t.conversations_per_user_month for t in scenario.tiers)
    sizes = {}
    for mid, m in scenario.models.items():
        if not isinstance(m, SelfHostedModel):
            continue
        conv = usd = 0.0
        for t in scenario.tiers:
            a = assignments.get(t.id)
            if a is None or mid not in a.models:
                continue
            share, per_tier_conv = _served(scenario, costs, a, mid)
            n = t.users * t.conversations_per_user_month
            conv += n * share
            usd += n * per_tier_conv
        if conv > 0:
            sizes[mid] = fleet_size(mid, m, conv, usd / conv, BASIS_PLANS)
        else:
            alone = float(plan_cost_per_conversation(
                Assignment(mid, None, frozenset(), 0.0, 0.0), scenario, costs))
            sizes[mid] = fleet_size(mid, m, float(total), alone, BASIS_ALONE)
    return Fleet(sizes)
