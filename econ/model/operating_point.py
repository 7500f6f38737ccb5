"""The operating point of each request shape in a sweep of benchmark runs.

A sweep runs each request shape (mean input and output tokens) at several client concurrencies.
Without a latency objective the operating point of a shape is its highest-throughput run. With
one (``slo``: a largest TTFT and/or inter-token latency at a stated statistic) it is the
highest-throughput run that meets it, and the cost is the cost at that SLO; a shape with no run
meeting it is left out and said so, and a sweep where no shape meets it is refused.

Either way a request is priced at the concurrency its chosen run had: what was measured. A run
with no concurrency limit (every request sent at once) measured the replica at saturation, so
it is priced there. ``assume_saturation`` prices every shape at the batch the KV cache and
``max_num_seqs`` allow instead, beyond what a sweep at low concurrency measured: a physics
extrapolation, said so and widening the interval (:mod:`econ.model.interval`).
"""

from __future__ import annotations

from collections.abc import Sequence

from econ.base.errors import EconError
from econ.model.fit import RunShape
from econ.scenario.schema import LatencySlo

__all__ = ["SHAPE_TOLERANCE", "OperatingPoints", "operating_points", "same_shape"]

SHAPE_TOLERANCE = 0.05  # runs within 5% in both input and output tokens are one shape


def same_shape(a: RunShape, b: RunShape) -> bool:
    def near(x: float, y: float) -> bool:
        return abs(x - y) <= SHAPE_TOLERANCE * max(abs(x), abs(y), 1.0)

    return (near(a.input_tokens_per_request, b.input_tokens_per_request)
            and near(a.output_tokens_per_request, b.output_tokens_per_request))


def _meets(run: RunShape, slo: LatencySlo) -> bool:
    for what, limit, stat in (("ttft", slo.ttft_ms, slo.ttft_statistic),
                              ("itl", slo.itl_ms, slo.itl_statistic)):
        if limit is None:
            continue
        value = run.latency_ms.get(f"{what}_{stat}")
        if value is None:
            raise EconError(f"{run.label}: the run gives no {stat} {what.upper()}, so the "
                            f"latency objective cannot be checked against it")
        if value > limit:
            return False
    return True


class OperatingPoints:
    """The chosen run of each shape, and a note per shape left out."""

    def __init__(self, runs: tuple[RunShape, ...], notes: tuple[str, ...],
                 at_slo: bool, saturate: bool = False) -> None:
        self.runs, self.notes, self.at_slo, self.saturate = runs, notes, at_slo, saturate

    @property
    def concurrency_points(self) -> tuple[tuple[float, float], ...]:
        """(context tokens, concurrency) at which the model prices requests: the chosen runs'
        concurrency (unbounded where a run had none, or with ``saturate``)."""
        return tuple((r.input_tokens_per_request + r.output_tokens_per_request,
                      r.concurrency if r.concurrency is not None and not self.saturate
                      else float("inf"))
                     for r in self.runs)

    @property
    def highest_concurrency(self) -> float | None:
        """The highest client concurrency any chosen run reached; None if one was unbounded."""
        if any(r.concurrency is None for r in self.runs):
            return None
        return max((r.concurrency for r in self.runs if r.concurrency is not None),
                   default=None)


def operating_points(runs: Sequence[RunShape], slo: LatencySlo | None,
                     saturate: bool = False) -> OperatingPoints:
    groups: list[list[RunShape]] = []
    for r in runs:
        for g in groups:
            if same_shape(g[0], r):
                g.append(r)
                break
        else:
            groups.append([r])
    chosen, notes = [], []
    for g in groups:
        ok = g if slo is None else [r for r in g if _meets(r, slo)]
        if not ok:
            notes.append(f"{g[0].input_tokens_per_request:,.0f}/"
                         f"{g[0].output_tokens_per_request:,.0f} tokens: none of its "
                         f"{len(g)} runs meets the latency objective; left out")
            continue
        chosen.append(min(ok, key=lambda r: r.seconds_per_request))
    if not chosen:
        raise EconError("no run of any shape meets the latency objective (slo); relax it or "
                        "add runs at lower concurrency")
    if saturate and slo is None:
        top = OperatingPoints(tuple(chosen), (), False).highest_concurrency
        if top is not None:
            notes.append(f"priced at saturation (assume_saturation): the batch the KV cache and "
                         f"max_num_seqs allow, beyond the highest concurrency measured "
                         f"({top:,.0f}); a physics extrapolation")
    return OperatingPoints(tuple(chosen), tuple(notes), slo is not None,
                           saturate and slo is None)
