"""What changed between two versions of a scenario, and how every headline output moved."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from econ.decisions.frontier import tier_frontier
from econ.model.evaluate import Evaluation
from econ.scenario.schema import Scenario

__all__ = [
    "InputChange",
    "OutputChange",
    "ScenarioDiff",
    "diff_against",
    "diff_evaluations",
    "headline_outputs",
    "input_changes",
]

_KEYED_LISTS = {"capabilities", "tiers"}


@dataclass(frozen=True)
class InputChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class OutputChange:
    name: str
    unit: str
    old: float | None
    new: float | None

    @property
    def change(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def change_pct(self) -> float | None:
        if self.change is None or not self.old:
            return None
        return 100.0 * self.change / abs(self.old)


@dataclass(frozen=True)
class ScenarioDiff:
    inputs: tuple[InputChange, ...]
    outputs: tuple[OutputChange, ...]  # only those that moved

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": [{"path": c.path, "old": c.old, "new": c.new} for c in self.inputs],
            "outputs": [{"name": o.name, "unit": o.unit, "old": o.old, "new": o.new,
                         "change": o.change, "change_pct": o.change_pct} for o in self.outputs],
        }


def _flatten(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        if not node:
            yield path, {}
        for k, v in node.items():
            yield from _flatten(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list) and path in _KEYED_LISTS and all(
            isinstance(x, dict) and "id" in x for x in node):
        for item in node:
            rest = {k: v for k, v in item.items() if k != "id"}
            yield from _flatten(rest, f"{path}[{item['id']}]")
    else:
        yield path, node


def input_changes(old: Scenario, new: Scenario) -> tuple[InputChange, ...]:
    """Every input that differs, as a dotted path (list items keyed by their id)."""
    a = dict(_flatten(old.model_dump(mode="json", exclude_defaults=False)))
    b = dict(_flatten(new.model_dump(mode="json", exclude_defaults=False)))
    missing = object()
    out = []
    for path in list(a) + [p for p in b if p not in a]:
        va, vb = a.get(path, missing), b.get(path, missing)
        if {id(va), id(vb)} & {id(missing)} and None in (va, vb):
            continue  # a section absent on one side and null on the other: no change
        if va != vb:
            out.append(InputChange(path, None if va is missing else va,
                                   None if vb is missing else vb))
    return tuple(out)


def headline_outputs(ev: Evaluation) -> dict[str, tuple[str, float | None]]:
    """Named headline figures of an evaluation: name → (unit, value)."""
    out: dict[str, tuple[str, float | None]] = {}
    for mid, cost in ev.model_cost_per_conversation_usd.items():
        out[f"models.{mid}.cost_per_conversation"] = ("USD", cost)
    for t in ev.tiers:
        e = t.economics
        out[f"tiers.{e.tier}.price_floor"] = ("USD/month", e.price_floor_usd_month)
        out[f"tiers.{e.tier}.gross_margin_at_price"] = ("fraction", e.gross_margin_at_price)
        out[f"tiers.{e.tier}.cost_per_user"] = ("USD/month", e.cost_per_user_month_usd)
        out[f"tiers.{e.tier}.loss"] = ("USD/month", t.loss_usd_month)
        out[f"tiers.{e.tier}.unmeasured_traffic_share"] = ("fraction",
                                                           t.unmeasured_traffic_share)
        out[f"tiers.{e.tier}.underpowered_traffic_share"] = ("fraction",
                                                             t.underpowered_traffic_share)
        out[f"tiers.{e.tier}.frontier_size"] = ("consent sets",
                                                float(len(tier_frontier(ev, e.tier).points)))
    out["unmeasured_traffic_share"] = ("fraction", ev.coverage.unmeasured_traffic_share)
    out["underpowered_traffic_share"] = ("fraction", ev.coverage.underpowered_traffic_share)
    out["blended_gross_margin"] = ("fraction", ev.blend.blended_gross_margin)
    out["cost_per_month"] = ("USD/month", ev.blend.cost_usd_month)
    return out


def _moved(a: Mapping[str, tuple[str, float | None]],
           b: Mapping[str, tuple[str, float | None]]) -> tuple[OutputChange, ...]:
    out = []
    for name in list(a) + [n for n in b if n not in a]:
        unit = (a.get(name) or b[name])[0]
        va = a[name][1] if name in a else None
        vb = b[name][1] if name in b else None
        same = va == vb or (va is not None and vb is not None
                            and abs(va - vb) <= 1e-12 * max(abs(va), abs(vb), 1.0))
        if not same:
            out.append(OutputChange(name, unit, va, vb))
    return tuple(out)


def diff_evaluations(old: Evaluation, new: Evaluation) -> ScenarioDiff:
    return diff_against(old.scenario, headline_outputs(old), new)


def diff_against(old_scenario: Scenario, old_outputs: Mapping[str, tuple[str, float | None]],
                 new: Evaluation) -> ScenarioDiff:
    """The diff when the old side's headline outputs are already known (kept between reruns)."""
    return ScenarioDiff(input_changes(old_scenario, new.scenario),
                        _moved(old_outputs, headline_outputs(new)))
