"""econ benchmarks: named figures from one run, each against a baseline measured in that run.

    python benchmarks/run.py [--json] [--quick]

Figures:
- frontier_k20_s, frontier_bruteforce_k20_s: the exact Pareto merge against enumerating all 2^20
  consent sets (vectorised numpy) on the same seeded instance; the frontiers must be equal.
- frontier_k60_s: the merge at 60 capabilities (enumeration impossible).
- frontier_candidates_k20_s, frontier_candidates_bruteforce_k20_s: a tier's frontier over
  4 student candidates × 20 capabilities (each student's exact merge, then the merge of the
  union) against enumerating all 4 × 2^20 (student, consent set) plans; the frontiers must be
  equal (frontier_candidates_exact), and frontier_candidates_speedup is their ratio.
- montecarlo_100k_s, montecarlo_1m_s: 100,000 and 1,000,000 Monte Carlo draws of the default
  scenario (after imports, the cache off); montecarlo_1m_draw_floor_s draws as many normal
  numbers (1M per random input, montecarlo_inputs of them) in the same run, the floor of any
  Monte Carlo of these inputs, and montecarlo_1m_over_draw_floor is the ratio;
  montecarlo_1m_peak_mb the peak of memory allocated during the 1M run (tracemalloc), and
  montecarlo_1m_cached_ms the same call again, answered from the per-tier cache.
- app_mc_1m_open_s, app_mc_1m_after_tick_s, app_mc_1m_swing_s: AppTest reruns of the app at 1M
  draws: the Uncertainty tab opened, reopened after a consent tick on the first tab (plus's
  factual_qa), and the sensitivity swing changed (target < 3 s each); *_over_empty divides each
  by an empty Streamlit rerun in the same run.
- evaluate_cold_ratio: cold `econ evaluate DEFAULT --json` over the import floor
  `python -c "import numpy, pandas, scipy.stats, pydantic, yaml"`, medians of alternating runs.
- app_rerun_median_ms: server-side rerun of app.py after one consent tick (AppTest, default
  scenario, median of 20 ticks), against empty_app_rerun_median_ms, an empty Streamlit script
  rerun the same way in the same run.
- app_first_render_s: the app's first run with its imports already loaded.
- app_tick_ms_mc_1m_over_10k: median AppTest rerun after a consent tick on the first tab, with
  the Monte Carlo set to 1,000,000 draws (and run once on its tab), over the same with 10,000
  draws, in one run: a tick must not depend on the draw count (target <= 1.3).
- app_tick_median_ms: that median tick at 1M draws (target <= 60 ms), next to
  empty_app_rerun_median_ms from the same run.
- fit_loo_max_abs_log_error: the largest |ln(predicted ÷ measured)| when each shape of the public
  Qwen3-8B FP8 / H100 sweep (../shared/fixtures, data/SOURCES.md §2) is predicted by the serving
  model fitted to the other four; fit_loo_max_abs_log_error_linear is the same for the linear
  α·input + β·output fit, measured in the same run (the baseline it replaced);
  fit_max_abs_residual is the in-sample worst relative error; fit_s the time of one fit.
- interval_coverage: the share of held-out measurements inside econ's 90% prediction interval
  of self-hosted GPU time (tests/interval_study.py: subsets of the public Qwen3-8B sweep and the
  LambdaLabs runs fitted, the rest predicted at their own concurrency: one shape left out, low
  concurrency to high and back, no run at all, runs carried to another model), pooled
  (interval_coverage_all, target about 0.9) and per experiment; interval_predictions how many;
  interval_unflagged_over_25pct the predictions more than 25% off with no warning (target 0);
  interval_median_factor_within_runs the median ×/÷ of the predictions inside every dimension.
- traffic_*: `econ traffic` on 1,000,000 resampled HH-RLHF conversations written as each reader's
  format (HH transcripts, OpenAI and ShareGPT gz JSON Lines, Parquet), with and without text
  rules, each over a bare DuckDB scan of the same file and with its peak memory: see
  benchmarks/traffic_bench.py (--quick: 100,000 conversations, HH and OpenAI only).
- yaml_guard_ratio: parsing the default scenario with the hostile-input guards (depth walk,
  alias budget, line map: `parse_yaml`) over a bare `yaml.compose` of the same text.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from econ.decisions.frontier import (  # noqa: E402
    Candidate,
    Choice,
    merge_candidates,
    pareto_merge,
)
from econ.decisions.uncertainty import simulate  # noqa: E402
from econ.model.evaluate import evaluate  # noqa: E402
from econ.model.loader import load_scenario  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from traffic_bench import READERS, traffic_figures  # noqa: E402

DEFAULT = ROOT / "scenarios" / "frontier-vs-distilled.yaml"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def instance(k: int, seed: int) -> list[Choice]:
    """A realistic tier: traffic shares from a Dirichlet, a frontier teacher ~100x the student,
    drops from 0 to 40 points, severities lognormal around 0.2 USD, 6M conversations a month."""
    rng = np.random.default_rng(seed)
    share = rng.dirichlet(np.full(k, 0.7)) * 0.95
    teacher = 0.30 * rng.lognormal(0.0, 0.3, k)
    student = teacher / rng.uniform(50, 150, k)
    drop = rng.beta(1.2, 6.0, k) * 0.4
    severity = rng.lognormal(np.log(0.2), 1.0, k)
    e = 0.02
    loss = 6e6 * share * drop * severity
    return [Choice(f"c{i}", share[i] * ((1 - e) * student[i] + e * teacher[i]), (1 - e) * loss[i],
                   share[i] * ((1 - e) * teacher[i] + e * student[i]), e * loss[i])
            for i in range(k)]


def candidates_instance(students: int, k: int, seed: int) -> list[Candidate]:
    """Several students on one tier: each its own drops and prices, a shared router base."""
    rng = np.random.default_rng(seed)
    return [Candidate(f"s{j}", float(rng.uniform(0.0, 0.002)), float(rng.uniform(0, 1e3)),
                      tuple(instance(k, seed=seed * 100 + j))) for j in range(students)]


def brute_force_candidates(cands: list[Candidate]) -> tuple[np.ndarray, np.ndarray]:
    costs, losses = [], []
    for cand in cands:  # all 2^k sums of every student, no pruning
        cost, loss = np.zeros(1), np.zeros(1)
        for c in cand.choices:
            cost = np.concatenate([cost + c.keep_cost, cost + c.consent_cost])
            loss = np.concatenate([loss + c.keep_loss, loss + c.consent_loss])
        costs.append(cost + cand.base_cost)
        losses.append(loss + cand.base_loss)
    cost, loss = np.concatenate(costs), np.concatenate(losses)
    order = np.lexsort((loss, cost))
    cost, loss = cost[order], loss[order]
    best = np.minimum.accumulate(np.concatenate([[np.inf], loss[:-1]]))
    keep = loss < best
    return cost[keep], loss[keep]


def brute_force(choices: list[Choice]) -> tuple[np.ndarray, np.ndarray]:
    cost, loss = np.zeros(1), np.zeros(1)
    for c in choices:  # all 2^k sums, no pruning
        cost = np.concatenate([cost + c.keep_cost, cost + c.consent_cost])
        loss = np.concatenate([loss + c.keep_loss, loss + c.consent_loss])
    order = np.lexsort((loss, cost))
    cost, loss = cost[order], loss[order]
    best = np.minimum.accumulate(np.concatenate([[np.inf], loss[:-1]]))
    keep = loss < best
    return cost[keep], loss[keep]


def cold_ratio(runs: int) -> tuple[float, float, float]:
    floor_cmd = [sys.executable, "-c", "import numpy, pandas, scipy.stats, pydantic, yaml"]
    econ_cmd = [sys.executable, "-m", "econ.cli", "evaluate", str(DEFAULT), "--json"]
    floor, econ = [], []
    for _ in range(runs):
        for cmd, acc in ((floor_cmd, floor), (econ_cmd, econ)):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
            acc.append(time.perf_counter() - t0)
    f, e = statistics.median(floor), statistics.median(econ)
    return e / f, f, e


def app_figures(ticks: int = 20) -> dict[str, float]:
    import tempfile

    import altair  # noqa: F401  - the app's imports, loaded before the first render is timed
    import streamlit  # noqa: F401
    from streamlit.testing.v1 import AppTest


    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty_app.py"
        empty.write_text("import streamlit as st\n")
        at = AppTest.from_file(str(empty), default_timeout=60)
        at.run()
        times = []
        for _ in range(ticks):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        out["empty_app_rerun_median_ms"] = 1000 * statistics.median(times)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    t0 = time.perf_counter()
    at.run()
    out["app_first_render_s"] = time.perf_counter() - t0
    assert not at.exception, at.exception
    times = []
    boxes = [c.key for c in at.checkbox]
    for i in range(ticks):
        box = at.checkbox(key=boxes[i % len(boxes)])
        box = box.uncheck() if box.value else box.check()
        t0 = time.perf_counter()
        box.run()
        times.append(time.perf_counter() - t0)
    assert not at.exception, at.exception
    out["app_rerun_median_ms"] = 1000 * statistics.median(times)
    out["app_rerun_over_empty"] = out["app_rerun_median_ms"] / out["empty_app_rerun_median_ms"]
    return out


def app_tick_figures(ticks: int = 20) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    name = DEFAULT.name
    medians = {}
    for draws in (10_000, 1_000_000):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.run()
        at.session_state["tab"] = "Uncertainty & sensitivity"
        at.session_state[f"w|{name}|draws"] = draws
        at.run()  # the Monte Carlo runs once at this draw count, as in a session
        assert not at.exception, at.exception
        at.session_state["tab"] = "Consent & tiers"
        at.run()
        boxes = [c.key for c in at.checkbox]
        times = []
        for i in range(ticks):
            box = at.checkbox(key=boxes[i % len(boxes)])
            box = box.uncheck() if box.value else box.check()
            t0 = time.perf_counter()
            box.run()
            times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
        assert at.session_state[f"w|{name}|draws"] == draws
        medians[draws] = 1000 * statistics.median(times)
    return {"app_tick_median_ms_mc_10k": medians[10_000],
            "app_tick_median_ms": medians[1_000_000],
            "app_tick_ms_mc_1m_over_10k": medians[1_000_000] / medians[10_000]}
def montecarlo_figures(rep: int) -> dict[str, float]:
    """The Monte Carlo of the default scenario, each tier computed afresh (cache off), against
    the floor of any Monte Carlo of the same inputs: drawing as many normal numbers (one
    array of 1M per random input) in the same run."""
    import tracemalloc

    from econ.decisions.draws import draw_block, spreads
    from econ.decisions.uncertainty import clear_cache

    loaded = load_scenario(DEFAULT)
    ev = evaluate(loaded.scenario, loaded.measured)
    m = loaded.measured
    out: dict[str, float] = {}
    out["montecarlo_100k_s"], _ = timed(lambda: simulate(ev, m, 100_000, 0, cache=False), rep)
    out["montecarlo_1m_s"], _ = timed(lambda: simulate(ev, m, 1_000_000, 0, cache=False),
                                      max(1, rep // 2))
    block = draw_block(spreads(ev, m, ev.tiers), 0, 0, 16)  # which inputs are arrays
    inputs = sum(isinstance(v, np.ndarray) for v in (
        block.user_scale, block.assistant_scale, block.turns_scale,
        *block.throughput_scale.values(), *block.price_scale.values(),
        *block.reasoning_scale.values(), *block.conversations_scale.values(),
        *block.shares.values(), *(x for per in block.drops.values() for x in per.values())))
    rng = np.random.default_rng(0)
    out["montecarlo_inputs"] = inputs
    out["montecarlo_1m_draw_floor_s"], _ = timed(
        lambda: [rng.standard_normal(1_000_000) for _ in range(inputs)], max(1, rep // 2))
    out["montecarlo_1m_over_draw_floor"] = out["montecarlo_1m_s"] / \
        out["montecarlo_1m_draw_floor_s"]
    tracemalloc.start()
    simulate(ev, m, 1_000_000, 0, cache=False)
    out["montecarlo_1m_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    clear_cache()
    simulate(ev, m, 1_000_000, 0)
    out["montecarlo_1m_cached_ms"] = 1000 * timed(lambda: simulate(ev, m, 1_000_000, 0), rep)[0]
    clear_cache()
    return out


def app_montecarlo_figures() -> dict[str, float]:
    """The app at 1M draws (AppTest, the server side of a session): the Uncertainty tab opened
    the first time, reopened after a consent tick on the first tab, and a change of the
    sensitivity swing; each over an empty Streamlit rerun measured in the same run."""
    import tempfile

    from streamlit.testing.v1 import AppTest

    from econ.decisions.uncertainty import clear_cache

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty_app.py"
        empty.write_text("import streamlit as st\n")
        bare = AppTest.from_file(str(empty), default_timeout=60)
        bare.run()
        empty_s, _ = timed(bare.run, 9)
    clear_cache()
    name = DEFAULT.name
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.session_state[f"w|{name}|draws"] = 1_000_000

    def step(change: Callable[[], None]) -> float:
        change()
        t0 = time.perf_counter()
        at.run()
        assert not at.exception, at.exception
        return time.perf_counter() - t0

    def tab(label: str) -> Callable[[], None]:
        return lambda: at.session_state.__setitem__("tab", label)

    out = {"app_mc_1m_open_s": step(tab("Uncertainty & sensitivity"))}
    step(tab("Consent & tiers"))
    box = at.checkbox(key=f"w|{name}|consent|factual_qa")  # plus: factual_qa to GPT-4o
    step(lambda: box.uncheck() if box.value else box.check())
    out["app_mc_1m_after_tick_s"] = step(tab("Uncertainty & sensitivity"))
    out["app_mc_1m_swing_s"] = step(
        lambda: at.session_state.__setitem__(f"w|{name}|swing", 0.3))
    out.update({f"{k}_over_empty": v / empty_s for k, v in list(out.items())})
    clear_cache()
    return out


def yaml_figures(rep: int) -> dict[str, float]:
    import yaml

    from econ.scenario.yamlio import _Loader, parse_yaml

    text = DEFAULT.read_text()
    bare, _ = timed(lambda: yaml.compose(text, Loader=_Loader), rep * 3)
    guarded, _ = timed(lambda: parse_yaml(text, str(DEFAULT)), rep * 3)
    return {"yaml_compose_ms": 1000 * bare, "yaml_guarded_parse_ms": 1000 * guarded,
            "yaml_guard_ratio": guarded / bare}


SWEEP = ROOT.parent / "shared" / "fixtures" / "serving_sweep_qwen3-8b-fp8_h100.csv"


def fit_figures(rep: int) -> dict[str, Any]:
    """Leave-one-out of the GPU time model on the public Qwen3-8B FP8 / H100 sweep (each shape at
    its highest-throughput concurrency): the context-aware serving model against the linear
    α·input + β·output fit it replaced, both measured here. Absent without ../shared."""
    import csv

    from econ.model.fit import RunShape, leave_one_out
    from econ.model.operating_point import operating_points
    from econ.model.serving_fit import fit_serving, leave_one_out_serving
    from econ.model.serving_specs import architecture_table, gpu_table, replica_of
    from econ.scenario.schema import SelfHostedModel

    if not SWEEP.is_file():
        return {"fit_loo_max_abs_log_error": None}
    every = [RunShape(f"{r['input_len']}/{r['output_len']} c{r['concurrency']}",
                      float(r["input_len"]), float(r["output_len"]),
                      1 / float(r["request_throughput"]), float(r["concurrency"]))
             for r in csv.DictReader(SWEEP.open())]
    # each shape at its highest-throughput run, chosen as `econ fit` chooses it
    runs = sorted(operating_points(every, None).runs,
                  key=lambda r: (r.input_tokens_per_request, r.output_tokens_per_request))
    model = SelfHostedModel(serving="self_hosted", role="student", gpu="H100-SXM",
                            usd_per_gpu_hour=1.0, gpus_per_replica=1, benchmarks=["sweep"],
                            architecture="qwen3-8b", weight_bytes_per_parameter=1.0)
    replica = replica_of(model, architecture_table(), gpu_table())
    assert replica is not None
    fit_s, fit = timed(lambda: fit_serving(replica, runs), rep)
    loo = leave_one_out_serving(replica, runs)
    linear = leave_one_out(runs, None)
    assert loo is not None
    return {
        "fit_loo_max_abs_log_error": loo.max_abs_log_error,
        "fit_loo_predicted_over_measured": [round(x, 4) for x in loo.predicted_over_measured],
        "fit_max_abs_residual": max(abs(e) for e in fit.relative_residuals),
        "fit_loo_max_abs_log_error_linear": None if linear is None else
        linear.max_abs_log_error,
        "fit_s": fit_s,
    }


def interval_figures() -> dict[str, Any]:
    """Held-out coverage of the self-hosted prediction intervals (absent without ../shared)."""
    from tests.interval_study import coverage, predictions

    preds = predictions()
    if not preds:
        return {"interval_coverage_all": None}
    out: dict[str, Any] = {f"interval_coverage_{k.replace('-', '_')}": v
                           for k, v in coverage(preds).items()}
    out["interval_predictions"] = len(preds)
    out["interval_unflagged_over_25pct"] = sum(
        1 for p in preds if abs(p.predicted_over_measured - 1) > 0.25 and not p.flagged)
    within = sorted(float(np.exp(1.6448536269514722 * p.log_sd)) for p in preds
                    if not p.flagged)
    out["interval_median_factor_within_runs"] = within[len(within) // 2] if within else None
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    rep = 3 if args.quick else 7
    figures: dict[str, Any] = {}

    k20 = instance(20, seed=20)
    figures["frontier_k20_s"], (dp_cost, dp_loss, _) = timed(lambda: pareto_merge(k20), rep)
    figures["frontier_bruteforce_k20_s"], (bf_cost, bf_loss) = timed(lambda: brute_force(k20),
                                                                      max(1, rep // 2))
    figures["frontier_k20_points"] = len(dp_cost)
    figures["frontier_k20_exact"] = bool(len(dp_cost) == len(bf_cost)
                                         and np.allclose(dp_cost, bf_cost, rtol=1e-12)
                                         and np.allclose(dp_loss, bf_loss, rtol=1e-12))
    figures["frontier_k20_speedup"] = figures["frontier_bruteforce_k20_s"] / \
        figures["frontier_k20_s"]
    cands = candidates_instance(4, 20, seed=4)
    figures["frontier_candidates_k20_s"], merged = timed(lambda: merge_candidates(cands), rep)
    figures["frontier_candidates_bruteforce_k20_s"], (bc, bl) = timed(
        lambda: brute_force_candidates(cands), max(1, rep // 2))
    mc = np.array([m[0] for m in merged])
    ml = np.array([m[1] for m in merged])
    figures["frontier_candidates_k20_points"] = len(merged)
    figures["frontier_candidates_exact"] = bool(
        len(mc) == len(bc) and np.allclose(mc, bc, rtol=1e-12) and np.allclose(ml, bl, rtol=1e-12))
    figures["frontier_candidates_speedup"] = figures["frontier_candidates_bruteforce_k20_s"] / \
        figures["frontier_candidates_k20_s"]
    k60 = instance(60, seed=60)
    figures["frontier_k60_s"], (c60, _, _) = timed(lambda: pareto_merge(k60), max(1, rep // 2))
    figures["frontier_k60_points"] = len(c60)

    figures.update(montecarlo_figures(rep))

    figures.update(yaml_figures(rep))
    figures.update(fit_figures(rep))
    figures.update(interval_figures())
    figures.update(traffic_figures(100_000 if args.quick else 1_000_000, 1,
                                   ("hh", "openai") if args.quick else READERS))
    figures.update(app_figures())
    figures.update(app_tick_figures())
    figures.update(app_montecarlo_figures())

    ratio, floor_s, econ_s = cold_ratio(5 if args.quick else 9)
    figures["evaluate_cold_ratio"] = ratio
    figures["import_floor_s"] = floor_s
    figures["evaluate_cold_s"] = econ_s

    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for k, v in figures.items():
            print(f"{k:28s} {v:.4g}" if isinstance(v, float) else f"{k:28s} {v}")
    return 0 if figures["frontier_k20_exact"] and figures["frontier_candidates_exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
