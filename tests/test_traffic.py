"""econ traffic: shape and mix checked against direct counts done here in plain Python."""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from econ.cli.main import main

HH = "hh-rlhf_harmless-base_test.jsonl.gz"
MT = "mtbench_questions.jsonl"
ROOT = Path(__file__).resolve().parents[1]

# Rules a person would write from MT-Bench's category names and typical prompts of each kind.
MT_MAP = {"text": {
    "writing": {"keywords": ["blog", "email", "essay", "story", "poem", "paragraph", "headline",
                             "draft", "compose", "rewrite", "outline", "persuasive", "letter",
                             "article", "slogan"]},
    "roleplay": {"keywords": ["pretend", "role", "persona", "act as", "embody", "embrace",
                              "imagine yourself", "picture yourself", "you are a", "now you are",
                              "assume the role", "character"]},
    "reasoning": {"keywords": ["riddle", "puzzle", "true or false", "relationship between",
                               "how many brothers", "sisters", "father", "does not belong",
                               "shadow", "overtaken", "explanation", "reasons", "statements",
                               "logic"]},
    "math": {"keywords": ["probability", "area", "triangle", "integers", "remainder", "equation",
                          "solve", "calculate", "inequality", "sum", "total cost", "percent",
                          "dice", "express"],
             "regex": [r"\d+\s*[-+*/^=]\s*\d+", r"\b[xyz]\s*[-+*/^=]"]},
    "coding": {"keywords": ["python", "program", "function", "code", "implement", "algorithm",
                            "array", "binary tree", "html", "javascript", "sql", "regex", "bug",
                            "time complexity"]},
    "extraction": {"keywords": ["extract", "json", "identify", "named entities",
                                "following data", "following records", "reviews",
                                "from the presented", "count how many", "output in", "csv",
                                "yaml", "format"]},
    "stem": {"keywords": ["physics", "quantum", "chemical", "chemistry", "biology", "molecular",
                          "photosynthesis", "satellite", "orbit", "reaction", "engineering",
                          "machine learning", "energy", "dna", "scientific", "solar"]},
    "humanities": {"keywords": ["history", "philosophy", "economics", "economic", "gdp", "laws",
                                "culture", "society", "ethics", "politicians", "socrates", "art",
                                "etiquette", "documentary", "mortality", "historical"]},
}}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["traffic", *argv, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def hh_dialogues(path: Path) -> list[list[tuple[str, str]]]:
    """(role, text) of each chosen transcript, split here independently of econ's reader."""
    out = []
    for line in gzip.decompress(path.read_bytes()).decode().splitlines():
        chosen = json.loads(line)["chosen"]
        pieces = re.split(r"\n\n(Human|Assistant):", chosen)
        out.append([("user" if who == "Human" else "assistant", body.strip())
                    for who, body in zip(pieces[1::2], pieces[2::2], strict=True)])
    return out


def test_hh_rlhf_shape_matches_a_direct_count(fixtures_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import tiktoken

    from econ.evidence.traffic.tokens import encodings_dir

    got = run_json(capsys, str(fixtures_dir / HH), "--token-sample", "0")
    dialogues = hh_dialogues(fixtures_dir / HH)
    turns = [sum(role == "user" for role, _ in d) for d in dialogues]
    assert got["conversations"] == len(dialogues) == 2312
    assert got["turns"]["mean"] == pytest.approx(statistics.mean(turns), rel=1e-12)
    assert got["turns"]["p50"] == pytest.approx(float(np.percentile(turns, 50)))
    assert got["turns"]["p90"] == pytest.approx(float(np.percentile(turns, 90)))
    assert got["turns"]["single_turn_share"] == pytest.approx(turns.count(1) / len(turns))
    assert got["turns"]["sd"] == pytest.approx(statistics.stdev(turns), rel=1e-9)

    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(encodings_dir()))
    enc = tiktoken.get_encoding("cl100k_base")
    counts = [[(role, len(enc.encode_ordinary(text))) for role, text in d] for d in dialogues]
    for role in ("user", "assistant"):
        xs = [n for d in counts for r, n in d if r == role]
        assert got["tokens_per_turn"][role]["mean"] == pytest.approx(statistics.mean(xs))
        assert got["tokens_per_turn"][role]["sd"] == pytest.approx(statistics.stdev(xs))
    assert got["tokens_per_turn"]["system"]["mean"] == 0.0
    assert got["tokenizer"] == "tiktoken:cl100k_base"
    # cacheable share: each turn's prompt is all earlier messages plus its new user message
    prompt = cached = 0
    for d in counts:
        for i, (role, n) in enumerate(d):
            if role == "user":
                history = sum(m for _, m in d[:i])
                prompt += history + n
                cached += history
    assert got["cache_hit_share"] == pytest.approx(cached / prompt, rel=1e-12)


def test_hh_rlhf_duckdb_and_polars_agree(fixtures_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    duck = run_json(capsys, str(fixtures_dir / HH))
    polars = run_json(capsys, str(fixtures_dir / HH), "--backend", "polars://")
    assert duck == polars and duck["conversations"] == 2312


def mtbench_traffic(fixtures_dir: Path, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    rows = [json.loads(x) for x in (fixtures_dir / MT).read_text().splitlines() if x.strip()]
    log = tmp_path / "mt.jsonl"
    log.write_text("".join(json.dumps({"id": str(r["question_id"]), "conversations": [
        {"from": "human", "value": r["turns"][0]}, {"from": "gpt", "value": "..."},
        {"from": "human", "value": r["turns"][1]}, {"from": "gpt", "value": "..."}]}) + "\n"
        for r in rows))
    cmap = tmp_path / "map.json"
    cmap.write_text(json.dumps(MT_MAP))
    return log, cmap, [r["category"] for r in rows]


def test_mtbench_rules_recover_each_share(fixtures_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from statsmodels.stats.proportion import proportion_confint

    log, cmap, categories = mtbench_traffic(fixtures_dir, tmp_path)
    got = run_json(capsys, str(log), "--capability-map", str(cmap))
    assert [c["id"] for c in got["capabilities"]] == list(MT_MAP["text"])
    for cap in got["capabilities"]:
        assert categories.count(cap["id"]) / len(categories) == 0.125
        lo, hi = proportion_confint(cap["n"], 80, method="wilson")
        assert (cap["ci_low"], cap["ci_high"]) == pytest.approx((lo, hi), abs=1e-9)
        assert cap["ci_low"] <= 0.125 <= cap["ci_high"], cap
    n_categorised = sum(c["n"] for c in got["capabilities"])
    assert got["uncategorised_share"] == pytest.approx((80 - n_categorised) / 80)
    assert sum(c["share"] for c in got["capabilities"]) + got["uncategorised_share"] == \
        pytest.approx(1.0)
    assert got["turns"] == {"mean": 2.0, "p50": 2.0, "p90": 2.0, "single_turn_share": 0.0,
                            "sd": 0.0}
    polars = run_json(capsys, str(log), "--capability-map", str(cmap), "--backend", "polars://")
    assert polars == got


def test_mtbench_rules_mostly_right_per_conversation(fixtures_dir: Path, tmp_path: Path) -> None:
    """Shares could match by luck; the assignment itself is right for most questions."""
    import ibis
    import pyarrow as pa

    from econ.evidence.importers.capmap import CapabilityMap
    from econ.evidence.traffic.mix import conversations

    rows = [json.loads(x) for x in (fixtures_dir / MT).read_text().splitlines() if x.strip()]
    msgs = [(i, t + 1, text) for i, r in enumerate(rows) for t, text in enumerate(r["turns"])]
    table = ibis.memtable(pa.table({"conversation": [m[0] for m in msgs],
                                    "turn": [m[1] for m in msgs], "role": ["user"] * len(msgs),
                                    "text": [m[2] for m in msgs]}))
    rules = CapabilityMap.from_data(MT_MAP, "map").text_patterns()
    got = conversations(table, rules).to_pyarrow().to_pylist()
    by_id = {g["conversation"]: g["capability"] for g in got}
    right = sum(by_id[i] == r["category"] for i, r in enumerate(rows))
    assert right >= 0.6 * len(rows)


def test_scenario_capabilities_listed_even_when_unmatched(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("capabilities:\n  - id: code_help\n  - id: chat\n"
                        "capability_map:\n  text:\n    code_help:\n      keywords: [python]\n"
                        "models: {}\n")
    log = tmp_path / "a.jsonl"
    log.write_text(json.dumps({"messages": [{"role": "user", "content": "fix my Python"}]})
                   + "\n" + json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    got = run_json(capsys, str(log), "--scenario", str(scenario))
    assert [(c["id"], c["n"]) for c in got["capabilities"]] == [("code_help", 1), ("chat", 0)]
    assert got["uncategorised_share"] == 0.5


def test_usage_tokens_and_system_prompt(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "u.csv"
    # one row per message with a tokens column: every count comes from the log
    log.write_text("conversation_id,role,content,tokens\n"
                   "a,system,be brief,10\na,user,hi,4\na,assistant,hello,6\na,user,more,2\n"
                   "a,assistant,ok,8\nb,user,x,3\nb,assistant,y,5\n")
    got = run_json(capsys, str(log))
    assert got["tokenizer"] == "usage"
    assert got["turns"] == {"mean": 1.5, "p50": 1.5, "p90": 1.9, "single_turn_share": 0.5,
                            "sd": pytest.approx(statistics.stdev([1, 2]))}
    assert got["tokens_per_turn"]["user"]["mean"] == pytest.approx(3.0)
    assert got["tokens_per_turn"]["user"]["sd"] == pytest.approx(1.0)
    assert got["tokens_per_turn"]["assistant"]["mean"] == pytest.approx(19 / 3)
    assert got["tokens_per_turn"]["system"]["mean"] == pytest.approx(5.0)
    # a: turn 1 sends 10+4, turn 2 sends 10+4+6 re-sent plus 2; b: 3, nothing re-sent
    assert got["cache_hit_share"] == pytest.approx(20 / (14 + 22 + 3))


def test_csv_messages_column_and_parquet_rows_read_like_jsonl(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    convs = [[("user", "how do I sort a list"), ("assistant", "use sorted"),
              ("user", "and reverse?"), ("assistant", "reverse=True")],
             [("user", "hello there"), ("assistant", "hi")]]
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("".join(json.dumps({"messages": [{"role": r, "content": t} for r, t in c]})
                             + "\n" for c in convs))
    csv = tmp_path / "c.csv"
    quoted = [json.dumps([{"role": r, "content": t} for r, t in c]).replace('"', '""')
              for c in convs]
    csv.write_text("id,payload\n" + "".join(f'{i},"{q}"\n' for i, q in enumerate(quoted)))
    parquet = tmp_path / "c.parquet"
    flat = [(str(i), r, t) for i, c in enumerate(convs) for r, t in c]
    pq.write_table(pa.table({"session_id": [f[0] for f in flat], "speaker": [f[1] for f in flat],
                             "text": [f[2] for f in flat]}), parquet)
    want = run_json(capsys, str(jsonl))
    assert want["conversations"] == 2 and want["turns"]["mean"] == 1.5
    assert run_json(capsys, str(csv)) == want
    assert run_json(capsys, str(parquet)) == want


def test_token_sample_bounds_the_count(fixtures_dir: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    full = run_json(capsys, str(fixtures_dir / HH), "--token-sample", "0")
    part = run_json(capsys, str(fixtures_dir / HH), "--token-sample", "3000")
    assert part["counted_messages"] == 3000 < full["counted_messages"] == full["messages"]
    assert part["turns"] == full["turns"]  # turns never come from the sample
    for role in ("user", "assistant"):  # a uniform sample: means within a few standard errors
        se = full["tokens_per_turn"][role]["sd"] / math.sqrt(3000 / 2)
        assert abs(part["tokens_per_turn"][role]["mean"]
                   - full["tokens_per_turn"][role]["mean"]) < 5 * se
    head = run_json(capsys, str(fixtures_dir / HH), "--sample", "100")
    assert head["conversations"] == 100


BAD = [
    ("trunc.jsonl.gz", gzip.compress(b'{"messages": [{"role": "user", "content": "a"}]}\n' * 2000,
                                     mtime=0)[:-200], "trunc.jsonl.gz:", "truncated"),
    ("none.jsonl", b'{"messages": [{"role": "user", "content": "a"}]}\n{"id": 3}\n',
     "none.jsonl:2:", "no messages"),
    ("order.jsonl", b'{"messages": [{"role": "user", "content": "a"}]}\n'
     b'{"messages": [{"role": "assistant", "content": "a"}]}\n', "order.jsonl:2:",
     "roles out of order"),
    ("utf.jsonl", b'{"messages": [{"role": "user", "content": "a"}]}\n{"messages": [{"role": '
     b'"user", "content": "\xff"}]}\n', "utf.jsonl:2:", "not UTF-8"),
    ("order.csv", b"conversation_id,role,text\na,user,x\na,user,y\n", "order.csv:2:",
     "roles out of order"),
]


@pytest.mark.parametrize(("name", "data", "where", "what"), BAD)
def test_bad_input_exits_1_naming_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                name: str, data: bytes, where: str,
                                                what: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    capsys.readouterr()
    assert main(["traffic", str(path), "--json"]) == 1
    err = capsys.readouterr()
    assert err.out == ""
    line = err.err.strip()
    assert "\n" not in line and what in line and f"{tmp_path / where}" in line


def test_skip_bad_skips_non_utf8_with_a_count(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "utf.jsonl"
    path.write_bytes(BAD[3][1])
    got = run_json(capsys, str(path), "--skip-bad")
    assert got["skipped"] == 1 and got["conversations"] == 1


def test_bad_text_rule_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cmap = tmp_path / "m.yaml"
    cmap.write_text("text:\n  code:\n    regex: ['(unclosed']\n")
    log = tmp_path / "a.jsonl"
    log.write_text(json.dumps({"messages": [{"role": "user", "content": "x"}]}) + "\n")
    assert main(["traffic", str(log), "--capability-map", str(cmap)]) == 1
    assert "text.code.regex: bad regex '(unclosed'" in capsys.readouterr().err


def test_traffic_never_imports_litellm(fixtures_dir: Path, tmp_path: Path) -> None:
    log, cmap, _ = mtbench_traffic(fixtures_dir, tmp_path)
    code = ("import sys\nfrom econ.cli.main import main\n"
            f"rc = main(['traffic', {str(log)!r}, '--capability-map', {str(cmap)!r}, '--json'])\n"
            "assert rc == 0, rc\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'litellm'))\n")
    env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert '"tokenizer": "tiktoken:cl100k_base"' in out.stdout


def test_duckdb_native_transcripts_equal_the_python_reader(fixtures_dir: Path) -> None:
    """DuckDB splits HH transcripts itself; the messages must be exactly the Python reader's."""
    import pyarrow as pa

    from econ.evidence.traffic import read_log
    from econ.evidence.traffic.connect import embedded
    from econ.evidence.traffic.native import append_native
    from econ.evidence.traffic.stream import message_schema

    engine = embedded("256MB")
    try:
        raw = engine.backend.con
        raw.register("e", pa.Table.from_batches([], schema=message_schema()))
        raw.execute("CREATE TABLE traffic_staged AS SELECT * FROM e")
        assert append_native(raw, fixtures_dir / HH, 0, 0) == (2312, 11520)
        rows = raw.execute("SELECT conversation, turn, role, text FROM traffic_staged "
                           "ORDER BY message").fetchall()
    finally:
        engine.close()
    native: dict[int, list[tuple[int, str, str]]] = {}
    for cid, turn, role, text in rows:
        native.setdefault(cid, []).append((turn, role, text))
    frame, _ = read_log((fixtures_dir / HH).read_bytes(), HH)
    python = [list(zip(g["turn"], g["role"], g["text"], strict=True))
              for _, g in frame.groupby("conversation_id", sort=False)]
    assert sorted(native.values()) == sorted(python)


@pytest.mark.parametrize(("records", "needle"), [
    (["\n\nHuman: hi\n\nAssistant: yo", "\n\nAssistant: first\n\nHuman: x"],
     "t.jsonl:2: roles out of order"),
    (["\n\nHuman: hi\n\nAssistant: yo", "no speaker blocks at all"],
     "t.jsonl:2: transcript has no"),
])
def test_bad_transcripts_fall_back_to_the_reader_error(tmp_path: Path, records: list[str],
                                                       needle: str,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"chosen": r, "rejected": r}) + "\n" for r in records))
    capsys.readouterr()
    assert main(["traffic", str(path)]) == 1
    assert needle in capsys.readouterr().err


def test_truncated_transcript_gz_names_a_line(fixtures_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = (fixtures_dir / HH).read_bytes()
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    capsys.readouterr()
    assert main(["traffic", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"cut\.jsonl\.gz:\d+: truncated or corrupt gzip", err), err


def test_evaluate_does_not_load_the_traffic_engine() -> None:
    code = ("import sys, io, contextlib\nfrom econ.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['evaluate', 'scenarios/frontier-vs-distilled.yaml', '--json']) == 0\n"
            "print(sorted(m for m in ('ibis', 'duckdb', 'tiktoken', 'polars', 'pyspark') "
            "if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


def test_native_read_refuses_text_holding_its_separator(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """A transcript holding the record separator (DuckDB's split marker) goes to the Python
    reader, which keeps the text whole."""
    path = tmp_path / "rs.jsonl"
    path.write_text(json.dumps({"chosen": "\n\nHuman: a\x1eHi there\n\nAssistant: b"}) + "\n")
    got = run_json(capsys, str(path))
    assert got["messages"] == 2 and got["turns"]["mean"] == 1.0
