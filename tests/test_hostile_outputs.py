"""All-or-nothing outputs: a decision record that fails half way leaves nothing behind, and so
does a ``--backend`` database file econ created."""

from __future__ import annotations

import errno
import os

import pytest

from econ.cli import main
from tests.conftest import BASIC


def run(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_record_blocked_half_way_writes_nothing(tmp_path, capsys):
    out = tmp_path / "record"
    out.mkdir()
    (out / "decision.html").mkdir()  # one output blocked by a folder of its name
    code, text = run(capsys, "record", str(BASIC), "-o", str(out), "--draws", "1000")
    assert code == 1, text
    assert "decision.html" in text and "internal error" not in text
    assert sorted(p.name for p in out.iterdir()) == ["decision.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["record"]  # no temporary folder left


def test_a_record_on_a_full_disk_leaves_nothing(tmp_path, capsys, monkeypatch):
    calls = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) >= 2:  # the second file of the record: the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    out = tmp_path / "record"
    code, text = run(capsys, "record", str(BASIC), "-o", str(out), "--draws", "1000")
    assert code == 1, text
    assert "No space left on device" in text
    assert list(tmp_path.iterdir()) == []  # neither the record nor a temporary folder


@pytest.mark.parametrize("scheme", ["duckdb", "sqlite"])
def test_a_backend_file_econ_created_is_removed(tmp_path, capsys, scheme):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": 5}\n')
    db = tmp_path / f"new.{scheme}"
    code, text = run(capsys, "traffic", str(bad), "--backend", f"{scheme}://{db}")
    assert code == 1, text
    assert not db.exists() and not list(tmp_path.glob("new.*")), list(tmp_path.iterdir())
