"""Importers read the real files of ../shared/fixtures in place, and our own variants."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from econ.cli import main
from econ.evidence.importers.bench import read_bench
from econ.evidence.importers.capmap import load_capability_map
from econ.evidence.importers.evals import ImportOptions, read_evals
from econ.evidence.results_io import read_results
from tests.conftest import BASIC as DEFAULT

DATA = Path(__file__).parent / "data"
RUN_KEYS = {"source_format", "file", "model", "completed", "failed", "duration_s",
            "total_input_tokens", "total_output_tokens", "request_throughput_per_s",
            "output_tokens_per_s", "max_concurrency", "latency_ms"}


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---- the real fixtures -----------------------------------------------------------------------

def test_llmperf_individual_responses(fixtures_dir):
    (run,) = read_bench(fixtures_dir / "llmperf_individual_responses_together_70b.json")
    raw = json.loads((fixtures_dir / "llmperf_individual_responses_together_70b.json").read_text())
    assert run.source_format == "llmperf-individual"
    assert run.completed == 150 and run.failed == 0
    assert run.total_output_tokens == sum(r["number_output_tokens"] for r in raw)
    assert run.duration_s is None and run.request_throughput_per_s is None


def test_llmperf_summary(fixtures_dir):
    (run,) = read_bench(fixtures_dir / "llmperf_summary_together_70b.json")
    assert run.model == "together_ai/togethercomputer/llama-2-70b-chat"
    assert run.completed == 150 and run.max_concurrency == 5
    assert run.request_throughput_per_s == pytest.approx(81.89078137274691 / 60)
    assert run.output_tokens_per_s == pytest.approx(216.45553311958628)
    assert run.mean_input_tokens == 550


def test_vllm_fixtures(fixtures_dir):
    (serve,) = read_bench(fixtures_dir / "vllm_bench_serve_summary_opt125m.json")
    assert (serve.model, serve.completed, serve.failed, serve.max_concurrency) == (
        "facebook/opt-125m", 8, 0, 2)
    (old,) = read_bench(fixtures_dir / "vllm_benchmark_serving_detailed_llama3-8b_h100.json")
    raw = json.loads((fixtures_dir / "vllm_benchmark_serving_detailed_llama3-8b_h100.json")
                     .read_text())
    assert old.completed == 10 and old.failed == 0
    assert old.total_input_tokens == sum(raw["input_lens"]) == 1369
    assert old.total_output_tokens == sum(raw["output_lens"]) == 1867
    assert old.request_throughput_per_s == pytest.approx(raw["request_throughput"])


def test_aiperf_fixture(fixtures_dir):
    (run,) = read_bench(fixtures_dir / "aiperf_profile_export_aiperf_qwen3-4b_c16.json")
    assert (run.source_format, run.model, run.completed, run.failed, run.max_concurrency) == (
        "aiperf", "qwen3-4b", 2044, 0, 16)
    assert run.total_output_tokens == 537554
    assert run.total_input_tokens is None  # the export has no input sequence lengths
    assert run.duration_s == pytest.approx(299.935655192)


def test_import_bench_json_shape(fixtures_dir, capsys):
    code, out, _ = run_cli(capsys, "import", "bench", str(fixtures_dir / "llmperf_summary_"
                                                          "together_70b.json"), "--json")
    assert code == 0
    (record,) = json.loads(out)
    assert set(record) == RUN_KEYS


def test_inspect_logs_pair_on_ids(fixtures_dir, tmp_path, capsys):
    out = tmp_path / "arc.csv"
    code, _, err = run_cli(capsys, "import", "evals",
                           str(fixtures_dir / "inspect_arc_easy_qwen2.5-0.5b.json"),
                           str(fixtures_dir / "inspect_arc_easy_claude-sonnet-4.json"),
                           "-o", str(out))
    assert code == 0, err
    rows = read_results(out)
    ids = {m: {r.example_id for r in rows if r.model == m} for m in {r.model for r in rows}}
    assert ids["ollama/qwen2.5:0.5b"] == {f"inspect_evals/arc_easy:{i}" for i in (1, 2, 3)}
    assert ids["ollama/qwen2.5:0.5b"] < ids["anthropic/claude-sonnet-4-0"]
    qwen = {r.example_id[-1]: r.passed for r in rows if r.model == "ollama/qwen2.5:0.5b"}
    assert qwen == {"1": 1, "2": 0, "3": 0}  # C, I, I
    code, cmp_out, _ = run_cli(capsys, "compare", str(out), "--teacher",
                               "anthropic/claude-sonnet-4-0", "--student",
                               "ollama/qwen2.5:0.5b", "--json")
    (cap,) = json.loads(cmp_out)["capabilities"]
    # 3 of the 5 ids are shared: analysed paired on the 3 and unpaired on all 5 + 3; the
    # narrower interval decides (the "paired on k of n", nothing silently dropped)
    assert cap["pairing"] == "paired on 3 of 5" and cap["n_teacher"] == 5
    from econ.base import mover

    teacher = {r.example_id: r.passed for r in rows if r.model == "anthropic/claude-sonnet-4-0"}
    shared = sorted(set(teacher) & {f"inspect_evals/arc_easy:{i}" for i in (1, 2, 3)})
    q = {f"inspect_evals/arc_easy:{k}": v for k, v in qwen.items()}
    a = sum(teacher[i] and q[i] for i in shared)
    b = sum(teacher[i] and not q[i] for i in shared)
    c = sum(not teacher[i] and q[i] for i in shared)
    n = len(shared)
    phi = float(mover.newcombe_phi(a, b, c, n - a - b - c))
    paired = mover.mover_interval(a + b, n, a + c, n, phi)
    unpaired = mover.mover_interval(sum(teacher.values()), 5, sum(qwen.values()), 3)
    if paired[1] - paired[0] <= unpaired[1] - unpaired[0]:
        assert cap["decided_by"] == "paired overlap"
        assert cap["interval_method"] == "mover_clopper_pearson_paired"
        assert cap["drop_ci"] == pytest.approx(list(paired)) and cap["n_paired"] == 3
    else:
        assert cap["decided_by"] == "unpaired, all examples"
        assert cap["drop_ci"] == pytest.approx(list(unpaired)) and cap["n_paired"] == 0


def test_lmeval_fixtures(fixtures_dir):
    rows = read_evals(fixtures_dir / "lmeval_samples_math_perturbed.jsonl",
                      ImportOptions(model="m", task="math_perturbed_full"))
    assert len(rows) == 10 and all(r.passed == 0 for r in rows)
    assert rows[0].example_id == "math_perturbed_full:0"
    agg = read_evals(fixtures_dir / "lmeval_results_math_perturbed.json")
    by_task = {r.example_id: (r.passed, r.n) for r in agg}
    assert by_task == {"math_perturbed_full:aggregate": (0, 5000),
                       "math_rephrased_full:aggregate": (2, 5000)}  # 0.0004 × 5000


def test_promptfoo_correctness_ignores_latency_and_cost(fixtures_dir):
    rows = read_evals(fixtures_dir / "promptfoo_sample_export_gpt5_vs_gpt5mini.json")
    assert {(r.model, r.example_id) for r in rows} == {
        (m, t) for m in ("openai:gpt-5", "openai:gpt-5-mini") for t in ("test0", "test1")}
    # every result failed its latency assertion, yet every answer was correct
    assert all(r.passed == 1 for r in rows)


# Conversation logs (traffic, not benchmarks or evals) share the fixtures folder.
TRAFFIC_FIXTURES = ("hh-rlhf_", "mtbench_")


def test_every_fixture_is_recognised(fixtures_dir):
    for f in sorted(fixtures_dir.glob("*.json*")):
        if f.name.startswith(TRAFFIC_FIXTURES):
            continue
        try:
            runs = read_bench(f)
            assert runs
        except Exception:
            assert read_evals(f, ImportOptions(model="m"))


# ---- our own variants ------------------------------------------------------------------------

def test_vllm_append_result_jsonl_with_legacy_keys_and_failed_run():
    runs = read_bench(DATA / "vllm_append_result.jsonl")
    assert [r.completed for r in runs] == [200, 200, 0]
    assert [r.failed for r in runs] == [0, 0, 50]
    assert runs[0].max_concurrency is None and runs[1].max_concurrency == 64


def test_sglang_and_genai_perf():
    a, b = read_bench(DATA / "sglang_bench_serving.jsonl")
    assert b.mean_input_tokens == 2048
    assert (a.source_format, a.completed, a.max_concurrency, a.mean_input_tokens) == (
        "sglang", 100, 32, 512)
    (g,) = read_bench(DATA / "genai_perf_profile_export.json")
    assert (g.model, g.completed, g.max_concurrency, g.mean_input_tokens) == (
        "org/genai-model", 120, 8, 300)


def test_lmeval_samples_dedup_filter_and_task_from_name():
    path = DATA / "samples_gsm8k_2026-01-21T03-44-18.458309.jsonl"
    cmap = load_capability_map(DATA / "capability_map.yaml")
    rows = read_evals(path, ImportOptions(model="s", capability_map=cmap))
    assert len(rows) == 4  # one per doc, though each doc appears once per filter
    assert [r.passed for r in rows] == [1, 0, 0, 1]  # the first filter seen: strict-match
    assert {r.capability for r in rows} == {"math"}
    assert rows[0].example_id == "gsm8k:0"
    flex = read_evals(path, ImportOptions(model="s", filter="flexible-extract"))
    assert [r.passed for r in flex] == [1, 1, 0, 1]


def test_lmeval_results_alone_skips_group_rows():
    rows = read_evals(DATA / "lmeval_results_alone.json")
    assert {(r.example_id, r.passed, r.n) for r in rows} == {
        ("mmlu_abstract_algebra:aggregate", 31, 100), ("arc_easy:aggregate", 1782, 2376)}
    assert {r.model for r in rows} == {"org/student-1b"}


def test_inspect_eval_zip_cancelled_letters_and_metadata_map():
    cmap = load_capability_map(DATA / "capability_map.yaml")
    rows = read_evals(DATA / "inspect_cancelled.eval", ImportOptions(capability_map=cmap))
    got = {r.example_id: (r.capability, r.passed, r.score) for r in rows}
    assert got == {
        "clarify_eval:a1": ("clarifying_questions", 1, 1.0),
        "clarify_eval:a2": ("clarifying_questions", 0, 0.0),
        "clarify_eval:a3": ("legacy_csv_input", 0, 0.5),
        "clarify_eval:a4": ("legacy_csv_input", 0, 0.0),
    }  # a5 was never scored


def test_import_evals_writes_jsonl_that_compare_reads(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    code, _, err = run_cli(capsys, "import", "evals", str(DATA / "inspect_cancelled.eval"),
                           "-o", str(out), "--capability-map", str(DATA / "capability_map.yaml"))
    assert code == 0, err
    assert len(read_results(out)) == 4


# ---- bad input -------------------------------------------------------------------------------

def test_unknown_format_lists_supported(capsys):
    code, _, err = run_cli(capsys, "import", "bench", str(DATA / "sglang_bench_serving.jsonl"),
                           "--format", "locust")
    assert code == 1
    assert err.strip() == (f"{DATA / 'sglang_bench_serving.jsonl'}: unknown benchmark format "
                           "'locust'; supported: vllm, sglang, llmperf-summary, "
                           "llmperf-individual, aiperf, trtllm-bench, aiperf-records, "
                           "vllm-console, sglang-console")


def test_truncated_json_names_position(capsys):
    code, _, err = run_cli(capsys, "import", "bench", str(DATA / "truncated.json"))
    assert code == 1
    assert err.strip() == (f"{DATA / 'truncated.json'}:1:42: invalid JSON: Expecting ',' delimiter")


def test_wrong_format_says_what_it_looks_like(capsys, tmp_path):
    code, _, err = run_cli(capsys, "import", "bench", str(DATA / "sglang_bench_serving.jsonl"),
                           "--format", "vllm")
    assert code == 1
    assert err.strip() == (f"{DATA / 'sglang_bench_serving.jsonl'}:1: not a vllm result: it "
                           "looks like sglang")
    out = tmp_path / "x.csv"
    code, _, err = run_cli(capsys, "import", "evals", str(DATA / "sglang_bench_serving.jsonl"),
                           "-o", str(out))
    assert code == 1 and not out.exists()
    assert "it looks like a sglang serving benchmark (use econ import bench)" in err


def test_eval_import_failure_writes_nothing(capsys, tmp_path):
    out = tmp_path / "x.csv"
    code, _, err = run_cli(capsys, "import", "evals",
                           str(DATA / "samples_gsm8k_2026-01-21T03-44-18.458309.jsonl"),
                           "-o", str(out))
    assert code == 1
    assert err.strip().endswith("lm-eval samples do not name the model; give --model")
    assert list(tmp_path.iterdir()) == []


# ---- fitting the GPU time model --------------------------------------------------------------

def scenario_with_benchmarks(tmp_path, files: list[Path], extra_fields: str = "") -> Path:
    text = DEFAULT.read_text()
    extra = "\n".join(f"      - {f}" for f in files)
    text = text.replace('''  student:
    serving: api''', f'''  local:
    serving: self_hosted
    role: other
    gpu: H100
    usd_per_gpu_hour: 2.99         # §1
    gpus_per_replica: 1
    target_utilisation: 1.0{extra_fields}
    benchmarks:
{extra}
  student:
    serving: api''')
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


def test_one_shape_without_a_prior_cannot_be_identified(fixtures_dir, tmp_path, capsys):
    """One request shape, no architecture and no stated prefill_cost_ratio: refused, not split
    by a silent default."""
    path = scenario_with_benchmarks(
        tmp_path, [fixtures_dir / "vllm_benchmark_serving_detailed_llama3-8b_h100.json"])
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "local", "--json")
    assert code == 1 and out == ""
    assert f"{path}:" in err and "models.local.benchmarks" in err
    assert "cannot identify" in err and "Traceback" not in err


def test_fit_on_the_vllm_fixture(fixtures_dir, tmp_path, capsys):
    path = scenario_with_benchmarks(
        tmp_path, [fixtures_dir / "vllm_benchmark_serving_detailed_llama3-8b_h100.json"],
        "\n    prefill_cost_ratio: 0.35")
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "local", "--json")
    assert code == 0, err
    fit = json.loads(out)
    assert fit["method"] == "single_split"
    assert fit["cross_validation"] is None  # one run: nothing to hold out
    (run,) = fit["runs"]
    assert run["seconds_per_request"] == pytest.approx(1 / 1.8633739431904777)
    assert run["relative_residual"] == pytest.approx(0, abs=1e-12)
    assert fit["prefill_s_per_token"] == pytest.approx(0.35 * fit["decode_s_per_token"])
    code, text, _ = run_cli(capsys, "fit", str(path), "--model", "local")
    assert "residual (%)" in text and "USD/conversation" in text


def test_nnls_recovers_two_runs_exactly(tmp_path, capsys):
    path = scenario_with_benchmarks(tmp_path, [DATA / "vllm_append_two_good_runs.jsonl"])
    code, out, _ = run_cli(capsys, "fit", str(path), "--model", "local", "--json")
    assert code == 0
    fit = json.loads(out)
    # runs: 1000 in / 100 out at 0.1 s per request; 100 in / 1000 out at 0.2 s
    alpha, beta = np.linalg.solve([[1000, 100], [100, 1000]], [0.1, 0.2])
    assert fit["method"] == "nnls"
    assert fit["prefill_s_per_token"] == pytest.approx(alpha, rel=1e-9)
    assert fit["decode_s_per_token"] == pytest.approx(beta, rel=1e-9)
    assert max(abs(r["relative_residual"]) for r in fit["runs"]) < 1e-9


def test_zero_completed_run_is_an_error(tmp_path, capsys):
    path = scenario_with_benchmarks(tmp_path, [DATA / "vllm_append_result.jsonl"])
    code, _, err = run_cli(capsys, "evaluate", str(path))
    assert code == 1
    assert err.strip().endswith(
        f"models.local.benchmarks[0]: {DATA / 'vllm_append_result.jsonl'} run 3: 0 completed "
        "requests, so nothing was measured (did every request fail?)")
    assert "inf" not in err and "nan" not in err


def test_capability_map_from_a_scenario(tmp_path):
    text = DEFAULT.read_text().replace(
        "consent: [creative_assist, factual_qa]",
        "capability_map:\n  metadata:\n    category: {ambiguous: clarifying_questions}\n"
        "  default: creative_assist\nconsent: [creative_assist, factual_qa]")
    p = tmp_path / "s.yaml"
    p.write_text(text)
    rows = read_evals(DATA / "inspect_cancelled.eval",
                      ImportOptions(capability_map=load_capability_map(p)))
    assert {r.example_id[-2:]: r.capability for r in rows} == {
        "a1": "clarifying_questions", "a2": "clarifying_questions", "a3": "creative_assist",
        "a4": "creative_assist"}


def test_bad_capability_map_in_scenario(tmp_path, capsys):
    text = DEFAULT.read_text().replace("consent: [creative_assist, factual_qa]",
                                       "capability_map:\n  tasks: {a: b}\nconsent: []")
    p = tmp_path / "s.yaml"
    p.write_text(text)
    code, _, err = run_cli(capsys, "validate", str(p))
    assert code == 1
    line = text.splitlines().index("capability_map:") + 1
    assert err.strip() == (f"{p}:{line}: capability_map: unknown key(s) tasks; allowed: task, "
                           "tag, metadata, default, text")
