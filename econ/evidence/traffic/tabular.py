"""CSV and Parquet conversation logs: a messages column, or one row per message.

The layout is told from the content: a column whose values are JSON lists of
``{role, content}`` (or ShareGPT ``{from, value}``) holds one conversation a row; otherwise the
table needs a role and a text column, with a conversation id column grouping its rows (rows of a
conversation are contiguous, in order, as exports write them).
In: a binary stream. Out: each conversation's tidy rows (see ``readers.conversation_rows``), or
under ``skip_bad`` a ``Skipped`` for a conversation that cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from econ.base.errors import EconError
from econ.evidence.traffic.readers import Row, Skipped, rows_or_skip

__all__ = ["iter_tabular"]

_ID = ("conversation_id", "conversation", "conversation_hash", "session_id", "thread_id", "id")
_ROLE = ("role", "from", "speaker", "author")
_TEXT = ("text", "content", "message", "value", "body")
_TOKENS = ("tokens", "token_count", "num_tokens")
_MESSAGES = ("messages", "conversations", "conversation", "turns", "dialogue")


def _batches(stream: IO[bytes], kind: str, batch_rows: int) -> Iterator[Any]:
    if kind == "parquet":
        import pyarrow.parquet as pq

        # bounded buffers: no pre-buffering of whole row groups, column chunks read through
        # a 1 MiB buffered stream (a large row group otherwise sits in memory at once)
        parquet = pq.ParquetFile(stream, pre_buffer=False, buffer_size=1 << 20)
        yield from parquet.iter_batches(batch_size=batch_rows)
    else:
        import pyarrow.csv as pcsv

        yield from pcsv.open_csv(stream, read_options=pcsv.ReadOptions(block_size=1 << 22))


def _find(names: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {n.lower(): n for n in names}
    return next((lower[w] for w in wanted if w in lower), None)


def _messages_column(batch: Any) -> str | None:
    """The column whose first non-null value is a JSON list of message objects."""
    names = list(batch.schema.names)
    ordered = [n for n in names if n.lower() in _MESSAGES] + names
    for name in ordered:
        for value in batch.column(name).to_pylist()[:5]:
            if isinstance(value, str) and value.lstrip().startswith("["):
                try:
                    parsed = json.loads(value)
                except json.JSONDecodeError:
                    break
                if parsed and isinstance(parsed[0], dict) and (
                        "role" in parsed[0] or "from" in parsed[0]):
                    return str(name)
                break
            if isinstance(value, list):  # Parquet list<struct>
                if value and isinstance(value[0], dict):
                    return str(name)
                break
    return None


def iter_tabular(stream: IO[bytes], kind: str, source: str, *, batch_rows: int = 8192,
                 skip_bad: bool = False) -> Iterator[list[Row] | Skipped]:
    """Yield each conversation's tidy rows from a CSV (``kind="csv"``) or Parquet table."""
    try:
        yield from _iter(stream, kind, source, batch_rows, skip_bad)
    except EconError:
        raise
    except Exception as exc:  # pyarrow's own parse errors: name the file
        raise EconError(f"{source}: cannot read as {kind.upper()} ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from None


def _iter(stream: IO[bytes], kind: str, source: str, batch_rows: int,
          skip_bad: bool) -> Iterator[list[Row] | Skipped]:
    row0 = 1 if kind == "csv" else 0  # CSV rows are counted after the header line
    layout: tuple[str, ...] | None = None
    current: list[dict[str, Any]] = []
    current_id: str | None = None
    first_row = 0
    for batch in _batches(stream, kind, batch_rows):
        names = list(batch.schema.names)
        if layout is None:
            msgs = _messages_column(batch)
            if msgs is not None:
                layout = ("messages", msgs, _find(names, _ID) or "")
            else:
                role, text = _find(names, _ROLE), _find(names, _TEXT)
                if role is None or text is None:
                    raise EconError(f"{source}: no messages column (a JSON list of "
                                    "{role, content}) and no role and text columns; columns: "
                                    f"{', '.join(names)}")
                layout = ("rows", role, text, _find(names, _ID) or "",
                          _find(names, _TOKENS) or "")
        columns = {n: batch.column(n).to_pylist() for n in layout[1:] if n}
        for i in range(batch.num_rows):
            row0 += 1
            where = f"{source}:{row0}"
            if layout[0] == "messages":
                value = columns[layout[1]][i]
                if isinstance(value, str):
                    try:
                        value = json.loads(value)
                    except json.JSONDecodeError as exc:
                        if skip_bad:
                            yield Skipped("not valid JSON")
                            continue
                        raise EconError(f"{where}: {layout[1]}: not valid JSON ({exc.msg})"
                                        ) from None
                cid = str(columns[layout[2]][i]) if layout[2] else str(row0)
                key = "conversations" if isinstance(value, list) and value and isinstance(
                    value[0], dict) and "from" in value[0] else "messages"
                yield rows_or_skip({key: value, "id": cid}, where, cid, skip_bad=skip_bad)
                continue
            cid = str(columns[layout[3]][i]) if layout[3] else "1"
            if cid != current_id and current:
                yield _conversation(current, current_id or "", f"{source}:{first_row}",
                                    skip_bad)
                current = []
            if not current:
                first_row = row0
            current_id = cid
            tokens = columns[layout[4]][i] if layout[4] else None
            current.append({"role": columns[layout[1]][i], "content": columns[layout[2]][i],
                            "tokens": tokens})
    if current:
        yield _conversation(current, current_id or "", f"{source}:{first_row}", skip_bad)


def _conversation(msgs: list[dict[str, Any]], cid: str, where: str,
                  skip_bad: bool) -> list[Row] | Skipped:
    """A conversation's rows; a message's ``tokens`` column is its logged count."""
    return rows_or_skip({"messages": [{k: v for k, v in m.items() if v is not None}
                                      for m in msgs], "id": cid}, where, cid,
                        skip_bad=skip_bad)
