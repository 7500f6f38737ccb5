"""Chat logs read by DuckDB itself (``native_chat``) give the rows of the Python readers.

OpenAI ``messages``, ShareGPT ``conversations`` and WildChat ``conversation`` records in JSON
Lines (gz, blank lines) and Parquet, with system / developer messages, a top-level system
prompt, tool results, ShareGPT function calls, null contents, logged token counts and
``usage``: the staged rows (ids, turns, classes, tokens, texts) are compared with those of the
Python readers (``LogScan``), which are the reference. Files of other shapes (content parts, tool
calls, images, Anthropic blocks) or with a bad line are left whole to the Python readers, which
name the file and line; ``econ traffic`` gives the same JSON either way.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest

from econ.cli.main import main
from tests.same_figures import assert_same

DATA = Path(__file__).parent / "data" / "traffic_formats"
WORDS = ["python", "код", "编程", "def f(x):", "hôtel", "[INST] hi", "{not json", "  ", "", "\n",
         "é\u00a0", "\\n", '"q"', "ok", "recipe", "doctor"]
STYLES = {"openai": ("messages", "role", "content", "user", "assistant", "system"),
          "sharegpt": ("conversations", "from", "value", "human", "gpt", "system"),
          "wildchat": ("conversation", "role", "content", "User", "ASSISTANT", "developer")}
MAP = {"text": {"code": {"keywords": ["python", "код", "编程"]},
                "food": {"keywords": ["recipe"]}, "health": {"keywords": ["doctor"]}}}


def record(rng: random.Random, i: int, style: str) -> dict[str, Any]:
    """A well-ordered conversation the native reader takes, with most of what it handles."""
    key, rk, tk, user, assistant, system = STYLES[style]
    msgs: list[dict[str, Any]] = []
    if rng.random() < 0.3:
        msgs.append({rk: system, tk: rng.choice(WORDS) * 3})
    for _ in range(rng.randint(1, 4)):
        text = " ".join(rng.choices(WORDS, k=3))
        msgs.append({rk: user, tk: None if rng.random() < 0.05 else text})
        if style == "sharegpt" and rng.random() < 0.15:
            msgs += [{rk: "function_call", tk: '{"name": "f"}'}, {rk: "observation", tk: "42"}]
        if style == "openai" and rng.random() < 0.1:
            msgs += [{rk: "assistant", tk: "calling"}, {rk: "tool", tk: "result"},
                     {rk: "function_call" if False else "assistant", tk: None}]
        reply: dict[str, Any] = {rk: assistant, tk: " ".join(rng.choices(WORDS, k=5))}
        if rng.random() < 0.2:
            reply["tokens"] = rng.choice([7, 3.9, True, "5", None])
        msgs.append(reply)
        if rng.random() < 0.1:
            msgs.append({rk: "system", tk: "mid"})
    rec: dict[str, Any] = {"id": i, key: msgs}
    if rng.random() < 0.3:
        rec["system"] = rng.choice(["top", "", None])
    if style == "openai" and rng.random() < 0.3:
        rec["usage"] = rng.choice([{"completion_tokens": rng.randint(1, 99)},
                                   {"completion_tokens": 2.5}, {"prompt_tokens": 3},
                                   {"completion_tokens": None, "output_tokens": None}, None])
    return rec


def write_jsonl(path: Path, recs: list[dict[str, Any]], *, blank: bool = False) -> Path:
    lines = [json.dumps(r, ensure_ascii=i % 2 == 0) for i, r in enumerate(recs)]
    if blank:
        lines[3:3] = ["", "   "]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def write_parquet(path: Path, recs: list[dict[str, Any]], key: str, fields: tuple[str, str],
                  ) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lists = [[{f: m.get(f) for f in fields} for m in r[key]] for r in recs]
    pq.write_table(pa.table({"id": [str(r["id"]) for r in recs], key: lists}), path,
                   row_group_size=max(len(recs) // 5, 1))
    return path


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("chat")
    rng = random.Random(25)
    recs = {s: [record(rng, i, s) for i in range(1500)] for s in STYLES}
    return {"openai": write_jsonl(root / "openai.jsonl.gz", recs["openai"], blank=True),
            "sharegpt": write_jsonl(root / "sharegpt.jsonl", recs["sharegpt"]),
            "wildchat": write_jsonl(root / "wildchat.jsonl", recs["wildchat"]),
            "parquet": write_parquet(root / "chat.parquet", recs["openai"], "messages",
                                     ("role", "content")),
            "sharegpt_parquet": write_parquet(root / "sharegpt.parquet", recs["sharegpt"],
                                              "conversations", ("from", "value")),
            "map": _map(root)}


def _map(root: Path) -> Path:
    path = root / "map.json"
    path.write_text(json.dumps(MAP, ensure_ascii=False))
    return path


def staging() -> Any:
    import duckdb
    import pyarrow as pa

    from econ.evidence.traffic.stream import message_schema

    con = duckdb.connect()
    con.register("econ_empty", pa.Table.from_batches([], schema=message_schema()))
    con.execute("CREATE TABLE traffic_staged AS SELECT * FROM econ_empty")
    return con


def native_rows(path: Path, first: tuple[int, int] = (5, 7)) -> Any:
    from econ.evidence.traffic.native_chat import append_chat

    con = staging()
    got = append_chat(con, path, *first)
    if got is None:
        assert con.execute("SELECT count(*) FROM traffic_staged").fetchone() == (0,)
        return None
    table = con.execute("SELECT * FROM traffic_staged ORDER BY message").to_arrow_table()
    assert got == (len(set(table["conversation"].to_pylist())), table.num_rows)
    return table


def python_rows(path: Path, first: tuple[int, int] = (5, 7)) -> Any:
    import pyarrow as pa

    from econ.evidence.traffic.stream import LogScan, message_schema

    scan = LogScan([path], first_conversation=first[0], first_message=first[1])
    return pa.Table.from_batches(list(scan.batches()), schema=message_schema())


@pytest.mark.parametrize("name", ["openai", "sharegpt", "wildchat", "parquet",
                                  "sharegpt_parquet"])
def test_native_rows_are_the_python_readers_rows(logs: dict[str, Path], name: str) -> None:
    got, want = native_rows(logs[name]), python_rows(logs[name])
    assert got is not None, "DuckDB should read this file itself"
    roles = set(want["role"].to_pylist())
    assert {"system", "user", "assistant"} <= roles  # the file exercises the mapping
    if name.startswith("sharegpt"):
        assert {"tool", "tool_call"} <= roles
    if name == "openai":
        assert "tool" in roles and want["tokens"].null_count < want.num_rows  # logged counts
    for column in want.column_names:  # one column at a time: a failure names it
        assert got[column].to_pylist() == want[column].to_pylist(), column


def test_files_of_other_shapes_are_left_to_the_python_readers(tmp_path: Path) -> None:
    """Content parts, tool calls, images, Anthropic blocks, tool definitions: DuckDB leaves the
    whole file (nothing staged) and the Python readers read it."""
    shapes = {
        "parts": {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
        "calls": {"messages": [{"role": "user", "content": "hi"},
                               {"role": "assistant", "content": None, "tool_calls": [
                                   {"function": {"name": "f", "arguments": "{}"}}]}]},
        "object": {"messages": [{"role": "user", "content": {"a": 1}}]},
        "tools": {"tools": [{"name": "f"}], "messages": [{"role": "user", "content": "hi"}]},
        "images": {"images": ["a.png"], "messages": [{"role": "user", "content": "<image>hi"}]},
        "system list": {"system": [{"text": "s"}], "messages": [{"role": "user", "content": "x"}]},
        "output tokens": {"usage": {"output_tokens": 3},
                          "messages": [{"role": "user", "content": "hi"},
                                       {"role": "assistant", "content": "yo"}]},
        "key clash": {"messages": None, "conversations": [{"from": "human", "value": "hi"}]},
    }
    plain = {"messages": [{"role": "user", "content": "hi"}]}
    for name, rec in shapes.items():
        first_line = rec if name != "key clash" else {"conversations": rec["conversations"]}
        path = write_jsonl(tmp_path / f"{name}.jsonl", [plain, first_line, plain])
        assert native_rows(path) is None, name
    for path in (DATA / "openai_tools.jsonl", DATA / "anthropic_tool_runner.jsonl",
                 DATA / "anthropic_reconstructed.jsonl", DATA / "llamafactory_mllm_demo.json",
                 DATA / "glaive_toolcall_en_demo_head40.json.gz"):
        assert native_rows(path) is None, path.name


def test_a_long_conversation_out_of_step_is_left_to_python(tmp_path: Path) -> None:
    long = [{"role": "system", "content": "s"}]
    for k in range(1500):
        long += [{"role": "user", "content": f"q{k}"}, {"role": "assistant", "content": "a"},
                 {"role": "system", "content": "note"}]
    ok = write_jsonl(tmp_path / "ok.jsonl", [{"messages": long[:600]}])
    assert native_rows(ok)["turn"].to_pylist() == python_rows(ok)["turn"].to_pylist()
    slow = write_jsonl(tmp_path / "slow.jsonl", [{"messages": long}])
    assert native_rows(slow) is None  # quadratic turn numbering refused: Python reads it
    alternating = write_jsonl(tmp_path / "alt.jsonl", [{"messages": [
        {"role": "user" if k % 2 == 0 else "assistant", "content": str(k)} for k in range(6001)]}])
    got = native_rows(alternating)
    assert got is not None and got["turn"].to_pylist() == [k // 2 + 1 for k in range(6001)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(["traffic", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def python_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import econ.evidence.traffic.backend as backend

    monkeypatch.setattr(backend, "append_chat", lambda *a, **k: None)


@pytest.mark.parametrize("sample", ["0", "2000"])
def test_econ_traffic_gives_the_same_json_either_way(logs: dict[str, Path], sample: str,
                                                     capsys: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures, rules and the token sample (a hash of message ids, texts kept by DuckDB only
    for a share of messages) agree with the Python readers'."""
    files = [str(logs[k]) for k in ("openai", "sharegpt", "parquet")]
    argv = [*files, "--json", "--token-sample", sample, "--capability-map", str(logs["map"])]
    code, native, err = run(capsys, *argv)
    assert code == 0, err
    python_only(monkeypatch)
    code, python, err = run(capsys, *argv)
    assert code == 0, err
    got, want = json.loads(native), json.loads(python)
    assert want["conversations"] == 4500 and want["tokenizer"] == "usage+tiktoken:cl100k_base"
    assert_same(got, want)


def test_a_bad_line_names_file_and_line_and_skip_bad_counts_it(logs: dict[str, Path],
                                                               tmp_path: Path,
                                                               capsys: Any) -> None:
    lines = gzip.decompress(logs["openai"].read_bytes()).decode().splitlines()
    bad = tmp_path / "bad.jsonl"
    lines[9] = lines[9][:-5]  # a cut line: line 10
    lines[20] = json.dumps({"messages": [{"role": "assistant", "content": "first"}]})
    bad.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, str(bad), "--json")
    assert code == 1 and f"{bad}:10: not valid JSON" in err and "Traceback" not in err
    code, out, err = run(capsys, str(bad), "--json", "--skip-bad", "--token-sample", "0")
    assert code == 0, err
    got = json.loads(out)
    assert got["skipped"] == 2
    assert got["skipped_by_reason"] == {"not valid JSON": 1, "roles out of order": 1}
    assert got["conversations"] == 1498


def test_hh_transcripts_sample_the_same_texts_as_python(fixtures_dir: Path, capsys: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB keeps the texts of the messages the token sample takes (the smallest hashes in
    the order the engine sorts them), so the sampled counts are the Python readers'."""
    import econ.evidence.traffic.backend as backend

    argv = [str(fixtures_dir / "hh-rlhf_harmless-base_test.jsonl.gz"), "--json",
            "--token-sample", "1500"]
    code, native, err = run(capsys, *argv)
    assert code == 0, err
    monkeypatch.setattr(backend, "append_native", lambda *a, **k: None)
    python_only(monkeypatch)
    code, python, err = run(capsys, *argv)
    assert code == 0, err
    assert_same(json.loads(native), json.loads(python))
