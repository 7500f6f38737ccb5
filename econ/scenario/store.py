"""The scenarios folder: listing, safe paths inside it, and saving without losing anyone's edit."""

from __future__ import annotations

import difflib
from pathlib import Path

from econ.base.errors import EconError
from econ.base.fileio import atomic_write_text

__all__ = ["SaveConflict", "list_scenarios", "safe_scenario_path", "save_scenario_text",
           "unified_diff"]


class SaveConflict(EconError):
    """The file changed on disk since it was loaded: saving would overwrite someone's edit."""


def list_scenarios(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def safe_scenario_path(folder: Path, name: str) -> Path:
    """``folder/name`` when ``name`` is a plain YAML file name; never a path outside ``folder``."""
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
    try:
        current: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current != loaded_text:
        if loaded_text is None:
            raise SaveConflict(f"{path.name} already exists; choose another name")
        raise SaveConflict(f"{path.name} changed on disk since it was loaded; nothing was "
                           "written. Reload it to see the other change (your edits are kept).")
    atomic_write_text(path, text)
    return path


def unified_diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))
