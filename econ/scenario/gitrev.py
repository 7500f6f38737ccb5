"""A scenario file as it was at a git revision (``git show REV:path``)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import NamedTuple

from econ.base.errors import EconError

__all__ = ["GitState", "NotARepository", "file_at_revision", "git_state", "revision_label"]


class NotARepository(EconError):
    """The file is not inside a git working tree."""


def _git(args: list[str], cwd: Path) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=False, timeout=30)
    except FileNotFoundError:
        raise EconError("git is not installed") from None
    if proc.returncode != 0:
        raise EconError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                        else f"git {' '.join(args)} failed")
    return proc.stdout


def file_at_revision(path: str | Path, rev: str) -> str:
    """The text of ``path`` at revision ``rev`` of the repository that holds it."""
    p = Path(path).resolve()
    folder = p.parent
    if not folder.is_dir():
        raise EconError(f"{path}: folder not found")
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], folder).strip())
    except EconError:
        raise NotARepository(f"{path}: not inside a git repository") from None
    rel = p.relative_to(top.resolve()).as_posix()
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    except EconError:
        raise EconError(f"{rev}: unknown revision") from None
    try:
        return _git(["show", f"{rev}:{rel}"], top)
    except EconError:
        raise EconError(f"{path}: not in revision {rev}") from None


def revision_label(path: str | Path, rev: str) -> str:
    return f"{Path(path).name}@{rev}"


class GitState(NamedTuple):
    """Where a file stands in git: its path in the repository, the commit, and whether the file
    differs from that commit (modified, staged or untracked)."""

    path_in_repo: str
    revision: str
    dirty: bool


def git_state(path: str | Path) -> GitState | None:
    """The file's git state, or None when it is not inside a git working tree (or git is absent)."""
    p = Path(path).resolve()
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], p.parent).strip()).resolve()
    except EconError:
        return None
    rel = p.relative_to(top).as_posix()
    try:
        rev = _git(["rev-parse", "--short=12", "HEAD"], top).strip()
    except EconError:
        rev = "(no commits)"
    status = _git(["status", "--porcelain", "--", rel], top).strip()
    return GitState(rel, rev, bool(status))
