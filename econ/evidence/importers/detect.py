"""Which tool wrote a file: told from its content, not its file name.

:func:`identify` tells a JSON document's format; :func:`identify_text` a console log's (the text
a benchmark printed), or None when the text is not one.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from econ.evidence.importers.aiperf_records import is_record

__all__ = ["identify", "identify_text"]

_SERVING_HEADER = re.compile(r"^[ \t]*=+ ?Serving Benchmark Result ?=+[ \t]*$", re.MULTILINE)
_BACKEND = re.compile(r"^[ \t]*Backend:", re.MULTILINE)
_TRTLLM = re.compile(r"^(?:\[[^\]\n]*\][ \t]*)*=[ \t]+PERFORMANCE OVERVIEW[ \t]*$", re.MULTILINE)


def identify_text(text: str) -> str | None:
    """``vllm-console``, ``sglang-console`` or ``trtllm-bench`` for a console log of one of
    them; ``mixed-console`` for a log with both vLLM and SGLang result blocks; None otherwise
    (a JSON file never matches: its lines are never a bare header)."""
    if "Serving Benchmark Result" in text and _SERVING_HEADER.search(text):
        headers = [m.start() for m in _SERVING_HEADER.finditer(text)] + [len(text)]
        kinds = {"sglang-console" if _BACKEND.search(text, a, b) else "vllm-console"
                 for a, b in pairwise(headers)}
        return kinds.pop() if len(kinds) == 1 else "mixed-console"
    if "PERFORMANCE OVERVIEW" in text and _TRTLLM.search(text):
        return "trtllm-bench"
    return None


def _is_metric(v: Any) -> bool:
    return isinstance(v, dict) and "avg" in v


def identify(doc: Any) -> str | None:
    """The format of one document (a JSON file, or one line of a JSON Lines file)."""
    if isinstance(doc, list):
        first = next((x for x in doc if isinstance(x, dict)), None)
        if first is not None and ("end_to_end_latency_s" in first
                                  or "number_output_tokens" in first):
            return "llmperf-individual"
        return None
    if not isinstance(doc, dict):
        return None
    keys = set(doc)
    if isinstance(doc.get("performance"), dict) and isinstance(doc.get("request_info"), dict):
        return "trtllm-bench"
    if is_record(doc):
        return "aiperf-records"
    if "results_num_completed_requests" in keys or "num_concurrent_requests" in keys:
        return "llmperf-summary"
    if _is_metric(doc.get("request_throughput")) or _is_metric(doc.get("benchmark_duration")):
        return "aiperf"
    if "total_output_tokens_retokenized" in keys or (
            "dataset_name" in keys and "completed" in keys and "model_id" not in keys):
        return "sglang"
    if "completed" in keys and ("request_throughput" in keys or "output_throughput" in keys):
        return "vllm"
    if "eval" in keys and isinstance(doc.get("eval"), dict) and "task" in doc["eval"]:
        return "inspect"
    if "doc_id" in keys and ("filter" in keys or "resps" in keys):
        return "lmeval-samples"
    if isinstance(doc.get("results"), dict) and ("configs" in keys or "n-samples" in keys):
        return "lmeval-results"
    inner = doc.get("results")
    if isinstance(inner, dict) and isinstance(inner.get("results"), list) and (
            "evalId" in keys or "prompts" in inner):
        return "promptfoo"
    if {"model", "example_id", "capability", "passed"} <= keys:
        return "plain"
    return None
