"""Connections to the engines ``econ traffic`` runs on, opened and closed without side effects.

- embedded DuckDB (the default): in memory, ``memory_limit`` with spilling to a private
  temporary directory;
- ``duckdb:///file.ddb`` and other Ibis URLs (``polars://``): through
  ``ibis.connect``; a DuckDB file gets the same memory limit for this session only;
- ``pyspark://`` (``?spark.master=local[2]&spark.driver.memory=2g``…): the active Spark session
  when there is one (left running), else a local one econ starts and stops, whose warehouse,
  scratch space and logs live in the private temporary directory, never the current one.
A database file a ``duckdb://`` or ``sqlite://`` URL names that did not exist before econ
connected (the engine created it) is removed on close, with its write-ahead log: econ leaves
no file behind, whether the run succeeded or failed.
In: a URL. Out: an open ``Engine`` (the Ibis backend, its kind, and ``close``).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from econ.base.errors import EconError

__all__ = ["Engine", "embedded", "open_engine"]

_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %c: %m%n
"""


@dataclass
class Engine:
    backend: Any
    kind: str  # ibis backend name: duckdb, polars, pyspark, postgres, …
    workdir: tempfile.TemporaryDirectory[str]
    session: Any = None  # a Spark session econ started (stopped on close)
    embedded: bool = False
    borrowed: bool = False  # a session that was running already: left running
    created: tuple[Path, ...] = ()  # database files the connection created: removed on close

    def close(self) -> None:
        try:
            if self.session is not None:
                self.session.stop()
            elif not self.borrowed:
                self.backend.disconnect()
        except Exception:  # a backend without a connection to close
            pass
        self.workdir.cleanup()
        _remove(self.created)


def _database_file(url: str) -> Path | None:
    """The file a ``duckdb://`` or ``sqlite://`` URL names (None: in memory or not a file)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("duckdb", "sqlite"):
        return None
    name = (parts.netloc + parts.path) if parts.netloc not in ("", "localhost") else parts.path
    return Path(name) if name and name != ":memory:" else None


def _remove(files: tuple[Path, ...]) -> None:
    for f in files:
        for p in (f, f.with_name(f.name + ".wal"), f.with_name(f.name + "-journal")):
            p.unlink(missing_ok=True)


def _workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="econ-traffic-")


def _duckdb_settings(con: Any, memory_limit: str, workdir: str) -> None:
    for setting in (f"memory_limit = '{memory_limit}'", f"temp_directory = '{workdir}'",
                    "enable_progress_bar = false"):
        con.raw_sql(f"SET {setting}")


def embedded(memory_limit: str) -> Engine:
    """An in-memory DuckDB that spills past ``memory_limit`` into a private directory."""
    import ibis

    workdir = _workdir()
    con = ibis.duckdb.connect()
    _duckdb_settings(con, memory_limit, workdir.name)
    con.raw_sql("SET preserve_insertion_order = false")
    return Engine(con, "duckdb", workdir, embedded=True)


def open_engine(url: str, memory_limit: str) -> Engine:
    """The engine behind ``--backend URL``."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "pyspark":
        return _spark(url)
    import ibis

    workdir = _workdir()
    file = _database_file(url)
    created = (file,) if file is not None and not file.exists() else ()
    try:
        con = ibis.connect(url)
    except Exception as exc:
        workdir.cleanup()
        _remove(created)
        raise EconError(f"--backend {url}: cannot connect ({_reason(exc)})") from None
    engine = Engine(con, con.name, workdir, created=created)
    if con.name == "duckdb":
        try:
            _duckdb_settings(con, memory_limit, workdir.name)
        except BaseException:
            engine.close()
            raise
    return engine


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _spark(url: str) -> Engine:
    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError:
        raise EconError("--backend pyspark://: PySpark is not installed "
                        "(pip install 'pyspark>=3.5,<4.1')") from None
    active = SparkSession.getActiveSession()
    workdir = _workdir()
    if active is not None:
        return Engine(ibis.pyspark.connect(active), "pyspark", workdir, borrowed=True)
    if shutil.which("java") is None and not _java_home():
        workdir.cleanup()
        raise EconError("--backend pyspark://: no Java runtime found (install a headless JRE, "
                        "e.g. apt-get install default-jre-headless, or set JAVA_HOME)")
    root = Path(workdir.name)
    (root / "log4j2.properties").write_text(_LOG4J)
    conf = {"spark.master": "local[*]", "spark.app.name": "econ-traffic",
            "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
            "spark.sql.warehouse.dir": str(root / "warehouse"),
            "spark.local.dir": str(root / "local"),
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": "8",  # local mode: 200 tiny tasks per shuffle
            "spark.driver.memory": "2g",
            "spark.driver.extraJavaOptions":
                f"-Dderby.system.home={root} -Dlog4j2.configurationFile="
                f"file:{root / 'log4j2.properties'}"}
    conf.update({k: v for k, v in parse_qsl(urlsplit(url).query)})
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        workdir.cleanup()
        raise EconError(f"--backend {url}: Spark did not start ({_reason(exc)})") from None
    session.sparkContext.setLogLevel("ERROR")
    return Engine(ibis.pyspark.connect(session), "pyspark", workdir, session=session)


def _java_home() -> bool:
    import os

    home = os.environ.get("JAVA_HOME")
    return home is not None and (Path(home) / "bin" / "java").exists()
