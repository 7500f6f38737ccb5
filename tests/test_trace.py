"""econ trace: AIPerf multi_turn conversations of a scenario's shape (format, mix, spreads, seeds,
refusals). The expected figures are recomputed here from the raw YAML, not by econ."""

from __future__ import annotations

import json
import math
import statistics

import pytest

from econ.cli import main
from tests.conftest import SELF_HOSTED, raw_yaml


def trace(capsys, tmp_path, *args: str, scenario=SELF_HOSTED, name: str = "t.jsonl"):
    out = tmp_path / name
    try:
        code = main(["trace", str(scenario), *args, "-o", str(out)])
    except SystemExit as exc:  # argparse refuses a bad argument with exit 1
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    return code, out, err


def lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def user_turns(rec):
    return [t for t in rec["turns"] if t.get("role") != "system"]


def test_records_follow_aiperf_multi_turn_format(capsys, tmp_path):
    code, out, err = trace(capsys, tmp_path, "--model", "llama-8b", "--conversations", "40",
                           "--seed", "1")
    assert code == 0, err
    recs = lines(out)
    y = raw_yaml(SELF_HOSTED)
    system_words = int(y["conversation"]["system_prompt_tokens"])
    assert len(recs) == 40
    assert len({r["session_id"] for r in recs}) == 40
    systems = set()
    for r in recs:
        assert set(r) == {"session_id", "turns"}
        first = r["turns"][0]
        # a leading text-only system turn, which AIPerf hoists into the system message
        assert first["role"] == "system" and set(first) == {"role", "text"}
        assert len(first["text"].split()) == system_words
        systems.add(first["text"])
        for t in user_turns(r):
            assert set(t) == {"text", "output_length"}
            assert t["text"].strip() and isinstance(t["output_length"], int)
            assert t["output_length"] > 0
    assert len(systems) == 1  # one product system prompt, shared
    assert "AIPerf multi_turn" in err and "--custom-dataset-type multi_turn" in err


def test_capabilities_mixed_by_traffic_share_and_shaped_by_overrides(capsys, tmp_path):
    n = 600
    code, out, err = trace(capsys, tmp_path, "--model", "llama-8b", "--conversations", str(n),
                           "--seed", "5")
    assert code == 0, err
    recs = lines(out)
    y = raw_yaml(SELF_HOSTED)
    shares = {c["id"]: c["traffic_share"] for c in y["capabilities"] if c["traffic_share"] > 0}
    shares["uncategorised"] = 1 - sum(c["traffic_share"] for c in y["capabilities"])
    counts: dict[str, int] = {}
    for r in recs:
        cap = r["session_id"].removeprefix("econ-").rsplit("-", 1)[0]
        counts[cap] = counts.get(cap, 0) + 1
    assert sum(counts.values()) == n
    for cap, share in shares.items():  # largest remainder: floor or ceiling of n × share
        assert math.floor(n * share) <= counts.get(cap, 0) <= math.ceil(n * share), cap
    # the code capability's own user_tokens_per_turn (an override) against the default
    code_cap = next(c for c in y["capabilities"] if c["id"] == "code_help")
    want_code = code_cap["conversation"]["user_tokens_per_turn"]
    want_default = y["conversation"]["user_tokens_per_turn"]

    def mean_user_words(prefix):
        words = [len(t["text"].split()) for r in recs if r["session_id"].startswith(prefix)
                 for t in user_turns(r)]
        return statistics.mean(words)

    assert mean_user_words("econ-code_help-") == pytest.approx(want_code, rel=0.15)
    assert mean_user_words("econ-creative_assist-") == pytest.approx(want_default, rel=0.1)
    # lengths spread (token_length_cv 0.25), turns spread (turns_cv 0.3), means kept
    outs = [user_turns(r)[0]["output_length"] for r in recs]
    assert statistics.pstdev(outs) / statistics.mean(outs) == pytest.approx(
        y["conversation"]["token_length_cv"], abs=0.07)
    assert statistics.mean(outs) == pytest.approx(y["conversation"]["assistant_tokens_per_turn"],
                                                  rel=0.05)
    turns = [len(user_turns(r)) for r in recs]
    assert len(set(turns)) > 2
    assert statistics.mean(turns) == pytest.approx(y["conversation"]["turns"], rel=0.1)


def test_without_spreads_every_conversation_has_the_shape(capsys, tmp_path):
    text = SELF_HOSTED.read_text()
    for old in ("token_length_cv: 0.25", "turns_cv: 0.3"):
        assert old in text
        text = text.replace(old, old.split(":")[0] + ": 0")
    text = text.replace("../data/", str(SELF_HOSTED.parent.parent / "data") + "/")
    p = tmp_path / "flat.yaml"
    p.write_text(text)
    code, out, err = trace(capsys, tmp_path, "--model", "llama-8b", "--conversations", "30",
                           "--seed", "2", scenario=p)
    assert code == 0, err
    y = raw_yaml(SELF_HOSTED)
    shapes = {c["id"]: {**y["conversation"], **(c.get("conversation") or {})}
              for c in y["capabilities"]}
    shapes["uncategorised"] = y["conversation"]
    for r in lines(out):
        shape = shapes[r["session_id"].removeprefix("econ-").rsplit("-", 1)[0]]
        turns = user_turns(r)
        assert len(turns) == shape["turns"]
        for t in turns:
            assert len(t["text"].split()) == round(shape["user_tokens_per_turn"])
            assert t["output_length"] == round(shape["assistant_tokens_per_turn"])


def test_seeded(capsys, tmp_path):
    args = ("--model", "llama-8b", "--conversations", "25")
    _, a, _ = trace(capsys, tmp_path, *args, "--seed", "9", name="a.jsonl")
    _, b, _ = trace(capsys, tmp_path, *args, "--seed", "9", name="b.jsonl")
    _, c, _ = trace(capsys, tmp_path, *args, "--seed", "10", name="c.jsonl")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_think_time_and_ignore_eos(capsys, tmp_path):
    code, out, err = trace(capsys, tmp_path, "--model", "llama-8b", "--conversations", "5",
                           "--seed", "1", "--think-time-s", "1.5", "--ignore-eos")
    assert code == 0, err
    for r in lines(out):
        turns = user_turns(r)
        assert "delay" not in turns[0]  # AIPerf: no delay before the first turn
        assert all(t["delay"] == 1500.0 for t in turns[1:])
        assert all(t["extra"] == {"ignore_eos": True, "min_tokens": t["output_length"]}
                   for t in turns)


@pytest.mark.parametrize(("args", "message"), [
    (("--model", "llama-8b", "--conversations", "0", "--seed", "1"),
     "argument --conversations: must be at least 1 (got 0)"),
    (("--model", "llama-8b", "--conversations", "3", "--seed", "-1"),
     "argument --seed: must be 0 or more (got -1)"),
    (("--model", "llama-8b", "--conversations", "x", "--seed", "1"),
     "argument --conversations: not a whole number: 'x'"),
    (("--model", "llama-8b", "--conversations", "3", "--seed", "1", "--think-time-s", "-2"),
     "argument --think-time-s: must be 0 or more (got -2)"),
    (("--model", "gpt-4o", "--conversations", "3", "--seed", "1"),
     "--model gpt-4o: not a self-hosted model of the scenario (a trace measures the GPU time of "
     "a server you run); self-hosted: llama-70b, llama-8b, qwen-1.5b"),
    (("--model", "llama8b", "--conversations", "3", "--seed", "1"),
     "--model llama8b: not a model of the scenario (a trace measures the GPU time of a server "
     "you run); self-hosted: llama-70b, llama-8b, qwen-1.5b"),
])
def test_bad_trace_arguments_refused(capsys, tmp_path, args, message):
    code, out, err = trace(capsys, tmp_path, *args)
    assert code == 1
    assert err.strip().splitlines()[-1].endswith(message)
    assert not out.exists()


def test_history_not_resent_is_refused(capsys, tmp_path):
    text = SELF_HOSTED.read_text().replace("../data/",
                                           str(SELF_HOSTED.parent.parent / "data") + "/")
    old = "      user_tokens_per_turn: 1500   # [assumption] pasted code"
    assert old in text
    p = tmp_path / "s.yaml"
    p.write_text(text.replace(old, old + "\n      resend_history: false"))
    code, out, err = trace(capsys, tmp_path, "--model", "llama-8b", "--conversations", "3",
                           "--seed", "1", scenario=p)
    i = next(i for i, c in enumerate(raw_yaml(p)["capabilities"]) if c["id"] == "code_help")
    assert code == 1
    assert err.strip() == (f"capabilities.{i}.conversation.resend_history: false is not a "
                           "conversation AIPerf's multi_turn format can replay (it re-sends the "
                           "history with every turn)")
    assert not out.exists()


def test_missing_output_folder_refused(capsys, tmp_path):
    out = tmp_path / "nope" / "t.jsonl"
    code = main(["trace", str(SELF_HOSTED), "--model", "llama-8b", "--conversations", "3",
                 "--seed", "1", "-o", str(out)])
    assert code == 1
    assert capsys.readouterr().err.strip() == f"{out}: the folder {out.parent} does not exist"


def test_a_reasoning_model_decodes_its_reasoning_in_every_turn(capsys, tmp_path):
    """qwen-1.5b states 2,000 reasoning tokens a turn, llama-8b none: with the same seed the
    draws are the same, so every turn's output_length differs by exactly the reasoning."""
    y = raw_yaml(SELF_HOSTED)
    r = y["models"]["qwen-1.5b"]["reasoning_tokens_per_turn"]
    assert r == 2000 and y["models"]["llama-8b"].get("reasoning_tokens_per_turn", 0) == 0
    runs = {}
    for model in ("llama-8b", "qwen-1.5b"):
        code, out, err = trace(capsys, tmp_path, "--model", model, "--conversations", "30",
                               "--seed", "7", name=f"{model}.jsonl")
        assert code == 0, err
        runs[model] = [t["output_length"] for rec in lines(out) for t in user_turns(rec)]
    assert len(runs["llama-8b"]) == len(runs["qwen-1.5b"]) > 30
    assert all(q - p == r for p, q in zip(runs["llama-8b"], runs["qwen-1.5b"], strict=True))
