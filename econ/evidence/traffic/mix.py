"""Traffic mix: conversations assigned to capabilities by text rules, as Ibis expressions.

Each rule pattern (compiled by :mod:`econ.evidence.traffic.rules` for lowered text) is tested on
each user message once; a conversation matches a pattern when any of its user messages does
(a pattern never spans two messages). The conversation goes to the capability with the most
matching patterns (the first listed on a tie); one that matches none stays uncategorised (null),
and its share is reported apart, never folded into a capability. Shares carry Wilson intervals.

The assignment is one row per conversation; the caller materialises it once (a temporary
table on the engine) and every later query joins it, so no pattern is evaluated twice. User
text is lowered once; one alternation of all patterns drops the messages that match nothing
(most of them, in one scan); on the rest a whole-word keyword is a substring test on the text
with its non-word runs made spaces, and a regex runs only where its literal occurs.

In: an Ibis table of messages (``conversation, role, text``) and (capability, patterns) rules.
Out: an Ibis table ``conversation, turns, capability``; ``shares`` turns counts into
``CapabilityShare`` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from econ.base.stats import wilson_interval
from econ.evidence.traffic.rules import any_of, keyword_test, required_literal, spaced

__all__ = ["CapabilityShare", "conversations", "rule_hits", "shares"]

Rules = Sequence[tuple[str, Sequence[str]]]


@dataclass(frozen=True)
class CapabilityShare:
    id: str
    n: int
    share: float
    ci_low: float
    ci_high: float


def _hit(low: Any, words: Any, pattern: str) -> Any:
    """Pattern ``pattern`` on lowered text ``low`` (``words``: its :func:`spaced` form)."""
    import ibis

    test = keyword_test(pattern)
    if test is not None:
        kind, literal = test
        return words.contains(f" {literal} ") if kind == "word" else low.contains(literal)
    needed = required_literal(pattern)
    hit = low.re_search(pattern)
    return hit if needed is None else ibis.ifelse(low.contains(needed), hit, False)


def _identity(table: Any) -> Any:
    return table


def rule_hits(messages: Any, rules: Rules,
              materialise: Callable[[Any], Any] = _identity) -> Any:
    """``conversation, h0, h1, …`` (1 where a user message of the conversation matches
    pattern j, rules' patterns in order) for the conversations that match any pattern.

    User text is lowered once, and one alternation of every pattern keeps only the messages
    that can match anything (one scan of the text). On those, a whole-word keyword is a
    substring test on the text with its non-word runs made spaces, a keyword without
    boundaries a plain substring test, and only the rest run their regex (where their literal
    occurs). ``materialise`` computes a table once on the engine (a scratch cache), which keeps
    the engine from inlining the lowered text into every test."""
    import ibis

    user = messages.filter(messages.role == "user")
    low = user.select("conversation", low=user.text.fill_null("").lower())
    flat = [p for _, patterns in rules for p in patterns]
    gated = low.filter(low.low.re_search(any_of(flat)))
    gated = materialise(gated.mutate(words=spaced(gated.low)))
    hits = {f"h{j}": ibis.ifelse(_hit(gated.low, gated.words, p), 1, 0).cast("int8").max()
            for j, p in enumerate(flat)}
    return gated.group_by("conversation").aggregate(**hits)


def conversations(messages: Any, rules: Rules,
                  materialise: Callable[[Any], Any] = _identity) -> Any:
    """``conversation, turns, capability`` (null where no rule matches): one row per
    conversation; ``turns`` = its user messages (the highest ``turn``)."""
    import ibis

    null = ibis.null().cast("string")
    turns = messages.group_by("conversation").aggregate(turns=messages.turn.max())
    if not rules:
        return turns.select("conversation", "turns", capability=null)
    hits = rule_hits(messages, rules, materialise)
    agg = turns.left_join(hits, "conversation")
    scores, j = [], 0
    for _, patterns in rules:
        cols = [agg[f"h{j + k}"].fill_null(0).cast("int64") for k in range(len(patterns))]
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
