"""Self-hosted cost off the measured path (issue 22, items 2, 4 and 5), against hand figures.

- the operating point is what the runs measured: a sweep at low concurrency is priced at the
  concurrency it reached, and at saturation only when asked (``--assume-saturation`` or the
  model's ``assume_saturation``), with a warning naming the batch and a wide interval;
- a length spread: a run's per-request lengths and a conversation's spread are taken in
  expectation (the conversation's checked against a numerical integral over lognormal lengths);
- no benchmark at all: the spec tables and the prior, with a wide interval and a warning;
- ``benchmarks_from``: another model's runs carried to this replica through the communication
  term, the transfer stated and widening the interval.

Hand figures: tests/serving_by_hand.py (independent of econ), data/serving/ (data/SOURCES.md §9).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests import serving_by_hand
from tests.test_golden import reasoning, shape_of
from tests.test_serving_model import HAND, SWEEP, run_cli, scenario, vllm_files

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_8B = ROOT / "data" / "benchmarks" / "lambdalabs-vllm060-llama3.1-8b-tp1-h100.json"
Z = 1.6448536269514722


def low_concurrency_rows(fixtures_dir: Path) -> list[dict]:
    return [r for r in csv.DictReader((fixtures_dir / SWEEP).open())
            if int(r["concurrency"]) <= 4]


def test_a_low_concurrency_sweep_is_priced_at_what_it_measured(fixtures_dir, tmp_path,
                                                              capsys) -> None:
    # every shape run at concurrency 1 and 4 only: the highest-throughput run of each is its
    # c=4 run. It used to be priced at saturation (the batch the KV cache allows: 727 sequences
    # of 128 + 1,024 tokens), many times cheaper than anything measured, without a word.
    rows = low_concurrency_rows(fixtures_dir)
    path = scenario(tmp_path, vllm_files(rows, tmp_path))
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "student", "--predict",
                             "128", "1024", "--json")
    assert code == 0, err
    fit = json.loads(out)
    eff = [fit["prefill_factor"], fit["decode_compute_factor"], fit["memory_factor"],
           fit["comm_factor"], fit["step_overhead_s"], fit["request_overhead_s"]]
    at_4 = float(np.dot(HAND.terms(128, 128, 1024, 4), eff))
    assert fit["predicted_seconds_per_request"] == pytest.approx(at_4, rel=1e-9)
    measured = 1 / 0.77820549  # the c=4 run of 128/1024
    assert at_4 / measured == pytest.approx(1.0, abs=0.1)
    assert not any("batch" in w for w in fit["warnings"])
    # asked for saturation: priced at the batch the KV cache and max_num_seqs allow, said so
    batch = min(1024, HAND.kv_capacity / (128 + 512 + 1))
    at_sat = float(np.dot(HAND.terms(128, 128, 1024, math.inf), eff))
    for saturated in (["--assume-saturation"], []):
        target = path
        if not saturated:
            target = path.with_name("sat.yaml")
            target.write_text(path.read_text().replace(
                "    weight_bytes_per_parameter: 1\n",
                "    weight_bytes_per_parameter: 1\n    assume_saturation: true\n"))
        code, out, err = run_cli(capsys, "fit", str(target), "--model", "student", "--predict",
                                 "128", "1024", "--json", *saturated)
        assert code == 0, err
        sat = json.loads(out)
        assert sat["predicted_seconds_per_request"] == pytest.approx(at_sat, rel=1e-9)
        assert at_sat < at_4 / 5  # what saturation would promise
        iv = sat["predicted_seconds_per_request_interval"]
        # the runs the fit rests on are the operating points: each shape's c=4 run
        assert f"batch {batch:,.0f} sequences in flight, runs measured 4–4" in iv["outside_runs"]
        # at least the batch term's width: 0.07 × ln(727 / 4) in log-sd
        assert iv["factor"] >= math.exp(Z * 0.07 * math.log(batch / 4)) > 1.8
        assert any("priced at saturation" in n and "(4)" in n
                   for n in sat["operating_point_notes"])
        code, out, err = run_cli(capsys, "evaluate", str(target), "--json", *saturated)
        assert code == 0, err
        (w,) = [w for w in json.loads(out)["warnings"] if w.startswith("student: ")]
        assert "sequences in flight, runs measured 4–4" in w and "extrapolated" in w


def test_per_request_lengths_are_taken_in_expectation(fixtures_dir, tmp_path, capsys) -> None:
    # the LambdaLabs detailed vLLM result (../shared/fixtures): 10 ShareGPT requests of Llama 3 8B
    # on one H100, each with its own input and output length, all sent at once (10 in flight)
    doc = json.loads((fixtures_dir / "vllm_benchmark_serving_detailed_llama3-8b_h100.json")
                     .read_text())
    doc["max_concurrency"] = 10  # rate inf, 10 prompts: at most 10 in flight
    run = tmp_path / "detailed.json"
    run.write_text(json.dumps(doc))
    path = scenario(tmp_path, [run])
    path.write_text(path.read_text().replace("    architecture: qwen3-8b\n",
                                             "    architecture: llama-3.1-8b\n")
                    .replace("    weight_bytes_per_parameter: 1\n",
                             "    weight_bytes_per_parameter: 2\n"))
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "student", "--json")
    assert code == 0, err
    fit = json.loads(out)
    got = [fit["prefill_factor"], fit["decode_compute_factor"], fit["memory_factor"],
           fit["comm_factor"], fit["step_overhead_s"], fit["request_overhead_s"]]
    hand = serving_by_hand.hand_of({"architecture": "llama-3.1-8b", "gpu": "H100-SXM",
                                    "gpus_per_replica": 1})
    points = [(float(i), float(o), 1.0) for i, o in zip(doc["input_lens"], doc["output_lens"],
                                                         strict=True)]
    seconds = 1 / doc["request_throughput"]
    mean_in = sum(doc["input_lens"]) / 10
    mean_out = sum(doc["output_lens"]) / 10
    want = serving_by_hand.fit(hand, [(mean_in, mean_out, 10.0, seconds, points)])
    assert got == pytest.approx(list(want), rel=1e-6)
    # its mean shape alone is fitted otherwise: attention and KV reads grow with the product of
    # the lengths, so the mix's expected terms are not the mean's
    fixed = serving_by_hand.fit(hand, [(mean_in, mean_out, 10.0, seconds)])
    assert max(abs(f / w - 1) for f, w in zip(fixed, want, strict=True)) > 1e-3
    mix = serving_by_hand.expected_terms(hand, points, 10.0)
    mean = hand.terms(mean_in, mean_in, mean_out, 10.0)
    assert all(mix[k] > 1.001 * mean[k] for k in (0, 1, 2))  # prefill, decode, memory


def test_a_conversation_length_spread_is_taken_in_expectation(fixtures_dir, tmp_path,
                                                              capsys) -> None:
    rows = [r for r in csv.DictReader((fixtures_dir / SWEEP).open())
            if r["concurrency"] == "512"]
    files = vllm_files(rows, tmp_path)
    conv = {"turns": 2, "system_prompt_tokens": 60, "user_tokens_per_turn": 40,
            "assistant_tokens_per_turn": 30, "cache_hit_rate": 0.5}
    plain = scenario(tmp_path, files, conversation=conv)
    spread = plain.with_name("spread.yaml")
    spread.write_text(plain.read_text().replace(
        "  cache_hit_rate: 0.5\n",
        "  cache_hit_rate: 0.5\n  user_tokens_spread_cv: 0.9\n"
        "  assistant_tokens_spread_cv: 0.6\n"))
    code, out, err = run_cli(capsys, "fit", str(spread), "--model", "student", "--json")
    assert code == 0, err
    fit = json.loads(out)
    eff = np.array([fit["prefill_factor"], fit["decode_compute_factor"], fit["memory_factor"],
                    fit["comm_factor"], fit["step_overhead_s"], fit["request_overhead_s"]])
    y = yaml.safe_load(spread.read_text())
    shape = shape_of(y, None)
    # every run at 512: whatever the nearest, the concurrency is 512
    want = serving_by_hand.conversation_seconds_spread(HAND, eff, shape, 0.9, 0.6, 512.0)
    mean_only = serving_by_hand.conversation_seconds(HAND, eff, shape, 0.0, 512.0)
    usd = fit["cost_per_conversation_usd_uncategorised"]
    assert usd == pytest.approx(want * 2.99 / 3600 / 0.6, rel=1e-7)
    assert want > mean_only * 1.001  # a spread of lengths costs more than the mean length
    code, out, err = run_cli(capsys, "fit", str(plain), "--model", "student", "--json")
    assert json.loads(out)["cost_per_conversation_usd_uncategorised"] == pytest.approx(
        mean_only * 2.99 / 3600 / 0.6, rel=1e-9)
    # the runs were fixed shapes: the spread lies outside them, and widens the interval
    iv = fit["cost_per_conversation_usd_interval"]
    assert "length spread cv 0.90, runs measured 0.00–0.00" in iv["outside_runs"]


def prior_only(tmp_path: Path) -> Path:
    """The test scenario with its student a Llama 3.1 8B with no run at all."""
    path = scenario(tmp_path, [])
    text = path.read_text().replace("    benchmarks:\n", "").replace(
        "    architecture: qwen3-8b\n", "    architecture: llama-3.1-8b\n").replace(
        "    weight_bytes_per_parameter: 1\n", "    weight_bytes_per_parameter: 2\n")
    path.write_text(text)
    return path


def test_no_benchmark_gives_the_prior_with_a_wide_interval(tmp_path, capsys) -> None:
    path = prior_only(tmp_path)
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "student", "--json")
    assert code == 0, err
    fit = json.loads(out)
    assert fit["method"] == "physical prior only (no runs)" and fit["runs"] == []
    got = [fit["prefill_factor"], fit["decode_compute_factor"], fit["memory_factor"],
           fit["comm_factor"], fit["step_overhead_s"], fit["request_overhead_s"]]
    assert got == list(serving_by_hand.PRIOR)
    # its cost, turn by turn at saturation (no run measured a concurrency), by hand
    y = yaml.safe_load(path.read_text())
    m = y["models"]["student"]
    hand = serving_by_hand.hand_of(m)
    for c in y["capabilities"]:
        seconds = serving_by_hand.conversation_seconds(hand, np.array(serving_by_hand.PRIOR),
                                                       shape_of(y, c), reasoning(y, "student", c))
        assert fit["cost_per_conversation_usd_by_capability"][c["id"]] == pytest.approx(
            seconds * 2.99 / 3600 / 0.6, rel=1e-9)
    # the interval of the spec tables alone: log-sd 0.65, ×/÷ 2.91
    assert fit["interval_basis"]["factor"] == pytest.approx(math.exp(Z * 0.65), rel=1e-12)
    assert fit["cost_per_conversation_usd_interval"]["factor"] >= math.exp(Z * 0.65)
    (w,) = [w for w in fit["warnings"] if "rests on" in w]
    assert "no runs: the spec tables and the physical prior alone" in w and "2.91" in w
    # and evaluate accepts it, with the warning and the interval
    code, out, err = run_cli(capsys, "evaluate", str(path), "--json")
    assert code == 0, err
    ev = json.loads(out)
    assert ev["models"]["student"]["gpu_cost_extrapolated"] is True
    assert ev["models"]["student"]["cost_per_conversation_usd_interval"]["factor"] >= 2.91
    code, text, err = run_cli(capsys, "evaluate", str(path))
    assert "EXTRAPOLATED GPU COST: student: its GPU cost rests on no runs" in text


def borrowing(tmp_path: Path) -> Path:
    """A 70B on four H100s borrowing the 8B's one run (LambdaLabs, §2), as the teacher."""
    path = scenario(tmp_path, [LAMBDA_8B], "    max_num_seqs: 256\n")
    text = path.read_text().replace("    architecture: qwen3-8b\n",
                                    "    architecture: llama-3.1-8b\n").replace(
        "    weight_bytes_per_parameter: 1\n", "    weight_bytes_per_parameter: 2\n")
    teacher = '''  teacher:
    serving: self_hosted
    role: teacher
    gpu: H100-SXM
    usd_per_gpu_hour: 2.99
    gpus_per_replica: 4
    architecture: llama-3.1-70b
    max_num_seqs: 256
    benchmarks_from: student
'''
    start = text.index("  teacher:\n")
    end = text.index("  student:\n")
    path.write_text(text[:start] + teacher + text[end:])
    return path


def test_benchmarks_from_carries_runs_to_another_replica(tmp_path, capsys) -> None:
    path = borrowing(tmp_path)
    code, out, err = run_cli(capsys, "fit", str(path), "--model", "teacher", "--json")
    assert code == 0, err
    fit = json.loads(out)
    # the efficiencies are the 8B run's, fitted on the 8B's replica, by hand
    run = json.loads(LAMBDA_8B.read_text())
    small = serving_by_hand.hand_of({"architecture": "llama-3.1-8b", "gpu": "H100-SXM",
                                     "gpus_per_replica": 1, "max_num_seqs": 256})
    eff = serving_by_hand.fit(small, [(run["total_input_tokens"] / 5000,
                                       run["total_output_tokens"] / 5000, 256.0,
                                       1 / run["request_throughput"])])
    got = [fit["prefill_factor"], fit["decode_compute_factor"], fit["memory_factor"],
           fit["comm_factor"], fit["step_overhead_s"], fit["request_overhead_s"]]
    assert got == pytest.approx(list(eff), rel=1e-7)
    # priced on the 70B's replica (its all-reduces included) at the run's concurrency 256
    y = yaml.safe_load(path.read_text())
    big = serving_by_hand.hand_of(y["models"]["teacher"])
    for c in y["capabilities"]:
        seconds = serving_by_hand.conversation_seconds(big, eff, shape_of(y, c), 0.0, 256.0)
        assert fit["cost_per_conversation_usd_by_capability"][c["id"]] == pytest.approx(
            seconds * 4 * 2.99 / 3600 / 0.6, rel=1e-6)
    # the transfer is stated and widens the interval: one run (0.15), tensor parallel 1 → 4
    # (two doublings × 0.15) and another architecture (0.15), in quadrature
    assert fit["transfer"] == ["runs of student carried to this replica (tensor parallel 1 → 4 "
                               "GPUs (carried by the communication term), architecture "
                               "llama-3.1-8b → llama-3.1-70b)"]
    sd = math.sqrt(0.15 ** 2 + 0.30 ** 2 + 0.15 ** 2)
    assert fit["interval_basis"]["log_sd"] == pytest.approx(sd, rel=1e-12)
    # the 70B's own published run (§2: 3,542.88 output tok/s at 256) lies inside it
    measured = json.loads((ROOT / "data" / "benchmarks" /
                           "lambdalabs-vllm060-llama3.1-70b-tp4-h100.json").read_text())
    i, o = measured["total_input_tokens"] / 5000, measured["total_output_tokens"] / 5000
    predicted = float(np.dot(big.terms(i, i, o, 256.0), eff))
    ratio = predicted * measured["request_throughput"]
    assert abs(math.log(ratio)) <= Z * sd


@pytest.mark.parametrize(("donor", "message"), [
    ("nobody", "unknown self-hosted model"),
    ("teacher", "unknown self-hosted model"),  # itself
])
def test_benchmarks_from_names_another_self_hosted_model(tmp_path, capsys, donor,
                                                         message) -> None:
    path = borrowing(tmp_path)
    path.write_text(path.read_text().replace("    benchmarks_from: student\n",
                                             f"    benchmarks_from: {donor}\n"))
    code, out, err = run_cli(capsys, "evaluate", str(path))
    assert code == 1 and out == ""
    assert "models.teacher.benchmarks_from" in err and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("cv", [0.3, 0.9, 1.5])
def test_the_by_hand_lognormal_rule_agrees_with_scipy(cv: float) -> None:
    """The by-hand expectation over a length spread (serving_by_hand.lognormal_rule) against
    scipy's adaptive quadrature of the lognormal density, on smooth non-polynomial functions."""
    from scipy import stats

    sigma = math.sqrt(math.log1p(cv * cv))
    dist = stats.lognorm(s=sigma, scale=math.exp(-sigma * sigma / 2))
    x, w = serving_by_hand.lognormal_rule(cv)
    assert float(w @ x) == pytest.approx(1.0, rel=1e-12)
    assert float(w @ x**2) == pytest.approx(1 + cv * cv, rel=1e-12)
    for f in (np.sqrt, np.log1p, lambda v: v / (1 + v) + 0.3 * v * v):
        want = dist.expect(f, epsabs=1e-14, epsrel=1e-12)
        assert float(w @ f(x)) == pytest.approx(want, rel=1e-9)
