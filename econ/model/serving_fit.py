"""Fit the serving model's efficiencies to benchmark runs, with a physical prior.

Each run of a replica at its operating point gives its replica-seconds per request (1 ÷ request
throughput) at a mean of ``I`` input and ``O`` output tokens and a client concurrency. The five
efficiencies of :mod:`econ.model.serving` (prefill and decode compute factors, memory factor,
overhead per decode step, overhead per request) are fitted in log space, so they stay positive,
to the runs' relative errors (``ln(predicted ÷ measured)``, so a long-context run does not drown
the short ones), with a log-normal prior around :data:`econ.model.serving.PRIOR`
(data/SOURCES.md §9): a maximum a posteriori fit. A run's error counts with a log-sd of
:data:`RUN_LOG_SD`; the prior decides only what the runs cannot, so one run of one shape still
gives a fit (the prior's ratios between the terms, scaled to that run), and five shapes leave the
prior little say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from econ.base.errors import EconError
from econ.model.fit import LeaveOneOut, RunShape
from econ.model.serving import PRIOR, Efficiencies, Replica, ServingModel, request_terms

__all__ = ["PRIOR_LOG_SD", "RUN_LOG_SD", "ServingFit", "fit_serving", "leave_one_out_serving"]

PRIOR_LOG_SD = (0.7, 0.7, 0.5, 1.5, 1.5)  # §9 [assumption]
RUN_LOG_SD = 0.1  # [assumption] run-to-run spread and misfit of one shape, as a log ratio


@dataclass(frozen=True)
class ServingFit:
    model: ServingModel
    method: str
    runs: tuple[RunShape, ...]
    predicted_seconds_per_request: tuple[float, ...]
    notes: tuple[str, ...] = ()

    @property
    def relative_residuals(self) -> tuple[float, ...]:
        return tuple((p - r.seconds_per_request) / r.seconds_per_request
                     for p, r in zip(self.predicted_seconds_per_request, self.runs, strict=True))


def _terms(replica: Replica, runs: Sequence[RunShape]) -> np.ndarray:
    rows = []
    for r in runs:
        conc = np.inf if r.concurrency is None else r.concurrency
        rows.append([*request_terms(replica, r.input_tokens_per_request,
                                    r.input_tokens_per_request, r.output_tokens_per_request,
                                    conc), 1.0])
    return np.array(rows, dtype=float)


def _efficiencies(replica: Replica, runs: Sequence[RunShape],
                  prior: Efficiencies) -> Efficiencies:
    if not runs:
        raise EconError("no runs to fit")
    terms = _terms(replica, runs)
    measured = np.array([r.seconds_per_request for r in runs])
    z0 = np.log(np.array(prior.as_tuple()))
    sd = np.array(PRIOR_LOG_SD)

    def residuals(z: np.ndarray) -> np.ndarray:
        predicted = terms @ np.exp(z)
        return np.concatenate([np.log(predicted / measured) / RUN_LOG_SD, (z - z0) / sd])

    sol = least_squares(residuals, z0, method="trf", x_scale=1.0, ftol=1e-14, xtol=1e-14,
                        gtol=1e-14)
    if not sol.success or not np.all(np.isfinite(sol.x)):
        raise EconError(f"the serving model's fit did not converge: {sol.message}")
    return Efficiencies(*(float(v) for v in np.exp(sol.x)))


def fit_serving(replica: Replica, runs: Sequence[RunShape],
                concurrency_points: tuple[tuple[float, float], ...] = (),
                prior: Efficiencies = PRIOR, notes: tuple[str, ...] = ()) -> ServingFit:
    """The serving model fitted to ``runs`` (their operating points already chosen)."""
    eff = _efficiencies(replica, runs, prior)
    context = max(r.input_tokens_per_request + r.output_tokens_per_request for r in runs)
    model = ServingModel(replica, eff, concurrency_points, context)
    predicted = tuple(float(v) for v in _terms(replica, runs) @ np.array(eff.as_tuple()))
    return ServingFit(model, "physical prior + runs (maximum a posteriori)", tuple(runs),
                      predicted, notes)


def leave_one_out_serving(replica: Replica, runs: Sequence[RunShape],
                          prior: Efficiencies = PRIOR) -> LeaveOneOut | None:
    """Each run predicted by a fit to the others; None with fewer than two runs."""
    if len(runs) < 2:
        return None
    ratios = []
    for i, held in enumerate(runs):
        rest = [r for j, r in enumerate(runs) if j != i]
        eff = _efficiencies(replica, rest, prior)
        predicted = float((_terms(replica, [held]) @ np.array(eff.as_tuple()))[0])
        ratios.append(predicted / held.seconds_per_request)
    return LeaveOneOut(tuple(r.label for r in runs), tuple(ratios))
