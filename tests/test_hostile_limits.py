"""Inputs built to exhaust memory or hang: each is refused with exit 1, fast, in little memory.

Each case runs in its own process under a small wrapper that reports the command's own peak
RSS and CPU time (``resource.getrusage(RUSAGE_CHILDREN)`` of the wrapper, whose only child is the
command). "Fast" is counted in CPU seconds, not wall time, so a machine busy with other work
does not fail the test and a command that spins still does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import DEFAULT, ROOT

MAX_SECONDS = 5.0
MAX_RSS_MB = 500.0

# the command runs under a 3 GiB address-space limit, so a regression fails the test instead of
# taking memory from everyone on the machine
WRAPPER = """
import json, resource, subprocess, sys
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
r = subprocess.run([sys.executable, "-m", "econ.cli", *sys.argv[1:]], capture_output=True,
                   text=True, preexec_fn=cap, timeout=60)
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": r.returncode, "err": r.stderr, "out": r.stdout,
                  "rss_mb": use.ru_maxrss / 1024, "cpu_s": use.ru_utime + use.ru_stime}))
"""


def measured(*argv: str) -> tuple[int, str, float, float]:
    """(exit code, stderr, CPU seconds, peak RSS in MB) of one econ command in its own
    process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", WRAPPER, *argv], capture_output=True, text=True,
                       env=env, timeout=120)
    result = json.loads(r.stdout)
    return result["code"], result["err"], result["cpu_s"], result["rss_mb"]


def alias_bomb(path: Path) -> Path:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")  # 10^9 leaves
    path.write_text("\n".join(lines) + "\n")
    return path


def zip_bomb(path: Path) -> Path:
    """A small .eval whose one sample member unpacks to 512 MiB (its declared size is true)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("header.json", json.dumps({"eval": {"task": "t", "model": "m"}}))
        with z.open("samples/1.json", "w", force_zip64=True) as fh:
            block = b" " * (1 << 24)
            for _ in range(32):
                fh.write(block)
    return path


def with_eval_results(tmp_path: Path, target: str, name: str) -> Path:
    text = DEFAULT.read_text().replace(
        "probes: probes/frontier-vs-distilled.jsonl",
        f"probes: probes/frontier-vs-distilled.jsonl\neval_results: [{target}]  # [assumption]")
    p = tmp_path / name
    p.write_text(text)
    return p


def cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    bomb = alias_bomb(tmp_path / "bomb.yaml")
    return {
        "alias bomb": (["evaluate", str(bomb)],
                       f"{bomb}:1: (top level): aliases expand to more than 100,000 nodes"),
        "/dev/zero scenario": (["evaluate", "/dev/zero"],
                               "/dev/zero: (top level): cannot read scenario file: not a regular "
                               "file (a character device); give a file"),
        "/dev/zero results": (["evaluate", str(with_eval_results(tmp_path, "/dev/zero", "z.yaml"))],
                              "/dev/zero: (top level): cannot read results file: not a regular "
                              "file (a character device)"),
        "FIFO results": (["evaluate", str(with_eval_results(tmp_path, str(fifo), "f.yaml"))],
                         f"{fifo}: (top level): cannot read results file: not a regular file "
                         "(a FIFO)"),
        "zip bomb": (["import", "evals", str(zip_bomb(tmp_path / "bomb.eval")), "-o",
                      str(tmp_path / "o.csv")],
                     "samples/1.json unpacks to more than the limit"),
        "200k-deep JSON": (["import", "bench", str(deep)],
                           f"{deep}: JSON nested too deeply to be a result file"),
        "100M draws": (["uncertainty", str(DEFAULT), "--draws", "100000000"],
                       "argument --draws: at most 1,000,000 draws (got 100,000,000)"),
    }


@pytest.fixture(scope="module")
def bomb_cases(tmp_path_factory):
    return cases(tmp_path_factory.mktemp("bombs"))


@pytest.mark.parametrize("name", ["alias bomb", "/dev/zero scenario", "/dev/zero results",
                                  "FIFO results", "zip bomb", "200k-deep JSON", "100M draws"])
def test_bomb_is_refused_fast_in_little_memory(bomb_cases, name):
    argv, message = bomb_cases[name]
    code, err, seconds, rss_mb = measured(*argv)
    assert code == 1, err
    assert message in err
    assert "internal error" not in err and "Traceback" not in err
    assert seconds < MAX_SECONDS, f"{name}: {seconds:.2f} s"
    assert rss_mb < MAX_RSS_MB, f"{name}: {rss_mb:.0f} MB"
    print(f"{name}: {seconds:.2f} s, peak RSS {rss_mb:.0f} MB")


def many_candidates(tmp_path: Path, extra: int) -> Path:
    """The worked scenario with ``extra`` more API students that no tier serves."""
    data = yaml.safe_load(DEFAULT.read_text())
    for m in data["models"].values():
        if "benchmarks" in m:
            m["benchmarks"] = [str((DEFAULT.parent / b).resolve()) for b in m["benchmarks"]]
    data["probes"] = str((DEFAULT.parent / data["probes"]).resolve())
    for i in range(extra):
        data["models"][f"student-{i}"] = {**data["models"]["gpt-4o-mini"], "label": f"s{i}"}
    path = tmp_path / f"candidates-{extra}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_sensitivity_work_does_not_grow_with_candidates_no_tier_serves(tmp_path, monkeypatch):
    """1,000 candidates took 212 s CPU: every input of every model moved, and every move costed
    every model. Only what the tiers serve is moved and costed, with the same rows."""
    import econ.decisions.sensitivity as sens

    def rows_and_costings(path: Path) -> tuple[list[tuple[Any, ...]], list[int]]:
        loaded = load_scenario(path)
        ev = evaluate(loaded.scenario, loaded.measured)
        sizes: list[int] = []
        real = sens.cost_table

        def counted(scenario: Any, *args: Any, **kwargs: Any) -> Any:
            sizes.append(len(scenario.models))
            return real(scenario, *args, **kwargs)

        monkeypatch.setattr(sens, "cost_table", counted)
        rows = sens.sensitivity(ev, loaded.measured, 0.2)
        monkeypatch.setattr(sens, "cost_table", real)
        return [(r.input, r.floor_at_low, r.floor_at_high, r.cost_per_user_at_low,
                 r.cost_per_user_at_high) for r in rows], sizes

    few_rows, few = rows_and_costings(many_candidates(tmp_path, 0))
    many_rows, many = rows_and_costings(many_candidates(tmp_path, 40))
    assert many_rows == few_rows
    assert len(many) == len(few)  # as many costings: the unserved models' inputs are not moved
    assert max(many) == 3  # each costs the served models only: llama-8b, gpt-4o (route), o1


def big_map(path: Path, capabilities: int) -> Path:
    text = {f"cap{i}": {"keywords": [f"kw{i}a", f"kw{i}b", f"kw{i}c"], "regex": [f"zz{i}[0-9]+"]}
            for i in range(capabilities)}
    path.write_text(yaml.safe_dump({"text": text}))
    return path


def test_a_capability_map_past_the_rule_limit_is_refused_naming_it(tmp_path, capsys):
    """3,000 capabilities of four rules ran for minutes past 2 GB: refused before a log is
    read, in the CLI (--capability-map) and in a scenario's capability_map."""
    from econ.cli.main import main
    from econ.evidence.importers.capmap import MAX_TEXT_PATTERNS

    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"messages": [{"role": "user", "content": "kw1a"}]}) + "\n")
    cmap = big_map(tmp_path / "map.yaml", 3000)
    assert main(["traffic", str(log), "--capability-map", str(cmap)]) == 1
    err = capsys.readouterr().err
    assert f"{cmap}: text: 12,000 keywords and regexes over 3,000 capabilities; the limit is " \
           f"{MAX_TEXT_PATTERNS:,} (MAX_TEXT_PATTERNS)" in err, err
    scenario = yaml.safe_load(DEFAULT.read_text())
    scenario["capability_map"] = yaml.safe_load(cmap.read_text())
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario))
    assert main(["validate", str(path)]) == 1
    assert "the limit is" in capsys.readouterr().err
    at_limit = big_map(tmp_path / "ok.yaml", MAX_TEXT_PATTERNS // 4)
    assert main(["traffic", str(log), "--capability-map", str(at_limit), "--json"]) == 0


def test_monte_carlo_runs_one_chunk_at_a_time_when_two_would_not_fit(monkeypatch):
    """300 capabilities × 20 tiers: a chunk (one seeding run of every input) outgrows its
    budget, and two in flight held 605 MB at 1M draws. Past IN_FLIGHT_BYTES the draws run on
    one thread, with the same figures."""
    from econ.decisions import uncertainty
    from econ.decisions.draws import SEED_DRAWS

    loaded = load_scenario(DEFAULT)
    ev = evaluate(loaded.scenario, loaded.measured)
    draws = 20 * SEED_DRAWS  # more than one chunk (at most 8 runs)
    threaded = uncertainty.simulate(ev, loaded.measured, draws, seed=7, cache=False, workers=2)
    pools: list[int] = []
    real = uncertainty.ThreadPoolExecutor

    def pool(*args: Any, **kwargs: Any) -> Any:
        pools.append(kwargs.get("max_workers", 0))
        return real(*args, **kwargs)

    monkeypatch.setattr(uncertainty, "ThreadPoolExecutor", pool)
    monkeypatch.setattr(uncertainty, "IN_FLIGHT_BYTES", 1, raising=False)
    serial = uncertainty.simulate(ev, loaded.measured, draws, seed=7, cache=False, workers=2)
    assert pools == []
    assert serial == threaded


def test_logs_whose_text_outgrows_the_engine_memory_are_bad_input(tmp_path, capsys):
    """Text past DuckDB's memory limit (here a Parquet dictionary repeating 1 MiB) is exit 1
    naming the file and --memory-limit, not an internal error (was exit 2)."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.cli_failures import fails

    rng = random.Random(1)
    text = "".join(rng.choice("abcdefghij klmnop") for _ in range(1 << 20))
    n = 60
    path = tmp_path / "logs.parquet"
    pq.write_table(pa.table({"conversation_id": [f"c{i}" for i in range(n)],
                             "role": ["user"] * n,
                             "content": pa.array([text] * n).dictionary_encode()}),
                   path, compression="none")
    err = fails(capsys, "traffic", str(path), "--memory-limit", "8MB")
    assert err.startswith(f"{path}: the logs' text does not fit") and "--memory-limit 8MB" in err
