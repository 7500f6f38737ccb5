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

__all__ = ["append_native", "estimated_messages", "text_kept"]

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


def estimated_messages(path: Path, head_bytes: int = 8 << 20) -> float:
    """Messages in a transcript file: counted in its first ``head_bytes`` (decompressed), scaled
    by the share of the file those took (exact when the head is the whole file)."""
    with path.open("rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if gz else raw
        head = stream.read(head_bytes)
        whole = len(head) < head_bytes
        used = max(raw.tell(), 1)
    lines = head.split(b"\n")
    if not whole:
        lines = lines[:-1]  # a cut line
    markers = sum(line.count(b"\\n\\nHuman:") + line.count(b"\\n\\nAssistant:")
                  for line in lines if b'"chosen"' in line)
    rejected = sum(line.count(b"\\n\\nHuman:") + line.count(b"\\n\\nAssistant:")
                   for line in lines if b'"rejected"' in line)
    # a line holds both transcripts; halve when both are there (a rough guide is enough)
    found = markers / 2 if rejected else markers
    return float(found) if whole else found * path.stat().st_size / used


def text_kept(text_rate: float) -> str:
    """SQL: the message keeps its text (a ``text_rate`` share, by a hash of ``message``).

    The token sample takes the smallest hashes as Ibis orders them: DuckDB's unsigned
    ``hash`` read as a signed integer, so flipping the top bit gives that order unsigned."""
    if text_rate >= 1:
        return "TRUE"
    return (f"xor(hash(message), 9223372036854775808::UBIGINT) <= "
            f"{int(text_rate * 18446744073709551615)}::UBIGINT")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def append_native(raw: Any, path: Path, first_conversation: int, first_message: int, *,
                  text_rate: float = 1.0, user_text: bool = False) -> tuple[int, int] | None:
    """Append ``path`` to ``traffic_staged`` if DuckDB can read it whole; (conversations,
    messages) appended, or None (nothing appended) to leave it to the Python readers.

    Only a ``text_rate`` share of messages (chosen by a hash of the message id, so uniformly)
    keep their text: storing every text costs as much as the rest of the scan, and only the
    token sample and text rules read it. ``user_text`` keeps every user message's text too
    (what text rules and text samples read)."""
    first = _first_record(path)
    if not (isinstance(first, dict) and isinstance(first.get("chosen"), str)
            and not {"messages", "conversations", "conversation"} & set(first)):
        return None
    src = f"read_json({_literal(str(path))}, columns={{'chosen': 'VARCHAR'}}, " \
          "format='newline_delimited')"
    # each marker becomes a separator plus the speaker's initial, then a plain split; a record
    # without blocks (or holding the separator itself) keeps one row of role NULL, so the check
    # below sends the file to the Python readers
    parts = f"""
        SELECT row_number() OVER () - 1 AS local,
               CASE WHEN len(p) > 0 AND NOT clash THEN p ELSE ['?'] END AS p FROM (
          SELECT contains(t, chr(30)) AS clash,
                 string_split(replace(replace(t, chr(10) || chr(10) || 'Human:', chr(30) || 'H'),
                                      chr(10) || chr(10) || 'Assistant:', chr(30) || 'A'),
                              chr(30))[2:] AS p
          FROM (SELECT CASE WHEN starts_with(chosen, chr(10) || chr(10)) THEN chosen
                            ELSE chr(10) || chr(10) || ltrim(chosen, chr(10)) END AS t
                FROM {src}))"""
    # turn = user blocks so far: (i + 1) // 2 when the blocks alternate from the human (nearly
    # always), else counted (real HH transcripts hold a few repeated speakers)
    flat = f"""
        SELECT local, part,
               CASE WHEN alternating THEN (i + 1) // 2
                    ELSE len(list_filter(p[1:i], lambda x: x[1] = 'H')) END AS turn
        FROM (SELECT local, p, alternating, unnest(p) AS part,
                     unnest(generate_series(1, len(p))) AS i
              FROM (SELECT local, p, list_bool_and(list_transform(p, lambda x, j:
                               x[1] = CASE WHEN j % 2 = 1 THEN 'H' ELSE 'A' END)) AS alternating
                    FROM ({parts})))"""
    keep = text_kept(text_rate)
    if user_text and text_rate < 1:  # text rules and samples read every user message
        keep = f"({keep} OR part[1] = 'H')"
    mine = f"conversation >= {first_conversation}"
    try:
        raw.execute(f"""
            INSERT INTO traffic_staged
            SELECT conversation, message, turn, role, NULL::BIGINT AS tokens,
                   CASE WHEN {keep} THEN trim(substr(part, 2), {_literal(_WHITESPACE)})
                   END AS text
            FROM (SELECT {first_conversation} + local AS conversation,
                         {first_message} - 1 + row_number() OVER () AS message, turn, part,
                         CASE part[1] WHEN 'H' THEN 'user' WHEN 'A' THEN 'assistant' END AS role
                  FROM ({flat}))""")
        row = raw.execute("SELECT count(*) FILTER (WHERE role IS NULL OR turn = 0), "
                          "count(DISTINCT conversation), count(*) FROM traffic_staged "
                          f"WHERE {mine}").fetchone()
    except Exception:  # DuckDB could not read it all: the Python readers say why
        row = None
    if row is None or row[0]:
        raw.execute(f"DELETE FROM traffic_staged WHERE {mine}")
        return None
    return int(row[1]), int(row[2])
