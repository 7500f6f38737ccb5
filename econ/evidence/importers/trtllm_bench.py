"""``trtllm-bench`` throughput and latency reports: the console report and ``--report_json``.

In: the text of a log, or the JSON document ``--report_json`` wrote. Out: one
:class:`~econ.evidence.importers.bench.BenchRun` per report, format ``trtllm-bench``. Both come
from NVIDIA/TensorRT-LLM ``tensorrt_llm/bench/dataclasses/reporting.py``
(``ReportUtility.get_statistics_dict`` and ``report_statistics``), shared by ``trtllm-bench
throughput`` and ``trtllm-bench latency``:

- JSON: ``request_info.num_requests``, ``.avg_input_length``, ``.avg_output_length`` (tokens
  per request; output counts the first token), ``.avg_num_concurrent_requests``;
  ``performance.total_latency_ms`` (first request's start to last request's end),
  ``.request_throughput_req_s``; ``world_info.max_batch_size``; ``engine.model``;
  ``streaming_metrics.ttft_percentiles`` and ``.tpot_percentiles`` (ms; keys ``average``,
  ``p50``, ``p90``, ``p95``, ``p99``) with ``--streaming``.
- Console: the same figures under ``= REQUEST DETAILS`` (``Number of requests:``, ``Number of
  concurrent requests:``, ``Average Input Length (tokens):``, ``Average Output Length
  (tokens):``), ``= WORLD + RUNTIME INFORMATION`` (``Max Runtime Batch Size:``), ``= PERFORMANCE
  OVERVIEW`` (``Request Throughput (req/sec):``, ``Total Latency (ms):``) and the ``[TTFT]`` /
  ``[TPOT]`` breakdown lines; several reports in one log are several runs.

trtllm-bench reports no failed requests, and no client concurrency limit: its "concurrent
requests" is the run's average number in flight (sum of request latencies ÷ total time). econ
takes that average, rounded, as the run's concurrency, capped at the engine's maximum batch size
(a request beyond it waits, it is not served). Token totals are the averages × the request count.
May import: econ.base, econ.evidence.importers.console_text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from econ.base.errors import EconError
from econ.evidence.importers.console_text import (
    MAX_MEASURE,
    ConsoleRun,
    Field,
    field_of,
    log_lines,
    number,
)

__all__ = ["PERFORMANCE_HEADER", "parse_report_json", "parse_trtllm_console"]

_PREFIX = re.compile(r"^\[\d\d/\d\d/\d{4}-[\d:.]+\]\s*\[TRT-LLM\]\s*(?:\[[A-Z]\]\s*)?")
_SECTION = re.compile(r"^=\s+(?P<name>[A-Z][A-Z0-9 +()/_-]*?)\s*$")
PERFORMANCE_HEADER = "PERFORMANCE OVERVIEW"
_STARTS = ("ENGINE DETAILS", "PYTORCH BACKEND", "REQUEST DETAILS")
_BREAKDOWN = re.compile(r"^\[(?P<what>TTFT|TPOT)\] (?P<stat>AVERAGE|P50|P90|P95|P99)$")
_STAT = {"AVERAGE": "mean", "P50": "median", "P90": "p90", "P95": "p95", "P99": "p99",
         "average": "mean", "p50": "median", "p90": "p90", "p95": "p95", "p99": "p99"}


def _concurrency(avg: float | None, max_batch: float | None) -> int | None:
    if avg is None:
        return None
    c = max(1, round(avg))
    return c if max_batch is None or max_batch < 1 else min(c, int(max_batch))


def _run(file: str, model: str | None, n: float, duration_s: float, avg_in: float,
         avg_out: float, avg_conc: float | None, max_batch: float | None,
         latency: dict[str, float]) -> ConsoleRun:
    return ConsoleRun("trtllm-bench", file, model, int(n), None, duration_s, avg_in * n,
                    avg_out * n, n / duration_s if duration_s > 0 else None,
                    avg_out * n / duration_s if duration_s > 0 else None,
                    _concurrency(avg_conc, max_batch), latency)


# ---- the console report ---------------------------------------------------------------------

class _Report:
    def __init__(self) -> None:
        self.sections: dict[str, int] = {}  # section -> its header line
        self.fields: list[Field] = []
        self.section_of: list[str] = []

    def get(self, label: str, section: str | None = None) -> Field | None:
        return next((f for f, s in zip(self.fields, self.section_of, strict=True)
                     if f.label == label and (section is None or s == section)), None)


def _reports(lines: list[str]) -> list[_Report]:
    reports = [_Report()]
    section = ""
    for i, raw in enumerate(lines, start=1):
        ln = _PREFIX.sub("", raw).rstrip()
        m = _SECTION.match(ln)
        if m is not None:
            section = m["name"]
            cur = reports[-1]
            if section in cur.sections or (
                    section in _STARTS and PERFORMANCE_HEADER in cur.sections):
                reports.append(_Report())
            reports[-1].sections[section] = i
            continue
        f = field_of(ln, i)
        if f is not None and section:
            reports[-1].fields.append(f)
            reports[-1].section_of.append(section)
    return [r for r in reports if PERFORMANCE_HEADER in r.sections]


def _console_run(r: _Report, file: str) -> ConsoleRun:
    perf_line = r.sections[PERFORMANCE_HEADER]

    def need(label: str, section: str, whole: bool = False) -> float:
        f = r.get(label, section)
        if f is None:
            raise EconError(f"{file}:{perf_line}: the trtllm-bench report whose PERFORMANCE "
                            f"OVERVIEW starts here has no '{label}:' line (= {section}); "
                            "give the whole report")
        return number(f, file, whole)

    n = need("Number of requests", "REQUEST DETAILS", whole=True)
    total_ms = need("Total Latency (ms)", PERFORMANCE_HEADER)
    if n > 0 and total_ms <= 0:
        f = r.get("Total Latency (ms)")
        assert f is not None
        raise EconError(f"{file}:{f.line}: {f.label}: {f.value} for {n:g} requests: not a "
                        "measured duration")
    avg_in = need("Average Input Length (tokens)", "REQUEST DETAILS")
    avg_out = need("Average Output Length (tokens)", "REQUEST DETAILS")
    rate = r.get("Request Throughput (req/sec)", PERFORMANCE_HEADER)
    if rate is not None and total_ms > 0:
        printed, derived = number(rate, file), n / (total_ms / 1000.0)
        if abs(printed - derived) > 5e-5 + 1e-3 * derived:
            raise EconError(f"{file}:{rate.line}: {rate.label}: {rate.value} disagrees with "
                            f"Number of requests ÷ Total Latency ({n:g} ÷ {total_ms / 1000:g} s "
                            f"= {derived:.4f}); were these lines printed by one run?")
    conc = r.get("Number of concurrent requests", "REQUEST DETAILS")
    batch = r.get("Max Runtime Batch Size")
    model = r.get("Model")
    latency = {}
    for f in r.fields:
        m = _BREAKDOWN.match(f.label)
        if m is not None:
            latency[f"{m['what'].lower()}_{_STAT[m['stat']]}"] = number(f, file)
    ttft = r.get("Average time-to-first-token [TTFT] (ms)")
    if ttft is not None:
        latency.setdefault("ttft_mean", number(ttft, file))
    return _run(file, model.value[:200] if model is not None and model.value else None, n,
                total_ms / 1000.0, avg_in, avg_out,
                None if conc is None else number(conc, file),
                None if batch is None or batch.value.strip() == "None" else number(batch, file),
                latency)


def parse_trtllm_console(text: str, file: str) -> list[ConsoleRun]:
    reports = _reports(log_lines(text))
    if not reports:
        raise EconError(f"{file}: no '= {PERFORMANCE_HEADER}' section: not a trtllm-bench "
                        "report")
    return [_console_run(r, file) for r in reports]


# ---- --report_json --------------------------------------------------------------------------

def _get(doc: Mapping[str, Any], file: str, path: str, required: bool = True) -> float | None:
    node: Any = doc
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if node is None:
        if required:
            raise EconError(f"{file}: {path}: missing; a trtllm-bench --report_json file has it")
        return None
    if isinstance(node, bool) or not isinstance(node, int | float) or not math.isfinite(node) \
            or not 0 <= node <= MAX_MEASURE:
        raise EconError(f"{file}: {path}: not a plausible measurement (got {str(node)[:40]}); "
                        f"give a finite number from 0 to {MAX_MEASURE:g}")
    return float(node)


def parse_report_json(doc: Mapping[str, Any], file: str) -> ConsoleRun:
    n = _get(doc, file, "request_info.num_requests")
    total_ms = _get(doc, file, "performance.total_latency_ms")
    avg_in = _get(doc, file, "request_info.avg_input_length")
    avg_out = _get(doc, file, "request_info.avg_output_length")
    assert n is not None and total_ms is not None and avg_in is not None and avg_out is not None
    if n != int(n):
        raise EconError(f"{file}: request_info.num_requests: not a whole number (got {n:g})")
    if n > 0 and total_ms <= 0:
        raise EconError(f"{file}: performance.total_latency_ms: {total_ms:g} for {n:g} "
                        "requests: not a measured duration")
    latency = {}
    for what in ("ttft", "tpot"):
        pct = (doc.get("streaming_metrics") or {}).get(f"{what}_percentiles")
        if isinstance(pct, Mapping):
            for key, stat in _STAT.items():
                if key.islower() and key in pct:
                    v = _get(doc, file, f"streaming_metrics.{what}_percentiles.{key}")
                    assert v is not None
                    latency[f"{what}_{stat}"] = v
    engine = doc.get("engine")
    model = engine.get("model") if isinstance(engine, Mapping) else None
    return _run(file, str(model)[:200] if model else None, n, total_ms / 1000.0, avg_in,
                avg_out, _get(doc, file, "request_info.avg_num_concurrent_requests", False),
                _get(doc, file, "world_info.max_batch_size", False), latency)
