"""Chat logs DuckDB reads itself, out of core: OpenAI-style ``messages``, ShareGPT
``conversations`` and WildChat ``conversation`` records, in JSON Lines (gz or not) or Parquet
(a list-of-structs column).

DuckDB parses the records with a fixed schema, maps the roles to econ's classes, numbers the
turns and checks the order, in parallel and spilling past its memory limit, with no Python per
message. It takes the common shape only: string (or null) contents, a string top-level
``system``, roles :mod:`.messages` knows. A file holding anything else (content parts, tool
calls, logged token counts, ``usage``, images, tool definitions, a bad line or a conversation
out of order) is left whole to the Python readers, which read it, or report the first problem
with its file and line (or skip it under ``--skip-bad``), exactly as ever. On the files it
takes, the rows are those of the Python readers, numbered the same way.
In: a DuckDB connection, a path and the first ids to use. Out: rows appended to the staging
table, or ``None`` when the file is left to the Python readers.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from econ.evidence.traffic.native import text_kept

__all__ = ["append_chat", "estimated_chat_messages"]

# (records' key, role field, text field), in the order the Python readers try them
_KEYS = (("messages", "role", "content"), ("conversations", "from", "value"),
         ("conversation", "role", "content"))
_MESSAGE_COLUMNS = ("messages", "conversations", "conversation", "turns", "dialogue")
# roles as :data:`econ.evidence.traffic.messages._ROLES` maps them, as one code letter each
_CODES = {"human": "u", "user": "u", "gpt": "a", "assistant": "a", "chatgpt": "a",
          "bing": "a", "system": "s", "developer": "s", "tool": "t", "function": "t",
          "observation": "t", "ipython": "t", "function_call": "c"}
_CLASS = {"u": "user", "a": "assistant", "s": "system", "t": "tool", "c": "tool_call"}
# a conversation longer than this whose roles do not simply alternate numbers its turns in
# quadratic time: left to the Python readers
_LONG = 2048
_USAGE = "STRUCT(completion_tokens JSON, output_tokens JSON)"


def _count(value: str) -> str:
    """A logged count as the Python readers take it: a JSON number, truncated (not a bool);
    a negative one as -1, which leaves the file to the Python readers (they refuse it)."""
    return (f"CASE WHEN json_type({value}) IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
            f"THEN CASE WHEN {value}::DOUBLE < 0 THEN -1 ELSE trunc({value}::DOUBLE)::BIGINT END "
            "END")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(path: Path) -> bytes | None:
    try:
        with path.open("rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            stream: Any = gzip.GzipFile(fileobj=raw) if gz else raw
            line: bytes = stream.readline(1 << 20)
        return line
    except (OSError, EOFError):
        return None


def _json_source(path: Path) -> tuple[str, str, str, str] | None:
    """(FROM clause, records' key, role field, text field) of a JSON Lines chat log, or None."""
    line = _first_line(path)
    if line is None or line[:4] == b"PAR1":
        return None
    try:
        first = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):  # a BOM, a cut line, not JSON: Python says why
        return None
    if not isinstance(first, dict):
        return None
    key = next((k for k in _KEYS if k[0] in first), None)
    if key is None or not isinstance(first[key[0]], list):
        return None
    name, role, text = key
    before = [k[0] for k in _KEYS[:_KEYS.index(key)]]  # a record holding one is read by it
    message = (f"STRUCT({_ident(role)} VARCHAR, {_ident(text)} JSON, tool_calls JSON, "
               "function_call JSON, tokens JSON)[]")
    columns = {name: message, **{k: "JSON" for k in (*before, "system", "tools", "functions",
                                                      "images", "image")}, "usage": _USAGE}
    spec = ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in columns.items())
    src = f"read_json({_literal(str(path))}, format='newline_delimited', columns={{{spec}}})"
    # a record holding a key the Python readers try first is read by it: not here
    clash = " OR ".join(f"{_ident(k)} IS NOT NULL" for k in before) or "FALSE"
    return f"(SELECT *, {clash} AS clash FROM {src})", name, role, text


def _parquet_source(raw: Any, path: Path) -> tuple[str, str, str, str] | None:
    """The same for a Parquet log of one conversation a row in a list-of-structs column whose
    structs hold only a role and a string text (what the Python readers would pick)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception:
        return None
    names = [n for n in schema.names if n.lower() in _MESSAGE_COLUMNS]
    if not names:
        return None
    kind = schema.field(names[0]).type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)) or \
            not pa.types.is_struct(kind.value_type):
        return None
    fields = {f.name: f.type for f in kind.value_type}
    role, text = ("from", "value") if "from" in fields else ("role", "content")
    if set(fields) != {role, text} or not all(
            pa.types.is_string(t) or pa.types.is_large_string(t) for t in fields.values()):
        return None
    src = f"read_parquet({_literal(str(path))})"
    col = _ident(names[0])
    try:  # the Python readers take the column when its first row holds messages
        first = raw.execute(f"SELECT len({col}) FROM {src} LIMIT 1").fetchone()
    except Exception:
        return None
    if first is None or not first[0]:
        return None
    empty = "NULL::JSON"
    columns = (f"{col} AS ms, {empty} AS system, {empty} AS tools, {empty} AS functions, "
               f"{empty} AS images, {empty} AS image, NULL::{_USAGE} AS usage, "
               "FALSE AS clash")
    return f"(SELECT {columns} FROM {src})", "ms", role, text


def _records_sql(src: str, key: str, role: str, text: str, parquet: bool) -> str:
    """One row per record: its number, messages, top-level system text, role codes, and
    whether DuckDB takes it (``ok``)."""
    r, t = _ident(role), _ident(text)
    lowered = f"lower(x.{r})"
    code = "CASE " + " ".join(f"WHEN {lowered} = {_literal(k)} THEN {_literal(v)}"
                              for k, v in _CODES.items()) + " ELSE '?' END"
    # a null text: an assistant, system or tool-call message says nothing (no row, code '-')
    plain = ("TRUE" if parquet else
             f"(x.{t} IS NULL OR starts_with(x.{t}::VARCHAR, '\"')) AND x.tool_calls IS NULL "
             "AND x.function_call IS NULL")
    emitted = (f"CASE WHEN x.{t} IS NULL AND ({code}) IN ('a', 's', 'c') THEN '-' "
               f"ELSE {code} END")
    ms = _ident(key)
    return f"""
        SELECT local, ms, sys, codes, reply_tokens,
               length(rtrim(codes, '-')) AS last,
               regexp_matches(replace(codes, '-', ''), '(^|[^ac])[ac]$') AS one_reply,
               ok AND NOT contains(codes, '?') AND starts_with(turns, 'u')
                  AND NOT contains(turns, 'uu') AND NOT contains(turns, 'aa')
                  AND NOT contains(turns, 'ut')
                  AND (alternating OR len(ms) <= {_LONG}) AS ok,
               alternating, CASE WHEN starts_with(codes, 's') THEN 1 ELSE 0 END AS lead
        FROM (SELECT *, replace(replace(codes, 's', ''), '-', '') AS turns,
                     regexp_full_match(codes, 's?(ua)*u?') AS alternating
              FROM (SELECT row_number() OVER () AS local, {ms} AS ms,
                           CASE WHEN json_type(system) = 'VARCHAR' THEN system ->> '$' END AS sys,
                           coalesce(len({ms}) > 0, FALSE) AND NOT clash
                             AND (system IS NULL OR json_type(system) = 'VARCHAR')
                             AND tools IS NULL AND functions IS NULL AND images IS NULL
                             AND image IS NULL
                             AND (usage.completion_tokens IS NOT NULL
                                  OR usage.output_tokens IS NULL)
                             AND coalesce(list_bool_and(list_transform({ms}, lambda x:
                                 coalesce({plain}, FALSE))), FALSE) AS ok,
                           {_count("usage.completion_tokens")} AS reply_tokens,
                           coalesce(array_to_string(list_transform({ms}, lambda x: {emitted}),
                                                    ''), '') AS codes
                    FROM {src}))"""


def append_chat(raw: Any, path: Path, first_conversation: int, first_message: int, *,
                text_rate: float = 1.0, user_text: bool = False) -> tuple[int, int] | None:
    """Append ``path`` to ``traffic_staged`` if DuckDB can read it whole; (conversations,
    messages) appended, or None (nothing appended) to leave it to the Python readers.

    ``text_rate`` and ``user_text`` as in :func:`.native.append_native`: only that share of
    messages (by a hash of the message id) keeps its text, and every user message with
    ``user_text``."""
    parquet = _is_parquet(path)
    got = _parquet_source(raw, path) if parquet else _json_source(path)
    if got is None:
        return None
    src, key, role, text = got
    records = _records_sql(src, key, role, text, parquet)
    t = _ident(text)
    value = f"m.{t}" if parquet else f"m.{t} ->> '$'"
    code = "substr(codes, i, 1)"
    # i = 0 is the top-level system prompt; turns count the user messages so far
    flat = f"""
        SELECT local, i, CASE WHEN NOT ok THEN NULL WHEN i = 0 THEN 's' ELSE {code} END AS c,
               CASE WHEN i = 0 OR {code} = 's' THEN 0
                    WHEN alternating THEN (i - lead + 1) // 2
                    ELSE length(codes[1:i]) - length(replace(codes[1:i], 'u', '')) END AS turn,
               CASE WHEN i = 0 THEN sys ELSE coalesce({value}, '') END AS body,
               CASE WHEN i = 0 THEN NULL
                    WHEN i = last AND one_reply AND reply_tokens IS NOT NULL THEN reply_tokens
                    ELSE {"NULL" if parquet else _count("m.tokens")} END AS tokens
        FROM (SELECT *, CASE WHEN ok AND i > 0 THEN ms[i] END AS m
              FROM (SELECT local, ms, sys, codes, ok, alternating, lead, reply_tokens, last,
                           one_reply,
                           unnest(generate_series(CASE WHEN ok AND coalesce(sys, '') <> ''
                                                       THEN 0 ELSE 1 END,
                                                  CASE WHEN ok THEN len(ms) ELSE 1 END)) AS i
                    FROM ({records})))
        WHERE c IS NULL OR c <> '-'"""
    keep = text_kept(text_rate)
    if user_text and text_rate < 1:  # text rules and samples read every user message
        keep = f"({keep} OR role = 'user')"
    roles = "CASE c " + " ".join(f"WHEN {_literal(k)} THEN {_literal(v)}"
                                 for k, v in _CLASS.items()) + " END"
    mine = f"conversation >= {first_conversation}"
    try:
        raw.execute(f"""
            INSERT INTO traffic_staged
            SELECT conversation, message, turn, role, tokens,
                   CASE WHEN {keep} THEN body END AS text
            FROM (SELECT {first_conversation} - 1 + local AS conversation,
                         {first_message} - 1 + row_number() OVER () AS message, turn,
                         {roles} AS role, body, tokens
                  FROM ({flat}))""")
        # a negative count is refused by the Python readers, with its line: left to them
        row = raw.execute("SELECT count(*) FILTER (WHERE role IS NULL OR tokens < 0), "
                          f"max(conversation) - {first_conversation} + 1, count(*) "
                          f"FROM traffic_staged WHERE {mine}").fetchone()
    except Exception:  # DuckDB could not read it all: the Python readers say why
        row = None
    if row is None or row[0] or not row[2]:
        raw.execute(f"DELETE FROM traffic_staged WHERE {mine}")
        return None
    return int(row[1]), int(row[2])


def estimated_chat_messages(path: Path, head_bytes: int = 8 << 20) -> float:
    """Messages in a chat log: role fields counted in its first ``head_bytes`` (decompressed),
    scaled by the share of the file those took (exact when the head is the whole file); a
    Parquet log's from its row count and first row group. 0 when unknown."""
    if _is_parquet(path):
        return _parquet_messages(path)
    with path.open("rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream: Any = gzip.GzipFile(fileobj=raw) if gz else raw
        head = stream.read(head_bytes)
        whole = len(head) < head_bytes
        used = max(raw.tell(), 1)
    if not whole:
        head = head[:head.rfind(b"\n") + 1]  # a cut line
    found = head.count(b'"role":') + head.count(b'"from":')
    return float(found) if whole else found * path.stat().st_size / used


def _parquet_messages(path: Path) -> float:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        names = [n for n in parquet.schema_arrow.names if n.lower() in _MESSAGE_COLUMNS]
        if not names or parquet.metadata.num_rows == 0:
            return 0.0
        first = next(parquet.iter_batches(batch_size=8192, columns=[names[0]])).column(0)
        per_row = float(pc.sum(pc.list_value_length(first)).as_py() or 0) / max(len(first), 1)
        return per_row * float(parquet.metadata.num_rows)
    except Exception:
        return 0.0


def _is_parquet(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"PAR1"
    except OSError:
        return False
