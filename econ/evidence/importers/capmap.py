r"""Capability maps: which product capability an eval example exercises.

A map is a mapping (YAML or JSON file, or a scenario's ``capability_map``)::

    task:                        # the eval's task name
      inspect_evals/arc_easy: analysis
    tag:                         # any of the example's tags
      clarify: clarifying_questions
    metadata:                    # a metadata field of the example, then its value
      type:
        Algebra: math
    default: other               # optional: capability of unmatched examples
    text:                        # traffic (econ traffic): keyword and regex rules on the
      code_help:                 # user text of a conversation, case-insensitive
        keywords: [python, function, "stack trace"]
        regex: ['\bdef \w+\(']   # one dialect on every engine: econ.evidence.traffic.rules

Rules are tried in that order; without a default an unmatched example keeps its task name.
A conversation goes to the capability with the most matching text rules (the first listed on a
tie); one that matches none is uncategorised.
A scenario file may carry its map under ``capability_map``; pass the scenario as the map.

A map holds at most :data:`MAX_TEXT_PATTERNS` text rules (keywords and regexes, all
capabilities together): each is one column of the engine's assignment query, and the query grows
faster than the rules (on HH-RLHF's 8,552 test conversations: 500 rules 7 s CPU and 0.5 GB,
2,000 rules 39 s and 1.7 GB, 12,000 past 2 GB and minutes). ``--suggest-map`` writes at most
12 clusters × 8 keywords. A larger map is refused naming the limit, before a log is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.evidence.traffic.rules import compile_keyword, compile_regex

__all__ = ["MAX_TEXT_PATTERNS", "CapabilityMap", "load_capability_map"]

MAX_TEXT_PATTERNS = 500


@dataclass(frozen=True)
class CapabilityMap:
    task: Mapping[str, str] = field(default_factory=dict)
    tag: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    default: str | None = None
    text: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def text_patterns(self) -> list[tuple[str, tuple[str, ...]]]:
        """(capability, regex patterns) in map order, compiled by
        :mod:`econ.evidence.traffic.rules` for lowered text: keywords as whole words, regexes
        rewritten into the dialect every engine reads the same way."""
        return list(self.text.items())

    def capability(self, task: str, tags: Sequence[str] = (),
                   metadata: Mapping[str, Any] | None = None) -> str:
        if task in self.task:
            return self.task[task]
        for t in tags:
            if t in self.tag:
                return self.tag[t]
        for key, values in self.metadata.items():
            v = (metadata or {}).get(key)
            if v is not None and str(v) in values:
                return values[str(v)]
        return self.default if self.default is not None else task

    @classmethod
    def from_data(cls, data: Any, where: str) -> CapabilityMap:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise EconError(f"{where}: a capability map is a mapping with keys task, tag, "
                            "metadata, default")
        unknown = set(data) - {"task", "tag", "metadata", "default", "text"}
        if unknown:
            raise EconError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                            "allowed: task, tag, metadata, default, text")

        def flat(x: Any, name: str) -> dict[str, str]:
            if x is None:
                return {}
            if not isinstance(x, dict):
                raise EconError(f"{where}: {name} maps names to capability ids")
            return {str(k): str(v) for k, v in x.items()}

        meta = data.get("metadata") or {}
        if not isinstance(meta, dict):
            raise EconError(f"{where}: metadata maps field names to value → capability maps")
        default = data.get("default")
        return cls(flat(data.get("task"), "task"), flat(data.get("tag"), "tag"),
                   {str(k): flat(v, f"metadata.{k}") for k, v in meta.items()},
                   None if default is None else str(default),
                   _text_rules(data.get("text"), where))


def _text_rules(data: Any, where: str) -> dict[str, tuple[str, ...]]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise EconError(f"{where}: text maps capability ids to {{keywords: [...], regex: [...]}}")
    rules: dict[str, tuple[str, ...]] = {}
    total = sum(len(r.get(k) or []) for r in data.values() if isinstance(r, dict)
                for k in ("keywords", "regex") if isinstance(r.get(k) or [], list))
    if total > MAX_TEXT_PATTERNS:
        raise EconError(f"{where}: text: {total:,} keywords and regexes over {len(data):,} "
                        f"capabilities; the limit is {MAX_TEXT_PATTERNS:,} (MAX_TEXT_PATTERNS): "
                        "keep the rules that tell capabilities apart")
    for cap, rule in data.items():
        at = f"{where}: text.{cap}"
        if not isinstance(rule, dict) or not set(rule) <= {"keywords", "regex"} or not rule:
            raise EconError(f"{at}: a text rule is a mapping with keywords and/or regex lists")
        patterns: list[str] = []
        for kind in ("keywords", "regex"):
            items = rule.get(kind) or []
            if not isinstance(items, list) or not all(isinstance(x, str) and x for x in items):
                raise EconError(f"{at}.{kind}: a list of non-empty strings")
            for item in items:
                try:
                    patterns.append(compile_keyword(item) if kind == "keywords"
                                    else compile_regex(item))
                except EconError as exc:
                    raise EconError(f"{at}.{kind}: {exc}") from None
        rules[str(cap)] = tuple(patterns)
    return rules


def load_capability_map(path: str | Path) -> CapabilityMap:
    from econ.base.errors import ScenarioError
    from econ.base.fileio import MAX_SCENARIO_BYTES, read_text_limited
    from econ.scenario.yamlio import parse_yaml

    p = Path(path)
    try:
        data, _ = parse_yaml(read_text_limited(p, MAX_SCENARIO_BYTES), str(p))
    except FileNotFoundError:
        raise EconError(f"{p}: capability map not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EconError(f"{p}: cannot read the capability map: {_reason(exc)}") from None
    except ScenarioError as exc:
        raise EconError(f"{exc}\n(in the capability map; it is YAML or JSON)") from None
    if isinstance(data, dict) and "models" in data and "capabilities" in data:
        data = data.get("capability_map") or {}  # a scenario file: its map (maybe none)
    return CapabilityMap.from_data(data, str(p))


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
