"""Tokens of one conversation, from its shape and the model's reasoning.

With history re-sent, turn k sends the system prompt, all k-1 earlier turns and the new user
message, so over T turns (S system prompt, u user, a assistant, r reasoning tokens per turn):

    input     = T·S + T·u + T(T−1)/2·(u + a)
    reasoning = T·r
    output    = T·(a + r)

``output`` is what the model bills as output: its visible answers and its hidden reasoning
(thinking) tokens. Reasoning tokens are never re-sent in the history (the APIs drop them, and a
chat client only has the visible answer), so they add to output and not to input; a self-hosted
model decodes them at the context of their turn.

Prompt cache. What a turn can read from the cache depends on who keeps it (``cache``):

- **An API** (``cache="api"``) caches the prompts it was sent, never the answers it wrote. At
  turn k the cacheable prefix is turn k−1's prompt, ``S + (k−1)·u + (k−2)·a`` with history
  re-sent (system prompt and history up to user turn k−1, without the answer that followed
  it), and at turn 1 the system prompt, which every conversation shares (``system_prompt_tokens``
  is the prefix cached across conversations; context that differs per conversation belongs in
  the user tokens). Without history re-sent it is the system prompt on every turn. Reads are a
  share ``cache_hit_rate`` of it::

      with history re-sent:     cached = h · (T·S + T(T−1)/2·u + (T−1)(T−2)/2·a)
      without history re-sent:  cached = h · T·S

- **A self-hosted server's prefix cache** (``cache="self_hosted"``, vLLM/SGLang automatic
  prefix caching) keeps the KV blocks of generated tokens too, so at turn k ≥ 2 it holds the
  whole of turn k−1 *including its answer*: ``S + (k−1)(u + a)`` with history (``S`` without),
  nothing at turn 1 (this rule does not count a system prompt shared across conversations)::

      cached = h · ((T−1)·S + T(T−1)/2·(u + a))     (h · (T−1)·S without history)

With caching on (``cache_hit_rate > 0``) each turn writes to the cache what it sent and did
not read, ``write_k = prefix_k − read_k`` (prefix_k: the part of turn k's prompt a later
request can reuse), so writes are billed on what is newly cached: at a full hit, turn k of an
API conversation writes the answer of turn k−1 and the new user message. Summed over turns:

    with history re-sent:     cache_write = input − cached (every input token not read is written)
    without history re-sent:  cache_write = T·S − cached

The last turn writes too (a client does not know a turn is the last). With caching off
(``cache_hit_rate == 0``) nothing is written. Cache writes are part of the uncached input: a
model with a cache-write price (Anthropic) bills them at it, one without (OpenAI's automatic
caching) at the plain input price. A self-hosted model pays no write price; its uncached tokens
cost prefill.

Every function accepts floats or numpy arrays (Monte Carlo draws) for the token figures and
the turns; ``cache_hit_rate`` is a plain number (it decides whether caching is on).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from econ.scenario.schema import MAX_TURNS, Capability, ConversationShape, ModelSpec

__all__ = [
    "CacheRule",
    "ConversationTokens",
    "TurnShape",
    "capability_shape",
    "conversation_tokens",
    "reasoning_tokens_per_turn",
    "tokens_of_shape",
    "turn_tokens",
    "with_reasoning",
]

CacheRule = Literal["api", "self_hosted"]  # who keeps the prompt cache (see the module's docstring)


@dataclass(frozen=True)
class TurnShape:
    """The per-turn figures of a conversation (floats or Monte Carlo arrays), for costs that
    depend on each turn's context rather than on the totals."""

    turns: Any
    system_prompt_tokens: Any
    user_tokens_per_turn: Any
    assistant_tokens_per_turn: Any
    resend_history: bool
    cache_hit_rate: Any
    # spread of user and assistant tokens per turn across conversations (lognormal cv): a
    # context-aware cost takes the expectation over it
    user_spread_cv: float = 0.0
    assistant_spread_cv: float = 0.0


def turn_tokens(shape: TurnShape, k: int, *, cache: CacheRule) -> tuple[Any, Any, Any]:
    """(prompt tokens, of them served from the prompt cache, output tokens) of turn ``k`` (from
    1), the cache kept by an API or a self-hosted server (``cache``).

    Summed over turns 1..T these are the totals of :func:`conversation_tokens`."""
    s, u = shape.system_prompt_tokens, shape.user_tokens_per_turn
    a = shape.assistant_tokens_per_turn
    history = (k - 1) * (u + a) if shape.resend_history else 0.0
    prompt = s + u + history
    if cache == "api":
        # the previous turn's prompt (its answer was never sent), or the shared system prompt
        cacheable = s + ((k - 1) * u + (k - 2) * a if shape.resend_history and k > 1 else 0.0)
    else:
        cacheable = (s if k > 1 else 0.0) + history
    return prompt, shape.cache_hit_rate * cacheable, a


@dataclass(frozen=True)
class ConversationTokens:
    """Tokens of one conversation. ``output_tokens`` is what is billed as output and includes
    ``reasoning_tokens``; ``cache_write_tokens`` are part of the uncached input."""

    input_tokens: Any
    cached_input_tokens: Any
    output_tokens: Any
    reasoning_tokens: Any = 0.0
    cache_write_tokens: Any = 0.0
    turns: Any = 1.0
    reasoning_tokens_per_turn: Any = 0.0
    per_turn: TurnShape | None = None
    # turns as measured (prompt tokens, of them cached, output tokens), e.g. by a live probe
    measured_turns: tuple[tuple[float, float, float], ...] = ()

    @property
    def uncached_input_tokens(self) -> Any:
        return self.input_tokens - self.cached_input_tokens

    @property
    def visible_output_tokens(self) -> Any:
        """The answers the user sees (and the history re-sends): output without reasoning."""
        return self.output_tokens - self.reasoning_tokens


def conversation_tokens(turns: Any, system_prompt_tokens: Any, user_tokens_per_turn: Any,
                        assistant_tokens_per_turn: Any, resend_history: bool,
                        cache_hit_rate: Any,
                        reasoning_tokens_per_turn: Any = 0.0, *,
                        cache: CacheRule) -> ConversationTokens:
    """Tokens of one conversation, its cache reads and writes as the cache kept by an API or
    by a self-hosted server (``cache``) has them."""
    t, s, u, a = turns, system_prompt_tokens, user_tokens_per_turn, assistant_tokens_per_turn
    history = t * (t - 1) / 2 * (u + a) if resend_history else 0.0
    total_input = t * s + t * u + history
    cached = cache_hit_rate * _cacheable(t, s, u, a, resend_history, cache)
    if _caching_off(cache_hit_rate):
        written: Any = 0.0
    else:
        written = (total_input if resend_history else t * s) - cached
    base = ConversationTokens(total_input, cached, t * a, 0.0, written, t, 0.0,
                              TurnShape(t, s, u, a, resend_history, cache_hit_rate))
    return with_reasoning(base, reasoning_tokens_per_turn)


def _cacheable(t: Any, s: Any, u: Any, a: Any, resend_history: bool, cache: CacheRule) -> Any:
    """Σ over turns of the prefix the cache may hold (see the module's docstring); a
    fractional number of turns (a Monte Carlo draw) never counts an answer below two turns."""
    if cache == "api":
        if not resend_history:
            return t * s
        return t * s + t * (t - 1) / 2 * u + (t - 1) * np.maximum(t - 2, 0.0) / 2 * a
    history = t * (t - 1) / 2 * (u + a) if resend_history else 0.0
    return (t - 1) * s + history


def _caching_off(cache_hit_rate: Any) -> bool:
    return isinstance(cache_hit_rate, int | float) and cache_hit_rate <= 0


def with_reasoning(tokens: ConversationTokens,
                   reasoning_tokens_per_turn: Any) -> ConversationTokens:
    """``tokens`` with ``reasoning_tokens_per_turn`` hidden reasoning tokens on every turn
    (replacing any reasoning they had): billed as output, not re-sent."""
    none_yet = isinstance(tokens.reasoning_tokens, int | float) and tokens.reasoning_tokens == 0
    if none_yet and isinstance(reasoning_tokens_per_turn, int | float) \
            and reasoning_tokens_per_turn == 0:
        return tokens
    visible = tokens.output_tokens if none_yet else tokens.visible_output_tokens
    reasoning = tokens.turns * reasoning_tokens_per_turn
    return replace(tokens, output_tokens=visible + reasoning, reasoning_tokens=reasoning,
                   reasoning_tokens_per_turn=reasoning_tokens_per_turn)


def reasoning_tokens_per_turn(model_id: str, model: ModelSpec,
                              capability: Capability | None) -> float:
    """The model's reasoning tokens per turn on a capability: the capability's override for
    the model if it states one, else the model's own figure."""
    if capability is not None and model_id in capability.reasoning_tokens_per_turn:
        return capability.reasoning_tokens_per_turn[model_id]
    return model.reasoning_tokens_per_turn


def tokens_of_shape(shape: ConversationShape, user_scale: Any = 1.0,
                    assistant_scale: Any = 1.0, turns_scale: Any = 1.0, *,
                    cache: CacheRule) -> ConversationTokens:
    """Tokens of a shape without reasoning; the scales multiply the mean tokens per turn and
    the mean number of turns (Monte Carlo draws), a draw held to the schema's :data:`MAX_TURNS`
    (a lognormal tail would otherwise draw a million turns, and the serving model charges turn
    by turn)."""
    turns = shape.turns if turns_scale is None or (
        isinstance(turns_scale, float) and turns_scale == 1.0) else np.minimum(
        shape.turns * turns_scale, MAX_TURNS)
    tokens = conversation_tokens(turns, shape.system_prompt_tokens,
                                 shape.user_tokens_per_turn * user_scale,
                                 shape.assistant_tokens_per_turn * assistant_scale,
                                 shape.resend_history, shape.cache_hit_rate, cache=cache)
    if tokens.per_turn is None or not (shape.user_tokens_spread_cv
                                       or shape.assistant_tokens_spread_cv):
        return tokens
    return replace(tokens, per_turn=replace(
        tokens.per_turn, user_spread_cv=shape.user_tokens_spread_cv,
        assistant_spread_cv=shape.assistant_tokens_spread_cv))


def capability_shape(default: ConversationShape,
                     capability: Capability | None) -> ConversationShape:
    """The scenario's shape with the capability's overrides applied."""
    if capability is None or capability.conversation is None:
        return default
    changes = capability.conversation.model_dump(exclude_none=True)
    return default.model_copy(update=changes) if changes else default
