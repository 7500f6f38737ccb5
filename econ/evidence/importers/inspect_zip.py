"""Inspect AI ``.eval`` logs: a ZIP of JSON members (``header.json``, ``samples/*.json``,
``_journal/start.json``, ``summaries.json``), unpacked within caps on the bytes they unpack to.

In: a path. Out: the header and the sample documents (JSON objects), or an EconError naming the
file (not a ZIP, damaged, encrypted, too large once unpacked).
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.base.fileio import read_limited

__all__ = ["MAX_UNZIPPED_BYTES", "MAX_UNZIPPED_MEMBER_BYTES", "inspect_zip_docs"]

MAX_UNZIPPED_MEMBER_BYTES = 64 * 2**20  # one member of an Inspect .eval ZIP, unpacked
MAX_UNZIPPED_BYTES = 256 * 2**20  # all members together


def inspect_zip_docs(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the samples of an Inspect ``.eval`` ZIP log, unpacked within the caps."""
    try:
        data = read_limited(path)
    except FileNotFoundError:
        raise EconError(f"{path}: file not found") from None
    except OSError as exc:
        raise EconError(f"{path}: cannot read: {exc.strerror or exc}") from None
    budget = [MAX_UNZIPPED_BYTES]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            header = _member(z, "header.json", budget) if "header.json" in names else {}
            if not header and "_journal/start.json" in names:
                header = _member(z, "_journal/start.json", budget)
            samples = [_member(z, n, budget) for n in sorted(names)
                       if n.startswith("samples/") and n.endswith(".json")]
            if not samples and "summaries.json" in names:
                samples = _member(z, "summaries.json", budget)
    except zipfile.BadZipFile:
        raise EconError(f"{path}: not a ZIP archive (an Inspect .eval log is one)") from None
    except _ZipTooBig as exc:
        raise EconError(f"{path}: {exc}; an Inspect log this large is refused") from None
    except (KeyError, ValueError, zlib.error, EOFError, NotImplementedError, RuntimeError,
            RecursionError) as exc:  # JSON, UTF-8 and deflate errors are ValueErrors; an
        # encrypted member is a RuntimeError
        raise EconError(f"{path}: damaged Inspect .eval log: {type(exc).__name__}: "
                        f"{str(exc)[:120]}") from None
    if not isinstance(header, dict):
        raise EconError(f"{path}: damaged Inspect .eval log: the header is not a JSON object")
    if not isinstance(samples, list) or not all(isinstance(s, dict) for s in samples):
        raise EconError(f"{path}: damaged Inspect .eval log: a sample is not a JSON object")
    return header, samples


class _ZipTooBig(Exception):
    pass


def _member(z: zipfile.ZipFile, name: str, budget: list[int]) -> Any:
    """One JSON member, decompressed in chunks and refused past the per-member and total caps
    (the sizes a ZIP declares are not trusted)."""
    cap = min(MAX_UNZIPPED_MEMBER_BYTES, budget[0])
    chunks, total = [], 0
    with z.open(name) as fh:
        while chunk := fh.read(1 << 20):
            total += len(chunk)
            if total > cap:
                raise _ZipTooBig(f"{name} unpacks to more than the limit (the limits are "
                                 f"{MAX_UNZIPPED_MEMBER_BYTES // 2**20} MiB a member, "
                                 f"{MAX_UNZIPPED_BYTES // 2**20} MiB in all)")
            chunks.append(chunk)
    budget[0] -= total
    return json.loads(b"".join(chunks).decode("utf-8"))
