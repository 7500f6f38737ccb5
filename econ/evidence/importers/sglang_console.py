"""SGLang ``bench_serving`` console output (its JSONL is read by the ``sglang`` format).

In: the text of a log holding one ``Serving Benchmark Result`` block per run (``--multi`` or a
sweep prints several). Out: one :class:`~econ.evidence.importers.bench.BenchRun` per block,
format ``sglang-console``. The lines read are those of SGLang's print statements
(sgl-project/sglang ``python/sglang/bench_serving.py``): ``Backend:`` (what tells the block from
vLLM's, whose header SGLang kept), ``Max request concurrency:`` (``not set`` when unbounded;
absent in older versions, which had no limit), ``Successful requests:``, ``Benchmark duration
(s):``, ``Total input tokens:``, ``Total generated tokens:`` (not the ``(retokenized)`` count),
``Request throughput (req/s):`` and the ``Mean/Median/P99 TTFT|TPOT|ITL (ms):`` lines. SGLang
prints no failed-request count.

As for vLLM's console, rates and the duration are rounded to 2 decimals, so the time per
request is the duration ÷ the completed requests, not the rounded rate (see
:mod:`econ.evidence.importers.vllm_console`). May import: econ.base,
econ.evidence.importers.console_text and vllm_console.
"""

from __future__ import annotations

from econ.base.errors import EconError
from econ.evidence.importers.console_text import (
    ConsoleRun,
    ResultBlock,
    concurrency,
    latency_ms,
    log_lines,
    serving_blocks,
)
from econ.evidence.importers.vllm_console import check_rate, duration_of, optional, required

__all__ = ["parse_sglang_console"]


def _concurrency(block: ResultBlock, file: str) -> int | None:
    return concurrency(block.get("Max request concurrency"), file, ("not set", "None"))


def _run(block: ResultBlock, file: str) -> ConsoleRun:
    kind = "SGLang"
    completed = required(block, "Successful requests", file, kind)
    duration = duration_of(block, file, completed, kind)
    total_in = required(block, "Total input tokens", file, kind)
    total_out = optional(block, "Total generated tokens", file)
    check_rate(block, file, completed, duration)
    return ConsoleRun(
        "sglang-console", file, block.model, int(completed), None, duration, total_in,
        total_out, completed / duration if duration > 0 else None,
        None if total_out is None or duration <= 0 else total_out / duration,
        _concurrency(block, file), latency_ms(block.fields, file))


def parse_sglang_console(text: str, file: str) -> list[ConsoleRun]:
    blocks = serving_blocks(log_lines(text))
    if not blocks:
        raise EconError(f"{file}: no '{'=' * 12} Serving Benchmark Result {'=' * 12}' block: "
                        "not SGLang bench_serving console output")
    for b in blocks:
        if b.get("Backend") is None:
            raise EconError(f"{file}:{b.header_line}: this block has no 'Backend:' line: "
                            "vLLM's output, not SGLang's (use --format vllm-console)")
    return [_run(b, file) for b in blocks]
