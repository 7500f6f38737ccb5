"""Break-even volume: at what monthly conversation volume self-hosting beats the API.

In: an evaluation and its measurements, and the volume to mark as today's. Out: a
:class:`Breakeven`: for each self-hosted model at each of its GPU prices (``usd_per_gpu_hour``,
the on-demand figure every other output uses, then each of ``gpu_prices``) its cost per
conversation at any monthly volume with whole replicas, and for each API model the volumes at
which self-hosting costs no more per conversation. Pure.

**What it is measured against.** Each model serves *every* conversation of the scenario alone
(the conversation mix of the candidates table), ``V`` of them a month. An API model costs the
same ``a`` USD per conversation at any volume. A self-hosted model's fleet sized continuously
costs ``c`` USD per conversation (:mod:`econ.model.cost`: GPU-seconds × USD/GPU-hour ÷ 3,600 ÷
(target utilisation ÷ peak-to-average)); one replica costs ``R`` = GPUs × USD/GPU-hour × 730 h
a month. The fleet is whole replicas (:func:`econ.model.replicas.whole_replicas`):
``n(V) = min_replicas + g · ⌈max(0, V·c/R − min_replicas) ÷ g⌉``, and a conversation costs
``n(V)·R ÷ V``: at low volume the minimum fleet is spread over few conversations.

**The crossovers.** A count ``n`` serves volumes up to ``n·R/c``; within its range self-hosting
costs no more than the API from ``V = n·R/a``. So self-hosting is never cheaper when ``c ≥ a``;
otherwise it first breaks even at ``min_replicas·R/a`` and is cheaper on each window
``[n·R/a, n·R/c]`` (``n`` = min_replicas, min_replicas + g, …), which join once
``n ≥ g·a/(a − c)``: from there on it stays cheaper (``always_from``). Between windows each new
step of replicas makes it dearer again for a while.

**Utilisation.** The fleet's average GPU utilisation at ``V`` is the busy replicas over the
replicas running: ``V·c/R × target_utilisation/peak_to_average ÷ n(V)`` (the continuous count
already holds the headroom; at full steps it is the scenario's effective utilisation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from econ.model.cost import cost_table, effective_utilisation
from econ.model.evaluate import Evaluation, Measured, model_tokens_per_conversation
from econ.model.plans import Assignment, plan_cost_per_conversation
from econ.model.replicas import HOURS_PER_MONTH, whole_replicas
from econ.scenario.schema import ApiModel, SelfHostedModel

__all__ = [
    "ON_DEMAND",
    "ApiOption",
    "Breakeven",
    "Crossover",
    "SelfHostedOption",
    "breakeven",
    "crossover",
    "volume_grid",
]

ON_DEMAND = "usd_per_gpu_hour"  # the label of the price every other output uses
MAX_WINDOWS = 12  # windows listed before the crossover holds for good; the rest are counted
_PER_MTOK = 1_000_000


def _tokens(tokens: Mapping[str, float]) -> float:
    """Billed tokens of one conversation: input (cached part of it) and output."""
    return float(tokens["input_tokens"] + tokens["output_tokens"])


@dataclass(frozen=True)
class SelfHostedOption:
    """One self-hosted model at one GPU price, serving every conversation alone."""

    model: str
    price_label: str  # ON_DEMAND or a key of the model's gpu_prices
    usd_per_gpu_hour: float
    continuous_usd_per_conversation: float  # c: the fleet sized continuously
    usd_per_replica_month: float  # R
    gpus_per_replica: int
    min_replicas: int
    replica_granularity: int
    effective_utilisation: float  # target_utilisation ÷ peak_to_average
    tokens_per_conversation: float

    def continuous_replicas(self, volume: Any) -> Any:
        return volume * self.continuous_usd_per_conversation / self.usd_per_replica_month

    def replicas(self, volume: Any) -> Any:
        return whole_replicas(self.continuous_replicas(volume), self.min_replicas,
                              self.replica_granularity)

    def usd_month(self, volume: Any) -> Any:
        return self.replicas(volume) * self.usd_per_replica_month

    def cost_per_conversation_usd(self, volume: float) -> float:
        return math.inf if volume <= 0 else float(self.usd_month(volume)) / volume

    def utilisation(self, volume: float) -> float:
        """Average GPU utilisation of the whole fleet at ``volume``."""
        return (float(self.continuous_replicas(volume)) * self.effective_utilisation
                / float(self.replicas(volume)))

    def usd_per_mtok(self, volume: float) -> float:
        """Blended USD per million billed tokens (input, cached and output) at ``volume``."""
        return self.cost_per_conversation_usd(volume) / self.tokens_per_conversation * _PER_MTOK

    def at(self, volume: float) -> dict[str, Any]:
        return {"conversations_month": volume, "replicas": int(self.replicas(volume)),
                "continuous_replicas": float(self.continuous_replicas(volume)),
                "fleet_usd_month": float(self.usd_month(volume)),
                "cost_per_conversation_usd": self.cost_per_conversation_usd(volume),
                "usd_per_mtok": self.usd_per_mtok(volume),
                "utilisation": self.utilisation(volume)}

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "price": self.price_label,
                "usd_per_gpu_hour": self.usd_per_gpu_hour,
                "continuous_cost_per_conversation_usd": self.continuous_usd_per_conversation,
                "continuous_usd_per_mtok": self.continuous_usd_per_conversation
                / self.tokens_per_conversation * _PER_MTOK,
                "usd_per_replica_month": self.usd_per_replica_month,
                "gpus_per_replica": self.gpus_per_replica, "min_replicas": self.min_replicas,
                "replica_granularity": self.replica_granularity,
                "effective_utilisation": self.effective_utilisation,
                "tokens_per_conversation": self.tokens_per_conversation,
                "hours_per_month": HOURS_PER_MONTH}


@dataclass(frozen=True)
class ApiOption:
    model: str
    usd_per_conversation: float
    tokens_per_conversation: float

    @property
    def usd_per_mtok(self) -> float:
        return self.usd_per_conversation / self.tokens_per_conversation * _PER_MTOK

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "cost_per_conversation_usd": self.usd_per_conversation,
                "usd_per_mtok": self.usd_per_mtok,
                "tokens_per_conversation": self.tokens_per_conversation}


@dataclass(frozen=True)
class Crossover:
    """Where one self-hosted option costs no more per conversation than one API model."""

    self_hosted: str
    price_label: str
    api: str
    first_volume: float | None  # None: never (c ≥ a)
    always_from: float | None  # from this volume on, always; None: never
    windows: tuple[tuple[float, float], ...]  # cheaper on these before always_from
    more_windows: int  # windows not listed (beyond MAX_WINDOWS)
    replicas_at_first: int | None
    replicas_at_always: int | None

    def to_json(self) -> dict[str, Any]:
        return {"self_hosted": self.self_hosted, "price": self.price_label, "api": self.api,
                "first_breakeven_conversations_month": self.first_volume,
                "always_cheaper_from_conversations_month": self.always_from,
                "replicas_at_first_breakeven": self.replicas_at_first,
                "replicas_at_always_cheaper": self.replicas_at_always,
                "windows_conversations_month": [list(w) for w in self.windows],
                "windows_not_listed": self.more_windows}


def crossover(opt: SelfHostedOption, api: ApiOption) -> Crossover:
    """The volumes at which ``opt`` costs no more per conversation than ``api``."""
    c, a, r = opt.continuous_usd_per_conversation, api.usd_per_conversation, \
        opt.usd_per_replica_month
    m, g = opt.min_replicas, opt.replica_granularity
    if c >= a:
        return Crossover(opt.model, opt.price_label, api.model, None, None, (), 0, None, None)
    # the first count of the sequence m, m+g, … whose window starts where the last one ended
    joined = g * a / (a - c)
    n_star = m if m >= joined else m + g * math.ceil(round((joined - m) / g, 9))
    last = n_star - g if n_star > m else m  # the window that runs on for good starts here
    windows: list[tuple[float, float]] = []
    n = m
    while n < last:
        if len(windows) < MAX_WINDOWS:
            windows.append((n * r / a, n * r / c))
        n += g
    steps = (last - m) // g
    return Crossover(opt.model, opt.price_label, api.model, m * r / a, last * r / a,
                     tuple(windows), steps - len(windows), m, last)


@dataclass(frozen=True)
class Breakeven:
    self_hosted: tuple[SelfHostedOption, ...]
    api: tuple[ApiOption, ...]
    crossovers: tuple[Crossover, ...]
    volume_today: float
    volume_basis: str  # what volume_today is

    def to_json(self, volumes: Sequence[float]) -> dict[str, Any]:
        return {"measured_against": "each model serving every conversation of the scenario "
                "alone; the API at its price per conversation, any volume",
                "conversations_month_today": self.volume_today,
                "today_basis": self.volume_basis,
                "self_hosted": [dict(o.to_json(), today=o.at(self.volume_today),
                                     curve=[o.at(v) for v in volumes])
                                for o in self.self_hosted],
                "api": [a.to_json() for a in self.api],
                "crossovers": [x.to_json() for x in self.crossovers]}


def volume_grid(volume_today: float, low: float = 1e3, decades: int = 6) -> list[float]:
    """Decades from ``low`` (1,000 conversations a month) and today's volume, ascending."""
    grid = {low * 10 ** k for k in range(decades)}
    if volume_today > 0:
        grid.add(float(volume_today))
    return sorted(grid)


def breakeven(ev: Evaluation, measured: Measured, volume_today: float | None = None,
              volume_basis: str = "every tier's conversations") -> Breakeven:
    """Every self-hosted model at each GPU price against every API model (see the module)."""
    s = ev.scenario
    costs = cost_table(s, measured.prices, measured.time_models)  # continuous sizing
    options, apis = [], []
    for mid, model in s.models.items():
        alone = float(plan_cost_per_conversation(
            Assignment(mid, None, frozenset(), 0.0, 0.0), s, costs))
        tokens = _tokens(model_tokens_per_conversation(s, costs, mid))
        if isinstance(model, ApiModel):
            apis.append(ApiOption(mid, alone, tokens))
            continue
        assert isinstance(model, SelfHostedModel)
        prices = {ON_DEMAND: model.usd_per_gpu_hour, **dict(model.gpu_prices or {})}
        for label, usd in prices.items():
            scale = usd / model.usd_per_gpu_hour  # the cost is linear in the GPU price
            options.append(SelfHostedOption(
                mid, label, usd, alone * scale,
                model.gpus_per_replica * usd * HOURS_PER_MONTH, model.gpus_per_replica,
                model.min_replicas, model.replica_granularity, effective_utilisation(model),
                tokens))
    crossovers = tuple(crossover(o, a) for o in options for a in apis)
    today = ev.conversations_month if volume_today is None else volume_today
    return Breakeven(tuple(options), tuple(apis), crossovers, float(today), volume_basis)
