"""The traffic summary: shape and mix of a log, from normalised messages on any engine.

Four steps, each reported to ``progress`` as a stage: the rule assignment, one row per
conversation, materialised once on the engine (``assign``); the histogram of turns and the
integer sums of logged token counts per capability and role, computed there
(``summarise``); tokens the log lacks, counted with tiktoken on a bounded uniform sample
streamed to the client in batches (``count``); the shapes, in Python from those integers.
Only aggregates and the sample cross to the client. No paths, no prints.
``TrafficSummary.as_json()`` is the ``econ traffic --json`` contract (coverage is added beside
it by the caller when evals are given).

In: ``Prepared`` messages and the run's ``Scratch``. Out: ``TrafficSummary`` and the
per-conversation table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from econ.evidence.traffic.mix import CapabilityShare, conversations, shares
from econ.evidence.traffic.shape import ALL, SUM_KEYS, Shape, add_counted, role_sums, shapes
from econ.evidence.traffic.tokens import ENCODING, count_tokens, tokenizer_name

__all__ = ["Prepared", "TrafficSummary", "summarise"]


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
    # the shape with the tokens the log lacks counted in each other encoding asked for
    by_encoding: Mapping[str, Shape] = field(default_factory=dict)

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
        if self.by_encoding:
            out["tokens_per_turn_by_encoding"] = {
                enc: {**_tokens(sh), "cache_hit_share": _num(sh.cache_hit_share)}
                for enc, sh in self.by_encoding.items()}
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


@dataclass(frozen=True)
class Prepared:
    """Normalised messages on an engine (``conversation, message, turn, role, tokens,
    text``); ``unique_message``: ``message`` alone identifies a message."""

    messages: Any
    unique_message: bool = False
    skipped: int = 0
    skipped_by_reason: Mapping[str, int] = field(default_factory=dict)


Progress = Callable[[str, float, float], None]


def _stage(progress: Progress | None, stage: str, done: float, total: float) -> None:
    if progress is not None:
        progress(stage, done, total)


def summarise(prepared: Prepared, scratch: Any, *,
              rules: Sequence[tuple[str, Sequence[str]]] = (),
              capability_ids: Sequence[str] = (), token_sample: int = 100_000,
              progress: Progress | None = None,
              encodings: Sequence[str] = (ENCODING,)) -> tuple[TrafficSummary, Any]:
    """The traffic summary, and the per-conversation table (``conversation, turns,
    capability``) materialised once on the engine for later steps. Tokens missing from the
    log are counted on a deterministic uniform sample of ``token_sample`` messages (all of them
    when 0), streamed to the client in batches, in ``encodings[0]``; the same sample is also
    counted in each further encoding (``by_encoding``: the overall shape in it; counts the log
    states are the logged model's and stay as they are)."""
    m = prepared.messages
    _stage(progress, "assign", 0, 1)
    conv = scratch.materialise(conversations(m, rules, scratch.materialise))
    _stage(progress, "assign", 1, 1)
    _stage(progress, "summarise", 0, 2)
    hist_rows = conv.group_by(["capability", "turns"]).aggregate(n=conv.count())
    histogram = [(r["capability"], int(r["turns"] or 0), int(r["n"]))
                 for r in hist_rows.to_pyarrow().to_pylist()]
    joined = m.join(conv, "conversation")
    sums = {(r["capability"], r["role"]): {k: int(r[k] or 0) for k in SUM_KEYS}
            for r in role_sums(joined).to_pyarrow().to_pylist()}
    _stage(progress, "summarise", 1, 2)
    logged = sum(a["n"] for a in sums.values())
    total = sum(a["n_all"] for a in sums.values())
    extra = {enc: {k: dict(v) for k, v in sums.items()} for enc in dict.fromkeys(encodings[1:])
             if enc != encodings[0]}
    counted = _count_sample(m, conv, {encodings[0]: sums, **extra}, token_sample,
                            prepared.unique_message, progress, total - logged)
    _stage(progress, "summarise", 2, 2)
    by_encoding = {enc: shapes(histogram, acc)[ALL] for enc, acc in extra.items()}
    per = shapes(histogram, sums)
    overall = per.pop(ALL)
    per.pop("", None)
    counts: dict[str | None, int] = {}
    for cap, _, n in histogram:
        counts[cap] = counts.get(cap, 0) + n
    ids = list(capability_ids) or [cap for cap, _ in rules]
    if not rules:
        counts = {None: overall.conversations}
    caps, uncategorised = shares(counts, ids, overall.conversations)
    name = tokenizer_name(encodings[0])
    tokenizer = ("usage" if counted == 0 and logged else
                 name if logged == 0 else f"usage+{name}")
    summary = TrafficSummary(overall, tokenizer, tuple(caps) if ids else (),
                             uncategorised if ids else 0, per if rules else {}, total,
                             logged + counted, prepared.skipped,
                             dict(prepared.skipped_by_reason), by_encoding)
    return summary, conv


def _count_sample(messages: Any, conv: Any,
                  sums: Mapping[str, dict[tuple[str | None, str], Any]], token_sample: int,
                  unique_message: bool, progress: Progress | None, unlogged: int) -> int:
    """Count tokens of the messages without a logged count: the ``token_sample`` smallest
    hashes of their ids (all when 0), pulled in batches; their sums go into ``sums`` of each
    encoding."""
    import ibis

    m = messages.filter(messages.tokens.isnull() & messages.text.notnull())
    key = (m.message.hash() if unique_message else
           (m.conversation.cast("string") + ibis.literal(":")
            + m.message.cast("string")).hash())
    picked = m.select("conversation", "role", "turn", "text", key=key)
    expected = float(unlogged)  # an upper bound: some may have no text
    if token_sample > 0:
        picked = picked.order_by("key").limit(token_sample)
        expected = float(min(token_sample, unlogged))
    rows = picked.join(conv, "conversation").select("role", "turn", "turns", "capability",
                                                     "text")
    done = 0
    _stage(progress, "count", 0, expected)
    for batch in rows.to_pyarrow_batches(chunk_size=20_000):
        cols = batch.to_pydict()
        texts = [t or "" for t in cols["text"]]
        for encoding, acc in sums.items():
            tokens = count_tokens(texts, encoding)
            for role, turn, turns, cap, n in zip(cols["role"], cols["turn"], cols["turns"],
                                                 cols["capability"], tokens, strict=True):
                add_counted(acc, cap, role, n, int(turn), int(turns or 0))
        done += len(texts)
        _stage(progress, "count", done, max(expected, done))
    _stage(progress, "count", done, done)
    return done
