"""Authoring a scenario's structure in its YAML text: a new scenario from a template, and adding
or removing a capability, a tier or a model, keeping every other line, comment and key order.

In: scenario text. Out: new scenario text, not yet validated: the caller parses it with the
same loader as ``econ validate`` (so a removal that leaves a dangling reference is reported
with file, line and field) and saves it through the conflict-safe store. Removing a capability
also drops it from every consent list, since a consent set can only name what exists.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from econ.base.errors import EconError
from econ.scenario.edits import round_trip_yaml
from econ.scenario.schema import Scenario, Tier

__all__ = ["add_item", "from_template", "removal_summary", "remove_item"]

# section -> how an item is named in it (capabilities and tiers are lists, models a mapping)
SECTIONS = {"capabilities": "list", "tiers": "list", "models": "map"}


def _load(text: str) -> Any:
    data = round_trip_yaml().load(text)
    if not isinstance(data, CommentedMap):
        raise EconError("the scenario is not a YAML mapping")
    return data


def _dump(data: Any) -> str:
    out = io.StringIO()
    round_trip_yaml().dump(data, out)
    return out.getvalue()


def from_template(text: str, name: str, description: str | None = None) -> str:
    """A new scenario: the template's text with its ``name`` (and ``description``) replaced."""
    data = _load(text)
    data["name"] = name
    if description is not None:
        data["description"] = description
    return _dump(data)


def _ids(data: Any, section: str) -> list[str]:
    node = data.get(section)
    if SECTIONS[section] == "map":
        return [str(k) for k in node] if isinstance(node, CommentedMap) else []
    return [str(x.get("id")) for x in node if isinstance(x, CommentedMap)] \
        if isinstance(node, CommentedSeq) else []


def add_item(text: str, section: str, item_id: str, fields: dict[str, Any]) -> str:
    """``text`` with a new capability or tier (``fields`` plus ``id``) appended to its list,
    or a new model (``fields``) under ``models.<item_id>``."""
    if section not in SECTIONS:
        raise EconError(f"cannot add to {section!r}: one of {', '.join(SECTIONS)}")
    if not item_id:
        raise EconError(f"{section}: give the new item an id")
    data = _load(text)
    if item_id in _ids(data, section):
        raise EconError(f"{section}: {item_id!r} exists already")
    if SECTIONS[section] == "map":
        node = data.setdefault(section, CommentedMap())
        node[item_id] = CommentedMap(fields)
    else:
        node = data.setdefault(section, CommentedSeq())
        node.append(CommentedMap({"id": item_id, **fields}))
    return _dump(data)


def _drop_from_consent(node: Any, capability: str) -> None:
    consent = node.get("consent") if isinstance(node, CommentedMap) else None
    if isinstance(consent, CommentedSeq) and capability in consent:
        consent.remove(capability)


def remove_item(text: str, section: str, item_id: str) -> str:
    """``text`` without the named capability, tier or model (a removed capability also leaves
    every consent list); references elsewhere are left for validation to report."""
    if section not in SECTIONS:
        raise EconError(f"cannot remove from {section!r}: one of {', '.join(SECTIONS)}")
    data = _load(text)
    if item_id not in _ids(data, section):
        raise EconError(f"{section}: no {item_id!r} to remove")
    node = data[section]
    if SECTIONS[section] == "map":
        del node[item_id]
    else:
        index = next(i for i, x in enumerate(node)
                     if isinstance(x, CommentedMap) and str(x.get("id")) == item_id)
        del node[index]
    if section == "capabilities":
        _drop_from_consent(data, item_id)
        for tier in data.get("tiers") or []:
            _drop_from_consent(tier, item_id)
    if section == "models":  # its eval results and reasoning figures name what no longer exists
        for cap in data.get("capabilities") or []:
            for key in ("evals", "reasoning_tokens_per_turn"):
                node = cap.get(key) if isinstance(cap, CommentedMap) else None
                if isinstance(node, CommentedMap) and item_id in node:
                    del node[item_id]
    return _dump(data)


def _share_of_conversations(s: Scenario, tiers: list[Tier]) -> float:
    total = sum(t.users * t.conversations_per_user_month for t in s.tiers)
    part = sum(t.users * t.conversations_per_user_month for t in tiers)
    return part / total if total > 0 else 0.0


def _names(items: list[str]) -> str:
    return ", ".join(items) if items else "nothing"


def removal_summary(s: Scenario, section: str, item_id: str) -> tuple[str, ...]:
    """What removing an item takes with it, in plain lines for a confirmation: the item, its
    traffic share, and the consent sets it leaves (as the scenario file states them)."""
    if section == "capabilities":
        c = next((x for x in s.capabilities if x.id == item_id), None)
        if c is None:
            raise EconError(f"capabilities: no {item_id!r} to remove")
        lines = [f"Capability {c.id}: {100 * c.traffic_share:.1f}% of the traffic, "
                 f"{c.severity_usd:g} USD per failed conversation"
                 + (", load-bearing" if c.load_bearing else "") + "."]
        holding = [t.id for t in s.tiers if c.id in s.tier_consent(t)]
        lines.append(f"It leaves the consent sets of {_names(holding)}"
                     + (" and the default consent set" if c.id in s.consent else "") + "."
                     if holding or c.id in s.consent else "It is in no consent set.")
        if c.evals:
            lines.append(f"Its eval results ({', '.join(c.evals)}) go with it.")
        return tuple(lines)
    if section == "tiers":
        t = next((x for x in s.tiers if x.id == item_id), None)
        if t is None:
            raise EconError(f"tiers: no {item_id!r} to remove")
        return (f"Tier {t.id}: {t.users:,.0f} users × {t.conversations_per_user_month:g} "
                f"conversations a month, {100 * _share_of_conversations(s, [t]):.1f}% of the "
                f"scenario's conversations, at {t.price_usd_month:,.2f} USD/month.",
                f"Its consent set goes with it: {_names(list(s.tier_consent(t)))}.")
    if section == "models":
        if item_id not in s.models:
            raise EconError(f"models: no {item_id!r} to remove")
        serving = [t for t in s.tiers if item_id in (
            t.plan.model, t.plan.route.to if t.plan.route else None)]
        lines = [f"Model {item_id} ({s.models[item_id].role}): serves "
                 + (", ".join(t.id for t in serving) if serving else "no tier")
                 + f", {100 * _share_of_conversations(s, serving):.1f}% of the scenario's "
                 "conversations."]
        lines += [f"Tier {t.id} would be left without it, with its consent set "
                  f"({_names(list(s.tier_consent(t)))})." for t in serving]
        naming = [f"tier {t.id}'s {what}" for t in s.tiers for what, m in (
            ("plan", t.plan.model), ("route", t.plan.route.to if t.plan.route else None),
            ("baseline", t.baseline.model if t.baseline else None),
            ("baseline route", t.baseline.route.to if t.baseline and t.baseline.route else None),
            ("teacher", t.teacher))
            if m == item_id] + (["the reference"] if s.reference == item_id else [])
        if naming:
            lines.append(f"The removal is refused while these name it: {', '.join(naming)}.")
        measured = [c.id for c in s.capabilities if item_id in c.evals]
        if measured:
            lines.append(f"Its eval results on {len(measured)} capabilities go with it.")
        return tuple(lines)
    raise EconError(f"cannot remove from {section!r}: one of {', '.join(SECTIONS)}")
