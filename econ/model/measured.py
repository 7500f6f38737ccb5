"""Cost of a self-hosted model from measured multi-turn conversations.

In: what AIPerf runs of the model measured (:class:`ConversationRun`, one per result file of
the model's ``measured_conversations:``) and the scenario. Out: a time model that charges every
conversation the measured replica time, the GPU-seconds per conversation, the source of each
model's cost. Pure; may import ``econ.base``, ``econ.scenario``, ``econ.evidence`` and
``econ.model``.

GPU-seconds per conversation = Σ run duration ÷ Σ completed conversations × the scenario's GPUs
per replica (see :mod:`econ.evidence.importers.aiperf_records` for the definitions). Dollars
follow as for any self-hosted model: × USD per GPU-hour ÷ 3600 ÷ effective utilisation.

The measurement is used **per conversation, for the shape it measured**, and not rescaled to
the scenario's tokens: replica time is not proportional to tokens (prefill, decode at a growing
context, prefix-cache hits and batching each scale differently), and a ratio of token counts
would replace a measurement with an unvalidated guess. So every capability (and uncategorised
traffic) of the model costs the measured mean conversation. That is right when the replay was
``econ trace`` of this scenario (the capabilities mixed by traffic share, as served) and wrong
for a plan that routes only some capabilities to the model: the measured mean is then not the
mean of the capabilities it serves. :func:`shape_notice` says when the measured conversations'
tokens are far from the scenario's. The Monte Carlo's token spreads leave it unchanged (the
replay already sampled them); its throughput spread still scales it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from econ.evidence.importers.aiperf_records import ConversationRun
from econ.model.cost import TimeModel, TokenTimeModel
from econ.scenario.conversation import ConversationTokens, capability_shape, tokens_of_shape
from econ.scenario.schema import ApiModel, ModelSpec, Scenario

__all__ = [
    "SHAPE_TOLERANCE",
    "MeasuredConversationTime",
    "cost_source",
    "cost_sources",
    "gpu_seconds_per_conversation",
    "measured_conversation_time",
    "scenario_tokens_per_conversation",
    "shape_notice",
]

SHAPE_TOLERANCE = 0.25  # a measured mean this far from the scenario's earns a notice


@dataclass(frozen=True)
class MeasuredConversationTime(TokenTimeModel):
    """A time model charging every conversation the measured replica-seconds."""

    replica_s_per_conversation: Any = 0.0
    runs: tuple[ConversationRun, ...] = field(default=(), compare=False)

    def scaled(self, throughput_scale: Any) -> MeasuredConversationTime:
        base = super().scaled(throughput_scale)
        return replace(self, prefill_s_per_token=base.prefill_s_per_token,
                       decode_s_per_token=base.decode_s_per_token,
                       replica_s_per_conversation=self.replica_s_per_conversation
                       / throughput_scale)

    def replica_seconds(self, tokens: ConversationTokens) -> Any:
        # the same figure for every conversation, broadcast to the tokens' shape (Monte Carlo)
        return self.replica_s_per_conversation + 0.0 * tokens.output_tokens

    @property
    def completed_conversations(self) -> int:
        return sum(r.completed_conversations for r in self.runs)

    def mean(self, name: str) -> float | None:
        """A per-conversation figure of the runs, weighted by completed conversations."""
        values = [getattr(r, name) for r in self.runs]
        if not values or any(v is None for v in values):
            return None
        return float(sum(v * r.completed_conversations
                         for v, r in zip(values, self.runs, strict=True))
                     / self.completed_conversations)


def measured_conversation_time(runs: Sequence[ConversationRun]) -> MeasuredConversationTime:
    """The runs pooled: Σ duration ÷ Σ completed conversations replica-seconds each."""
    if not runs:
        raise ValueError("no measured runs")
    seconds = sum(r.duration_s for r in runs) / sum(r.completed_conversations for r in runs)
    return MeasuredConversationTime(0.0, 0.0, replica_s_per_conversation=seconds,
                                    runs=tuple(runs))


def gpu_seconds_per_conversation(runs: Sequence[ConversationRun], gpus_per_replica: int) -> float:
    """GPU-seconds of one conversation, measured: Σ duration ÷ Σ completed × GPUs per replica."""
    return float(measured_conversation_time(runs).replica_s_per_conversation) * gpus_per_replica


def scenario_tokens_per_conversation(scenario: Scenario) -> tuple[float, float]:
    """Traffic-weighted mean input and output tokens of the scenario's conversations."""
    rest = max(0.0, 1.0 - sum(c.traffic_share for c in scenario.capabilities))
    parts = [(c.traffic_share, tokens_of_shape(capability_shape(scenario.conversation, c),
                                                  cache="self_hosted"))
             for c in scenario.capabilities]
    parts.append((rest, tokens_of_shape(scenario.conversation, cache="self_hosted")))
    total = sum(w for w, _ in parts) or 1.0
    return (sum(w * float(t.input_tokens) for w, t in parts) / total,
            sum(w * float(t.output_tokens) for w, t in parts) / total)


def shape_notice(model_id: str, scenario: Scenario, time: MeasuredConversationTime) -> str | None:
    """A notice when the measured conversations' mean tokens are more than
    ``SHAPE_TOLERANCE`` from the scenario's (the cost is not rescaled to them)."""
    want_in, want_out = scenario_tokens_per_conversation(scenario)
    got_in = time.mean("input_tokens_per_conversation") or 0.0
    got_out = time.mean("output_tokens_per_conversation") or 0.0
    off = [abs(got / want - 1) for got, want in ((got_in, want_in), (got_out, want_out)) if want]
    if not off or max(off) <= SHAPE_TOLERANCE:
        return None
    return (f"models.{model_id}.measured_conversations: the measured conversations average "
            f"{got_in:,.0f} input and {got_out:,.0f} output tokens, the scenario's "
            f"{want_in:,.0f} and {want_out:,.0f}; the cost is the measured one per conversation, "
            "not rescaled (replay more conversations of an econ trace of this scenario)")


def cost_source(model: ModelSpec, time_model: TimeModel | None,
                fitted: bool) -> dict[str, Any]:
    """Where a model's cost per conversation comes from, for reports."""
    if isinstance(model, ApiModel):
        return {"cost_source": "api_prices"}
    if isinstance(time_model, MeasuredConversationTime):
        replica_s = float(time_model.replica_s_per_conversation)
        return {"cost_source": "measured_conversations", "measured_conversations": {
            "files": [r.file for r in time_model.runs],
            "completed_conversations": time_model.completed_conversations,
            "turns_per_conversation": time_model.mean("turns_per_conversation"),
            "input_tokens_per_conversation": time_model.mean("input_tokens_per_conversation"),
            "cached_input_tokens_per_conversation":
                time_model.mean("cached_input_tokens_per_conversation"),
            "output_tokens_per_conversation": time_model.mean("output_tokens_per_conversation"),
            "replica_seconds_per_conversation": replica_s,
            "gpu_seconds_per_conversation": replica_s * model.gpus_per_replica,
        }}
    benchmarks = fitted and bool(getattr(model, "benchmarks", None))
    return {"cost_source": "fitted_benchmarks" if benchmarks else "throughput_measurement"}


def cost_sources(scenario: Scenario, time_models: Mapping[str, TimeModel],
                 fits: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {mid: cost_source(m, time_models.get(mid), mid in fits)
            for mid, m in scenario.models.items()}
