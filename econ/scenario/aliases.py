"""YAML anchors and aliases in the round-trip writer: an edit reaches only the node it names.

In: a document loaded by ruamel (aliases are shared Python objects). Out: the same document
where the part about to be edited owns its nodes. With ``plan: &shared`` on one tier and
``plan: *shared`` on another, writing one tier's plan in place would change both; breaking the
alias first (a copy, written out in full for the edited tier) keeps the other tier as it was.
"""

from __future__ import annotations

import copy
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

__all__ = ["own_subtree", "shared_nodes"]

_Container = (CommentedMap, CommentedSeq)


def shared_nodes(root: Any) -> set[int]:
    """Ids of the mappings and lists reached by more than one path (an anchor with aliases)."""
    seen: dict[int, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, _Container):
            continue
        seen[id(node)] = seen.get(id(node), 0) + 1
        if seen[id(node)] > 1:
            continue  # its children were walked the first time
        stack.extend(node.values() if isinstance(node, CommentedMap) else node)
    return {k for k, n in seen.items() if n > 1}


def own_subtree(parent: Any, key: Any, shared: set[int]) -> Any:
    """``parent[key]``, with every shared node in it replaced by an unshared copy."""
    node = parent[key]
    if not isinstance(node, _Container):
        return node
    if id(node) in shared:
        node = copy.deepcopy(node)
        _drop_anchors(node)
        parent[key] = node
        return node  # a fresh copy shares nothing below it
    keys = list(node.keys()) if isinstance(node, CommentedMap) else range(len(node))
    for k in keys:
        own_subtree(node, k, shared)
    return node


def _drop_anchors(node: Any) -> None:
    if not isinstance(node, _Container):
        return
    anchor = getattr(node, "anchor", None)
    if anchor is not None and anchor.value is not None:
        anchor.value = None
    for child in node.values() if isinstance(node, CommentedMap) else node:
        _drop_anchors(child)
