"""Where a self-hosted model's GPU cost is extrapolated beyond what its runs measured.

A fitted time model is trusted up to the largest context (prompt + output tokens of one request)
any of its runs measured. A conversation's last turn carries its largest context; when a
capability's last turn goes beyond the runs, every output that uses that model says so, and says
too when that turn holds more tokens than one replica's KV cache (no replica can serve it).
A fit that misses one of its own runs by more than :data:`MISFIT` is flagged the same way: the
runs contradict the replica's stated figures, so its GPU cost is neither the runs' nor the
physics'.
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


def extrapolation_warnings(scenario: Scenario, time_models: Mapping[str, TimeModel],
                           fits: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    context, who = largest_context_tokens(scenario)
    out = []
    for mid, tm in time_models.items():
        if not isinstance(scenario.models.get(mid), SelfHostedModel):
            continue
        measured = tm.max_measured_context_tokens
        if 0 < measured < context:
            line = (f"{mid}: conversations reach {context:,.0f} tokens of context ({who}, "
                    f"last turn), beyond the largest run measured ({measured:,.0f} tokens)")
            if isinstance(tm, ServingModel) and context > tm.replica.kv_capacity_tokens:
                line += (f", and beyond what one replica's KV cache holds "
                         f"({tm.replica.kv_capacity_tokens:,.0f} tokens): no replica can serve "
                         "that turn")
            out.append(line + ": its GPU cost is extrapolated")
        fit = (fits or {}).get(mid)
        if fit is not None and fit.runs:
            worst, run = max(zip((abs(e) for e in fit.relative_residuals), fit.runs,
                                 strict=True), key=lambda p: p[0])
            if worst > MISFIT:
                out.append(f"{mid}: the fitted GPU time misses its own run {run.label} by "
                           f"{100 * worst:.0f}%: the runs contradict the replica's figures "
                           "(architecture, gpu, gpus_per_replica, weight_bytes_per_parameter, "
                           "gpu_memory_utilization, max_num_seqs) or each other; its GPU cost "
                           "is extrapolated from physics the runs do not support")
    return tuple(out)
