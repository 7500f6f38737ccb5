"""Where the traffic queries run: DuckDB embedded by default, any Ibis backend by URL.

DuckDB gets the streamed record batches one at a time (memory stays bounded: it spills to a
temporary directory past ``memory_limit``); a Parquet file already in the tidy layout is read by
DuckDB itself, out of core. Other backends (``--backend polars://``, a warehouse URL) receive
the tidy tables through Ibis ``create_table``.
In: a ``LogScan`` and a backend URL. Out: Ibis tables for ``engine.summarise``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

from econ.base.errors import EconError
from econ.evidence.traffic.stream import LogScan

__all__ = ["Loaded", "connect", "load"]


@dataclass
class Loaded:
    backend: Any
    messages: Any
    conversations: Any | None
    counted: Any
    workdir: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        try:
            self.backend.disconnect()
        except Exception:  # a backend without a connection to close
            pass
        if self.workdir is not None:
            self.workdir.cleanup()


def connect(url: str | None, memory_limit: str = "512MB") -> tuple[Any, Any]:
    """(Ibis backend, temporary directory or None)."""
    import ibis

    if url is None or url.startswith("duckdb://") and url.rstrip("/") == "duckdb:":
        workdir = tempfile.TemporaryDirectory(prefix="econ-traffic-")
        con = ibis.duckdb.connect()
        con.raw_sql(f"SET memory_limit = '{memory_limit}'")
        con.raw_sql(f"SET temp_directory = '{workdir.name}'")
        con.raw_sql("SET preserve_insertion_order = false")
        return con, workdir
    try:
        return ibis.connect(url), None
    except Exception as exc:
        raise EconError(f"--backend {url}: cannot connect ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from None


def load(scan: LogScan, url: str | None = None) -> Loaded:
    """Run the scan into the backend's tables ``traffic_messages`` (+ ``traffic_conversations``,
    ``traffic_counted``)."""
    import pyarrow as pa

    con, workdir = connect(url)
    duck = con.name == "duckdb"
    batches: list[Any] = []
    conv_batches: list[Any] = []
    created = False
    try:
        for mb, cb in scan.batches():
            if duck:
                _append(con.con, "traffic_messages", mb, created)
                if cb is not None:
                    _append(con.con, "traffic_conversations", cb, created)
                created = True
            else:
                batches.append(mb)
                if cb is not None:
                    conv_batches.append(cb)
        counted = scan.counted()
        if scan.conversations == 0:
            raise EconError(f"{', '.join(map(str, scan.paths))}: no conversations in the logs")
        if not duck:
            con.create_table("traffic_messages", pa.Table.from_batches(batches),
                             overwrite=True)
            if conv_batches:
                con.create_table("traffic_conversations",
                                 pa.Table.from_batches(conv_batches), overwrite=True)
        if duck:
            if not created:  # no rows at all is refused above; keep mypy's flow simple
                raise EconError("no conversations in the logs")
            _append(con.con, "traffic_counted", counted, False)
        else:
            con.create_table("traffic_counted", counted, overwrite=True)
        convs = con.table("traffic_conversations") if scan.keep_text else None
        return Loaded(con, con.table("traffic_messages"), convs, con.table("traffic_counted"),
                      workdir)
    except BaseException:
        try:
            con.disconnect()
        finally:
            if workdir is not None:
                workdir.cleanup()
        raise


def _append(raw: Any, table: str, batch: Any, exists: bool) -> None:
    raw.register("econ_batch", batch)
    try:
        raw.execute(f"INSERT INTO {table} SELECT * FROM econ_batch" if exists else
                    f"CREATE TABLE {table} AS SELECT * FROM econ_batch")
    finally:
        raw.unregister("econ_batch")
