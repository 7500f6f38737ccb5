"""Multi-turn load-test traces of a scenario's conversations, for NVIDIA AIPerf to replay.

In: a validated scenario, a model id, a number of conversations and a seed.
Out: one AIPerf ``multi_turn`` custom-dataset record per conversation (JSON-ready dicts); the
CLI writes them as JSON Lines. Pure: no paths, no prints. May import ``econ.base`` and
``econ.scenario``.

The format is AIPerf's multi-turn custom dataset (``aiperf profile --input-file FILE
--custom-dataset-type multi_turn``), one conversation a line::

    {"session_id": "econ-code_help-000007",
     "turns": [{"role": "system", "text": "..."},
               {"text": "...", "output_length": 250},
               {"text": "...", "output_length": 250}]}

as documented in AIPerf's custom dataset guide and multi-turn tutorial
(https://docs.nvidia.com/aiperf/tutorials/datasets-inputs/custom-dataset-guide.md,
https://docs.nvidia.com/aiperf/tutorials/datasets-inputs/multi-turn-conversations.md; source:
ai-dynamo/aiperf ``docs/tutorials/custom-dataset.md`` and ``docs/tutorials/multi-turn.md``, and
the ``MultiTurn``/``SingleTurn`` models of ``aiperf.dataset.loader.models`` in aiperf 0.13.0):

- a leading text-only ``role: system`` turn is hoisted into the conversation's system message
  and sent before every turn (it is not a turn of its own);
- AIPerf re-sends the whole history with every turn, the assistant's actual replies included,
  so the scenario's ``resend_history: true`` is what it replays. A shape with
  ``resend_history: false`` cannot be written in this format and is refused;
- ``output_length`` is the turn's ``max_tokens``: the answer's tokens plus the traced model's
  hidden reasoning tokens per turn (``reasoning_tokens_per_turn``, a capability's override
  first). A reasoning model that returns its reasoning apart (vLLM's reasoning parser) is not
  re-sent it; a plain server re-sends it with the reply, which the replay then measures;
  ``delay`` (milliseconds) is the user's think
  time before a turn; ``extra`` is merged into the request body (``ignore_eos`` and
  ``min_tokens`` are vLLM/SGLang sampling extensions that make the server write the full
  ``output_length``).

What is drawn, per conversation, with ``numpy.random.default_rng(seed)``:

- its capability: conversations are apportioned to the capabilities by traffic share (largest
  remainder, the uncategorised remainder getting the scenario's own shape), then shuffled;
- its shape: the scenario's conversation shape with the capability's overrides;
- its lengths, with the Monte Carlo spreads of the scenario: the mean user and the mean
  assistant tokens per turn are multiplied by independent lognormal factors of mean 1 and
  coefficient of variation ``token_length_cv``,
  the number of turns by one with ``turns_cv``, rounded to a whole number of at least 1. The
  factors have mean 1, so the trace's mean is the scenario's mean (the Monte Carlo of
  ``econ.decisions.uncertainty`` keeps the median instead: it spreads a belief, this a sample).

The text is synthetic: words from a list of common English words that are one token each (with
their leading space) in the BPE vocabularies of the GPT-2, Llama 3 and Qwen families, so a message
of ``u`` words is about ``u`` tokens. The system prompt is one text shared by every conversation
(each shape takes its first ``S`` words), as a product's system prompt is; every user message is
drawn afresh, so conversations share no other prefix. The server's prefix cache then does what it
does; the scenario's ``cache_hit_rate`` is not written anywhere (it is measured by the replay).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.base.errors import EconError
from econ.scenario.conversation import capability_shape, reasoning_tokens_per_turn
from econ.scenario.schema import ConversationShape, Scenario

__all__ = ["MAX_TRACE_WORDS", "TRACE_FORMAT", "UNCATEGORISED", "Trace", "trace_conversations"]

TRACE_FORMAT = "aiperf multi_turn"
UNCATEGORISED = "uncategorised"
MAX_TRACE_WORDS = 50_000_000  # about 300 MB of JSON Lines: more than any replay needs

# one token each, with the leading space, in GPT-2, Llama 3 and Qwen 2/3 BPE vocabularies
_WORDS = (
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
    "they", "you", "were", "her", "she", "there", "been", "one", "all", "we", "their", "has",
    "would", "when", "if", "so", "no", "will", "can", "more", "out", "up", "into", "do", "any",
    "your", "what", "some", "could", "them", "other", "than", "then", "now", "only", "its",
    "also", "two", "may", "like", "time", "over", "new", "first",
)


@dataclass(frozen=True)
class Trace:
    """The conversations of a trace, as AIPerf ``multi_turn`` records, and what was drawn."""

    records: tuple[dict[str, Any], ...]
    capability_of: tuple[str, ...]  # per conversation
    turns: tuple[int, ...]  # per conversation
    user_words: tuple[int, ...]  # per conversation, all turns
    max_output_tokens: tuple[int, ...]  # per conversation, all turns

    def conversations_by_capability(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.capability_of:
            out[c] = out.get(c, 0) + 1
        return out


def _apportion(shares: Sequence[float], n: int) -> list[int]:
    """Whole counts summing to ``n`` in proportion to ``shares`` (largest remainder)."""
    total = sum(shares)
    exact = [n * s / total for s in shares]
    counts = [int(np.floor(x)) for x in exact]
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _lognormal(rng: np.random.Generator, cv: float) -> float:
    if cv <= 0:
        return 1.0
    sigma = float(np.sqrt(np.log1p(cv * cv)))
    # mean 1 (the shape's figure is a mean)
    return float(np.exp(sigma * rng.standard_normal() - sigma * sigma / 2))


def _text(rng: np.random.Generator, words: int) -> str:
    return " ".join(_WORDS[i] for i in rng.integers(0, len(_WORDS), size=max(1, words)))


def trace_conversations(scenario: Scenario, model: str, conversations: int, seed: int,
                        think_time_s: float = 0.0, ignore_eos: bool = False) -> Trace:
    """``conversations`` AIPerf multi-turn records of the scenario's traffic for ``model``."""
    if model not in scenario.models:
        raise EconError(f"--model {model}: not a model of the scenario; it has "
                        f"{', '.join(scenario.models)}")
    if conversations < 1:
        raise EconError(f"--conversations: must be at least 1 (got {conversations})")
    if seed < 0:
        raise EconError(f"--seed: must be a whole number of at least 0 (got {seed})")
    if not think_time_s >= 0 or not np.isfinite(think_time_s):
        raise EconError(f"--think-time-s: must be a finite number of at least 0 "
                        f"(got {think_time_s})")
    spec = scenario.models[model]
    groups: list[tuple[str, ConversationShape, str]] = []
    reasoning: dict[str, float] = {}
    for i, c in enumerate(scenario.capabilities):
        if c.traffic_share > 0:
            groups.append((c.id, capability_shape(scenario.conversation, c),
                           f"capabilities.{i}.conversation.resend_history"))
            reasoning[c.id] = reasoning_tokens_per_turn(model, spec, c)
    shares = [c.traffic_share for c in scenario.capabilities if c.traffic_share > 0]
    rest = 1.0 - sum(shares)
    if rest > 1e-9:  # traffic no capability claims has the scenario's own shape
        groups.append((UNCATEGORISED, scenario.conversation, "conversation.resend_history"))
        shares.append(rest)
        reasoning[UNCATEGORISED] = reasoning_tokens_per_turn(model, spec, None)
    for _cid, shape, where in groups:
        if not shape.resend_history:
            raise EconError(f"{where}: false is not a conversation AIPerf's multi_turn format "
                            "can replay (it re-sends the history with every turn)")
    counts = _apportion(shares, conversations)
    rng = np.random.default_rng(seed)
    order = rng.permutation(np.repeat(np.arange(len(groups)), counts))
    max_system = max(round(shape.system_prompt_tokens) for _c, shape, _w in groups)
    system_text = _text(rng, max_system).split(" ") if max_system > 0 else []
    turns_cv = scenario.conversation.turns_cv
    records: list[dict[str, Any]] = []
    caps: list[str] = []
    turns_out: list[int] = []
    user_out: list[int] = []
    output_out: list[int] = []
    total_words = 0
    for k, g in enumerate(order):
        cid, shape, _where = groups[int(g)]
        user_scale = _lognormal(rng, shape.token_length_cv)
        assistant_scale = _lognormal(rng, shape.token_length_cv)
        turns = max(1, round(shape.turns * _lognormal(rng, turns_cv)))
        u = max(1, round(shape.user_tokens_per_turn * user_scale))
        # the turn decodes the model's hidden reasoning as well as its answer
        a = max(1, round(shape.assistant_tokens_per_turn * assistant_scale + reasoning[cid]))
        s = round(shape.system_prompt_tokens)
        total_words += s + turns * u
        if total_words > MAX_TRACE_WORDS:
            raise EconError(f"--conversations: {conversations} conversations of this scenario "
                            f"come to more than {MAX_TRACE_WORDS:,} words; trace fewer")
        out_turns: list[dict[str, Any]] = []
        if s > 0:
            out_turns.append({"role": "system", "text": " ".join(system_text[:s])})
        for t in range(turns):
            turn: dict[str, Any] = {"text": _text(rng, u), "output_length": a}
            if t > 0 and think_time_s > 0:
                turn["delay"] = think_time_s * 1000.0
            if ignore_eos:
                turn["extra"] = {"ignore_eos": True, "min_tokens": a}
            out_turns.append(turn)
        records.append({"session_id": f"econ-{cid}-{k:06d}", "turns": out_turns})
        caps.append(cid)
        turns_out.append(turns)
        user_out.append(turns * u)
        output_out.append(turns * a)
    return Trace(tuple(records), tuple(caps), tuple(turns_out), tuple(user_out),
                 tuple(output_out))
