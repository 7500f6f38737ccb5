"""Modern log shapes: tool calls, developer messages, Anthropic blocks, ShareGPT function calls,
images; --skip-bad by reason (issue 25, item 5).

The logs are real public examples (tests/data/traffic_formats/README.md names each source and
commit) or reconstructions marked as such there. Expected figures are counted here from the raw
JSON, independently of the readers.
"""

from __future__ import annotations

import gzip
import io
import json
import math
from pathlib import Path

import pytest

from econ.base.errors import EconError
from econ.cli import main
from econ.evidence.traffic import read_log
from econ.evidence.traffic.images import (
    anthropic_image_tokens,
    image_size,
    openai_image_tokens,
)

DATA = Path(__file__).parent / "data" / "traffic_formats"
GLAIVE = DATA / "glaive_toolcall_en_demo_head40.json.gz"
ANTHROPIC = DATA / "anthropic_tool_runner.jsonl"
OPENAI = DATA / "openai_tools.jsonl"
MLLM = DATA / "llamafactory_mllm_demo.json"
ANTHROPIC_SYSTEM = DATA / "anthropic_reconstructed.jsonl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def cl100k(text: str) -> int:
    from econ.evidence.traffic.tokens import count_tokens

    return count_tokens([text])[0]


def test_sharegpt_function_calls_and_observations_are_tool_classes() -> None:
    records = json.loads(gzip.decompress(GLAIVE.read_bytes()))
    frame, skipped = read_log(GLAIVE.read_bytes(), GLAIVE.name)
    assert skipped == 0
    froms = [m["from"] for r in records for m in r["conversations"]]
    counts = frame["role"].value_counts().to_dict()
    assert counts["user"] == froms.count("human")
    assert counts["assistant"] == froms.count("gpt")
    assert counts["tool_call"] == froms.count("function_call") == 29
    assert counts["tool"] == froms.count("observation") == 29
    # the tool definitions are billed with the system prompt: one system row per record
    # that defines tools
    assert counts["system"] == sum(1 for r in records if r["tools"].strip() != "[]")
    # a function call and its observation belong to the turn of the question before them
    for cid, (rows, rec) in enumerate(zip(
            (g for _, g in frame.groupby("conversation_id", sort=False)), records,
            strict=True)):
        expected, turn = [], 0
        for m in rec["conversations"]:
            turn += m["from"] == "human"
            expected.append(turn)
        assert rows[rows["role"] != "system"]["turn"].tolist() == expected, cid


def test_anthropic_tool_result_is_not_a_user_turn() -> None:
    lines = [json.loads(x) for x in ANTHROPIC.read_text().splitlines()]
    with pytest.raises(EconError, match=r"anthropic_tool_runner.jsonl:3: roles out of order: a "
                                        r"tool result follows a user message"):
        read_log(ANTHROPIC.read_bytes(), ANTHROPIC.name)
    frame, skipped = read_log(ANTHROPIC.read_bytes(), ANTHROPIC.name, skip_bad=True)
    assert skipped == 1  # the request the API itself refused
    for rec, (_, rows) in zip(lines[:2], frame.groupby("conversation_id", sort=False),
                              strict=True):
        assert rows["role"].tolist() == ["system", "user", "tool_call", "tool", "assistant"]
        assert rows["turn"].max() == 1  # the tool_result did not open a second turn
        assert rows["tokens"].iloc[-1] == rec["usage"]["output_tokens"]
        result = rec["messages"][2]["content"][0]["content"]
        assert rows["text"].iloc[3] == result


def test_anthropic_system_thinking_and_block_results() -> None:
    frame, _ = read_log(ANTHROPIC_SYSTEM.read_bytes(), ANTHROPIC_SYSTEM.name)
    assert frame["role"].tolist() == ["system", "user", "image", "assistant", "tool_call",
                                      "tool", "assistant"]
    assert frame["text"].iloc[0] == "You are a weather assistant. Answer in one sentence."
    texts = " ".join(t for t in frame["text"] if isinstance(t, str))
    assert "blank. I should" not in texts  # the thinking block is not answer text
    assert frame["tokens"].iloc[2] == math.ceil(1000 * 1000 / 750)  # Anthropic's rule
    assert frame["tokens"].iloc[-1] == 19 and frame["turn"].max() == 1


def test_openai_developer_tool_and_function_roles() -> None:
    lines = [json.loads(x) for x in OPENAI.read_text().splitlines()]
    frame, _ = read_log(OPENAI.read_bytes(), OPENAI.name)
    by = {cid: rows for cid, rows in frame.groupby("conversation_id", sort=False)}
    assert by["msft-learn-functions"]["role"].tolist() == ["system", "user", "tool_call"]
    assert by["msft-learn-tools"]["role"].tolist() == ["system", "user", "tool_call"]
    # an empty content beside tool_calls is no answer; the tool result follows the call
    assert by["community-966285"]["role"].tolist() == ["user", "tool_call", "tool",
                                                       "assistant"]
    rows = by["reconstructed-developer-images"]
    assert rows["role"].tolist() == ["system", "system", "user", "image", "image", "image",
                                     "tool_call", "tool_call", "tool", "tool", "assistant",
                                     "user", "assistant"]
    assert rows["text"].iloc[0] == json.dumps(lines[3]["tools"], ensure_ascii=False)
    assert rows["text"].iloc[1] == "You are a helpful assistant."  # the developer message
    images = rows[rows["role"] == "image"]["tokens"].tolist()
    assert images[:2] == [765.0, 85.0] and math.isnan(images[2])  # by URL, no detail: unknown
    assert rows["turn"].tolist()[-2:] == [2, 2]
    assert rows["tokens"].iloc[-1] == lines[3]["usage"]["completion_tokens"]


def test_image_token_rules_match_the_published_examples() -> None:
    # OpenAI's vision guide: 1024 x 1024 high = 765, 2048 x 4096 high = 1105, low = 85
    assert openai_image_tokens((1024, 1024), "high") == 765
    assert openai_image_tokens((2048, 4096), "high") == 1105
    assert openai_image_tokens((4096, 8192), "low") == 85
    assert openai_image_tokens((500, 500), None) == 85 + 170  # not scaled up: one tile
    assert math.isnan(openai_image_tokens(None, "high"))
    # Anthropic: long edge to 1568, then w * h / 750
    assert anthropic_image_tokens((1000, 1000)) == 1334
    assert anthropic_image_tokens((2000, 1000)) == math.ceil(1568 * 784 / 750)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_image_sizes_are_read_from_the_header(fmt: str) -> None:
    pil = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    pil.new("RGB", (321, 123), "white").save(buf, format=fmt)
    assert image_size(buf.getvalue()) == (321, 123)


def test_images_by_path_are_counted_but_not_costed() -> None:
    records = json.loads(MLLM.read_text())
    frame, _ = read_log(MLLM.read_bytes(), MLLM.name)
    images = frame[frame["role"] == "image"]
    assert len(images) == sum(len(r["images"]) for r in records)
    assert images["tokens"].isna().all()


def test_a_log_with_tool_calls_and_a_developer_message_counts_tool_tokens(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "traffic", str(OPENAI), "--json")
    assert code == 0, err
    got = json.loads(out)
    lines = [json.loads(x) for x in OPENAI.read_text().splitlines()]
    turns = sum(sum(m["role"] == "user" for m in r["messages"]) for r in lines)
    results = [m["content"] for r in lines for m in r["messages"] if m["role"] == "tool"]
    tokens = got["tokens_per_turn"]
    assert tokens["tool_result"]["messages"] == len(results) == 3
    assert tokens["tool_result"]["mean"] == pytest.approx(sum(map(cl100k, results)) / turns)
    assert tokens["tool_result"]["billed_as"] == "input"
    assert tokens["tool_call"]["messages"] == 5 and tokens["tool_call"]["mean"] > 0
    assert tokens["image"] == {"mean": pytest.approx((765 + 85) / turns), "images": 3,
                               "counted": 2, "billed_as": "input"}
    code, out, _ = run(capsys, "traffic", str(OPENAI))
    assert "tool traffic per turn" in out and "1 not counted" in out


def test_skip_bad_counts_each_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "mixed.jsonl"
    good = json.dumps({"messages": [{"role": "user", "content": "hi"},
                                    {"role": "assistant", "content": "hello"}]})
    log.write_bytes(b"\n".join([
        good.encode(), ANTHROPIC.read_text().splitlines()[2].encode(),  # refused by the API
        b'{"messages": [{"role": "user", "content": "\xff"}]}',
        b'{"messages": [', b'{"id": 7}',
        json.dumps({"messages": [{"role": "narrator", "content": "x"}]}).encode(),
        good.encode()]) + b"\n")
    code, _, err = run(capsys, "traffic", str(log))
    assert code == 1 and "mixed.jsonl:2: roles out of order" in err
    code, out, err = run(capsys, "traffic", str(log), "--skip-bad", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["conversations"] == 2 and got["skipped"] == 5
    assert got["skipped_by_reason"] == {"no messages": 1, "not UTF-8": 1, "not valid JSON": 1,
                                        "roles out of order": 1, "unknown role": 1}


def test_tool_rows_from_a_csv_of_messages(tmp_path: Path) -> None:
    from econ.evidence.traffic.detect import iter_conversations

    csv = tmp_path / "m.csv"
    csv.write_text("conversation_id,role,content,tokens\n1,developer,be brief,3\n1,user,hi,1\n"
                   "1,assistant,,\n1,tool,42,2\n1,assistant,it is 42,4\n")
    (rows,) = list(iter_conversations(csv, "m.csv"))
    # the empty assistant row is the call whose arguments the export left out
    assert [r[2] for r in rows] == ["system", "user", "assistant", "tool", "assistant"]
    tokens = [r[4] for r in rows]
    assert tokens[:2] + tokens[3:] == [3.0, 1.0, 2.0, 4.0] and math.isnan(tokens[2])


def test_cache_share_weights_tool_traffic_by_hand(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Turn 1: user u1, call c1, result r1, answer a1; turn 2: user u2, answer a2; system s.
    With history re-sent, input over the two turns is 2s + 2u1 + 2r1 + c1 + a1 + u2 and the
    re-sent part s + u1 + r1 + c1 + a1 (calls and answers are output in their own turn)."""
    s, u1, c1, r1, a1, u2, a2 = 5, 7, 11, 13, 17, 19, 23
    rec = {"messages": [
        {"role": "system", "content": "s", "tokens": s},
        {"role": "user", "content": "u1", "tokens": u1},
        {"role": "assistant", "content": None, "tool_calls": [
            {"function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "content": "r1", "tokens": r1},
        {"role": "assistant", "content": "a1", "tokens": a1},
        {"role": "user", "content": "u2", "tokens": u2},
        {"role": "assistant", "content": "a2", "tokens": a2}]}
    log = tmp_path / "t.jsonl"
    log.write_text(json.dumps(rec) + "\n")
    # the call's text is counted by tiktoken: read it back to use its count
    code, out, err = run(capsys, "traffic", str(log), "--json")
    assert code == 0, err
    got = json.loads(out)
    c1 = got["tokens_per_turn"]["tool_call"]["mean"] * 2  # per turn over 2 turns
    assert c1 == cl100k("f {}")
    expect = (s + u1 + r1 + c1 + a1) / (2 * s + 2 * u1 + 2 * r1 + c1 + a1 + u2)
    assert got["cache_hit_share"] == pytest.approx(expect, rel=1e-12)
    assert got["tokens_per_turn"]["tool_result"]["mean"] == r1 / 2


def test_write_back_bills_tool_traffic_with_user_and_assistant_tokens(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    scenario = folder / "frontier-vs-distilled.yaml"  # a copy, with its benchmark files
    # --write counts in the encoding most of the written scenario's models use (o200k)
    code, out, err = run(capsys, "traffic", str(GLAIVE), "--scenario", str(scenario), "--json")
    assert code == 0, err
    assert json.loads(out)["tokenizer"] == "tiktoken:o200k_base"
    tokens = json.loads(out)["tokens_per_turn"]
    code, _, err = run(capsys, "traffic", str(GLAIVE), "--write", str(scenario))
    assert code == 0, err
    conv = yaml.safe_load(scenario.read_text())["conversation"]
    want_user = tokens["user"]["mean"] + tokens["tool_result"]["mean"]
    want_assistant = tokens["assistant"]["mean"] + tokens["tool_call"]["mean"]
    assert conv["user_tokens_per_turn"] == pytest.approx(want_user, abs=0.05)
    assert conv["assistant_tokens_per_turn"] == pytest.approx(want_assistant, abs=0.05)
    line = next(x for x in scenario.read_text().splitlines()
                if x.strip().startswith("user_tokens_per_turn:"))
    assert "+ tool results" in line and "billed alike" in line and "o200k_base" in line


def test_each_model_is_counted_in_its_own_encoding() -> None:
    """Issue 25, item 10: o200k for the GPT-4o and o-series families (tiktoken's own table),
    cl100k for GPT-4, and cl100k standing in, said so, for models whose tokenizer is not
    bundled."""
    from econ.evidence.traffic.tokens import encoding_file, encoding_for

    got = {n: (t.encoding, t.exact) for n in ("o1", "gpt-4o", "openai/gpt-4o-mini",
                                              "azure/gpt-4o-2024-08-06", "o3-mini", "gpt-4",
                                              "llama-3.1-8b", "claude-sonnet-4-5")
           for t in [encoding_for("m", n)]}
    assert got == {"o1": ("o200k_base", True), "gpt-4o": ("o200k_base", True),
                   "openai/gpt-4o-mini": ("o200k_base", True),
                   "azure/gpt-4o-2024-08-06": ("o200k_base", True),
                   "o3-mini": ("o200k_base", True), "gpt-4": ("cl100k_base", True),
                   "llama-3.1-8b": ("cl100k_base", False),
                   "claude-sonnet-4-5": ("cl100k_base", False)}
    # both encodings ship inside litellm's package: nothing is downloaded
    for enc in ("o200k_base", "cl100k_base"):
        path = encoding_file(enc)
        assert path is not None and "litellm" in str(path)


def test_a_missing_encoding_is_refused_not_downloaded(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from econ.evidence.traffic import tokens

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    tokens._encoding.cache_clear()
    try:
        with pytest.raises(EconError, match=r"o200k_base is not available offline.*never "
                                            r"downloads it at run time.*fb374d419588a4632f3f557e"):
            tokens.count_tokens(["hello"], "o200k_base")
    finally:
        tokens._encoding.cache_clear()


def test_tokens_per_model_encoding_by_hand(folder: Path, fixtures_dir: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The default scenario's API models use o200k, its distilled Llama a cl100k stand-in: the
    figures are given in both, each checked against tiktoken run here on every user message."""
    import tiktoken

    from econ.evidence.traffic.tokens import encodings_dir

    log = fixtures_dir / "hh-rlhf_harmless-base_test.jsonl.gz"
    code, out, err = run(capsys, "traffic", str(log), "--scenario",
                         str(folder / "frontier-vs-distilled.yaml"), "--token-sample", "0",
                         "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["tokenizer"] == "tiktoken:o200k_base"
    assert {t["model"]: (t["encoding"], t["exact"]) for t in got["tokenizers"]} == {
        "o1": ("o200k_base", True), "gpt-4o": ("o200k_base", True),
        "gpt-4o-mini": ("o200k_base", True), "llama-8b-distilled": ("cl100k_base", False)}
    frame, _ = read_log(log.read_bytes(), log.name)
    users = list(frame[frame["role"] == "user"]["text"])
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(encodings_dir()))
    o200k, cl100k_ = (tiktoken.get_encoding(e) for e in ("o200k_base", "cl100k_base"))
    want_o = sum(len(o200k.encode_ordinary(t)) for t in users) / len(users)
    want_c = sum(len(cl100k_.encode_ordinary(t)) for t in users) / len(users)
    assert got["tokens_per_turn"]["user"]["mean"] == pytest.approx(want_o, rel=1e-12)
    other = got["tokens_per_turn_by_encoding"]["cl100k_base"]
    assert other["user"]["mean"] == pytest.approx(want_c, rel=1e-12)
    assert want_o != want_c
