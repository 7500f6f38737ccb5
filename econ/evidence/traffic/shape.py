"""Conversation shape as Ibis expressions: turns, tokens per turn, the cacheable history share.

Written once with Ibis, so the same expressions run on DuckDB, Polars or a warehouse. The
expressions return integer sums only (exact on every backend); the arithmetic that turns them
into means, spreads and percentiles is plain Python on the small results, so two backends give
identical figures.

In: an Ibis table of messages (``conversation``, ``turn``, ``role``, ``tokens`` nullable, an
optional ``capability``). Out: a ``Shape``.

Re-sent history: with history re-sent, turn t sends the system prompt, turns 1..t-1 and the new
user message; everything but that new message was sent before and is what a prompt cache can
hit. ``cache_hit_share`` = cacheable tokens / input tokens over all turns. Messages without a
token count (outside the tiktoken sample) are estimated per role from the counted ones.

Tool traffic and images (classes of :mod:`.messages`) are their own token classes, per turn
(their total over all turns ÷ turns): tool results and images are input of their turn, like the
user's message, and tool calls output, like the answer; all are re-sent in later turns. A turn
with tool calls makes more than one model call, each re-sending the turn so far; the shape
counts each message once per turn, as the scenario's one call per turn does (``tool_calls`` per
turn says how many extra calls that leaves out). Images without a stated size are not
estimated from the counted ones: ``images`` and ``images_counted`` say how many are missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Shape", "shapes", "turn_percentile"]

ALL = "__all__"
_INPUT = ("user", "tool", "image")  # sent in their own turn, re-sent after
_OUTPUT = ("assistant", "tool_call")  # written in their turn, re-sent after


@dataclass(frozen=True)
class Shape:
    conversations: int
    turns_mean: float
    turns_p50: float
    turns_p90: float
    single_turn_share: float
    user_tokens_mean: float
    user_tokens_sd: float
    assistant_tokens_mean: float
    assistant_tokens_sd: float
    system_tokens_mean: float  # per conversation (0 where it has none)
    cache_hit_share: float
    turns_sd: float = math.nan  # spread of turns per conversation (sample sd)
    tool_call_tokens_per_turn: float = 0.0  # output: calls the model wrote
    tool_result_tokens_per_turn: float = 0.0  # input: results sent back
    tool_calls: int = 0  # messages
    tool_results: int = 0
    image_tokens_per_turn: float = 0.0  # counted images only (a lower bound if some are not)
    images: int = 0
    images_counted: int = 0


def turn_percentile(histogram: Sequence[tuple[int, int]], q: float) -> float:
    """The q-th percentile (0..100) of turns, linear interpolation as numpy's default, from a
    histogram of (turns, conversations)."""
    pairs = sorted((t, n) for t, n in histogram if n > 0)
    total = sum(n for _, n in pairs)
    if total == 0:
        return math.nan
    h = (total - 1) * q / 100.0
    lo = math.floor(h)

    def at(rank: int) -> int:
        seen = 0
        for t, n in pairs:
            seen += n
            if rank < seen:
                return t
        return pairs[-1][0]

    a, b = at(lo), at(min(lo + 1, total - 1))
    return a + (h - lo) * (b - a)


def _mean_sd(n: int, s: int, ss: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    mean = s / n
    if n < 2:
        return mean, math.nan
    var = (ss - s * s / n) / (n - 1)
    return mean, math.sqrt(max(var, 0.0))


def _expressions(messages: Any, by: list[str]) -> tuple[Any, Any]:
    import ibis

    conv = messages.group_by(["conversation", *by]).aggregate(turns=messages.turn.max())
    hist = conv.group_by([*by, "turns"]).aggregate(n=conv.count())
    m = messages.join(conv.select("conversation", "turns"), "conversation")
    later = m.turns - m.turn
    prompt_w = ibis.cases((m.role.isin(_INPUT), later + 1), (m.role.isin(_OUTPUT), later),
                          else_=m.turns)
    cached_w = ibis.cases((m.role == "system", m.turns - 1), else_=later)
    tok = m.tokens
    counted = tok.notnull().cast("int64")
    z = ibis.literal(0, "int64")
    roles = m.group_by([*by, "role"]).aggregate(
        n_all=m.count(),
        n=counted.sum(),
        s=tok.fill_null(z).sum(),
        ss=(tok * tok).fill_null(z).sum(),
        wp=(tok * prompt_w).fill_null(z).sum(),
        wc=(tok * cached_w).fill_null(z).sum(),
    )
    return hist, roles


def _rows(expr: Any) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def shapes(messages: Any, *, by_capability: bool = False) -> dict[str, Shape]:
    """The shape of all traffic (key ``"__all__"``) and, with ``by_capability``, of each
    capability (the messages table then carries a ``capability`` column; null = uncategorised,
    reported under the key ``""``)."""
    by = ["capability"] if by_capability else []
    hist_e, roles_e = _expressions(messages, by)
    hist: dict[str, list[tuple[int, int]]] = {}
    roles: dict[str, dict[str, dict[str, int]]] = {}
    for r in _rows(hist_e):
        key = (r["capability"] or "") if by else ALL
        hist.setdefault(key, []).append((int(r["turns"]), int(r["n"])))
    for r in _rows(roles_e):
        key = (r["capability"] or "") if by else ALL
        roles.setdefault(key, {})[r["role"]] = {k: int(r[k] or 0) for k in
                                               ("n_all", "n", "s", "ss", "wp", "wc")}
    return {key: _shape(h, roles.get(key, {})) for key, h in sorted(hist.items())}


def _shape(hist: list[tuple[int, int]], roles: dict[str, dict[str, int]]) -> Shape:
    n_conv = sum(n for _, n in hist)
    turns_total = sum(t * n for t, n in hist)
    empty = {"n_all": 0, "n": 0, "s": 0, "ss": 0, "wp": 0, "wc": 0}
    user, assistant, system = (roles.get(r, empty) for r in ("user", "assistant", "system"))
    u_mean, u_sd = _mean_sd(user["n"], user["s"], user["ss"])
    a_mean, a_sd = _mean_sd(assistant["n"], assistant["s"], assistant["ss"])
    sys_mean = (system["s"] / system["n"] * system["n_all"] / n_conv
                if system["n"] and n_conv else 0.0)

    def expand(key: str) -> float:  # per-role expansion of the counted sample to all messages
        return sum(r[key] if role == "image" else r[key] * r["n_all"] / r["n"]
                   for role, r in roles.items() if r["n"])  # (images: only those counted)

    def per_turn(role: str) -> float:
        r = roles.get(role, empty)
        if not r["n_all"]:
            return 0.0
        if not r["n"] or not turns_total:
            return math.nan
        return r["s"] * r["n_all"] / r["n"] / turns_total

    prompt = expand("wp")
    image = roles.get("image", empty)
    return Shape(
        conversations=n_conv,
        turns_mean=turns_total / n_conv if n_conv else math.nan,
        turns_p50=turn_percentile(hist, 50),
        turns_p90=turn_percentile(hist, 90),
        single_turn_share=sum(n for t, n in hist if t == 1) / n_conv if n_conv else math.nan,
        user_tokens_mean=u_mean, user_tokens_sd=u_sd,
        assistant_tokens_mean=a_mean, assistant_tokens_sd=a_sd,
        system_tokens_mean=sys_mean,
        cache_hit_share=expand("wc") / prompt if prompt > 0 else 0.0,
        turns_sd=_mean_sd(n_conv, turns_total, sum(t * t * n for t, n in hist))[1],
        tool_call_tokens_per_turn=per_turn("tool_call"),
        tool_result_tokens_per_turn=per_turn("tool"),
        tool_calls=roles.get("tool_call", empty)["n_all"],
        tool_results=roles.get("tool", empty)["n_all"],
        image_tokens_per_turn=image["s"] / turns_total if turns_total else 0.0,
        images=image["n_all"], images_counted=image["n"],
    )
