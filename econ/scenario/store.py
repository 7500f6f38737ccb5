"""The scenarios folder: listing, safe paths inside it, and saving without losing anyone's edit."""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from econ.base.errors import EconError
from econ.base.fileio import atomic_write_text

__all__ = ["MAX_NAME_BYTES", "SaveConflict", "list_scenarios",
           "safe_scenario_path", "save_scenario_text", "unified_diff"]

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
    """Write ``text`` atomically to ``folder/name``.

    ``loaded_text`` is what the file held when it was loaded (None for a new file); if the file
    now holds anything else, nothing is written and :class:`SaveConflict` says so.
    """
    path = safe_scenario_path(folder, name)
    with _folder_lock(path.parent):
        try:
            current: str | None = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        except (OSError, UnicodeDecodeError) as exc:
            raise EconError(f"{path}: cannot read the file to compare before saving: "
                            f"{exc}") from None
        if current != loaded_text:
            raise _conflict(path, loaded_text)
        try:
            atomic_write_text(path, text, exclusive=loaded_text is None)
        except FileExistsError:  # created by a writer that does not take the lock
            raise _conflict(path, None) from None
        except OSError as exc:
            raise EconError(f"{path}: cannot save: {exc.strerror or exc}") from None
    return path


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
