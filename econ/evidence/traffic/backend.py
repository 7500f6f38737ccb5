"""Where the traffic queries run, and how the logs get there.

- **Embedded DuckDB** (the default): logs are staged in a private in-memory DuckDB
  (``traffic_staged``, one row per message with its text): files DuckDB reads itself
  (transcripts: ``native``; chat logs in JSON Lines or Parquet: ``native_chat``) go straight
  in, out of core; others are read in Python and arrive as bounded Arrow record batches.
  DuckDB spills past ``memory_limit``, so memory stays bounded.
- **In place** (``--backend URL --table NAME`` or ``--backend URL FILES``): the engine reads
  the table or the files itself and normalises them (``source``); nothing is uploaded.
- **Polars** (``--backend polars://``): an in-process engine without window functions, so econ
  reads the files and hands Polars the normalised messages in memory.

Every object created on an engine goes through the run's ``Scratch`` and is dropped on
``close`` (also on failure).
In: paths or a table name, and options. Out: ``Loaded`` (engine, scratch, prepared messages).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.evidence.traffic.capped import check_gzip_head, check_parquet, watch_gzip
from econ.evidence.traffic.connect import Engine, embedded, open_engine
from econ.evidence.traffic.engine import Prepared
from econ.evidence.traffic.native import append_native, estimated_messages
from econ.evidence.traffic.native_chat import append_chat, estimated_chat_messages
from econ.evidence.traffic.scratch import Scratch
from econ.evidence.traffic.stream import LogScan, message_schema

__all__ = ["Loaded", "load"]

Progress = Callable[[str, float, float], None]


@dataclass
class Loaded:
    engine: Engine
    scratch: Scratch
    prepared: Prepared
    others: list[Engine] = field(default_factory=list)  # the staging DuckDB of a hand-off

    def close(self) -> None:
        try:
            self.scratch.close()
        finally:
            for e in (self.engine, *self.others):
                e.close()


def load(paths: Sequence[Path], *, url: str | None = None, table: str | None = None,
         columns: Mapping[str, str] | None = None, keep_text: bool = False,
         skip_bad: bool = False, limit: int | None = None, token_sample: int = 100_000,
         progress: Progress | None = None, memory_limit: str = "512MB") -> Loaded:
    """Open the engine and prepare the normalised messages on it."""
    engine = open_engine(url, memory_limit) if url else embedded(memory_limit)
    scratch = Scratch(engine.backend)
    others: list[Engine] = []
    try:
        if progress is not None:
            progress("read", 0, 1)
        if url is None:
            prepared = _staged(engine, paths, keep_text, skip_bad, limit, token_sample, progress)
        elif table is None and engine.kind == "polars":
            staging = embedded(memory_limit)
            others.append(staging)
            staged = _staged(staging, paths, keep_text, skip_bad, limit, token_sample, progress)
            handed = scratch.hand(staged.messages.to_pyarrow())
            prepared = Prepared(handed, True, staged.skipped, staged.skipped_by_reason)
        else:
            prepared = _in_place(engine, scratch, paths, table, columns or {}, skip_bad, limit)
        if progress is not None:
            progress("read", 1, 1)
        return Loaded(engine, scratch, prepared, others)
    except BaseException:
        try:
            scratch.close()
        finally:
            for e in (engine, *others):
                e.close()
        raise


def _in_place(engine: Engine, scratch: Scratch, paths: Sequence[Path], table: str | None,
              columns: Mapping[str, str], skip_bad: bool, limit: int | None) -> Prepared:
    from econ.evidence.traffic.source import checked, from_files, from_table

    if table is not None:
        if paths:
            raise EconError("--table reads a table on the backend: give no log files with it")
        messages, where = from_table(engine, scratch, table, columns), f"--table {table}"
    else:
        messages, where = from_files(engine, scratch, paths, columns), \
            ", ".join(map(str, paths))
    if limit is not None:  # --sample: N conversations (the smallest keys: a quick look)
        keys = messages.select("conversation").distinct().order_by("conversation").limit(limit)
        messages = messages.semi_join(keys, "conversation")
    messages = scratch.materialise(messages)
    messages, skipped = checked(messages, where, skip_bad)
    return Prepared(messages, False, skipped,
                    {"unreadable conversation": skipped} if skipped else {})


def _append(raw: Any, table: str, batch: Any) -> None:
    raw.register("econ_batch", batch)
    try:
        raw.execute(f"INSERT INTO {table} SELECT * FROM econ_batch")
    finally:
        raw.unregister("econ_batch")


def _staged(engine: Engine, paths: Sequence[Path], keep_text: bool, skip_bad: bool,
            limit: int | None, token_sample: int, progress: Progress | None) -> Prepared:
    """Read the logs into the embedded DuckDB's ``traffic_staged``."""
    import pyarrow as pa

    raw = engine.backend.con
    empty = pa.Table.from_batches([], schema=message_schema())
    raw.register("econ_empty", empty)
    raw.execute("CREATE TABLE traffic_staged AS SELECT * FROM econ_empty")
    raw.unregister("econ_empty")
    conversations = messages = skipped = 0
    reasons: Counter[str] = Counter()

    def tick(done: float, total: float) -> None:
        if progress is not None:
            progress("read", done, total)

    for path in paths:
        if not path.is_file():
            raise EconError(f"{path}: no such log file")
        native = None
        if limit is None:  # transcripts, then chat logs, DuckDB reads whole, or Python does
            check_gzip_head(path, str(path))  # DuckDB inflates a gzip itself: a bomb stops here
            check_parquet(path, str(path))  # or a Parquet page
            with watch_gzip(path, str(path), raw.interrupt):  # and past the head, while it reads
                native = append_native(raw, path, conversations, messages,
                                       text_rate=_text_rate(path, token_sample),
                                       user_text=keep_text)
                if native is None:
                    native = append_chat(raw, path, conversations, messages,
                                         text_rate=_text_rate(path, token_sample, chat=True),
                                         user_text=keep_text)
        if native is not None:
            conversations += native[0]
            messages += native[1]
            continue
        scan = LogScan([path], skip_bad=skip_bad,
                       limit=None if limit is None else limit - conversations,
                       first_conversation=conversations, first_message=messages,
                       progress=tick)
        for batch in scan.batches():
            _append(raw, "traffic_staged", batch)
        conversations += scan.conversations
        messages += scan.messages
        skipped += scan.skipped
        reasons.update(scan.skipped_by_reason)
        if limit is not None and conversations >= limit:
            break
    if conversations == 0:
        raise EconError(f"{', '.join(map(str, paths))}: no conversations in the logs")
    return Prepared(engine.backend.table("traffic_staged"), True, skipped,
                    dict(sorted(reasons.items())))


def _text_rate(path: Path, token_sample: int, *, chat: bool = False) -> float:
    """Share of a natively read file's messages whose text to keep (besides the user messages'
    under text rules): all for a full count, else a quarter more than the token sample (the
    sample is then the smallest hashes of those kept, which are the smallest hashes overall)."""
    if token_sample <= 0:
        return 1.0
    try:
        estimate = estimated_chat_messages(path) if chat else estimated_messages(path)
    except (OSError, EOFError, zlib.error):
        return 1.0
    return 1.0 if estimate <= 0 else min(1.0, 1.25 * token_sample / estimate)
