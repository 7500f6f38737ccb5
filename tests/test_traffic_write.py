"""Traffic write-back: only the intended figures change, every comment stays, econ diff agrees."""

from __future__ import annotations

import difflib
import json
import math
import re
from pathlib import Path

import pytest
from scipy.stats import norm

from econ.base.errors import EconError
from econ.cli import main
from econ.model.loader import load_scenario
from econ.scenario.traffic_write import TrafficProvenance, write_traffic

PROV = TrafficProvenance(("hh.jsonl.gz",), "2026-11-28", 2312)
CITE = "(hh.jsonl.gz, 2026-11-28, n=2312)"
SUMMARY = {
    "conversations": 2312,
    "turns": {"mean": 2.31, "p50": 2, "p90": 4, "single_turn_share": 0.3, "sd": 1.4},
    # no system messages in the log: system_prompt_tokens is left as it is
    "tokens_per_turn": {"user": {"mean": 21.4, "sd": 18.0}, "assistant": {"mean": 60.2, "sd": 40.1},
                        "system": {"mean": 0.0}},
    "tokenizer": "tiktoken cl100k_base",
    "capabilities": [{"id": "math", "share": 0.0612, "ci_low": 0.052, "ci_high": 0.071, "n": 141},
                     {"id": "code_help", "share": 0.10, "ci_low": 0.088, "ci_high": 0.113,
                      "n": 231}],
    "uncategorised_share": 0.2,
    "capability_shapes": [
        {"id": "code_help", "n": 231, "turns": {"mean": 3.2},
         "tokens_per_turn": {"user": {"mean": 250.0, "sd": 100.0},
                             "assistant": {"mean": 62.0, "sd": 30.0}}},
        # within 10% of the scenario-wide figures: no override is written
        {"id": "factual_qa", "n": 140, "turns": {"mean": 2.4},
         "tokens_per_turn": {"user": {"mean": 22.0, "sd": 9.0},
                             "assistant": {"mean": 58.0, "sd": 20.0}}}],
    "coverage": {"threshold": 0.97, "unseen_share": 0.05, "clusters": [
        {"share": 115 / 2312, "ci_low": 0.041, "ci_high": 0.059, "n": 115,
         "terms": ["recipe", "soup"], "examples": ["Give me a recipe for soup"],
         "from": {"creative_assist": 100, "uncategorised": 15}}]},
}
NEW_CAP = "unseen_1_recipe_soup"


def _comments(text: str) -> list[str]:
    """The text of every comment (a whole-line comment or the part after '  # ')."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\s*#(.*)$", line) or re.search(r"\s#\s(.*)$", line)
        if m:
            out.append(m.group(1).strip())
    return out


def test_write_back_changes_only_the_intended_figures(folder: Path, capsys) -> None:
    old_path = folder / "frontier-vs-distilled.yaml"
    old = old_path.read_text()
    result = write_traffic(old, SUMMARY, PROV, add_unseen=True)
    new_path = folder / "measured.yaml"
    new_path.write_text(result.text)
    load_scenario(new_path)  # validates, with the same loader as econ validate

    # expected figures, computed here from the summary
    sd = (0.113 - 0.088) / (2 * norm.ppf(0.975))
    cv_tokens = max(18.0 / 21.4, 40.1 / 60.2) / math.sqrt(2312)
    expected = {
        "conversation.turns": (5, 2),
        "conversation.user_tokens_per_turn": (295.58, 21.4),
        "conversation.assistant_tokens_per_turn": (441.34, 60.2),
        "conversation.token_length_cv": (0.25, round(cv_tokens, 4)),
        "conversation.turns_cv": (0.3, round(1.4 / 2.31 / math.sqrt(2312), 4)),
        "capabilities[math].traffic_share": (0.061, 0.0612),
        "capabilities[math].traffic_share_sd": (0.0, round((0.071 - 0.052) / 2 / 1.959964, 4)),
        "capabilities[code_help].traffic_share": (0.067, 0.1),
        "capabilities[code_help].traffic_share_sd": (0.0, round(sd, 4)),
        "capabilities[code_help].conversation.turns": (None, 3),
        "capabilities[code_help].conversation.user_tokens_per_turn": (1500, 250),
        # 100 of the cluster's conversations were creative_assist: carved out, rounded down
        "capabilities[creative_assist].traffic_share": (0.586, math.floor((0.586 - 100 / 2312)
                                                                          * 1e4) / 1e4),
    }
    code = main(["diff", str(old_path), str(new_path), "--json"])
    assert code == 0
    diff = json.loads(capsys.readouterr().out)["inputs"]
    existing = {d["path"]: (d["old"], d["new"]) for d in diff if NEW_CAP not in d["path"]}
    assert existing.keys() == expected.keys()
    for path, (a, b) in expected.items():
        assert existing[path] == pytest.approx((a, b), abs=1e-12), path
    added = {d["path"]: d["new"] for d in diff if NEW_CAP in d["path"]}
    assert added[f"capabilities[{NEW_CAP}].traffic_share"] == math.floor(115 / 2312 * 1e4) / 1e4
    assert added[f"capabilities[{NEW_CAP}].evals"] == {}  # no evals: unmeasured
    assert added[f"capabilities[{NEW_CAP}].severity_usd"] == 0.10  # median of the seven
    # write_traffic reports the same changes
    assert {c.path for c in result.changes} == set(expected) | {
        f"capabilities[{NEW_CAP}].{k}" for k in ("traffic_share", "traffic_share_sd",
                                                 "severity_usd")}

    # every comment is kept, whole lines byte for byte, end-of-line ones after "was <old>:"
    new_comments = "\n".join(_comments(result.text))
    for c in _comments(old):
        assert c in new_comments, c
    whole = [ln for ln in old.splitlines() if ln.lstrip().startswith("#")]
    assert [ln for ln in result.text.splitlines() if ln.lstrip().startswith("#")] == whole
    # only the changed keys' lines differ; each carries the provenance
    changed_keys = {p.rsplit(".", 1)[1] for p in expected} | {"traffic_share_sd"}
    ops = difflib.SequenceMatcher(None, old.splitlines(), result.text.splitlines()).get_opcodes()
    new_lines = result.text.splitlines()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        old_keys = {ln.split(":")[0].strip() for ln in old.splitlines()[i1:i2]}
        assert old_keys <= changed_keys, old_keys
        for ln in new_lines[j1:j2]:
            if ln.strip() in ("", "conversation:") or ln.startswith(("  - id: " + NEW_CAP,
                                                                       "    label: ")):
                continue
            assert CITE in ln or "[assumption]" in ln, ln


def test_write_back_twice_changes_nothing_more(folder: Path) -> None:
    summary = {k: v for k, v in SUMMARY.items() if k != "coverage"}
    once = write_traffic((folder / "frontier-vs-distilled.yaml").read_text(), summary, PROV)
    twice = write_traffic(once.text, summary, PROV)
    assert twice.text == once.text and twice.changes == ()


def test_shares_are_rounded_down_and_refusals_name_the_problem(folder: Path) -> None:
    text = (folder / "frontier-vs-distilled.yaml").read_text()
    one = {"conversations": 10, "capabilities": [
        {"id": "math", "share": 0.06339, "ci_low": 0.01, "ci_high": 0.2, "n": 10}]}
    out = write_traffic(text, one, PROV)
    assert [c.new for c in out.changes if c.path.endswith("traffic_share")] == [0.0633]
    system = write_traffic(text, {"tokens_per_turn": {"system": {"mean": 120.04}}}, PROV)
    assert [(c.path, c.old, c.new) for c in system.changes] == [
        ("conversation.system_prompt_tokens", 500, 120)]
    with pytest.raises(EconError, match=r"capabilities not in the scenario: chess; known: "
                                         r"creative_assist"):
        write_traffic(text, {"capabilities": [{"id": "chess", "share": 0.1, "ci_low": 0,
                                               "ci_high": 0.2}]}, PROV)
    with pytest.raises(EconError, match=r"traffic shares would sum to 1\.0850, more than 1"):
        write_traffic(text, {"capabilities": [{"id": "math", "share": 0.2, "ci_low": 0.1,
                                               "ci_high": 0.3}]}, PROV)
    # a cluster with no breakdown is taken from the traffic no capability holds (5.5% here)
    cluster = {"share": 0.2, "ci_low": 0.1, "ci_high": 0.3, "n": 20, "terms": ["x"],
               "examples": []}
    with pytest.raises(EconError, match=r"cluster 1: its share 0.2000 exceeds the traffic no "
                                         r"capability holds \(0.0540\)"):
        write_traffic(text, {"coverage": {"threshold": 0.9, "clusters": [cluster]}}, PROV,
                      add_unseen=True)
    small = write_traffic(text, {"coverage": {"threshold": 0.9, "clusters": [
        {**cluster, "share": 0.05}]}}, PROV, add_unseen=True)
    assert small.changes[0].path == "capabilities[unseen_1_x].traffic_share"
    (folder / "small.yaml").write_text(small.text)
    caps = load_scenario(folder / "small.yaml").scenario.capabilities
    assert caps[-1].id == "unseen_1_x" and caps[-1].evals == {}
    assert sum(c.traffic_share for c in caps) <= 1.0
