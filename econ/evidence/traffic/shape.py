"""Conversation shape as Ibis expressions: turns, tokens per turn, the cacheable history share.

Written once with Ibis, so the same expressions run on DuckDB, Polars or a warehouse. The
expressions return integer sums only (exact on every backend); the arithmetic that turns them
into means, spreads and percentiles is plain Python on the small results, so two backends give
identical figures.

In: the histogram of turns and the per-(capability, role) integer sums: those of logged counts
from the engine (``role_sums``), those of counted samples added on the client
(``add_counted``). Out: a ``Shape`` per capability and for all traffic.

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

__all__ = ["ALL", "SUM_KEYS", "Shape", "add_counted", "role_sums", "shapes", "turn_percentile",
           "weights"]

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


Sums = dict[str, int]  # n_all, n, s, ss, wp, wc of one (capability, role)
SUM_KEYS = ("n_all", "n", "s", "ss", "wp", "wc")


def weights(role: str, turn: int, turns: int) -> tuple[int, int]:
    """(times a message is sent in a prompt, times it is re-sent from history) over its
    conversation's ``turns``: the Python twin of the expressions in :func:`role_sums`."""
    later = turns - turn
    prompt = later + 1 if role in _INPUT else later if role in _OUTPUT else turns
    return prompt, (turns - 1 if role == "system" else later)


def role_sums(messages: Any) -> Any:
    """Per (capability, role): messages (``n_all``), messages with a logged count (``n``) and
    the integer sums of tokens, squares and prompt/cache-weighted tokens over them. ``messages``
    carries ``turns`` (its conversation's) and ``capability``."""
    import ibis

    m = messages
    later = m.turns - m.turn
    prompt_w = ibis.cases((m.role.isin(_INPUT), later + 1), (m.role.isin(_OUTPUT), later),
                          else_=m.turns)
    cached_w = ibis.cases((m.role == "system", m.turns - 1), else_=later)
    tok = m.tokens
    z = ibis.literal(0, "int64")
    return m.group_by(["capability", "role"]).aggregate(
        n_all=m.count(),
        n=tok.notnull().cast("int64").sum(),
        s=tok.fill_null(z).sum(),
        ss=(tok * tok).fill_null(z).sum(),
        wp=(tok * prompt_w).fill_null(z).sum(),
        wc=(tok * cached_w).fill_null(z).sum(),
    )


def add_counted(sums: dict[tuple[str | None, str], Sums], capability: str | None, role: str,
                tokens: int, turn: int, turns: int) -> None:
    """Add one message counted on the client (its tokens were not in the log)."""
    prompt, cached = weights(role, turn, turns)
    acc = sums.setdefault((capability, role), dict.fromkeys(SUM_KEYS, 0))
    acc["n"] += 1
    acc["s"] += tokens
    acc["ss"] += tokens * tokens
    acc["wp"] += tokens * prompt
    acc["wc"] += tokens * cached


def shapes(histogram: list[tuple[str | None, int, int]],
           sums: dict[tuple[str | None, str], Sums]) -> dict[str, Shape]:
    """The shape of all traffic (key ``"__all__"``) and of each capability (``""``:
    uncategorised) from (capability, turns, conversations) rows and the role sums."""
    hist: dict[str, list[tuple[int, int]]] = {}
    roles: dict[str, dict[str, Sums]] = {}
    for cap, turns, n in histogram:
        for key in (ALL, cap or ""):
            hist.setdefault(key, []).append((turns, n))
    for (cap, role), acc in sums.items():
        for key in (ALL, cap or ""):
            into = roles.setdefault(key, {}).setdefault(role, dict.fromkeys(SUM_KEYS, 0))
            for k in SUM_KEYS:
                into[k] += acc[k]
    return {key: _shape(_merged(h), roles.get(key, {})) for key, h in sorted(hist.items())}


def _merged(hist: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: dict[int, int] = {}
    for t, n in hist:
        out[t] = out.get(t, 0) + n
    return sorted(out.items())


def _shape(hist: list[tuple[int, int]], roles: dict[str, Sums]) -> Shape:
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
