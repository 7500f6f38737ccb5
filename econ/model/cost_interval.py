"""The prediction interval of every self-hosted model's cost per conversation in a scenario.

In: the scenario, its time models and fits, and the cost table. Out: per model, a
:class:`ModelInterval`: each capability's (and uncategorised traffic's) interval, and the
model's log-sd over its traffic, the spread the Monte Carlo draws its throughput from
(``econ.decisions.draws.throughput_sigma``). A model
costed from measured conversations has none (it is measured per conversation); an API model
has none. Pure; see :mod:`econ.model.interval` for the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from econ.model.cost import CostTable, TimeModel
from econ.model.fit import shape_of_measurement
from econ.model.interval import (
    SINGLE_RUN_LOG_SD,
    WEAK_RUN_LOG_SD,
    Basis,
    Interval,
    basis_of,
    conversation_interval,
    merge_outside,
    weighted_log_sd,
)
from econ.model.measured import MeasuredConversationTime
from econ.scenario.conversation import ConversationTokens
from econ.scenario.schema import Scenario, SelfHostedModel

__all__ = ["ModelInterval", "cost_intervals", "model_basis"]


@dataclass(frozen=True)
class ModelInterval:
    """A self-hosted model's cost intervals: by capability, uncategorised, and over its
    traffic (``log_sd``: traffic × cost weighted)."""

    log_sd: float
    by_capability: Mapping[str, Interval] = field(default_factory=dict)
    uncategorised: Interval | None = None
    basis: Interval = field(default_factory=lambda: Interval(0.0))  # before extrapolation

    @property
    def overall(self) -> Interval:
        """The traffic-weighted spread, with the reasons of every part."""
        parts = [*self.by_capability.values(),
                 *([self.uncategorised] if self.uncategorised else [])]
        reasons = tuple(dict.fromkeys(r for i in parts for r in i.reasons))
        return Interval(self.log_sd, reasons, merge_outside(parts))

    @property
    def widest(self) -> tuple[str, Interval]:
        """The widest interval and whose it is (a capability, or uncategorised traffic)."""
        parts = list(self.by_capability.items())
        if self.uncategorised is not None:
            parts.append(("uncategorised traffic", self.uncategorised))
        return max(parts, key=lambda p: p[1].log_sd)


def model_basis(model: SelfHostedModel, fit: Any) -> Basis | None:
    """What a self-hosted model's cost rests on; None for measured conversations."""
    if fit is not None:
        return basis_of(fit)
    if model.throughput is not None:
        run = shape_of_measurement(model.throughput, "throughput")
        if run.assumed:
            return Basis((run,), WEAK_RUN_LOG_SD,
                         ("an assumed throughput (a weak measurement), split by "
                          "prefill_cost_ratio",))
        return Basis((run,), SINGLE_RUN_LOG_SD,
                     ("one run, split by prefill_cost_ratio",))
    return None


def _interval(basis: Basis, tm: TimeModel, tokens: ConversationTokens) -> Interval:
    shape = tokens.per_turn
    if shape is None:  # measured turns: one request each
        return Interval(math.hypot(basis.log_sd, basis.transfer_log_sd), basis.reasons)
    cv = max(shape.user_spread_cv, shape.assistant_spread_cv)
    return conversation_interval(basis, tm, shape, float(tokens.reasoning_tokens_per_turn), cv)


def cost_intervals(scenario: Scenario, time_models: Mapping[str, TimeModel],
                   fits: Mapping[str, Any], costs: CostTable) -> dict[str, ModelInterval]:
    out = {}
    rest = max(0.0, 1.0 - sum(c.traffic_share for c in scenario.capabilities))
    for mid, m in scenario.models.items():
        tm = time_models.get(mid)
        if not isinstance(m, SelfHostedModel) or tm is None \
                or isinstance(tm, MeasuredConversationTime):
            continue
        basis = model_basis(m, fits.get(mid))
        if basis is None:
            continue
        by_cap = {c.id: _interval(basis, tm, costs.tokens[mid][c.id])
                  for c in scenario.capabilities}
        uncat = _interval(basis, tm, costs.uncategorised_tokens[mid])
        parts = [(c.traffic_share * float(costs.per_capability[mid][c.id]), by_cap[c.id])
                 for c in scenario.capabilities]
        parts.append((rest * float(costs.uncategorised[mid]), uncat))
        out[mid] = ModelInterval(weighted_log_sd(parts), by_cap, uncat, Interval(
            math.hypot(basis.log_sd, basis.transfer_log_sd), basis.reasons))
    return out

