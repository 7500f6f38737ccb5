"""Console logs of serving benchmarks, read as lines of ``label: value`` with their line numbers.

In: the text of a log (what ``vllm bench serve``, SGLang ``bench_serving`` or ``trtllm-bench``
printed, with whatever else the terminal caught). Out: :class:`Field` rows (label, value, line)
and the ``Serving Benchmark Result`` blocks that vLLM and SGLang print (SGLang's script was
adapted from vLLM's and keeps its header). Every number is read with an error naming the file,
the line and the label. A log is data: nothing in it is interpreted beyond these numbers and a
model name. Each run is a :class:`ConsoleRun`, the fields of
:class:`econ.evidence.importers.bench.BenchRun` (which ``bench`` builds from it: the console
modules do not import ``bench``, which imports them). May import: econ.base.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from econ.base.errors import EconError

__all__ = [
    "MAX_MEASURE",
    "SERVING_HEADER",
    "ConsoleRun",
    "Field",
    "ResultBlock",
    "concurrency",
    "field_of",
    "latency_ms",
    "log_lines",
    "namespace_model",
    "number",
    "serving_blocks",
]

MAX_MEASURE = 1e15  # as econ.evidence.importers.bench.MAX_MEASURE (a test holds them equal)


@dataclass(frozen=True)
class ConsoleRun:
    """One run read from a console log: the fields of ``BenchRun``, in its order."""

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
    latency_ms: Mapping[str, float] = field(default_factory=dict)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_FIELD = re.compile(r"^\s*(?P<label>[^:]*?\S)\s*:\s*(?P<value>.*?)\s*$")
SERVING_HEADER = re.compile(r"^=+ ?Serving Benchmark Result ?=+$")
_RULE = re.compile(r"^={10,}$")
_LATENCY = re.compile(r"^(?P<stat>Mean|Median|P(?P<p>\d+(?:\.\d+)?)) (?P<what>TTFT|TPOT|ITL) "
                      r"\(ms\)$")
_STATS = {"Mean": "mean", "Median": "median", "P90": "p90", "P95": "p95", "P99": "p99"}
_MODEL = re.compile(r"Namespace\(.*?\bmodel='(?P<model>[^']{1,200})'")


@dataclass(frozen=True)
class Field:
    label: str  # whitespace collapsed, without the colon
    value: str
    line: int  # 1-based, in the file


def log_lines(text: str) -> list[str]:
    """The log's lines, terminal colour codes removed (``\\r`` of progress bars splits too)."""
    return [_ANSI.sub("", ln) for ln in text.splitlines()]


def field_of(line: str, number_: int) -> Field | None:
    m = _FIELD.match(line)
    if m is None:
        return None
    return Field(" ".join(m["label"].split()), m["value"], number_)


def number(f: Field, file: str, whole: bool = False) -> float:
    """The field's value as a number; an EconError naming file, line and label otherwise."""
    text = f.value.split()[0] if f.value.split() else ""
    try:
        v = float(text)
    except ValueError:
        raise EconError(f"{file}:{f.line}: {f.label}: not a number (got "
                        f"{f.value[:40]!r})") from None
    if not math.isfinite(v) or not abs(v) <= MAX_MEASURE:
        raise EconError(f"{file}:{f.line}: {f.label}: not a plausible measurement (got "
                        f"{f.value[:40]!r}); give a finite number below {MAX_MEASURE:g}")
    if v < 0:
        raise EconError(f"{file}:{f.line}: {f.label}: negative (got {f.value[:40]!r})")
    if whole and v != int(v):
        raise EconError(f"{file}:{f.line}: {f.label}: not a whole number (got "
                        f"{f.value[:40]!r})")
    return v


@dataclass(frozen=True)
class ResultBlock:
    """One ``Serving Benchmark Result`` block, and the lines printed before it since the
    previous block ended (where older vLLM prints its concurrency and both print their
    arguments)."""

    header_line: int
    fields: tuple[Field, ...]
    preamble: tuple[Field, ...]
    model: str | None

    def get(self, label: str) -> Field | None:
        return next((f for f in self.fields if f.label == label), None)

    def last_before(self, label: str) -> Field | None:
        return next((f for f in reversed(self.preamble) if f.label == label), None)


def namespace_model(lines: Sequence[str]) -> str | None:
    """The ``model='…'`` of the last ``Namespace(…)`` printed (the benchmark's arguments)."""
    for ln in reversed(lines):
        m = _MODEL.search(ln)
        if m is not None:
            return m["model"]
    return None


def serving_blocks(lines: Sequence[str]) -> list[ResultBlock]:
    """Every ``Serving Benchmark Result`` block of a log, in order (a sweep prints several).
    A block ends at its closing rule of ``=``, the next header or the end of the log."""
    headers = [i for i, ln in enumerate(lines) if SERVING_HEADER.match(ln.strip())]
    blocks: list[ResultBlock] = []
    prev_end = 0
    for k, h in enumerate(headers):
        stop = headers[k + 1] if k + 1 < len(headers) else len(lines)
        end = next((j for j in range(h + 1, stop) if _RULE.match(lines[j].strip())), stop)
        fields = tuple(f for j in range(h + 1, end)
                       if (f := field_of(lines[j], j + 1)) is not None)
        pre_lines = lines[prev_end:h]
        preamble = tuple(f for j, ln in enumerate(pre_lines, start=prev_end)
                         if (f := field_of(ln, j + 1)) is not None)
        # the arguments are printed once before a sweep: the model carries to later blocks
        model = namespace_model(pre_lines) or (blocks[-1].model if blocks else None)
        blocks.append(ResultBlock(h + 1, fields, preamble, model))
        prev_end = end
    return blocks


def latency_ms(fields: Sequence[Field], file: str) -> dict[str, float]:
    """``Mean TTFT (ms)``, ``P99 ITL (ms)``, … as ``ttft_mean``, ``itl_p99``, … (the
    statistics the JSON importers keep: mean, median, p90, p95, p99)."""
    out = {}
    for f in fields:
        m = _LATENCY.match(f.label)
        if m is None or m["stat"] not in _STATS:
            continue
        out[f"{m['what'].lower()}_{_STATS[m['stat']]}"] = number(f, file)
    return out


def concurrency(f: Field | None, file: str, unset: Sequence[str] = ("None",)) -> int | None:
    """A run's client concurrency from its console field: None when absent or printed as one of
    ``unset``; a whole number of at least 1 otherwise (file, line and field in the error)."""
    if f is None or f.value.strip() in unset:
        return None
    v = number(f, file, whole=True)
    if v < 1:
        raise EconError(f"{file}:{f.line}: {f.label}: {f.value}: a run that served requests "
                        "had at least one in flight")
    return int(v)
