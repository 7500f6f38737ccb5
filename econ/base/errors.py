"""Domain errors: one base class, and a scenario error that lists every problem at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EconError", "Problem", "ScenarioError", "format_path"]


class EconError(ValueError):
    """Base of every error econ raises on bad input."""


def format_path(loc: tuple[str | int, ...]) -> str:
    """('capabilities', 2, 'traffic_share') -> 'capabilities[2].traffic_share'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One problem in an input file: where it is, what is wrong, and the offending value."""

    path: tuple[str | int, ...]
    message: str
    line: int | None = None
    value: Any = None
    has_value: bool = False

    def render(self, file: str | None) -> str:
        where = f"{file}:{self.line}" if self.line is not None else (file or "<scenario>")
        text = f"{where}: {format_path(self.path)}: {self.message}"
        if self.has_value:
            text += f" (got {_short(self.value)})"
        return text


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ScenarioError(EconError):
    """A scenario (or other input file) with one or more problems."""

    def __init__(self, problems: list[Problem], file: str | None = None) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line or 0, format_path(p.path)))
        self.file = file
        super().__init__("\n".join(p.render(file) for p in self.problems))
