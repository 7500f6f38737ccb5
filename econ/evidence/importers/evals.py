"""Eval logs → the plain per-example format (``model, example_id, capability, passed[, score]``).

Formats (detected from content):
- ``lmeval-samples``: lm-evaluation-harness ``samples_<task>_<time>.jsonl``; each doc appears
  once per filter: rows are deduplicated by (task, doc_id, filter) and one filter is kept;
- ``lmeval-results``: lm-evaluation-harness ``results_*.json`` alone (no samples logged):
  one aggregate row per task, ``n`` from ``n-samples``, passed = round(metric × n);
- ``inspect``: Inspect AI logs, ``.json`` and the ``.eval`` ZIP; letter scores C (correct) → 1,
  I (incorrect) and N (no answer) → 0, P (partial) → 0 with score 0.5; a cancelled log still
  yields its scored samples;
- ``promptfoo``: promptfoo exports; one model per provider; correctness comes from the grading
  components other than latency and cost assertions;
- ``plain``: the plain CSV/JSONL format itself.
An example passes when its metric is at least ``pass_threshold`` (default 0.5).

Clusters (correlated examples, judged with cluster-robust errors): an Inspect log with several
epochs clusters each sample's epochs by the sample id; a promptfoo test run under several prompts
clusters its rows by the test; ``cluster_key`` names a metadata field (Inspect sample metadata,
the lm-eval ``doc``, promptfoo vars or metadata) holding a document or template id instead.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from econ.base.errors import EconError, ScenarioError
from econ.evidence.importers.capmap import CapabilityMap
from econ.evidence.importers.detect import identify
from econ.evidence.importers.inspect_zip import inspect_zip_docs
from econ.evidence.importers.jsonfile import (
    json_list,
    json_object,
    json_text,
    kind_of,
    read_json_or_lines,
)
from econ.evidence.results_io import ResultRow, bad_id, read_results

__all__ = ["EVAL_FORMATS", "ImportOptions", "inspect_zip_docs", "read_evals"]

EVAL_FORMATS = ("lmeval-samples", "lmeval-results", "inspect", "promptfoo", "plain")
_LETTERS = {"C": (1, 1.0), "I": (0, 0.0), "N": (0, 0.0), "P": (0, 0.5)}
_NOT_CORRECTNESS = {"latency", "cost", "perplexity", "perplexity-score"}
MAX_EXAMPLES = 10**9  # an aggregate's sample count above this is no eval anyone ran
_SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+)_\d{4}-\d{2}-\d{2}T[\d\-.]+$")


@dataclass(frozen=True)
class ImportOptions:
    model: str | None = None
    capability_map: CapabilityMap = field(default_factory=CapabilityMap)
    task: str | None = None  # lm-eval samples: task name when the file name does not say
    filter: str | None = None  # lm-eval: which filter's rows to keep (default: "none" or first)
    metric: str | None = None  # lm-eval: which metric (default: the first listed)
    scorer: str | None = None  # inspect: which scorer (default: the first)
    pass_threshold: float = 0.5
    cluster_key: str | None = None  # a metadata field naming each example's cluster


def _passed(value: Any, threshold: float) -> tuple[int, float | None] | None:
    if isinstance(value, str):
        if value in _LETTERS:
            p, s = _LETTERS[value]
            return p, s
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool):
        return int(value), float(value)
    if isinstance(value, int | float):
        score = float(value)
        if not math.isfinite(score):
            return None  # NaN or Infinity is no verdict: the caller refuses it
        return int(score >= threshold), (score if 0.0 <= score <= 1.0 else None)
    return None


def _flat_meta(d: Any) -> dict[str, Any]:
    if not isinstance(d, dict):
        return {}
    return {str(k): v for k, v in d.items() if isinstance(v, str | int | float | bool)}


# ---- lm-evaluation-harness ---------------------------------------------------------------------

def _lmeval_samples(docs: list[Any], path: Path, o: ImportOptions) -> list[ResultRow]:
    if o.model is None:
        raise EconError(f"{path}: lm-eval samples do not name the model; give --model")
    match = _SAMPLES_NAME.match(path.stem)
    task = o.task or (match.group("task") if match else path.stem)
    by_filter: dict[str, dict[Any, dict[str, Any]]] = {}
    for doc in docs:
        if not isinstance(doc, dict) or "doc_id" not in doc:
            continue
        if isinstance(doc["doc_id"], bool) or not isinstance(doc["doc_id"], int | str):
            raise EconError(f"{path}: doc_id must be a number or text (got "
                            f"{json.dumps(doc['doc_id'])[:40]})")
        by_filter.setdefault(str(doc.get("filter", "none")), {}).setdefault(doc["doc_id"], doc)
    if not by_filter:
        raise EconError(f"{path}: no samples")
    filt = o.filter or ("none" if "none" in by_filter else next(iter(by_filter)))
    if filt not in by_filter:
        raise EconError(f"{path}: no rows with filter {filt!r}; the file has "
                        f"{', '.join(by_filter)}")
    rows = []
    for doc_id, doc in by_filter[filt].items():
        metrics = json_list(doc.get("metrics"), f"{path}: doc {doc_id}: metrics") or [
            k for k in doc if k in ("acc", "exact_match")]
        if not all(isinstance(m, str) for m in metrics):
            raise EconError(f"{path}: doc {doc_id}: metrics: expected a list of metric names")
        metric = o.metric or (metrics[0] if metrics else None)
        if metric is None or metric not in doc:
            raise EconError(f"{path}: doc {doc_id} has no metric {metric!r}; use --metric")
        verdict = _passed(doc[metric], o.pass_threshold)
        if verdict is None:
            raise EconError(f"{path}: doc {doc_id}: {metric} is not a number "
                            f"(got {doc[metric]!r})")
        meta = _flat_meta(doc.get("doc"))
        rows.append(ResultRow(o.model, f"{task}:{doc_id}",
                              o.capability_map.capability(task, (), meta), verdict[0],
                              verdict[1], cluster=_cluster(meta, o, None, task)))
    return rows


def _cluster(meta: dict[str, Any], o: ImportOptions, default: str | None,
             task: str) -> str | None:
    """The example's cluster: the ``cluster_key`` field of its metadata when asked for (and
    present), else ``default``; prefixed with the task so clusters of two tasks never merge."""
    if o.cluster_key is not None and o.cluster_key in meta:
        return f"{task}:{o.cluster_key}={meta[o.cluster_key]}"
    return default


def _lmeval_model(doc: dict[str, Any], path: Path) -> str | None:
    cfg = json_object(doc.get("config"), f"{path}: config")
    args = json_text(cfg.get("model_args"), f"{path}: config.model_args") or ""
    m = re.search(r"(?:pretrained|model)=([^,]+)", args)
    return m.group(1) if m else (json_text(doc.get("model_name"), f"{path}: model_name")
                                 or json_text(cfg.get("model"), f"{path}: config.model"))


def _lmeval_results(doc: dict[str, Any], path: Path, o: ImportOptions) -> list[ResultRow]:
    model = o.model or _lmeval_model(doc, path)
    if model is None:
        raise EconError(f"{path}: the results do not name the model; give --model")
    counts = json_object(doc.get("n-samples"), f"{path}: n-samples")
    rows = []
    for task, res in (doc.get("results") or {}).items():
        if not isinstance(res, dict):
            continue
        values = {k: v for k, v in res.items() if "," in k and "_stderr" not in k}
        if o.metric:
            values = {k: v for k, v in values.items() if k.split(",")[0] == o.metric}
        if o.filter:
            values = {k: v for k, v in values.items() if k.split(",", 1)[1] == o.filter}
        numeric = [(k, float(v)) for k, v in values.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)]
        bad = [(k, v) for k, v in numeric if not 0.0 <= v <= 1.0]  # NaN fails this too
        if bad:
            raise EconError(f"{path}: results.{task}.{bad[0][0]}: a pass rate is a number in "
                            f"[0, 1] (got {bad[0][1]})")
        n = _sample_count(counts.get(task), f"{path}: n-samples.{task}")
        if not numeric or n is None or n == 0:
            continue  # a group row, or a task without a sample count
        _, rate = numeric[0]
        rows.append(ResultRow(model, f"{task}:aggregate",
                              o.capability_map.capability(task), round(rate * n), None, n))
    if not rows:
        raise EconError(f"{path}: no task with both a metric and n-samples")
    return rows


def _sample_count(info: Any, where: str) -> int | None:
    """A task's ``n-samples`` entry: its effective (else original) count of examples, a whole
    number from 0 to :data:`MAX_EXAMPLES`; None when the entry gives none."""
    if not isinstance(info, dict):
        return None
    key = "effective" if "effective" in info else "original"
    n = info.get(key)
    if n is None or isinstance(n, str):
        return None
    if isinstance(n, bool) or not isinstance(n, int | float) or not (
            0 <= n <= MAX_EXAMPLES and float(n).is_integer()):
        got = kind_of(n) if not isinstance(n, int | float) else \
            str(n) if len(str(n)) <= 30 else f"a number of {len(str(n))} digits"
        raise EconError(f"{where}.{key}: a count of examples is a whole number from 0 to "
                        f"{MAX_EXAMPLES:,} (got {got})")
    return int(n)


# ---- Inspect AI ------------------------------------------------------------------------------

def _inspect_samples(header: dict[str, Any], samples: Any, path: Path,
                     o: ImportOptions) -> list[ResultRow]:
    ev = json_object(header.get("eval"), f"{path}: eval")
    model = o.model or json_text(ev.get("model"), f"{path}: eval.model")
    task = str(ev.get("task") or path.stem)
    if model is None:
        raise EconError(f"{path}: the log does not name the model; give --model")
    samples = json_list(samples, f"{path}: samples", of_objects=True)
    epochs = {_epoch(s, f"{path}: samples[{i}].epoch") for i, s in enumerate(samples)}
    rows = []
    for i, s in enumerate(samples):
        scores = json_object(s.get("scores"), f"{path}: samples[{i}].scores")
        if not scores:
            continue  # not scored (a cancelled run's unfinished sample)
        name = o.scorer or next(iter(scores))
        if name not in scores:
            raise EconError(f"{path}: sample {s.get('id')} has no scorer {name!r}; it has "
                            f"{', '.join(scores)}")
        value = scores[name].get("value") if isinstance(scores[name], dict) else scores[name]
        verdict = _passed(value, o.pass_threshold)
        if verdict is None:
            if isinstance(value, float) and not math.isfinite(value):
                raise EconError(f"{path}: sample {s.get('id')}: score {name} is {value}; give "
                                "a finite number")
            continue  # a dict-valued or missing score is not a pass/fail
        sid = str(s.get("id"))
        # several epochs of one sample are correlated draws: one cluster, the sample
        cluster = f"{task}:{sid}" if len(epochs) > 1 else None
        if len(epochs) > 1:
            sid = f"{sid}@{s.get('epoch', 1)}"
        meta = _flat_meta(s.get("metadata"))
        tags = [str(t) for t in meta.get("tags", [])] if isinstance(meta.get("tags"), list) else []
        rows.append(ResultRow(str(model), f"{task}:{sid}",
                              o.capability_map.capability(task, tags, meta), verdict[0],
                              verdict[1], cluster=_cluster(meta, o, cluster, task)))
    return rows


def _epoch(sample: dict[str, Any], where: str) -> int:
    epoch = sample.get("epoch", 1)
    if isinstance(epoch, bool) or not isinstance(epoch, int):
        raise EconError(f"{where}: an epoch is a whole number")
    return epoch


def _inspect_zip(path: Path, o: ImportOptions) -> list[ResultRow]:
    header, samples = inspect_zip_docs(path)
    return _inspect_samples(header, samples, path, o)


# ---- promptfoo -------------------------------------------------------------------------------

def _promptfoo(doc: dict[str, Any], path: Path, o: ImportOptions) -> list[ResultRow]:
    results = json_list(doc["results"]["results"], f"{path}: results", of_objects=True)
    task = str(json_object(doc.get("config"), f"{path}: config").get("description")
               or "promptfoo")
    for i, r in enumerate(results):
        json_object(r.get("provider"), f"{path}: results[{i}].provider")
    several = _prompts(results) > 1  # one test under several prompts: its rows are a cluster
    rows: list[ResultRow] = []
    for r in results:
        where = f"{path}: results[{len(rows)}]"
        provider = r.get("provider") or {}
        model = o.model or json_text(provider.get("label"), f"{where}.provider.label") or \
            json_text(provider.get("id"), f"{where}.provider.id")
        test = json_object(r.get("testCase"), f"{where}.testCase")
        grading = json_object(r.get("gradingResult"), f"{where}.gradingResult")
        components = json_list(grading.get("componentResults"),
                               f"{where}.gradingResult.componentResults", of_objects=True)
        parts = [c for c in components
                 if json_object(c.get("assertion"), f"{where}.gradingResult.componentResults"
                                ".assertion").get("type") not in _NOT_CORRECTNESS]
        if parts:
            passed = int(all(bool(c.get("pass")) for c in parts))
            score: float | None = sum(_score(c.get("score", c.get("pass", 0)), where) or 0.0
                                      for c in parts) / len(parts)
        elif grading:
            passed, score = int(bool(grading.get("pass"))), _score(grading.get("score"), where)
        else:
            passed, score = int(bool(r.get("success"))), _score(r.get("score"), where)
        meta = {**_flat_meta(test.get("vars")), **_flat_meta(test.get("metadata"))}
        tags = json_list(json_object(test.get("metadata"), f"{where}.testCase.metadata")
                         .get("tags"), f"{where}.testCase.metadata.tags")
        example = test.get("description") or f"test{r.get('testIdx')}"
        if score is not None and not 0.0 <= score <= 1.0:
            score = None
        rows.append(ResultRow(str(model), f"{example}#p{r.get('promptIdx', 0)}"
                              if several else str(example),
                              o.capability_map.capability(task, [str(t) for t in tags], meta),
                              passed, None if score is None else float(score),
                              cluster=_cluster(meta, o, f"{task}:{example}" if several else None,
                                               task)))
    return rows


def _score(value: Any, where: str) -> float | None:
    """A promptfoo score as a finite number (None when absent); anything else is refused."""
    if value is None:
        return None
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise EconError(f"{where}: score is not a number (got {json.dumps(value)[:40]})") from None
    if not math.isfinite(score):
        raise EconError(f"{where}: score is {score}; give a finite number")
    return score


def _prompts(results: list[dict[str, Any]]) -> int:
    """Distinct prompts per provider (several prompts make several examples per test)."""
    seen: dict[str, set[Any]] = {}
    for r in results:
        seen.setdefault(str((r.get("provider") or {}).get("id")), set()).add(r.get("promptIdx"))
    return max((len(v) for v in seen.values()), default=1)


# ---- dispatch --------------------------------------------------------------------------------

def read_evals(path: str | Path, options: ImportOptions | None = None,
               fmt: str | None = None) -> list[ResultRow]:
    """Per-example rows of one eval output file. A file whose structure the readers do not
    expect (a field of the wrong type they did not check by name) is an EconError naming it,
    never an internal error: these files come from other tools."""
    p = Path(path)
    try:
        rows = _read_evals(p, options, fmt)
    except (AttributeError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise EconError(f"{p}: not a well-formed eval log: a field has an unexpected type or "
                        f"is missing ({type(exc).__name__}: {str(exc)[:80]})") from None
    for row in rows:
        bad = bad_id(row)
        if bad is not None:
            value = ascii(getattr(row, bad[0]))
            raise EconError(f"{p}: {bad[0]} {value[:60]}: {bad[1]}")
    return rows


def _read_evals(p: Path, options: ImportOptions | None, fmt: str | None) -> list[ResultRow]:
    o = options or ImportOptions()
    if fmt is not None and fmt not in EVAL_FORMATS:
        raise EconError(f"{p}: unknown eval format {fmt!r}; supported: {', '.join(EVAL_FORMATS)}")
    if p.suffix == ".eval":
        if fmt not in (None, "inspect"):
            raise EconError(f"{p}: not a {fmt} file: it looks like an Inspect .eval log")
        return _inspect_zip(p, o)
    if p.suffix.lower() == ".csv":
        if fmt not in (None, "plain"):
            raise EconError(f"{p}: not a {fmt} file: it looks like plain CSV results")
        return _plain(p, o)
    docs = read_json_or_lines(p)
    kinds = {identify(d) for d in docs}
    kind = kinds.pop() if len(kinds) == 1 else None
    if fmt is not None and kind != fmt:
        seen = f"it looks like {kind}" if kind else "its content matches no known format"
        raise EconError(f"{p}: not a {fmt} file: {seen}")
    if kind == "lmeval-samples":
        return _lmeval_samples(docs, p, o)
    if kind == "lmeval-results":
        return _lmeval_results(docs[0], p, o)
    if kind == "inspect":
        return _inspect_samples(docs[0], docs[0].get("samples"), p, o)
    if kind == "promptfoo":
        return _promptfoo(docs[0], p, o)
    if kind == "plain":
        return _plain(p, o)
    hint = f"it looks like a {kind} serving benchmark (use econ import bench)" if kind else \
        "its content matches none"
    raise EconError(f"{p}: not an eval log; {hint}; supported: {', '.join(EVAL_FORMATS)}")


def _plain(p: Path, o: ImportOptions) -> list[ResultRow]:
    try:
        rows = read_results(p)
    except ScenarioError as exc:
        raise EconError(str(exc)) from None
    if o.model is None:
        return rows
    return [ResultRow(o.model, r.example_id, r.capability, r.passed, r.score, r.n, r.cluster)
            for r in rows]
