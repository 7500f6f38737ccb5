"""One-at-a-time sensitivity (tornado data): each numeric input moved down and up by a swing,
everything else held, and every tier's price floor and cost per user recomputed. A free tier has
no floor (None): its tornado ranks the inputs by how far they move its cost per user.

Inputs are the scenario's numeric fields (eval counts and Monte Carlo spreads excluded), the
resolved token prices of API models and the measured (or fitted) throughput of self-hosted
ones. A traffic share moved up takes traffic from the uncategorised remainder and stops where
the shares reach 1. A side that the schema refuses (a
utilisation above 1, say) is left out and reported as None.

Only the models some tier serves (a plan's model or its route's) are costed, and only their
inputs are moved: a model no tier serves moves no figure. So the work grows with the inputs of
what the tiers serve, not with the square of the models on the table (1,000 candidates).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from econ.model.cost import cost_table, measured_time_models
from econ.model.evaluate import Evaluation, Measured
from econ.model.plans import plan_cost_per_conversation, resolve_plan
from econ.model.prices import TokenPrices
from econ.model.tiers import price_floor_usd_month
from econ.scenario.schema import Scenario

__all__ = ["SensitivityRow", "sensitivity", "served_models", "tier_figures", "tier_floors",
           "tornado"]

_SKIP = {"schema_version", "min_replicas", "replica_granularity", "gpu_prices",
         "conversations_per_user_month_cv", "turns_cv", "price_cv",
         "evals", "eval_results", "benchmarks", "traffic_share_sd", "throughput_cv",
         "token_length_cv", "reasoning_tokens_cv", "tolerance", "max_concurrency", "distillation"}


@dataclass(frozen=True)
class SensitivityRow:
    input: str
    base_value: float
    low_value: float | None
    high_value: float | None
    floor_at_low: dict[str, float | None]  # None: the side was refused, or a free tier
    floor_at_high: dict[str, float | None]
    cost_per_user_at_low: dict[str, float | None] = field(default_factory=dict)
    cost_per_user_at_high: dict[str, float | None] = field(default_factory=dict)
    free_tiers: frozenset[str] = frozenset()

    def at_low(self, tier: str) -> float | None:
        """The tier's figure with the input at −swing: its floor, a free tier's cost per user."""
        return (self.cost_per_user_at_low if tier in self.free_tiers
                else self.floor_at_low).get(tier)

    def at_high(self, tier: str) -> float | None:
        return (self.cost_per_user_at_high if tier in self.free_tiers
                else self.floor_at_high).get(tier)

    def swing(self, tier: str) -> float:
        lo, hi = self.at_low(tier), self.at_high(tier)
        vals = [v for v in (lo, hi) if v is not None]
        return max(vals) - min(vals) if len(vals) == 2 else 0.0


Figures = dict[str, tuple[float | None, float | None]]  # tier -> (floor, cost per user)


def tier_figures(scenario: Scenario, measured: Measured,
                 consent: Mapping[str, tuple[str, ...]],
                 retained: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[float | None, float]]:
    """Every tier's (price floor, cost per user), with each tier's consent and retention held
    (tier -> set); a free tier's floor is None. Only the models the tiers serve are costed."""
    served = served_models(scenario)
    costs = cost_table(scenario.model_copy(update={"models": {
        k: v for k, v in scenario.models.items() if k in served}}), measured.prices,
        measured.time_models)
    caps = [c.id for c in scenario.capabilities]
    out: dict[str, tuple[float | None, float]] = {}
    for t in scenario.tiers:
        a = resolve_plan(t.plan, caps, consent[t.id], retained[t.id])
        per_user = t.conversations_per_user_month * float(
            plan_cost_per_conversation(a, scenario, costs))
        floor = None if t.price_usd_month <= 0 else float(price_floor_usd_month(
            per_user, t.target_gross_margin, scenario.fees))
        out[t.id] = (floor, per_user)
    return out


def served_models(scenario: Scenario) -> frozenset[str]:
    """The models some tier's plan serves: its model and its route's."""
    return frozenset(m for t in scenario.tiers
                     for m in (t.plan.model, t.plan.route.to if t.plan.route else t.plan.model))


def tier_floors(scenario: Scenario, measured: Measured, consent: Mapping[str, tuple[str, ...]],
                retained: Mapping[str, tuple[str, ...]]) -> dict[str, float | None]:
    """Every tier's price floor (None for a free tier), consent and retention held."""
    return {t: f for t, (f, _) in tier_figures(scenario, measured, consent, retained).items()}


def _numeric_leaves(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[
        tuple[tuple[str | int, ...], float]]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in _SKIP:
                yield from _numeric_leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _numeric_leaves(v, (*path, i))
    elif isinstance(node, int | float) and not isinstance(node, bool) and node != 0:
        yield path, float(node)


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _label(scenario: Scenario, path: tuple[str | int, ...]) -> str:
    out = ""
    for i, part in enumerate(path):
        if isinstance(part, int):
            parent = path[i - 1]
            items = scenario.capabilities if parent == "capabilities" else scenario.tiers
            out += f"[{items[part].id}]"
        else:
            out += f".{part}" if out else part
    return out


def _moved(scenario: Scenario, path: tuple[str | int, ...], value: float,
           factor: float) -> float:
    new = value * factor
    if path[-1] == "turns":
        return float(max(1, round(new)))
    if path[-1] == "traffic_share":
        room = 1.0 - sum(c.traffic_share for c in scenario.capabilities)
        return min(new, value + room)
    return new


def sensitivity(ev: Evaluation, measured: Measured, swing: float = 0.2) -> list[SensitivityRow]:
    """Tornado rows of every input with an effect on some tier's floor, largest swing first."""
    s = ev.scenario
    retained = {t.economics.tier: t.retained for t in ev.tiers}
    consent = {t.economics.tier: t.consent for t in ev.tiers}
    free = frozenset(t.id for t in s.tiers if t.price_usd_month <= 0)
    base_data = s.model_dump(mode="python")
    served = served_models(s)
    rows = []
    for path, value in _numeric_leaves(base_data):
        if path[0] == "models" and path[1] not in served:
            continue  # no tier's figure reads it
        sides: list[tuple[float | None, Figures]] = []
        for factor in (1 - swing, 1 + swing):
            new = _moved(s, path, value, factor)
            if isinstance(_get(base_data, path), int):
                new = float(round(new))  # integers are rounded; the row shows the value used
            data = s.model_dump(mode="python")
            _set(data, path, int(new) if isinstance(_get(base_data, path), int) else new)
            try:
                scen = Scenario.model_validate(data)
            except (ValidationError, ValueError):
                sides.append((None, {t.id: (None, None) for t in s.tiers}))
                continue
            refreshed = {k: v for k, v in measured_time_models(scen).items()
                         if k not in measured.fits}
            m = replace(measured, time_models={**measured.time_models, **refreshed})
            sides.append((new, dict(tier_figures(scen, m, consent, retained))))
        rows.append(_row(_label(s, path), value, sides, free))
    for mid, p in measured.prices.items():
        if mid not in served:
            continue
        for name, value in vars(p).items():
            if not value:
                continue
            sides = []
            for factor in (1 - swing, 1 + swing):
                prices = {**measured.prices, mid: TokenPrices(**{**vars(p), name: value * factor})}
                figures = tier_figures(s, replace(measured, prices=prices), consent, retained)
                sides.append((value * factor, dict(figures)))
            rows.append(_row(f"prices.{mid}.{name}", value, sides, free))
    for mid, tm in measured.time_models.items():
        if mid not in served:
            continue
        sides = []
        for factor in (1 - swing, 1 + swing):
            models = {**measured.time_models, mid: tm.scaled(factor)}
            figures = tier_figures(s, replace(measured, time_models=models), consent, retained)
            sides.append((factor, dict(figures)))
        rows.append(_row(f"measured throughput of {mid} (× base)", 1.0, sides, free))
    rows = [r for r in rows if any(r.swing(t.id) > 1e-12 for t in s.tiers)]
    return sorted(rows, key=lambda r: -max(r.swing(t.id) for t in s.tiers))


def _row(label: str, base: float, sides: list[tuple[float | None, Figures]],
         free: frozenset[str]) -> SensitivityRow:
    (lo_value, lo), (hi_value, hi) = sides
    return SensitivityRow(label, base, lo_value, hi_value,
                          {t: f for t, (f, _) in lo.items()}, {t: f for t, (f, _) in hi.items()},
                          {t: c for t, (_, c) in lo.items()}, {t: c for t, (_, c) in hi.items()},
                          free)


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def tornado(rows: list[SensitivityRow], tier: str) -> list[SensitivityRow]:
    """The rows that move ``tier``'s floor (a free tier: its cost per user), largest swing
    first."""
    return sorted((r for r in rows if r.swing(tier) > 0), key=lambda r: -r.swing(tier))
