"""Read conversation logs (OpenAI chat and Anthropic Messages JSONL, ShareGPT, WildChat-style,
HH-RLHF transcripts) into tidy rows.

The format is told from the content of each record (:mod:`.messages`); gzip is detected by its
magic bytes. Every reader yields the same tidy rows (``Row``); bad input raises ``EconError``
naming source and line, or, under ``skip_bad``, the bad conversation is skipped and counted by
its reason (:class:`Skipped`).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from econ.base.errors import EconError
from econ.evidence.traffic.messages import BadRecord, record_messages

__all__ = ["COLUMNS", "BadRecord", "Row", "Skipped", "conversation_rows", "iter_records",
           "read_log", "rows_or_skip"]

COLUMNS = ["conversation_id", "turn", "role", "text", "tokens"]

# (conversation id, turn, class, text or None for an image, the log's tokens or NaN)
Row = tuple[str, int, str, str | None, float]


@dataclass(frozen=True)
class Skipped:
    """A conversation (or line) skipped under --skip-bad, and why."""

    reason: str


def _decompress(data: bytes, source: str) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise EconError(f"{source}: truncated or corrupt gzip ({exc})") from None


def conversation_rows(record: Any, where: str, default_id: str) -> list[Row]:
    """One record (any supported JSON format) as tidy rows; ``where`` names it in errors.

    ``turn`` counts user messages (1-based); system messages carry turn 0; tool calls, tool
    results and images carry the turn they belong to (see :mod:`.messages`)."""
    if not isinstance(record, dict):
        raise BadRecord(f"{where}: record is not an object", "not an object")
    cid = str(record.get("id", record.get("conversation_hash",
                                          record.get("conversation_id", default_id))))
    turn = 0
    rows: list[Row] = []
    for m in record_messages(record, where):
        if m.role == "user":
            turn += 1
        rows.append((cid, turn if m.role != "system" else 0, m.role, m.text, m.tokens))
    return rows


def iter_records(lines: Iterable[bytes], source: str, *,
                 skip_bad: bool = False) -> Iterator[tuple[int, Any] | Skipped]:
    """JSON Lines as (line number, record); under ``skip_bad`` a :class:`Skipped` for each line
    that is not UTF-8 or not JSON."""
    n = 0
    try:
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                if skip_bad:
                    yield Skipped("not UTF-8")
                    continue
                raise EconError(f"{source}:{n}: text is not UTF-8 (pass --skip-bad to skip "
                                "such lines with a count)") from None
            try:
                yield n, json.loads(text)
            except json.JSONDecodeError as exc:
                if skip_bad:
                    yield Skipped("not valid JSON")
                    continue
                raise EconError(f"{source}:{n}: not valid JSON ({exc.msg}; pass --skip-bad to "
                                "skip such lines with a count)") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise EconError(f"{source}:{n + 1}: truncated or corrupt gzip ({exc})") from None


def rows_or_skip(record: Any, where: str, default_id: str, *,
                 skip_bad: bool) -> list[Row] | Skipped:
    """:func:`conversation_rows`, or under ``skip_bad`` a :class:`Skipped` with the reason."""
    try:
        return conversation_rows(record, where, default_id)
    except BadRecord as exc:
        if skip_bad:
            return Skipped(exc.reason)
        raise


def read_log(data: bytes, source: str, *, skip_bad: bool = False) -> tuple[pd.DataFrame, int]:
    """Read a JSONL (or JSON array) conversation log into the tidy table; return (frame,
    skipped). Bad lines and conversations raise, or are skipped and counted with ``skip_bad``.
    """
    raw = _decompress(data, source)
    stripped = raw.lstrip()
    skipped = 0
    if stripped.startswith(b"["):
        try:
            records = json.loads(stripped.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EconError(f"{source}: not valid JSON ({exc})") from None
        numbered: list[tuple[int, Any] | Skipped] = [(i + 1, r) for i, r in enumerate(records)]
    else:
        numbered = list(iter_records(raw.split(b"\n"), source, skip_bad=skip_bad))
    rows: list[Row] = []
    for item in numbered:
        got = item if isinstance(item, Skipped) else rows_or_skip(
            item[1], f"{source}:{item[0]}", str(item[0]), skip_bad=skip_bad)
        if isinstance(got, Skipped):
            skipped += 1
        else:
            rows.extend(got)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame, skipped
