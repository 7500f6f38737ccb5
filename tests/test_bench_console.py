"""Console output of vllm bench serve, SGLang bench_serving and trtllm-bench, and trtllm-bench's
--report_json: the fixtures in tests/data are reconstructed from each tool's print statements
(the header of each names the source file and commit); the figures checked here are read off
the fixture text by hand, not by econ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from econ.base.errors import EconError
from econ.cli import main
from econ.evidence.importers.bench import read_bench
from econ.evidence.importers.detect import identify_text
from econ.model.fit import shape_of_run
from tests.test_importers import scenario_with_benchmarks

DATA = Path(__file__).parent / "data"
SWEEP = DATA / "vllm_bench_serve_sweep.log"
OLD = DATA / "vllm_benchmark_serving_old.log"
SGLANG = DATA / "sglang_bench_serving_console.log"
TRT = DATA / "trtllm_bench_console.log"
TRT_JSON = DATA / "trtllm_bench_report.json"
REAL = DATA / "vllm_benchmark_serving_qwen2-7b_a100_real.log"  # real output, SOURCES.md §11


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def block(**over: str) -> str:
    """One block of vllm bench serve, as its print statements lay it out."""
    rows = {"Successful requests:": "50", "Failed requests:": "0",
            "Request rate configured (RPS):": "0.20", "Benchmark duration (s):": "1044.40",
            "Total input tokens:": "55836", "Total generated tokens:": "209303",
            "Request throughput (req/s):": "0.05", "Output token throughput (tok/s):": "200.41"}
    rows.update(over)
    lines = ["{s:{c}^{n}}".format(s=" Serving Benchmark Result ", n=50, c="=")]
    lines += [f"{k:<40} {v:<10}" for k, v in rows.items() if v is not None]
    lines += ["=" * 50]
    return "\n".join(lines) + "\n"


# ---- what is read ----------------------------------------------------------------------------

def test_vllm_sweep_one_run_per_block():
    runs = read_bench(SWEEP)
    assert [r.source_format for r in runs] == ["vllm-console"] * 3
    assert [r.completed for r in runs] == [64, 256, 1024]
    assert [r.failed for r in runs] == [0, 0, 0]
    assert [r.max_concurrency for r in runs] == [1, 4, 16]
    assert [r.duration_s for r in runs] == [60.41, 71.99, 93.50]
    assert [r.mean_input_tokens for r in runs] == [1024, 1024, 1024]
    assert [r.mean_output_tokens for r in runs] == [128, 128, 128]
    assert runs[2].latency_ms == {"ttft_mean": 96.50, "ttft_median": 81.22, "ttft_p99": 301.70,
                                  "tpot_mean": 10.62, "tpot_median": 10.51, "tpot_p99": 12.88,
                                  "itl_mean": 10.62, "itl_median": 9.87, "itl_p99": 41.30}


def test_seconds_per_request_from_duration_not_the_rounded_rate(tmp_path):
    """A 50-request run over 1044.40 s prints 0.05 req/s: 20 s per request by the rate,
    20.888 s by the duration. econ takes the duration ÷ completed."""
    p = tmp_path / "slow.log"
    p.write_text(block())
    (run,) = read_bench(p)
    shape = shape_of_run(run, "slow")
    assert shape.seconds_per_request == pytest.approx(1044.40 / 50, rel=1e-12)
    assert shape.seconds_per_request != pytest.approx(1 / 0.05, rel=0.01)
    assert run.output_tokens_per_s == pytest.approx(209303 / 1044.40)
    assert run.max_concurrency is None and run.failed == 0


def test_old_vllm_concurrency_before_the_block_and_model_from_the_arguments():
    (run,) = read_bench(OLD)
    assert (run.completed, run.failed, run.max_concurrency) == (500, None, None)
    assert run.model == "meta-llama/Llama-3.1-8B-Instruct"
    assert run.total_input_tokens == 110937 and run.total_output_tokens == 103215
    assert run.request_throughput_per_s == pytest.approx(500 / 24.05)


def test_old_vllm_concurrency_printed_before_each_block(tmp_path):
    text = ("Maximum request concurrency: 8\n" + block(**{"Failed requests:": None})
            + "Maximum request concurrency: 32\n" + block(**{"Failed requests:": None}))
    p = tmp_path / "sweep.txt"
    p.write_text(text)
    assert [r.max_concurrency for r in read_bench(p)] == [8, 32]


def test_sglang_console():
    a, b = read_bench(SGLANG)
    assert (a.source_format, a.completed, a.failed, a.max_concurrency) == (
        "sglang-console", 200, None, 8)
    assert b.max_concurrency is None  # "not set"
    assert a.model == b.model == "Qwen/Qwen2.5-7B-Instruct"  # printed once, before the sweep
    assert a.total_output_tokens == 38912  # not the retokenized count (38905)
    assert a.duration_s == 38.72 and b.duration_s == 11.21
    assert a.latency_ms["itl_p95"] == 6.35 and "itl_max" not in a.latency_ms


def test_trtllm_console_two_reports():
    thr, lat = read_bench(TRT)
    assert (thr.source_format, thr.completed, thr.failed) == ("trtllm-bench", 3000, None)
    assert thr.model == "meta-llama/Llama-3.1-8B-Instruct"
    assert thr.duration_s == pytest.approx(215.8732104)
    assert thr.total_input_tokens == 3000 * 1024.0
    # 957.6779 requests in flight on average, but the engine batches at most 512
    assert thr.max_concurrency == 512
    assert lat.max_concurrency == 1 and lat.completed == 100  # trtllm-bench latency
    assert thr.latency_ms["ttft_mean"] == 910.4402
    assert thr.latency_ms["tpot_median"] == 65.7876
    assert shape_of_run(lat, "lat").seconds_per_request == pytest.approx(96.1225583 / 100)


def test_trtllm_report_json_matches_the_console():
    (j,) = read_bench(TRT_JSON)
    thr, _ = read_bench(TRT)
    doc = json.loads(TRT_JSON.read_text())
    assert j.source_format == "trtllm-bench"
    assert j.completed == doc["request_info"]["num_requests"] == thr.completed
    assert j.duration_s == pytest.approx(doc["performance"]["total_latency_ms"] / 1000)
    assert j.duration_s == pytest.approx(thr.duration_s, abs=1e-7)  # console: 4 decimals of ms
    assert j.max_concurrency == thr.max_concurrency == 512
    assert j.latency_ms["ttft_p99"] == pytest.approx(thr.latency_ms["ttft_p99"], abs=1e-4)


def test_the_format_is_told_from_content_not_the_name(tmp_path):
    for src, kind in ((SWEEP, "vllm-console"), (SGLANG, "sglang-console"),
                      (TRT, "trtllm-bench")):
        p = tmp_path / "results.json"  # a misleading name
        p.write_text(src.read_text())
        assert identify_text(p.read_text()) == kind
        assert {r.source_format for r in read_bench(p)} == {kind}
    assert identify_text(TRT_JSON.read_text()) is None  # JSON: read as a document


def test_console_run_fits_like_its_json_twin(tmp_path, capsys):
    """The sweep's fastest run, as a console block and as --save-result JSON with the same
    figures, gives the same fit."""
    log = scenario_with_benchmarks(tmp_path, [SWEEP], "\n    prefill_cost_ratio: 0.35")
    twin = tmp_path / "twin.jsonl"
    twin.write_text("\n".join(json.dumps(
        {"completed": c, "duration": d, "total_input_tokens": 1024 * c,
         "total_output_tokens": 128 * c, "request_throughput": c / d, "max_concurrency": k})
        for c, d, k in ((64, 60.41, 1), (256, 71.99, 4), (1024, 93.50, 16))) + "\n")
    sub = tmp_path / "j"
    sub.mkdir()
    js = scenario_with_benchmarks(sub, [twin], "\n    prefill_cost_ratio: 0.35")
    _, a, err = run_cli(capsys, "fit", str(log), "--model", "local", "--json")
    assert a, err
    _, b, _ = run_cli(capsys, "fit", str(js), "--model", "local", "--json")
    fa, fb = json.loads(a), json.loads(b)
    assert fa["decode_s_per_token"] == pytest.approx(fb["decode_s_per_token"], rel=1e-12)
    assert {r["seconds_per_request"] for r in fa["runs"]} >= {93.50 / 1024}


def test_import_bench_cli_reads_every_console_format(capsys):
    code, out, err = run_cli(capsys, "import", "bench", str(SWEEP), str(SGLANG), str(TRT),
                             str(TRT_JSON), "--json")
    assert code == 0, err
    formats = [r["source_format"] for r in json.loads(out)]
    assert formats == ["vllm-console"] * 3 + ["sglang-console"] * 2 + ["trtllm-bench"] * 3


# ---- bad input: file:line, the field, exit 1 --------------------------------------------------

@pytest.mark.parametrize(("over", "line", "message"), [
    ({"Benchmark duration (s):": "abc"}, 5, "Benchmark duration (s): not a number (got 'abc')"),
    ({"Successful requests:": "-3"}, 2, "Successful requests: negative (got '-3')"),
    ({"Total input tokens:": "12.5"}, 6, "Total input tokens: not a whole number (got '12.5')"),
    ({"Successful requests:": "1e400"}, 2, "Successful requests: not a plausible measurement"),
    ({"Request throughput (req/s):": "9.00"}, 8,
     "Request throughput (req/s): 9.00 disagrees with Successful requests ÷ Benchmark "
     "duration (s) (50 ÷ 1044.4 = 0.04787) beyond the console's rounding"),
])
def test_bad_numbers_name_file_line_and_field(tmp_path, capsys, over, line, message):
    p = tmp_path / "bad.log"
    p.write_text(block(**over))
    code, out, err = run_cli(capsys, "import", "bench", str(p))
    assert code == 1 and out == ""
    assert err.startswith(f"{p}:{line}: {message}"), err
    assert "Traceback" not in err


def test_missing_line_names_the_block_and_the_label(tmp_path):
    p = tmp_path / "bad.log"
    p.write_text("noise\n" + block(**{"Total input tokens:": None}))
    with pytest.raises(EconError, match=rf"^{p}:2: the vLLM result block starting here has no "
                                        r"'Total input tokens:' line$"):
        read_bench(p)


def test_mixed_and_wrong_format_are_refused(tmp_path, capsys):
    p = tmp_path / "mixed.log"
    p.write_text(SWEEP.read_text() + SGLANG.read_text())
    code, _, err = run_cli(capsys, "import", "bench", str(p))
    assert code == 1 and "both vLLM and SGLang" in err
    code, _, err = run_cli(capsys, "import", "bench", str(SWEEP), "--format", "vllm")
    assert code == 1
    assert err.strip() == f"{SWEEP}: not a vllm result: it looks like vllm-console (a console log)"
    code, _, err = run_cli(capsys, "import", "bench", str(TRT_JSON), "--format", "vllm-console")
    assert code == 1 and "no Serving Benchmark Result block" in err


def test_trtllm_report_needs_its_request_details(tmp_path):
    text = TRT.read_text().replace("Number of requests:             100\n", "")
    p = tmp_path / "trt.log"
    p.write_text(text)
    perf = text.splitlines().index("= PERFORMANCE OVERVIEW ", 60) + 1
    with pytest.raises(EconError, match=rf"^{p}:{perf}: the trtllm-bench report whose "
                                        r"PERFORMANCE OVERVIEW starts here has no "
                                        r"'Number of requests:' line \(= REQUEST DETAILS\)"):
        read_bench(p)


def test_trtllm_json_names_the_missing_or_bad_key(tmp_path):
    doc = json.loads(TRT_JSON.read_text())
    del doc["request_info"]["avg_output_length"]
    p = tmp_path / "r.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(EconError, match=r"request_info.avg_output_length: missing"):
        read_bench(p)
    doc = json.loads(TRT_JSON.read_text())
    doc["performance"]["total_latency_ms"] = "fast"
    p.write_text(json.dumps(doc))
    with pytest.raises(EconError, match=r"performance.total_latency_ms: not a plausible "
                                        r"measurement \(got fast\)"):
        read_bench(p)


def test_console_runs_carry_the_bench_run_fields():
    from dataclasses import fields

    from econ.evidence.importers import bench, console_text

    assert console_text.MAX_MEASURE == bench.MAX_MEASURE
    names = [f.name for f in fields(console_text.ConsoleRun)]
    assert names == [f.name for f in fields(bench.BenchRun)][:len(names)]


def test_a_real_benchmark_serving_log_with_server_lines_after_the_block():
    """A real run (dennislee22/vLLM-benchmarking README, data/SOURCES.md §11): the command, the
    block, then the server's own log lines; no concurrency line, no arguments printed."""
    (run,) = read_bench(REAL)
    assert run.source_format == "vllm-console"
    assert (run.completed, run.failed, run.max_concurrency, run.model) == (50, None, None, None)
    assert run.duration_s == 86.87
    assert (run.total_input_tokens, run.total_output_tokens) == (50977, 51119)
    # from the duration, not the printed (rounded) 0.58 req/s and 588.46 tok/s
    assert run.request_throughput_per_s == pytest.approx(50 / 86.87)
    assert run.output_tokens_per_s == pytest.approx(51119 / 86.87)
    assert run.latency_ms["ttft_mean"] == 6954.60 and run.latency_ms["itl_p99"] == 718.62
