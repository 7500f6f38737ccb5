"""AIPerf per-request records (``profile_export.jsonl``) → what a multi-turn run measured.

In: the documents of one ``profile_export.jsonl`` (one request a line), and optionally the
number of turns each dataset conversation has (from the run's ``inputs.json``).
Out: a :class:`ConversationRun`. May import ``econ.base``.

The record format is AIPerf's, as documented in "Working with Profile Export Files"
(https://docs.nvidia.com/aiperf/tutorials/metrics-analysis/working-with-profile-export-files.md;
source: ai-dynamo/aiperf ``docs/tutorials/working-with-profile-exports.md``): each line is
``{"metadata": {...}, "metrics": {name: {"value": v, "unit": u}}, "error": null | {code, type,
message}}``, where
``metadata.x_correlation_id`` is the user session (the same for every turn of one conversation),
``metadata.conversation_id`` the dataset conversation it replays, ``metadata.turn_index`` the
turn (0-based), ``metadata.request_start_ns``/``request_end_ns`` epoch nanoseconds and
``metadata.benchmark_phase`` ``profiling`` or ``warmup``. Older AIPerf releases (0.1) write
``timestamp_ns``, ``credit_phase`` and the metrics ``min_request_timestamp`` /
``max_response_timestamp`` instead; both are read.

Definitions (profiling records only; warm-up records are ignored):

- a request *succeeded* when its ``error`` is null and it was not cancelled;
- a *completed conversation* is a user session whose every request succeeded and whose turn
  indexes are 0, 1, …, n−1 with n the number of turns its dataset conversation has (from
  ``inputs.json`` when given; otherwise every gap-free session counts, which a run cut short
  by a time limit would overstate);
- the run's *duration* is the first request's start to the last request's end, failed requests
  included: the replica was held for all of it;
- **replica-seconds per conversation** = duration ÷ completed conversations. This is the replica
  time each conversation costs at the run's operating point (its concurrency and the server's
  batching and prefix caching as they were): the wall clock the replica was held for the run,
  shared among the conversations it finished. Failed and unfinished conversations are paid for
  by the finished ones. GPU-seconds per conversation = that × GPUs per replica;
- tokens per conversation are sums over the turns of completed conversations: the server's
  ``usage`` counts (``usage_prompt_tokens``, ``usage_completion_tokens``) when every such record
  has them, else AIPerf's own tokenizer counts (``input_sequence_length``,
  ``output_sequence_length``); prefix-cache hits are ``usage_prompt_cache_read_tokens`` (the
  server's ``prompt_tokens_details.cached_tokens``), or unknown when the server did not report
  them. The measured time includes whatever the prefix cache saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from econ.base.errors import EconError

__all__ = ["INPUTS_FILE", "ConversationRun", "is_record", "parse_records", "read_conversations",
           "turns_of_inputs"]

INPUTS_FILE = "inputs.json"  # AIPerf writes it beside profile_export.jsonl

_MAX = 1e19  # epoch nanoseconds reach 1.8e18; no token count or duration comes near this


def is_record(doc: Any) -> bool:
    """Whether a document is one AIPerf per-request record."""
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    return isinstance(meta, dict) and "metrics" in doc and (
        "x_correlation_id" in meta or "turn_index" in meta)


@dataclass(frozen=True)
class ConversationRun:
    file: str
    sessions: int
    completed_conversations: int
    completed_requests: int
    failed_requests: int
    duration_s: float
    turns_per_conversation: float
    input_tokens_per_conversation: float
    cached_input_tokens_per_conversation: float | None  # None: the server reported none
    output_tokens_per_conversation: float
    token_counts: str  # "server usage" or "AIPerf tokenizer"
    turns_known: bool  # the expected turns of each conversation came from inputs.json
    input_tokens_total: float  # over every succeeded request (completed or not)
    output_tokens_total: float

    @property
    def replica_seconds_per_conversation(self) -> float:
        return self.duration_s / self.completed_conversations

    def gpu_seconds_per_conversation(self, gpus_per_replica: int) -> float:
        return self.replica_seconds_per_conversation * gpus_per_replica

    @property
    def prefix_cache_hit_rate(self) -> float | None:
        """Cached share of the input tokens of completed conversations."""
        if self.cached_input_tokens_per_conversation is None or not \
                self.input_tokens_per_conversation:
            return None
        return self.cached_input_tokens_per_conversation / self.input_tokens_per_conversation

    def to_json(self, gpus_per_replica: int = 1) -> dict[str, Any]:
        return {
            "file": self.file, "sessions": self.sessions,
            "completed_conversations": self.completed_conversations,
            "completed_requests": self.completed_requests,
            "failed_requests": self.failed_requests, "duration_s": self.duration_s,
            "turns_per_conversation": self.turns_per_conversation,
            "input_tokens_per_conversation": self.input_tokens_per_conversation,
            "cached_input_tokens_per_conversation": self.cached_input_tokens_per_conversation,
            "prefix_cache_hit_rate": self.prefix_cache_hit_rate,
            "output_tokens_per_conversation": self.output_tokens_per_conversation,
            "token_counts": self.token_counts, "turns_known_from_inputs": self.turns_known,
            "replica_seconds_per_conversation": self.replica_seconds_per_conversation,
            "gpus_per_replica": gpus_per_replica,
            "gpu_seconds_per_conversation": self.gpu_seconds_per_conversation(gpus_per_replica),
        }


def turns_of_inputs(doc: Any, file: str) -> dict[str, int]:
    """Turns of each dataset conversation in an AIPerf ``inputs.json`` (``data[].session_id``,
    ``data[].payloads``)."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise EconError(f"{file}: data: not an AIPerf inputs.json (no list of sessions)")
    out = {}
    for i, s in enumerate(data):
        if not isinstance(s, dict) or not isinstance(s.get("payloads"), list):
            raise EconError(f"{file}: data.{i}.payloads: not a list of request payloads")
        out[str(s.get("session_id"))] = len(s["payloads"])
    return out


def _value(metrics: Mapping[str, Any], name: str, where: str) -> float | None:
    m = metrics.get(name)
    if m is None:
        return None
    v = m.get("value") if isinstance(m, dict) else m
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
            or not 0 <= v <= _MAX:
        raise EconError(f"{where}: metrics.{name}.value: not a plausible measurement "
                        f"(got {str(v)[:40]})")
    return v  # a whole number stays whole (epoch nanoseconds need all their digits)


def _ns(meta: Mapping[str, Any], key: str, where: str) -> int | float | None:
    """Epoch nanoseconds, kept whole: a float cannot tell 1.8e18 ns apart to the 100 ns."""
    v = meta.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= _MAX:
        raise EconError(f"{where}: metadata.{key}: not a time in nanoseconds "
                        f"(got {str(v)[:40]})")
    return v


@dataclass
class _Req:
    session: str
    conversation: str
    turn: int
    ok: bool
    input_usage: float | None
    input_client: float | None
    output_usage: float | None
    output_client: float | None
    cached: float | None
    error: str


def parse_records(docs: list[Any], file: str,
                  expected_turns: Mapping[str, int] | None = None) -> ConversationRun:
    """What the records of one AIPerf run measured per completed conversation."""
    reqs: list[_Req] = []
    start: int | float = math.inf
    end: int | float = -math.inf
    for line, doc in enumerate(docs, start=1):
        where = f"{file}:{line}"
        if not is_record(doc):
            raise EconError(f"{where}: metadata: not an AIPerf per-request record")
        meta, metrics = doc["metadata"], doc.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise EconError(f"{where}: metrics: not a mapping of metric names to values")
        phase = meta.get("benchmark_phase", meta.get("credit_phase", "profiling"))
        if phase != "profiling":
            continue
        turn = meta.get("turn_index", 0)
        if isinstance(turn, bool) or not isinstance(turn, int) or turn < 0:
            raise EconError(f"{where}: metadata.turn_index: not a turn number (got "
                            f"{str(turn)[:40]})")
        t0 = _ns(meta, "request_start_ns", where) or _ns(meta, "timestamp_ns", where) or \
            _value(metrics, "min_request_timestamp", where)
        t1 = _ns(meta, "request_end_ns", where) or _ns(meta, "cancellation_time_ns", where) or \
            _value(metrics, "max_response_timestamp", where)
        latency_ms = _value(metrics, "request_latency", where)
        err = doc.get("error")
        ok = err is None and not meta.get("was_cancelled", False)
        if t1 is None and t0 is not None and latency_ms is not None:
            t1 = t0 + round(latency_ms * 1e6)
        if t1 is None and not ok:  # a request cancelled or refused before it ran (AIPerf 0.1)
            t1 = t0
        if t0 is None or t1 is None or t1 < t0:
            raise EconError(f"{where}: metadata.request_start_ns: the record gives no start and "
                            "end time of its request")
        start, end = min(start, t0), max(end, t1)
        error = "" if ok else (f"{err.get('code')} {err.get('type')}: {err.get('message')}"
                               if isinstance(err, dict) else "cancelled")
        session = meta.get("x_correlation_id") or meta.get("conversation_id")
        reqs.append(_Req(
            str(session), str(meta.get("conversation_id", session)), turn, ok,
            _value(metrics, "usage_prompt_tokens", where),
            _value(metrics, "input_sequence_length", where),
            _value(metrics, "usage_completion_tokens", where),
            _value(metrics, "output_sequence_length", where)
            if "output_sequence_length" in metrics else
            _value(metrics, "output_token_count", where),
            _value(metrics, "usage_prompt_cache_read_tokens", where), error))
    if not reqs:
        raise EconError(f"{file}: metadata.benchmark_phase: no profiling records (only warm-up, "
                        "or an empty run)")
    sessions: dict[str, list[_Req]] = {}
    for r in reqs:
        sessions.setdefault(r.session, []).append(r)
    done = [rs for rs in sessions.values() if _completed(rs, expected_turns)]
    succeeded = [r for r in reqs if r.ok]
    failed = len(reqs) - len(succeeded)
    if not done:
        first = next((r.error for r in reqs if not r.ok), "")
        why = (f"{failed} of {len(reqs)} requests failed, the first with {first[:120]}"
               if failed else "every session is missing turns")
        raise EconError(f"{file}: metadata.x_correlation_id: no completed conversation among "
                        f"{len(sessions)} sessions ({why}); a conversation is complete when "
                        "every one of its turns succeeded")
    done_reqs = [r for rs in done for r in rs]
    usage = all(r.input_usage is not None and r.output_usage is not None for r in done_reqs)
    client = all(r.input_client is not None and r.output_client is not None for r in done_reqs)
    if not usage and not client:
        raise EconError(f"{file}: metrics.input_sequence_length: the records give no input and "
                        "output token counts (neither usage_* nor *_sequence_length)")

    def inp(r: _Req) -> float:
        return (r.input_usage if usage else r.input_client) or 0.0

    def out(r: _Req) -> float:
        return (r.output_usage if usage else r.output_client) or 0.0

    n = len(done)
    cached = None
    if all(r.cached is not None for r in done_reqs):
        cached = sum(r.cached or 0.0 for r in done_reqs) / n
    return ConversationRun(
        file=file, sessions=len(sessions), completed_conversations=n,
        completed_requests=len(succeeded), failed_requests=failed,
        duration_s=(end - start) / 1e9,
        turns_per_conversation=len(done_reqs) / n,
        input_tokens_per_conversation=sum(map(inp, done_reqs)) / n,
        cached_input_tokens_per_conversation=cached,
        output_tokens_per_conversation=sum(map(out, done_reqs)) / n,
        token_counts="server usage" if usage else "AIPerf tokenizer",
        turns_known=expected_turns is not None,
        input_tokens_total=sum(map(inp, succeeded)),
        output_tokens_total=sum(map(out, succeeded)))


def _completed(rs: list[_Req], expected: Mapping[str, int] | None) -> bool:
    if not all(r.ok for r in rs):
        return False
    turns = sorted(r.turn for r in rs)
    if turns != list(range(len(turns))):
        return False
    return expected is None or expected.get(rs[0].conversation) == len(turns)


def read_conversations(path: str | Path) -> ConversationRun:
    """The conversations of an AIPerf ``profile_export.jsonl``; the turns each conversation
    should have come from the ``inputs.json`` beside it when there is one."""
    from econ.evidence.importers.jsonfile import read_json_or_lines

    p = Path(path)
    docs = read_json_or_lines(p)
    if not docs or not is_record(docs[0]):
        raise EconError(f"{p}: metadata: not AIPerf per-request records (profile_export.jsonl); "
                        "a summary (profile_export_aiperf.json) does not say which "
                        "conversations completed")
    inputs = p.parent / INPUTS_FILE
    expected = None
    if inputs.is_file():
        expected = turns_of_inputs(read_json_or_lines(inputs)[0], str(inputs))
    return parse_records(docs, str(p), expected)
