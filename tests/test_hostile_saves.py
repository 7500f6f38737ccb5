"""Saving under concurrent use: one save per base wins, the others get the conflict message."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from econ.base.errors import EconError
from econ.scenario.store import SaveConflict, save_scenario_text
from tests.conftest import ROOT

ROUNDS = 50
CONFLICT = "changed on disk since it was loaded"

# one process saving ROUNDS times; a round starts when its go-file appears
CHILD = """
import sys, time
from pathlib import Path
from econ.scenario.store import SaveConflict, save_scenario_text
folder, who, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for r in range(rounds):
    go = folder / f"go{r}"
    while not go.exists():
        time.sleep(0.0005)
    base = f"round: {r}\\n"
    try:
        save_scenario_text(folder, "s.yaml", f"round: {r + 1}  # {who}\\n", base)
        print("ok", flush=True)
    except SaveConflict as exc:
        assert "changed on disk since it was loaded" in str(exc), exc
        print("conflict", flush=True)
"""


def test_two_processes_fifty_rounds(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "s.yaml").write_text("round: 0\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(folder), who, str(ROUNDS)],
                              stdout=subprocess.PIPE, text=True, env=env)
             for who in ("a", "b")]
    for r in range(ROUNDS):
        # both processes load round r's text; then both save on that base at once
        (folder / f"go{r}").touch()
        # the round is over when both have answered; then the file must be one submission
        lines = [p.stdout.readline().strip() for p in procs if p.stdout is not None]
        assert sorted(lines) == ["conflict", "ok"], (r, lines)
        final = (folder / "s.yaml").read_text()
        assert final in (f"round: {r + 1}  # a\n", f"round: {r + 1}  # b\n"), final
        # the next round starts from a known base
        (folder / "s.yaml").write_text(f"round: {r + 1}\n")
    for p in procs:
        assert p.wait(timeout=60) == 0
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_eight_threads_fifty_rounds(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("v: 0\n")
    for r in range(ROUNDS):
        base = path.read_text()
        barrier = threading.Barrier(8)
        outcomes: list[str] = []
        lock = threading.Lock()
        submitted = [f"v: {r + 1}  # thread {i}\n" for i in range(8)]

        def save(i: int, base: str = base, barrier: threading.Barrier = barrier,
                 outcomes: list[str] = outcomes, lock: threading.Lock = lock,
                 submitted: list[str] = submitted) -> None:
            barrier.wait()
            try:
                save_scenario_text(tmp_path, "s.yaml", submitted[i], base)
                result = "ok"
            except SaveConflict as exc:
                result = "conflict" if CONFLICT in str(exc) else f"wrong: {exc}"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict"] * 7 + ["ok"], (r, outcomes)
        assert path.read_text() in submitted


def test_two_new_files_with_the_same_name(tmp_path):
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def create(i: int) -> None:
        barrier.wait()
        try:
            save_scenario_text(tmp_path, "new.yaml", f"who: {i}\n", None)
            outcomes.append("ok")
        except SaveConflict as exc:
            assert "already exists; choose another name" in str(exc)
            outcomes.append("conflict")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]


@pytest.mark.parametrize(("name", "message"), [
    ("a\x00b.yaml", "a file name cannot hold control characters (or a NUL byte)"),
    ("x" * 300 + ".yaml", "a file name is at most 200 bytes (got 305)"),
    ("tab\there.yaml", "a file name cannot hold control characters"),
])
def test_bad_save_names_are_refused_with_a_message(tmp_path, name, message):
    with pytest.raises(EconError, match=message.replace("(", r"\(").replace(")", r"\)")):
        save_scenario_text(tmp_path, name, "a: 1\n", None)
    assert list(Path(tmp_path).iterdir()) == []
