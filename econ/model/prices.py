"""Token prices: the pinned litellm price snapshot, scenario overrides, and snapshot refresh diffs.

The snapshot keeps litellm's own field names (USD per token); econ works in USD per million tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any

from econ.base.errors import EconError, Problem
from econ.scenario.price_limits import MAX_USD_PER_MTOK, extreme_price
from econ.scenario.schema import ApiModel, Scenario

__all__ = [
    "SNAPSHOT_FIELDS",
    "PriceSnapshot",
    "SnapshotDiff",
    "TokenPrices",
    "build_snapshot",
    "diff_snapshots",
    "model_prices",
    "price_problems",
    "resolve_prices",
]

# litellm field (USD per token) -> TokenPrices attribute (USD per million tokens)
SNAPSHOT_FIELDS = {
    "input_cost_per_token": "input_usd_per_mtok",
    "output_cost_per_token": "output_usd_per_mtok",
    "cache_read_input_token_cost": "cached_input_usd_per_mtok",
    "input_cost_per_token_batches": "batch_input_usd_per_mtok",
    "output_cost_per_token_batches": "batch_output_usd_per_mtok",
    "cache_creation_input_token_cost": "cache_write_input_usd_per_mtok",
}
_PER_MTOK = 1_000_000


@dataclass(frozen=True)
class TokenPrices:
    """USD per million tokens. A missing cached (read) price bills cache reads at the input
    price; a missing cache-write price bills cache writes at the input price (OpenAI-style
    automatic caching, where writing costs nothing extra)."""

    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cached_input_usd_per_mtok: float | None = None
    batch_input_usd_per_mtok: float | None = None
    batch_output_usd_per_mtok: float | None = None
    cache_write_input_usd_per_mtok: float | None = None


@dataclass(frozen=True)
class PriceSnapshot:
    litellm_version: str
    snapshot_date: str
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "litellm_version": self.litellm_version,
            "snapshot_date": self.snapshot_date,
            "source": "litellm model_prices_and_context_window (bundled copy), chat models only",
            "models": {k: self.models[k] for k in sorted(self.models)},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PriceSnapshot:
        """A snapshot from its JSON; a price that is negative, NaN or infinite is refused."""
        models = dict(data["models"])
        for name, entry in models.items():
            if not isinstance(entry, dict):
                raise EconError(f"models.{name}: not a mapping of price fields")
            for k in SNAPSHOT_FIELDS:
                v = entry.get(k)
                if v is None:
                    continue
                if isinstance(v, bool) or not isinstance(v, int | float) or not (
                        0.0 <= v < math.inf):
                    raise EconError(f"models.{name}.{k}: a price is a finite number of at "
                                    f"least 0 (got {v!r})")
        return cls(str(data["litellm_version"]), str(data["snapshot_date"]), models)


def build_snapshot(cost_map: dict[str, Any], litellm_version: str, date: str) -> PriceSnapshot:
    """Keep the priced chat/completion models of a litellm cost map, and only the price fields."""
    models: dict[str, dict[str, Any]] = {}
    for name, entry in cost_map.items():
        if not isinstance(entry, dict) or entry.get("mode") not in ("chat", "completion"):
            continue
        if not isinstance(entry.get("input_cost_per_token"), int | float):
            continue
        if not isinstance(entry.get("output_cost_per_token"), int | float):
            continue
        kept: dict[str, Any] = {
            k: float(entry[k]) for k in SNAPSHOT_FIELDS if isinstance(entry.get(k), int | float)
        }
        kept["litellm_provider"] = entry.get("litellm_provider")
        models[name] = kept
    return PriceSnapshot(litellm_version, date, models)


def model_prices(snapshot: PriceSnapshot, key: str) -> TokenPrices:
    entry = snapshot.models[key]
    values = {attr: entry[k] * _PER_MTOK for k, attr in SNAPSHOT_FIELDS.items() if k in entry}
    return TokenPrices(**values)


def price_problems(scenario: Scenario, snapshot: PriceSnapshot) -> list[Problem]:
    """API models whose price_key is not in the snapshot, that borrow a price outside the sane
    range from it (:mod:`econ.scenario.price_limits`), or that ask for a price nobody gives."""
    out = []
    for mid, m in scenario.models.items():
        if not isinstance(m, ApiModel):
            continue
        if m.price_key is not None and m.price_key not in snapshot.models:
            near = get_close_matches(m.price_key, list(snapshot.models), n=3)
            hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            out.append(Problem(("models", mid, "price_key"),
                               f"not in the price snapshot of litellm {snapshot.litellm_version}"
                               f"{hint}", value=m.price_key, has_value=True))
            continue
        if m.price_key is not None and not scenario.allow_extreme_prices:
            out += _extreme_snapshot_prices(m, mid, snapshot)
        if m.use_batch:
            p = _merge(m, snapshot)
            if p is not None and (p.batch_input_usd_per_mtok is None
                                  or p.batch_output_usd_per_mtok is None):
                out.append(Problem(("models", mid, "use_batch"),
                                   "no batch prices for this model; set prices."
                                   "batch_input_usd_per_mtok and batch_output_usd_per_mtok",
                                   value=True, has_value=True))
    return out


def _extreme_snapshot_prices(m: ApiModel, mid: str, snapshot: PriceSnapshot) -> list[Problem]:
    """Snapshot prices of ``m`` (those its ``prices`` do not replace) above the sane range, in
    the snapshot's own unit (USD per token)."""
    assert m.price_key is not None
    replaced = {k for k, v in (m.prices.model_dump() if m.prices else {}).items()
                if v is not None}
    entry, out = snapshot.models[m.price_key], []
    for field_name, attr in SNAPSHOT_FIELDS.items():
        value = entry.get(field_name)
        if value is None or attr in replaced:
            continue
        bad = extreme_price(value, MAX_USD_PER_MTOK / _PER_MTOK, "USD per token")
        if bad is not None:
            out.append(Problem(("models", mid, "price_key"), f"the price snapshot's "
                               f"{m.price_key}.{field_name} is {bad}", value=value,
                               has_value=True))
    return out


def resolve_prices(scenario: Scenario, snapshot: PriceSnapshot) -> dict[str, TokenPrices]:
    """Prices of every API model: snapshot figures with the scenario's overrides on top."""
    out = {}
    for mid, m in scenario.models.items():
        if isinstance(m, ApiModel):
            p = _merge(m, snapshot)
            if p is None:
                raise KeyError(mid)
            out[mid] = p
    return out


def _merge(m: ApiModel, snapshot: PriceSnapshot) -> TokenPrices | None:
    values: dict[str, Any] = {}
    if m.price_key is not None:
        if m.price_key not in snapshot.models:
            return None
        values.update(vars(model_prices(snapshot, m.price_key)))
    if m.prices is not None:
        values.update({k: v for k, v in m.prices.model_dump().items() if v is not None})
    if "input_usd_per_mtok" not in values or "output_usd_per_mtok" not in values:
        return None
    return TokenPrices(**values)


@dataclass(frozen=True)
class SnapshotDiff:
    added: list[str]
    removed: list[str]
    changed: dict[str, dict[str, tuple[float | None, float | None]]]


def diff_snapshots(old: PriceSnapshot, new: PriceSnapshot,
                   watched: set[str] | None = None) -> SnapshotDiff:
    """Models added and removed, and changed prices (of ``watched`` models if given)."""
    added = sorted(set(new.models) - set(old.models))
    removed = sorted(set(old.models) - set(new.models))
    changed: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    for name in sorted(set(old.models) & set(new.models)):
        if watched is not None and name not in watched:
            continue
        moves = {}
        for k in SNAPSHOT_FIELDS:
            a, b = old.models[name].get(k), new.models[name].get(k)
            if a != b:
                moves[k] = (a, b)
        if moves:
            changed[name] = moves
    return SnapshotDiff(added, removed, changed)
