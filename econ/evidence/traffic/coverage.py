"""Coverage: which traffic no eval example resembles (issue 15, part 5; issue 25, item 8). Pure:
texts in, result out.

In: one user text per conversation, the input texts of the eval examples. Out: a frozen
:class:`TrafficCoverage`: each conversation's nearest eval example and its distance, the
calibrated threshold, the unseen share and clusters of the unseen traffic.

Method:
- **Vectors.** TF-IDF on character 3–5-grams (:mod:`econ.evidence.traffic.vectors`) weighted
  by the IDF of a *fixed reference* corpus of chat requests (:mod:`.reference`); or any
  L2-normalised vectors (embeddings). Nothing is fitted on the traffic, so a conversation's
  verdict depends only on its own text and the evals: adding unrelated conversations moves no
  other verdict (tested with 5,000).
- **Distance.** 1 − cosine of the vectors *centred on the reference's mean*. Every English
  text shares n-grams such as " the" and "ing", so uncentred, unrelated texts keep a cosine
  near 0.05 and a varied eval set's leave-one-out distances reach that range; centring removes
  the shared direction (the cosine becomes the correlation of the two profiles), the usual
  correction for anisotropic vectors (Mu and Viswanath, 2018). Embeddings are compared
  uncentred, as their models are trained to be.
- **Threshold.** Leave one out on the evals: each eval example's distance to its nearest other
  eval example; the threshold is the ``quantile`` (0.95) of these distances (linear
  interpolation), i.e. the distance within which 95% of held-out eval examples find a neighbour.
  Duplicate eval inputs are counted once (a copy would be its own neighbour at distance 0).
- **Too few evals.** With fewer than ``min_evals(quantile)`` = 1 / (1 − quantile) distinct
  inputs (20 at 0.95) the quantile is not estimable: it falls between the largest distances,
  so the threshold says how sparse the eval set is more than where its domain ends. The result
  is then marked ``indicative`` with a note, and ``--add-unseen`` refuses to write it; with
  fewer than 2 it is refused.
- **Unseen.** Traffic farther than the threshold from every eval example. Its share of all
  traffic comes with a Wilson interval; the unseen traffic is clustered
  (:mod:`econ.evidence.traffic.clusters`).
Memory: the traffic is vectorised and compared in chunks of at most ``chunk_rows``
conversations (a sparse product against the eval matrix, at most ``MAX_CELLS`` similarities at
once, evals against evals too), so only the eval vectors and one chunk are held.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from econ.base.errors import EconError
from econ.base.stats import wilson_interval
from econ.evidence.traffic.clusters import UnseenCluster, cluster_unseen
from econ.evidence.traffic.reference import Reference, load_reference

__all__ = ["DEFAULT_QUANTILE", "UNCATEGORISED", "TrafficCoverage", "calibrate_threshold",
           "coverage_of_vectors", "distinct_texts", "measure_coverage", "min_evals",
           "nearest_distances", "user_texts"]

DEFAULT_QUANTILE = 0.95
MAX_CELLS = 2**22  # dense similarities held at once (32 MiB of float64)
UNCATEGORISED = "uncategorised"
Take = Callable[[np.ndarray], Any]


@dataclass(frozen=True)
class TrafficCoverage:
    threshold: float
    quantile: float
    evals: int  # distinct eval inputs the threshold was calibrated on
    conversations: int
    unseen: int
    unseen_share: float
    unseen_ci: tuple[float, float]
    clusters: tuple[UnseenCluster, ...]
    method: str
    note: str | None = None
    indicative: bool = False  # fewer distinct eval inputs than min_evals(quantile)
    reference: str | None = None  # what the representation was fitted on
    # per conversation, in the order given (not compared, not serialised)
    distance: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False, repr=False)
    nearest: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64),
                                compare=False, repr=False)
    cluster: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64),
                                compare=False, repr=False)

    @property
    def seen(self) -> np.ndarray:
        """True where a conversation lies within the threshold of some eval example."""
        return np.asarray(self.distance <= self.threshold)

    def to_dict(self, labels: Sequence[str | None] | None = None) -> dict[str, Any]:
        """The ``coverage`` object of ``econ traffic --json``. With ``labels`` (each
        conversation's capability, None when uncategorised) every cluster also says where its
        conversations were assigned (``from``), so a write-back can carve it out of them."""
        clusters = [c.to_dict() for c in self.clusters]
        if labels is not None:
            if len(labels) != self.conversations:
                raise EconError(f"coverage: {len(labels)} labels for {self.conversations} "
                                "conversations")
            for k, c in enumerate(clusters):
                members = np.flatnonzero(self.cluster == k)
                c["from"] = dict(Counter(labels[int(i)] or UNCATEGORISED for i in members))
        return {"threshold": self.threshold, "unseen_share": self.unseen_share,
                "unseen_ci_low": self.unseen_ci[0], "unseen_ci_high": self.unseen_ci[1],
                "quantile": self.quantile, "evals": self.evals, "method": self.method,
                "note": self.note, "indicative": self.indicative,
                "min_evals": min_evals(self.quantile), "reference": self.reference,
                "clusters": clusters}


def user_texts(frame: pd.DataFrame, *, first_turn_only: bool = False) -> tuple[list[str],
                                                                               list[str]]:
    """(conversation ids, user text) from the tidy table of :func:`read_log`: a conversation's
    user messages joined by blank lines (only its first with ``first_turn_only``), in the order
    the conversations first appear."""
    users = frame[frame["role"] == "user"]
    if first_turn_only:
        users = users[users["turn"] == 1]
    grouped = users.groupby("conversation_id", sort=False)["text"].agg("\n\n".join)
    return [str(i) for i in grouped.index], [str(t) for t in grouped.tolist()]


def distinct_texts(texts: Sequence[str]) -> list[str]:
    """The texts with duplicates (same words, any case or spacing) removed, first kept."""
    seen: set[str] = set()
    out = []
    for t in texts:
        key = " ".join(t.split()).casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _dense(x: Any) -> np.ndarray:
    return np.asarray(x.toarray() if sp.issparse(x) else x, dtype=np.float64)


def _sq_norms(x: Any) -> np.ndarray:
    if sp.issparse(x):
        return np.asarray(x.multiply(x).sum(axis=1), dtype=np.float64).ravel()
    out: np.ndarray = np.einsum("ij,ij->i", x, x).astype(np.float64)
    return out


def _centred_cosine(block: Any, evals: Any, mean: np.ndarray) -> np.ndarray:
    """cos(b − m, e − m) for every row b of ``block`` and e of ``evals`` (rows × evals)."""
    mm = float(mean @ mean)
    bm = np.asarray(block @ mean, dtype=np.float64).ravel()
    em = np.asarray(evals @ mean, dtype=np.float64).ravel()
    dot = _dense(block @ evals.T) - bm[:, None] - em[None, :] + mm
    nb = np.sqrt(np.maximum(_sq_norms(block) - 2 * bm + mm, 1e-24))
    ne = np.sqrt(np.maximum(_sq_norms(evals) - 2 * em + mm, 1e-24))
    return np.asarray(dot / nb[:, None] / ne[None, :])


def _rows(chunk_rows: int, evals: int) -> int:
    """Rows per chunk so that a chunk's dense block against the evals stays within MAX_CELLS."""
    return max(1, min(chunk_rows, MAX_CELLS // max(1, evals)))


def nearest_distances(take: Take, n: int, evals: Any, mean: np.ndarray,
                      chunk_rows: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Distance to, and index of, the nearest eval example of each of ``n`` conversations."""
    dist = np.empty(n, dtype=np.float64)
    idx = np.empty(n, dtype=np.int64)
    step = _rows(chunk_rows, evals.shape[0])
    for a in range(0, n, step):
        cos = _centred_cosine(take(np.arange(a, min(n, a + step))), evals, mean)
        idx[a:a + len(cos)] = cos.argmax(axis=1)
        dist[a:a + len(cos)] = np.clip(1.0 - cos.max(axis=1), 0.0, 2.0)
    return dist, idx


def calibrate_threshold(evals: Any, mean: np.ndarray,
                        quantile: float = DEFAULT_QUANTILE) -> tuple[float, str | None]:
    """The ``quantile`` of leave-one-out nearest-neighbour distances among the eval examples,
    and a note when there are too few examples to estimate that quantile."""
    n = evals.shape[0]
    if n < 2:
        raise EconError(f"coverage needs at least 2 distinct eval inputs to calibrate its "
                        f"threshold (got {n})")
    if not 0.0 < quantile < 1.0:
        raise EconError(f"coverage quantile must lie between 0 and 1 (got {quantile})")
    loo = np.empty(n, dtype=np.float64)
    step = _rows(n, n)
    for a in range(0, n, step):
        cos = _centred_cosine(evals[a:a + step], evals, mean)
        rows = np.arange(len(cos))
        cos[rows, a + rows] = -np.inf  # an example is not its own neighbour
        loo[a:a + len(cos)] = np.clip(1.0 - cos.max(axis=1), 0.0, 2.0)
    threshold = float(np.quantile(loo, quantile))
    needed = min_evals(quantile)
    note = None
    if n < needed:
        note = (f"indicative only: {n} distinct eval inputs; a {quantile:.0%} quantile of "
                f"their leave-one-out distances needs at least {needed}, so the threshold "
                f"{threshold:.3f} is set by the two largest of them and says more about how "
                "sparse the evals are than where their domain ends; add eval examples")
    return threshold, note


def min_evals(quantile: float = DEFAULT_QUANTILE) -> int:
    """Distinct eval inputs needed to estimate the ``quantile`` of their leave-one-out
    distances: 1 / (1 − quantile) (20 at 0.95); fewer make the coverage indicative."""
    return math.ceil(1.0 / (1.0 - quantile) - 1e-9)


def coverage_of_vectors(take: Take, conversations: int, evals: Any, texts: Callable[[int], str],
                        *, method: str, mean: np.ndarray | None = None,
                        quantile: float = DEFAULT_QUANTILE, seed: int = 0,
                        max_clusters: int = 8, chunk_rows: int = 4096,
                        confidence: float = 0.95, cluster_on_vectors: bool = False,
                        reference: str | None = None) -> TrafficCoverage:
    """Coverage over vectors: ``take(indices)`` gives L2-normalised traffic rows, ``evals`` the
    eval rows (sparse or dense); ``texts(i)`` is conversation i's text; ``mean`` the fixed
    vector to centre on (none: uncentred). The unseen traffic is clustered on these vectors
    with ``cluster_on_vectors`` (embeddings), else on words."""
    if conversations == 0:
        raise EconError("coverage needs at least one conversation")
    if mean is None:
        mean = np.zeros(evals.shape[1], dtype=np.float64)
    threshold, note = calibrate_threshold(evals, mean, quantile)
    dist, nearest = nearest_distances(take, conversations, evals, mean, chunk_rows)
    unseen = np.flatnonzero(dist > threshold)
    clusters, labels = cluster_unseen(unseen, texts, conversations,
                                      take=take if cluster_on_vectors else None, seed=seed,
                                      max_clusters=max_clusters, chunk_rows=chunk_rows,
                                      confidence=confidence)
    cluster = np.full(conversations, -1, dtype=np.int64)
    cluster[unseen] = labels
    return TrafficCoverage(
        threshold=threshold, quantile=quantile, evals=int(evals.shape[0]),
        conversations=conversations, unseen=len(unseen),
        unseen_share=len(unseen) / conversations,
        unseen_ci=wilson_interval(len(unseen), conversations, confidence),
        clusters=clusters, method=method, note=note,
        indicative=int(evals.shape[0]) < min_evals(quantile), reference=reference,
        distance=dist, nearest=nearest, cluster=cluster)


def measure_coverage(traffic: Sequence[str], eval_inputs: Sequence[str], *,
                     quantile: float = DEFAULT_QUANTILE, seed: int = 0, max_clusters: int = 8,
                     chunk_rows: int = 4096, reference: Reference | None = None,
                     ) -> TrafficCoverage:
    """Coverage of ``traffic`` (one user text per conversation) by the eval inputs, on TF-IDF
    character n-grams fitted on ``reference`` (default: the shipped one). ``nearest`` indexes
    :func:`distinct_texts` of ``eval_inputs``."""
    evals = distinct_texts(eval_inputs)
    if len(evals) < 2:
        raise EconError(f"coverage needs at least 2 distinct eval inputs to calibrate its "
                        f"threshold (got {len(evals)})")
    ref = reference or load_reference()
    tfidf = ref.tfidf

    def take(idx: np.ndarray) -> Any:
        return tfidf.transform([traffic[int(i)] for i in idx])

    return coverage_of_vectors(take, len(traffic), tfidf.transform(evals),
                               lambda i: traffic[i], method="tfidf-char-3-5", mean=ref.mean,
                               quantile=quantile, seed=seed, max_clusters=max_clusters,
                               chunk_rows=chunk_rows, reference=ref.source)
