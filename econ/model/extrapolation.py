"""Where a self-hosted model's GPU cost is extrapolated beyond what its runs measured.

A fitted time model is trusted up to the largest context (prompt + output tokens of one request)
any of its runs measured. A conversation's last turn carries its largest context; when a
capability's last turn goes beyond the runs, every output that uses that model says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from econ.model.cost import TimeModel
from econ.scenario.conversation import capability_shape, tokens_of_shape, turn_tokens
from econ.scenario.schema import Scenario, SelfHostedModel

__all__ = ["extrapolation_warnings", "largest_context_tokens"]


def largest_context_tokens(scenario: Scenario) -> tuple[float, str]:
    """The largest context of any turn of the scenario's conversations, and whose it is."""
    shapes = [("uncategorised traffic", scenario.conversation)]
    shapes += [(c.id, capability_shape(scenario.conversation, c)) for c in scenario.capabilities]
    best, who = 0.0, ""
    for name, shape in shapes:
        per_turn = tokens_of_shape(shape).per_turn
        assert per_turn is not None
        prompt, _, output = turn_tokens(per_turn, shape.turns)
        if float(prompt + output) > best:
            best, who = float(prompt + output), name
    return best, who


def extrapolation_warnings(scenario: Scenario,
                           time_models: Mapping[str, TimeModel]) -> tuple[str, ...]:
    context, who = largest_context_tokens(scenario)
    out = []
    for mid, tm in time_models.items():
        measured = tm.max_measured_context_tokens
        if isinstance(scenario.models.get(mid), SelfHostedModel) and 0 < measured < context:
            out.append(f"{mid}: conversations reach {context:,.0f} tokens of context ({who}, "
                       f"last turn), beyond the largest run measured ({measured:,.0f} tokens): "
                       "its GPU cost is extrapolated")
    return tuple(out)
