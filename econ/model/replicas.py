"""Whole replicas: a self-hosted fleet is a whole number of replicas, not a continuous amount.

In: each self-hosted model's cost per conversation with the fleet sized continuously (GPU-seconds
per conversation × USD/GPU-hour ÷ 3600 ÷ effective utilisation: the fleet exactly as large as
the peak at the target utilisation, what :mod:`econ.model.cost` computes) and the conversations
it serves a month. Out: the continuous replica count, the whole one and the factor whole ÷
continuous by which the model's per-conversation costs are multiplied. Pure.

The continuous replica count is the fleet's monthly cost at continuous sizing over the cost of
one replica-month, which is the same as

    conversations/month × GPU-seconds per conversation ÷ GPUs per replica ÷ seconds in a month
    × peak_to_average ÷ target_utilisation

(``usd_per_gpu_hour`` cancels). A month is :data:`HOURS_PER_MONTH` = 730 hours (8,760 ÷ 12).
The whole count is ``min_replicas`` (always running, whatever the volume) plus as many steps of
``replica_granularity`` as it takes to cover the rest (a node of 8 GPUs holding two 4-GPU
replicas grows in steps of 2):

    whole = min_replicas + granularity · ⌈max(0, continuous − min_replicas) ÷ granularity⌉

So at low volume the minimum fleet's cost is spread over few conversations and a conversation
costs far more than the continuous figure; as volume grows the factor falls back towards 1,
jumping up each time a step of replicas is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from econ.scenario.schema import SelfHostedModel

__all__ = [
    "HOURS_PER_MONTH",
    "FleetSize",
    "fleet_size",
    "usd_per_replica_month",
    "whole_replicas",
]

HOURS_PER_MONTH = 730.0  # 8,760 hours a year ÷ 12


def usd_per_replica_month(model: SelfHostedModel, usd_per_gpu_hour: float | None = None) -> float:
    """What one replica costs a month, running all of it: GPUs × USD/GPU-hour × 730 h."""
    price = model.usd_per_gpu_hour if usd_per_gpu_hour is None else usd_per_gpu_hour
    return model.gpus_per_replica * price * HOURS_PER_MONTH


def whole_replicas(continuous: Any, min_replicas: int, granularity: int) -> Any:
    """The whole replica count covering ``continuous`` (a number or a numpy array)."""
    import numpy as np

    extra = np.maximum(0.0, np.asarray(continuous, dtype=float) - min_replicas)
    # a count a hair above a whole step (float noise) is that step, not the next
    steps = np.ceil(np.round(extra / granularity, 9))
    out = min_replicas + granularity * steps
    return int(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class FleetSize:
    """One self-hosted model's fleet at a volume."""

    model: str
    conversations_month: float
    continuous_cost_per_conversation_usd: float  # the fleet sized continuously
    usd_per_replica_month: float
    continuous_replicas: float
    replicas: int
    min_replicas: int
    replica_granularity: int
    basis: str  # what the volume is: the tiers' plans, or every conversation (model alone)

    @property
    def factor(self) -> float:
        """Whole ÷ continuous replicas: what the model's per-conversation costs are multiplied
        by (1 when it serves nothing)."""
        return self.replicas / self.continuous_replicas if self.continuous_replicas > 0 else 1.0

    @property
    def cost_per_conversation_usd(self) -> float:
        return self.continuous_cost_per_conversation_usd * self.factor

    @property
    def usd_month(self) -> float:
        """The fleet's monthly cost: whole replicas × the cost of one replica-month."""
        return self.replicas * self.usd_per_replica_month

    def to_json(self) -> dict[str, Any]:
        return {"conversations_month": self.conversations_month, "basis": self.basis,
                "continuous_cost_per_conversation_usd": self.continuous_cost_per_conversation_usd,
                "cost_per_conversation_usd": self.cost_per_conversation_usd,
                "usd_per_replica_month": self.usd_per_replica_month,
                "continuous_replicas": self.continuous_replicas, "replicas": self.replicas,
                "min_replicas": self.min_replicas,
                "replica_granularity": self.replica_granularity,
                "whole_replica_factor": self.factor, "fleet_usd_month": self.usd_month,
                "hours_per_month": HOURS_PER_MONTH}


def fleet_size(model_id: str, model: SelfHostedModel, conversations_month: float,
               continuous_cost_per_conversation_usd: float, basis: str) -> FleetSize:
    """The fleet of ``model`` serving ``conversations_month`` conversations whose continuous
    cost is ``continuous_cost_per_conversation_usd`` each."""
    per_replica = usd_per_replica_month(model)
    continuous = conversations_month * continuous_cost_per_conversation_usd / per_replica
    return FleetSize(model_id, conversations_month, continuous_cost_per_conversation_usd,
                     per_replica, continuous,
                     whole_replicas(continuous, model.min_replicas, model.replica_granularity),
                     model.min_replicas, model.replica_granularity, basis)

