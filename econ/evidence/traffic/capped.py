"""Reading a log within documented limits: a gzip that unpacks beyond any real log, a line
longer than any record, a JSON array too large to parse whole.

- :data:`MAX_COMPRESSION_RATIO`: gzip's deflate reaches about 1,030:1 on one repeated byte;
  JSON chat logs compress 5–20:1 (repeated system prompts a few times more). Past
  :data:`RATIO_CHECKED_AFTER_BYTES` of output, a stream that has unpacked more than this
  many bytes per compressed byte read is refused: a gzip bomb (a 3 GB array, a 3 GB line, a file
  of blank lines) stops within its first MiB of output, checked as it is inflated. The same ratio
  is checked over every :data:`RATIO_WINDOW_BYTES` of output, so a bomb appended to a real log
  (whose ratio over the whole file stays low for gigabytes) stops within one window.
- :data:`MAX_DECOMPRESSED_BYTES`: the most a gzipped log may unpack to in all.
- :data:`MAX_LINE_BYTES`: one JSON Lines record (one conversation).
- :data:`MAX_JSON_ARRAY_BYTES`: a log written as one JSON array is parsed whole; larger logs
  are JSON Lines, read record by record.
- :data:`MAX_GZIPPED_PARQUET_BYTES`: a gzipped Parquet log is unpacked into memory (Parquet
  needs seeks); a larger one is read ungzipped, from disk.
- :data:`GZIP_HEAD_CHECKED_BYTES`: before DuckDB reads a gzipped log itself, this much of it is
  inflated here and the ratio checked (:func:`check_gzip_head`); the rest is checked by
  :func:`watch_gzip` while DuckDB reads, which stops DuckDB on a bomb.
- :data:`MAX_COMPRESSION_RATIO` again for Parquet: a column chunk whose footer declares more
  than this many unpacked bytes per stored byte (past 1 MiB) is refused before any page is read
  (:func:`check_parquet`): a "page bomb", one string of zeros that zstd stores in kilobytes.

Each refusal names the file, the line where it can, and the limit (exit 1).
"""

from __future__ import annotations

import gzip
import io
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from econ.base.errors import EconError

__all__ = [
    "GZIP_HEAD_CHECKED_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_DECOMPRESSED_BYTES",
    "MAX_GZIPPED_PARQUET_BYTES",
    "MAX_JSON_ARRAY_BYTES",
    "MAX_LINE_BYTES",
    "RATIO_CHECKED_AFTER_BYTES",
    "RATIO_WINDOW_BYTES",
    "capped_gzip",
    "check_gzip_head",
    "check_parquet",
    "lines",
    "read_array",
    "read_gzipped_parquet",
    "watch_gzip",
]

MAX_COMPRESSION_RATIO = 200
RATIO_CHECKED_AFTER_BYTES = 1 << 20
RATIO_WINDOW_BYTES = 64 << 20
MAX_DECOMPRESSED_BYTES = 256 << 30
MAX_LINE_BYTES = 64 << 20
MAX_JSON_ARRAY_BYTES = 64 << 20
GZIP_HEAD_CHECKED_BYTES = 64 << 20
MAX_GZIPPED_PARQUET_BYTES = 256 << 20
_IN_CHUNK = 64 << 10
_OUT_CHUNK = 1 << 20


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


class _Inflater(io.RawIOBase):
    """Raw gzip inflation (every member) that counts what it unpacks against what it read."""

    def __init__(self, raw: IO[bytes], source: str) -> None:
        self._raw = raw
        self._source = source
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._pending = b""
        self._read = 0
        self._out = 0
        self._window = (0, 0)  # (output, input) where the current window started

    def readable(self) -> bool:
        return True

    def _check(self, produced: int, consumed: int) -> None:
        self._out += produced
        if self._out > MAX_DECOMPRESSED_BYTES:
            raise EconError(f"{self._source}: unpacks to more than {_mib(MAX_DECOMPRESSED_BYTES)} "
                            "(MAX_DECOMPRESSED_BYTES)")
        if self._out > RATIO_CHECKED_AFTER_BYTES:
            self._ratio(self._out / max(consumed, 1))
        out0, in0 = self._window
        if self._out - out0 >= RATIO_WINDOW_BYTES:
            self._ratio((self._out - out0) / max(consumed - in0, 1), f" after {_mib(out0)}")
            self._window = (self._out, consumed)

    def _ratio(self, ratio: float, where: str = "") -> None:
        if ratio > MAX_COMPRESSION_RATIO:
            raise EconError(
                f"{self._source}: a gzip that unpacks {ratio:,.0f} times its size{where}, "
                f"beyond any real log (MAX_COMPRESSION_RATIO {MAX_COMPRESSION_RATIO}:1): "
                "refused as a decompression bomb")

    def _more(self) -> bytes:
        data = self._raw.read(_IN_CHUNK)
        self._read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), _OUT_CHUNK)
        while True:
            if self._z.eof:  # a member ended: another may follow (zero padding is ignored)
                rest = self._z.unused_data.lstrip(b"\0")
                while not rest:
                    more = self._more()
                    if not more:
                        return 0
                    rest = more.lstrip(b"\0")
                self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
                self._pending = rest
            if not self._pending:
                self._pending = self._more()
                if not self._pending:
                    raise EOFError("compressed file ended before the end-of-stream marker")
            try:
                data = self._z.decompress(self._pending, want)
            except zlib.error as exc:
                raise gzip.BadGzipFile(str(exc)) from None
            self._pending = self._z.unconsumed_tail
            if data:
                self._check(len(data), self._read - len(self._pending))
                buffer[:len(data)] = data
                return len(data)


def capped_gzip(raw: IO[bytes], source: str) -> io.BufferedReader:
    """A gzip stream that refuses to unpack past :data:`MAX_DECOMPRESSED_BYTES` or at a ratio
    beyond :data:`MAX_COMPRESSION_RATIO` (checked as it inflates)."""
    return io.BufferedReader(_Inflater(raw, source), buffer_size=_OUT_CHUNK)


def check_gzip_head(path: Path, source: str) -> None:
    """Refuse a gzipped ``path`` whose first :data:`GZIP_HEAD_CHECKED_BYTES` (unpacked) exceed
    the ratio; nothing for a file that is not gzip (or is damaged: the readers say where)."""
    _inflate(path, source, GZIP_HEAD_CHECKED_BYTES)


def _inflate(path: Path, source: str, limit: int | None, stop: Any = None) -> None:
    with path.open("rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            return
        raw.seek(0)
        stream = capped_gzip(raw, source)
        left = limit
        try:
            while (left is None or left > 0) and not (stop is not None and stop.is_set()) and (
                    chunk := stream.read1(_OUT_CHUNK if left is None else min(left, _OUT_CHUNK))):
                if left is not None:
                    left -= len(chunk)
        except (EOFError, OSError):
            return  # a damaged gzip: the readers name its line


class _Watch:
    def __init__(self) -> None:
        self.error: EconError | None = None


@contextmanager
def watch_gzip(path: Path, source: str, interrupt: Callable[[], None]) -> Iterator[None]:
    """Inflate a gzipped ``path`` on a thread (zlib releases the GIL) while the caller's engine
    reads it: on a bomb, ``interrupt`` the engine and raise the refusal instead of what the
    engine raised or returned. A file that is not gzip is not watched."""
    with path.open("rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            yield
            return
    watch = _Watch()
    stop = threading.Event()

    def run() -> None:
        try:
            _inflate(path, source, None, stop)
        except EconError as exc:
            watch.error = exc
            interrupt()

    thread = threading.Thread(target=run, name="econ-gzip-watch", daemon=True)
    thread.start()
    try:
        yield
    except KeyboardInterrupt:
        stop.set()
        raise
    except BaseException:
        thread.join()  # the engine's own error may come from the bomb: the refusal names it
        if watch.error is not None:
            raise watch.error from None
        raise
    else:
        thread.join()
        if watch.error is not None:
            raise watch.error
    finally:
        stop.set()


def check_parquet(path: Path | IO[bytes], source: str) -> None:
    """Refuse a Parquet file (a path or an open file) whose footer declares a column chunk that
    unpacks to more than :data:`MAX_COMPRESSION_RATIO` times its stored size (past 1 MiB),
    before a page is read."""
    if isinstance(path, Path):
        with path.open("rb") as raw:
            if raw.read(4) != b"PAR1":
                return
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except (OSError, ValueError):  # a damaged file: the readers say what is wrong
        return
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            col = group.column(c)
            out, stored = col.total_uncompressed_size, max(col.total_compressed_size, 1)
            if out > RATIO_CHECKED_AFTER_BYTES and out / stored > MAX_COMPRESSION_RATIO:
                raise EconError(
                    f"{source}: Parquet column {col.path_in_schema!r} (row group {g}) unpacks "
                    f"{out / stored:,.0f} times its stored size ({_mib(out)}), beyond any real "
                    f"log (MAX_COMPRESSION_RATIO {MAX_COMPRESSION_RATIO}:1): refused as a "
                    "decompression bomb")


def lines(stream: Any, source: str) -> Iterator[bytes]:
    """The lines of a JSON Lines stream, each at most :data:`MAX_LINE_BYTES`."""
    n = 0
    while line := stream.readline(MAX_LINE_BYTES + 1):
        n += 1
        if len(line) > MAX_LINE_BYTES:
            raise EconError(f"{source}:{n}: a line longer than {_mib(MAX_LINE_BYTES)} "
                            "(MAX_LINE_BYTES): one record is one conversation")
        yield line


def read_array(stream: Any, source: str) -> bytes:
    """The bytes of a log written as one JSON array, at most :data:`MAX_JSON_ARRAY_BYTES`."""
    data: bytes = stream.read(MAX_JSON_ARRAY_BYTES + 1)
    if len(data) > MAX_JSON_ARRAY_BYTES:
        raise EconError(f"{source}: a JSON array log larger than {_mib(MAX_JSON_ARRAY_BYTES)} "
                        "(MAX_JSON_ARRAY_BYTES): write it as JSON Lines, one conversation a "
                        "line, and it is read record by record")
    return data


def read_gzipped_parquet(stream: Any, source: str) -> bytes:
    """The unpacked bytes of a gzipped Parquet log, at most :data:`MAX_GZIPPED_PARQUET_BYTES`."""
    data: bytes = stream.read(MAX_GZIPPED_PARQUET_BYTES + 1)
    if len(data) > MAX_GZIPPED_PARQUET_BYTES:
        raise EconError(f"{source}: a gzipped Parquet log larger than "
                        f"{_mib(MAX_GZIPPED_PARQUET_BYTES)} unpacked (MAX_GZIPPED_PARQUET_BYTES): "
                        "unzip it; Parquet is read from disk in pieces")
    return data
