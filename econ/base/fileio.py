"""Writing files safely: whole or not at all."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["MAX_INPUT_BYTES", "MAX_SCENARIO_BYTES", "UnsafeFileError", "atomic_write_bytes",
           "atomic_write_text", "read_limited", "read_text_limited"]

MAX_SCENARIO_BYTES = 4 * 2**20  # a scenario, a capability map, a price snapshot, probes
MAX_INPUT_BYTES = 64 * 2**20  # one eval log, benchmark or results file (JSON parses ~5x)


class UnsafeFileError(OSError):
    """An input that is not a regular file, or is larger than the limit: never read whole."""


def read_limited(path: str | Path, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``.

    A device (``/dev/zero``), FIFO or socket is refused before a byte is read (opened
    non-blocking, so a FIFO with no writer cannot hang the command); so is a directory, and a
    file that grows past the limit while it is read. ``FileNotFoundError`` passes through.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise UnsafeFileError(f"not a regular file ({_kind(mode)}); give a file")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise UnsafeFileError(f"larger than the {max_bytes // 2**20} MiB limit")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text_limited(path: str | Path, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """:func:`read_limited` decoded as UTF-8 (``UnicodeDecodeError`` on other bytes)."""
    return read_limited(path, max_bytes).decode("utf-8")


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def atomic_write_bytes(path: str | Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    With ``exclusive`` the file must not exist yet: it is linked into place, which fails with
    ``FileExistsError`` (and writes nothing) if another writer created it first.

    Only a regular file or a new path is replaced. A symlink is followed and its target
    written (the link stays a link); a character device or FIFO (``/dev/stdout``, a pipe) is
    written directly, never replaced; any other kind of file is refused.
    """
    target = Path(path)
    try:
        mode: int | None = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(target)) from None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        _write_stream(target, data)
        return
    if mode is not None and not stat.S_ISREG(mode):
        raise UnsafeFileError(errno.EINVAL, f"cannot write: not a regular file "
                              f"({_kind(mode) if not stat.S_ISDIR(mode) else 'a directory'})",
                              str(target))
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(target)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists() and not exclusive:
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        if exclusive:
            os.link(tmp, target)
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, FileExistsError) and exclusive:
            raise
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(target)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_stream(target: Path, data: bytes) -> None:
    """Write into a device or pipe as it is: no temporary file, no rename."""
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(target)) from None


def atomic_write_text(path: str | Path, text: str, *, exclusive: bool = False) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), exclusive=exclusive)
