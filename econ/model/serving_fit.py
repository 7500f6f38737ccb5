"""Fit the serving model's efficiencies to benchmark runs, with a physical prior.

Each run of a replica at its operating point gives its replica-seconds per request (1 ÷ request
throughput) at a mean of ``I`` input and ``O`` output tokens and a client concurrency; a run with
a length distribution (per-request lengths, or a stated spread) gives the expectation of the
terms over it, the batch set by the mix's mean KV holding. The six efficiencies of
:mod:`econ.model.serving` (prefill, decode compute, memory and communication factors, overhead
per decode step and per request) are fitted in log space to the runs' relative errors
(``ln(predicted ÷ measured)``, so a long-context run does not drown the short ones), with a
log-normal prior around :data:`econ.model.serving.PRIOR` (data/SOURCES.md §9): a maximum a
posteriori fit. A run's error counts with a log-sd of :data:`RUN_LOG_SD`, an assumed throughput
(``[assumption]`` in its source) with :data:`WEAK_RUN_LOG_SD`: a weak measurement. Assumed
throughputs alone move the prior by one common factor (its shape kept: an assumption is not
evidence of a per-step overhead), the log-normal posterior of that factor. The prior decides
only what the runs cannot, so one run of one shape still gives a fit, and no run at all gives
the prior (a prior-only estimate).

Physics bounds the fit: the four factors are at least 1 (no engine beats the tensor peak, the
memory bandwidth or the link). A run faster than its stated replica's roofline (the larger of
compute at the tensor peak and memory traffic at peak bandwidth, with perfect overlap, less
:data:`ROOFLINE_TOLERANCE` for what the parameter count overstates) is refused, naming what to
check; a run holding more tokens per request than the replica's KV cache, and a factor the runs
push onto its bound, are flagged.

The efficiencies may be fitted on one replica (the runs') and used on another (a model that
borrows another's runs): the transfer is stated and widens the interval (:mod:`interval`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from econ.base.errors import EconError
from econ.model.fit import LeaveOneOut, RunShape
from econ.model.operating_point import same_shape
from econ.model.serving import PRIOR, Efficiencies, Replica, ServingModel, request_terms

__all__ = ["PRIOR_LOG_SD", "ROOFLINE_TOLERANCE", "RUN_LOG_SD", "WEAK_RUN_LOG_SD", "ServingFit",
           "expected_terms", "fit_serving", "leave_one_out_serving", "roofline_problems"]

PRIOR_LOG_SD = (0.7, 0.7, 0.5, 0.7, 1.5, 1.5)  # §9 [assumption]
RUN_LOG_SD = 0.1  # [assumption] run-to-run spread and misfit of one shape, as a log ratio
WEAK_RUN_LOG_SD = 0.5  # [assumption] an assumed throughput: a guess good to ×/÷ 2.3 (90%)
PRIOR_SCALE_LOG_SD = 0.65  # [assumption] the prior's own error, as econ.model.interval's
ROOFLINE_TOLERANCE = 0.9  # the parameter count includes embeddings no matmul reads whole
_PHYSICAL = 4  # the first four efficiencies are factors over a peak, bounded at 1
_FACTOR_CHECKS = (
    ("prefill at the tensor peak", "gpu (its dense TFLOPS), weight_bytes_per_parameter "
     "(FP8 runs at twice the BF16 peak), gpus_per_replica"),
    ("decode compute at the tensor peak", "gpu, weight_bytes_per_parameter, gpus_per_replica"),
    ("memory traffic at the peak bandwidth", "weight_bytes_per_parameter and "
     "kv_cache_bytes_per_value (the precision served), gpu, gpus_per_replica"),
    ("all-reduces at the link's peak", "gpu (its interconnect), gpus_per_replica"),
)
_CHECK = ("check weight_bytes_per_parameter and kv_cache_bytes_per_value (the precision "
          "served), gpu, gpus_per_replica and max_num_seqs")


@dataclass(frozen=True)
class ServingFit:
    model: ServingModel
    method: str
    runs: tuple[RunShape, ...]
    predicted_seconds_per_request: tuple[float, ...]
    notes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # physics the runs contradict: shown as warnings
    loo: LeaveOneOut | None = None
    fit_replica: Replica | None = None  # the replica the runs measured; None: the model's
    transfer: tuple[str, ...] = ()  # what differs between the runs' replica and the model's
    transfer_log_sd: float = 0.0

    @property
    def measured_replica(self) -> Replica:
        return self.fit_replica or self.model.replica

    @property
    def relative_residuals(self) -> tuple[float, ...]:
        return tuple((p - r.seconds_per_request) / r.seconds_per_request
                     for p, r in zip(self.predicted_seconds_per_request, self.runs, strict=True))


def expected_terms(replica: Replica, run: RunShape) -> np.ndarray:
    """The six terms of one request of the run, in expectation over its lengths."""
    i, o, w = run.length_points()
    seq = float(np.sum(w * (i + o / 2.0))) if run.lengths else None
    conc = np.inf if run.concurrency is None else run.concurrency
    terms = request_terms(replica, i, i, o, conc, seq)
    return np.array([*(float(np.sum(w * np.asarray(t, dtype=float))) for t in terms), 1.0])


def _terms(replica: Replica, runs: Sequence[RunShape]) -> np.ndarray:
    return np.array([expected_terms(replica, r) for r in runs], dtype=float).reshape(-1, 6)


def roofline_problems(replica: Replica, runs: Sequence[RunShape]) -> list[str]:
    """A message for each run faster than the replica's roofline: compute at the tensor peak
    or memory traffic at peak bandwidth, whichever is slower, perfectly overlapped."""
    out = []
    for r, t in zip(runs, _terms(replica, runs), strict=True):
        bounds = {"compute at the tensor peak": t[0] + t[1],
                  "memory traffic at peak bandwidth": t[2], "all-reduces at the link's peak": t[3]}
        what, floor = max(bounds.items(), key=lambda kv: kv[1])
        if r.seconds_per_request < ROOFLINE_TOLERANCE * floor:
            o = r.output_tokens_per_request
            out.append(f"{r.label}: {o / r.seconds_per_request:,.0f} output tokens a second is "
                       f"faster than the stated replica's roofline ({o / floor:,.0f} at "
                       f"{what}): the run contradicts the replica; {_CHECK}")
    return out


def _flags(replica: Replica, runs: Sequence[RunShape], eff: Efficiencies,
           terms: np.ndarray) -> list[str]:
    out = []
    cap = replica.kv_capacity_tokens
    for r in runs:
        held = r.input_tokens_per_request + r.output_tokens_per_request
        if held > cap:
            out.append(f"run {r.label} holds {held:,.0f} tokens in one request, more than the "
                       f"stated replica's KV cache ({cap:,.0f} tokens): check gpu, "
                       "gpus_per_replica, kv_cache_bytes_per_value and gpu_memory_utilization")
    if len(runs):
        factors = eff.as_tuple()[:_PHYSICAL]
        share = terms[:, :_PHYSICAL] * np.array(factors) / (terms @ np.array(eff.as_tuple()))[
            :, None]
        for k, (what, check) in enumerate(_FACTOR_CHECKS):
            if factors[k] <= 1.0 + 1e-6 and float(np.max(share[:, k])) > 0.05:
                out.append(f"the runs put {what} of the stated replica (the physical bound): "
                           f"they are as fast as it can be; check {check}")
    return out


def _assumed_scale(terms: np.ndarray, measured: np.ndarray, prior: Efficiencies) -> float:
    """Assumed throughputs alone: one factor on every efficiency (the prior's shape kept), the
    posterior of a log-normal prior (:data:`PRIOR_SCALE_LOG_SD`) and weak measurements, held
    where a factor would claim better than the peak."""
    gaps = np.log(measured / (terms @ np.array(prior.as_tuple())))
    precision = PRIOR_SCALE_LOG_SD ** -2 + len(gaps) * WEAK_RUN_LOG_SD ** -2
    log_scale = float(np.sum(gaps) * WEAK_RUN_LOG_SD ** -2 / precision)
    floor = -float(np.log(min(prior.as_tuple()[:_PHYSICAL])))
    return float(np.exp(max(log_scale, floor)))


def _efficiencies(replica: Replica, runs: Sequence[RunShape],
                  prior: Efficiencies) -> Efficiencies:
    from scipy.optimize import least_squares

    if not runs:
        return prior
    terms = _terms(replica, runs)
    measured = np.array([r.seconds_per_request for r in runs])
    if all(r.assumed for r in runs):
        scale = _assumed_scale(terms, measured, prior)
        return Efficiencies(*(v * scale for v in prior.as_tuple()))
    run_sd = np.array([WEAK_RUN_LOG_SD if r.assumed else RUN_LOG_SD for r in runs])
    z0 = np.log(np.array(prior.as_tuple()))
    sd = np.array(PRIOR_LOG_SD)
    lower = np.array([0.0] * _PHYSICAL + [-np.inf] * (len(z0) - _PHYSICAL))
    start = np.maximum(z0, lower + 1e-9)

    def residuals(z: np.ndarray) -> np.ndarray:
        predicted = terms @ np.exp(z)
        return np.concatenate([np.log(predicted / measured) / run_sd, (z - z0) / sd])

    sol = least_squares(residuals, start, bounds=(lower, np.full(len(z0), np.inf)),
                        method="trf", x_scale=1.0, ftol=1e-14, xtol=1e-14, gtol=1e-14)
    if not sol.success or not np.all(np.isfinite(sol.x)):
        raise EconError(f"the serving model's fit did not converge: {sol.message}")
    return Efficiencies(*(float(v) for v in np.exp(sol.x)))


def fit_serving(replica: Replica, runs: Sequence[RunShape],
                concurrency_points: tuple[tuple[float, float], ...] = (),
                prior: Efficiencies = PRIOR, notes: tuple[str, ...] = (),
                fit_replica: Replica | None = None, transfer: tuple[str, ...] = (),
                transfer_log_sd: float = 0.0) -> ServingFit:
    """The serving model of ``replica`` fitted to ``runs`` (their operating points already
    chosen), measured on ``fit_replica`` (default: ``replica`` itself). No runs: the prior."""
    measured_on = fit_replica or replica
    refused = roofline_problems(measured_on, runs)
    if refused:
        raise EconError("; ".join(refused))
    eff = _efficiencies(measured_on, runs, prior)
    context = max((r.input_tokens_per_request + r.output_tokens_per_request for r in runs),
                  default=0.0)
    model = ServingModel(replica, eff, concurrency_points, context)
    terms = _terms(measured_on, runs)
    predicted = tuple(float(v) for v in terms @ np.array(eff.as_tuple()))
    if not runs:
        method = "physical prior only (no runs)"
    elif all(r.assumed for r in runs):
        method = "physical prior + assumed throughput (a weak measurement)"
    else:
        method = "physical prior + runs (maximum a posteriori)"
    return ServingFit(model, method, tuple(runs), predicted, notes,
                      tuple(_flags(measured_on, runs, eff, terms)),
                      leave_one_out_serving(measured_on, runs, prior), fit_replica, transfer,
                      transfer_log_sd)


def leave_one_out_serving(replica: Replica, runs: Sequence[RunShape],
                          prior: Efficiencies = PRIOR) -> LeaveOneOut | None:
    """Each run predicted by a fit to the runs of the other shapes (leave one shape out: runs
    of one shape at several concurrencies would otherwise vouch for each other), or to the
    other runs when they all share one shape; None with fewer than two runs."""
    if len(runs) < 2:
        return None
    groups: list[list[int]] = []
    for i, r in enumerate(runs):
        for g in groups:
            if same_shape(runs[g[0]], r):
                g.append(i)
                break
        else:
            groups.append([i])
    if len(groups) < 2:
        groups = [[i] for i in range(len(runs))]
    ratios = [0.0] * len(runs)
    for g in groups:
        rest = [r for j, r in enumerate(runs) if j not in g]
        eff = np.array(_efficiencies(replica, rest, prior).as_tuple())
        for i in g:
            ratios[i] = float((_terms(replica, [runs[i]]) @ eff)[0]) / runs[i].seconds_per_request
    return LeaveOneOut(tuple(r.label for r in runs), tuple(ratios))
