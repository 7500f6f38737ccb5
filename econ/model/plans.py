"""Plans: which model serves which capability in a tier, and what a conversation then costs.

A plan has a default model and optionally a route: some capabilities go to another model, either
a list of them or ``unconsented`` (every capability outside the consent set whose retention is not
shown). A router costs a fixed amount per conversation and misroutes a share ``e`` of
conversations both ways: a routed capability is served by the default model with probability
``e``, and an unrouted one by the route's model with probability ``e``.

Uncategorised traffic (the share no capability claims) goes where the plan sends what is not
consented: a consent set cannot name it, so an ``unconsented`` route sends it to the route's
model (misrouted at the same rate); a plan without a route, or one routing a named list, serves
it with the default model. The frontier treats it identically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.model.cost import CostTable
from econ.scenario.schema import Plan, Scenario

__all__ = ["UNCATEGORISED", "Assignment", "plan_cost_per_conversation", "resolve_plan",
           "served_share"]

UNCATEGORISED = "(uncategorised)"


@dataclass(frozen=True)
class Assignment:
    default_model: str
    route_to: str | None
    routed: frozenset[str]
    router_usd_per_conversation: float
    router_error_rate: float
    uncategorised_routed: bool = False

    def primary(self, capability: str) -> str:
        if self.route_to is not None and (capability in self.routed or (
                capability == UNCATEGORISED and self.uncategorised_routed)):
            return self.route_to
        return self.default_model

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.default_model, self.route_to or self.default_model]))


def resolve_plan(plan: Plan, capabilities: Iterable[str], consent: Iterable[str],
                 retained: Iterable[str] = ()) -> Assignment:
    route = plan.route
    if route is None:
        return Assignment(plan.model, None, frozenset(), 0.0, 0.0)
    caps = list(capabilities)
    unconsented = route.capabilities == "unconsented"
    if unconsented:
        keep = set(consent) | set(retained)
        routed = frozenset(c for c in caps if c not in keep)
    else:
        routed = frozenset(route.capabilities)
    return Assignment(plan.model, route.to, routed, route.router_usd_per_conversation,
                      route.router_error_rate, uncategorised_routed=unconsented)


def served_share(a: Assignment, capability: str, model: str) -> float:
    """Share of the capability's conversations that ``model`` serves under the assignment."""
    if a.route_to is None or a.route_to == a.default_model:
        return 1.0 if model == a.default_model else 0.0
    e = a.router_error_rate
    primary = a.primary(capability)
    if model == primary:
        return 1.0 - e
    return e if model in (a.default_model, a.route_to) else 0.0


def plan_cost_per_conversation(a: Assignment, scenario: Scenario, costs: CostTable,
                               shares: Mapping[str, Any] | None = None) -> Any:
    """Traffic-weighted USD per conversation of the assignment (router cost included).

    ``shares`` replaces the scenario's traffic shares (arrays of Monte Carlo draws).
    """
    total: Any = a.router_usd_per_conversation if a.route_to is not None else 0.0
    share_of = shares if shares is not None else {
        c.id: c.traffic_share for c in scenario.capabilities}
    covered: Any = 0.0
    models = a.models
    for cap in scenario.capabilities:
        share = share_of[cap.id]
        covered = covered + share
        for m in models:
            w = served_share(a, cap.id, m)
            if w:
                total = total + share * w * costs.per_capability[m][cap.id]
    rest = np.maximum(0.0, 1.0 - covered)
    for m in models:
        w = served_share(a, UNCATEGORISED, m)
        if w:
            total = total + rest * w * costs.uncategorised[m]
    return total
