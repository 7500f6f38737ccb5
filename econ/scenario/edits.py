"""Planning-session edits (consent sets, tier prices and plans), applied two ways:

- to a validated :class:`Scenario`, for live figures;
- to the scenario's YAML text, keeping comments, key order and formatting (round-trip YAML),
  for saving back to git.

A comment at the end of an edited value's line spoke of the old value (a source, an
``[assumption]``, a description): it is kept, prefixed with ``edited, was OLD:``, so it never
contradicts the new value and says the figure was edited. A later edit keeps the first ``was``;
an edit back to that value restores the comment as it was.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from econ.scenario.aliases import own_subtree, shared_nodes
from econ.scenario.schema import Plan, Route, Scenario

__all__ = ["Edits", "TierEdit", "apply_to_scenario", "apply_to_yaml", "edits_between",
           "round_trip_yaml"]


@dataclass(frozen=True)
class TierEdit:
    price_usd_month: float | None = None
    model: str | None = None
    route_to: str | None = None  # "" removes the route
    routed: Literal["unconsented"] | tuple[str, ...] | None = None
    teacher: str | None = None  # held as the tier's teacher when the plan no longer names it
    # (USD per conversation, error rate) of the router the route gets: an adopted frontier
    # point brings the router it was priced with, so adopting it gives exactly its floor
    router: tuple[float, float] | None = None


@dataclass(frozen=True)
class Edits:
    consent: tuple[str, ...] | None = None
    tiers: dict[str, TierEdit] = field(default_factory=dict)
    tier_consent: dict[str, tuple[str, ...]] = field(default_factory=dict)  # tiers[].consent

    @property
    def empty(self) -> bool:
        return self.consent is None and not self.tiers and not self.tier_consent


def _new_plan(plan: Plan, e: TierEdit) -> Plan:
    model = e.model or plan.model
    route = plan.route
    if e.route_to == "":
        route = None
    elif e.route_to is not None:
        if route is None:
            cost, error = e.router or (0.0, 0.0)
            route = Route(to=e.route_to, router_usd_per_conversation=cost,
                          router_error_rate=error)
        route = route.model_copy(update={"to": e.route_to})
        if e.router is not None:
            route = route.model_copy(update={"router_usd_per_conversation": e.router[0],
                                             "router_error_rate": e.router[1]})
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
        if t["id"] in edits.tier_consent:
            t["consent"] = list(edits.tier_consent[t["id"]])
        e = edits.tiers.get(t["id"])
        if e is None:
            continue
        if e.price_usd_month is not None:
            t["price_usd_month"] = e.price_usd_month
        old = next(x for x in s.tiers if x.id == t["id"]).plan
        new = _new_plan(old, e)
        t["plan"] = new.model_dump(mode="python", exclude_none=True)
        if _needs_teacher(s, new, e):
            t["teacher"] = e.teacher
    return Scenario.model_validate(data)


def _needs_teacher(s: Scenario, plan: Plan, e: TierEdit) -> bool:
    """Whether the tier must name its teacher: the edited plan names another one (or none)."""
    if e.teacher is None:
        return False
    probe = next(iter(s.tiers)).model_copy(update={"plan": plan, "teacher": None})
    return s.tier_teacher(probe) != e.teacher


def round_trip_yaml() -> YAML:
    """The ruamel round-trip loader/dumper every scenario edit uses (comments and layout kept)."""
    y = YAML()
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    y.preserve_quotes = True
    return y


def _flow_list(items: list[str], like: Any) -> CommentedSeq:
    seq = CommentedSeq(items)
    if like is None or (isinstance(like, CommentedSeq) and (like.fa.flow_style() or not like)):
        seq.fa.set_flow_style()  # an empty list was written [] (flow) whatever its style flag
    return seq


_EDITED = re.compile(r"# edited, was (?P<was>.*?): (?P<rest>.*)")


def _shown(value: Any) -> str:
    """A value as the comment names it: a number, an id, or a list as [a, b]."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(_number(value) if isinstance(value, float) else value)


def _put(node: CommentedMap, key: str, value: Any) -> None:
    """``node[key] = value``; the comment at the end of the line, if any, is retired (see the
    module's docstring) when the value changes."""
    old = node.get(key)
    node[key] = value
    entry = node.ca.items.get(key)
    token = entry[2] if entry and len(entry) > 2 else None
    if token is None or _shown(old) == _shown(value):
        return
    first, sep, after = token.value.partition("\n")
    seen = _EDITED.fullmatch(first.rstrip())
    if seen is not None:  # edited before: the comment still speaks of the first value
        was, rest = seen.group("was"), seen.group("rest")
        first = f"# {rest}" if was == _shown(value) else first
    else:
        first = f"# edited, was {_shown(old)}: {first.lstrip('#').strip()}"
    token.value = first + sep + after


def apply_to_yaml(text: str, scenario: Scenario, edits: Edits) -> str:
    """The scenario text with the edits written in; everything else is left as it was."""
    y = round_trip_yaml()
    data = y.load(text)
    if edits.consent is not None:
        old = data.get("consent")
        if isinstance(old, CommentedSeq) and list(old) == list(edits.consent):
            pass
        elif "consent" in data:
            _put(data, "consent", _flow_list(list(edits.consent), old))
        else:
            _insert_before(data, "consent", _flow_list(list(edits.consent), None),
                           ("fees", "tiers", "distillation"))
    shared = shared_nodes(data)
    for i, tier in enumerate(scenario.tiers):  # by position: YAML 1.2 reads an id like 1e3
        e = edits.tiers.get(tier.id)            # as a number, the schema as text
        consent = edits.tier_consent.get(tier.id)
        if e is None and consent is None:
            continue
        tier_data = own_subtree(data["tiers"], i, shared)  # an alias in it is broken first
        _write_tier_consent(tier_data, consent)
        if e is None:
            continue
        if e.price_usd_month is not None and tier_data["price_usd_month"] != e.price_usd_month:
            _put(tier_data, "price_usd_month", _number(e.price_usd_month))
        old = tier.plan
        new = _new_plan(old, e)
        _write_plan(tier_data["plan"], old, new)
        if _needs_teacher(scenario, new, e) and tier_data.get("teacher") != e.teacher:
            if "teacher" in tier_data:
                _put(tier_data, "teacher", e.teacher)
            else:
                keys = list(tier_data)
                tier_data.insert(keys.index("plan") + 1, "teacher", e.teacher)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def _write_tier_consent(node: CommentedMap, consent: tuple[str, ...] | None) -> None:
    if consent is None:
        return
    old = node.get("consent")
    if isinstance(old, CommentedSeq) and list(old) == list(consent):
        return
    seq = _flow_list(list(consent), old)
    if "consent" in node:
        _put(node, "consent", seq)
    else:
        keys = list(node)
        node.insert(keys.index("plan") + 1 if "plan" in keys else len(keys), "consent", seq)


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _write_plan(node: CommentedMap, old: Plan, new: Plan) -> None:
    if new.model != old.model:
        _put(node, "model", new.model)
    if new.route is None:
        node.pop("route", None)
        return
    if "route" not in node or node["route"] is None:
        node["route"] = CommentedMap()
    r = node["route"]
    _put(r, "to", new.route.to)
    caps = new.route.capabilities
    if old.route is None or caps != old.route.capabilities:
        _put(r, "capabilities", caps if caps == "unconsented" else _flow_list(
            list(caps), r.get("capabilities")))
    for key in ("router_usd_per_conversation", "router_error_rate"):
        value = getattr(new.route, key)
        if key in r or value:
            _put(r, key, value)


def _insert_before(data: CommentedMap, key: str, value: Any, before: tuple[str, ...]) -> None:
    keys = list(data)
    pos = next((keys.index(k) for k in before if k in keys), len(keys))
    data.insert(pos, key, value)


def edits_between(old: Scenario, new: Scenario) -> Edits:
    """The edits that turn ``old`` into ``new`` (consent, tier prices and plans)."""
    consent = tuple(new.consent) if list(new.consent) != list(old.consent) else None
    tiers = {}
    tier_consent = {b.id: tuple(b.consent) for a, b in zip(old.tiers, new.tiers, strict=True)
                    if b.consent is not None and a.consent != b.consent}
    for a, b in zip(old.tiers, new.tiers, strict=True):
        if a.model_copy(update={"consent": None}) == b.model_copy(update={"consent": None}):
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
            model=b.plan.model, route_to=route_to, routed=routed, teacher=b.teacher)
    return Edits(consent, tiers, tier_consent)
