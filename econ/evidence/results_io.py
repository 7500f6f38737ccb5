"""The plain per-example results format, CSV or JSONL: read, validate, write.

One row per (model, example): ``model, example_id, capability, passed`` (0/1 or true/false),
optional ``score`` in [0, 1] and ``cluster`` (examples that share a source document, a prompt
template, a conversation or a sample drawn several times: their outcomes are correlated). An
aggregate row (from a tool that logged no samples) carries ``n``, the number of examples, with
``passed`` the number that passed; aggregate rows count towards pass rates but cannot be paired.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from econ.base.errors import Problem, ScenarioError
from econ.base.fileio import read_text_limited
from econ.evidence.retention import SliceResults
from econ.scenario.yamlio import bad_character

__all__ = [
    "REQUIRED_COLUMNS",
    "ResultRow",
    "bad_id",
    "read_results",
    "results_to_eval_data",
    "results_to_text",
]

REQUIRED_COLUMNS = ("model", "example_id", "capability", "passed")
OPTIONAL_COLUMNS = ("score", "n", "cluster")
_TRUE = {"1", "true", "True", "TRUE", "1.0"}
_FALSE = {"0", "false", "False", "FALSE", "0.0"}


@dataclass(frozen=True)
class ResultRow:
    model: str
    example_id: str
    capability: str
    passed: int
    score: float | None = None
    n: int | None = None  # set on aggregate rows only
    cluster: str | None = None  # examples sharing a cluster are correlated


def read_results(path: str | Path) -> list[ResultRow]:
    """Read a CSV or JSONL results file; every problem is reported with its line."""
    p = Path(path)
    try:
        text = read_text_limited(p)
    except FileNotFoundError:
        raise ScenarioError([Problem((), "results file not found")], str(p)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem((), f"results file is not UTF-8 text (byte {exc.start})")],
                            str(p)) from None
    except OSError as exc:
        raise ScenarioError([Problem((), "cannot read results file: "
                                     f"{exc.strerror or exc}")], str(p)) from None
    if p.suffix.lower() in (".jsonl", ".ndjson"):
        raw, problems = _jsonl_rows(text)
    else:
        raw, problems = _csv_rows(text)
    rows = _validate(raw, problems)
    if problems:
        raise ScenarioError(problems, str(p))
    return rows


def _csv_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [Problem((c,), f"missing column '{c}'; the header needs "
                              f"{', '.join(REQUIRED_COLUMNS)}", line=1) for c in missing]
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    start = reader.line_num + 1  # where the next row begins (a quoted field spans lines)
    try:
        for rec in reader:
            short = [c for c in REQUIRED_COLUMNS if rec.get(c) is None]
            if short:  # fewer fields than the header: a cut row, or a quote that never closes
                fields = sum(rec.get(k) is not None for k in header)
                problems.append(Problem(
                    (short[0],), f"the row has {fields} fields, the header {len(header)} (a "
                    "missing comma, or an unbalanced quote that runs on)", line=start))
                start = reader.line_num + 1
                continue
            start = reader.line_num + 1
            rows.append((reader.line_num, {k: v for k, v in rec.items()
                                           if v not in (None, "") and k is not None}))
    except csv.Error as exc:  # a field over the csv module's size limit, a NUL byte
        problems.append(Problem((), f"not readable as CSV: {exc}", line=start))
    return rows, problems


def _jsonl_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    rows, problems = [], []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem((), f"invalid JSON at column {exc.colno}: {exc.msg}", line=i))
            continue
        except RecursionError:
            problems.append(Problem((), "JSON nested too deeply", line=i))
            continue
        if not isinstance(rec, dict):
            problems.append(Problem((), "each line must be a JSON object", line=i))
            continue
        missing = [c for c in REQUIRED_COLUMNS if rec.get(c) is None]
        for c in missing:
            problems.append(Problem((c,), f"missing field '{c}'" if c not in rec
                                    else f"field '{c}' is null", line=i))
        if not missing:
            rows.append((i, {k: v for k, v in rec.items() if v is not None}))
    return rows, problems


def _validate(raw: list[tuple[int, dict[str, Any]]], problems: list[Problem]) -> list[ResultRow]:
    out = []
    seen: dict[tuple[str, str], int] = {}
    for line, rec in raw:
        model, ex, cap = str(rec["model"]), str(rec["example_id"]), str(rec["capability"])
        n = _int_or_none(rec.get("n"))
        if "n" in rec and (n is None or n < 0):
            problems.append(Problem(("n",), "n must be a whole number of examples", line=line,
                                    value=rec["n"], has_value=True))
            continue
        passed = _passed(rec["passed"], aggregate=n is not None)
        if passed is None or (n is not None and passed > n):
            fix = ("a count of passed examples, at most n" if n is not None
                   else "0/1 or true/false")
            problems.append(Problem(("passed",), f"passed must be {fix}", line=line,
                                    value=rec["passed"], has_value=True))
            continue
        score = None
        if "score" in rec:
            try:
                score = float(rec["score"])
            except (TypeError, ValueError):
                score = -1.0
            if not 0.0 <= score <= 1.0:
                problems.append(Problem(("score",), "score must be a number in [0, 1]", line=line,
                                        value=rec["score"], has_value=True))
                continue
        key = (model, ex)
        if key in seen:
            problems.append(Problem(("example_id",), f"duplicate (model, example_id); first on "
                                    f"line {seen[key]}: keep one row per model and example",
                                    line=line, value=f"{model}, {ex}", has_value=True))
            continue
        seen[key] = line
        cluster = str(rec["cluster"]) if "cluster" in rec else None
        row = ResultRow(model, ex, cap, passed, score, n, cluster)
        bad = bad_id(row)
        if bad is not None:
            problems.append(Problem((bad[0],), bad[1], line=line, value=getattr(row, bad[0]),
                                    has_value=True))
            continue
        out.append(row)
    return out


def bad_id(row: ResultRow) -> tuple[str, str] | None:
    """(field, what is wrong) for an id of ``row`` (model, example, capability, cluster) that
    holds a lone surrogate or a control character: it would break the CSV, XLSX or Markdown
    it is written to, or show a reader something else than it is. None when all are clean."""
    for name in ("model", "example_id", "capability", "cluster"):
        value = getattr(row, name)
        bad = bad_character(value) if value is not None else None
        if bad is not None:
            return name, bad
    return None


def _int_or_none(v: Any) -> int | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if f.is_integer() else None


def _passed(v: Any, aggregate: bool) -> int | None:
    if aggregate:
        n = _int_or_none(v)
        return n if n is not None and n >= 0 else None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float):
        return int(v) if v in (0, 1) else None
    s = str(v).strip()
    if s in _TRUE:
        return 1
    if s in _FALSE:
        return 0
    return None


def results_to_eval_data(rows: Iterable[ResultRow]) -> dict[str, dict[str, SliceResults]]:
    """Group rows by capability and model; aggregate rows add counts without outcomes. Scores
    and clusters of per-example rows go along (a slice uses them when every example has one)."""
    outcomes: dict[tuple[str, str], dict[str, bool]] = {}
    scores: dict[tuple[str, str], dict[str, float]] = {}
    clusters: dict[tuple[str, str], dict[str, str]] = {}
    extra: dict[tuple[str, str], tuple[int, int]] = {}
    for r in rows:
        key = (r.capability, r.model)
        if r.n is None:
            outcomes.setdefault(key, {})[r.example_id] = bool(r.passed)
            if r.score is not None:
                scores.setdefault(key, {})[r.example_id] = r.score
            if r.cluster is not None:
                clusters.setdefault(key, {})[r.example_id] = r.cluster
        else:
            n0, k0 = extra.get(key, (0, 0))
            extra[key] = (n0 + r.n, k0 + r.passed)
    out: dict[str, dict[str, SliceResults]] = {}
    for key in sorted(set(outcomes) | set(extra)):
        cap, model = key
        o = outcomes.get(key, {})
        n_extra, k_extra = extra.get(key, (0, 0))
        out.setdefault(cap, {})[model] = SliceResults(
            len(o) + n_extra, sum(o.values()) + k_extra, o or None, scores.get(key),
            clusters.get(key))
    return out


def results_to_text(rows: Sequence[ResultRow], fmt: str) -> str:
    """Serialise rows as ``csv`` or ``jsonl`` (optional columns only when some row has them)."""
    cols = list(REQUIRED_COLUMNS) + [c for c in OPTIONAL_COLUMNS
                                     if any(getattr(r, c) is not None for r in rows)]
    records = [{c: getattr(r, c) for c in cols} for r in rows]
    if fmt == "jsonl":
        return "".join(json.dumps(rec) + "\n" for rec in records)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for rec in records:
        w.writerow({k: "" if v is None else v for k, v in rec.items()})
    return buf.getvalue()
