"""A starter text map for a scenario whose capabilities have no text rules (``econ traffic
--suggest-map``): word clusters of the traffic, each offered to the capability whose id or
label its top terms name.

Pure: the scenario's capabilities and a sample of conversation texts in, a
:class:`SuggestedMap` out (the command renders it as YAML).

Method (seeded, deterministic):
- the texts are clustered as unseen traffic is (:mod:`.clusters`: word TF-IDF, k-means,
  k = round(sqrt(n / 2)) up to ``max_clusters``), each cluster with its share, top terms and
  example snippets;
- a capability's *words* are those of its id and label, three letters or more, less a few that
  name no topic (``help``, ``questions``, ``input`` ...);
- a cluster goes to the capability with the most of its terms naming one of the capability's
  words (:func:`same_stem`: common English suffixes stripped, equal stems or the shorter, of
  four letters or more, beginning the longer; the first listed on a tie); a cluster whose
  terms name no capability stays unassigned, and is listed for the user to assign;
- a capability's suggested keywords are the terms of the clusters it got, in cluster order,
  at most ``max_keywords``, each only if it occurs as a word in at least ``MIN_TEXTS`` and
  ``MIN_SHARE`` of its cluster's texts (a name from one request, high in TF-IDF because it is
  rare, is no topic's keyword); the cluster listing keeps every top term. A capability no
  cluster went to gets no rule: a keyword from its name alone would be a guess, and a rule
  that never matches would look like a measured 0% for traffic the log cannot see. Without a
  rule, ``--write`` keeps its share as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from econ.base.errors import EconError
from econ.evidence.traffic.clusters import cluster_unseen

__all__ = ["GENERIC_WORDS", "MIN_SHARE", "MIN_TEXTS", "SuggestedCluster", "SuggestedMap",
           "capability_words", "common_terms", "same_stem", "stem", "suggest_map"]

GENERIC_WORDS = frozenset({
    "and", "the", "for", "with", "from", "into", "instead", "help", "helps", "helping",
    "general", "question", "questions", "answer", "answers", "asks", "asking", "input",
    "inputs", "format", "formats", "case", "corner", "task", "tasks", "other", "misc", "user",
    "users", "request", "requests", "chat", "assist", "assisting", "assistant"})
_PREFIX = 4
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "al", "s",
             "e", "y")
MIN_TEXTS = 2
MIN_SHARE = 0.10


@dataclass(frozen=True)
class SuggestedCluster:
    n: int
    share: float
    terms: tuple[str, ...]
    examples: tuple[str, ...]
    capability: str | None  # the capability it was offered to, None when no name matched
    matched: tuple[str, ...]  # its terms that share a stem with that capability's words


@dataclass(frozen=True)
class SuggestedMap:
    keywords: dict[str, tuple[str, ...]]  # capability -> suggested keywords (those with any)
    clusters: tuple[SuggestedCluster, ...]
    conversations: int  # texts clustered
    unmatched: tuple[str, ...]  # capabilities no cluster went to


def capability_words(cid: str, label: str | None = None) -> tuple[str, ...]:
    """The topical words of a capability's id and label."""
    words = re.findall(r"[^\W\d_]{3,}", f"{cid} {label or ''}".replace("_", " ").lower())
    return tuple(dict.fromkeys(w for w in words if w not in GENERIC_WORDS))


def stem(word: str) -> str:
    """``word`` lowered, less its first matching common English suffix (``_SUFFIXES``) when at
    least three letters remain: ``coding`` and ``code`` -> ``cod``, ``legal`` -> ``leg``."""
    w = word.lower()
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def same_stem(a: str, b: str) -> bool:
    """Whether two words name the same thing: equal stems, or the shorter stem (at least four
    letters) begins the longer (``math`` and ``mathematics``; not ``legal`` and ``legacy``)."""
    x, y = sorted((stem(a), stem(b)), key=len)
    return x == y or (len(x) >= _PREFIX and y.startswith(x))


def _matches(terms: Sequence[str], words: Sequence[str]) -> tuple[str, ...]:
    return tuple(t for t in terms if any(same_stem(t, w) for w in words))


def common_terms(terms: Sequence[str], texts: Sequence[str]) -> tuple[str, ...]:
    """The ``terms`` that occur as a whole word (lower case, letters not adjoining) in at least
    ``MIN_TEXTS`` of ``texts`` and in at least ``MIN_SHARE`` of them."""
    need = max(MIN_TEXTS, MIN_SHARE * len(texts))
    lowered = [t.lower() for t in texts]
    out = []
    for term in terms:
        word = re.compile(rf"(?<![^\W\d_]){re.escape(term.lower())}(?![^\W\d_])")
        if sum(1 for t in lowered if word.search(t)) >= need:
            out.append(term)
    return tuple(out)


def suggest_map(capabilities: Sequence[tuple[str, str | None]], texts: Sequence[str], *,
                seed: int = 0, max_clusters: int = 12,
                max_keywords: int = 8) -> SuggestedMap:
    """Clusters of ``texts`` and the keywords they suggest for each capability (module
    docstring). ``capabilities``: (id, label or None) in the scenario's order."""
    if not capabilities:
        raise EconError("--suggest-map needs the scenario's capabilities")
    if not texts:
        raise EconError("--suggest-map: no conversation text to cluster")
    n = len(texts)
    found, labels = cluster_unseen(np.arange(n), lambda i: texts[i], n, seed=seed,
                                   max_clusters=max_clusters)
    words = {cid: capability_words(cid, label) for cid, label in capabilities}
    clusters: list[SuggestedCluster] = []
    keywords: dict[str, list[str]] = {cid: [] for cid, _ in capabilities}
    for k, c in enumerate(found):
        best: str | None = None
        hits: tuple[str, ...] = ()
        for cid, _ in capabilities:
            m = _matches(c.terms, words[cid])
            if len(m) > len(hits):
                best, hits = cid, m
        clusters.append(SuggestedCluster(c.n, c.share, c.terms, c.examples, best, hits))
        if best is not None:
            members = [texts[int(i)] for i in np.flatnonzero(labels == k)]
            keywords[best].extend(t for t in common_terms(c.terms, members)
                                  if t not in keywords[best])
    chosen = {cid: tuple(kw[:max_keywords]) for cid, kw in keywords.items() if kw}
    unmatched = tuple(cid for cid, _ in capabilities if cid not in chosen)
    return SuggestedMap(chosen, tuple(clusters), n, unmatched)
