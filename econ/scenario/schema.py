"""The scenario schema: strict, frozen pydantic v2 models with units in field names.

Structural checks live on the fields; checks that relate one part of a scenario to another
(a plan naming an unknown model, traffic shares summing over 1) are in :func:`reference_problems`,
so a loader can report each of them at its own line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, model_validator

from econ.base.errors import Problem, ScenarioError
from econ.base.multiplicity import Multiplicity
from econ.scenario.eval_spec import EvalCounts
from econ.scenario.serving_spec import (
    Architecture,
    GpuSpec,
    LatencySlo,
    ThroughputMeasurement,
)
from econ.scenario.strict import Strict, not_a_bool

__all__ = [
    "MAX_TURNS",
    "SCHEMA_VERSION",
    "ApiModel",
    "Architecture",
    "Capability",
    "ConversationOverride",
    "ConversationShape",
    "Distillation",
    "Endpoint",
    "EvalCounts",
    "Fees",
    "GpuSpec",
    "LatencySlo",
    "ModelSpec",
    "Plan",
    "Route",
    "Scenario",
    "SelfHostedModel",
    "ThroughputMeasurement",
    "Tier",
    "TokenPricesOverride",
    "reference_problems",
]

Share = Annotated[float, Field(ge=0.0, le=1.0), BeforeValidator(not_a_bool)]
NonNegative = Annotated[float, Field(ge=0.0), BeforeValidator(not_a_bool)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=80)]
Role = Literal["teacher", "student", "other"]
MAX_TURNS = 1000  # turns of one conversation, at most (Monte Carlo draws are held to it too)




class ConversationShape(Strict):
    """Tokens of one conversation. With ``resend_history`` each turn re-sends all earlier turns."""

    turns: Annotated[int, Field(ge=1, le=MAX_TURNS)]
    system_prompt_tokens: NonNegative
    user_tokens_per_turn: NonNegative
    assistant_tokens_per_turn: NonNegative
    resend_history: bool = True
    cache_hit_rate: Share = Field(
        0.0, description="Share of each turn's cacheable prefix read from the prompt cache: "
        "for an API the previous turn's prompt (the system prompt at turn 1), for a self-hosted "
        "server the previous turn with its answer.")
    token_length_cv: NonNegative = Field(
        0.0, description="Coefficient of variation of mean tokens per turn (Monte Carlo spread)."
    )
    turns_cv: NonNegative = Field(
        0.0, description="Coefficient of variation of the mean number of turns (Monte Carlo "
        "spread, applied to every capability's turns).")
    user_tokens_spread_cv: NonNegative = Field(
        0.0, description="Coefficient of variation of user tokens per turn across "
        "conversations (mean kept): a self-hosted model's GPU time is the expectation over it, "
        "not the time of the mean.")
    assistant_tokens_spread_cv: NonNegative = Field(
        0.0, description="The same for assistant tokens per turn.")


class ConversationOverride(Strict):
    """Fields a capability may change in the scenario's conversation shape."""

    turns: Annotated[int, Field(ge=1, le=MAX_TURNS)] | None = None
    system_prompt_tokens: NonNegative | None = None
    user_tokens_per_turn: NonNegative | None = None
    assistant_tokens_per_turn: NonNegative | None = None
    resend_history: bool | None = None
    cache_hit_rate: Share | None = None
    token_length_cv: NonNegative | None = None
    user_tokens_spread_cv: NonNegative | None = None
    assistant_tokens_spread_cv: NonNegative | None = None


class TokenPricesOverride(Strict):
    """Prices in USD per million tokens; any field given replaces the snapshot's figure."""

    input_usd_per_mtok: NonNegative | None = None
    output_usd_per_mtok: NonNegative | None = None
    cached_input_usd_per_mtok: NonNegative | None = None
    batch_input_usd_per_mtok: NonNegative | None = None
    batch_output_usd_per_mtok: NonNegative | None = None
    cache_write_input_usd_per_mtok: NonNegative | None = Field(
        None, description="Price of input tokens written to the prompt cache (Anthropic bills "
        "them above plain input); without it cache writes are billed as plain input.")


class Endpoint(Strict):
    """Where ``econ probe`` reaches the model through litellm."""

    litellm_model: str = Field(description="litellm model name, e.g. openai/llama-8b for an "
                               "OpenAI-compatible server such as vLLM")
    api_base: str | None = None
    api_key_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                      max_length=200)] | None = Field(
        None, description="Name of the environment variable holding the API key (never the key)")


class _Reasoning(Strict):
    """Fields every model has: its hidden reasoning tokens."""

    reasoning_tokens_per_turn: NonNegative = Field(
        0.0, description="Hidden reasoning (thinking) tokens the model writes each turn: billed "
        "as output, decoded by a self-hosted model, never re-sent in the history.")
    reasoning_tokens_cv: NonNegative = Field(
        0.0, description="Coefficient of variation of the reasoning tokens per turn (Monte Carlo "
        "spread).")


class ApiModel(_Reasoning):
    serving: Literal["api"]
    role: Role
    label: str | None = None
    price_key: str | None = Field(
        None, description="Model name in the pinned litellm price snapshot (data/)."
    )
    prices: TokenPricesOverride | None = None
    use_batch: bool = Field(False, description="Bill at the batch (asynchronous) prices.")
    endpoint: Endpoint | None = None
    price_cv: NonNegative = Field(
        0.0, description="Coefficient of variation of the model's token prices (Monte Carlo "
        "spread: a price change over the planning horizon).")


class SelfHostedModel(_Reasoning):
    serving: Literal["self_hosted"]
    role: Role
    label: str | None = None
    gpu: str
    usd_per_gpu_hour: Annotated[float, Field(gt=0.0)]
    gpus_per_replica: Annotated[int, Field(ge=1)]
    throughput: ThroughputMeasurement | None = None
    benchmarks: list[str] = Field(
        default_factory=list,
        description="Serving benchmark result files (vLLM, SGLang, LLMPerf, GenAI-Perf/AIPerf), "
        "relative to the scenario file; GPU time per token is fitted to them.")
    measured_conversations: list[str] = Field(
        default_factory=list,
        description="AIPerf per-request results (profile_export.jsonl) of multi-turn "
        "conversations replayed against this model, e.g. of an econ trace, relative to the "
        "scenario file. When given, the model's GPU-seconds per conversation are the measured "
        "ones (duration ÷ completed conversations × gpus_per_replica), for every capability, "
        "instead of the fitted model's.")
    throughput_cv: NonNegative = Field(
        0.0, description="Run-to-run coefficient of variation of throughput (Monte Carlo spread); "
        "a measurement's own throughput_cv is used when this is 0.")
    prefill_cost_ratio: Annotated[float, Field(gt=0.0)] = Field(
        0.35,
        description="GPU time of one prefill token over one decode token, used to split a single "
        "measurement between input and output tokens.",
    )
    target_utilisation: Annotated[float, Field(gt=0.0, le=1.0)] = 0.6
    peak_to_average: Annotated[float, Field(ge=1.0)] = 1.0
    min_replicas: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        1, description="Replicas always running, whatever the volume (default 1). The fleet is "
        "a whole number of replicas: at low volume their cost is spread over few conversations.")
    replica_granularity: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        1, description="Replicas are added above min_replicas in steps of this many (default "
        "1; 2 when an 8-GPU node holds two 4-GPU replicas).")
    gpu_prices: dict[Identifier, Annotated[float, Field(gt=0.0)]] | None = Field(
        None, description="Other USD/GPU-hour figures for this GPU by name (reserved, spot…): "
        "econ breakeven gives the crossover at each; usd_per_gpu_hour prices every other output.")
    endpoint: Endpoint | None = None
    architecture: Annotated[str, Field(min_length=1, max_length=120)] | Architecture | None = (
        Field(None, description="The model's architecture: a row of data/serving/models.csv by "
              "name, or its figures inline. With it (and the GPU's figures) GPU time is charged "
              "per turn at its context, and the runs are fitted with a physical prior."))
    gpu_spec: GpuSpec | None = Field(
        None, description="The GPU's figures, when `gpu` names no row of data/serving/gpus.csv.")
    weight_bytes_per_parameter: Annotated[float, Field(gt=0.0, le=8.0)] = Field(
        2.0, description="Bytes per weight as served: 2 for BF16, 1 for FP8, 0.5 for 4-bit.")
    kv_cache_bytes_per_value: Annotated[float, Field(gt=0.0, le=8.0)] = Field(
        2.0, description="Bytes per KV-cache value: 2 for a BF16 cache, 1 for FP8.")
    gpu_memory_utilization: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.9, description="Share of GPU memory the engine may use (vLLM's default 0.9).")
    max_num_seqs: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        None, description="The engine's cap on sequences in flight (default: vLLM's, 1024 on "
        "GPUs of 70 GiB or more that are not A100s, else 256).")
    slo: LatencySlo | None = Field(
        None, description="Latency objective: each request shape's operating point is its "
        "highest-throughput run that meets it.")
    assume_saturation: bool = Field(
        False, description="Price at the batch the KV cache and max_num_seqs allow (physics "
        "extrapolation, with a wider interval) rather than at the highest concurrency the runs "
        "reached.")
    benchmarks_from: str | None = Field(
        None, description="Another self-hosted model of the scenario whose runs this one "
        "borrows: the efficiencies fitted on its replica serve this model's own architecture, "
        "GPU and GPUs per replica, the transfer widening the interval.")


ModelSpec = Annotated[ApiModel | SelfHostedModel, Field(discriminator="serving")]


class Capability(Strict):
    id: Identifier
    label: str | None = None
    traffic_share: Share
    traffic_share_sd: NonNegative = 0.0
    severity_usd: NonNegative = Field(description="Business cost of one failed conversation, USD.")
    load_bearing: bool = False
    tolerance: Share = Field(0.02, description="Largest accepted drop in pass rate (0.02 = 2 pts), "
                             "or in mean score where the scores are graded.")
    conversation: ConversationOverride | None = None
    evals: dict[str, EvalCounts] = Field(default_factory=dict)
    reasoning_tokens_per_turn: dict[str, NonNegative] = Field(
        default_factory=dict, description="Reasoning tokens per turn of the models named "
        "(model id -> tokens) on this capability, replacing the model's own figure.")


class Route(Strict):
    to: str
    capabilities: Literal["unconsented"] | list[str] = "unconsented"
    router_usd_per_conversation: NonNegative = 0.0
    router_error_rate: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0


class Plan(Strict):
    model: str
    route: Route | None = None


class Tier(Strict):
    id: Identifier
    label: str | None = None
    price_usd_month: NonNegative
    users: NonNegative
    conversations_per_user_month: NonNegative
    target_gross_margin: Annotated[float, Field(ge=0.0, lt=1.0)]
    plan: Plan
    conversations_per_user_month_cv: NonNegative = Field(
        0.0, description="Coefficient of variation of the tier's mean conversations per user "
        "(Monte Carlo): the uncertainty of the mean, one factor per draw for the whole tier, "
        "not the spread across its users (which averages out over the tier).")
    # --- schema version 2 (issue 11): per-tier consent and payback baseline ---
    consent: list[str] | None = Field(
        None, description="Capabilities this tier consents to lose; the top-level consent "
        "applies when absent.")
    baseline: Plan | None = Field(
        None, description="A plan without distillation that payback also tries as the tier's "
        "baseline (the best plan without the distilled model is used, by monthly cost plus "
        "capability loss).")
    teacher: str | None = Field(
        None, description="The teacher this tier's loss is measured against and the frontier "
        "routes to (default: the plan's model or route target if it is a teacher, else the "
        "reference teacher).")


class Fees(Strict):
    payment_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    payment_fixed_usd: NonNegative = 0.0


class Distillation(Strict):
    """One-off cost of producing the student, and how often it is redone."""

    model: str | None = Field(
        None, description="The model this distillation produces; payback compares each tier "
        "with its best plan without it (default: every student some tier's plan serves).")
    gpu_hours: NonNegative = 0.0
    usd_per_gpu_hour: NonNegative = 0.0
    eval_usd: NonNegative = 0.0
    data_usd: NonNegative = 0.0
    people_usd: NonNegative = 0.0
    redistill_every_months: Annotated[float, Field(gt=0.0)] | None = None


SCHEMA_VERSION = 2


class Scenario(Strict):
    schema_version: Literal[1, 2] | None = Field(
        None, description="2 for this schema; a file without it is read as version 1.")
    name: str
    description: str = ""
    conversation: ConversationShape
    models: dict[str, ModelSpec]
    capabilities: list[Capability]
    eval_results: list[str] = Field(default_factory=list)
    probes: str | None = Field(
        None, description="JSONL of probe conversations for econ probe, relative to the scenario")
    capability_map: dict[str, Any] | None = Field(
        None, description="Which capability an imported eval example exercises: task, tag and "
        "metadata rules (see econ import evals --capability-map).")
    consent: list[str] = Field(
        default_factory=list, description="Default consent set of tiers that state none.")
    reference: str | None = Field(
        None, description="The teacher every student's retention is measured against where a "
        "tier has no teacher of its own (default: the first teacher).")
    multiplicity: Multiplicity = Field(
        "holm", description="Correction of each comparison's verdicts for testing many "
        "capabilities at once: holm (family-wise error), bh (Benjamini-Hochberg, false "
        "discovery rate) or none.")
    fees: Fees = Fees()
    allow_extreme_prices: bool = Field(
        False, description="Accept prices outside the sane ranges (econ.scenario.price_limits: "
        "10,000 USD per million tokens, 1,000 USD per GPU-hour, 1,000,000 USD a tier-month).")
    # at least one: every screen, table and figure is per tier (none left the app with
    # "list index out of range")
    tiers: list[Tier] = Field(min_length=1)
    distillation: Distillation | None = None

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Scenario:
        if info.context and info.context.get("skip_references"):
            return self
        problems = reference_problems(self)
        if problems:
            raise ScenarioError(problems)
        return self

    def model_id(self, role: Role) -> str:
        return next(mid for mid, m in self.models.items() if m.role == role)

    def model_ids(self, role: Role) -> tuple[str, ...]:
        return tuple(mid for mid, m in self.models.items() if m.role == role)

    @property
    def teacher_id(self) -> str:
        """The reference teacher: ``reference`` if stated, else the first teacher."""
        return self.reference or self.model_id("teacher")

    @property
    def student_id(self) -> str:
        """The first student: the one the headline and the capability table compare."""
        return self.model_id("student")

    def tier_consent(self, tier: Tier) -> tuple[str, ...]:
        return tuple(self.consent if tier.consent is None else tier.consent)

    def tier_teacher(self, tier: Tier) -> str:
        """The teacher of a tier: its ``teacher``, else its plan's model or route target if
        that is a teacher, else the reference teacher."""
        if tier.teacher is not None:
            return tier.teacher
        options: list[str | None] = [tier.plan.model,
                                     tier.plan.route.to if tier.plan.route else None]
        for cand in options:
            if cand is not None and cand in self.models and self.models[cand].role == "teacher":
                return cand
        return self.teacher_id


def reference_problems(s: Scenario) -> list[Problem]:
    """Problems that relate one part of a scenario to another (a plan naming an unknown model,
    traffic shares over 1, a model borrowing runs it cannot): :mod:`econ.scenario.references`."""
    from econ.scenario.references import scenario_reference_problems

    return scenario_reference_problems(s)
