"""econ traffic where the logs live: the same figures from the embedded default, a DuckDB file
read in place (a table, or files DuckDB reads), Polars and Spark (slow), with nothing left
behind and nothing of the message table uploaded."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from econ.cli.main import main
from tests.same_figures import assert_same

HH = "hh-rlhf_harmless-base_test.jsonl.gz"
MAP = {"text": {
    "coding": {"keywords": ["python", "код", "编程", "function"], "regex": [r"\bdef \w+\("]},
    "travel": {"keywords": ["hôtel", "отель", "旅行", "flight"]},
    "math": {"regex": [r"\d+\s*[-+*/^=]\s*\d+"]},
}}
WORDS = ["python", "код", "编程", "function", "def area(r):", "hôtel", "Отель", "旅行", "flight",
         "12 + 30", "hello", "thanks", "naïve café", "why", "the weather", "¿qué tal?", "Straße"]


def synthetic(n: int, seed: int = 25) -> list[dict[str, Any]]:
    """OpenAI chat records: system prompts on some, 1-4 turns, usage on some."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        msgs = []
        if rng.random() < 0.3:
            msgs.append({"role": "system", "content": "Be brief. " * rng.randint(1, 5)})
        for _ in range(rng.randint(1, 4)):
            msgs.append({"role": "user", "content": " ".join(rng.choices(WORDS, k=4))})
            msgs.append({"role": "assistant", "content": " ".join(rng.choices(WORDS, k=9))})
        rec: dict[str, Any] = {"id": f"c{i}", "messages": msgs}
        if rng.random() < 0.4:
            rec["usage"] = {"prompt_tokens": 99, "completion_tokens": rng.randint(5, 50)}
        out.append(rec)
    return out


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("logs")
    recs = synthetic(300)
    jsonl = root / "chat.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    parquet = root / "chat.parquet"
    pq.write_table(pa.table({"id": [r["id"] for r in recs],
                             "messages": [r["messages"] for r in recs]}), parquet)
    rows = [(r["id"], k, m["role"], m["content"]) for r in recs
            for k, m in enumerate(r["messages"])]
    csv = root / "chat.csv"
    with csv.open("w", newline="") as f:
        import csv as csvlib

        writer = csvlib.writer(f)
        writer.writerow(["session_id", "idx", "speaker", "body"])
        writer.writerows(rows)
    db = root / "logs.ddb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE chat_rows AS SELECT * FROM read_csv(?, all_varchar = true)",
                [str(csv)])
    con.execute("ALTER TABLE chat_rows ALTER idx TYPE INTEGER")
    con.close()
    cmap = root / "map.json"
    cmap.write_text(json.dumps(MAP, ensure_ascii=False))
    return {"jsonl": jsonl, "parquet": parquet, "db": db, "map": cmap, "csv": csv}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["traffic", *argv, "--json", "--token-sample", "0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    got: dict[str, Any] = json.loads(out.out)
    return got


def tables(db: Path) -> list[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema"
                                                ".tables").fetchall())
    finally:
        con.close()


def in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, fail if econ reads the logs in Python or hands a table to the engine."""
    from econ.evidence.traffic.scratch import Scratch
    from econ.evidence.traffic.stream import LogScan

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the message table crossed to the client")

    monkeypatch.setattr(LogScan, "batches", refuse)
    monkeypatch.setattr(Scratch, "hand", refuse)


def test_duckdb_in_place_equals_the_default(logs: dict[str, Path], fixtures_dir: Path,
                                            capsys: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cmap = ("--capability-map", str(logs["map"]))
    want = run(capsys, str(logs["jsonl"]), *cmap)
    assert want["conversations"] == 300 and want["tokenizer"] == "usage+tiktoken:cl100k_base"
    assert sum(c["n"] for c in want["capabilities"]) > 100  # the rules do assign
    want_parquet = run(capsys, str(logs["parquet"]), *cmap)
    want_csv = run(capsys, str(logs["csv"]), *cmap)  # the same rows, read by econ
    want_hh = run(capsys, str(fixtures_dir / HH))
    assert_same(run(capsys, str(logs["jsonl"]), *cmap, "--backend", "polars://"), want)
    monkeypatch.chdir(tmp_path)
    in_place(monkeypatch)
    url = f"duckdb:///{logs['db']}"
    assert_same(run(capsys, "--backend", url, "--table", "chat_rows", *cmap), want_csv)
    assert_same(run(capsys, "--backend", url, str(logs["jsonl"]), *cmap), want)
    assert_same(run(capsys, "--backend", url, str(logs["parquet"]), *cmap), want_parquet)
    assert_same(run(capsys, "--backend", url, str(fixtures_dir / HH)), want_hh)
    assert tables(logs["db"]) == ["chat_rows"]  # nothing left behind
    assert list(tmp_path.iterdir()) == []  # nothing written to the current directory


def test_a_failed_run_leaves_nothing_and_names_the_conversation(logs: dict[str, Path],
                                                                tmp_path: Path,
                                                                capsys: Any) -> None:
    import duckdb

    db = tmp_path / "bad.ddb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 0, 'user', 'hi'), "
                "('a', 1, 'assistant', 'yo'), ('b', 0, 'narrator', 'once'), "
                "('b', 1, 'user', 'x')) v(conversation_id, position, role, text)")
    con.close()
    capsys.readouterr()
    assert main(["traffic", "--backend", f"duckdb:///{db}", "--table", "t"]) == 1
    err = capsys.readouterr().err
    assert "--table t: 1 conversation(s) econ cannot read" in err and "conversation b" in err
    assert tables(db) == ["t"]
    got = run(capsys, "--backend", f"duckdb:///{db}", "--table", "t", "--skip-bad")
    assert got["conversations"] == 1 and got["skipped"] == 1
    assert tables(db) == ["t"]


def test_econ_never_replaces_a_table_it_did_not_create() -> None:
    import ibis

    from econ.base.errors import EconError
    from econ.evidence.traffic.scratch import Scratch

    con = ibis.duckdb.connect()
    con.create_table("econ_tmp_mine_src0", ibis.memtable({"a": [1]}))
    with pytest.raises(EconError, match="econ never replaces a table it did not create"):
        Scratch(con, prefix="econ_tmp_mine").read("x.jsonl", "json")
    assert con.table("econ_tmp_mine_src0").count().to_pyarrow().as_py() == 1


@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_spark_reads_the_files_itself_with_the_same_figures(
        spark_backend: Any, logs: dict[str, Path], fixtures_dir: Path, capsys: Any,
        tmp_path: Path, monkeypatch: Any) -> None:
    want_hh = run(capsys, str(fixtures_dir / HH))
    want = run(capsys, str(logs["jsonl"]), "--capability-map", str(logs["map"]))
    session = spark_backend._session
    before = sorted(t.name for t in session.catalog.listTables())
    monkeypatch.chdir(tmp_path)
    in_place(monkeypatch)
    assert_same(run(capsys, str(fixtures_dir / HH), "--backend", "pyspark://"), want_hh)
    assert_same(run(capsys, str(logs["jsonl"]), "--capability-map", str(logs["map"]),
               "--backend", "pyspark://"), want)
    assert sorted(t.name for t in session.catalog.listTables()) == before
    assert list(tmp_path.iterdir()) == []  # no ./spark-warehouse, no metastore


def test_evals_read_a_bounded_sample_of_texts(logs: dict[str, Path], fixtures_dir: Path,
                                              capsys: Any) -> None:
    got = run(capsys, str(logs["jsonl"]), "--evals",
              str(fixtures_dir / "lmeval_samples_math_perturbed.jsonl"), "--text-sample", "30")
    sample = got["coverage"]["sample"]
    assert (sample["conversations"], sample["of"]) == (30, 300)
    assert sum(c["n"] for c in got["coverage"]["clusters"]) <= 30


def test_progress_has_a_bar_per_stage(capsys: Any) -> None:
    from econ.cli.traffic_cmd import staged_progress

    show = staged_progress()
    for stage, total in (("read", 1.0), ("assign", 1.0), ("summarise", 2.0),
                         ("count", 500.0)):
        show(stage, 0, total)
        show(stage, total / 2, total)
        show(stage, total, total)
        show(stage, total, total)  # a finished stage draws no more
    err = capsys.readouterr().err
    lines = err.split("\n")
    assert [ln.rsplit("\r", 1)[-1].split()[0] for ln in lines if ln] == \
        ["read", "assign", "summarise", "count"]
    assert "500/500 messages" in err and err.count("100.0%") == 3
