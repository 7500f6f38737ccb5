"""Traffic readers: the tidy table checked against direct counts done here in plain Python."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from econ.base.errors import EconError
from econ.evidence.traffic import COLUMNS, read_log

HH = "hh-rlhf_harmless-base_test.jsonl.gz"


def test_hh_rlhf_turns_match_a_direct_count(fixtures_dir: Path) -> None:
    data = (fixtures_dir / HH).read_bytes()
    frame, skipped = read_log(data, HH)
    assert list(frame.columns) == COLUMNS and skipped == 0
    records = [json.loads(x) for x in gzip.decompress(data).decode().splitlines() if x.strip()]
    # independent count: occurrences of the speaker markers in the chosen transcript
    humans = [r["chosen"].count("\n\nHuman:") for r in records]
    assistants = [r["chosen"].count("\n\nAssistant:") for r in records]
    assert frame["conversation_id"].nunique() == len(records) == 2312
    assert (frame["role"] == "user").sum() == sum(humans)
    assert (frame["role"] == "assistant").sum() == sum(assistants)
    turns = frame.groupby("conversation_id", sort=False)["turn"].max().tolist()
    assert sorted(turns) == sorted(humans)


def test_openai_sharegpt_wildchat_read_alike() -> None:
    openai = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"},
                           {"role": "assistant", "content": "b"}],
              "usage": {"completion_tokens": 7}}
    share = {"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}
    wild = {"conversation": [{"role": "user", "content": "a"},
                             {"role": "assistant", "content": "b"}],
            "turn": 1, "model": "gpt-4"}
    for rec in (openai, share, wild):
        frame, _ = read_log(gzip.compress(json.dumps(rec).encode()), "x.jsonl.gz")
        body = frame[frame["role"] != "system"]
        assert body[["turn", "role", "text"]].values.tolist() == [[1, "user", "a"],
                                                                  [1, "assistant", "b"]]
    frame, _ = read_log(json.dumps(openai).encode(), "o.jsonl")
    assert frame["tokens"].iloc[-1] == 7.0 and frame["turn"].iloc[0] == 0


@pytest.mark.parametrize(("data", "needle"), [
    (gzip.compress(b'{"messages": []}\n' * 50, mtime=0)[:-10], "truncated"),
    (b'{"messages": [{"role": "user", "content": "a"}]}\n{"id": 3}\n', "o.jsonl:2: record has no"),
    (b'{"messages": [{"role": "assistant", "content": "a"}]}\n', "o.jsonl:1: roles out of order"),
    (b'{"messages": [{"role": "user", "content": "a"}]}\n{"messages": [{"role": "user", '
     b'"content": "\xff"}]}\n', "o.jsonl:2: text is not UTF-8"),
])
def test_bad_input_names_file_and_line(data: bytes, needle: str) -> None:
    with pytest.raises(EconError, match=needle):
        read_log(data, "o.jsonl")


def test_non_utf8_skipped_with_a_count() -> None:
    data = (b'{"messages": [{"role": "user", "content": "a"}]}\n{"messages": [{"role": "user", '
            b'"content": "\xff"}]}\n')
    frame, skipped = read_log(data, "o.jsonl", skip_bad=True)
    assert skipped == 1 and len(frame) == 1
