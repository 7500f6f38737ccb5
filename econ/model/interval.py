"""Prediction intervals of a self-hosted model's GPU time, and what widens them.

In: a fitted time model with its runs (``econ.model.serving_fit.ServingFit`` or the linear
``econ.model.fit.Fit``), a request or a conversation. Out: an :class:`Interval`, a log-normal
spread of the prediction (``log_sd``, 90% bounds ×/÷ ``exp(1.645·log_sd)``) with the reasons
that widen it. Pure; may import ``econ.base``, ``econ.scenario`` and ``econ.model``.

The spread adds, in quadrature:

* the **fit's own error**: the root mean square of its leave-one-out log errors (each run
  predicted by a fit to the others), pooled with :data:`FLOOR_WEIGHT` pseudo-runs at
  :data:`FLOOR_LOG_SD` so that a few lucky runs do not promise precision; one run:
  :data:`SINGLE_RUN_LOG_SD`; no run: :data:`PRIOR_ONLY_LOG_SD` (the spec tables and the prior
  alone); only assumed throughputs: the prior and the weak measurement combined;
* the **distance from what was measured**, in each dimension: the request's context, its
  output tokens, its input/output ratio, the batch it is priced at (sequences in flight) and
  its length spread, each ``k × how far it lies outside the runs' range`` (natural log of the
  ratio, or the difference of coefficients of variation), :data:`PER_DIMENSION`;
* a **transfer** of runs to another replica (``benchmarks_from``): a different GPU, tensor
  parallel size, architecture or weight precision each add a fixed spread (:data:`TRANSFER`).

A conversation's spread is its turns' spreads weighted by their GPU time (their errors move
together); a model's, for the Monte Carlo, its capabilities' weighted by traffic × cost. The
constants are ``[assumption]``s set from the transfer errors reported in issue 22 and checked
against held-out runs of the public sweeps (``tests/test_interval_coverage.py``,
``benchmarks/run.py``); data/SOURCES.md §9.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.model.fit import RunShape
from econ.model.serving import Replica, ServingModel
from econ.scenario.conversation import TurnShape, turn_tokens
from econ.scenario.schema import SelfHostedModel

__all__ = [
    "FLOOR_LOG_SD",
    "LEVEL",
    "PER_DIMENSION",
    "PRIOR_ONLY_LOG_SD",
    "SINGLE_RUN_LOG_SD",
    "TRANSFER",
    "WIDE",
    "Basis",
    "Interval",
    "Z",
    "basis_of",
    "conversation_interval",
    "merge_outside",
    "request_interval",
    "spread_cv",
    "transfer_of",
    "weighted_log_sd",
]

LEVEL = 0.90
Z = 1.6448536269514722  # the standard normal's 95th percentile: a two-sided 90% interval
PRIOR_ONLY_LOG_SD = 0.65  # [assumption] the spec tables alone: median error ×1.55, 90% ×/÷ 2.9
SINGLE_RUN_LOG_SD = 0.15  # [assumption] one run and the prior's split of its time
FLOOR_LOG_SD, FLOOR_WEIGHT = 0.10, 2.0  # [assumption] leave-one-out pooled with 2 runs at 0.1
WEAK_RUN_LOG_SD = 0.5  # as in econ.model.serving_fit: an [assumption] throughput
PER_DIMENSION = {  # [assumption] log-sd per unit of ln-distance outside the runs' range
    "context": 0.10, "output": 0.15, "io_ratio": 0.10, "batch": 0.07,
}
SPREAD_PER_CV = 0.30  # [assumption] log-sd per unit of length cv beyond the runs'
TRANSFER = {"gpu": 0.10, "tp_per_doubling": 0.15, "architecture": 0.15, "precision": 0.10,
            "engines": 0.10}  # [assumption]
INSIDE = math.log(1.05)  # within 5% of the measured range is inside it (one shape: 5%)
WIDE = 0.25  # a prediction whose 90% interval reaches beyond ±25% is flagged


@dataclass(frozen=True)
class Interval:
    """A log-normal spread of a prediction, and the reasons it is as wide as it is."""

    log_sd: float
    reasons: tuple[str, ...] = ()  # what the fit rests on, when that widens it
    # (dimension, its log-sd, a clause naming it and the runs' range) of each dimension the
    # prediction lies outside the runs in
    outside: tuple[tuple[str, float, str], ...] = ()

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(text for *_, text in self.outside)

    @property
    def flagged(self) -> bool:
        """Said so in a warning: outside what was measured, or wider than ±25%."""
        return bool(self.outside) or self.wide

    @property
    def factor(self) -> float:
        """The 90% interval is the prediction ×/÷ this."""
        return math.exp(Z * self.log_sd)

    @property
    def wide(self) -> bool:
        return self.factor - 1.0 > WIDE

    def bounds(self, value: float) -> tuple[float, float]:
        return value / self.factor, value * self.factor

    def to_json(self, value: float) -> dict[str, Any]:
        low, high = self.bounds(value)
        return {"level": LEVEL, "low": low, "high": high, "log_sd": self.log_sd,
                "factor": self.factor, "reasons": list(self.reasons),
                "outside_runs": list(self.clauses)}


@dataclass(frozen=True)
class Basis:
    """What a model's predictions rest on: its runs (on ``replica``, the one they measured,
    None for the linear fit), the fit's own log-sd, and a transfer to another replica."""

    runs: tuple[RunShape, ...]
    log_sd: float
    reasons: tuple[str, ...]
    replica: Replica | None = None
    transfer_log_sd: float = 0.0

    def batches(self) -> np.ndarray:
        assert self.replica is not None
        return np.array([float(self.replica.batch(
            r.input_tokens_per_request, r.output_tokens_per_request,
            np.inf if r.concurrency is None else r.concurrency,
            _held(r))) for r in self.runs])


def _held(r: RunShape) -> float | None:
    if not r.lengths:
        return None
    i, o, w = r.length_points()
    return float(np.sum(w * (i + o / 2.0)))


def spread_cv(*cvs: float) -> float:
    return max((c for c in cvs), default=0.0)


def basis_of(fit: Any) -> Basis:
    """The basis of a fitted model (``ServingFit`` or the linear ``Fit``)."""
    runs = tuple(fit.runs)
    strong = [r for r in runs if not r.assumed]
    loo = getattr(fit, "loo", None)
    reasons: list[str] = []
    if not runs:
        sd = PRIOR_ONLY_LOG_SD
        reasons.append("no runs: the spec tables and the physical prior alone")
    elif not strong:
        sd = (PRIOR_ONLY_LOG_SD ** -2 + WEAK_RUN_LOG_SD ** -2) ** -0.5
        gap = max((abs(e) for e in getattr(fit, "relative_residuals", ())), default=0.0)
        reasons.append(f"an assumed throughput (a weak measurement, the fit {100 * gap:.0f}% "
                       "from it) and the physical prior")
    elif loo is not None and len(loo.predicted_over_measured) >= 2:
        errors = [math.log(x) for x in loo.predicted_over_measured]
        sd = math.sqrt((sum(e * e for e in errors) + FLOOR_WEIGHT * FLOOR_LOG_SD ** 2)
                       / (len(errors) + FLOOR_WEIGHT))
        worst = max(abs(math.exp(e) - 1.0) for e in errors)
        if math.exp(Z * sd) - 1.0 > WIDE:
            reasons.append(f"the fit misses held-out runs by up to {100 * worst:.0f}% "
                           "(leave-one-out)")
    else:
        sd = SINGLE_RUN_LOG_SD
        reasons.append("one run: the physical prior splits its time between prefill and "
                       "decode")
    engines = sorted({r.engine for r in runs if r.engine})
    if len(engines) > 1:
        sd = math.hypot(sd, TRANSFER["engines"])
        reasons.append(f"runs of several engines fitted together ({', '.join(engines)})")
    transfer = tuple(getattr(fit, "transfer", ()))
    t_sd = float(getattr(fit, "transfer_log_sd", 0.0))
    replica = fit.measured_replica if hasattr(fit, "measured_replica") else None
    return Basis(runs, sd, tuple(reasons) + transfer, replica, t_sd)


def _outside(value: float, values: Iterable[float]) -> tuple[float, float, float]:
    """(ln-distance beyond the range, low, high) of a positive value against positive values."""
    vals = [v for v in values if v > 0]
    if not vals or value <= 0:
        return 0.0, 0.0, 0.0
    lo, hi = min(vals), max(vals)
    d = max(0.0, math.log(value / hi), math.log(lo / value))
    return (d if d > INSIDE else 0.0), lo, hi


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:,.2g}"


def _dimensions(basis: Basis, prompt: float, output: float, batch: float | None,
                cv: float) -> list[tuple[str, float, str]]:
    """(dimension, its log-sd, a clause naming it) for each dimension the request lies
    outside the runs in."""
    runs = basis.runs
    if not runs:
        return []
    out = []
    checks = [
        ("context", prompt + output,
         [r.input_tokens_per_request + r.output_tokens_per_request for r in runs],
         "context {v} tokens, runs measured {lo}–{hi}"),
        ("output", output, [r.output_tokens_per_request for r in runs],
         "output {v} tokens per request, runs measured {lo}–{hi}"),
        ("io_ratio", prompt / output if output > 0 else 0.0,
         [r.input_tokens_per_request / r.output_tokens_per_request for r in runs],
         "input/output ratio {v}, runs measured {lo}–{hi}"),
    ]
    if batch is not None and basis.replica is not None:
        checks.append(("batch", batch, list(basis.batches()),
                       "batch {v} sequences in flight, runs measured {lo}–{hi}"))
    for dim, value, measured, text in checks:
        d, lo, hi = _outside(value, measured)
        if d > 0:
            out.append((dim, PER_DIMENSION[dim] * d,
                        text.format(v=_fmt(value), lo=_fmt(lo), hi=_fmt(hi))))
    cvs = [r.length_cv for r in runs]
    gap = max(0.0, cv - max(cvs), min(cvs) - cv)
    if gap > 0.05:
        out.append(("spread", SPREAD_PER_CV * gap,
                    f"length spread cv {cv:.2f}, runs measured {min(cvs):.2f}–{max(cvs):.2f}"))
    return out


def request_interval(basis: Basis, model: Any, prompt: float, new: float, output: float,
                     cv: float = 0.0) -> Interval:
    """The interval of one request's GPU time (``model``: the time model it is priced with)."""
    batch = None
    if isinstance(model, ServingModel):
        conc = model.concurrency_at(prompt + output)
        batch = float(model.replica.batch(prompt, output, conc))
    dims = _dimensions(basis, prompt, output, batch, cv)
    sd = math.sqrt(basis.log_sd ** 2 + basis.transfer_log_sd ** 2
                   + sum(s * s for _, s, _ in dims))
    return Interval(sd, basis.reasons, tuple(dims))


def conversation_interval(basis: Basis, model: Any, shape: TurnShape,
                          reasoning_per_turn: float = 0.0, cv: float = 0.0) -> Interval:
    """A conversation's interval: its turns', weighted by their GPU time (their errors move
    together); the reasons of every turn, each dimension at its furthest."""
    turns = math.ceil(float(np.max(shape.turns)))
    weights, sds = [], []
    worst: dict[str, tuple[str, float, str]] = {}
    for k in range(1, turns + 1):
        prompt, cached, output = (float(np.max(x))
                                  for x in turn_tokens(shape, k, cache="self_hosted"))
        output += reasoning_per_turn
        seconds = _seconds(model, prompt, prompt - cached, output)
        batch = None
        if isinstance(model, ServingModel):
            batch = float(model.replica.batch(prompt, output,
                                              model.concurrency_at(prompt + output)))
        dims = _dimensions(basis, prompt, output, batch, cv)
        for dim, s, text in dims:
            if s > worst.get(dim, ("", 0.0, ""))[1]:
                worst[dim] = (dim, s, text)
        weights.append(seconds)
        sds.append(math.sqrt(sum(s * s for _, s, _ in dims)))
    total = sum(weights) or 1.0
    distance = sum(w * s for w, s in zip(weights, sds, strict=True)) / total
    sd = math.sqrt(basis.log_sd ** 2 + basis.transfer_log_sd ** 2 + distance ** 2)
    return Interval(sd, basis.reasons, tuple(worst.values()))


def _seconds(model: Any, prompt: float, new: float, output: float) -> float:
    if isinstance(model, ServingModel):
        return float(model.request_seconds(prompt, new, output))
    return float(model.prefill_s_per_token * new + model.decode_s_per_token * output) or 1.0


def merge_outside(parts: Iterable[Interval]) -> tuple[tuple[str, float, str], ...]:
    """Each dimension at its furthest over several predictions."""
    worst: dict[str, tuple[str, float, str]] = {}
    for part in parts:
        for dim, s, text in part.outside:
            if s > worst.get(dim, ("", 0.0, ""))[1]:
                worst[dim] = (dim, s, text)
    return tuple(worst.values())


def weighted_log_sd(parts: Sequence[tuple[float, Interval]]) -> float:
    """The log-sd of a mix, each part weighted (traffic × cost): their errors move together."""
    total = sum(w for w, _ in parts)
    if total <= 0:
        return max((i.log_sd for _, i in parts), default=0.0)
    return sum(w * i.log_sd for w, i in parts) / total


def transfer_of(donor_id: str, donor: SelfHostedModel,
                model: SelfHostedModel) -> tuple[tuple[str, ...], float]:
    """What differs when ``model`` borrows ``donor_id``'s runs, and the log-sd it adds."""
    parts: list[tuple[str, float]] = []
    if (donor.gpu_spec or donor.gpu.lower()) != (model.gpu_spec or model.gpu.lower()):
        parts.append((f"GPU {donor.gpu} → {model.gpu}", TRANSFER["gpu"]))
    if donor.gpus_per_replica != model.gpus_per_replica:
        doublings = abs(math.log2(model.gpus_per_replica / donor.gpus_per_replica))
        parts.append((f"tensor parallel {donor.gpus_per_replica} → {model.gpus_per_replica} "
                      "GPUs (carried by the communication term)",
                      TRANSFER["tp_per_doubling"] * doublings))
    if donor.architecture != model.architecture:
        names = [a if isinstance(a, str) else "inline figures"
                 for a in (donor.architecture, model.architecture)]
        parts.append((f"architecture {names[0]} → {names[1]}", TRANSFER["architecture"]))
    if (donor.weight_bytes_per_parameter, donor.kv_cache_bytes_per_value) != (
            model.weight_bytes_per_parameter, model.kv_cache_bytes_per_value):
        parts.append((f"precision {donor.weight_bytes_per_parameter:g}/"
                      f"{donor.kv_cache_bytes_per_value:g} → "
                      f"{model.weight_bytes_per_parameter:g}/{model.kv_cache_bytes_per_value:g} "
                      "bytes per weight/KV value", TRANSFER["precision"]))
    sd = math.sqrt(sum(s * s for _, s in parts))
    what = ", ".join(text for text, _ in parts) or "the same replica"
    return (f"runs of {donor_id} carried to this replica ({what})",), sd
