"""Conversation texts for the steps that read them (coverage, the classifier), in bounded
samples: never every conversation's text at once.

A sample is drawn on the engine by the smallest hashes of the conversation keys (uniform and
deterministic for an engine), kept there as a small table, and only the user messages of the
sampled conversations are pulled, in batches, and joined per conversation on the client.
In: the loaded messages, the per-conversation table of ``engine.summarise``. Out: texts with
their rule-based capability.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["TextSample", "stratified_texts", "uniform_texts"]


@dataclass(frozen=True)
class TextSample:
    texts: list[str]
    labels: list[str | None]  # the text rules' capability (None: uncategorised)
    population: int  # conversations the sample was drawn from


def _hashed(conv: Any) -> Any:
    return conv.mutate(key=conv.conversation.cast("string").hash())


def _texts(messages: Any, picked: Any, scratch: Any) -> TextSample:
    picked = scratch.materialise(picked.select("conversation", "capability"))
    labels = {r["conversation"]: r["capability"] for r in picked.to_pyarrow().to_pylist()}
    user = messages.filter(messages.role == "user").semi_join(picked, "conversation")
    parts: dict[Any, list[tuple[int, str]]] = {c: [] for c in labels}
    for batch in user.select("conversation", "message", text=user.text.fill_null(""))\
            .to_pyarrow_batches(chunk_size=20_000):
        cols = batch.to_pydict()
        for c, m, t in zip(cols["conversation"], cols["message"], cols["text"], strict=True):
            parts[c].append((int(m), str(t)))
    order = sorted(labels, key=str)
    return TextSample(["\n".join(t for _, t in sorted(parts[c])) for c in order],
                      [labels[c] for c in order], 0)


def uniform_texts(messages: Any, conv: Any, scratch: Any, size: int) -> TextSample:
    """User text of a uniform sample of ``size`` conversations (all when there are fewer)."""
    total = int(conv.count().to_pyarrow().as_py())
    picked = _hashed(conv).order_by("key").limit(size)
    got = _texts(messages, picked, scratch)
    return TextSample(got.texts, got.labels, total)


def stratified_texts(messages: Any, conv: Any, scratch: Any, size: int,
                     counts: Mapping[str | None, int]) -> TextSample:
    """A proportional stratified sample of ``size`` conversations over the rule-based
    capabilities (``counts``: conversations per capability, None uncategorised)."""
    import ibis

    from econ.evidence.traffic.classifier import allocate

    alloc = allocate({k or "": v for k, v in counts.items()}, size)
    hashed = _hashed(conv)
    parts = []
    for stratum, k in sorted(alloc.items()):
        if k <= 0:
            continue
        cond = (hashed.capability.isnull() if stratum == "" else
                hashed.capability == stratum)
        parts.append(hashed.filter(cond).order_by("key").limit(k))
    picked = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    got = _texts(messages, picked, scratch)
    return TextSample(got.texts, got.labels, sum(counts.values()))
