"""Logs read where they live: a table on the engine (``--table``) or files the engine reads
itself (``--backend URL FILES``), normalised there, checked there, and kept there.

JSON Lines files (gzip too) are read with a schema fixed from their first record, so every
engine reads the same columns; Parquet files with their own schema. A conversation is keyed by
its file and the engine's row number (ids in logs repeat). Conversations econ cannot read (a
role it does not know, a reply before the first user message, no messages) are counted on the
engine; they fail the run with an example, or are skipped with a count under ``--skip-bad``.
The normalised messages are materialised once in the engine's temporary storage; nothing but
counts and one example crosses to the client.
In: an open ``Engine``, its ``Scratch``, a table name or paths. Out: the messages table.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.evidence.traffic.normalise import Layout, detect_layout, messages_of

__all__ = ["from_files", "from_table"]

_FILE_ENGINES = ("duckdb", "pyspark", "datafusion")


def _first_record(path: Path) -> Any:
    try:
        with path.open("rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            stream: Any = gzip.GzipFile(fileobj=raw) if gz else raw
            line = stream.readline(1 << 22)
        return json.loads(line.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, ValueError):
        return None


def _is_parquet(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"PAR1"
    except OSError:
        return False


def _json_layout(path: Path) -> tuple[Layout, dict[str, str]]:
    """The layout of a JSON Lines log from its first record, and the columns to read
    (name -> portable type: string, bigint, or messages ``array:role,text``)."""
    rec = _first_record(path)
    if not isinstance(rec, dict):
        raise EconError(f"{path}:1: the engine reads JSON Lines of conversation records; the "
                        "first line is not one")
    for name, role, text in (("messages", "role", "content"), ("conversations", "from", "value"),
                             ("conversation", "role", "content")):
        if isinstance(rec.get(name), list):
            cols = {name: f"array:{role},{text}", "usage": "usage"}
            return Layout("array", {"messages": name, "role": role, "text": text,
                                    "conversation": "", "tokens": "", "usage": "usage"}), cols
    for name in ("chosen", "transcript"):
        if isinstance(rec.get(name), str):
            return Layout("transcript", {"transcript": name}), {name: "string"}
    raise EconError(f"{path}:1: record has no messages (expected one of messages, "
                    "conversations, conversation, chosen)")


def _read_json(engine: Any, scratch: Any, path: Path, cols: dict[str, str]) -> Any:
    if engine.kind == "duckdb":
        types = {}
        for name, kind in cols.items():
            if kind.startswith("array:"):
                role, text = kind[6:].split(",")
                types[name] = f'STRUCT("{role}" VARCHAR, "{text}" VARCHAR)[]'
            elif kind == "usage":
                types[name] = "STRUCT(completion_tokens BIGINT)"
            else:
                types[name] = "VARCHAR"
        return scratch.read(path, "json", columns=types, format="newline_delimited")
    ddl = []
    for name, kind in cols.items():
        if kind.startswith("array:"):
            role, text = kind[6:].split(",")
            ddl.append(f"`{name}` ARRAY<STRUCT<`{role}`: STRING, `{text}`: STRING>>")
        elif kind == "usage":
            ddl.append(f"`{name}` STRUCT<completion_tokens: BIGINT>")
        else:
            ddl.append(f"`{name}` STRING")
    return scratch.read(path, "json", schema=", ".join(ddl))


def _row_key(engine: Any, table: Any) -> tuple[Any, Any]:
    """(table with a row number column ``econ_row``, that column)."""
    import ibis

    if engine.kind == "pyspark":  # a global row_number() would gather every row on one node
        name = table.get_name()
        keyed = engine.backend.sql(f"SELECT *, monotonically_increasing_id() AS econ_row "
                                   f"FROM `{name}`")
    else:
        keyed = table.mutate(econ_row=ibis.row_number())
    return keyed, keyed.econ_row


def from_files(engine: Any, scratch: Any, paths: Sequence[Path],
               columns: Mapping[str, str]) -> Any:
    """Normalised messages of log files read by the engine itself."""
    import ibis

    if engine.kind not in _FILE_ENGINES:
        raise EconError(f"--backend {engine.kind}: this engine reads no files itself; load the "
                        "logs into a table and pass --table NAME (or drop --backend)")
    parts = []
    for index, path in enumerate(paths):
        if not path.is_file():
            raise EconError(f"{path}: no such log file")
        if _is_parquet(path):
            table = scratch.read(path.resolve(), "parquet")
            layout = detect_layout(table.schema(), columns, str(path))
        elif path.suffix.lower() == ".csv":
            raise EconError(f"{path}: engines read JSON Lines and Parquet logs; CSV is read by "
                            "econ itself (drop --backend)")
        else:
            layout, cols = _json_layout(path)
            table = _read_json(engine, scratch, path.resolve(), cols)
        keyed, key = (table, None) if layout.kind == "rows" else _row_key(engine, table)
        parts.append(messages_of(keyed, layout, key, str(index)))
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def from_table(engine: Any, scratch: Any, name: str, columns: Mapping[str, str]) -> Any:
    """Normalised messages of a table (or view) on the engine."""
    try:
        table = engine.backend.table(name)
    except Exception:
        raise EconError(f"--table {name}: no such table on the backend") from None
    layout = detect_layout(table.schema(), columns, f"--table {name}")
    key = None
    if layout.kind != "rows":
        ident = layout.columns.get("conversation")
        if ident:
            key = table[ident]
        else:
            table, key = _row_key(engine, table)
    return messages_of(table, layout, key, "t")


def checked(messages: Any, where: str, skip_bad: bool) -> tuple[Any, int]:
    """(messages without the conversations econ cannot read, how many those were); without
    ``skip_bad`` the first such conversation fails the run, and so does a log without any."""
    m = messages
    per = m.group_by("conversation").aggregate(
        unknown=m.role.isnull().cast("int64").sum(),
        first_user=m.message.min(where=m.role == "user"),
        first_reply=m.message.min(where=m.role == "assistant"))
    is_bad = (per.unknown > 0) | per.first_user.isnull() | (per.first_reply < per.first_user)
    rows = per.aggregate(total=per.count(), n=is_bad.cast("int64").sum(),
                         example=per.conversation.min(where=is_bad)).to_pyarrow().to_pylist()
    total = int(rows[0]["total"] or 0) if rows else 0
    n = int(rows[0]["n"] or 0) if rows else 0
    if total == 0 or (skip_bad and n == total):
        raise EconError(f"{where}: no conversations in the logs"
                        + (f" ({n:,} skipped)" if n else ""))
    if n == 0:
        return messages, 0
    if not skip_bad:
        example = str(rows[0]["example"]).partition(":")[2]
        raise EconError(f"{where}: {n:,} conversation(s) econ cannot read (a role it does not "
                        "know, no user message, or a reply before the first user message), "
                        f"e.g. conversation {example}; pass --skip-bad to skip them with a count")
    return m.anti_join(per.filter(is_bad).select("conversation"), "conversation"), n
