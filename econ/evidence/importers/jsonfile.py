"""Reading JSON and JSON Lines with errors that name the file and the position."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.base.fileio import read_text_limited

__all__ = ["json_list", "json_object", "json_text", "kind_of", "loads_json_or_lines",
           "read_json_or_lines", "read_text"]


def read_text(path: Path) -> str:
    """The file's text, within the input size limit; an EconError naming it otherwise."""
    try:
        return read_text_limited(path)
    except FileNotFoundError:
        raise EconError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise EconError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise EconError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_json_or_lines(path: Path) -> list[Any]:
    """One JSON document, or JSON Lines (one document per line): a list of documents.

    A file that is one JSON array stays one document (a list).
    """
    return loads_json_or_lines(path, read_text(path))


def loads_json_or_lines(path: Path, text: str) -> list[Any]:
    """:func:`read_json_or_lines` of text already read from ``path``."""
    if not text.strip():
        raise EconError(f"{path}: the file is empty")
    try:
        return _loads_lines(path, text)
    except RecursionError:
        raise EconError(f"{path}: JSON nested too deeply to be a result file") from None


def _loads_lines(path: Path, text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as whole:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) < 2:
            raise EconError(f"{path}:{whole.lineno}:{whole.colno}: invalid JSON: "
                            f"{whole.msg}") from None
        docs = []
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise EconError(f"{path}:{i}:{exc.colno}: invalid JSON: {exc.msg} (as JSON "
                                "Lines; as one document: line "
                                f"{whole.lineno} column {whole.colno}: {whole.msg})") from None
        return docs


def kind_of(value: Any) -> str:
    """A JSON value's kind in words, for a message that must not echo the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def json_object(value: Any, where: str, *, optional: bool = True) -> dict[str, Any]:
    """``value`` as a JSON object ({} for null or absent when ``optional``); an EconError
    naming ``where`` (file and field) otherwise."""
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise EconError(f"{where}: expected a JSON object (got {kind_of(value)})")
    return value


def json_list(value: Any, where: str, *, of_objects: bool = False) -> list[Any]:
    """``value`` as a JSON list ([] for null or absent), of objects when ``of_objects``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise EconError(f"{where}: expected a JSON list (got {kind_of(value)})")
    if of_objects:
        for i, item in enumerate(value):
            json_object(item, f"{where}[{i}]", optional=False)
    return value


def json_text(value: Any, where: str) -> str | None:
    """``value`` as text (None for null or absent); a number is taken as its text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise EconError(f"{where}: expected text (got {kind_of(value)})")
