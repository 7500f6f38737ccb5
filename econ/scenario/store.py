"""The scenarios folder: listing, safe paths inside it, and saving without losing anyone's edit.

Every writer of a scenario goes through one locked compare-and-swap save,
:func:`save_scenario_file`: it takes an exclusive lock on the file's folder, re-reads the file
under it, and writes only if the file still holds the text the writer started from (else
:class:`SaveConflict`, nothing written). The app's saves and authoring call it through
:func:`save_scenario_text` (a name inside the scenarios folder); ``econ traffic --write`` and
``econ migrate``, whose edit is a function of the file's text, call :func:`rewrite_scenario`,
which reads, edits and writes under the same lock. So an edit that reported success is never
overwritten by one that did not see it.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from econ.base.errors import EconError
from econ.base.fileio import MAX_SCENARIO_BYTES, atomic_write_text, read_text_limited

__all__ = ["MAX_NAME_BYTES", "SaveConflict", "list_scenarios",
           "rewrite_scenario", "safe_scenario_path", "save_scenario_file", "save_scenario_text",
           "unified_diff"]

T = TypeVar("T")

MAX_NAME_BYTES = 200  # file systems allow 255; the temporary file beside it needs a little more


class SaveConflict(EconError):
    """The file changed on disk since it was loaded: saving would overwrite someone's edit."""


def list_scenarios(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def safe_scenario_path(folder: Path, name: str) -> Path:
    """``folder/name`` when ``name`` is a plain YAML file name; never a path outside ``folder``."""
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        raise EconError(f"{name!r}: a file name cannot hold control characters (or a NUL byte)")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise EconError(f"{name[:40]!r}…: a file name is at most {MAX_NAME_BYTES} bytes "
                        f"(got {len(name.encode('utf-8', 'surrogatepass'))})")
    if not name or name != Path(name).name or name.startswith("."):
        raise EconError(f"{name!r}: give a plain file name inside {folder} (no folders)")
    if Path(name).suffix not in (".yaml", ".yml"):
        raise EconError(f"{name!r}: a scenario file name ends in .yaml or .yml")
    root = folder.resolve()
    target = (root / name).resolve()
    if target.parent != root:
        raise EconError(f"{name!r}: resolves outside {folder}")
    return target


def save_scenario_text(folder: Path, name: str, text: str, loaded_text: str | None) -> Path:
    """Write ``text`` to ``folder/name`` (a plain file name inside the scenarios folder) through
    :func:`save_scenario_file`."""
    return save_scenario_file(safe_scenario_path(folder, name), text, loaded_text)


def save_scenario_file(path: Path, text: str, loaded_text: str | None) -> Path:
    """Write ``text`` atomically to the scenario file ``path``, under the folder's lock.

    ``loaded_text`` is what the file held when the writer read it (None for a new file); if the
    file now holds anything else, nothing is written and :class:`SaveConflict` says so.
    """
    with _folder_lock(_folder_of(path)):
        _compare_and_write(path, text, loaded_text)
    return path


def rewrite_scenario(path: Path, edit: Callable[[str], tuple[str, T]]) -> tuple[bool, T]:
    """Apply ``edit`` (the file's text -> the new text and what to report) to the scenario at
    ``path``: read, edit and write all under the folder's lock, so no save can come in between
    (app saves wait for it). Returns whether anything was written, and the edit's report."""
    with _folder_lock(_folder_of(path)):
        text = _read(path)
        if text is None:
            raise EconError(f"{path}: scenario not found")
        new, report = edit(text)
        if new == text:
            return False, report
        _compare_and_write(path, new, text)
    return True, report


def _folder_of(path: Path) -> Path:
    return Path(os.path.realpath(path)).parent


def _read(path: Path) -> str | None:
    try:
        return read_text_limited(path, MAX_SCENARIO_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
            exc.strerror or str(exc))
        raise EconError(f"{path}: cannot read the scenario: {reason}") from None


def _compare_and_write(path: Path, text: str, loaded_text: str | None) -> None:
    """Under the lock: write ``text`` if the file still holds ``loaded_text``."""
    if _read(path) != loaded_text:
        raise _conflict(path, loaded_text)
    try:
        atomic_write_text(path, text, exclusive=loaded_text is None)
    except FileExistsError:  # created by a writer that does not take the lock
        raise _conflict(path, None) from None
    except OSError as exc:
        raise EconError(f"{path}: cannot save: {exc.strerror or exc}") from None


def _conflict(path: Path, loaded_text: str | None) -> SaveConflict:
    if loaded_text is None:
        return SaveConflict(f"{path.name} already exists; choose another name")
    return SaveConflict(f"{path.name} changed on disk since it was loaded; nothing was "
                        "written. Reload it to see the other change (your edits are kept).")


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the scenarios folder itself, held across compare and rename: it
    excludes other processes and other threads alike (each call opens its own file
    description), and leaves no lock file behind."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise EconError(f"{folder}: cannot take the save lock: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def unified_diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))
