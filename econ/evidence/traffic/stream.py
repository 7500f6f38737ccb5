"""Stream logs into bounded Arrow record batches of the engine's tables, and count tokens.

The engine's tables (see ``engine``):
- messages: ``conversation`` (int64, numbered across all files), ``message`` (int64, numbered
  across all files), ``turn``, ``role``, ``tokens`` (int64; the log's own count, else null);
- conversations (only when text rules need it): ``conversation``, ``text`` (its user messages).
Messages without a logged count are counted with tiktoken: all of them up to ``token_sample``,
beyond that a seeded uniform sample (reservoir) of ``token_sample`` messages, so memory and time
stay bounded; a uniform sample keeps every per-message mean and ratio unbiased.
In: paths. Out: record batches, then a small table of counted tokens.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from econ.evidence.traffic.detect import iter_conversations
from econ.evidence.traffic.tokens import count_tokens

__all__ = ["MESSAGE_FIELDS", "LogScan"]

MESSAGE_FIELDS = ("conversation", "message", "turn", "role", "tokens")


@dataclass
class LogScan:
    """One pass over the logs: iterate ``batches()``, then read ``counted()`` and the counts."""

    paths: Sequence[Path]
    skip_bad: bool = False
    limit: int | None = None  # --sample: the first N conversations
    keep_text: bool = False
    token_sample: int = 100_000  # 0: count every message
    batch_rows: int = 200_000
    seed: int = 0
    progress: Callable[[float, float], None] | None = None
    conversations: int = 0
    messages: int = 0
    skipped: int = 0
    logged_tokens: int = 0  # messages whose count came from the log
    _sample: list[tuple[int, str]] = field(default_factory=list)
    _eligible: int = 0

    def batches(self) -> Iterator[tuple[Any, Any | None]]:
        """(messages batch, conversations batch or None), each of at most ~batch_rows rows."""
        import pyarrow as pa

        msg_schema = pa.schema([("conversation", pa.int64()), ("message", pa.int64()),
                                ("turn", pa.int64()), ("role", pa.string()),
                                ("tokens", pa.int64())])
        conv_schema = pa.schema([("conversation", pa.int64()), ("text", pa.string())])
        rng = random.Random(self.seed)
        cols: tuple[list[Any], ...] = ([], [], [], [], [])
        conv_ids: list[int] = []
        conv_text: list[str] = []
        done_bytes = [0.0] * len(self.paths)
        total_bytes = [float(max(p.stat().st_size, 1)) if p.exists() else 1.0
                       for p in self.paths]

        def flush() -> tuple[Any, Any | None]:
            mb = pa.RecordBatch.from_arrays([pa.array(c, type=f.type) for c, f in
                                             zip(cols, msg_schema, strict=True)],
                                            schema=msg_schema)
            cb = (pa.RecordBatch.from_arrays([pa.array(conv_ids, pa.int64()),
                                              pa.array(conv_text, pa.string())],
                                             schema=conv_schema) if self.keep_text else None)
            for c in cols:
                c.clear()
            conv_ids.clear()
            conv_text.clear()
            return mb, cb

        for index, path in enumerate(self.paths):
            def tick(done: int, total: int, index: int = index) -> None:
                done_bytes[index] = float(done)
                if self.progress is not None:
                    self.progress(sum(done_bytes), sum(total_bytes))

            for rows in iter_conversations(path, str(path), skip_bad=self.skip_bad,
                                           progress=tick):
                if rows is None:
                    self.skipped += 1
                    continue
                if self.limit is not None and self.conversations >= self.limit:
                    break
                cid = self.conversations
                self.conversations += 1
                user: list[str] = []
                for _, turn, role, text, tokens in rows:
                    mid = self.messages
                    self.messages += 1
                    logged = tokens == tokens  # not NaN
                    cols[0].append(cid)
                    cols[1].append(mid)
                    cols[2].append(turn)
                    cols[3].append(role)
                    cols[4].append(int(tokens) if logged else None)
                    if logged:
                        self.logged_tokens += 1
                    else:
                        self._offer(rng, mid, text)
                    if self.keep_text and role == "user":
                        user.append(text)
                if self.keep_text:
                    conv_ids.append(cid)
                    conv_text.append("\n".join(user))
                if len(cols[0]) >= self.batch_rows:
                    yield flush()
            if self.limit is not None and self.conversations >= self.limit:
                break
        if cols[0]:
            yield flush()

    def _offer(self, rng: random.Random, mid: int, text: str) -> None:
        """Reservoir sampling (Algorithm R) of messages to count; all of them when 0."""
        self._eligible += 1
        if self.token_sample <= 0 or len(self._sample) < self.token_sample:
            self._sample.append((mid, text))
            return
        j = rng.randrange(self._eligible)
        if j < self.token_sample:
            self._sample[j] = (mid, text)

    @property
    def counted_messages(self) -> int:
        return len(self._sample)

    def counted(self) -> Any:
        """Arrow table (message, tokens) of the tiktoken counts of the sampled messages."""
        import pyarrow as pa

        self._sample.sort()
        ids = [m for m, _ in self._sample]
        counts = count_tokens([t for _, t in self._sample])
        self._sample = []
        return pa.table({"message": pa.array(ids, pa.int64()),
                         "tokens": pa.array(counts, pa.int64())})
