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

__all__ = ["add_item", "from_template", "remove_item"]

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
    return _dump(data)
