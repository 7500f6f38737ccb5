"""Read conversation logs (OpenAI chat JSONL, ShareGPT, WildChat-style, HH-RLHF transcripts).

The format is told from the content of the first record; gzip is detected by its magic bytes.
Every reader yields the same tidy rows; bad input raises ``EconError`` naming source and line.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from econ.base.errors import EconError

__all__ = ["COLUMNS", "Row", "conversation_rows", "iter_records", "read_log"]

COLUMNS = ["conversation_id", "turn", "role", "text", "tokens"]
_ROLE_ALIASES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                 "chatgpt": "assistant", "bing": "assistant", "system": "system"}
_TRANSCRIPT = re.compile(r"\n\n(Human|Assistant):[ ]?")

Row = tuple[str, int, str, str, float]


def _decompress(data: bytes, source: str) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise EconError(f"{source}: truncated or corrupt gzip ({exc})") from None


def _messages(record: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """Normalise any supported record to [{'role', 'text', 'tokens'}]."""
    if "messages" in record:  # OpenAI chat
        raw, role_key, text_key = record["messages"], "role", "content"
    elif "conversations" in record:  # ShareGPT
        raw, role_key, text_key = record["conversations"], "from", "value"
    elif "conversation" in record:  # WildChat
        raw, role_key, text_key = record["conversation"], "role", "content"
    elif "chosen" in record or "transcript" in record:  # HH-RLHF transcript
        return _transcript(str(record.get("chosen", record.get("transcript", ""))), where)
    else:
        raise EconError(f"{where}: record has no messages (expected one of messages, "
                        "conversations, conversation, chosen)")
    if not isinstance(raw, list) or not raw:
        raise EconError(f"{where}: record has no messages")
    usage = record.get("usage") if isinstance(record.get("usage"), dict) else None
    out: list[dict[str, Any]] = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or role_key not in m:
            raise EconError(f"{where}: message {i} has no field {role_key!r}")
        role = _ROLE_ALIASES.get(str(m[role_key]).lower())
        if role is None:
            raise EconError(f"{where}: message {i}: unknown role {m[role_key]!r}")
        text = m.get(text_key)
        if isinstance(text, list):  # OpenAI content parts
            text = " ".join(str(p.get("text", "")) for p in text if isinstance(p, dict))
        out.append({"role": role, "text": "" if text is None else str(text),
                    "tokens": float("nan")})
    if usage is not None:  # usage covers the whole prompt and the final completion
        for m in reversed(out):
            if m["role"] == "assistant" and "completion_tokens" in usage:
                m["tokens"] = float(usage["completion_tokens"])
                break
    _check_order(out, where)
    return out


def _transcript(text: str, where: str) -> list[dict[str, Any]]:
    parts = _TRANSCRIPT.split("\n\n" + text.lstrip("\n") if not text.startswith("\n\n") else text)
    if len(parts) < 3:
        raise EconError(f"{where}: transcript has no 'Human:'/'Assistant:' blocks")
    out = [{"role": "user" if who == "Human" else "assistant", "text": body.strip(),
            "tokens": float("nan")} for who, body in zip(parts[1::2], parts[2::2], strict=True)]
    # real HH-RLHF transcripts hold repeated speaker blocks: only the opening speaker is checked
    _check_order(out, where, alternate=False)
    return out


def _check_order(msgs: list[dict[str, Any]], where: str, *, alternate: bool = True) -> None:
    turns = [m for m in msgs if m["role"] != "system"]
    if not turns:
        raise EconError(f"{where}: record has no messages")
    if turns[0]["role"] != "user":
        raise EconError(f"{where}: roles out of order: conversation starts with "
                        f"{turns[0]['role']!r}, not 'user'")
    for a, b in itertools.pairwise(turns):
        if alternate and a["role"] == b["role"]:
            raise EconError(f"{where}: roles out of order: two {a['role']!r} messages in a row")


def conversation_rows(record: Any, where: str, default_id: str) -> list[Row]:
    """One record (any supported JSON format) as tidy rows; ``where`` names it in errors."""
    if not isinstance(record, dict):
        raise EconError(f"{where}: record is not an object")
    cid = str(record.get("id", record.get("conversation_hash",
                                          record.get("conversation_id", default_id))))
    turn = 0
    rows: list[Row] = []
    for m in _messages(record, where):
        if m["role"] == "user":
            turn += 1
        rows.append((cid, turn if m["role"] != "system" else 0, m["role"], m["text"],
                     m["tokens"]))
    return rows


def iter_records(lines: Iterable[bytes], source: str, *,
                 skip_bad: bool = False) -> Iterator[tuple[int, Any] | None]:
    """JSON Lines as (line number, record); ``None`` for each non-UTF-8 line skipped."""
    n = 0
    try:
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                if skip_bad:
                    yield None
                    continue
                raise EconError(f"{source}:{n}: text is not UTF-8 (pass --skip-bad to skip "
                                "such lines with a count)") from None
            try:
                yield n, json.loads(text)
            except json.JSONDecodeError as exc:
                raise EconError(f"{source}:{n}: not valid JSON ({exc.msg})") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise EconError(f"{source}:{n + 1}: truncated or corrupt gzip ({exc})") from None


def read_log(data: bytes, source: str, *, skip_bad: bool = False) -> tuple[pd.DataFrame, int]:
    """Read a JSONL (or JSON array) conversation log into the tidy table; return (frame, skipped).

    ``turn`` counts user messages (1-based); system messages carry turn 0.
    Non-UTF-8 lines raise, or are skipped and counted when ``skip_bad``.
    """
    raw = _decompress(data, source)
    stripped = raw.lstrip()
    skipped = 0
    if stripped.startswith(b"["):
        try:
            records = json.loads(stripped.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EconError(f"{source}: not valid JSON ({exc})") from None
        numbered = [(i + 1, r) for i, r in enumerate(records)]
    else:
        numbered = []
        for item in iter_records(raw.split(b"\n"), source, skip_bad=skip_bad):
            if item is None:
                skipped += 1
            else:
                numbered.append(item)
    rows: list[Row] = []
    for n, rec in numbered:
        rows.extend(conversation_rows(rec, f"{source}:{n}", str(n)))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame, skipped
