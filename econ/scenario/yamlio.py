"""Safe YAML reading that keeps the line of every key and item.

Only plain YAML types are built (mappings, sequences, strings, numbers, booleans, null); any other
tag, such as ``!!python/object``, is reported as a problem and never constructed. Hostile shapes
are refused with their line before they cost memory: nesting deeper than ``MAX_DEPTH`` (found in
the event stream, without recursion), and aliases that would expand to more than
``MAX_ALIAS_NODES`` nodes (the "billion laughs" bomb).

Text is checked at the door too: a string that looks like a credential (a key, a token, a
password in a URL: :func:`econ.base.secrets.looks_secret`) is refused without being echoed, and
so is a lone surrogate or a control character (a tab or line break is allowed in a value,
never in a key: keys are ids).
"""

from __future__ import annotations

from typing import Any

import yaml

from econ.base.errors import Problem, ScenarioError
from econ.base.secrets import redactor

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "MAX_INTEGER", "SECRET_MESSAGE", "Lines",
           "bad_character", "parse_yaml"]

MAX_DEPTH = 64  # mappings and lists nested in each other
MAX_ALIAS_NODES = 100_000  # nodes built again because an alias points at them
MAX_INTEGER = 10**15  # an integer in a scenario (a count, a price) at most this in magnitude

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

Lines = dict[tuple[str | int, ...], int]

_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
SECRET_MESSAGE = ("looks like a credential (an API key, a token, or a password in a URL); a "
                  "scenario never holds one: keep it in the environment and name the variable "
                  "in endpoint.api_key_env (the value is not shown)")
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def parse_yaml(text: str, file: str | None = None) -> tuple[Any, Lines]:
    """Parse YAML text into plain Python data and a map from path to 1-based line number."""
    try:
        _check_depth(text, file)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = f"YAML syntax error: {exc.problem or exc.context}"
        ctx = exc.context_mark
        if exc.context and ctx is not None and exc.problem and ctx.line + 1 != line:
            msg += f" ({exc.context} started on line {ctx.line + 1})"
        raise ScenarioError([Problem((), msg, line=line)], file) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem((), f"YAML error: {exc}")], file) from None
    if root is None:
        raise ScenarioError([Problem((), "the file is empty", line=1)], file)
    lines: Lines = {}
    problems: list[Problem] = []
    try:
        data = _build(root, (), lines, problems, _Budget(redactor()))
    except _TooManyAliasNodes as exc:
        raise ScenarioError([Problem((), f"aliases expand to more than {MAX_ALIAS_NODES:,} "
                                     "nodes; write the values out or use fewer aliases",
                                     line=exc.line)], file) from None
    if problems:
        raise ScenarioError(problems, file)
    return data, lines


def _check_depth(text: str, file: str | None) -> None:
    """Refuse nesting deeper than MAX_DEPTH, with its line, walking events (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise ScenarioError([Problem((), f"nested more than {MAX_DEPTH} levels deep",
                                             line=mark.line + 1 if mark else None)], file)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _TooManyAliasNodes(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _Budget:
    """Counts nodes built more than once (reached through an alias)."""

    def __init__(self, redact: Any) -> None:
        self.seen: set[int] = set()
        self.again = 0
        self.redact = redact  # the door's check for credentials, with the environment read once

    def enter(self, node: yaml.Node) -> bool:
        """Count the node; whether it is built for the first time."""
        if id(node) in self.seen:
            self.again += 1
            if self.again > MAX_ALIAS_NODES:
                raise _TooManyAliasNodes(node.start_mark.line + 1)
            return False
        self.seen.add(id(node))
        return True


_REFUSED = object()  # a key refused for its characters (the problem is reported already)


def _build(node: yaml.Node, path: tuple[str | int, ...], lines: Lines,
           problems: list[Problem], budget: _Budget, in_key: bool = False) -> Any:
    first = budget.enter(node)
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        if node.tag != _MAP:
            problems.append(_bad_tag(node, path))
            return None
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(path, "merge keys (<<) are not supported",
                                        line=key_node.start_mark.line + 1))
                continue
            key = _build(key_node, path, {}, problems, budget, in_key=True)
            if key is _REFUSED:
                continue
            if not isinstance(key, str | int | float | bool) or key is None:
                problems.append(Problem(path, "mapping keys must be plain scalars",
                                        line=key_node.start_mark.line + 1))
                continue
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                problems.append(Problem(child, "duplicate key", line=key_node.start_mark.line + 1))
                continue
            out[key] = _build(value_node, child, lines, problems, budget)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _SEQ:
            problems.append(_bad_tag(node, path))
            return None
        return [_build(item, (*path, i), lines, problems, budget)
                for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    if node.tag == "tag:yaml.org,2002:timestamp":
        return str(node.value)  # dates stay text: a scenario records them, never computes on them
    if node.tag not in _SAFE_SCALAR_TAGS:
        problems.append(_bad_tag(node, path))
        return None
    try:
        value = _CONSTRUCTOR.construct_object(node)
    except ValueError:  # an integer of more than 4,300 digits
        problems.append(Problem(path, "number too long", line=node.start_mark.line + 1,
                                value=f"{len(node.value):,} characters", has_value=True))
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        # no count or price is this large; as a float it would overflow or lose its digits
        problems.append(Problem(path, f"number too large (at most {MAX_INTEGER:,})",
                                line=node.start_mark.line + 1,
                                value=f"{len(str(abs(value))):,} digits", has_value=True))
        return None
    if isinstance(value, str) and (first or in_key):  # an alias's text was checked once
        bad = _text_problem(value, budget, in_key)
        if bad:
            problems.append(Problem(path, f"a key {bad}" if in_key else bad,
                                    line=node.start_mark.line + 1))
            return _REFUSED if in_key else None
    return value


def bad_character(text: str, in_key: bool = True) -> str | None:
    """What is wrong with a string's characters: a lone surrogate (it cannot be written as
    UTF-8) or a control character (a tab or line break is allowed in a value, not in an id;
    a bidirectional override or isolate, which reorders what a reader sees, is refused in an
    id); None when it is clean."""
    for ch in text:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return f"holds a lone surrogate (U+{code:04X}), which is not text"
        if (code < 32 and (in_key or ch not in "\t\n\r")) or 0x7F <= code <= 0x9F \
                or code in (0x2028, 0x2029) or (in_key and code in _BIDI):
            return f"holds a control character (U+{code:04X})"
    return None


# bidirectional marks, embeddings, overrides and isolates ("Trojan Source", CVE-2021-42574)
_BIDI = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _text_problem(text: str, budget: _Budget, in_key: bool) -> str | None:
    bad = bad_character(text, in_key)
    if bad:
        return bad
    return SECRET_MESSAGE if budget.redact(text) != text else None


def _bad_tag(node: yaml.Node, path: tuple[str | int, ...]) -> Problem:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    return Problem(path, "tags are not allowed in scenario files", line=node.start_mark.line + 1,
                   value=tag, has_value=True)


class _ScalarConstructor(yaml.SafeLoader):
    def __init__(self) -> None:
        yaml.constructor.SafeConstructor.__init__(self)


_CONSTRUCTOR = _ScalarConstructor()
