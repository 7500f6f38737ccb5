r"""Logs DuckDB reads itself, out of core: HH-RLHF-style transcripts in JSON Lines (gz or not).

DuckDB parses the JSON, splits each ``chosen`` transcript at its ``\n\nHuman:`` /
``\n\nAssistant:`` markers and numbers turns, in parallel and spilling to disk past its memory
limit, with no Python per message. A file it cannot take as a whole (a bad line, a record of
another shape, a transcript that does not open with the human) is left to the Python readers,
which report the first problem with its file and line exactly as ever.
In: a DuckDB connection, a path and the first ids to use. Out: rows appended to the staging
table, or ``None`` when the file is left to the Python readers.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

__all__ = ["append_native"]

_WHITESPACE = " \t\n\r\x0b\x0c"


def _first_record(path: Path) -> Any:
    try:
        with path.open("rb") as raw:
            magic = raw.read(2)
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
            line = stream.readline(1 << 20)
        return json.loads(line.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, ValueError):
        return None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def append_native(raw: Any, path: Path, first_conversation: int,
                  first_message: int) -> tuple[int, int] | None:
    """Append ``path`` to ``traffic_staged`` if DuckDB can read it whole; (conversations,
    messages) appended, or None (nothing appended) to leave it to the Python readers."""
    first = _first_record(path)
    if not (isinstance(first, dict) and isinstance(first.get("chosen"), str)
            and not {"messages", "conversations", "conversation"} & set(first)):
        return None
    src = f"read_json({_literal(str(path))}, columns={{'chosen': 'VARCHAR'}}, " \
          "format='newline_delimited')"
    # a record without blocks keeps one row of role NULL, so the check below can see it
    parts = f"""
        SELECT row_number() OVER () - 1 AS local,
               CASE WHEN len(who) > 0 THEN who ELSE ['?'] END AS who,
               CASE WHEN len(who) > 0 THEN body ELSE [''] END AS body FROM (
          SELECT regexp_extract_all(t, '\\n\\n(Human|Assistant):', 1) AS who,
                 regexp_split_to_array(t, '\\n\\n(?:Human|Assistant):')[2:] AS body
          FROM (SELECT CASE WHEN starts_with(chosen, chr(10) || chr(10)) THEN chosen
                            ELSE chr(10) || chr(10) || ltrim(chosen, chr(10)) END AS t
                FROM {src}))"""
    mine = f"conversation >= {first_conversation}"
    try:
        raw.execute(f"""
            INSERT INTO traffic_staged
            SELECT {first_conversation} + local AS conversation,
                   {first_message} - 1 + row_number() OVER () AS message, turn,
                   CASE who WHEN 'Human' THEN 'user' WHEN 'Assistant' THEN 'assistant' END,
                   NULL::BIGINT AS tokens, trim(text, {_literal(_WHITESPACE)}) AS text
            FROM (SELECT local, unnest(who) AS who, unnest(body) AS text,
                         unnest(list_transform(generate_series(1, len(who)),
                                lambda i: len(list_filter(who[1:i], lambda x: x = 'Human')))) AS turn
                  FROM ({parts}))""")
        bad = raw.execute(f"SELECT count(*) FROM traffic_staged WHERE {mine} "
                          "AND (role IS NULL OR turn = 0)").fetchone()
        counts = raw.execute("SELECT count(DISTINCT conversation), count(*) FROM "
                             f"traffic_staged WHERE {mine}").fetchone()
    except Exception:  # DuckDB could not read it all: the Python readers say why
        bad = None
    if bad is None or bad[0] or counts is None:
        raw.execute(f"DELETE FROM traffic_staged WHERE {mine}")
        return None
    return (int(counts[0]), int(counts[1])) if counts else None
