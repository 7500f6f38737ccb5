"""econ traffic at scale, every reader against a bare DuckDB scan of the same file.

    python benchmarks/traffic_bench.py [--conversations N] [--readers hh,openai,...] [--runs R]
                                       [--json]

The HH-RLHF harmless-base test file (../shared/fixtures) is resampled with replacement to N
conversations (default 1,000,000) and written, into a temporary directory, as each reader's
format: ``hh`` (the transcripts, gz JSON Lines), ``openai`` (``messages``, gz JSON Lines),
``sharegpt`` (``conversations`` with ``from``/``value``, gz JSON Lines) and ``parquet`` (an id
and a ``messages`` list of structs). For each, in subprocesses, alternating, medians of
``--runs``:

- ``traffic_<reader>_scan_s``: DuckDB's bare ``count(*)`` over ``read_json_auto`` /
  ``read_parquet`` of the file (the floor any reader pays);
- ``traffic_<reader>_s``: ``econ traffic FILE --json``; ``traffic_<reader>_over_scan`` its ratio
  to the scan (target <= 3) and ``traffic_<reader>_peak_rss_mb`` its peak memory;
- ``traffic_<reader>_rules_s``, ``..._rules_over_scan``, ``..._rules_peak_rss_mb``: the same
  with ``--capability-map`` of :data:`RULES` (8 capabilities, 50 patterns; target <= 3 and
  under 2 GB).
Skipped (empty) when the fixture is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HH_FIXTURE = ROOT.parent / "shared" / "fixtures" / "hh-rlhf_harmless-base_test.jsonl.gz"
READERS = ("hh", "openai", "sharegpt", "parquet")

RULES = {"text": {
    "coding": {"keywords": ["python", "code", "program", "function", "bug", "javascript"],
               "regex": [r"\bdef \w+\("]},
    "cooking": {"keywords": ["recipe", "cook", "bake", "kitchen", "food", "dinner"]},
    "health": {"keywords": ["doctor", "medicine", "sick", "pain", "health", "drug"]},
    "legal": {"keywords": ["law", "legal", "illegal", "police", "court", "lawyer"]},
    "money": {"keywords": ["money", "bank", "pay", "steal", "rich", "credit card"]},
    "violence": {"keywords": ["kill", "hurt", "gun", "weapon", "fight", "bomb"]},
    "relationships": {"keywords": ["wife", "husband", "friend", "girlfriend", "boyfriend",
                                   "family"]},
    "writing": {"keywords": ["write", "poem", "story", "essay", "letter"],
                "regex": [r"\d+\s*words"]},
}}

# run CMD in a child, report its wall time and peak RSS (the child's children only)
_CHILD = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"s": wall, "rss_kb": rss}))
"""
_SCAN = ("import duckdb, sys; duckdb.sql('SET enable_progress_bar = false'); "
         "src = sys.argv[1]; fn = 'read_parquet' if src.endswith('.parquet') else "
         "'read_json_auto'; duckdb.sql(f\"SELECT count(*) FROM {fn}('{src}')\").fetchall()")


def _child(cmd: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, *cmd], check=True, cwd=ROOT,
                         capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def _dialogue(chosen: str) -> list[tuple[str, str]]:
    """The transcript's blocks, a speaker's consecutive blocks joined (chat formats alternate)."""
    parts = re.split(r"\n\n(Human|Assistant):", chosen)
    out: list[tuple[str, str]] = []
    for who, body in zip(parts[1::2], parts[2::2], strict=True):
        role = "user" if who == "Human" else "assistant"
        if out and out[-1][0] == role:
            out[-1] = (role, out[-1][1] + "\n\n" + body.strip())
        else:
            out.append((role, body.strip()))
    return out


def write_logs(folder: Path, conversations: int, readers: tuple[str, ...]) -> dict[str, Path]:
    """Each reader's file of ``conversations`` resampled HH-RLHF dialogues."""
    lines = [x for x in gzip.decompress(HH_FIXTURE.read_bytes()).splitlines(keepends=True)
             if x.strip()]
    dialogues = [_dialogue(json.loads(x)["chosen"]) for x in lines]
    rng = random.Random(15)
    picks = [rng.randrange(len(lines)) for _ in range(conversations)]
    paths: dict[str, Path] = {}
    who = {"user": "human", "assistant": "gpt"}
    for reader in readers:
        if reader == "parquet":
            paths[reader] = _write_parquet(folder / "chat.parquet", dialogues, picks)
            continue
        path = folder / f"{reader}.jsonl.gz"
        with gzip.open(path, "wb", compresslevel=1) as f:
            for start in range(0, conversations, 10_000):
                chunk = picks[start:start + 10_000]
                if reader == "hh":
                    f.write(b"".join(lines[i] for i in chunk))
                    continue
                out = []
                for n, i in enumerate(chunk, start=start):
                    d = dialogues[i]
                    rec = ({"id": str(n), "messages": [{"role": r, "content": t} for r, t in d]}
                           if reader == "openai" else
                           {"id": str(n), "conversations": [{"from": who[r], "value": t}
                                                            for r, t in d]})
                    out.append(json.dumps(rec) + "\n")
                f.write("".join(out).encode())
        paths[reader] = path
    return paths


def _write_parquet(path: Path, dialogues: list[list[tuple[str, str]]],
                   picks: list[int]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("id", pa.string()), ("messages", pa.list_(pa.struct(
        [("role", pa.string()), ("content", pa.string())])))])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, len(picks), 100_000):
            chunk = picks[start:start + 100_000]
            writer.write_table(pa.table({
                "id": [str(start + k) for k in range(len(chunk))],
                "messages": [[{"role": r, "content": t} for r, t in dialogues[i]]
                             for i in chunk]}, schema=schema))
    return path


def traffic_figures(conversations: int, runs: int,
                    readers: tuple[str, ...] = READERS) -> dict[str, Any]:
    if not HH_FIXTURE.is_file():
        return {}
    figures: dict[str, Any] = {"traffic_conversations": conversations}
    with tempfile.TemporaryDirectory(prefix="econ-bench-traffic-") as tmp:
        paths = write_logs(Path(tmp), conversations, readers)
        rules = Path(tmp) / "rules.json"
        rules.write_text(json.dumps(RULES))
        for reader, path in paths.items():
            base = [sys.executable, "-m", "econ.cli", "traffic", str(path), "--json"]
            cmds = {"scan": [sys.executable, "-c", _SCAN, str(path)], "plain": base,
                    "rules": [*base, "--capability-map", str(rules)]}
            got: dict[str, list[dict[str, float]]] = {k: [] for k in cmds}
            for _ in range(runs):  # alternate, so all see the same machine load
                for k, cmd in cmds.items():
                    got[k].append(_child(cmd))
            scan = statistics.median(x["s"] for x in got["scan"])
            figures[f"traffic_{reader}_scan_s"] = scan
            for k, name in (("plain", ""), ("rules", "_rules")):
                s = statistics.median(x["s"] for x in got[k])
                figures[f"traffic_{reader}{name}_s"] = s
                figures[f"traffic_{reader}{name}_over_scan"] = s / scan
                figures[f"traffic_{reader}{name}_peak_rss_mb"] = \
                    max(x["rss_kb"] for x in got[k]) / 1024
            print(json.dumps({k: v for k, v in figures.items() if f"_{reader}_" in k}),
                  file=sys.stderr, flush=True)  # each reader as soon as it is measured
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--readers", default=",".join(READERS))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    readers = tuple(r for r in args.readers.split(",") if r)
    unknown = set(readers) - set(READERS)
    if unknown:
        parser.error(f"unknown reader(s): {', '.join(sorted(unknown))}")
    figures = traffic_figures(args.conversations, args.runs, readers)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for k, v in figures.items():
            print(f"{k:40s} {v:.4g}" if isinstance(v, float) else f"{k:40s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
