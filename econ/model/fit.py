"""Benchmark runs as request shapes, and the linear GPU-time fit used when a self-hosted model
names no architecture (with one, :mod:`econ.model.serving_fit` fits the context-aware model).

Each run of a replica at saturation gives its time per request, 1 ÷ request throughput (or
duration ÷ completed), at a mean of I input and O output tokens per request. The linear model is

    seconds per request = α·I + β·O,    α, β ≥ 0

fitted by non-negative least squares on relative errors (each run's equation divided by its
measured time, so a long-context run does not drown the short ones). With a single run, or runs
that all share one input/output ratio, α and β cannot be told apart: a ``prefill_cost_ratio``
the scenario states splits them (α = ratio · β, β fitted alone); without one the runs are
refused ("cannot identify") rather than split by a default. It is not context-aware.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from econ.base.errors import EconError
from econ.evidence.importers.bench import BenchRun
from econ.model.cost import TokenTimeModel
from econ.model.lengths import spread_points
from econ.scenario.schema import ThroughputMeasurement

__all__ = ["Fit", "LeaveOneOut", "RunShape", "fit_time_model", "leave_one_out",
           "shape_of_measurement", "shape_of_run"]

CANNOT_IDENTIFY = (
    "the runs measure one input/output ratio, which cannot identify prefill and decode time "
    "apart; name the model's architecture (a row of data/serving/models.csv, or its figures) so "
    "the GPU's physics decides the split, add runs of other shapes, or state prefill_cost_ratio")


@dataclass(frozen=True)
class RunShape:
    """One run at its mean request shape. ``lengths`` holds the run's length distribution when
    it has one, as (input tokens, output tokens, weight) points (its per-request lengths, or a
    stated spread's quadrature nodes); empty: every request had the mean shape. An ``assumed``
    run (a throughput marked ``[assumption]``) is a weak measurement."""

    label: str
    input_tokens_per_request: float
    output_tokens_per_request: float
    seconds_per_request: float
    concurrency: float | None = None  # the client's concurrency; None: unbounded
    latency_ms: Mapping[str, float] = field(default_factory=dict)
    lengths: tuple[tuple[float, float, float], ...] = ()
    assumed: bool = False
    engine: str | None = None  # the benchmark's format family (vllm, sglang, …), when known

    def length_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(input, output, weight) arrays of the run's requests; weights sum to 1."""
        if not self.lengths:
            return (np.array([self.input_tokens_per_request]),
                    np.array([self.output_tokens_per_request]), np.ones(1))
        a = np.array(self.lengths, dtype=float)
        return a[:, 0], a[:, 1], a[:, 2] / a[:, 2].sum()

    @property
    def length_cv(self) -> float:
        """The larger coefficient of variation of the run's input and output lengths."""
        if not self.lengths:
            return 0.0
        i, o, w = self.length_points()
        cvs = [float(np.sqrt(np.sum(w * (x - np.sum(w * x)) ** 2))) / max(np.sum(w * x), 1e-9)
               for x in (i, o)]
        return float(max(cvs))


@dataclass(frozen=True)
class Fit:
    model: TokenTimeModel
    method: str  # "nnls" or "single_split"
    runs: tuple[RunShape, ...]
    predicted_seconds_per_request: tuple[float, ...]

    @property
    def relative_residuals(self) -> tuple[float, ...]:
        return tuple((p - r.seconds_per_request) / r.seconds_per_request
                     for p, r in zip(self.predicted_seconds_per_request, self.runs, strict=True))


def shape_of_run(run: BenchRun, label: str) -> RunShape:
    if not run.completed:
        raise EconError(f"{label}: {run.completed or 0} completed requests, so nothing was "
                        "measured (did every request fail?)")
    if run.mean_input_tokens is None or run.mean_output_tokens is None:
        raise EconError(f"{label}: the run does not give its input and output token counts")
    if run.max_concurrency is not None and run.max_concurrency < 1:
        raise EconError(f"{label}: max_concurrency is {run.max_concurrency}; a run that served "
                        "requests had at least one in flight (leave it out if unbounded)")
    if run.request_throughput_per_s:
        seconds = 1.0 / run.request_throughput_per_s
    elif run.duration_s:
        seconds = run.duration_s / run.completed
    elif run.output_tokens_per_s:
        seconds = run.mean_output_tokens / run.output_tokens_per_s
    else:
        raise EconError(f"{label}: the run gives no throughput or duration to time requests by")
    if not seconds > 0 or not np.isfinite(seconds):
        raise EconError(f"{label}: time per request is {seconds}, not a positive number")
    return RunShape(label, run.mean_input_tokens, run.mean_output_tokens, seconds,
                    None if run.max_concurrency is None else float(run.max_concurrency),
                    dict(run.latency_ms), _lengths(run.request_lengths),
                    engine=run.source_format)


def _lengths(pairs: Sequence[tuple[float, float]]) -> tuple[tuple[float, float, float], ...]:
    """Per-request lengths as weighted points (equal requests merged); a run whose requests
    all share one shape has none."""
    if len(set(pairs)) < 2:
        return ()
    counts: dict[tuple[float, float], int] = {}
    for pair in pairs:
        counts[pair] = counts.get(pair, 0) + 1
    return tuple((i, o, float(n)) for (i, o), n in counts.items())


def shape_of_measurement(m: ThroughputMeasurement, label: str) -> RunShape:
    """A stated throughput; marked ``[assumption]`` in its source, a weak measurement."""
    return RunShape(label, m.input_tokens_per_request, m.output_tokens_per_request,
                    m.output_tokens_per_request / m.output_tokens_per_s,
                    None if m.max_concurrency is None else float(m.max_concurrency),
                    lengths=spread_points(m.input_tokens_per_request,
                                             m.input_tokens_spread_cv,
                                             m.output_tokens_per_request,
                                             m.output_tokens_spread_cv),
                    assumed=m.assumed)


def fit_time_model(runs: Sequence[RunShape], prefill_cost_ratio: float | None) -> Fit:
    """``prefill_cost_ratio`` None: the scenario states none, so runs of one input/output ratio
    are refused rather than split by a default."""
    from scipy.optimize import nnls

    if not runs:
        raise EconError("no runs to fit")
    a = np.array([[r.input_tokens_per_request, r.output_tokens_per_request] for r in runs])
    b = np.array([r.seconds_per_request for r in runs])
    weighted = a / b[:, None]
    if len(runs) >= 2 and np.linalg.matrix_rank(weighted, tol=1e-9 * np.abs(weighted).max()) == 2:
        coef, _ = nnls(weighted, np.ones(len(runs)))
        alpha, beta = float(coef[0]), float(coef[1])
        method = "nnls"
    else:
        if prefill_cost_ratio is None:
            raise EconError(CANNOT_IDENTIFY)
        x = (prefill_cost_ratio * a[:, 0] + a[:, 1]) / b
        beta = float(np.sum(x) / np.sum(x * x))
        alpha = prefill_cost_ratio * beta
        method = "single_split"
    predicted = tuple(float(alpha * r.input_tokens_per_request + beta * r.output_tokens_per_request)
                      for r in runs)
    context = max(r.input_tokens_per_request + r.output_tokens_per_request for r in runs)
    return Fit(TokenTimeModel(alpha, beta, context), method, tuple(runs), predicted)


@dataclass(frozen=True)
class LeaveOneOut:
    """Each run predicted by a fit to the other runs: predicted ÷ measured seconds per request."""

    labels: tuple[str, ...]
    predicted_over_measured: tuple[float, ...]

    @property
    def max_abs_log_error(self) -> float:
        return max((abs(float(np.log(r))) for r in self.predicted_over_measured), default=0.0)


def leave_one_out(runs: Sequence[RunShape],
                  prefill_cost_ratio: float | None) -> LeaveOneOut | None:
    """Leave-one-out cross-validation of `fit_time_model`; None with fewer than three runs."""
    if len(runs) < 3:
        return None
    ratios = []
    for i, held in enumerate(runs):
        rest = [r for j, r in enumerate(runs) if j != i]
        try:
            m = fit_time_model(rest, prefill_cost_ratio).model
        except EconError:
            return None  # the others alone cannot identify the split
        predicted = (m.prefill_s_per_token * held.input_tokens_per_request
                     + m.decode_s_per_token * held.output_tokens_per_request)
        ratios.append(predicted / held.seconds_per_request)
    return LeaveOneOut(tuple(r.label for r in runs), tuple(ratios))
