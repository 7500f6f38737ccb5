"""Coverage on embeddings (``econ traffic --embeddings MODEL``): the same method as the TF-IDF
default (:mod:`econ.evidence.traffic.coverage`), on vectors from a litellm embedding model.

In: traffic texts, eval inputs, a litellm model name (and an ``api_base`` for an
OpenAI-compatible server). Out: :class:`TrafficCoverage` with ``method="embeddings:MODEL"``.
litellm is imported inside the functions that call it only, so importing this module stays
cheap. :func:`estimate_embedding_cost` prices the input tokens before any call.
Every text is embedded once and the vectors held (texts × dimensions floats): use ``--sample``
on large logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from econ.base.errors import EconError
from econ.base.secrets import cut
from econ.evidence.traffic.coverage import (
    DEFAULT_QUANTILE,
    TrafficCoverage,
    coverage_of_vectors,
    distinct_texts,
)
from econ.evidence.traffic.spend import SpendEstimate, check_spend, litellm_module
from econ.evidence.traffic.spend import prices_usd_per_mtok as prices_usd_per_mtok_of

__all__ = ["embed_texts", "estimate_embedding_cost", "measure_coverage_embeddings"]


def estimate_embedding_cost(texts: Sequence[str], model: str, *, batch_size: int = 64,
                            prices_usd_per_mtok: tuple[float, float] | None = None,
                            price_model: str | None = None) -> SpendEstimate:
    """What embedding ``texts`` would cost, before any call (input tokens by litellm's
    ``token_counter``, priced from its price map under ``price_model`` or ``model``)."""
    litellm = litellm_module()
    priced = price_model or model
    prices = prices_usd_per_mtok or prices_usd_per_mtok_of(priced, "embeddings")
    tokens = 0
    for t in texts:
        try:
            tokens += int(litellm.token_counter(model=priced, text=t))
        except Exception:  # a model litellm cannot tokenise: its default encoding
            tokens += int(litellm.token_counter(text=t))
    calls = -(-len(texts) // max(1, batch_size))
    return SpendEstimate(model, "embeddings", calls, tokens, 0, *prices)


def _describe(exc: Exception, secret: str | None) -> str:
    msg = cut(" ".join(str(exc).split()), 200, [secret])  # redacted, then cut
    return f"{type(exc).__name__}: {msg}"


def embed_texts(texts: Sequence[str], model: str, *, api_base: str | None = None,
                api_key: str | None = None, batch_size: int = 64,
                timeout_s: float = 60.0) -> np.ndarray:
    """L2-normalised embeddings of ``texts`` (one row each, in order) from a litellm model."""
    litellm = litellm_module()
    rows: list[list[float]] = []
    for a in range(0, len(texts), max(1, batch_size)):
        batch = [t if t.strip() else " " for t in texts[a:a + batch_size]]
        try:
            resp = litellm.embedding(model=model, input=batch, api_base=api_base,
                                     api_key=api_key or ("EMPTY" if api_base else None),
                                     timeout=timeout_s)
        except Exception as exc:
            raise EconError(f"embeddings via {model}: {_describe(exc, api_key)}") from None
        data: list[Any] = sorted(resp.data, key=lambda d: d["index"])
        if len(data) != len(batch):
            raise EconError(f"embeddings via {model}: {len(data)} vectors for {len(batch)} texts")
        rows.extend([float(x) for x in d["embedding"]] for d in data)
    if not rows:
        return np.zeros((0, 0))
    vecs = np.asarray(rows, dtype=np.float64)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    out: np.ndarray = np.divide(vecs, norms, out=np.zeros_like(vecs), where=norms > 0)
    return out


def measure_coverage_embeddings(traffic: Sequence[str], eval_inputs: Sequence[str], model: str,
                                *, api_base: str | None = None, api_key: str | None = None,
                                quantile: float = DEFAULT_QUANTILE, seed: int = 0,
                                max_clusters: int = 8, batch_size: int = 64,
                                timeout_s: float = 60.0, max_spend_usd: float | None = None,
                                confirmed: bool = False,
                                estimate: SpendEstimate | None = None) -> TrafficCoverage:
    """Coverage of ``traffic`` by the eval inputs on embeddings from ``model``. With
    ``max_spend_usd`` the cost is estimated first (or ``estimate`` is used) and refused above
    the limit unless ``confirmed``."""
    evals = distinct_texts(eval_inputs)
    if len(evals) < 2:
        raise EconError(f"coverage needs at least 2 distinct eval inputs to calibrate its "
                        f"threshold (got {len(evals)})")
    if not traffic:
        raise EconError("coverage needs at least one conversation")
    if max_spend_usd is not None:
        est = estimate or replace(
            estimate_embedding_cost([*evals, *traffic], model, batch_size=batch_size),
            calls=-(-len(evals) // max(1, batch_size)) - (-len(traffic) // max(1, batch_size)))
        check_spend(est, max_spend_usd, confirmed)
    kw: dict[str, Any] = {"api_base": api_base, "api_key": api_key, "batch_size": batch_size,
                          "timeout_s": timeout_s}
    e = embed_texts(evals, model, **kw)
    t = embed_texts(traffic, model, **kw)
    if e.shape[1] != t.shape[1]:
        raise EconError(f"embeddings via {model}: vectors of {e.shape[1]} and {t.shape[1]} "
                        "dimensions")
    return coverage_of_vectors(lambda idx: t[idx], len(traffic), e, lambda i: traffic[i],
                               method=f"embeddings:{model}", quantile=quantile, seed=seed,
                               max_clusters=max_clusters, cluster_on_vectors=True)
