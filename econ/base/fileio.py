"""Writing files safely: whole or not at all."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["MAX_INPUT_BYTES", "MAX_SCENARIO_BYTES", "UnsafeFileError", "atomic_write_all",
           "atomic_write_bytes", "atomic_write_folder", "atomic_write_text", "read_limited",
           "read_text_limited"]

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
    written directly, never replaced; any other kind of file is refused, and so is a read-only
    file (no write permission bit, or none for us): a rename would replace it silently.
    """
    target, stream = _target(path, exclusive)
    if stream:
        _write_stream(target, data)
        return
    tmp = _stage(target, data, exclusive)
    _commit(tmp, target, exclusive)


def atomic_write_all(files: Sequence[tuple[str | Path, bytes]]) -> None:
    """Write several files together (a table and its sidecar): every one is written to a
    temporary file beside it first, and only when all are written are they renamed into place,
    so a failure (a full disk, a refused path) leaves none of them half-written or replaced.

    Each path must be a regular file, a new path or a symlink to one (a device or a pipe cannot
    take part: write it alone with :func:`atomic_write_bytes`)."""
    targets = []
    for path, _ in files:
        target, stream = _target(path)
        if stream:
            raise UnsafeFileError(errno.EINVAL, "cannot write with its companion files: a "
                                  "device or pipe", str(target))
        targets.append(target)
    staged: list[str] = []
    try:
        for target, (_, data) in zip(targets, files, strict=True):
            staged.append(_stage(target, data, exclusive=False))
    except BaseException:
        for tmp in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for i, (tmp, target) in enumerate(zip(staged, targets, strict=True)):
        try:
            _commit(tmp, target, exclusive=False)
        except BaseException:
            for rest in staged[i + 1:]:
                Path(rest).unlink(missing_ok=True)
            raise


def _target(path: str | Path, exclusive: bool = False) -> tuple[Path, bool]:
    """The file a write of ``path`` replaces (a symlink followed), and whether it is a device
    or pipe to write into directly; any other kind of existing file is refused, and so is a
    read-only one (unless ``exclusive``: it then fails as existing)."""
    target = Path(path)
    try:
        mode: int | None = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(target)) from None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        return target, True
    if mode is not None and not stat.S_ISREG(mode):
        raise UnsafeFileError(errno.EINVAL, f"cannot write: not a regular file "
                              f"({_kind(mode) if not stat.S_ISDIR(mode) else 'a directory'})",
                              str(target))
    if mode is not None and not exclusive and (not mode & 0o222 or
                                               not os.access(target, os.W_OK)):
        raise OSError(errno.EACCES, "cannot write: the file is read-only (make it writable "
                      "first if it is meant to be replaced)", str(target))
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    return target, False


def _stage(target: Path, data: bytes, exclusive: bool) -> str:
    """``data`` in a new temporary file beside ``target`` (flushed to disk), with the mode the
    replaced file had (0644 for a new one); its path."""
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
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(target)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _commit(tmp: str, target: Path, exclusive: bool) -> None:
    """Rename (or, with ``exclusive``, link) the staged ``tmp`` into place."""
    try:
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


def atomic_write_folder(folder: str | Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (name -> bytes) into ``folder``, all or nothing.

    They are written into a temporary folder beside ``folder`` first. A new ``folder`` is that
    temporary folder renamed into place; into an existing one each file is renamed over its
    target, after every target was checked (a regular file we may replace, or absent). On any
    failure the temporary folder is removed and ``folder`` is as it was.
    """
    out = Path(folder)
    exists = out.exists()
    if exists and not out.is_dir():
        raise UnsafeFileError(errno.ENOTDIR, "cannot write: not a folder", str(out))
    for name in files:
        if name != Path(name).name or name.startswith("."):
            raise ValueError(f"{name!r}: not a plain file name")
        target = out / name
        if exists and (target.exists() or target.is_symlink()):
            mode = os.stat(target, follow_symlinks=False).st_mode
            if not stat.S_ISREG(mode):
                raise UnsafeFileError(errno.EINVAL, "cannot write: in the way of the output "
                                      f"(not a regular file: {_kind(mode)})", str(target))
            if not mode & 0o222 or not os.access(target, os.W_OK):
                raise OSError(errno.EACCES, "cannot write: the file is read-only", str(target))
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(out)) from None
    try:
        for name, data in files.items():
            with open(tmp / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if exists:
            for name in files:
                os.replace(tmp / name, out / name)
            tmp.rmdir()
        else:
            os.chmod(tmp, 0o755)
            os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        where = exc.filename if exc.filename else str(out)
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", where) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_text(path: str | Path, text: str, *, exclusive: bool = False) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), exclusive=exclusive)
