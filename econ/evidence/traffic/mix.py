"""Traffic mix: conversations assigned to capabilities by text rules, as Ibis expressions.

A conversation goes to the capability with the most matching rules on its user text (the first
listed on a tie); a conversation that matches no rule stays uncategorised (null), and its share
is reported apart, never folded into a capability. Shares carry Wilson intervals.

In: an Ibis table ``conversation, text`` and (capability, regex patterns) rules. Out: an Ibis
table ``conversation, capability``; ``shares`` turns its counts into ``CapabilityShare`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from econ.base.stats import wilson_interval

__all__ = ["CapabilityShare", "assign_capabilities", "capability_counts", "shares"]


@dataclass(frozen=True)
class CapabilityShare:
    id: str
    n: int
    share: float
    ci_low: float
    ci_high: float


def assign_capabilities(conversations: Any,
                        rules: Sequence[tuple[str, Sequence[str]]]) -> Any:
    """``conversation, capability`` (null where no rule matches)."""
    import ibis

    text = conversations.text.fill_null("")
    null = ibis.null().cast("string")
    scores = []
    for _, patterns in rules:
        hits = [text.re_search(p).cast("int64") for p in patterns]
        scores.append(sum(hits[1:], hits[0]) if hits else ibis.literal(0, "int64"))
    if not scores:
        return conversations.select("conversation", capability=null)
    best = ibis.greatest(*scores) if len(scores) > 1 else scores[0]
    capability = ibis.cases(*[((best > 0) & (s == best), cap)
                              for (cap, _), s in zip(rules, scores, strict=True)], else_=null)
    return conversations.select("conversation", capability=capability)


def capability_counts(assigned: Any) -> dict[str | None, int]:
    """Conversations per capability (None: uncategorised)."""
    counts = assigned.group_by("capability").aggregate(n=assigned.count())
    return {r["capability"]: int(r["n"]) for r in counts.to_pyarrow().to_pylist()}


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
