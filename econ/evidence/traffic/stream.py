"""Stream logs read in Python into bounded Arrow record batches of tidy messages.

Each batch holds at most ``batch_rows`` messages: ``conversation`` (int64, numbered across all
files from ``first_conversation``), ``message`` (int64, likewise), ``turn``, ``role``,
``tokens`` (int64: the log's own count, else null) and ``text``. Memory stays bounded whatever
the file size: only one batch is alive at a time.
In: paths. Out: record batches, and counts of conversations, messages and skipped lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from econ.evidence.traffic.detect import iter_conversations
from econ.evidence.traffic.readers import Skipped

__all__ = ["MESSAGE_FIELDS", "LogScan", "message_schema"]

MESSAGE_FIELDS = ("conversation", "message", "turn", "role", "tokens", "text")


def message_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("conversation", pa.int64()), ("message", pa.int64()),
                      ("turn", pa.int64()), ("role", pa.string()), ("tokens", pa.int64()),
                      ("text", pa.string())])


@dataclass
class LogScan:
    """One pass over logs read in Python; iterate ``batches()``, then read the counts."""

    paths: Sequence[Path]
    skip_bad: bool = False
    limit: int | None = None  # --sample: the first N conversations
    batch_rows: int = 100_000
    first_conversation: int = 0
    first_message: int = 0
    progress: Callable[[float, float], None] | None = None
    conversations: int = 0
    messages: int = 0
    skipped: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    logged_tokens: int = 0  # messages whose count came from the log

    def batches(self) -> Iterator[Any]:
        import pyarrow as pa

        schema = message_schema()
        cols: tuple[list[Any], ...] = ([], [], [], [], [], [])
        done_bytes = [0.0] * len(self.paths)
        total_bytes = [float(max(p.stat().st_size, 1)) if p.exists() else 1.0
                       for p in self.paths]

        def flush() -> Any:
            batch = pa.RecordBatch.from_arrays(
                [pa.array(c, type=f.type) for c, f in zip(cols, schema, strict=True)],
                schema=schema)
            for c in cols:
                c.clear()
            return batch

        for index, path in enumerate(self.paths):
            def tick(done: int, total: int, index: int = index) -> None:
                done_bytes[index] = float(done)
                if self.progress is not None:
                    self.progress(sum(done_bytes), sum(total_bytes))

            for rows in iter_conversations(path, str(path), skip_bad=self.skip_bad,
                                           progress=tick):
                if isinstance(rows, Skipped):
                    self.skipped += 1
                    self.skipped_by_reason[rows.reason] += 1
                    continue
                if self.limit is not None and self.conversations >= self.limit:
                    break
                cid = self.first_conversation + self.conversations
                self.conversations += 1
                for _, turn, role, text, tokens in rows:
                    logged = tokens == tokens  # not NaN
                    cols[0].append(cid)
                    cols[1].append(self.first_message + self.messages)
                    cols[2].append(turn)
                    cols[3].append(role)
                    cols[4].append(int(tokens) if logged else None)
                    cols[5].append(text)
                    self.messages += 1
                    self.logged_tokens += logged
                if len(cols[0]) >= self.batch_rows:
                    yield flush()
            if self.limit is not None and self.conversations >= self.limit:
                break
        if cols[0]:
            yield flush()
