"""Where the traffic queries run: DuckDB embedded by default, any Ibis backend by URL.

Logs are first staged in an embedded DuckDB (``traffic_staged``: one row per message, with its
text): files DuckDB reads itself (``native``) go straight in, out of core; other files are read
in Python and arrive as bounded Arrow record batches. DuckDB spills to a temporary directory
past ``memory_limit``, so memory stays bounded on logs larger than RAM. Tokens missing from the
log are counted with tiktoken on a deterministic uniform sample of messages (all of them up to
``token_sample``). The engine's tables are then ``traffic_messages`` (no text),
``traffic_counted`` and, with text rules, ``traffic_conversations`` (user text). With
``--backend URL`` those tables are created on that Ibis backend and the queries run there.
In: paths and options. Out: ``Loaded`` Ibis tables for ``engine.summarise``.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.evidence.traffic.native import append_native, estimated_messages
from econ.evidence.traffic.stream import LogScan, message_schema
from econ.evidence.traffic.tokens import TOKENIZER, count_tokens

__all__ = ["Loaded", "connect", "load"]


@dataclass
class Loaded:
    backend: Any
    messages: Any
    conversations: Any | None
    counted: Any
    tokenizer: str
    skipped: int
    staging: Any = None
    workdir: tempfile.TemporaryDirectory[str] | None = None
    skipped_by_reason: dict[str, int] = field(default_factory=dict)

    def close(self) -> None:
        for con in (self.backend, self.staging):
            try:
                if con is not None:
                    con.disconnect()
            except Exception:  # a backend without a connection to close
                pass
        if self.workdir is not None:
            self.workdir.cleanup()


def _duckdb(memory_limit: str) -> tuple[Any, tempfile.TemporaryDirectory[str]]:
    import ibis

    workdir = tempfile.TemporaryDirectory(prefix="econ-traffic-")
    con = ibis.duckdb.connect()
    for setting in (f"memory_limit = '{memory_limit}'", f"temp_directory = '{workdir.name}'",
                    "preserve_insertion_order = false", "enable_progress_bar = false"):
        con.raw_sql(f"SET {setting}")
    return con, workdir


def connect(url: str) -> Any:
    """An Ibis backend from its URL (``polars://``, ``duckdb://path``, a warehouse URL)."""
    import ibis

    try:
        return ibis.connect(url)
    except Exception as exc:
        raise EconError(f"--backend {url}: cannot connect ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from None


def _append(raw: Any, table: str, batch: Any) -> None:
    raw.register("econ_batch", batch)
    try:
        raw.execute(f"INSERT INTO {table} SELECT * FROM econ_batch")
    finally:
        raw.unregister("econ_batch")


def load(paths: Sequence[Path], *, url: str | None = None, keep_text: bool = False,
         skip_bad: bool = False, limit: int | None = None, token_sample: int = 100_000,
         progress: Callable[[float, float], None] | None = None,
         memory_limit: str = "512MB") -> Loaded:
    """Stage the logs, count tokens, and hand the engine's tables on the chosen backend."""
    staging, workdir = _duckdb(memory_limit)
    try:
        return _load(staging, workdir, paths, url, keep_text, skip_bad, limit, token_sample,
                     progress)
    except BaseException:
        staging.disconnect()
        workdir.cleanup()
        raise


def _load(staging: Any, workdir: Any, paths: Sequence[Path], url: str | None, keep_text: bool,
          skip_bad: bool, limit: int | None, token_sample: int,
          progress: Callable[[float, float], None] | None) -> Loaded:
    import pyarrow as pa

    raw = staging.con
    empty = pa.Table.from_batches([], schema=message_schema())
    raw.register("econ_empty", empty)
    raw.execute("CREATE TABLE traffic_staged AS SELECT * FROM econ_empty")
    raw.unregister("econ_empty")
    conversations = messages = skipped = logged = 0
    reasons: Counter[str] = Counter()
    for path in paths:
        if not path.is_file():
            raise EconError(f"{path}: no such log file")
        native = (append_native(raw, path, conversations, messages,
                                text_rate=_text_rate(path, keep_text, token_sample))
                  if limit is None else None)
        if native is not None:
            conversations += native[0]
            messages += native[1]
            continue
        scan = LogScan([path], skip_bad=skip_bad,
                       limit=None if limit is None else limit - conversations,
                       first_conversation=conversations, first_message=messages,
                       progress=progress)
        for batch in scan.batches():
            _append(raw, "traffic_staged", batch)
        conversations += scan.conversations
        messages += scan.messages
        skipped += scan.skipped
        reasons.update(scan.skipped_by_reason)
        logged += scan.logged_tokens
        if limit is not None and conversations >= limit:
            break
    if conversations == 0:
        raise EconError(f"{', '.join(map(str, paths))}: no conversations in the logs")
    counted = _count(raw, token_sample)
    tokenizer = ("usage" if logged == messages else
                 TOKENIZER if logged == 0 else f"usage+{TOKENIZER}")
    raw.register("econ_counted", counted)
    raw.execute("CREATE TABLE traffic_counted AS SELECT * FROM econ_counted")
    raw.unregister("econ_counted")
    raw.execute("CREATE VIEW traffic_messages AS SELECT conversation, message, turn, role, "
                "tokens FROM traffic_staged")
    if keep_text:
        raw.execute("CREATE TABLE traffic_conversations AS SELECT conversation, "
                    "string_agg(text, chr(10) ORDER BY message) AS text FROM traffic_staged "
                    "WHERE role = 'user' GROUP BY conversation")
    names = ["traffic_messages", "traffic_counted"] + (["traffic_conversations"]
                                                       if keep_text else [])
    if url is None:
        con = staging
    else:  # hand the tidy tables (without message text) to the other backend
        con = connect(url)
        for name in names:
            con.create_table(name, raw.sql(f"SELECT * FROM {name}").arrow(),
                             overwrite=True)
    convs = con.table("traffic_conversations") if keep_text else None
    return Loaded(con, con.table("traffic_messages"), convs, con.table("traffic_counted"),
                  tokenizer, skipped, staging if con is not staging else None, workdir,
                  dict(sorted(reasons.items())))


def _text_rate(path: Path, keep_text: bool, token_sample: int) -> float:
    """Share of a natively read file's messages whose text to keep: all for text rules or a
    full count, else a quarter more than the token sample (the sample is then the smallest hashes of
    those kept, which are the smallest hashes overall)."""
    if keep_text or token_sample <= 0:
        return 1.0
    try:
        estimate = estimated_messages(path)
    except (OSError, EOFError):
        return 1.0
    return 1.0 if estimate <= 0 else min(1.0, 1.25 * token_sample / estimate)


def _count(raw: Any, token_sample: int) -> Any:
    """tiktoken counts of the messages without a logged count: every one up to token_sample,
    beyond that a deterministic uniform sample (the smallest hashes of the message ids)."""
    import pyarrow as pa

    limit = f"ORDER BY hash(message) LIMIT {token_sample}" if token_sample > 0 else ""
    rows = raw.execute("SELECT message, text FROM traffic_staged WHERE tokens IS NULL AND "
                       f"text IS NOT NULL {limit}").fetchall()
    return pa.table({"message": pa.array([m for m, _ in rows], pa.int64()),
                     "tokens": pa.array(count_tokens([t or "" for _, t in rows]), pa.int64())})
