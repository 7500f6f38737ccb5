"""Tokens of one conversation, from its shape.

With history re-sent, turn k sends the system prompt, all k-1 earlier turns and the new user
message, so over T turns:

    input  = T·S + T·u + T(T−1)/2·(u + a)
    output = T·a

The re-sent part (the system prompt and history from turn 2 on) is what a prompt cache can hit:
cached = cache_hit_rate · ((T−1)·S + T(T−1)/2·(u + a)). Without history re-sent the cacheable part
is the system prompt of turns 2..T.

Every function accepts floats or numpy arrays (Monte Carlo draws) for the token figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.scenario.schema import MAX_TURNS, Capability, ConversationShape

__all__ = ["ConversationTokens", "TurnShape", "capability_shape", "conversation_tokens",
           "tokens_of_shape", "turn_tokens"]


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


def turn_tokens(shape: TurnShape, k: int) -> tuple[Any, Any, Any]:
    """(prompt tokens, of them served from the prefix cache, output tokens) of turn ``k`` (from 1).

    Summed over turns 1..T these are the totals of :func:`conversation_tokens`."""
    s, u = shape.system_prompt_tokens, shape.user_tokens_per_turn
    a = shape.assistant_tokens_per_turn
    history = (k - 1) * (u + a) if shape.resend_history else 0.0
    prompt = s + u + history
    cacheable = (s if k > 1 else 0.0) + history
    return prompt, shape.cache_hit_rate * cacheable, a


@dataclass(frozen=True)
class ConversationTokens:
    input_tokens: Any
    cached_input_tokens: Any
    output_tokens: Any
    per_turn: TurnShape | None = None
    # turns as measured (prompt tokens, of them cached, output tokens), e.g. by a live probe
    measured_turns: tuple[tuple[float, float, float], ...] = ()

    @property
    def uncached_input_tokens(self) -> Any:
        return self.input_tokens - self.cached_input_tokens


def conversation_tokens(turns: Any, system_prompt_tokens: Any, user_tokens_per_turn: Any,
                        assistant_tokens_per_turn: Any, resend_history: bool,
                        cache_hit_rate: Any) -> ConversationTokens:
    t, s, u, a = turns, system_prompt_tokens, user_tokens_per_turn, assistant_tokens_per_turn
    history = t * (t - 1) / 2 * (u + a) if resend_history else 0.0
    total_input = t * s + t * u + history
    cached = cache_hit_rate * ((t - 1) * s + history)
    return ConversationTokens(total_input, cached, t * a,
                              TurnShape(t, s, u, a, resend_history, cache_hit_rate))


def tokens_of_shape(shape: ConversationShape, user_scale: Any = 1.0,
                    assistant_scale: Any = 1.0, turns_scale: Any = 1.0) -> ConversationTokens:
    """Tokens of a shape; the scales multiply the mean tokens per turn and the mean number of
    turns (Monte Carlo draws), a draw held to the schema's :data:`MAX_TURNS` (a lognormal tail
    would otherwise draw a million turns, and the serving model charges turn by turn)."""
    turns = shape.turns if turns_scale is None or (
        isinstance(turns_scale, float) and turns_scale == 1.0) else np.minimum(
        shape.turns * turns_scale, MAX_TURNS)
    return conversation_tokens(turns, shape.system_prompt_tokens,
                               shape.user_tokens_per_turn * user_scale,
                               shape.assistant_tokens_per_turn * assistant_scale,
                               shape.resend_history, shape.cache_hit_rate)


def capability_shape(default: ConversationShape,
                     capability: Capability | None) -> ConversationShape:
    """The scenario's shape with the capability's overrides applied."""
    if capability is None or capability.conversation is None:
        return default
    changes = capability.conversation.model_dump(exclude_none=True)
    return default.model_copy(update=changes) if changes else default
