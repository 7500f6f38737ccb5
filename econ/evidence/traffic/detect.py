"""Tell a log file's format from its content and stream its conversations.

Parquet by its ``PAR1`` magic; gzip by its magic (then the inner content decides); JSON Lines
(or one JSON array) when the text starts with ``{`` or ``[``; CSV otherwise. Reading streams, so
a file larger than memory is read in bounded pieces (a single JSON array is the exception).
In: a path. Out: each conversation's tidy rows, or a ``Skipped`` (with its reason) for a line or
conversation skipped under skip_bad.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from econ.base.errors import EconError
from econ.evidence.traffic.capped import (
    capped_gzip,
    check_parquet,
    lines,
    read_array,
    read_gzipped_parquet,
)
from econ.evidence.traffic.readers import Row, Skipped, iter_records, rows_or_skip
from econ.evidence.traffic.tabular import iter_tabular

__all__ = ["detect_format", "iter_conversations"]


def _peek(stream: IO[bytes]) -> bytes:
    head = stream.read(4096)
    stream.seek(0)
    return head


def detect_format(head: bytes) -> str:
    """``parquet``, ``json`` (an array), ``jsonl`` or ``csv`` from the first (decompressed)
    bytes."""
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{") or not text:  # blank lines first: JSON Lines skips them
        return "jsonl"
    return "csv"


def iter_conversations(path: Path, source: str, *, skip_bad: bool = False,
                       progress: Callable[[int, int], None] | None = None,
                       ) -> Iterator[list[Row] | Skipped]:
    """Each conversation of one log file as tidy rows; a ``Skipped`` for each one skipped."""
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise EconError(f"{source}: no such log file") from None
    size = max(path.stat().st_size, 1)
    with raw:
        stream: Any = raw
        if _peek(raw)[:2] == b"\x1f\x8b":
            stream = capped_gzip(raw, source)
            try:
                head = stream.read(4096)
            except (EOFError, OSError) as exc:
                raise EconError(f"{source}:1: truncated or corrupt gzip ({exc})") from None
            stream = capped_gzip(_rewound(raw), source)
        else:
            head = _peek(raw)
        kind = detect_format(head)
        tick = 0
        if kind in ("parquet", "csv"):
            if kind == "parquet" and stream is not raw:
                stream = io.BytesIO(read_gzipped_parquet(stream, source))  # seeks: in memory
            if kind == "parquet":
                check_parquet(path if stream is raw else stream, source)
                stream.seek(0)
            for rows in iter_tabular(stream, kind, source, skip_bad=skip_bad):
                tick += 1
                if progress is not None and tick % 4096 == 0:
                    progress(raw.tell(), size)
                yield rows
        elif kind == "json":
            try:
                records = json.loads(read_array(stream, source).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise EconError(f"{source}: not valid JSON ({exc})") from None
            except (EOFError, OSError) as exc:
                raise EconError(f"{source}: truncated or corrupt gzip ({exc})") from None
            if not isinstance(records, list):
                raise EconError(f"{source}: a JSON log is an array of conversation records")
            for i, rec in enumerate(records, start=1):
                yield rows_or_skip(rec, f"{source}:{i}", str(i), skip_bad=skip_bad)
        else:
            for item in iter_records(lines(stream, source), source, skip_bad=skip_bad):
                if isinstance(item, Skipped):
                    yield item
                    continue
                n, rec = item
                tick += 1
                if progress is not None and tick % 4096 == 0:
                    progress(raw.tell(), size)
                yield rows_or_skip(rec, f"{source}:{n}", str(n), skip_bad=skip_bad)
        if progress is not None:
            progress(size, size)


def _rewound(raw: IO[bytes]) -> IO[bytes]:
    raw.seek(0)
    return raw
