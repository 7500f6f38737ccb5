"""``vllm bench serve`` (and the older ``benchmarks/benchmark_serving.py``) console output.

In: the text of a log holding one ``Serving Benchmark Result`` block per run (a sweep prints
several). Out: one :class:`~econ.evidence.importers.bench.BenchRun` per block, format
``vllm-console``. The lines read are those of vLLM's print statements
(vllm-project/vllm ``vllm/benchmarks/serve.py``; ``benchmarks/benchmark_serving.py`` before it):
``Successful requests:``, ``Failed requests:`` (newer versions), ``Maximum request
concurrency:`` (inside the block in newer versions, printed before it in older ones, ``None``
when unbounded), ``Benchmark duration (s):``, ``Total input tokens:``, ``Total generated
tokens:``, ``Request throughput (req/s):`` and the ``Mean/Median/P99 TTFT|TPOT|ITL (ms):``
lines.

The console rounds every rate and the duration to 2 decimals: a run of 0.05 req/s is anywhere
from 0.045 to 0.055. So the time per request is taken from the duration and the request count
(``Benchmark duration (s) ÷ Successful requests``, off by at most 0.005 s over the whole run),
never from the rounded rate, and the output rate likewise from the token count; the printed rate
is only checked against them (a block whose rate disagrees beyond rounding is refused: it was
not printed by one run). May import: econ.base, econ.evidence.importers.console_text.
"""

from __future__ import annotations

from econ.base.errors import EconError
from econ.evidence.importers.console_text import (
    ConsoleRun,
    ResultBlock,
    concurrency,
    latency_ms,
    log_lines,
    number,
    serving_blocks,
)

__all__ = ["check_rate", "duration_of", "optional", "parse_vllm_console", "required"]

ROUNDING_S = 0.005  # half the console's last digit


def required(block: ResultBlock, label: str, file: str, kind: str) -> float:
    f = block.get(label)
    if f is None:
        raise EconError(f"{file}:{block.header_line}: the {kind} result block starting here "
                        f"has no '{label}:' line")
    return number(f, file, whole=label != "Benchmark duration (s)")


def optional(block: ResultBlock, label: str, file: str) -> float | None:
    f = block.get(label)
    return None if f is None else number(f, file, whole=True)


def check_rate(block: ResultBlock, file: str, completed: float, duration_s: float) -> None:
    """The printed request rate agrees with completed ÷ duration within the rounding of both."""
    f = block.get("Request throughput (req/s)")
    if f is None or completed == 0:
        return
    printed = number(f, file)
    low = completed / (duration_s + ROUNDING_S) - ROUNDING_S
    high = completed / max(duration_s - ROUNDING_S, 1e-9) + ROUNDING_S
    if not low - 1e-9 <= printed <= high + 1e-9:
        raise EconError(f"{file}:{f.line}: {f.label}: {f.value} disagrees with Successful "
                        f"requests ÷ Benchmark duration (s) ({completed:g} ÷ {duration_s:g} = "
                        f"{completed / duration_s:.4g}) beyond the console's rounding; were "
                        "these lines printed by one run?")


def duration_of(block: ResultBlock, file: str, completed: float, kind: str) -> float:
    duration = required(block, "Benchmark duration (s)", file, kind)
    if completed > 0 and duration < 2 * ROUNDING_S:
        f = block.get("Benchmark duration (s)")
        assert f is not None
        raise EconError(f"{file}:{f.line}: {f.label}: {f.value} s for {completed:g} completed "
                        "requests: too short to time at the console's 2 decimals")
    return duration


def _concurrency(block: ResultBlock, file: str) -> int | None:
    return concurrency(block.get("Maximum request concurrency")
                       or block.last_before("Maximum request concurrency"), file)


def _run(block: ResultBlock, file: str) -> ConsoleRun:
    kind = "vLLM"
    completed = required(block, "Successful requests", file, kind)
    duration = duration_of(block, file, completed, kind)
    total_in = required(block, "Total input tokens", file, kind)
    total_out = optional(block, "Total generated tokens", file)
    check_rate(block, file, completed, duration)
    failed = optional(block, "Failed requests", file)
    return ConsoleRun(
        "vllm-console", file, block.model, int(completed),
        None if failed is None else int(failed), duration, total_in, total_out,
        completed / duration if duration > 0 else None,
        None if total_out is None or duration <= 0 else total_out / duration,
        _concurrency(block, file), latency_ms(block.fields, file))


def parse_vllm_console(text: str, file: str) -> list[ConsoleRun]:
    blocks = serving_blocks(log_lines(text))
    if not blocks:
        raise EconError(f"{file}: no '{'=' * 12} Serving Benchmark Result {'=' * 12}' block: "
                        "not vllm bench serve console output")
    for b in blocks:
        if b.get("Backend") is not None:
            raise EconError(f"{file}:{b.header_line}: this block has a 'Backend:' line: SGLang "
                            "bench_serving output, not vLLM's (use --format sglang-console)")
    return [_run(b, file) for b in blocks]
