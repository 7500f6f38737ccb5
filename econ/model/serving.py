"""Context-aware GPU time of a self-hosted model, from the physics of a batching engine.

A replica (``gpus`` GPUs, tensor parallel) serves requests with continuous batching. One request
of ``P`` prompt tokens, ``N`` of them not in the prefix cache, that decodes ``O`` tokens costs the
replica (Vidur, Agrawal et al. MLSys 2024; the roofline view of vLLM and SGLang serving):

* **prefill compute**: ``2·params`` FLOPs per new token, plus attention, ``4·layers·heads·
  head_dim`` FLOPs per (token, context token) pair: the new tokens attend to the cached prefix
  and to each other;
* **decode compute**: ``2·params`` FLOPs per decoded token, plus its attention over the context
  at that token. Prefill runs as large matrix products and decode as thin ones, so the two run
  at different shares of the tensor peak and get an efficiency each;
* **memory traffic**: each decode step reads the weights once for the whole batch of ``B``
  sequences in flight (``O·weight_bytes/B`` for this request) and this sequence's KV cache, which
  grows with its context (``kv_bytes_per_token`` per context token, summed over the ``O`` steps);
* **tensor-parallel communication** (``gpus > 1``): two all-reduces of the hidden state per
  layer and token (after attention and after the MLP), each GPU moving ``2·(gpus−1)/gpus`` of
  the message over its link (a ring), ``hidden = attention_heads·head_dim`` values of 2 bytes;
  time at the link's peak, half the both-directions figure vendors quote each way;
* **engine overhead**: a fixed time per decode step, shared by the batch (``O/B`` steps), and a
  fixed time per request.

The batch is what the KV cache allows: ``B = min(concurrency, max_num_seqs, capacity ÷ (P +
O/2))`` with ``capacity = (gpus·memory·gpu_memory_utilization − weights) ÷ kv_bytes_per_token``
(memory in bytes as the driver reports it: GiB where vendors mean GiB, see
``data/serving/gpus.csv``); a sequence holds ``P + O/2`` tokens of KV cache on average over its
decode (of a variable-length mix, the mix's mean: ``seq_tokens``).

Replica seconds per request = ``p·prefill + d·decode + m·memory + k·communication + s·O/B + r``
(each physical term at the hardware's peak), with the efficiencies ``p, d, m, k ≥ 1`` (no engine
beats the peak) and the overheads ``s, r ≥ 0`` fitted (``econ.model.serving_fit``) to benchmark
runs. A multi-turn conversation is charged turn by turn, each turn a request at its
own context. Every function accepts floats or numpy arrays (Monte Carlo draws).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from econ.base.errors import EconError
from econ.model.lengths import spread_factors
from econ.scenario.conversation import TurnShape, turn_tokens

_GIB = 1024.0 ** 3

__all__ = [
    "PRIOR",
    "TERMS",
    "Efficiencies",
    "Replica",
    "ServingModel",
    "request_terms",
]


@dataclass(frozen=True)
class Replica:
    """The physical figures of one replica: the model's architecture and its GPUs."""

    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    parameters: float
    weight_bytes_per_parameter: float
    kv_cache_bytes_per_value: float
    gpus: int
    gpu_memory_bytes: float  # per GPU
    hbm_bytes_per_s: float  # per GPU
    dense_flops_per_s: float  # per GPU, at the precision the weights are served in
    gpu_memory_utilization: float
    max_num_seqs: int
    interconnect_bytes_per_s: float = float("inf")  # per GPU, each way; inf: no figure stated

    def __post_init__(self) -> None:
        if self.kv_capacity_tokens < 1:
            raise EconError(
                f"the weights ({self.weight_bytes / _GIB:,.1f} GiB) do not fit in "
                f"{self.gpu_memory_utilization:g} × {self.gpus} × "
                f"{self.gpu_memory_bytes / _GIB:,.2f} GiB of GPU memory: no room for a KV cache")

    @property
    def kv_bytes_per_token(self) -> float:
        """Keys and values of one token in every layer."""
        return 2.0 * self.layers * self.kv_heads * self.head_dim * self.kv_cache_bytes_per_value

    @property
    def weight_bytes(self) -> float:
        return self.parameters * self.weight_bytes_per_parameter

    @property
    def kv_capacity_tokens(self) -> float:
        """Tokens of KV cache the replica holds."""
        free = self.gpus * self.gpu_memory_bytes * self.gpu_memory_utilization - self.weight_bytes
        return free / self.kv_bytes_per_token

    @property
    def attention_flops_per_token_pair(self) -> float:
        """QKᵀ and AV for one (query token, context token) pair, every layer and head."""
        return 4.0 * self.layers * self.attention_heads * self.head_dim

    @property
    def hidden_size(self) -> int:
        return self.attention_heads * self.head_dim

    def batch(self, prompt_tokens: Any, output_tokens: Any, concurrency: Any,
              seq_tokens: Any = None) -> Any:
        """Sequences in flight: the client's concurrency, the engine's cap, the KV cache (each
        sequence holding ``seq_tokens``, by default ``P + O/2``)."""
        held = prompt_tokens + output_tokens / 2.0 if seq_tokens is None else seq_tokens
        by_memory = self.kv_capacity_tokens / (held + 1.0)
        return np.maximum(1.0, np.minimum(np.minimum(concurrency, self.max_num_seqs), by_memory))

    def allreduce_bytes_per_token(self) -> float:
        """Bytes each GPU sends per token for the all-reduces of one forward pass (a ring)."""
        if self.gpus <= 1:
            return 0.0
        return 2.0 * self.layers * 2.0 * (self.gpus - 1) / self.gpus * self.hidden_size * 2.0


TERMS = ("prefill", "decode compute", "memory", "communication", "decode steps ÷ batch",
         "request")


def request_terms(replica: Replica, prompt_tokens: Any, new_tokens: Any, output_tokens: Any,
                  concurrency: Any, seq_tokens: Any = None) -> tuple[Any, Any, Any, Any, Any]:
    """(prefill seconds at the tensor peak, decode compute seconds at the tensor peak, memory
    seconds at peak bandwidth, communication seconds at the link's peak, decode steps ÷ batch)
    of one request: the terms the efficiencies multiply."""
    p, n, o = prompt_tokens, new_tokens, output_tokens
    pairs_prefill = n * (p - n) + n * n / 2.0
    pairs_decode = o * p + o * (o - 1.0) / 2.0
    flops_per_s = replica.dense_flops_per_s * replica.gpus
    pair = replica.attention_flops_per_token_pair
    prefill_s = (2.0 * replica.parameters * n + pair * pairs_prefill) / flops_per_s
    decode_s = (2.0 * replica.parameters * o + pair * pairs_decode) / flops_per_s
    b = replica.batch(p, o, concurrency, seq_tokens)
    bytes_read = o * replica.weight_bytes / b + replica.kv_bytes_per_token * pairs_decode
    memory_s = bytes_read / (replica.hbm_bytes_per_s * replica.gpus)
    comm_s = (n + o) * replica.allreduce_bytes_per_token() / replica.interconnect_bytes_per_s
    return prefill_s, decode_s, memory_s, comm_s, o / b


@dataclass(frozen=True)
class Efficiencies:
    """How far the engine runs from the hardware's peak: seconds over the prefill and the decode
    compute time at the dense tensor peak, seconds over the memory time at peak bandwidth and
    over the communication time at the link's peak (each at least 1), seconds of overhead per
    decode step and per request."""

    prefill_factor: float
    decode_compute_factor: float
    memory_factor: float
    comm_factor: float
    step_overhead_s: float
    request_overhead_s: float

    def as_tuple(self) -> tuple[float, float, float, float, float, float]:
        return (self.prefill_factor, self.decode_compute_factor, self.memory_factor,
                self.comm_factor, self.step_overhead_s, self.request_overhead_s)


# data/SOURCES.md §9 [assumption]: prefill and decode compute at 50% of the tensor peak, memory
# at 70% of peak bandwidth, all-reduces at 50% of the link's peak, 2 ms per decode step and
# 0.5 ms per request
PRIOR = Efficiencies(2.0, 2.0, 1.4, 2.0, 2e-3, 5e-4)


@dataclass(frozen=True)
class ServingModel:
    """A replica with fitted efficiencies, at an operating point: the replica-seconds of any
    request or conversation.

    ``concurrency_points`` are (context tokens, concurrency) of the runs chosen as operating
    points (:mod:`econ.model.operating_point`): the client concurrency each reached, unbounded
    (``inf``) for a run without one or at assumed saturation. A request runs at the concurrency
    of the point nearest its context (log scale), the lower of two equally near; with no point
    (a prior-only model) at saturation.
    """

    replica: Replica
    efficiencies: Efficiencies
    concurrency_points: tuple[tuple[float, float], ...] = ()
    max_measured_context_tokens: float = 0.0
    time_scale: Any = 1.0  # Monte Carlo throughput draws: times are divided by it

    def concurrency_at(self, context_tokens: Any) -> Any:
        pts = sorted(self.concurrency_points, key=lambda p: p[1])  # ties: the lower first
        if not pts:
            return np.inf
        ctx = np.log(np.maximum(np.asarray(context_tokens, dtype=float), 1.0))
        logs = np.log(np.array([max(c, 1.0) for c, _ in pts]))
        conc = np.array([k for _, k in pts])
        nearest = np.abs(ctx[..., None] - logs).argmin(axis=-1)
        out = conc[nearest]
        return float(out) if np.ndim(out) == 0 else out

    def request_seconds(self, prompt_tokens: Any, new_tokens: Any, output_tokens: Any,
                        seq_tokens: Any = None, context_tokens: Any = None) -> Any:
        """Replica-seconds of one request at the operating point (that of ``context_tokens``,
        by default the request's own; a request of a variable-length mix runs at the mix's)."""
        conc = self.concurrency_at(prompt_tokens + output_tokens if context_tokens is None
                                   else context_tokens)
        pre, dec, mem, comm, steps = request_terms(self.replica, prompt_tokens, new_tokens,
                                                   output_tokens, conc, seq_tokens)
        e = self.efficiencies
        seconds = (e.prefill_factor * pre + e.decode_compute_factor * dec
                   + e.memory_factor * mem + e.comm_factor * comm + e.step_overhead_s * steps
                   + e.request_overhead_s)
        return seconds / self.time_scale

    def conversation_seconds(self, shape: TurnShape, reasoning_tokens_per_turn: Any = 0.0) -> Any:
        """Replica-seconds of one conversation, turn by turn; a fractional number of turns (a
        Monte Carlo draw) charges its last turn in proportion. Each turn decodes its hidden
        reasoning, then its answer, from the turn's prompt on (reasoning is not re-sent).

        With a length spread (``user_spread_cv``, ``assistant_spread_cv``) it is the
        expectation over conversations whose tokens per turn are the mean's times a factor of
        that spread (one factor per conversation), each turn in the batch and at the operating
        point of the mix (its mean KV holding and context): exact with two points per length
        (:mod:`econ.model.lengths`), the time being quadratic in the lengths at a fixed
        batch."""
        turns = np.asarray(shape.turns, dtype=float)
        if turns.ndim:
            return self._drawn_turns_seconds(shape, turns, reasoning_tokens_per_turn)
        total: Any = 0.0
        for k in range(1, int(np.ceil(float(np.max(turns)))) + 1):
            weight = np.clip(turns - (k - 1), 0.0, 1.0)
            total = total + weight * self._turn_seconds(shape, k, reasoning_tokens_per_turn)
        return total

    def _turn_seconds(self, shape: TurnShape, k: int, reasoning_tokens_per_turn: Any) -> Any:
        """Replica-seconds of turn ``k``, in expectation over the shape's length spread."""
        prompt, cached, output = turn_tokens(shape, k, cache="self_hosted")
        output = output + reasoning_tokens_per_turn
        fu, wu = spread_factors(shape.user_spread_cv)
        fa, wa = spread_factors(shape.assistant_spread_cv)
        if len(fu) * len(fa) == 1:
            return self.request_seconds(prompt, prompt - cached, output)
        held, context = prompt + output / 2.0, prompt + output
        total: Any = 0.0
        for f_user, w_user in zip(fu, wu, strict=True):
            for f_asst, w_asst in zip(fa, wa, strict=True):
                node = replace(shape, user_tokens_per_turn=shape.user_tokens_per_turn * f_user,
                               assistant_tokens_per_turn=shape.assistant_tokens_per_turn
                               * f_asst)
                p, c, o = turn_tokens(node, k, cache="self_hosted")
                total = total + w_user * w_asst * self.request_seconds(
                    p, p - c, o + reasoning_tokens_per_turn, held, context)
        return total

    def _drawn_turns_seconds(self, shape: TurnShape, turns: np.ndarray,
                             reasoning_tokens_per_turn: Any) -> Any:
        """:meth:`conversation_seconds` over an array of turns (Monte Carlo draws): turn ``k``
        is charged to the draws that reach it only, so a long tail of drawn turns costs what
        it holds, not the longest draw times every draw."""
        total = np.zeros(turns.shape)
        every = float(np.min(turns))
        idx = np.arange(turns.size)  # the draws still in the loop, and their figures
        model, sub, reasoning = self, shape, reasoning_tokens_per_turn
        for k in range(1, int(np.ceil(float(np.max(turns)))) + 1):
            if k > every:  # from here on, only the draws with more than k - 1 turns
                keep = np.flatnonzero(sub.turns > k - 1)
                idx = idx[keep]
                model, reasoning = _take(model, keep), _at(reasoning, keep)
                sub = TurnShape(*(v if isinstance(v, bool) else _at(v, keep)
                                  for v in (getattr(sub, f.name) for f in fields(sub))))
            seconds = model._turn_seconds(sub, k, reasoning)
            if k <= every:  # every draw has this turn in full
                total += seconds
            else:
                total[idx] += np.minimum(sub.turns - (k - 1), 1.0) * seconds
        return total

    def scaled(self, throughput_scale: Any) -> ServingModel:
        """The model at ``throughput_scale`` times the fitted throughput."""
        return replace(self, time_scale=self.time_scale * throughput_scale)


def _at(x: Any, idx: np.ndarray) -> Any:
    """``x`` at the draws ``idx`` (a float stays a float)."""
    return x[idx] if np.ndim(x) else x


def _take(model: ServingModel, idx: np.ndarray) -> ServingModel:
    return model if not np.ndim(model.time_scale) else replace(
        model, time_scale=model.time_scale[idx])
