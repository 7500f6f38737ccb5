"""Cost of one conversation on one model: API token billing or self-hosted GPU time.

Self-hosted: a replica's time per conversation comes from one of two time models. With the
model's architecture known, :class:`econ.model.serving.ServingModel` charges each turn at its own
context (prefill of the uncached new tokens, decode whose time grows with the context, the batch
the KV cache allows). Without it, the time per request is split between prefill (input) and
decode (output) tokens, ``seconds = α·input + β·output`` with ``α = prefill_cost_ratio · β`` when
only one measurement is given; tokens served from the prefix cache cost no prefill.
Dollars = GPU-seconds × USD/GPU-hour ÷ 3600 ÷ effective utilisation, with
effective utilisation = target utilisation ÷ peak-to-average ratio (capacity is provisioned for
the peak).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from econ.model.prices import TokenPrices
from econ.model.serving import ServingModel
from econ.scenario.conversation import ConversationTokens, capability_shape, tokens_of_shape
from econ.scenario.schema import (
    ApiModel,
    ModelSpec,
    Scenario,
    SelfHostedModel,
    ThroughputMeasurement,
)

__all__ = [
    "CostTable",
    "TimeModel",
    "TokenTimeModel",
    "api_cost_usd",
    "conversation_cost_usd",
    "cost_table",
    "effective_utilisation",
    "measured_time_models",
    "self_hosted_cost_usd",
    "self_hosted_gpu_seconds",
    "time_model_from_measurement",
]

_MTOK = 1_000_000.0
_SECONDS_PER_HOUR = 3600.0


def api_cost_usd(tokens: ConversationTokens, prices: TokenPrices, use_batch: bool) -> Any:
    """USD of one conversation billed per token."""
    in_price, out_price = prices.input_usd_per_mtok, prices.output_usd_per_mtok
    if use_batch:
        assert prices.batch_input_usd_per_mtok is not None
        assert prices.batch_output_usd_per_mtok is not None
        in_price, out_price = prices.batch_input_usd_per_mtok, prices.batch_output_usd_per_mtok
    cached_price = prices.cached_input_usd_per_mtok
    if cached_price is None:
        cached_price = in_price
    return (tokens.uncached_input_tokens * in_price
            + tokens.cached_input_tokens * cached_price
            + tokens.output_tokens * out_price) / _MTOK


@dataclass(frozen=True)
class TokenTimeModel:
    """Replica-seconds per prefill token and per decode token."""

    prefill_s_per_token: Any
    decode_s_per_token: Any
    max_measured_context_tokens: float = 0.0  # largest input + output of a run fitted

    def scaled(self, throughput_scale: Any) -> TokenTimeModel:
        """The model at ``throughput_scale`` times the measured throughput."""
        return TokenTimeModel(self.prefill_s_per_token / throughput_scale,
                              self.decode_s_per_token / throughput_scale,
                              self.max_measured_context_tokens)

    def replica_seconds(self, tokens: ConversationTokens) -> Any:
        return (self.prefill_s_per_token * tokens.uncached_input_tokens
                + self.decode_s_per_token * tokens.output_tokens)


TimeModel = TokenTimeModel | ServingModel


def time_model_from_measurement(m: ThroughputMeasurement, prefill_cost_ratio: float,
                                output_tokens_per_s: Any = None) -> TokenTimeModel:
    """Split one run's replica time per request between its input and output tokens."""
    rate = m.output_tokens_per_s if output_tokens_per_s is None else output_tokens_per_s
    seconds_per_request = m.output_tokens_per_request / rate
    weight = prefill_cost_ratio * m.input_tokens_per_request + m.output_tokens_per_request
    decode = seconds_per_request / weight
    return TokenTimeModel(prefill_cost_ratio * decode, decode,
                          m.input_tokens_per_request + m.output_tokens_per_request)


def effective_utilisation(model: SelfHostedModel) -> float:
    return model.target_utilisation / model.peak_to_average


def self_hosted_gpu_seconds(tokens: ConversationTokens, model: SelfHostedModel,
                            time_model: TimeModel) -> Any:
    """GPU-seconds of one conversation at full load (before utilisation)."""
    if isinstance(time_model, ServingModel):
        if tokens.measured_turns:
            seconds = sum(time_model.request_seconds(p, p - c, o)
                          for p, c, o in tokens.measured_turns)
        elif tokens.per_turn is not None:
            seconds = time_model.conversation_seconds(tokens.per_turn)
        else:
            raise ValueError("the serving model needs the conversation's turns")
        return seconds * model.gpus_per_replica
    return time_model.replica_seconds(tokens) * model.gpus_per_replica


def self_hosted_cost_usd(tokens: ConversationTokens, model: SelfHostedModel,
                         time_model: TimeModel) -> Any:
    gpu_s = self_hosted_gpu_seconds(tokens, model, time_model)
    return gpu_s * model.usd_per_gpu_hour / _SECONDS_PER_HOUR / effective_utilisation(model)



def measured_time_models(scenario: Scenario) -> dict[str, TokenTimeModel]:
    """Time models of self-hosted models that state one throughput measurement (and no
    measured conversations, which replace it: see ``econ.model.measured``)."""
    return {
        mid: time_model_from_measurement(m.throughput, m.prefill_cost_ratio)
        for mid, m in scenario.models.items()
        if isinstance(m, SelfHostedModel) and m.throughput is not None
        and not m.measured_conversations
    }


def conversation_cost_usd(model: ModelSpec, tokens: ConversationTokens,
                          prices: TokenPrices | None, time_model: TimeModel | None) -> Any:
    if isinstance(model, ApiModel):
        assert prices is not None
        return api_cost_usd(tokens, prices, model.use_batch)
    assert time_model is not None
    return self_hosted_cost_usd(tokens, model, time_model)


@dataclass(frozen=True)
class CostTable:
    """USD per conversation of each model on each capability, and on uncategorised traffic."""

    per_capability: Mapping[str, Mapping[str, Any]]  # model -> capability -> USD
    uncategorised: Mapping[str, Any]  # model -> USD


def cost_table(scenario: Scenario, prices: Mapping[str, TokenPrices],
               time_models: Mapping[str, TimeModel], user_scale: Any = 1.0,
               assistant_scale: Any = 1.0, turns_scale: Any = 1.0) -> CostTable:
    """USD per conversation of every model on every capability (arrays when scales are)."""
    default_tokens = tokens_of_shape(scenario.conversation, user_scale, assistant_scale,
                                     turns_scale)
    cap_tokens = {c.id: tokens_of_shape(capability_shape(scenario.conversation, c), user_scale,
                                        assistant_scale, turns_scale)
                  for c in scenario.capabilities}
    per_cap: dict[str, dict[str, Any]] = {}
    uncategorised: dict[str, Any] = {}
    for mid, m in scenario.models.items():
        p, tm = prices.get(mid), time_models.get(mid)
        per_cap[mid] = {cid: conversation_cost_usd(m, t, p, tm) for cid, t in cap_tokens.items()}
        uncategorised[mid] = conversation_cost_usd(m, default_tokens, p, tm)
    return CostTable(per_cap, uncategorised)
