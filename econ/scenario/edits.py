"""Planning-session edits (consent set, tier prices and plans), applied two ways:

- to a validated :class:`Scenario`, for live figures;
- to the scenario's YAML text, keeping comments, key order and formatting (round-trip YAML),
  for saving back to git.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from econ.scenario.aliases import own_subtree, shared_nodes
from econ.scenario.schema import Plan, Route, Scenario

__all__ = ["Edits", "TierEdit", "apply_to_scenario", "apply_to_yaml", "edits_between"]


@dataclass(frozen=True)
class TierEdit:
    price_usd_month: float | None = None
    model: str | None = None
    route_to: str | None = None  # "" removes the route
    routed: Literal["unconsented"] | tuple[str, ...] | None = None


@dataclass(frozen=True)
class Edits:
    consent: tuple[str, ...] | None = None
    tiers: dict[str, TierEdit] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.consent is None and not self.tiers


def _new_plan(plan: Plan, e: TierEdit) -> Plan:
    model = e.model or plan.model
    route = plan.route
    if e.route_to == "":
        route = None
    elif e.route_to is not None:
        route = (route or Route(to=e.route_to)).model_copy(update={"to": e.route_to})
    if route is not None and e.routed is not None:
        caps = e.routed if e.routed == "unconsented" else list(e.routed)
        route = route.model_copy(update={"capabilities": caps})
    if route is not None and route.to == model:
        route = None
    return Plan(model=model, route=route)


def apply_to_scenario(s: Scenario, edits: Edits) -> Scenario:
    """The scenario with the edits applied, validated again."""
    data = s.model_dump(mode="python")
    if edits.consent is not None:
        data["consent"] = list(edits.consent)
    for t in data["tiers"]:
        e = edits.tiers.get(t["id"])
        if e is None:
            continue
        if e.price_usd_month is not None:
            t["price_usd_month"] = e.price_usd_month
        old = next(x for x in s.tiers if x.id == t["id"]).plan
        t["plan"] = _new_plan(old, e).model_dump(mode="python", exclude_none=True)
    return Scenario.model_validate(data)


def _yaml() -> YAML:
    y = YAML()
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    y.preserve_quotes = True
    return y


def _flow_list(items: list[str], like: Any) -> CommentedSeq:
    seq = CommentedSeq(items)
    if like is None or (isinstance(like, CommentedSeq) and like.fa.flow_style()):
        seq.fa.set_flow_style()
    return seq


def apply_to_yaml(text: str, scenario: Scenario, edits: Edits) -> str:
    """The scenario text with the edits written in; everything else is left as it was."""
    y = _yaml()
    data = y.load(text)
    if edits.consent is not None:
        old = data.get("consent")
        if isinstance(old, CommentedSeq) and list(old) == list(edits.consent):
            pass
        elif "consent" in data:
            data["consent"] = _flow_list(list(edits.consent), old)
        else:
            _insert_before(data, "consent", _flow_list(list(edits.consent), None),
                           ("fees", "tiers", "distillation"))
    shared = shared_nodes(data)
    for i, tier in enumerate(scenario.tiers):  # by position: YAML 1.2 reads an id like 1e3
        e = edits.tiers.get(tier.id)            # as a number, the schema as text
        if e is None:
            continue
        tier_data = own_subtree(data["tiers"], i, shared)  # an alias in it is broken first
        if e.price_usd_month is not None and tier_data["price_usd_month"] != e.price_usd_month:
            tier_data["price_usd_month"] = _number(e.price_usd_month)
        old = tier.plan
        _write_plan(tier_data["plan"], old, _new_plan(old, e))
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _write_plan(node: CommentedMap, old: Plan, new: Plan) -> None:
    if new.model != old.model:
        node["model"] = new.model
    if new.route is None:
        node.pop("route", None)
        return
    if "route" not in node or node["route"] is None:
        node["route"] = CommentedMap()
    r = node["route"]
    r["to"] = new.route.to
    caps = new.route.capabilities
    if old.route is None or caps != old.route.capabilities:
        r["capabilities"] = caps if caps == "unconsented" else _flow_list(
            list(caps), r.get("capabilities"))
    for key in ("router_usd_per_conversation", "router_error_rate"):
        value = getattr(new.route, key)
        if key in r or value:
            r[key] = value


def _insert_before(data: CommentedMap, key: str, value: Any, before: tuple[str, ...]) -> None:
    keys = list(data)
    pos = next((keys.index(k) for k in before if k in keys), len(keys))
    data.insert(pos, key, value)


def edits_between(old: Scenario, new: Scenario) -> Edits:
    """The edits that turn ``old`` into ``new`` (consent, tier prices and plans)."""
    consent = tuple(new.consent) if list(new.consent) != list(old.consent) else None
    tiers = {}
    for a, b in zip(old.tiers, new.tiers, strict=True):
        if a == b:
            continue
        route_to = None
        routed: Literal["unconsented"] | tuple[str, ...] | None = None
        if b.plan.route is None and a.plan.route is not None:
            route_to = ""
        elif b.plan.route is not None:
            route_to = b.plan.route.to
            c = b.plan.route.capabilities
            routed = c if c == "unconsented" else tuple(c)
        tiers[b.id] = TierEdit(
            price_usd_month=b.price_usd_month if b.price_usd_month != a.price_usd_month else None,
            model=b.plan.model, route_to=route_to, routed=routed)
    return Edits(consent, tiers)
