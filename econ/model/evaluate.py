"""Evaluate a scenario: every headline figure, from validated inputs, as one frozen result."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from econ.evidence.family import judge_family
from econ.evidence.retention import Retention, SliceResults, compare_slices
from econ.model.cost import CostTable, TimeModel, cost_table
from econ.model.cost_interval import ModelInterval, cost_intervals
from econ.model.extrapolation import extrapolation_warnings
from econ.model.fleet import Fleet, scenario_fleet
from econ.model.loss import Consequence, consequence, loss_drop, plan_loss_usd_month
from econ.model.plans import (
    UNCATEGORISED,
    Assignment,
    plan_cost_per_conversation,
    resolve_plan,
    served_share,
)
from econ.model.prices import TokenPrices
from econ.model.tiers import (
    Blend,
    TierEconomics,
    blend_tiers,
    floors_carrying_free_users,
    tier_economics,
)
from econ.scenario.schema import Scenario, Tier

__all__ = [
    "ConsentArg",
    "Coverage",
    "EvalData",
    "Evaluation",
    "Measured",
    "TierResult",
    "coverage",
    "discordant_pairs",
    "evaluate",
    "inline_eval_data",
    "measured_retention_pairs",
    "model_tokens_per_conversation",
    "retention_pairs",
    "retention_table",
    "tier_assignments",
    "tier_consents",
    "tier_result",
]

EvalData = Mapping[str, Mapping[str, SliceResults]]  # capability -> model -> results
# a consent set for every tier, or tier -> consent set for the tiers named (the rest keep theirs)
ConsentArg = Iterable[str] | Mapping[str, Iterable[str]] | None


@dataclass(frozen=True)
class Measured:
    """What the scenario's measurements resolve to: prices, GPU time models, eval results."""

    prices: Mapping[str, TokenPrices]
    time_models: Mapping[str, TimeModel]
    evals: EvalData
    eval_only_capabilities: tuple[str, ...] = ()
    fits: Mapping[str, Any] = field(default_factory=dict)  # model -> econ.model.fit.Fit
    # the verdicts these eval results give, per set of what else they depend on (see
    # retention_pairs); not an input: a copy made with dataclasses.replace starts empty
    _verdicts: dict[Any, Any] = field(default_factory=dict, init=False, repr=False,
                                      compare=False)


def inline_eval_data(scenario: Scenario) -> dict[str, dict[str, SliceResults]]:
    return {c.id: {mid: SliceResults(e.examples, e.passed, paired_with=dict(e.paired_with) or None)
                   for mid, e in c.evals.items()}
            for c in scenario.capabilities}


@dataclass(frozen=True)
class Coverage:
    """Scenario-wide coverage: each share is the traffic-weighted blend of the tiers' own
    (a tier's conversations count as its users × conversations per user); the capability lists
    are the union of the tiers' (see :class:`TierResult`)."""

    unmeasured_traffic_share: float
    underpowered_traffic_share: float
    uncategorised_traffic_share: float
    unmeasured_capabilities: tuple[str, ...]
    underpowered_capabilities: tuple[str, ...]
    unmeasured_traffic_share_by_model: Mapping[str, float]
    eval_only_capabilities: tuple[str, ...]
    # 1 − the capabilities' traffic shares: conversations no capability claims, whoever serves
    traffic_share_without_capability: float = 0.0


@dataclass(frozen=True)
class TierResult:
    """One tier on its plan. Its coverage shares are of the tier's own conversations that a model
    other than the tier's teacher serves: on a capability without eval results for that model
    or the teacher (unmeasured), on one whose slice cannot detect a drop as large as its
    tolerance and whose verdict is undecided (underpowered), and on traffic no capability
    claims (uncategorised). They are disjoint; a tier served by its teacher alone has none."""

    economics: TierEconomics
    assignment: Assignment
    at_risk: tuple[str, ...]  # served by a non-teacher model without consent or shown retention
    loss_usd_month: float
    pessimistic_loss: tuple[str, ...]  # capabilities whose loss is counted at the prior's worst
    consent: tuple[str, ...] = ()
    teacher: str = ""  # the model this tier's retention and loss are measured against
    retained: tuple[str, ...] = ()  # shown retained by the plan's default model
    unmeasured_traffic_share: float = 0.0
    price_floor_carrying_free_users_usd_month: float | None = None  # paid tiers
    underpowered_traffic_share: float = 0.0
    uncategorised_traffic_share: float = 0.0
    unmeasured_capabilities: tuple[str, ...] = ()
    underpowered_capabilities: tuple[str, ...] = ()

    @property
    def free(self) -> bool:
        return self.economics.price_usd_month <= 0

    @property
    def subsidy_usd_month(self) -> float | None:
        """What a free tier costs a month: the subsidy it needs from the paying tiers."""
        return self.economics.cost_usd_month if self.free else None

    @property
    def conversations_month(self) -> float:
        return self.economics.users * self.economics.conversations_per_user_month


@dataclass(frozen=True)
class Evaluation:
    scenario: Scenario
    costs: CostTable
    model_cost_per_conversation_usd: Mapping[str, float]
    retention: tuple[Retention, ...]
    consequences: tuple[Consequence, ...]
    coverage: Coverage
    tiers: tuple[TierResult, ...]
    blend: Blend
    conversations_month: float
    consent: tuple[str, ...] = field(default=())  # the default consent set (top level)
    # (teacher, model) -> retention of every capability of ``model`` against ``teacher``
    pairs: Mapping[tuple[str, str], tuple[Retention, ...]] = field(default_factory=dict)
    measured: Measured | None = field(default=None, repr=False, compare=False)
    # a self-hosted model's GPU cost extrapolated beyond its runs, one line per model
    warnings: tuple[str, ...] = ()
    # model -> traffic-weighted tokens of one conversation (see model_tokens_per_conversation)
    model_tokens_per_conversation: Mapping[str, Mapping[str, float]] = field(
        default_factory=dict)
    # whole replicas of each self-hosted model at the scenario's volume (econ.model.fleet); the
    # costs above are at continuous sizing, the fleet says what whole replicas multiply them by
    fleet: Fleet = field(default_factory=Fleet)
    # self-hosted model -> prediction interval of its cost per conversation (econ.model.interval)
    gpu_intervals: Mapping[str, ModelInterval] = field(default_factory=dict)

    def retention_of(self, capability: str) -> Retention:
        return next(r for r in self.retention if r.capability == capability)

    def tier(self, tier_id: str) -> TierResult:
        return next(t for t in self.tiers if t.economics.tier == tier_id)

    def retention_against(self, teacher: str, model: str) -> tuple[Retention, ...]:
        return self.pairs[(teacher, model)]

    def drops_against(self, teacher: str) -> dict[str, dict[str, float]]:
        """model -> capability -> drop used for loss, every model against ``teacher``."""
        return {m: {r.capability: loss_drop(r) for r in rets}
                for (t, m), rets in self.pairs.items() if t == teacher}


def retention_table(scenario: Scenario, evals: EvalData, model: str | None = None,
                    teacher: str | None = None) -> tuple[Retention, ...]:
    """Retention of every scenario capability of ``model`` (default: the first student) against
    ``teacher`` (default: the reference teacher), judged as one family with the scenario's
    multiplicity correction."""
    teacher, student = teacher or scenario.teacher_id, model or scenario.student_id
    rets = []
    for c in scenario.capabilities:
        t, s = evals.get(c.id, {}).get(teacher), evals.get(c.id, {}).get(student)
        rets.append(compare_slices(c.id, t, s, c.tolerance,
                                   discordant_pairs(t, s, teacher, student), settle=False))
    return judge_family(rets, scenario.multiplicity)


def discordant_pairs(t: SliceResults | None, s: SliceResults | None, teacher: str,
                     student: str) -> int | None:
    """The discordant items inline counts state for the two models (either side may say)."""
    for sl, other in ((s, teacher), (t, student)):
        if sl is not None and sl.paired_with and other in sl.paired_with:
            return sl.paired_with[other]
    return None


def retention_pairs(scenario: Scenario,
                    evals: EvalData) -> dict[tuple[str, str], tuple[Retention, ...]]:
    """Retention of every model against every teacher (the candidates' comparisons)."""
    return {(t, m): retention_table(scenario, evals, m, t)
            for t in scenario.model_ids("teacher") for m in scenario.models if m != t}


_VERDICT_SETS = 32  # what one Measured keeps: a session's tolerance and multiplicity edits
_VERDICTS_LOCK = threading.Lock()


def measured_retention_pairs(scenario: Scenario, measured: Measured
                             ) -> dict[tuple[str, str], tuple[Retention, ...]]:
    """:func:`retention_pairs` of ``measured.evals``, computed once per Measured for what else
    the verdicts read: each capability's id and tolerance, the multiplicity correction and the
    models with their roles. Plans, consent, prices and traffic do not change a verdict, so a
    frontier or a planning session that evaluates many plans tests each comparison once."""
    key = (tuple((c.id, c.tolerance) for c in scenario.capabilities), scenario.multiplicity,
           tuple(scenario.model_ids("teacher")), tuple(scenario.models))
    memo = measured._verdicts
    pairs = memo.get(key)
    if pairs is None:
        pairs = retention_pairs(scenario, measured.evals)
        with _VERDICTS_LOCK:  # app sessions share a Measured: one writer at a time
            memo[key] = pairs
            while len(memo) > _VERDICT_SETS:
                memo.pop(next(iter(memo)))
    return dict(pairs)


def tier_consents(scenario: Scenario, consent: ConsentArg = None) -> dict[str, tuple[str, ...]]:
    """Each tier's consent set: its own, else the top-level one; ``consent`` overrides (one set
    for every tier, or a mapping for the tiers it names)."""
    out = {t.id: scenario.tier_consent(t) for t in scenario.tiers}
    if consent is None:
        return out
    if isinstance(consent, Mapping):
        out.update({tid: tuple(caps) for tid, caps in consent.items()})
        return out
    caps = tuple(consent)
    return {tid: caps for tid in out}


def coverage(scenario: Scenario, tiers: Iterable[TierResult], evals: EvalData,
             eval_only: Iterable[str] = ()) -> Coverage:
    """The scenario-wide coverage: the tiers' shares blended by their traffic (an unweighted
    mean when no tier has traffic), the union of their capability lists."""
    rows = list(tiers)
    total = sum(t.conversations_month for t in rows)
    weights = [t.conversations_month / total if total > 0 else 1 / len(rows) for t in rows] \
        if rows else []

    def blend(share: Callable[[TierResult], float]) -> float:
        return float(sum(w * share(t) for w, t in zip(weights, rows, strict=True)))

    def union(caps: Callable[[TierResult], tuple[str, ...]]) -> tuple[str, ...]:
        named = {c for t in rows for c in caps(t)}
        return tuple(c.id for c in scenario.capabilities if c.id in named)

    used = {m for t in rows for m in t.assignment.models}
    by_model = {
        mid: sum(c.traffic_share for c in scenario.capabilities
                 if evals.get(c.id, {}).get(mid, SliceResults(0, 0)).examples == 0)
        for mid in scenario.models if mid in used
    }
    return Coverage(
        unmeasured_traffic_share=blend(lambda t: t.unmeasured_traffic_share),
        underpowered_traffic_share=blend(lambda t: t.underpowered_traffic_share),
        uncategorised_traffic_share=blend(lambda t: t.uncategorised_traffic_share),
        unmeasured_capabilities=union(lambda t: t.unmeasured_capabilities),
        underpowered_capabilities=union(lambda t: t.underpowered_capabilities),
        unmeasured_traffic_share_by_model=by_model,
        eval_only_capabilities=tuple(eval_only),
        traffic_share_without_capability=max(
            0.0, 1.0 - sum(c.traffic_share for c in scenario.capabilities)),
    )


def _resolve(scenario: Scenario, t: Tier, consent: tuple[str, ...],
             pairs: Mapping[tuple[str, str], tuple[Retention, ...]]
             ) -> tuple[tuple[str, ...], Assignment]:
    """The capabilities the tier's default model is shown to retain, and the tier's plan
    resolved with ``consent``."""
    caps = [c.id for c in scenario.capabilities]
    teacher, default = scenario.tier_teacher(t), t.plan.model
    retained: tuple[str, ...] = ()
    if default != teacher:
        verdicts = {r.capability: r.verdict for r in pairs[(teacher, default)]}
        retained = tuple(c for c in caps if verdicts[c] == "retained")
    return retained, resolve_plan(t.plan, caps, consent, retained)


def tier_assignments(scenario: Scenario, consents: Mapping[str, tuple[str, ...]],
                     pairs: Mapping[tuple[str, str], tuple[Retention, ...]]
                     ) -> dict[str, Assignment]:
    """Every tier's resolved plan (tier id -> assignment) with its consent set."""
    return {t.id: _resolve(scenario, t, consents[t.id], pairs)[1] for t in scenario.tiers}


def tier_result(scenario: Scenario, t: Tier, consent: tuple[str, ...], costs: CostTable,
                pairs: Mapping[tuple[str, str], tuple[Retention, ...]]) -> TierResult:
    """One tier priced on its plan with ``consent``, against its teacher, from the evaluation's
    cost table and retention pairs (payback prices other plans of a tier with it)."""
    teacher = scenario.tier_teacher(t)
    rets = {m: {r.capability: r for r in pairs[(teacher, m)]}
            for m in scenario.models if m != teacher}
    retained, a = _resolve(scenario, t, consent, pairs)
    econ = tier_economics(t, float(plan_cost_per_conversation(a, scenario, costs)),
                          scenario.fees)
    at_risk = []
    pessimistic = []
    unmeasured: dict[str, float] = {}
    underpowered: dict[str, float] = {}
    drops = {m: {c: loss_drop(r) for c, r in per.items()} for m, per in rets.items()}
    for c in scenario.capabilities:
        for m in a.models:
            if m == teacher or not served_share(a, c.id, m):
                continue
            r = rets[m][c.id]
            served = c.traffic_share * served_share(a, c.id, m)
            if a.primary(c.id) == m and c.id not in consent and r.verdict != "retained":
                at_risk.append(c.id)
            if r.drop is None:
                pessimistic.append(c.id)
                unmeasured[c.id] = unmeasured.get(c.id, 0.0) + served
            elif r.underpowered and r.verdict == "inconclusive":
                underpowered[c.id] = underpowered.get(c.id, 0.0) + served
    rest = max(0.0, 1.0 - sum(c.traffic_share for c in scenario.capabilities))
    uncategorised = rest * sum(served_share(a, UNCATEGORISED, m)
                               for m in a.models if m != teacher)
    loss = float(plan_loss_usd_month(a, scenario, t.users * t.conversations_per_user_month,
                                     drops, teacher))
    return TierResult(econ, a, tuple(dict.fromkeys(at_risk)), loss,
                      tuple(dict.fromkeys(pessimistic)), consent, teacher, retained,
                      unmeasured_traffic_share=float(sum(unmeasured.values())),
                      underpowered_traffic_share=float(sum(underpowered.values())),
                      uncategorised_traffic_share=float(uncategorised),
                      unmeasured_capabilities=tuple(unmeasured),
                      underpowered_capabilities=tuple(underpowered))


TOKEN_KINDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
               "reasoning_tokens")


def model_tokens_per_conversation(scenario: Scenario, costs: CostTable,
                                  model: str) -> dict[str, float]:
    """Tokens of one conversation on ``model`` alone, weighted over capabilities by traffic
    share (uncategorised traffic at the scenario's shape) as its cost per conversation is:
    input (cached reads and cache writes are parts of it) and output (reasoning is part of it).
    For an API model, these tokens at its prices give its cost per conversation."""
    rest = max(0.0, 1.0 - sum(c.traffic_share for c in scenario.capabilities))
    weighted = [(c.traffic_share, costs.tokens[model][c.id]) for c in scenario.capabilities]
    weighted.append((rest, costs.uncategorised_tokens[model]))
    return {k: float(sum(w * getattr(t, k) for w, t in weighted)) for k in TOKEN_KINDS}


def evaluate(scenario: Scenario, measured: Measured, consent: ConsentArg = None) -> Evaluation:
    """Every headline output of a scenario. Each tier is evaluated with its own consent set;
    ``consent`` replaces it (one set for every tier, or tier -> set for the tiers named)."""
    consents = tier_consents(scenario, consent)
    default_consent = tuple(scenario.consent) if consent is None or isinstance(
        consent, Mapping) else tuple(consent)
    pairs = measured_retention_pairs(scenario, measured)
    costs = cost_table(scenario, measured.prices, measured.time_models)
    # whole replicas at the scenario's volume: reported, the costs stay at continuous sizing
    fleet = scenario_fleet(scenario, costs, tier_assignments(scenario, consents, pairs))
    retention = pairs[(scenario.teacher_id, scenario.student_id)]
    conversations = sum(t.users * t.conversations_per_user_month for t in scenario.tiers)
    severity = {c.id: c.severity_usd for c in scenario.capabilities}
    share = {c.id: c.traffic_share for c in scenario.capabilities}
    consequences = tuple(
        consequence(r, conversations * share[r.capability], severity[r.capability])
        for r in retention)
    tiers = [tier_result(scenario, t, consents[t.id], costs, pairs) for t in scenario.tiers]
    carrying = floors_carrying_free_users([t.economics for t in tiers], scenario.fees)
    tiers = [replace(t, price_floor_carrying_free_users_usd_month=carrying.get(
        t.economics.tier)) for t in tiers]
    model_costs = {mid: float(plan_cost_per_conversation(
        Assignment(mid, None, frozenset(), 0.0, 0.0), scenario, costs)) for mid in scenario.models}
    intervals = cost_intervals(scenario, measured.time_models, measured.fits, costs)
    return Evaluation(
        scenario=scenario,
        costs=costs,
        model_cost_per_conversation_usd=model_costs,
        retention=retention,
        consequences=consequences,
        coverage=coverage(scenario, tiers, measured.evals, measured.eval_only_capabilities),
        tiers=tuple(tiers),
        blend=blend_tiers([t.economics for t in tiers]),
        conversations_month=conversations,
        consent=default_consent,
        pairs=pairs,
        measured=measured,
        warnings=extrapolation_warnings(scenario, measured.time_models, measured.fits,
                                        intervals),
        model_tokens_per_conversation={
            mid: model_tokens_per_conversation(scenario, costs, mid) for mid in scenario.models},
        fleet=fleet,
        gpu_intervals=intervals,
    )
