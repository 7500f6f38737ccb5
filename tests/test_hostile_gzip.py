"""Gzip bombs given to ``econ traffic``: a ~3 MB file that unpacks to ~3 GB (one JSON array, one
single line, blank lines, a gzipped 'Parquet') is refused with exit 1, a message naming the file
and the limit, in bounded memory and CPU, on the default path (where DuckDB would read the file
itself) and on the Python readers' path (``--sample``). The line and JSON-array limits are checked
in process with the limits made small, so no test unpacks 64 MiB."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from pathlib import Path

import pytest

from econ.base.errors import EconError
from econ.evidence.traffic import capped
from econ.evidence.traffic.detect import iter_conversations
from tests.test_hostile_limits import measured

MAX_RSS_MB = 1500.0  # the bar is 500 MB; a refusal here takes far less (reported)
MAX_CPU_S = 30.0
GIB = 3  # each bomb unpacks to about this many GiB
RECORD = (b'{"messages": [{"role": "user", "content": "hi"}, '
          b'{"role": "assistant", "content": "yo"}]}')


def _block(data: bytes) -> bytes:
    """Raw deflate of ``data`` ending in a full flush: self-contained, so repeating it repeats
    the unpacked bytes."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush(zlib.Z_FULL_FLUSH)


def bomb(path: Path, head: bytes, body: bytes, tail: bytes = b"") -> Path:
    """A gzip of ``head`` + ``body`` repeated to ~GIB GiB + ``tail``, built without unpacking.
    The trailer's CRC is not computed (3 GiB of CRC per test): a reader that refuses the bomb
    never reaches it, and one that does not fails the test on its message."""
    mib = (body * ((1 << 20) // len(body) + 1))[: (1 << 20) // len(body) * len(body)]
    repeat = _block(mib)
    end = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff", _block(head), repeat * (GIB << 10),
             end.compress(tail), end.flush()]
    size = len(head) + len(mib) * (GIB << 10) + len(tail)
    path.write_bytes(b"".join(parts) + struct.pack("<II", 0, size & 0xFFFFFFFF))
    return path


BOMBS = {
    "json_array": (b"[" + RECORD, b", " + RECORD + b" " * 4000, b"]"),
    "single_line": (b'{"messages": [{"role": "user", "content": "', b"a" * 4096, b'"}]}\n'),
    "blank_lines": (RECORD + b"\n", b"\n" * 4096, b""),
    "gzipped_parquet": (b"PAR1", b"\0" * 4096, b"PAR1"),
}


CASES = [(name, None) for name in sorted(BOMBS)] + [("json_array", "5"), ("single_line", "5")]


@pytest.mark.parametrize(("name", "limit"), CASES,
                         ids=[f"{n}-{'python_readers' if k else 'default_path'}" for n, k in CASES])
def test_gzip_bomb_is_refused_in_bounded_memory(tmp_path, name, limit):
    path = bomb(tmp_path / f"{name}.jsonl.gz", *BOMBS[name])
    assert path.stat().st_size < 8 << 20  # a few MB unpacking to GIB GiB
    argv = ["traffic", str(path), *(["--sample", limit] if limit else [])]
    code, err, cpu_s, rss_mb = measured(*argv)
    assert code == 1, err
    assert str(path) in err
    assert "MAX_COMPRESSION_RATIO 200:1" in err and "decompression bomb" in err
    assert "Traceback" not in err
    assert rss_mb < MAX_RSS_MB, rss_mb
    assert cpu_s < MAX_CPU_S, cpu_s


def _gz(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data))
    return path


def test_a_line_over_the_limit_is_refused_with_its_number(tmp_path, monkeypatch):
    monkeypatch.setattr(capped, "MAX_LINE_BYTES", 1000)
    line = json.dumps({"messages": [{"role": "user", "content": "x" * 2000}]}).encode()
    path = _gz(tmp_path / "long.jsonl.gz", RECORD + b"\n" + line + b"\n")
    with pytest.raises(EconError, match=r"long\.jsonl\.gz:2: a line longer than .*MAX_LINE_BYTES"):
        list(iter_conversations(path, str(path)))


def test_a_json_array_over_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(capped, "MAX_JSON_ARRAY_BYTES", 1000)
    data = b"[" + b", ".join([RECORD] * 50) + b"]"
    for path in (_gz(tmp_path / "big.json.gz", data), tmp_path / "big.json"):
        path.write_bytes(data) if path.suffix == ".json" else None
        with pytest.raises(EconError,
                           match=r"big\.json(\.gz)?: a JSON array .*MAX_JSON_ARRAY_BYTES"):
            list(iter_conversations(path, str(path)))


def test_real_gzip_logs_still_read(tmp_path):
    """Under the limits: blank lines first, several gzip members, zero padding, a JSON array."""
    body = b"\n\n" + b"\n".join([RECORD] * 3) + b"\n"
    members = tmp_path / "members.jsonl.gz"
    members.write_bytes(gzip.compress(body[:40]) + gzip.compress(body[40:]) + b"\0" * 16)
    array = _gz(tmp_path / "array.json.gz", b"[" + b", ".join([RECORD] * 3) + b"]")
    for path in (members, array):
        got = list(iter_conversations(path, str(path)))
        assert len(got) == 3 and all(isinstance(rows, list) and len(rows) == 2 for rows in got)


def test_truncated_gzip_is_refused(tmp_path):
    data = gzip.compress(b"\n".join([RECORD] * 200))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(EconError, match=r"cut\.jsonl\.gz.*(truncated|corrupt)"):
        list(iter_conversations(path, str(path)))
