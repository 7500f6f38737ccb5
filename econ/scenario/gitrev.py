"""A scenario file as it was at a git revision (``git show REV:path``), and where it stands.

Every git call goes through :func:`git`, which runs git with a configuration a repository
cannot turn into a command: no pager, no hooks, no fsmonitor, no external diff or textconv, no
system config, no prompts, no optional locks, and an environment without ``GIT_*`` variables
(so ``GIT_DIR`` or ``GIT_EXTERNAL_DIFF`` from outside cannot redirect it). Git's own
``safe.directory`` check still applies (a repository owned by someone else is not read). Only
plumbing that runs no filter is used: the file's state is the hash of its bytes
(``hash-object --no-filters``) against the blob at HEAD, not ``git status`` (which would run a
repository's fsmonitor and clean filters). A revision is data, never an option.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import NamedTuple

from econ.base.errors import EconError

__all__ = ["GitState", "NotARepository", "file_at_revision", "git", "git_state",
           "revision_label"]

# -c settings that keep a repository's own config from running anything
SAFE_CONFIG = ("core.fsmonitor=false", "core.hooksPath=/dev/null", "core.pager=cat",
               "core.untrackedCache=false", "core.askPass=", "credential.helper=",
               "gpg.program=false", "log.showSignature=false", "protocol.allow=never",
               "core.sshCommand=false", "diff.external=false")
_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
        "GIT_PAGER": "cat", "PAGER": "cat", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}


class NotARepository(EconError):
    """The file is not inside a git working tree."""


def git(args: list[str], cwd: Path, stdin: bytes | None = None) -> str:
    """Run ``git ARGS`` in ``cwd`` with the safe configuration; its stdout, or an EconError
    with git's last line of stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | _ENV
    cmd = ["git", "--no-pager", *(a for kv in SAFE_CONFIG for a in ("-c", kv)), *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, check=False,
                              timeout=30, env=env)
    except FileNotFoundError:
        raise EconError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise EconError(f"git {args[0]} took longer than 30 s") from None
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise EconError(err.splitlines()[-1] if err else f"git {args[0]} failed")
    return proc.stdout.decode("utf-8", "replace")


def _revision(rev: str) -> str:
    """A revision as git reads it, never an option or a second argument."""
    if not rev or rev.startswith("-") or any(ord(c) < 32 or c == "\x7f" for c in rev) \
            or len(rev) > 200:
        raise EconError(f"{rev[:60]!r}: not a revision (a commit, tag or branch name)")
    return rev


def file_at_revision(path: str | Path, rev: str) -> str:
    """The text of ``path`` at revision ``rev`` of the repository that holds it."""
    p = Path(path).resolve()
    folder = p.parent
    if not folder.is_dir():
        raise EconError(f"{path}: folder not found")
    try:
        top = Path(git(["rev-parse", "--show-toplevel"], folder).strip())
    except EconError:
        raise NotARepository(f"{path}: not inside a git repository") from None
    rel = p.relative_to(top.resolve()).as_posix()
    rev = _revision(rev)
    try:
        commit = git(["rev-parse", "--verify", "--quiet", "--end-of-options",
                      f"{rev}^{{commit}}"], top).strip()
    except EconError:
        raise EconError(f"{rev}: unknown revision") from None
    try:  # the blob itself (cat-file runs no textconv or filter)
        return git(["cat-file", "blob", f"{commit}:{rel}"], top)
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
        top = Path(git(["rev-parse", "--show-toplevel"], p.parent).strip()).resolve()
    except EconError:
        return None
    rel = p.relative_to(top).as_posix()
    try:
        rev = git(["rev-parse", "--short=12", "HEAD"], top).strip()
    except EconError:
        return GitState(rel, "(no commits)", True)
    try:
        committed = git(["rev-parse", "--verify", "--quiet", f"HEAD:{rel}"], top).strip()
    except EconError:
        return GitState(rel, rev, True)  # untracked: not in HEAD
    try:
        current = git(["hash-object", "--no-filters", "--stdin"], top,
                      stdin=p.read_bytes()).strip()
    except OSError:
        return GitState(rel, rev, True)
    return GitState(rel, rev, current != committed)
