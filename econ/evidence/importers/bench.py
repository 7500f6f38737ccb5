"""Serving benchmarks → one record per run.

Formats (detected from content, or named with ``--format``):
- ``vllm``: ``benchmark_serving.py --save-result`` and ``vllm bench serve`` results, old and new
  key names, JSON Lines from ``--append-result``, ``request_rate`` "inf", per-request arrays;
- ``sglang``: ``bench_serving`` JSONL (one run per line);
- ``llmperf-summary`` and ``llmperf-individual``: LLMPerf ``*_summary.json`` (seconds) and
  ``*_individual_responses.json`` (a list of requests);
- ``aiperf``: GenAI-Perf and AIPerf profile exports (metrics as ``{unit, avg, p50, …}``);
- ``aiperf-records``: AIPerf's per-request ``profile_export.jsonl``, one run for the whole file
  (its multi-turn conversations are read by :mod:`econ.evidence.importers.aiperf_records`);
- ``trtllm-bench``: ``trtllm-bench throughput|latency`` reports, the ``--report_json`` file or
  the console report (:mod:`econ.evidence.importers.trtllm_bench`);
- ``vllm-console`` and ``sglang-console``: the ``Serving Benchmark Result`` blocks ``vllm bench
  serve`` and SGLang ``bench_serving`` print, one run per block
  (:mod:`econ.evidence.importers.vllm_console`, :mod:`econ.evidence.importers.sglang_console`).

A file is read as a console log when its text holds such a report (told from the content by
:func:`econ.evidence.importers.detect.identify_text`), else as JSON or JSON Lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.evidence.importers.detect import identify, identify_text
from econ.evidence.importers.jsonfile import loads_json_or_lines, read_text

__all__ = ["BENCH_FORMATS", "CONSOLE_FORMATS", "BenchRun", "parse_bench", "parse_console",
           "read_bench"]


@dataclass(frozen=True)
class BenchRun:
    source_format: str
    file: str
    model: str | None
    completed: int | None
    failed: int | None
    duration_s: float | None
    total_input_tokens: float | None
    total_output_tokens: float | None
    request_throughput_per_s: float | None
    output_tokens_per_s: float | None
    max_concurrency: int | None
    # "ttft_p99", "itl_median", "tpot_mean", …: the latency statistics the file gives, in ms
    latency_ms: Mapping[str, float] = field(default_factory=dict)
    # (input, output) tokens of each completed request, when the file lists them: the run's
    # length distribution (the serving fit takes its expectation); not part of to_json
    request_lengths: tuple[tuple[float, float], ...] = field(default=(), repr=False)

    @property
    def mean_input_tokens(self) -> float | None:
        if self.total_input_tokens is None or not self.completed:
            return None
        return self.total_input_tokens / self.completed

    @property
    def mean_output_tokens(self) -> float | None:
        if self.total_output_tokens is None or not self.completed:
            return None
        return self.total_output_tokens / self.completed

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        del out["request_lengths"]
        return out


MAX_MEASURE = 1e15  # no token count, duration or rate of a benchmark run comes near this


# a run that completed requests measured time passing and requests served: above 0 if given
_POSITIVE = ("duration_s", "request_throughput_per_s", "output_tokens_per_s")


class _Implausible(Exception):
    def __init__(self, key: str, value: Any, rule: str = "") -> None:
        self.key, self.value, self.rule = key, value, rule


def _checked(run: BenchRun, where: str) -> BenchRun:
    """``run`` when every figure is a measurement: finite, below ``MAX_MEASURE``, none
    negative, durations and rates above 0 when requests completed; an EconError naming
    ``where`` and the field."""
    try:
        figures = [(k, v) for k, v in run.to_json().items() if k != "latency_ms"]
        figures += [(f"latency_ms.{k}", v) for k, v in run.latency_ms.items()]
        for name, value in figures:  # sums of per-request arrays included
            if not isinstance(value, float | int) or isinstance(value, bool):
                continue
            if not abs(value) <= MAX_MEASURE:
                raise _Implausible(name, value)
            if value < 0:
                raise _Implausible(name, value, "a measurement is at least 0")
            # a run whose requests all failed has zeros here; it is refused where it is used
            if value == 0 and name in _POSITIVE and run.completed:
                raise _Implausible(name, value, "a duration or rate of a run is above 0")
    except _Implausible as exc:
        raise _refusal(exc, where) from None
    return run


def _refusal(exc: _Implausible, where: str) -> EconError:
    if exc.rule:
        return EconError(f"{where}: {exc.key}: not a plausible measurement: {exc.rule} "
                         f"(got {str(exc.value)[:40]})")
    return EconError(f"{where}: {exc.key}: not a plausible measurement (got "
                     f"{str(exc.value)[:40]}); give a finite number below {MAX_MEASURE:g}")


def _num(d: dict[str, Any], *keys: str) -> float | None:
    """The first of ``keys`` holding a number (numbers given as strings included); a NaN, an
    infinity or a number beyond ``MAX_MEASURE`` is refused, not skipped."""
    for k in keys:
        v = d.get(k)
        if isinstance(v, bool) or v is None:
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if not abs(f) <= MAX_MEASURE:
            raise _Implausible(k, v)
        return f
    return None


def _tokens(r: dict[str, Any], key: str) -> float:
    """A per-request token count of LLMPerf: a number, or absent (0)."""
    v = r.get(key)
    if v is None:
        return 0.0
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _Implausible(key, v)
    return _num(r, key) or 0.0


def _int(x: float | None) -> int | None:
    return None if x is None else round(x)


_STATS = ("mean", "median", "p90", "p95", "p99")
_LATENCIES = ("ttft", "itl", "tpot")


def _flat_latency(doc: dict[str, Any]) -> dict[str, float]:
    """vLLM and SGLang: ``p99_ttft_ms``, ``median_itl_ms``, …"""
    out = {}
    for what in _LATENCIES:
        for stat in _STATS:
            v = _num(doc, f"{stat}_{what}_ms")
            if v is not None:
                out[f"{what}_{stat}"] = v
    return out


def _vllm(doc: dict[str, Any], file: str) -> BenchRun:
    completed = _int(_num(doc, "completed"))
    failed = _int(_num(doc, "failed"))
    if failed is None and isinstance(doc.get("errors"), list):
        failed = sum(1 for e in doc["errors"] if e)
    elif failed is None and completed is not None and _num(doc, "num_prompts") is not None:
        failed = max(0, int(_num(doc, "num_prompts") or 0) - completed)
    total_in = _num(doc, "total_input_tokens")
    total_out = _num(doc, "total_output_tokens")
    if total_in is None and isinstance(doc.get("input_lens"), list):
        total_in = float(sum(doc["input_lens"]))
    if total_out is None and isinstance(doc.get("output_lens"), list):
        total_out = float(sum(doc["output_lens"]))
    return BenchRun("vllm", file, doc.get("model_id") or doc.get("model"), completed, failed,
                    _num(doc, "duration"), total_in, total_out,
                    _num(doc, "request_throughput"), _num(doc, "output_throughput"),
                    _int(_num(doc, "max_concurrency")), _flat_latency(doc),
                    _request_lengths(doc))


def _request_lengths(doc: dict[str, Any]) -> tuple[tuple[float, float], ...]:
    """vLLM's per-request ``input_lens`` and ``output_lens`` of the requests that completed
    (``errors`` empty), when both are lists of numbers of one length."""
    ins, outs = doc.get("input_lens"), doc.get("output_lens")
    if not isinstance(ins, list) or not isinstance(outs, list) or len(ins) != len(outs):
        return ()
    errors = doc.get("errors")
    ok = [not e for e in errors] if isinstance(errors, list) and len(errors) == len(ins) \
        else [True] * len(ins)
    pairs = []
    for i, o, good in zip(ins, outs, ok, strict=True):
        if not good:
            continue
        if isinstance(i, bool) or isinstance(o, bool) or not isinstance(i, int | float) \
                or not isinstance(o, int | float):
            return ()
        if not (0 <= i <= MAX_MEASURE and 0 <= o <= MAX_MEASURE):
            raise _Implausible("input_lens" if not 0 <= i <= MAX_MEASURE else "output_lens", i)
        pairs.append((float(i), float(o)))
    return tuple(pairs)


def _sglang(doc: dict[str, Any], file: str) -> BenchRun:
    return BenchRun("sglang", file, doc.get("model_id") or doc.get("model"),
                    _int(_num(doc, "completed")), _int(_num(doc, "failed")),
                    _num(doc, "duration"), _num(doc, "total_input_tokens"),
                    _num(doc, "total_output_tokens"), _num(doc, "request_throughput"),
                    _num(doc, "output_throughput"), _int(_num(doc, "max_concurrency")),
                    _flat_latency(doc))


def _llmperf_summary(doc: dict[str, Any], file: str) -> BenchRun:
    completed = _int(_num(doc, "results_num_completed_requests"))
    per_min = _num(doc, "results_num_completed_requests_per_min")
    rps = per_min / 60 if per_min else None
    duration = completed / rps if completed and rps else None
    mean_in = _num(doc, "results_number_input_tokens_mean", "mean_input_tokens")
    mean_out = _num(doc, "results_number_output_tokens_mean", "mean_output_tokens")
    latency = {}
    for what, key in (("ttft", "ttft_s"), ("itl", "inter_token_latency_s")):
        for stat, suffix in (("mean", "mean"), ("median", "quantiles_p50"),
                             ("p90", "quantiles_p90"), ("p95", "quantiles_p95"),
                             ("p99", "quantiles_p99")):
            v = _num(doc, f"results_{key}_{suffix}")
            if v is not None:
                latency[f"{what}_{stat}"] = v * 1000.0
    return BenchRun("llmperf-summary", file, doc.get("model"), completed,
                    _int(_num(doc, "results_number_errors")), duration,
                    mean_in * completed if mean_in is not None and completed else None,
                    mean_out * completed if mean_out is not None and completed else None,
                    rps, _num(doc, "results_mean_output_throughput_token_per_s"),
                    _int(_num(doc, "num_concurrent_requests")), latency)


def _llmperf_individual(doc: list[Any], file: str) -> BenchRun:
    ok = [r for r in doc if isinstance(r, dict) and not r.get("error_code")]
    failed = sum(1 for r in doc if isinstance(r, dict) and r.get("error_code"))
    total_in = sum(_tokens(r, "number_input_tokens") for r in ok)
    total_out = sum(_tokens(r, "number_output_tokens") for r in ok)
    # per-request latencies only: no wall clock, so no duration and no throughput
    return BenchRun("llmperf-individual", file, None, len(ok), failed, None, total_in,
                    total_out, None, None, None)


def _metric(doc: dict[str, Any], name: str, stat: str = "avg") -> float | None:
    m = doc.get(name)
    return _num(m, stat) if isinstance(m, dict) else None


def _aiperf(doc: dict[str, Any], file: str) -> BenchRun:
    cfg = doc.get("input_config") or {}
    model = None
    models = cfg.get("models")
    if isinstance(models, dict) and models.get("items"):
        model = models["items"][0].get("name")
    elif isinstance(cfg.get("model"), list) and cfg["model"]:
        model = cfg["model"][0]
    concurrency = None
    for phase in cfg.get("phases") or []:
        if isinstance(phase, dict) and phase.get("concurrency"):
            concurrency = int(phase["concurrency"])
    stimulus = (cfg.get("perf_analyzer") or {}).get("stimulus") or {}
    if concurrency is None and stimulus.get("concurrency"):
        concurrency = int(stimulus["concurrency"])
    completed = _int(_metric(doc, "request_count"))
    errors = doc.get("error_summary") or []
    failed = sum(int(e.get("count", 1)) for e in errors if isinstance(e, dict)) \
        if isinstance(errors, list) else None
    total_in = _metric(doc, "input_sequence_length", "sum")
    if total_in is None:
        total_in = _metric(doc, "total_isl")
    total_out = _metric(doc, "total_output_tokens") or _metric(doc, "output_sequence_length",
                                                               "sum")
    latency = {}
    for what, name in (("ttft", "time_to_first_token"), ("itl", "inter_token_latency")):
        for stat, key in (("mean", "avg"), ("median", "p50"), ("p90", "p90"), ("p95", "p95"),
                          ("p99", "p99")):
            v = _metric(doc, name, key)
            if v is not None:
                latency[f"{what}_{stat}"] = v
    return BenchRun("aiperf", file, model, completed, failed,
                    _metric(doc, "benchmark_duration"), total_in, total_out,
                    _metric(doc, "request_throughput"), _metric(doc, "output_token_throughput"),
                    concurrency, latency)


def _trtllm(doc: dict[str, Any], file: str) -> BenchRun:
    from econ.evidence.importers.trtllm_bench import parse_report_json

    return BenchRun(**asdict(parse_report_json(doc, file)))


_PARSERS: dict[str, Callable[[Any, str], BenchRun]] = {
    "vllm": _vllm,
    "sglang": _sglang,
    "llmperf-summary": _llmperf_summary,
    "llmperf-individual": _llmperf_individual,
    "aiperf": _aiperf,
    "trtllm-bench": _trtllm,
}
CONSOLE_FORMATS = ("vllm-console", "sglang-console", "trtllm-bench")
BENCH_FORMATS = (*_PARSERS, "aiperf-records", "vllm-console", "sglang-console")


def _aiperf_records(docs: list[Any], file: str) -> BenchRun:
    """The requests of an AIPerf per-request records file as one run."""
    from econ.evidence.importers.aiperf_records import parse_records

    c = parse_records(docs, file)
    return BenchRun("aiperf-records", file, None, c.completed_requests, c.failed_requests,
                    c.duration_s, c.input_tokens_total, c.output_tokens_total,
                    c.completed_requests / c.duration_s if c.duration_s else None,
                    c.output_tokens_total / c.duration_s if c.duration_s else None, None)


def parse_bench(docs: list[Any], file: str, fmt: str | None = None) -> list[BenchRun]:
    """Runs in the documents of one file (one per JSON Lines line)."""
    if fmt is not None and fmt not in BENCH_FORMATS:
        raise EconError(f"{file}: unknown benchmark format {fmt!r}; supported: "
                        f"{', '.join(BENCH_FORMATS)}")
    if docs and identify(docs[0]) == "aiperf-records" and fmt in (None, "aiperf-records"):
        try:
            return [_checked(_aiperf_records(docs, file), file)]
        except _Implausible as exc:
            raise _refusal(exc, file) from None
    runs = []
    for i, doc in enumerate(docs, start=1):
        kind = identify(doc)
        where = f"{file}:{i}" if len(docs) > 1 else file
        if fmt is not None and kind != fmt:
            seen = f"it looks like {kind}" if kind else "its content matches no known format"
            raise EconError(f"{where}: not a {fmt} result: {seen}")
        if kind == "aiperf-records":
            raise EconError(f"{where}: an AIPerf per-request record among lines that are not")
        if kind not in _PARSERS:
            hint = f"it looks like {kind} (an eval log: use econ import evals)" if kind else \
                "its content matches none"
            raise EconError(f"{where}: not a serving benchmark result; {hint}; supported: "
                            f"{', '.join(BENCH_FORMATS)}")
        try:
            runs.append(_checked(_PARSERS[kind](doc, file), where))
        except EconError:  # an importer's own message already names the file and the field
            raise
        except _Implausible as exc:
            raise _refusal(exc, where) from None
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise EconError(f"{where}: not a valid {kind} result: {type(exc).__name__}: "
                            f"{str(exc)[:80]}") from None
    return runs


def parse_console(text: str, file: str, kind: str) -> list[BenchRun]:
    """The runs of a console log of format ``kind`` (one of :data:`CONSOLE_FORMATS`)."""
    from econ.evidence.importers.sglang_console import parse_sglang_console
    from econ.evidence.importers.trtllm_bench import parse_trtllm_console
    from econ.evidence.importers.vllm_console import parse_vllm_console

    parse = {"vllm-console": parse_vllm_console, "sglang-console": parse_sglang_console,
             "trtllm-bench": parse_trtllm_console}[kind]
    return [_checked(BenchRun(**asdict(r)), file) for r in parse(text, file)]


def read_bench(path: str | Path, fmt: str | None = None) -> list[BenchRun]:
    """Runs of one result file: a console log or JSON (Lines), told from its content."""
    p = Path(path)
    if fmt is not None and fmt not in BENCH_FORMATS:
        raise EconError(f"{p}: unknown benchmark format {fmt!r}; supported: "
                        f"{', '.join(BENCH_FORMATS)}")
    text = read_text(p)
    kind = identify_text(text)
    if kind == "mixed-console":
        raise EconError(f"{p}: the log holds both vLLM and SGLang Serving Benchmark Result "
                        "blocks (SGLang's have a 'Backend:' line); split it by tool")
    if kind is not None:
        if fmt is not None and fmt != kind:
            raise EconError(f"{p}: not a {fmt} result: it looks like {kind} (a console log)")
        return parse_console(text, str(p), kind)
    if fmt in ("vllm-console", "sglang-console"):
        raise EconError(f"{p}: not a {fmt} log: no Serving Benchmark Result block")
    return parse_bench(loads_json_or_lines(p, text), str(p), fmt)
