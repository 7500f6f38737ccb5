"""Held-out predictions of the public serving runs, each with econ's 90% interval.

The measurements are the public sweep in ../shared/fixtures (Qwen3-8B FP8 on one H100, five
shapes, concurrency 1 to 512; data/SOURCES.md §2) and the two LambdaLabs vLLM runs in
data/benchmarks (Llama 3.1 8B on one H100, 70B on four). Each experiment fits econ's serving
model to some runs and predicts others it never saw, at their own concurrency:

- ``shape``: leave one shape out; the other shapes' highest-throughput runs predict the held
  one's highest-throughput run;
- ``shape-all``: leave one shape out; every run of the other shapes predicts every run of it;
- ``low-to-high``: runs at concurrency ≤ 8 predict those at 16 and above (and ``high-to-low``
  the reverse, from 64 and above to 16 and below);
- ``prior``: no run at all (the spec tables and the prior) predicts every run;
- ``transfer``: one model's runs predict another's (8B on one GPU ↔ 70B on four; the Qwen3-8B
  FP8 sweep → the Llama 3.1 8B BF16 ShareGPT run).

Used by tests/test_interval_coverage.py and benchmarks/run.py (held-out interval coverage).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

from econ.model.fit import RunShape
from econ.model.interval import Basis, basis_of, request_interval, transfer_of
from econ.model.operating_point import operating_points
from econ.model.serving import Replica, ServingModel
from econ.model.serving_fit import fit_serving
from econ.model.serving_specs import architecture_table, gpu_table, replica_of
from econ.scenario.schema import SelfHostedModel

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT.parent / "shared" / "fixtures" / "serving_sweep_qwen3-8b-fp8_h100.csv"
BENCH = ROOT / "data" / "benchmarks"
LAMBDA = {"llama-8b": BENCH / "lambdalabs-vllm060-llama3.1-8b-tp1-h100.json",
          "llama-70b": BENCH / "lambdalabs-vllm060-llama3.1-70b-tp4-h100.json"}


@dataclass(frozen=True)
class Prediction:
    experiment: str
    run: str
    predicted_over_measured: float
    log_sd: float
    flagged: bool  # outside the runs in some dimension, or an interval wider than ±25%
    reasons: tuple[str, ...]

    @property
    def inside(self) -> bool:
        return abs(math.log(self.predicted_over_measured)) <= 1.6448536269514722 * self.log_sd


def _model(arch: str, wbytes: float, gpus: int, seqs: int | None = None) -> SelfHostedModel:
    return SelfHostedModel(serving="self_hosted", role="student", gpu="H100-SXM",
                           usd_per_gpu_hour=1.0, gpus_per_replica=gpus, benchmarks=["x"],
                           architecture=arch, weight_bytes_per_parameter=wbytes,
                           max_num_seqs=seqs)


def _replica(m: SelfHostedModel) -> Replica:
    r = replica_of(m, architecture_table(), gpu_table())
    assert r is not None
    return r


def sweep_runs() -> list[RunShape]:
    return [RunShape(f"{r['input_len']}/{r['output_len']} c{r['concurrency']}",
                     float(r["input_len"]), float(r["output_len"]),
                     1 / float(r["request_throughput"]), float(r["concurrency"]))
            for r in csv.DictReader(SWEEP.open())]


def lambda_run(name: str) -> RunShape:
    d = json.loads(LAMBDA[name].read_text())
    return RunShape(name, d["total_input_tokens"] / d["completed"],
                    d["total_output_tokens"] / d["completed"], 1 / d["request_throughput"],
                    float(d["max_concurrency"]))


def _predict(experiment: str, basis: Basis, model: ServingModel, held: RunShape) -> Prediction:
    at = replace(model, concurrency_points=((held.input_tokens_per_request
                                             + held.output_tokens_per_request,
                                             held.concurrency or math.inf),))
    i, o = held.input_tokens_per_request, held.output_tokens_per_request
    seconds = float(at.request_seconds(i, i, o))
    iv = request_interval(basis, at, i, i, o)
    return Prediction(experiment, held.label, seconds / held.seconds_per_request, iv.log_sd,
                      iv.flagged, iv.reasons + iv.clauses)


def _fit_predict(experiment: str, replica: Replica, train: list[RunShape],
                 held: list[RunShape]) -> list[Prediction]:
    fit = fit_serving(replica, train)
    basis = basis_of(fit)
    return [_predict(experiment, basis, fit.model, h) for h in held]


def _shape(r: RunShape) -> tuple[float, float]:
    return r.input_tokens_per_request, r.output_tokens_per_request


def predictions() -> list[Prediction]:
    """Every held-out prediction of every experiment (empty without ../shared)."""
    if not SWEEP.is_file():
        return []
    qwen = _model("qwen3-8b", 1.0, 1)
    rq = _replica(qwen)
    runs = sweep_runs()
    best = list(operating_points(runs, None).runs)
    shapes = sorted({_shape(r) for r in runs})
    out: list[Prediction] = []
    for s in shapes:
        out += _fit_predict("shape", rq, [r for r in best if _shape(r) != s],
                            [r for r in best if _shape(r) == s])
        out += _fit_predict("shape-all", rq, [r for r in runs if _shape(r) != s],
                            [r for r in runs if _shape(r) == s])
    out += _fit_predict("low-to-high", rq, [r for r in runs if (r.concurrency or 0) <= 8],
                        [r for r in runs if (r.concurrency or 0) >= 16])
    out += _fit_predict("high-to-low", rq, [r for r in runs if (r.concurrency or 0) >= 64],
                        [r for r in runs if (r.concurrency or 0) <= 16])
    l8 = _model("llama-3.1-8b", 2.0, 1, 256)
    l70 = _model("llama-3.1-70b", 2.0, 4, 256)
    out += _fit_predict("prior", rq, [], runs)
    out += _fit_predict("prior", _replica(l8), [], [lambda_run("llama-8b")])
    out += _fit_predict("prior", _replica(l70), [], [lambda_run("llama-70b")])
    for donor, d_model, target, t_model in (("llama-8b", l8, "llama-70b", l70),
                                            ("llama-70b", l70, "llama-8b", l8)):
        out.append(_transfer(donor, d_model, [lambda_run(donor)], t_model, lambda_run(target)))
    out.append(_transfer("qwen3-8b-fp8", qwen, best, l8, lambda_run("llama-8b")))
    return out


def _transfer(donor: str, d_model: SelfHostedModel, train: list[RunShape],
              t_model: SelfHostedModel, held: RunShape) -> Prediction:
    text, sd = transfer_of(donor, d_model, t_model)
    fit = fit_serving(_replica(t_model), train, fit_replica=_replica(d_model), transfer=text,
                      transfer_log_sd=sd)
    return _predict("transfer", basis_of(fit), fit.model, held)


def coverage(preds: list[Prediction]) -> dict[str, float]:
    """Share of predictions inside their 90% interval, overall and per experiment."""
    out = {"all": sum(p.inside for p in preds) / len(preds)} if preds else {}
    for e in sorted({p.experiment for p in preds}):
        sub = [p for p in preds if p.experiment == e]
        out[e] = sum(p.inside for p in sub) / len(sub)
    return out
