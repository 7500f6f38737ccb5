"""Cost of one conversation on one model: API token billing or self-hosted GPU time.

API: each kind of token at its price (see :func:`api_cost_usd`). Output includes the model's
hidden reasoning tokens; cache writes and reads are defined in
:mod:`econ.scenario.conversation` (an API caches the prompts it was sent, never its answers;
each turn writes the part of its reusable prefix it did not read from the cache, when caching
is on) and billed at the cache-write and cached-input prices. A self-hosted model's tokens
follow its server's prefix cache, which holds the generated tokens too (:func:`cache_rule`).

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
from dataclasses import dataclass, field
from typing import Any

from econ.model.prices import TokenPrices
from econ.model.serving import ServingModel
from econ.scenario.conversation import (
    CacheRule,
    ConversationTokens,
    capability_shape,
    reasoning_tokens_per_turn,
    tokens_of_shape,
    with_reasoning,
)
from econ.scenario.schema import (
    ApiModel,
    ConversationShape,
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
    "cache_rule",
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
    """USD of one conversation billed per token.

    Uncached input not written to the cache is billed at the input price, cache writes at the
    cache-write price (the input price when the model has none), cache reads at the cached
    price (the input price when it has none), and output (visible and reasoning) at the output
    price. With ``use_batch`` the input and output prices are the batch ones; cache reads and
    writes keep their own prices where the model states them.
    """
    in_price, out_price = prices.input_usd_per_mtok, prices.output_usd_per_mtok
    if use_batch:
        assert prices.batch_input_usd_per_mtok is not None
        assert prices.batch_output_usd_per_mtok is not None
        in_price, out_price = prices.batch_input_usd_per_mtok, prices.batch_output_usd_per_mtok
    cached_price = prices.cached_input_usd_per_mtok
    if cached_price is None:
        cached_price = in_price
    usd = (tokens.uncached_input_tokens * in_price
           + tokens.cached_input_tokens * cached_price
           + tokens.output_tokens * out_price)
    write_price = prices.cache_write_input_usd_per_mtok
    if write_price is not None and write_price != in_price:
        # cache writes are part of the uncached input: bill the difference of their price
        usd = usd + tokens.cache_write_tokens * (write_price - in_price)
    return usd / _MTOK


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
            seconds = time_model.conversation_seconds(tokens.per_turn,
                                                      tokens.reasoning_tokens_per_turn)
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


def cache_rule(model: ModelSpec) -> CacheRule:
    """Whose prompt cache serves the model: an API's (prompts only) or a self-hosted server's
    prefix cache (which holds generated tokens too)."""
    return "api" if isinstance(model, ApiModel) else "self_hosted"


def conversation_cost_usd(model: ModelSpec, tokens: ConversationTokens,
                          prices: TokenPrices | None, time_model: TimeModel | None) -> Any:
    if isinstance(model, ApiModel):
        assert prices is not None
        return api_cost_usd(tokens, prices, model.use_batch)
    assert time_model is not None
    return self_hosted_cost_usd(tokens, model, time_model)


@dataclass(frozen=True)
class CostTable:
    """USD per conversation of each model on each capability, and on uncategorised traffic,
    with the tokens each is billed for (reasoning differs by model, so tokens do too)."""

    per_capability: Mapping[str, Mapping[str, Any]]  # model -> capability -> USD
    uncategorised: Mapping[str, Any]  # model -> USD
    tokens: Mapping[str, Mapping[str, ConversationTokens]] = field(
        default_factory=dict)  # model -> capability -> tokens
    uncategorised_tokens: Mapping[str, ConversationTokens] = field(default_factory=dict)


def cost_table(scenario: Scenario, prices: Mapping[str, TokenPrices],
               time_models: Mapping[str, TimeModel], user_scale: Any = 1.0,
               assistant_scale: Any = 1.0, turns_scale: Any = 1.0,
               reasoning_scale: Mapping[str, Any] | None = None) -> CostTable:
    """USD per conversation of every model on every capability (arrays when scales are).

    The conversation's tokens are computed once per distinct shape (most capabilities keep the
    scenario's); each model then adds its own reasoning tokens (the capability's override for
    it, else its own figure), times ``reasoning_scale[model]`` when given (Monte Carlo draws),
    and is costed once per distinct (shape, reasoning tokens): capabilities that share both
    share the figure.
    """
    shape_tokens: dict[tuple[ConversationShape, CacheRule], ConversationTokens] = {}

    def tokens_for(shape: ConversationShape, rule: CacheRule) -> ConversationTokens:
        if (shape, rule) not in shape_tokens:
            shape_tokens[(shape, rule)] = tokens_of_shape(shape, user_scale, assistant_scale,
                                                          turns_scale, cache=rule)
        return shape_tokens[(shape, rule)]

    caps = scenario.capabilities
    shapes = {c.id: capability_shape(scenario.conversation, c) for c in caps}
    scale = reasoning_scale or {}
    per_cap: dict[str, dict[str, Any]] = {}
    uncategorised: dict[str, Any] = {}
    tokens: dict[str, dict[str, ConversationTokens]] = {}
    uncat_tokens: dict[str, ConversationTokens] = {}
    for mid, m in scenario.models.items():
        p, tm = prices.get(mid), time_models.get(mid)
        per_turn = _ScaledReasoning(scale.get(mid, 1.0))
        rule = cache_rule(m)
        seen: dict[tuple[ConversationShape, float], tuple[ConversationTokens, Any]] = {}
        for shape, reasoning in [*((shapes[c.id], reasoning_tokens_per_turn(mid, m, c))
                                   for c in caps),
                                 (scenario.conversation, m.reasoning_tokens_per_turn)]:
            if (shape, reasoning) not in seen:
                t = per_turn.add(tokens_for(shape, rule), reasoning)
                seen[(shape, reasoning)] = (t, conversation_cost_usd(m, t, p, tm))
        done = {c.id: seen[(shapes[c.id], reasoning_tokens_per_turn(mid, m, c))] for c in caps}
        tokens[mid] = {cid: t for cid, (t, _) in done.items()}
        per_cap[mid] = {cid: usd for cid, (_, usd) in done.items()}
        uncat_tokens[mid], uncategorised[mid] = seen[(scenario.conversation,
                                                      m.reasoning_tokens_per_turn)]
    return CostTable(per_cap, uncategorised, tokens, uncat_tokens)


class _ScaledReasoning:
    """Adds a model's reasoning tokens, times its Monte Carlo factor, to conversation tokens
    (each distinct per-turn figure is scaled once)."""

    def __init__(self, factor: Any) -> None:
        self.factor = factor
        self.scaled: dict[float, Any] = {}

    def add(self, tokens: ConversationTokens, per_turn: float) -> ConversationTokens:
        if per_turn == 0:
            return tokens
        if per_turn not in self.scaled:
            self.scaled[per_turn] = per_turn * self.factor
        return with_reasoning(tokens, self.scaled[per_turn])
