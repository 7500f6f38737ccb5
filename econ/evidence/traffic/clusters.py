"""Clusters of unseen traffic, so a team can name the capabilities its evals never measured.

In: the vectors of the unseen conversations (through a ``take(indices)`` callable, so the whole
set is never held at once), their texts, the total traffic count. Out: one
:class:`UnseenCluster` per cluster: share of *all* traffic with a Wilson interval, top terms,
three example snippets.

Method (seeded, deterministic):
- k-means (scikit-learn, ``n_init=10``) on at most ``MAX_SAMPLE`` unseen conversations drawn
  without replacement, on their word-level TF-IDF (English stop words removed, L2-normalised,
  so spherical k-means in effect), or on their embeddings when coverage ran on embeddings;
- k = round(sqrt(n / 2)) (the rule of thumb of Mardia, Kent and Bibby), between 1 and
  ``max_clusters``, and never more than the conversations sampled;
- every unseen conversation is then assigned to the centroid of highest cosine, in chunks (one
  with no word of the sample's vocabulary has cosine 0 to all and goes to the first);
- terms: a cluster's highest mean word TF-IDF weights among its sampled members;
- examples: the three members nearest their centroid, whitespace collapsed, cut to 80 characters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer

from econ.base.stats import wilson_interval

__all__ = ["MAX_SAMPLE", "SNIPPET_CHARS", "UnseenCluster", "cluster_count", "cluster_unseen",
           "snippet"]

MAX_SAMPLE = 2000
SNIPPET_CHARS = 80
TERMS = 5
EXAMPLES = 3
Take = Callable[[np.ndarray], Any]


@dataclass(frozen=True)
class UnseenCluster:
    n: int
    share: float
    ci_low: float
    ci_high: float
    terms: tuple[str, ...]
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"share": self.share, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "n": self.n, "terms": list(self.terms), "examples": list(self.examples)}


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Whitespace collapsed, cut to ``limit`` characters (an ellipsis marks the cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def cluster_count(n: int, max_clusters: int) -> int:
    """k = round(sqrt(n / 2)), kept within 1..max_clusters and at most n."""
    if n <= 0:
        return 0
    return max(1, min(max_clusters, n, round(math.sqrt(n / 2))))


def _dense(x: Any) -> np.ndarray:
    return np.asarray(x.toarray() if sp.issparse(x) else x, dtype=np.float64)


def _unit(c: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(c, axis=1, keepdims=True)
    out: np.ndarray = np.divide(c, norms, out=np.zeros_like(c), where=norms > 0)
    return out


def _word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(stop_words="english", sublinear_tf=True, max_features=20000,
                           token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b", dtype=np.float64)


def _terms(w: Any, names: np.ndarray, labels: np.ndarray, k: int) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for c in range(k):
        members = w[labels == c]
        if members.shape[0] == 0:
            out.append(())
            continue
        mean = np.asarray(members.mean(axis=0)).ravel()
        top = [i for i in np.argsort(-mean, kind="stable")[:TERMS] if mean[i] > 0]
        out.append(tuple(str(names[i]) for i in top))
    return out


def cluster_unseen(unseen: np.ndarray, texts: Callable[[int], str], total: int, *,
                   take: Take | None = None, seed: int = 0, max_clusters: int = 8,
                   chunk_rows: int = 4096,
                   confidence: float = 0.95) -> tuple[tuple[UnseenCluster, ...], np.ndarray]:
    """Clusters of the ``unseen`` conversation indices (sorted by size, largest first) and the
    cluster of each unseen conversation (aligned with ``unseen``).

    Clustered on ``take(indices)`` vectors when given (embeddings), else on word-level TF-IDF
    fitted on the sample (topical, and a few thousand columns where the character n-grams
    hash into a million: k-means on those would be slow for no gain)."""
    if len(unseen) == 0:
        return (), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    sample = unseen if len(unseen) <= MAX_SAMPLE else np.sort(
        rng.choice(unseen, MAX_SAMPLE, replace=False))
    sample_texts = [texts(int(i)) for i in sample]
    words = _word_vectorizer()
    try:
        w = words.fit_transform(sample_texts)
        names = words.get_feature_names_out()
    except ValueError:  # nothing but stop words and digits
        w, names = None, np.array([], dtype=object)

    def vectors(idx: np.ndarray) -> Any:
        if take is not None:
            return take(idx)
        return words.transform([texts(int(i)) for i in idx])

    k = cluster_count(len(sample), max_clusters)
    x = take(sample) if take is not None else w
    if x is None:
        k = 1
    if k == 1:
        centroids = np.ones((1, 1)) if x is None else _unit(
            np.asarray(x.mean(axis=0), dtype=np.float64).reshape(1, -1))
    else:
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
        centroids = _unit(np.asarray(km.cluster_centers_, dtype=np.float64))
    labels = np.empty(len(unseen), dtype=np.int64)
    if x is None:
        labels[:] = 0
        sims = np.zeros((len(sample), 1))
    else:
        for a in range(0, len(unseen), chunk_rows):
            block = vectors(unseen[a:a + chunk_rows])
            labels[a:a + chunk_rows] = _dense(block @ centroids.T).argmax(1)
        sims = _dense(x @ centroids.T)
    sample_labels = sims.argmax(axis=1)
    terms = _terms(w, names, sample_labels, k) if w is not None else [()] * k
    counts = np.bincount(labels, minlength=k)
    clusters = []
    for c in range(k):
        if counts[c] == 0:
            continue
        members = np.flatnonzero(sample_labels == c)
        order = members[np.argsort(-sims[members, c], kind="stable")]
        candidates = [sample_texts[i] for i in order] or [  # no sampled member: the first ones
            texts(int(i)) for i in unseen[labels == c][:EXAMPLES * 4]]
        examples: list[str] = []
        for text in candidates:
            s = snippet(text)
            if s and s not in examples:
                examples.append(s)
            if len(examples) == EXAMPLES:
                break
        lo, hi = wilson_interval(int(counts[c]), total, confidence)
        n = int(counts[c])
        clusters.append((c, UnseenCluster(n, n / total, lo, hi, terms[c], tuple(examples))))
    clusters.sort(key=lambda t: (-t[1].n, t[0]))
    rank = {c: r for r, (c, _) in enumerate(clusters)}
    relabelled = np.array([rank.get(int(c), -1) for c in labels], dtype=np.int64)
    return tuple(cl for _, cl in clusters), relabelled

