"""Eval inputs for coverage: the texts read from each eval format, checked against the raw files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from econ.base.errors import EconError
from econ.evidence.traffic.eval_inputs import read_eval_inputs


def test_lmeval_samples_give_the_doc_problem_once_per_doc(fixtures_dir: Path) -> None:
    path = fixtures_dir / "lmeval_samples_math_perturbed.jsonl"
    docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    inputs = read_eval_inputs(path)
    assert [i.text for i in inputs] == [d["doc"]["problem"] for d in docs]
    assert [i.example_id for i in inputs] == [str(d["doc_id"]) for d in docs]


def test_lmeval_duplicate_filters_and_prompt_fallback(tmp_path: Path) -> None:
    rows = [{"doc_id": 0, "filter": "none", "doc": {"x": 1}, "resps": [],
             "arguments": {"gen_args_0": {"arg_0": "Q: 2+2?\nA:", "arg_1": {}}}},
            {"doc_id": 0, "filter": "strict", "doc": {"x": 1}, "resps": [],
             "arguments": {"gen_args_0": {"arg_0": "Q: 2+2?\nA:", "arg_1": {}}}},
            {"doc_id": 1, "filter": "none", "doc": {"question": "Capital of France?"},
             "resps": [], "arguments": [["ignored context", " Paris"]]}]
    p = tmp_path / "samples_t_2026-01-01T00-00-00.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [(i.example_id, i.text) for i in read_eval_inputs(p)] == [
        ("0", "Q: 2+2?\nA:"), ("1", "Capital of France?")]


@pytest.mark.parametrize("name", ["inspect_arc_easy_qwen2.5-0.5b.json",
                                  "inspect_arc_easy_claude-sonnet-4.json"])
def test_inspect_json_inputs(fixtures_dir: Path, name: str) -> None:
    log = json.loads((fixtures_dir / name).read_text())
    inputs = read_eval_inputs(fixtures_dir / name)
    assert [(i.example_id, i.text) for i in inputs] == [
        (str(s["id"]), s["input"]) for s in log["samples"]]


def test_inspect_eval_zip_with_chat_input(tmp_path: Path) -> None:
    p = tmp_path / "log.eval"
    sample = {"id": "q1", "epoch": 1, "scores": {},
              "input": [{"role": "system", "content": "be brief"},
                        {"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]}]}
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("header.json", json.dumps({"eval": {"task": "t", "model": "m"}}))
        z.writestr("samples/q1_epoch_1.json", json.dumps(sample))
        z.writestr("samples/q1_epoch_2.json", json.dumps({**sample, "epoch": 2}))
    assert [(i.example_id, i.text) for i in read_eval_inputs(p)] == [("q1", "What is 2+2?")]


def test_promptfoo_one_input_per_test_not_per_provider(fixtures_dir: Path) -> None:
    path = fixtures_dir / "promptfoo_sample_export_gpt5_vs_gpt5mini.json"
    doc = json.loads(path.read_text())
    raws = {r["prompt"]["raw"] for r in doc["results"]["results"]}
    providers = {r["provider"]["id"] for r in doc["results"]["results"]}
    assert len(providers) == 2 and len(doc["results"]["results"]) == 2 * len(raws)
    assert sorted(i.text for i in read_eval_inputs(path)) == sorted(raws)


def test_plain_csv_and_jsonl_with_a_text_column(tmp_path: Path) -> None:
    csv_path = tmp_path / "evals.csv"
    csv_path.write_text('example_id,input,capability\na1,"Sort, then dedupe",x\n,Plain,y\n')
    assert [(i.example_id, i.text) for i in read_eval_inputs(csv_path)] == [
        ("a1", "Sort, then dedupe"), ("3", "Plain")]
    jl = tmp_path / "evals.jsonl"
    jl.write_text('{"text": "one"}\n{"text": "two", "example_id": "b"}\n')
    assert [(i.example_id, i.text) for i in read_eval_inputs(jl)] == [("1", "one"), ("b", "two")]


def test_files_without_inputs_are_refused_with_file_and_line(tmp_path: Path,
                                                             fixtures_dir: Path) -> None:
    plain = tmp_path / "results.csv"
    plain.write_text("model,example_id,capability,passed\nm,e,c,1\n")
    with pytest.raises(EconError) as err:
        read_eval_inputs(plain)
    assert str(err.value) == (f"{plain}:1: no text column; eval inputs need one of input, "
                              "text, prompt, question, problem, query, instruction (or "
                              "FastChat's turns)")
    jl = tmp_path / "x.jsonl"
    jl.write_text('{"text": "a"}\n{"text": 3}\n')
    with pytest.raises(EconError, match=r"x\.jsonl:2: the text field is not text \(got int\)"):
        read_eval_inputs(jl)
    with pytest.raises(EconError, match="holds no example inputs; pass its samples"):
        read_eval_inputs(fixtures_dir / "lmeval_results_math_perturbed.json")
    with pytest.raises(EconError, match="serving benchmark, not an eval log"):
        read_eval_inputs(fixtures_dir / "vllm_bench_serve_summary_opt125m.json")


def test_fastchat_question_files_are_eval_inputs(tmp_path: Path, fixtures_dir: Path) -> None:
    """MT-Bench's question.jsonl (FastChat llm_judge): one input per question, its user turns
    joined by a line break, as a conversation's user messages are joined for coverage."""
    path = fixtures_dir / "mtbench_questions.jsonl"
    questions = [json.loads(x) for x in path.read_text().splitlines()]
    got = read_eval_inputs(path)
    assert [e.example_id for e in got] == [str(q["question_id"]) for q in questions]
    assert [e.text for e in got] == ["\n".join(q["turns"]) for q in questions]
    bad = tmp_path / "question.jsonl"
    bad.write_text('{"question_id": 1, "turns": ["a"]}\n{"question_id": 2, "turns": "b"}\n')
    with pytest.raises(EconError, match=r"question\.jsonl:2: turns: a list of the question's"):
        read_eval_inputs(bad)
