"""The traffic summary: shape and mix of a log, from Ibis tables on any backend.

Pure: takes Ibis table expressions (bound to DuckDB, Polars or a warehouse by ``backend``) and
returns a frozen ``TrafficSummary``; no paths, no prints. ``TrafficSummary.as_json()`` is the
``econ traffic --json`` contract (coverage is added beside it by the caller when evals are
given).

In: messages (``conversation, message, turn, role, tokens``), optionally the conversations'
user text and the counted-token table. Out: ``TrafficSummary``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from econ.evidence.traffic.mix import (
    CapabilityShare,
    assign_capabilities,
    capability_counts,
    shares,
)
from econ.evidence.traffic.shape import ALL, Shape, shapes

__all__ = ["TrafficSummary", "summarise", "with_counted_tokens"]


@dataclass(frozen=True)
class TrafficSummary:
    shape: Shape
    tokenizer: str  # "usage", "tiktoken:cl100k_base" or "usage+tiktoken:cl100k_base"
    capabilities: tuple[CapabilityShare, ...] = ()
    uncategorised: int = 0
    by_capability: Mapping[str, Shape] = field(default_factory=dict)
    messages: int = 0
    counted_messages: int = 0  # messages whose tokens were counted (log usage or tiktoken)
    skipped: int = 0  # bad lines and conversations skipped under --skip-bad
    skipped_by_reason: Mapping[str, int] = field(default_factory=dict)

    @property
    def uncategorised_share(self) -> float:
        n = self.shape.conversations
        return self.uncategorised / n if n else 0.0

    def as_json(self) -> dict[str, Any]:
        s = self.shape
        out: dict[str, Any] = {
            "conversations": s.conversations,
            "turns": {"mean": _num(s.turns_mean), "p50": _num(s.turns_p50),
                      "p90": _num(s.turns_p90), "single_turn_share": _num(s.single_turn_share),
                      "sd": _num(s.turns_sd)},
            "tokens_per_turn": _tokens(s),
            "tokenizer": self.tokenizer,
            "capabilities": [{"id": c.id, "share": c.share, "ci_low": c.ci_low,
                              "ci_high": c.ci_high, "n": c.n} for c in self.capabilities],
            "uncategorised_share": self.uncategorised_share,
            "cache_hit_share": _num(s.cache_hit_share),
            "messages": self.messages,
            "counted_messages": self.counted_messages,
            "skipped": self.skipped,
            "skipped_by_reason": dict(self.skipped_by_reason),
        }
        if self.by_capability:
            out["shapes"] = {cap: {"conversations": sh.conversations,
                                   "turns": {"mean": _num(sh.turns_mean),
                                             "p50": _num(sh.turns_p50),
                                             "p90": _num(sh.turns_p90),
                                             "single_turn_share": _num(sh.single_turn_share)},
                                   "tokens_per_turn": _tokens(sh),
                                   "cache_hit_share": _num(sh.cache_hit_share)}
                             for cap, sh in self.by_capability.items()}
        return out


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x


def _tokens(s: Shape) -> dict[str, Any]:
    """Tokens per turn by class: user and assistant per message (mean, sd), system per
    conversation, tool calls (output), tool results and images (input) per turn over all
    turns, with how many messages each holds."""
    return {"user": {"mean": _num(s.user_tokens_mean), "sd": _num(s.user_tokens_sd)},
            "assistant": {"mean": _num(s.assistant_tokens_mean),
                          "sd": _num(s.assistant_tokens_sd)},
            "system": {"mean": _num(s.system_tokens_mean)},
            "tool_call": {"mean": _num(s.tool_call_tokens_per_turn), "messages": s.tool_calls,
                          "billed_as": "output"},
            "tool_result": {"mean": _num(s.tool_result_tokens_per_turn),
                            "messages": s.tool_results, "billed_as": "input"},
            "image": {"mean": _num(s.image_tokens_per_turn), "images": s.images,
                      "counted": s.images_counted, "billed_as": "input"}}


def with_counted_tokens(messages: Any, counted: Any) -> Any:
    """Messages with ``tokens`` = the log's count, else the tiktoken count where sampled."""
    joined = messages.left_join(counted.rename(counted_tokens="tokens"), "message")
    return joined.select("conversation", "message", "turn", "role",
                         tokens=joined.tokens.fill_null(joined.counted_tokens))


def summarise(messages: Any, *, tokenizer: str, conversations: Any = None,
              rules: Sequence[tuple[str, Sequence[str]]] = (),
              capability_ids: Sequence[str] = (), skipped: int = 0,
              skipped_by_reason: Mapping[str, int] | None = None) -> TrafficSummary:
    """Shape of all traffic; with rules (and the conversations' text), the mix and the shape
    per capability. ``capability_ids`` orders the report (default: the rules' order) and lists
    capabilities that no conversation matched."""
    overall = shapes(messages)[ALL]
    totals = messages.aggregate(n=messages.count(), counted=messages.tokens.notnull()
                                .cast("int64").sum()).to_pyarrow().to_pylist()[0]
    ids = list(capability_ids) or [cap for cap, _ in rules]
    if not rules or conversations is None:
        return TrafficSummary(overall, tokenizer, messages=int(totals["n"]),
                              counted_messages=int(totals["counted"] or 0), skipped=skipped,
                              uncategorised=overall.conversations if ids else 0,
                              capabilities=tuple(shares({}, ids, overall.conversations)[0]),
                              skipped_by_reason=dict(skipped_by_reason or {}))
    assigned = assign_capabilities(conversations, rules)
    counts = capability_counts(assigned)
    caps, uncategorised = shares(counts, ids, overall.conversations)
    tagged = messages.join(assigned, "conversation", how="left")
    per = {k: v for k, v in shapes(tagged, by_capability=True).items() if k}
    return TrafficSummary(overall, tokenizer, tuple(caps), uncategorised, per,
                          int(totals["n"]), int(totals["counted"] or 0), skipped,
                          dict(skipped_by_reason or {}))
