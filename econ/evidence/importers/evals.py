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

import io
import json
import math
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from econ.base.errors import EconError, ScenarioError
from econ.base.fileio import read_limited
from econ.evidence.importers.capmap import CapabilityMap
from econ.evidence.importers.detect import identify
from econ.evidence.importers.jsonfile import read_json_or_lines
from econ.evidence.results_io import ResultRow, read_results

__all__ = ["EVAL_FORMATS", "ImportOptions", "inspect_zip_docs", "read_evals"]

EVAL_FORMATS = ("lmeval-samples", "lmeval-results", "inspect", "promptfoo", "plain")
_LETTERS = {"C": (1, 1.0), "I": (0, 0.0), "N": (0, 0.0), "P": (0, 0.5)}
_NOT_CORRECTNESS = {"latency", "cost", "perplexity", "perplexity-score"}
MAX_UNZIPPED_MEMBER_BYTES = 64 * 2**20  # one member of an Inspect .eval ZIP, unpacked
MAX_UNZIPPED_BYTES = 256 * 2**20  # all members together
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
        metrics = doc.get("metrics") or [k for k in doc if k in ("acc", "exact_match")]
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


def _lmeval_model(doc: dict[str, Any]) -> str | None:
    cfg = doc.get("config") or {}
    args = str(cfg.get("model_args") or "")
    m = re.search(r"(?:pretrained|model)=([^,]+)", args)
    return m.group(1) if m else (doc.get("model_name") or cfg.get("model"))


def _lmeval_results(doc: dict[str, Any], path: Path, o: ImportOptions) -> list[ResultRow]:
    model = o.model or _lmeval_model(doc)
    if model is None:
        raise EconError(f"{path}: the results do not name the model; give --model")
    counts = doc.get("n-samples") or {}
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
        n_info = counts.get(task) or {}
        n = n_info.get("effective", n_info.get("original")) if isinstance(n_info, dict) else None
        if not numeric or not isinstance(n, int | float) or n <= 0:
            continue  # a group row, or a task without a sample count
        _, rate = numeric[0]
        rows.append(ResultRow(model, f"{task}:aggregate",
                              o.capability_map.capability(task), round(rate * n), None, int(n)))
    if not rows:
        raise EconError(f"{path}: no task with both a metric and n-samples")
    return rows


# ---- Inspect AI ------------------------------------------------------------------------------

def _inspect_samples(header: dict[str, Any], samples: Iterable[dict[str, Any]], path: Path,
                     o: ImportOptions) -> list[ResultRow]:
    ev = header.get("eval") or {}
    model = o.model or ev.get("model")
    task = str(ev.get("task") or path.stem)
    if model is None:
        raise EconError(f"{path}: the log does not name the model; give --model")
    samples = list(samples)
    epochs = {s.get("epoch", 1) for s in samples}
    rows = []
    for s in samples:
        scores = s.get("scores") or {}
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


def _inspect_zip(path: Path, o: ImportOptions) -> list[ResultRow]:
    header, samples = inspect_zip_docs(path)
    return _inspect_samples(header, samples, path, o)


def inspect_zip_docs(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the samples of an Inspect ``.eval`` ZIP log, unpacked within the caps."""
    try:
        data = read_limited(path)
    except FileNotFoundError:
        raise EconError(f"{path}: file not found") from None
    except OSError as exc:
        raise EconError(f"{path}: cannot read: {exc.strerror or exc}") from None
    budget = [MAX_UNZIPPED_BYTES]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            header = _member(z, "header.json", budget) if "header.json" in names else {}
            if not header and "_journal/start.json" in names:
                header = _member(z, "_journal/start.json", budget)
            samples = [_member(z, n, budget) for n in sorted(names)
                       if n.startswith("samples/") and n.endswith(".json")]
            if not samples and "summaries.json" in names:
                samples = _member(z, "summaries.json", budget)
    except zipfile.BadZipFile:
        raise EconError(f"{path}: not a ZIP archive (an Inspect .eval log is one)") from None
    except _ZipTooBig as exc:
        raise EconError(f"{path}: {exc}; an Inspect log this large is refused") from None
    except (KeyError, ValueError, zlib.error, EOFError, NotImplementedError,
            RecursionError) as exc:  # JSON, UTF-8 and deflate errors are ValueErrors
        raise EconError(f"{path}: damaged Inspect .eval log: {type(exc).__name__}: "
                        f"{str(exc)[:120]}") from None
    if not isinstance(header, dict):
        raise EconError(f"{path}: damaged Inspect .eval log: the header is not a JSON object")
    if not isinstance(samples, list) or not all(isinstance(s, dict) for s in samples):
        raise EconError(f"{path}: damaged Inspect .eval log: a sample is not a JSON object")
    return header, samples


class _ZipTooBig(Exception):
    pass


def _member(z: zipfile.ZipFile, name: str, budget: list[int]) -> Any:
    """One JSON member, decompressed in chunks and refused past the per-member and total caps
    (the sizes a ZIP declares are not trusted)."""
    cap = min(MAX_UNZIPPED_MEMBER_BYTES, budget[0])
    chunks, total = [], 0
    with z.open(name) as fh:
        while chunk := fh.read(1 << 20):
            total += len(chunk)
            if total > cap:
                raise _ZipTooBig(f"{name} unpacks to more than the limit (the limits are "
                                 f"{MAX_UNZIPPED_MEMBER_BYTES // 2**20} MiB a member, "
                                 f"{MAX_UNZIPPED_BYTES // 2**20} MiB in all)")
            chunks.append(chunk)
    budget[0] -= total
    return json.loads(b"".join(chunks).decode("utf-8"))


# ---- promptfoo -------------------------------------------------------------------------------

def _promptfoo(doc: dict[str, Any], path: Path, o: ImportOptions) -> list[ResultRow]:
    results = doc["results"]["results"]
    task = str((doc.get("config") or {}).get("description") or "promptfoo")
    rows: list[ResultRow] = []
    for r in results:
        provider = r.get("provider") or {}
        model = o.model or provider.get("label") or provider.get("id")
        test = r.get("testCase") or {}
        grading = r.get("gradingResult") or {}
        parts = [c for c in grading.get("componentResults") or []
                 if (c.get("assertion") or {}).get("type") not in _NOT_CORRECTNESS]
        where = f"{path}: results[{len(rows)}]"
        if parts:
            passed = int(all(bool(c.get("pass")) for c in parts))
            score: float | None = sum(_score(c.get("score", c.get("pass", 0)), where) or 0.0
                                      for c in parts) / len(parts)
        elif grading:
            passed, score = int(bool(grading.get("pass"))), _score(grading.get("score"), where)
        else:
            passed, score = int(bool(r.get("success"))), _score(r.get("score"), where)
        meta = {**_flat_meta(test.get("vars")), **_flat_meta(test.get("metadata"))}
        tags = test.get("metadata", {}).get("tags", []) if isinstance(test.get("metadata"),
                                                                      dict) else []
        example = test.get("description") or f"test{r.get('testIdx')}"
        if score is not None and not 0.0 <= score <= 1.0:
            score = None
        several = _prompts(doc) > 1  # one test under several prompts: its rows are a cluster
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


def _prompts(doc: dict[str, Any]) -> int:
    """Distinct prompts per provider (several prompts make several examples per test)."""
    seen: dict[str, set[Any]] = {}
    for r in doc["results"]["results"]:
        seen.setdefault(str((r.get("provider") or {}).get("id")), set()).add(r.get("promptIdx"))
    return max((len(v) for v in seen.values()), default=1)


# ---- dispatch --------------------------------------------------------------------------------

def read_evals(path: str | Path, options: ImportOptions | None = None,
               fmt: str | None = None) -> list[ResultRow]:
    """Per-example rows of one eval output file."""
    p = Path(path)
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
        return _inspect_samples(docs[0], docs[0].get("samples") or [], p, o)
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
