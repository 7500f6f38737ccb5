"""The context-aware serving model: physics, fit, cross-validation, prediction, SLO, refusals.

The sweep is `../shared/fixtures/serving_sweep_qwen3-8b-fp8_h100.csv` (Qwen3-8B FP8 on one H100),
turned into vLLM result files, one per shape at its highest-throughput concurrency. The physics
and the maximum a posteriori fit are recomputed independently of econ in
tests/serving_by_hand.py.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from econ.cli import main
from tests import serving_by_hand
from tests.conftest import BASIC

SWEEP = "serving_sweep_qwen3-8b-fp8_h100.csv"
STUDENT_API = '''  student:
    serving: api
    role: student
    label: distilled student priced like GPT-4o mini
    price_key: gpt-4o-mini         # litellm snapshot: 0.15 / 0.60 USD per MTok; §3 (0.15 / 0.60)
'''

# Qwen3-8B (data/SOURCES.md §9) served in FP8 on one H100 SXM, as the sweep ran it
HAND = serving_by_hand.hand_of({"architecture": "qwen3-8b", "gpu": "H100-SXM",
                                "weight_bytes_per_parameter": 1, "gpus_per_replica": 1})


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def best_runs(sweep: Path) -> list[dict]:
    best: dict[tuple[int, int], dict] = {}
    for r in csv.DictReader(sweep.open()):
        key = (int(r["input_len"]), int(r["output_len"]))
        if key not in best or float(r["request_throughput"]) > float(
                best[key]["request_throughput"]):
            best[key] = r
    return [best[k] for k in sorted(best)]


def vllm_files(rows: list[dict], folder: Path) -> list[Path]:
    out = []
    for r in rows:
        i, o, n = int(r["input_len"]), int(r["output_len"]), int(r["completed"])
        f = folder / f"vllm_{i}_{o}_c{r['concurrency']}.json"
        f.write_text(json.dumps({
            "completed": n, "duration": float(r["duration_s"]),
            "total_input_tokens": i * n, "total_output_tokens": o * n,
            "request_throughput": float(r["request_throughput"]),
            "max_concurrency": int(r["concurrency"]), **r.get("extra", {})}))
        out.append(f)
    return out


def scenario(tmp_path: Path, files: list[Path], fields: str = "",
             conversation: dict | None = None, name: str = "s.yaml") -> Path:
    text = BASIC.read_text().replace("probes: probes/frontier-vs-distilled.jsonl", "")
    bench = "".join(f"      - {f}\n" for f in files)
    text = text.replace(STUDENT_API, f'''  student:
    serving: self_hosted
    role: student
    gpu: H100-SXM
    usd_per_gpu_hour: 2.99
    gpus_per_replica: 1
    architecture: qwen3-8b
    weight_bytes_per_parameter: 1
{fields}    benchmarks:
{bench}''')
    if conversation:
        for k, v in conversation.items():
            lines = text.splitlines(keepends=True)
            text = "".join(f"  {k}: {v}\n" if ln.startswith(f"  {k}:") else ln for ln in lines)
        text = text.replace("    conversation:\n      user_tokens_per_turn: 1500", "")
    p = tmp_path / name
    p.write_text(text)
    return p


def nearest_concurrency(rows: list[dict], context: float) -> float:
    """The client concurrency of the chosen run nearest ``context`` in log scale (of two as
    near, the lower): the operating point a request is priced at."""
    best = min(rows, key=lambda r: (abs(math.log(context / (
        int(r["input_len"]) + int(r["output_len"])))), int(r["concurrency"])))
    return float(best["concurrency"])


def terms(prompt: float, new: float, out: float, conc: float) -> tuple[float, ...]:
    return HAND.terms(prompt, new, out, conc)


def independent_fit(runs: list[tuple[float, float, float, float]]) -> np.ndarray:
    return serving_by_hand.fit(HAND, runs)


# --- tests ------------------------------------------------------------------------------------

def test_kv_cache_bound_matches_the_measured_concurrency_limit() -> None:
    from econ.model.serving_specs import architecture_table, gpu_table, replica_of
    from econ.scenario.schema import SelfHostedModel

    m = SelfHostedModel(serving="self_hosted", role="student", gpu="H100-SXM",
                        usd_per_gpu_hour=2.99, gpus_per_replica=1, architecture="qwen3-8b",
                        weight_bytes_per_parameter=1, throughput=None, benchmarks=["x"])
    r = replica_of(m, architecture_table(), gpu_table())
    assert r is not None
    assert r.kv_bytes_per_token == 147_456  # 144 KiB, as the fixture's SOURCES.md states
    # an H100 "80 GB" is 81,559 MiB as the driver reports it (§9): 0.9 × 81,559 × 2^20 B less
    # 8.19e9 B of FP8 weights, ÷ 147,456 B
    h100 = 81_559 * 2 ** 20
    assert r.kv_capacity_tokens == pytest.approx((0.9 * h100 - 8.19e9) / 147_456, rel=1e-3)
    # the replica holds what vLLM reported for this very run (430,272 tokens, §9), and not much
    # more: vLLM's profile also reserves activations and CUDA graphs (≈ 5 GB)
    assert 430_272 <= r.kv_capacity_tokens <= 1.1 * 430_272
    # and the BF16 run of the same model: 377,024 tokens reported (§9)
    bf16 = replica_of(m.model_copy(update={"weight_bytes_per_parameter": 2}),
                      architecture_table(), gpu_table())
    assert bf16 is not None
    assert bf16.kv_capacity_tokens == pytest.approx((0.9 * h100 - 2 * 8.19e9) / 147_456,
                                                    rel=1e-3)
    assert 377_024 <= bf16.kv_capacity_tokens <= 1.1 * 377_024
    # read as 10^9 bytes per GB the 80 GB would hold 377,197 BF16 tokens: the reported 377,024
    # only by the accident of vLLM's own reserve; an 80 GiB part is not 80e9 bytes
    assert r.max_num_seqs == 1024  # vLLM's default on an 80 GB H100 (§9)


def test_request_terms_match_a_hand_computation() -> None:
    from econ.model.serving import Replica, request_terms

    h = HAND
    r = Replica(h.layers, h.heads, h.kv_heads, h.head_dim, h.params, h.weight_bytes, h.kv_bytes,
                1, h.memory, h.bandwidth, h.flops, h.utilisation, int(h.max_seqs))
    for prompt, new, out, conc in [(128, 128, 128, 512), (8192, 8192, 512, 64),
                                   (3000, 700, 400, math.inf), (50, 0, 9, 3)]:
        got = request_terms(r, prompt, new, out, conc)
        want = terms(prompt, new, out, conc)[:5]
        assert got == pytest.approx(want, rel=1e-9)


def test_decode_time_per_token_grows_with_context() -> None:
    from econ.model.serving import PRIOR as P
    from econ.model.serving import Replica, ServingModel

    h = HAND
    model = ServingModel(Replica(h.layers, h.heads, h.kv_heads, h.head_dim, h.params,
                                 h.weight_bytes, h.kv_bytes, 1, h.memory, h.bandwidth, h.flops,
                                 h.utilisation, int(h.max_seqs)), P)
    per_token = [float(model.request_seconds(p, 0, 200) - model.request_seconds(p, 0, 100)) / 100
                 for p in (100, 1000, 4000, 16000, 64000)]
    assert all(b > a for a, b in itertools.pairwise(per_token))
    assert per_token[-1] > 5 * per_token[0]  # at 64k the KV cache, not the weights, dominates


@pytest.fixture
def sweep_scenario(fixtures_dir, tmp_path) -> tuple[Path, list[dict]]:
    rows = best_runs(fixtures_dir / SWEEP)
    assert [(int(r["input_len"]), int(r["output_len"])) for r in rows] == [
        (128, 128), (128, 1024), (1024, 128), (2048, 2048), (8192, 512)]
    return scenario(tmp_path, vllm_files(rows, tmp_path)), rows


def test_held_out_shapes_and_residuals_on_the_public_sweep(sweep_scenario, capsys) -> None:
    path, rows = sweep_scenario
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "student", "--json")
    assert code == 0, err
    fit = json.loads(out)
    assert fit["context_aware"] is True
    cv = fit["cross_validation"]
    ratios = [r["predicted_over_measured"] for r in cv["runs"]]
    assert len(ratios) == 5
    assert all(0.85 <= x <= 1.15 for x in ratios), ratios
    assert cv["max_abs_log_error"] == pytest.approx(max(abs(math.log(x)) for x in ratios))
    residuals = [r["relative_residual"] for r in fit["runs"]]
    assert all(abs(e) <= 0.10 for e in residuals), residuals
    # the measured seconds per request are the sweep's 1 ÷ request throughput
    for run, row in zip(fit["runs"], rows, strict=True):
        assert run["seconds_per_request"] == pytest.approx(1 / float(row["request_throughput"]))


def test_fit_agrees_with_an_independent_map_fit(sweep_scenario, capsys) -> None:
    path, rows = sweep_scenario
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "student", "--json")
    assert code == 0, err
    fit = json.loads(out)
    runs = [(float(r["input_len"]), float(r["output_len"]), float(r["concurrency"]),
             1 / float(r["request_throughput"])) for r in rows]
    want = independent_fit(runs)
    got = [fit["prefill_factor"], fit["decode_compute_factor"], fit["memory_factor"],
           fit["comm_factor"], fit["step_overhead_s"], fit["request_overhead_s"]]
    assert got == pytest.approx(list(want), rel=2e-3)
    # held out: the 2048/2048 shape predicted from a fit to the other four, independently
    rest = [r for r in runs if r[:2] != (2048.0, 2048.0)]
    eff = independent_fit(rest)
    i, o, c, s = next(r for r in runs if r[:2] == (2048.0, 2048.0))
    pred = float(np.dot(terms(i, i, o, c), eff))
    held = next(r for r in fit["cross_validation"]["runs"] if "2048_2048" in r["held_out"])
    assert held["predicted_over_measured"] == pytest.approx(pred / s, rel=2e-3)


def test_predict_agrees_with_evaluate_on_a_one_turn_conversation(fixtures_dir, tmp_path,
                                                                  capsys) -> None:
    rows = best_runs(fixtures_dir / SWEEP)
    files = vllm_files(rows, tmp_path)
    for inp, outp in [(600, 250), (5000, 40)]:
        path = scenario(tmp_path, files, conversation={
            "turns": 1, "system_prompt_tokens": 0, "user_tokens_per_turn": inp,
            "assistant_tokens_per_turn": outp})
        code, out, err = run_cli(capsys, "fit", str(path), "--model", "student", "--predict",
                                 str(inp), str(outp), "--json")
        assert code == 0, err
        pred = json.loads(out)
        code, out, err = run_cli(capsys, "evaluate", str(path), "--json")
        assert code == 0, err
        ev = json.loads(out)
        per_cap = ev["models"]["student"]["cost_per_conversation_usd_by_capability"]
        # dollars of one request: replica-seconds × 1 GPU × 2.99 USD/h ÷ 3600 ÷ (0.6 ÷ 1)
        by_hand = pred["predicted_seconds_per_request"] * 2.99 / 3600 / 0.6
        assert pred["predicted_cost_usd_per_request"] == pytest.approx(by_hand, rel=1e-12)
        for usd in per_cap.values():
            assert usd == pytest.approx(by_hand, rel=1e-12)
        # and the physics, with the fitted efficiencies, by hand, at the concurrency of the run
        # nearest in context (log scale; of two as near, the lower): what was measured
        eff = [pred["prefill_factor"], pred["decode_compute_factor"], pred["memory_factor"],
               pred["comm_factor"], pred["step_overhead_s"], pred["request_overhead_s"]]
        want = float(np.dot(terms(inp, inp, outp, nearest_concurrency(rows, inp + outp)), eff))
        assert pred["predicted_seconds_per_request"] == pytest.approx(want, rel=1e-9)


def test_each_turn_is_charged_at_its_own_context(fixtures_dir, tmp_path, capsys) -> None:
    rows = best_runs(fixtures_dir / SWEEP)
    files = vllm_files(rows, tmp_path)
    s, u, a, hit = 400, 300, 200, 0.5
    path = scenario(tmp_path, files, conversation={
        "turns": 3, "system_prompt_tokens": s, "user_tokens_per_turn": u,
        "assistant_tokens_per_turn": a, "cache_hit_rate": hit})
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "student", "--json")
    assert code == 0, err
    fit = json.loads(out)
    eff = [fit["prefill_factor"], fit["decode_compute_factor"], fit["memory_factor"],
           fit["comm_factor"], fit["step_overhead_s"], fit["request_overhead_s"]]
    seconds = 0.0
    for k in (1, 2, 3):  # turn k sends the system prompt, k-1 earlier turns and its message
        prompt = s + u + (k - 1) * (u + a)
        cached = hit * ((s if k > 1 else 0) + (k - 1) * (u + a))
        conc = nearest_concurrency(rows, prompt + a)
        seconds += float(np.dot(terms(prompt, prompt - cached, a, conc), eff))
    code, out, err = run_cli(capsys, "evaluate", str(path), "--json")
    usd = json.loads(out)["models"]["student"]["cost_per_conversation_usd_by_capability"]
    assert usd["math"] == pytest.approx(seconds * 2.99 / 3600 / 0.6, rel=1e-9)
    # the same tokens charged at the conversation's mean context would be cheaper: context costs
    totals_prompt = 3 * (s + u) + 3 * (u + a)
    flat = float(np.dot(terms(totals_prompt / 3, totals_prompt / 3, a,
                              nearest_concurrency(rows, totals_prompt / 3 + a)), eff))
    assert seconds != pytest.approx(3 * flat, rel=1e-3)


def test_context_beyond_the_runs_is_flagged_on_every_output(sweep_scenario, capsys) -> None:
    path, _ = sweep_scenario  # code_help's 5th turn reaches 10,207 tokens; the runs 8,704
    code, out, err = run_cli(capsys, "evaluate", str(path), "--json")
    assert code == 0, err
    ev = json.loads(out)
    assert ev["models"]["student"]["gpu_cost_extrapolated"] is True
    (w,) = ev["warnings"]
    assert w.startswith("student:") and "10,207" in w and "8,704" in w
    code, text, _ = run_cli(capsys, "evaluate", str(path))
    assert "EXTRAPOLATED GPU COST: student" in text
    code, out, _ = run_cli(capsys, "fit", str(path), "--model", "student", "--json")
    assert json.loads(out)["warnings"] == [w]
    short = path.with_name("short.yaml")
    short.write_text(path.read_text().replace("  turns: 5 ", "  turns: 2 "))
    code, out, err = run_cli(capsys, "evaluate", str(short), "--json")
    assert code == 0, err
    assert json.loads(out)["warnings"] == []


def test_slo_picks_the_fastest_run_that_meets_it(fixtures_dir, tmp_path, capsys) -> None:
    rows = []
    # one shape at three concurrencies; p99 TTFT grows with load
    for conc, rps, ttft in [(16, 18.70, 220.0), (64, 28.91, 1170.0), (256, 35.63, 4685.0)]:
        rows.append({"input_len": "1024", "output_len": "128", "concurrency": str(conc),
                     "completed": "500", "duration_s": str(500 / rps),
                     "request_throughput": str(rps), "extra": {"p99_ttft_ms": ttft,
                                                               "median_itl_ms": 9.0}})
    rows.append({"input_len": "128", "output_len": "1024", "concurrency": "64",
                 "completed": "320", "duration_s": "38.0", "request_throughput": "8.4186",
                 "extra": {"p99_ttft_ms": 212.8, "median_itl_ms": 7.3}})
    files = vllm_files(rows, tmp_path)
    free = scenario(tmp_path, files)
    code, out, err = run_cli(capsys, "fit", str(free), "--model", "student", "--json")
    assert code == 0, err
    chosen = {(r["input_tokens_per_request"], r["concurrency"]) for r in json.loads(out)["runs"]}
    assert chosen == {(1024.0, 256.0), (128.0, 64.0)}  # no SLO: the highest throughput
    slo = scenario(tmp_path, files, fields="    slo: {ttft_ms: 2000}\n", name="slo.yaml")
    code, out, err = run_cli(capsys, "fit", str(slo), "--model", "student", "--json")
    assert code == 0, err
    fit = json.loads(out)
    chosen = {(r["input_tokens_per_request"], r["concurrency"]) for r in fit["runs"]}
    assert chosen == {(1024.0, 64.0), (128.0, 64.0)}  # 256 breaks p99 TTFT 2 s
    code, out, _ = run_cli(capsys, "fit", str(slo), "--model", "student", "--predict", "1024",
                           "128", "--json")
    at_slo = json.loads(out)["predicted_seconds_per_request"]
    code, out, _ = run_cli(capsys, "fit", str(free), "--model", "student", "--predict", "1024",
                           "128", "--json")
    assert at_slo > json.loads(out)["predicted_seconds_per_request"]  # the SLO costs throughput
    strict = scenario(tmp_path, files, fields="    slo: {ttft_ms: 100}\n", name="strict.yaml")
    code, out, err = run_cli(capsys, "fit", str(strict), "--model", "student", "--json")
    assert code == 1 and out == ""
    assert "models.student.slo" in err and "latency objective" in err


def test_one_shape_with_the_prior_still_fits(fixtures_dir, tmp_path, capsys) -> None:
    rows = [r for r in best_runs(fixtures_dir / SWEEP) if r["input_len"] == "1024"]
    path = scenario(tmp_path, vllm_files(rows, tmp_path))
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "student", "--json")
    assert code == 0, err
    fit = json.loads(out)
    (run,) = fit["runs"]
    assert abs(run["relative_residual"]) < 0.05  # the one run is matched
    assert fit["cross_validation"] is None


@pytest.mark.parametrize(("fields", "where", "what"), [
    ("    architecture: {layers: 0, attention_heads: 32, kv_heads: 8, head_dim: 128, "
     "parameters_billion: 8}\n", "models.student.architecture.layers", "greater than or equal"),
    ("    architecture: gpt-17\n", "models.student.architecture", "not in data/serving"),
    # 0.09 × 81,559 MiB = 7.70e9 B < 8.19e9 B of FP8 weights
    ("    gpu_memory_utilization: 0.09\n", "models.student", "do not fit"),
])
def test_bad_architecture_is_refused_naming_the_field(fixtures_dir, tmp_path, capsys, fields,
                                                      where, what) -> None:
    files = vllm_files(best_runs(fixtures_dir / SWEEP), tmp_path)
    path = scenario(tmp_path, files)
    text = path.read_text()
    if fields.startswith("    architecture:"):
        text = text.replace("    architecture: qwen3-8b\n", fields)
    else:
        text = text.replace("    weight_bytes_per_parameter: 1\n",
                            "    weight_bytes_per_parameter: 1\n" + fields)
    path.write_text(text)
    code, out, err = run_cli(capsys, "evaluate", str(path), "--json")
    assert code == 1 and out == ""
    assert f"{path}:" in err and where in err and what in err
    assert "Traceback" not in err


@pytest.mark.parametrize("bad", [["-1", "10"], ["10", "nan"], ["1e9", "1"]])
def test_predict_refuses_impossible_shapes(sweep_scenario, capsys, bad) -> None:
    path, _ = sweep_scenario
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(path), "--model", "student", "--predict", *bad])
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "argument --predict" in err and ("token count" in err or "finite" in err)


def test_drawn_turns_charge_each_draw_as_its_own_conversation() -> None:
    """Monte Carlo draws of turns, tokens and throughput in one array give, draw by draw, what
    the same conversation gives alone (the array path charges a turn only to the draws that
    reach it)."""
    from econ.model.evaluate import evaluate
    from econ.model.loader import load_scenario
    from econ.model.serving import ServingModel
    from econ.scenario.conversation import TurnShape
    from tests.conftest import DEFAULT

    loaded = load_scenario(DEFAULT)
    evaluate(loaded.scenario, loaded.measured)
    model = loaded.measured.time_models["llama-8b-distilled"]
    assert isinstance(model, ServingModel)
    rng = np.random.default_rng(5)
    n = 300
    turns = 5 * rng.lognormal(0, 0.5, n)  # 0.6 to 25 turns, fractional
    user, assistant = 300 * rng.lognormal(0, 0.3, n), 440 * rng.lognormal(0, 0.3, n)
    speed = rng.lognormal(0, 0.1, n)
    drawn = model.scaled(speed).conversation_seconds(
        TurnShape(turns, 500.0, user, assistant, True, 0.25), 100.0)
    alone = [model.scaled(float(speed[i])).conversation_seconds(
        TurnShape(float(turns[i]), 500.0, float(user[i]), float(assistant[i]), True, 0.25), 100.0)
        for i in range(n)]
    np.testing.assert_allclose(drawn, alone, rtol=1e-12)
