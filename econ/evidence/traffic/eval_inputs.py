"""The inputs of eval examples (what the model was asked), read from any eval format econ imports.

Coverage holds traffic against these texts. Formats are told apart by content, as in
:mod:`econ.evidence.importers.detect`:
- ``lmeval-samples``: the doc's question field (the first of ``TEXT_FIELDS`` it has), else the
  prompt the harness sent (``arguments``, first argument); one input per ``doc_id``;
- ``inspect``: the sample's ``input`` (a string, or the user messages of a chat input); ``.json``
  logs and the ``.eval`` ZIP; one input per sample id (epochs repeat the same input);
- ``promptfoo``: each test's rendered prompt, once (not once per provider);
- ``plain``: CSV or JSON Lines with a text column (the first of ``TEXT_FIELDS`` in the header),
  ``example_id`` when present, else the line number;
- FastChat question files (MT-Bench, Vicuna-bench ``question.jsonl``: ``question_id`` and a
  ``turns`` list of user messages): the turns joined by a line break, as a conversation's user
  messages are joined for coverage; one input per ``question_id``.
``lmeval-results`` alone carries no inputs and is refused with a hint to pass the samples file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.evidence.importers.detect import identify
from econ.evidence.importers.evals import inspect_zip_docs
from econ.evidence.importers.jsonfile import read_json_or_lines, read_text

__all__ = ["TEXT_FIELDS", "EvalInput", "read_eval_inputs"]

TEXT_FIELDS = ("input", "text", "prompt", "question", "problem", "query", "instruction")
_LMEVAL_FIELDS = ("problem", "question", "query", "input", "prompt", "text", "instruction",
                  "sentence", "goal", "ctx")


@dataclass(frozen=True)
class EvalInput:
    example_id: str
    text: str


def read_eval_inputs(path: str | Path) -> list[EvalInput]:
    """The input texts of the examples in one eval file (any format econ imports)."""
    p = Path(path)
    if p.suffix == ".eval":
        header, samples = inspect_zip_docs(p)
        return _inspect(header, samples, p)
    if p.suffix.lower() == ".csv":
        return _plain_csv(p)
    docs = read_json_or_lines(p)
    kinds = {identify(d) for d in docs}
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind == "lmeval-samples":
        return _lmeval(docs, p)
    if kind == "inspect":
        return _inspect(docs[0], docs[0].get("samples") or [], p)
    if kind == "promptfoo":
        return _promptfoo(docs[0])
    if kind == "lmeval-results":
        raise EconError(f"{p}: an lm-eval results file holds no example inputs; pass its "
                        "samples_*.jsonl (lm_eval --log_samples)")
    if kind not in (None, "plain"):
        raise EconError(f"{p}: a {kind} serving benchmark, not an eval log")
    return _plain_records(docs, p)


def _text(value: Any) -> str | None:
    """A chat input as text: a string, or the user messages (text parts) of a message list."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for m in value:
            if not isinstance(m, dict) or m.get("role", "user") != "user":
                continue
            content = m.get("content")
            if isinstance(content, list):
                content = " ".join(str(c.get("text", "")) for c in content
                                   if isinstance(c, dict) and c.get("type", "text") == "text")
            if isinstance(content, str):
                parts.append(content)
        return "\n".join(parts) if parts else None
    return None


def _lmeval_prompt(args: Any) -> str | None:
    if isinstance(args, dict) and args:  # {"gen_args_0": {"arg_0": context, ...}}
        first = next(iter(args.values()))
        return first.get("arg_0") if isinstance(first, dict) else None
    if isinstance(args, list) and args and isinstance(args[0], list) and args[0]:
        return str(args[0][0])  # older harness: [[context, continuation], ...]
    return None


def _lmeval(docs: list[Any], p: Path) -> list[EvalInput]:
    seen: dict[str, EvalInput] = {}
    for i, doc in enumerate(docs, start=1):
        if not isinstance(doc, dict) or "doc_id" not in doc:
            continue
        key = str(doc["doc_id"])
        if key in seen:
            continue  # the same doc once per filter
        inner: dict[str, Any] = doc["doc"] if isinstance(doc.get("doc"), dict) else {}
        text = next((inner[f] for f in _LMEVAL_FIELDS if isinstance(inner.get(f), str)), None)
        text = text or _lmeval_prompt(doc.get("arguments"))
        if not text:
            raise EconError(f"{p}:{i}: doc {key} has no input text (none of "
                            f"{', '.join(_LMEVAL_FIELDS)} in doc, no arguments)")
        seen[key] = EvalInput(key, text)
    if not seen:
        raise EconError(f"{p}: no samples")
    return list(seen.values())


def _inspect(header: dict[str, Any], samples: list[Any], p: Path) -> list[EvalInput]:
    seen: dict[str, EvalInput] = {}
    for s in samples:
        if not isinstance(s, dict):
            continue
        sid = str(s.get("id"))
        text = _text(s.get("input"))
        if sid in seen or text is None:
            continue
        seen[sid] = EvalInput(sid, text)
    if not seen:
        task = (header.get("eval") or {}).get("task", p.stem)
        raise EconError(f"{p}: Inspect log of {task} has no sample with an input")
    return list(seen.values())


def _promptfoo(doc: dict[str, Any]) -> list[EvalInput]:
    """One input per (test, rendered prompt): each provider repeats it under its own promptIdx."""
    seen: dict[tuple[Any, str], EvalInput] = {}
    for r in doc["results"]["results"]:
        if not isinstance(r, dict):
            continue
        prompt = r.get("prompt")
        text = prompt.get("raw") if isinstance(prompt, dict) else None
        if not isinstance(text, str):
            test_vars = (r.get("testCase") or {}).get("vars") or r.get("vars") or {}
            text = "\n".join(str(v) for v in test_vars.values() if isinstance(v, str)) or None
        key = (r.get("testIdx"), text or "")
        if key in seen or text is None:
            continue
        desc = (r.get("testCase") or {}).get("description") or f"test{key[0]}"
        n = sum(1 for k in seen if k[0] == key[0])
        seen[key] = EvalInput(f"{desc}#{n}" if n else str(desc), text)
    return list(seen.values())


def _field(keys: list[str], where: str) -> str:
    field = next((f for f in TEXT_FIELDS if f in keys), None)
    if field is None:
        raise EconError(f"{where}: no text column; eval inputs need one of "
                        f"{', '.join(TEXT_FIELDS)} (or FastChat's turns)")
    return field


def _turns(rec: dict[str, Any], where: str) -> str | None:
    """A FastChat question's user turns, joined; None when the record has no ``turns``."""
    turns = rec.get("turns")
    if turns is None or any(f in rec for f in TEXT_FIELDS):
        return None
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        raise EconError(f"{where}: turns: a list of the question's user messages (strings)")
    return "\n".join(turns)


def _plain_records(docs: list[Any], p: Path) -> list[EvalInput]:
    out = []
    for i, rec in enumerate(docs, start=1):
        where = f"{p}:{i}"
        if not isinstance(rec, dict):
            raise EconError(f"{where}: each line must be a JSON object with a text field")
        joined = _turns(rec, where)
        if joined is not None:
            out.append(EvalInput(str(rec.get("question_id", rec.get("example_id", i))),
                                 joined))
            continue
        text = rec.get(_field(list(rec), where))
        if not isinstance(text, str):
            raise EconError(f"{where}: the text field is not text (got {type(text).__name__})")
        out.append(EvalInput(str(rec.get("example_id", i)), text))
    return out


def _plain_csv(p: Path) -> list[EvalInput]:
    text = read_text(p)
    reader = csv.DictReader(io.StringIO(text))
    field = _field(list(reader.fieldnames or []), f"{p}:1")
    out = []
    try:
        for rec in reader:
            value = rec.get(field)
            if value is None:
                raise EconError(f"{p}:{reader.line_num}: {field}: missing")
            out.append(EvalInput(str(rec.get("example_id") or reader.line_num), value))
    except csv.Error as exc:  # a field over the csv module's size limit, a NUL byte
        raise EconError(f"{p}:{reader.line_num + 1}: not readable as CSV: {exc}") from None
    return out
