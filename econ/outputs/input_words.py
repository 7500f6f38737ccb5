"""A sensitivity input in words: ``models.llama-8b.target_utilisation`` reads "target GPU
utilisation of llama-8b" on the tornado (the YAML path stays in the tooltip).

In: the input names :func:`econ.decisions.sensitivity.sensitivity` gives (YAML paths with
``[id]`` for list items, ``prices.MODEL.FIELD``, "measured throughput of MODEL (× base)").
Out: a short phrase; an input it does not know reads as its last field in words with the path's
ids, never as nothing.
"""

from __future__ import annotations

import re

__all__ = ["input_words"]

_FIELDS = {
    "user_tokens_per_turn": "user tokens per turn",
    "assistant_tokens_per_turn": "assistant tokens per turn",
    "system_prompt_tokens": "system-prompt tokens",
    "turns": "turns per conversation",
    "cache_hit_rate": "prompt-cache hit rate",
    "traffic_share": "traffic share",
    "severity_usd": "cost of a failure (USD)",
    "payment_fixed_usd": "card fee per payment (USD)",
    "payment_rate": "card fee rate",
    "gpus_per_replica": "GPUs per replica",
    "peak_to_average": "peak-to-average traffic",
    "reasoning_tokens_per_turn": "reasoning tokens per turn",
    "target_utilisation": "target GPU utilisation",
    "usd_per_gpu_hour": "GPU price (USD/GPU-hour)",
    "input_usd_per_mtok": "input-token price (USD/M tokens)",
    "output_usd_per_mtok": "output-token price (USD/M tokens)",
    "cached_input_usd_per_mtok": "cached-input price (USD/M tokens)",
    "cache_write_usd_per_mtok": "cache-write price (USD/M tokens)",
    "conversations_per_user_month": "conversations per user a month",
    "router_error_rate": "router error rate",
    "router_usd_per_conversation": "router cost per conversation (USD)",
    "target_gross_margin": "target gross margin",
    "price_usd_month": "price (USD/month)",
    "users": "users",
}

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"capabilities\[(?P<cap>[^\]]+)\]\.reasoning_tokens_per_turn\.(?P<m>.+)"),
     "reasoning tokens per turn of {m} on {cap}"),
    (re.compile(r"capabilities\[(?P<cap>[^\]]+)\]\.(?:conversation\.)?(?P<f>\w+)"),
     "{f}, {cap}"),
    (re.compile(r"tiers\[(?P<tier>[^\]]+)\]\.(?:plan\.route\.)?(?P<f>\w+)"), "{f}, tier {tier}"),
    (re.compile(r"(?:models|prices)\.(?P<m>.+)\.(?P<f>\w+)"), "{f} of {m}"),
    (re.compile(r"(?:conversation|fees)\.(?P<f>\w+)"), "{f}"),
]


def _field(name: str) -> str:
    return _FIELDS.get(name, name.replace("_", " "))


def input_words(path: str) -> str:
    """``path`` (a sensitivity input) as a phrase a finance reader follows."""
    for pattern, words in _PATTERNS:
        m = pattern.fullmatch(path)
        if m:
            parts = m.groupdict()
            if "f" in parts:
                parts["f"] = _field(parts["f"])
            return words.format(**parts)
    if "." not in path and "[" not in path:
        return path  # already words ("measured throughput of … (× base)")
    ids = re.findall(r"\[([^\]]+)\]", path)
    last = re.split(r"[.\]]", path)[-1] or path
    return _field(last) + (f" ({', '.join(ids)})" if ids else "")
