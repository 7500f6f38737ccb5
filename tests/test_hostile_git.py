"""git with a safe config: a scenario inside a repository whose .git/config (and
.gitattributes) name commands for fsmonitor, the pager, hooks, external diff, textconv, filters
and signature checks runs none of them on `econ export`, `econ record`, `econ diff --rev` or the
app's Compare tab, and still reports the right revision and state."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from econ.cli import main
from tests.conftest import BASIC, ROOT

KINDS = ("fsmonitor", "pager", "diff", "textconv", "clean", "smudge", "process", "gpg", "hook")


def _plain_git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    return subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=repo,
                          check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def hostile_repo(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo, marks, bin_ = tmp_path / "repo", tmp_path / "marks", tmp_path / "bin"
    for d in (repo / "scenarios", marks, bin_, repo / "hooks"):
        d.mkdir(parents=True)
    for kind in KINDS:
        script = bin_ / f"evil-{kind}"
        script.write_text(f"#!/bin/sh\ntouch '{marks}/{kind}'\ncat\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    for hook in ("pre-commit", "post-checkout", "post-index-change", "reference-transaction",
                 "fsmonitor-watchman", "post-rewrite", "pre-auto-gc"):
        shutil.copy(bin_ / "evil-hook", repo / "hooks" / hook)
    shutil.copy(BASIC, repo / "scenarios" / "s.yaml")
    _plain_git(repo, "init", "-q")
    _plain_git(repo, "add", ".")
    _plain_git(repo, "commit", "-q", "-m", "scenario")
    rev = _plain_git(repo, "rev-parse", "--short=12", "HEAD").strip()
    (repo / ".gitattributes").write_text("*.yaml filter=evil diff=evil\n")
    with (repo / ".git" / "config").open("a") as fh:
        fh.write(f"""[core]
\tfsmonitor = {bin_}/evil-fsmonitor
\tpager = {bin_}/evil-pager
\thooksPath = {repo}/hooks
[diff]
\texternal = {bin_}/evil-diff
[diff "evil"]
\ttextconv = {bin_}/evil-textconv
[filter "evil"]
\tclean = {bin_}/evil-clean
\tsmudge = {bin_}/evil-smudge
\tprocess = {bin_}/evil-process
[pager]
\tshow = {bin_}/evil-pager
\tstatus = {bin_}/evil-pager
[log]
\tshowSignature = true
[gpg]
\tprogram = {bin_}/evil-gpg
""")
    path = repo / "scenarios" / "s.yaml"
    path.write_text(path.read_text().replace("price_usd_month: 20", "price_usd_month: 21", 1))
    return repo, path, marks, rev


def test_no_command_of_the_repository_runs(hostile_repo, tmp_path, capsys, monkeypatch):
    repo, path, marks, rev = hostile_repo
    out = tmp_path / "t.csv"
    assert main(["export", str(path), "-o", str(out)]) == 0
    sidecar = (tmp_path / "t.provenance.json").read_text()  # a CSV's provenance sits beside it
    assert rev in sidecar, sidecar
    assert main(["record", str(path), "-o", str(tmp_path / "rec"), "--draws", "1000"]) == 0
    assert rev in (tmp_path / "rec" / "decision.md").read_text()
    code = main(["diff", str(path), "--rev", "HEAD"])
    assert code in (0, 3), capsys.readouterr().err
    assert "price_usd_month" in capsys.readouterr().out
    monkeypatch.setenv("ECON_SCENARIOS", str(repo / "scenarios"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.session_state["tab"] = next(t for t in ("Compare with revision", "Compare")
                                   if any(t == x.label for x in at.tabs))
    at.run()
    assert not at.exception
    assert sorted(p.name for p in marks.iterdir()) == []


def test_a_revision_is_never_an_option(hostile_repo, tmp_path, capsys):
    _, path, marks, _ = hostile_repo
    target = tmp_path / "written-by-git"
    for rev in (f"--output={target}", "-p", "HEAD\nx"):
        code = main(["diff", str(path), f"--rev={rev}"])
        assert code == 1, rev
        assert "not a revision" in capsys.readouterr().err
    assert not target.exists()
    assert sorted(p.name for p in marks.iterdir()) == []
