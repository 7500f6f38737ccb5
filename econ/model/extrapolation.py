"""Where a self-hosted model's GPU cost is extrapolated beyond what its runs measured.

A fitted time model is trusted where its runs measured. A conversation's last turn carries its
largest context; when a capability's last turn goes beyond the runs, every output that uses
that model says so, and says too when that turn holds more tokens than one replica's KV cache
(no replica can serve it). The same line names every other dimension a conversation lies
outside the runs in (output tokens per request, input/output ratio, the batch it is priced at,
its length spread: :mod:`econ.model.interval`) with the runs' range, and the 90% interval.
A model whose cost rests on little (no runs, an assumed throughput, runs carried from another
replica) or whose fit misses held-out runs has its interval said when it is wider than ±25%.
A fit that misses one of its own runs by more than :data:`MISFIT` is flagged the same way: the
runs contradict the replica's stated figures, so its GPU cost is neither the runs' nor the
physics'; so is a fit whose runs press an efficiency onto its physical bound, or hold more per
request than the stated KV cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from econ.model.cost import TimeModel
from econ.model.serving import ServingModel
from econ.scenario.conversation import capability_shape, tokens_of_shape, turn_tokens
from econ.scenario.schema import Scenario, SelfHostedModel

__all__ = ["MISFIT", "extrapolation_warnings", "largest_context_tokens"]

MISFIT = 0.2  # a fit further than this from one of its own runs contradicts them


def largest_context_tokens(scenario: Scenario) -> tuple[float, str]:
    """The largest context of any turn of the scenario's conversations, and whose it is."""
    shapes = [("uncategorised traffic", scenario.conversation)]
    shapes += [(c.id, capability_shape(scenario.conversation, c)) for c in scenario.capabilities]
    best, who = 0.0, ""
    for name, shape in shapes:
        per_turn = tokens_of_shape(shape, cache="self_hosted").per_turn
        assert per_turn is not None
        prompt, _, output = turn_tokens(per_turn, shape.turns, cache="self_hosted")
        if float(prompt + output) > best:
            best, who = float(prompt + output), name
    return best, who


def _model_lines(mid: str, tm: TimeModel, context: float, who: str, fit: Any,
                 interval: Any) -> list[str]:
    out = []
    clauses = []
    measured = tm.max_measured_context_tokens
    if 0 < measured < context:
        line = (f"conversations reach {context:,.0f} tokens of context ({who}, last turn), "
                f"beyond the largest run measured ({measured:,.0f} tokens)")
        if isinstance(tm, ServingModel) and context > tm.replica.kv_capacity_tokens:
            line += (f", and beyond what one replica's KV cache holds "
                     f"({tm.replica.kv_capacity_tokens:,.0f} tokens): no replica can serve "
                     "that turn")
        clauses.append(line)
    overall = interval.overall if interval is not None else None
    if overall is not None:
        clauses += [text for dim, _, text in overall.outside
                    if not (dim == "context" and clauses)]
    if clauses:
        tail = ""
        if interval is not None:
            name, widest = interval.widest
            tail = f" (90% interval up to ×/÷ {widest.factor:.2f}, {name})"
        out.append(f"{mid}: " + "; ".join(clauses) + f": its GPU cost is extrapolated{tail}")
    if interval is not None and interval.basis.reasons and interval.basis.wide:
        out.append(f"{mid}: its GPU cost rests on " + "; ".join(interval.basis.reasons)
                   + f": 90% interval ×/÷ {interval.basis.factor:.2f} even within the runs")
    misses = [(abs(e), r) for e, r in zip(getattr(fit, "relative_residuals", ()),
                                           getattr(fit, "runs", ()), strict=True)
              if not r.assumed]  # an assumption is not expected to be met
    if misses:
        worst, run = max(misses, key=lambda p: p[0])
        if worst > MISFIT:
            out.append(f"{mid}: the fitted GPU time misses its own run {run.label} by "
                       f"{100 * worst:.0f}%: the runs contradict the replica's figures "
                       "(weight_bytes_per_parameter and kv_cache_bytes_per_value, gpu, "
                       "gpus_per_replica, architecture, gpu_memory_utilization, max_num_seqs) "
                       "or each other; its GPU cost is extrapolated from physics the runs do "
                       "not support")
    out += [f"{mid}: {flag}" for flag in getattr(fit, "flags", ())]
    return out


def extrapolation_warnings(scenario: Scenario, time_models: Mapping[str, TimeModel],
                           fits: Mapping[str, Any] | None = None,
                           intervals: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """One line per model and kind: beyond the runs, resting on little, missing its runs,
    against physics. ``intervals``: :func:`econ.model.cost_interval.cost_intervals`."""
    context, who = largest_context_tokens(scenario)
    out: list[str] = []
    for mid, tm in time_models.items():
        if isinstance(scenario.models.get(mid), SelfHostedModel):
            out += _model_lines(mid, tm, context, who, (fits or {}).get(mid),
                                (intervals or {}).get(mid))
    return tuple(out)
