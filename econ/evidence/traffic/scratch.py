"""What econ creates on an engine, and nothing else: uniquely named, dropped at the end.

Every table or view a run needs on the user's engine (the files it registers, the normalised
messages, the per-conversation assignment) is created here under a fresh name
(``econ_tmp_<random>_<what>``), after checking that no object of that name exists, and dropped
by :meth:`Scratch.close` whether the run succeeded or failed. Materialised results use the
engine's own temporary storage (a DuckDB temporary table, a cached Spark DataFrame), so
nothing reaches the user's catalog or the current directory.
In: an Ibis backend. Out: Ibis tables bound to it.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from econ.base.errors import EconError

__all__ = ["Scratch"]


@dataclass
class Scratch:
    con: Any
    prefix: str = field(default_factory=lambda: f"econ_tmp_{secrets.token_hex(5)}")
    views: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # in-memory tables handed to the engine
    cached: list[Any] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)

    def name(self, what: str) -> str:
        name = f"{self.prefix}_{what}"
        if name in self.taken or name in self._existing():
            raise EconError(f"{name}: a table of that name exists already; econ never "
                            "replaces a table it did not create")
        self.taken.add(name)
        return name

    def _existing(self) -> set[str]:
        try:
            return set(self.con.list_tables())
        except Exception:  # a backend that cannot list: the random name is enough
            return set()

    def read(self, path: Path | str, kind: str, **options: Any) -> Any:
        """Register a file the engine reads itself (``json`` or ``parquet``) as a view."""
        name = self.name(f"src{len(self.views)}")
        reader = self.con.read_json if kind == "json" else self.con.read_parquet
        self.views.append(name)
        return reader(str(path), table_name=name, **options)

    def hand(self, data: Any) -> Any:
        """An in-memory table (Arrow) given to an in-process engine (Polars)."""
        name = self.name(f"handed{len(self.tables)}")
        self.tables.append(name)
        return self.con.create_table(name, data)

    def materialise(self, expr: Any) -> Any:
        """``expr`` computed once into the engine's temporary storage."""
        table = expr.cache()
        self.cached.append(table)
        return table

    def close(self) -> None:
        """Drop everything created here (views first read last); errors of one drop do not
        stop the others."""
        for table in reversed(self.cached):
            with contextlib.suppress(Exception):
                table.release()
        self.cached.clear()
        for name in reversed(self.tables):
            with contextlib.suppress(Exception):
                self.con.drop_table(name, force=True)
        self.tables.clear()
        for name in reversed(self.views):
            try:
                self.con.drop_view(name, force=True)
            except Exception:
                with contextlib.suppress(Exception):  # Spark: a temporary view of its session
                    self.con._session.catalog.dropTempView(name)
        self.views.clear()
