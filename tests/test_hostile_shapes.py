"""Malformed files from other tools (eval logs with the wrong structure, CSV a csv reader
cannot read) are bad input: exit 1 with one message naming the file (and the field or line
where known), never an internal error (exit 2), nothing written (issue 23)."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.cli_failures import fails

HEADER = {"eval": {"task": "t", "model": "m"}}
SAMPLES = "samples_arc_2024-05-01T10-00-00.jsonl"




def _promptfoo(results: object) -> dict:
    return {"evalId": "e", "results": {"prompts": [], "results": results}}


def _lmeval(**body: object) -> dict:
    return {"results": {"arc": {"acc,none": 0.5}}, "model_name": "m",
            "n-samples": {"arc": {"effective": 10}}, "config": {}, **body}


@pytest.mark.parametrize(("doc", "message"), [
    ({**HEADER, "samples": {"a": 1}}, "samples: expected a JSON list (got an object)"),
    ({**HEADER, "samples": [1]}, "samples[0]: expected a JSON object (got a number)"),
    ({**HEADER, "samples": [{"id": 1, "scores": "C"}]},
     "samples[0].scores: expected a JSON object (got text)"),
    ({**HEADER, "samples": [{"id": 1, "epoch": [1], "scores": {"s": 1}}]},
     "samples[0].epoch: an epoch is a whole number"),
    ({"eval": {"task": "t", "model": ["m"]}, "samples": []},
     "eval.model: expected text (got a list)"),
    (_promptfoo([1]), "results[0]: expected a JSON object (got a number)"),
    (_promptfoo([{"provider": "x"}]), "results[0].provider: expected a JSON object (got text)"),
    (_promptfoo([{"provider": {"id": "p"}, "gradingResult": {"componentResults": {}}}]),
     "results[0].gradingResult.componentResults: expected a JSON list (got an object)"),
    (_promptfoo([{"provider": {"id": "p"}, "testCase": {"metadata": {"tags": 5}}}]),
     "results[0].testCase.metadata.tags: expected a JSON list (got a number)"),
    (_lmeval(config="x"), "config: expected a JSON object (got text)"),
    (_lmeval(model_name=["m"]), "model_name: expected text (got a list)"),
    (_lmeval(**{"n-samples": [1]}), "n-samples: expected a JSON object (got a list)"),
    (_lmeval(**{"n-samples": {"arc": {"effective": 2.5}}}),
     "n-samples.arc.effective: a count of examples is a whole number from 0 to 1,000,000,000 "
     "(got 2.5)"),
    (_lmeval(**{"n-samples": {"arc": {"original": 1e308}}}),
     "n-samples.arc.original: a count of examples is a whole number from 0 to 1,000,000,000 "
     "(got 1e+308)"),
])
def test_eval_log_of_the_wrong_shape(capsys, tmp_path, doc, message):
    p = tmp_path / "log.json"
    p.write_text(json.dumps(doc))
    out = tmp_path / "o.csv"
    assert fails(capsys, "import", "evals", str(p), "-o", str(out)) == f"{p}: {message}"
    assert not out.exists()


@pytest.mark.parametrize(("line", "message"), [
    ({"doc_id": 0, "filter": "none", "metrics": 5, "acc": 1},
     "doc 0: metrics: expected a JSON list (got a number)"),
    ({"doc_id": 0, "filter": "none", "metrics": [["acc"]], "acc": 1},
     "doc 0: metrics: expected a list of metric names"),
])
def test_lm_eval_samples_of_the_wrong_shape(capsys, tmp_path, line, message):
    p = tmp_path / SAMPLES
    p.write_text(json.dumps(line) + "\n" + json.dumps({**line, "doc_id": 1}) + "\n")
    assert fails(capsys, "import", "evals", str(p), "--model", "m", "-o",
                 str(tmp_path / "o.csv")) == f"{p}: {message}"


@pytest.mark.parametrize(("members", "message"), [
    ({"header.json": json.dumps({"eval": [1]})}, "eval: expected a JSON object (got a list)"),
    ({"header.json": json.dumps(HEADER), "samples/1.json": '{"id": 1, "scores": [1]}'},
     "samples[0].scores: expected a JSON object (got a list)"),
])
def test_inspect_zip_of_the_wrong_shape(capsys, tmp_path, members, message):
    p = tmp_path / "log.eval"
    with zipfile.ZipFile(p, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    assert fails(capsys, "import", "evals", str(p), "-o", str(tmp_path / "o.csv")) == (
        f"{p}: {message}")


def test_inspect_zip_with_the_encrypted_flag(capsys, tmp_path):
    p = tmp_path / "log.eval"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("header.json", json.dumps(HEADER))
    data = bytearray(p.read_bytes())
    data[data.index(b"PK\x03\x04") + 6] |= 1  # general purpose flag bit 0: encrypted
    data[data.index(b"PK\x01\x02") + 8] |= 1
    p.write_bytes(bytes(data))
    err = fails(capsys, "import", "evals", str(p), "-o", str(tmp_path / "o.csv"))
    assert err.startswith(f"{p}: damaged Inspect .eval log: ") and "encrypted" in err


@pytest.mark.parametrize("command", ["import", "compare"])
def test_results_csv_a_csv_reader_cannot_read(capsys, tmp_path, command):
    big = tmp_path / "big.csv"
    big.write_text("model,example_id,capability,passed\nm,1,c,1\nm,2,c," + "x" * 200_000 + "\n")
    quote = tmp_path / "quote.csv"
    quote.write_text('model,example_id,capability,passed\nm,1,c,1\nm,"2,c,1\nm,3,c,1\n')
    argv = {"import": lambda p: ["import", "evals", str(p), "-o", str(tmp_path / "o.csv")],
            "compare": lambda p: ["compare", str(p), "--teacher", "m", "--student", "m"]}
    assert fails(capsys, *argv[command](big)) == (
        f"{big}:3: (top level): not readable as CSV: field larger than field limit (131072)")
    assert fails(capsys, *argv[command](quote)) == (
        f"{quote}:3: capability: the row has 2 fields, the header 4 (a missing comma, or an "
        "unbalanced quote that runs on)")


def test_eval_inputs_csv_a_csv_reader_cannot_read(capsys, tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"messages": [{"role": "user", "content": "hi"}, '
                   '{"role": "assistant", "content": "yo"}]}\n')
    evals = tmp_path / "evals.csv"
    evals.write_text("example_id,text\n1,hello\n2," + "x" * 200_000 + "\n")
    assert fails(capsys, "traffic", str(log), "--evals", str(evals)) == (
        f"{evals}:3: not readable as CSV: field larger than field limit (131072)")


# ---- ids with characters that are not text ---------------------------------------------------

@pytest.mark.parametrize(("model", "shown", "problem"), [
    ("m\udc80", r"'m\udc80'", "holds a lone surrogate (U+DC80), which is not text"),
    ("m\x01", r"'m\x01'", "holds a control character (U+0001)"),
    ("m\x85", r"'m\x85'", "holds a control character (U+0085)"),
    ("m\u202ex", r"'m\u202ex'", "holds a control character (U+202E)"),
    ("m\nx", r"'m\nx'", "holds a control character (U+000A)"),
])
def test_bad_characters_in_an_imported_model_id(capsys, tmp_path, model, shown, problem):
    p = tmp_path / "log.json"
    p.write_text(json.dumps({"eval": {"task": "t", "model": model},
                             "samples": [{"id": 1, "scores": {"s": 1}}]}))
    out = tmp_path / "o.csv"
    err = fails(capsys, "import", "evals", str(p), "-o", str(out))
    assert err == f"{p}: model {shown}: {problem}"
    assert not out.exists()


@pytest.mark.parametrize(("suffix", "text", "line", "field", "got"), [
    (".jsonl", '{"model": "m\\udc80", "example_id": "1", "capability": "c", "passed": 1}\n',
     1, "model", r"'m\udc80'"),
    (".csv", "model,example_id,capability,passed\nm,1,c\x1bx,1\n", 2, "capability",
     r"'c\x1bx'"),
])
def test_bad_characters_in_a_results_file(capsys, tmp_path, suffix, text, line, field, got):
    p = tmp_path / f"r{suffix}"
    p.write_text(text, errors="surrogatepass")
    err = fails(capsys, "compare", str(p), "--teacher", "m", "--student", "n")
    assert err.startswith(f"{p}:{line}: {field}: holds ") and err.endswith(f"(got {got})")


def test_bidirectional_override_in_a_scenario_model_key(capsys, edited):
    p = edited("  student:\n", '  "stu\\u202edent":\n')
    err = fails(capsys, "validate", str(p))
    assert err.splitlines()[0] == f"{p}:28: models: a key holds a control character (U+202E)"
    assert "\u202e" not in err
