"""Traffic mix: conversations assigned to capabilities by text rules, as Ibis expressions.

Each rule pattern (compiled by :mod:`econ.evidence.traffic.rules` for lowered text) is tested on
each user message once; a conversation matches a pattern when any of its user messages does
(a pattern never spans two messages). The conversation goes to the capability with the most
matching patterns (the first listed on a tie); one that matches none stays uncategorised (null),
and its share is reported apart, never folded into a capability. Shares carry Wilson intervals.

The assignment is one aggregation per conversation; the caller materialises it once (a
temporary table on the engine) and every later query joins it, so no pattern is evaluated twice.
A keyword's literal is tested with a plain substring search first, and its regex only where the
literal occurs.

In: an Ibis table of messages (``conversation, role, text``) and (capability, patterns) rules.
Out: an Ibis table ``conversation, turns, capability``; ``shares`` turns counts into
``CapabilityShare`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from econ.base.stats import wilson_interval
from econ.evidence.traffic.rules import required_literal

__all__ = ["CapabilityShare", "conversations", "hit_expressions", "shares"]

Rules = Sequence[tuple[str, Sequence[str]]]


@dataclass(frozen=True)
class CapabilityShare:
    id: str
    n: int
    share: float
    ci_low: float
    ci_high: float


def hit_expressions(text: Any, patterns: Sequence[str]) -> list[Any]:
    """One boolean per pattern on already lowered ``text``."""
    import ibis

    out = []
    for pattern in patterns:
        literal = required_literal(pattern)
        hit = text.re_search(pattern)
        if literal is not None:  # the regex runs only where the keyword occurs
            hit = ibis.ifelse(text.contains(literal), hit, False)
        out.append(hit)
    return out


def conversations(messages: Any, rules: Rules) -> Any:
    """``conversation, turns, capability`` (null where no rule matches): one row per
    conversation; ``turns`` = its user messages (the highest ``turn``)."""
    import ibis

    null = ibis.null().cast("string")
    if not rules:
        agg = messages.group_by("conversation").aggregate(turns=messages.turn.max())
        return agg.select("conversation", "turns", capability=null)
    is_user = messages.role == "user"
    low = messages.text.fill_null("").lower()
    flat = [p for _, patterns in rules for p in patterns]
    hits = hit_expressions(low, flat)
    agg = messages.group_by("conversation").aggregate(
        turns=messages.turn.max(),
        **{f"h{j}": ibis.ifelse(is_user & hit, 1, 0).cast("int8").max()
           for j, hit in enumerate(hits)})
    scores, j = [], 0
    for _, patterns in rules:
        cols = [agg[f"h{j + k}"].cast("int64") for k in range(len(patterns))]
        j += len(patterns)
        scores.append(sum(cols[1:], cols[0]) if cols else ibis.literal(0, "int64"))
    scored = agg.select("conversation", "turns", **{f"s{i}": s for i, s in enumerate(scores)})
    s = [scored[f"s{i}"] for i in range(len(scores))]
    best = ibis.greatest(*s) if len(s) > 1 else s[0]
    capability = ibis.cases(*[((best > 0) & (si == best), cap)
                              for (cap, _), si in zip(rules, s, strict=True)], else_=null)
    return scored.select("conversation", "turns", capability=capability)


def shares(counts: dict[str | None, int], capability_ids: Sequence[str],
           total: int) -> tuple[list[CapabilityShare], int]:
    """Each capability's share of ``total`` conversations with its Wilson interval, in the
    order given; and the uncategorised count."""
    out = []
    for cap in capability_ids:
        n = counts.get(cap, 0)
        lo, hi = wilson_interval(n, total)
        out.append(CapabilityShare(cap, n, n / total if total else 0.0, lo, hi))
    return out, counts.get(None, 0)
