"""Hostile and malformed input files and arguments: exit 1 with file, line and field; never an
internal error (exit 2), never a silent nan."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from econ.cli import main
from tests.cli_failures import fails
from tests.conftest import BASIC as DEFAULT
from tests.conftest import SNAPSHOT


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)




# ---- YAML shapes ------------------------------------------------------------------------------

def test_deep_yaml_and_huge_integer(capsys, tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("description: x\nmodels: " + "[" * 500 + "]" * 500 + "\n")
    assert fails(capsys, "evaluate", str(deep)) == (
        f"{deep}:2: (top level): nested more than 64 levels deep")
    big = tmp_path / "big.yaml"
    big.write_text("description: " + "9" * 5000 + "\n")
    assert fails(capsys, "evaluate", str(big)) == (
        f"{big}:1: description: number too long (got '5,000 characters')")


def test_capability_map_alias_bomb_is_refused(capsys, tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    cmap = tmp_path / "map.yaml"
    cmap.write_text("\n".join(lines) + "\n")
    err = fails(capsys, "import", "evals", str(DEFAULT), "-o", str(tmp_path / "o.csv"),
                "--capability-map", str(cmap))
    assert err.startswith(f"{cmap}:1: (top level): aliases expand to more than 100,000 nodes")


# ---- non-finite numbers -------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "field", "got"), [
    ("    price_usd_month: 20 ", "    price_usd_month: .inf ",
     "tiers[1].price_usd_month", "inf"),
    ("    severity_usd: 0.02 ", "    severity_usd: .nan ", "capabilities[0].severity_usd", "nan"),
    ("    users: 50000 ", "    users: -.inf ", "tiers[1].users", "-inf"),
])
def test_non_finite_numbers_in_a_scenario(capsys, edited, old, new, field, got):
    p = edited(old, new)
    err = fails(capsys, "evaluate", str(p))
    assert err == f"{p}:{line_of(p, new.strip())}: {field}: input should be a finite number " \
        f"(got {got})"


def test_non_finite_cli_arguments(capsys):
    for flag in ("--target-floor", "--max-loss"):
        for value in ("nan", "inf", "-inf"):
            err = fails(capsys, "frontier", str(DEFAULT), "--tier", "plus", f"{flag}={value}")
            assert f"argument {flag}: must be a finite number (got {value})" in err
    assert "argument --seed: must be 0 or more (got -1)" in fails(
        capsys, "uncertainty", str(DEFAULT), "--seed", "-1")


@pytest.mark.parametrize("value", [-1e-6, "NaN", "Infinity"])
def test_bad_price_in_a_snapshot(capsys, tmp_path, value):
    snap = json.loads(SNAPSHOT.read_text())
    name = next(iter(snap["models"]))
    snap["models"][name]["input_cost_per_token"] = value
    p = tmp_path / "prices.json"
    p.write_text(json.dumps(snap).replace('"NaN"', "NaN").replace('"Infinity"', "Infinity"))
    err = fails(capsys, "evaluate", str(DEFAULT), "--prices", str(p))
    shown = {"NaN": "nan", "Infinity": "inf"}.get(str(value), str(value))
    assert err == (f"{p}: (top level): not a price snapshot: models.{name}.input_cost_per_token: "
                   f"a price is a finite number of at least 0 (got {shown})")


@pytest.mark.parametrize("metric", ["NaN", "Infinity", "-Infinity"])
def test_lm_eval_non_finite_metric(capsys, tmp_path, metric):
    p = tmp_path / "samples_arc_2024-05-01T10-00-00.jsonl"
    p.write_text('{"doc_id": 0, "filter": "none", "metrics": ["acc"], "acc": 1.0}\n'
                 f'{{"doc_id": 1, "filter": "none", "metrics": ["acc"], "acc": {metric}}}\n')
    err = fails(capsys, "import", "evals", str(p), "--model", "m", "-o", str(tmp_path / "o.csv"))
    assert err.startswith(f"{p}: doc 1: acc is not a number")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("value", ["1e308", "NaN", "Infinity"])
def test_benchmark_implausible_numbers(capsys, tmp_path, value):
    p = tmp_path / "bench.json"
    p.write_text('{"completed": 10, "duration": 1.0, "total_input_tokens": ' + value +
                 ', "total_output_tokens": 100, "request_throughput": 10}')
    err = fails(capsys, "import", "bench", str(p))
    assert err.startswith(f"{p}: total_input_tokens: not a plausible measurement")


# ---- malformed importer input that was an internal error ----------------------------------------

def test_null_passed(capsys, tmp_path):
    p = tmp_path / "r.jsonl"
    p.write_text('{"model": "m", "example_id": "1", "capability": "math", "passed": null}\n')
    assert fails(capsys, "compare", str(p), "--teacher", "m", "--student", "m") == (
        f"{p}:1: passed: field 'passed' is null")


def test_list_doc_id(capsys, tmp_path):
    p = tmp_path / "samples_arc_2024-05-01T10-00-00.jsonl"
    p.write_text('{"doc_id": [1, 2], "filter": "none", "metrics": ["acc"], "acc": 1.0}\n'
                 '{"doc_id": 3, "filter": "none", "metrics": ["acc"], "acc": 1.0}\n')
    assert fails(capsys, "import", "evals", str(p), "--model", "m", "-o",
                 str(tmp_path / "o.csv")) == f"{p}: doc_id must be a number or text (got [1, 2])"


def test_promptfoo_text_score(capsys, tmp_path):
    doc = {"evalId": "e", "results": {"prompts": [], "results": [
        {"provider": {"id": "openai:x"}, "testCase": {"description": "t1"},
         "gradingResult": {"pass": True, "score": "abc"}, "promptIdx": 0}]}}
    p = tmp_path / "pf.json"
    p.write_text(json.dumps(doc))
    assert fails(capsys, "import", "evals", str(p), "-o", str(tmp_path / "o.csv")) == (
        f'{p}: results[0]: score is not a number (got "abc")')


def test_llmperf_dict_tokens(capsys, tmp_path):
    p = tmp_path / "individual_responses.json"
    p.write_text(json.dumps([{"end_to_end_latency_s": 1.0, "number_input_tokens": {"a": 1},
                              "number_output_tokens": 5}]))
    assert fails(capsys, "import", "bench", str(p)).startswith(
        f"{p}: number_input_tokens: not a plausible measurement (got {{'a': 1}})")


@pytest.mark.parametrize(("build", "message"), [
    (lambda z: z.writestr("header.json", b"\xff\xfe not utf-8"), "damaged Inspect .eval log"),
    (lambda z: z.writestr("header.json", "[1, 2]"), "the header is not a JSON object"),
    (lambda z: (z.writestr("header.json", '{"eval": {"task": "t", "model": "m"}}'),
                z.writestr("samples/1.json", b"\xff not utf-8")), "damaged Inspect .eval log"),
])
def test_damaged_eval_logs(capsys, tmp_path, build, message):
    p = tmp_path / "log.eval"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        build(z)
    assert message in fails(capsys, "import", "evals", str(p), "-o", str(tmp_path / "o.csv"))


def test_corrupted_deflate_stream(capsys, tmp_path):
    p = tmp_path / "log.eval"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("header.json", json.dumps({"eval": {"task": "t", "model": "m",
                                                       "pad": "abc" * 2000}}))
    data = bytearray(p.read_bytes())
    start = data.index(b"header.json") + len("header.json")  # the compressed bytes follow
    for i in range(start + 4, start + 24):
        data[i] ^= 0x5A
    p.write_bytes(bytes(data))
    err = fails(capsys, "import", "evals", str(p), "-o", str(tmp_path / "o.csv"))
    assert err.startswith(f"{p}: ")


# ---- paths that are not readable files --------------------------------------------------------

def test_directory_and_non_utf8_paths(capsys, tmp_path):
    folder = tmp_path / "adir"
    folder.mkdir()
    latin = tmp_path / "latin1.json"
    latin.write_bytes('{"models": "caf\xe9"}'.encode("latin-1"))
    assert fails(capsys, "evaluate", str(DEFAULT), "--prices", str(folder)) == (
        f"{folder}: (top level): cannot read the price snapshot: is a directory, not a file")
    assert fails(capsys, "evaluate", str(DEFAULT), "--prices", str(latin)) == (
        f"{latin}: (top level): not UTF-8 text (byte 15)")
    out = str(tmp_path / "o.csv")
    assert fails(capsys, "import", "evals", str(DEFAULT), "-o", out, "--capability-map",
                 str(folder)) == f"{folder}: cannot read the capability map: is a directory, " \
        "not a file"
    assert fails(capsys, "import", "evals", str(DEFAULT), "-o", out, "--capability-map",
                 str(latin)) == f"{latin}: cannot read the capability map: not UTF-8 text"
    assert fails(capsys, "import", "bench", str(folder)) == (
        f"{folder}: cannot read: is a directory, not a file")
    assert fails(capsys, "probe", str(DEFAULT), "--model", "student", "--probes",
                 str(folder)) == f"{folder}: cannot read the probes file: is a directory, not " \
        "a file"
    assert fails(capsys, "probe", str(DEFAULT), "--model", "student", "--probes",
                 str(latin)) == f"{latin}: the probes file is not UTF-8 text (byte 15)"


def test_prices_refresh_into_a_missing_folder(capsys, tmp_path):
    target = tmp_path / "missing" / "prices.json"
    assert fails(capsys, "prices", "refresh", "--prices", str(target)) == (
        f"{target}: the folder {target.parent} does not exist")


def test_usage_errors_exit_1(capsys):
    assert "the following arguments are required: scenario" in fails(capsys, "evaluate")
    assert "invalid choice" in fails(capsys, "no-such-command")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_unwritable_output_is_bad_input(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        err = fails(capsys, "export", str(DEFAULT), "-o", str(ro / "t.csv"))
    finally:
        ro.chmod(0o755)
    assert err == f"{ro / 't.csv'}: cannot write: Permission denied"
    assert list(ro.iterdir()) == []


def test_full_disk_is_bad_input(capsys, tmp_path, monkeypatch):
    # a write that fails midway (ENOSPC) names the path, exits 1 and leaves nothing behind
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    err = fails(capsys, "export", str(DEFAULT), "-o", str(tmp_path / "t.csv"))
    assert err == f"{tmp_path / 't.csv'}: cannot write: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_prices_refresh_skips_unreadable_scenarios_with_a_note(capsys, tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "dir.yaml").mkdir()
    (folder / "latin.yaml").write_bytes("description: caf\xe9\n".encode("latin-1"))
    (folder / "ok.yaml").write_text("models: {a: {price_key: gpt-4o-mini}}\n")
    target = tmp_path / "prices.json"
    assert main(["prices", "refresh", "--prices", str(target), "--scenarios", str(folder)]) == 0
    err = capsys.readouterr().err
    assert f"{folder / 'dir.yaml'}: skipped (is a directory, not a file)" in err
    assert f"{folder / 'latin.yaml'}: skipped (not UTF-8 text)" in err
    assert json.loads(target.read_text())["models"]["gpt-4o-mini"]["input_cost_per_token"] > 0
