"""The traffic mix by a classifier model (``econ traffic --classifier MODEL``), on a stratified
sample, with its cost estimated before any call and refused above a spend limit.

In: conversation texts, a stratum per conversation (e.g. the rule-based capability, None when
uncategorised), the scenario's capabilities ``(id, description)``, a litellm model.
Out: a label per sampled conversation (a capability id, or None: uncategorised) and shares with
Wilson intervals.

- **Sample.** Proportional allocation over the strata (largest remainder), drawn without
  replacement with a seeded generator: the sample is self-weighting, so a share is the sampled
  count over the sample size, and the Wilson interval on the sample size is conservative (a
  stratified sample varies less than a simple one of the same size).
- **Cost first.** Every call's prompt is built and counted with litellm's ``token_counter``
  (offline: ``LITELLM_LOCAL_MODEL_COST_MAP=True``) and priced from litellm's price map, the
  reply at its ``max_tokens`` cap, so the estimate is an upper bound. :func:`check_spend` refuses
  (``EconError``, exit 1 at the CLI) an estimate above ``max_spend_usd`` unless confirmed; the
  interactive confirmation is the CLI's.
- **Labels.** The reply must name one capability id (matched whole-word, case-insensitively;
  the first named wins); "none" or anything else is uncategorised.
litellm is imported inside the functions that call it only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.base.errors import EconError
from econ.base.secrets import cut
from econ.base.stats import wilson_interval
from econ.evidence.traffic.spend import SpendEstimate, check_spend, litellm_module
from econ.evidence.traffic.spend import prices_usd_per_mtok as prices_usd_per_mtok_of

__all__ = ["MAX_TEXT_CHARS", "ClassifierResult", "allocate", "classifier_messages",
           "classifier_shares", "classify", "estimate_classifier_cost", "stratified_sample"]

MAX_TEXT_CHARS = 4000
MAX_REPLY_TOKENS = 16
Capabilities = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class ClassifierResult:
    labels: tuple[str | None, ...]
    estimate: SpendEstimate
    prompt_tokens: int  # as the server reported
    completion_tokens: int

    @property
    def usd(self) -> float:
        e = self.estimate
        return (self.prompt_tokens * e.input_usd_per_mtok
                + self.completion_tokens * e.output_usd_per_mtok) / 1e6


def allocate(sizes: Mapping[str, int], size: int) -> dict[str, int]:
    """Proportional allocation of ``size`` draws over strata of ``sizes`` (largest remainder;
    ties by name)."""
    n = sum(sizes.values())
    if size >= n:
        return dict(sizes)
    exact = {k: size * v / n for k, v in sizes.items()}
    alloc = {k: int(exact[k]) for k in sizes}
    rest = size - sum(alloc.values())
    for k in sorted(sizes, key=lambda k: (-(exact[k] - alloc[k]), k))[:rest]:
        alloc[k] += 1
    return alloc


def stratified_sample(strata: Sequence[str | None], size: int, seed: int = 0) -> np.ndarray:
    """Indices (sorted) of a proportional stratified sample of ``size`` conversations."""
    n = len(strata)
    if size >= n:
        return np.arange(n)
    keys = sorted({s or "" for s in strata})
    members = {k: np.flatnonzero([(s or "") == k for s in strata]) for k in keys}
    alloc = allocate({k: len(members[k]) for k in keys}, size)
    rng = np.random.default_rng(seed)
    picked = [rng.choice(members[k], alloc[k], replace=False) for k in keys if alloc[k]]
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def classifier_messages(text: str, capabilities: Capabilities) -> list[dict[str, str]]:
    listing = "\n".join(f"- {cid}: {desc}" if desc else f"- {cid}" for cid, desc in capabilities)
    system = ("You label conversations of a chat product by the capability they exercise. "
              "Reply with exactly one id from this list, or none if no capability fits:\n"
              f"{listing}")
    return [{"role": "system", "content": system},
            {"role": "user", "content": text[:MAX_TEXT_CHARS]}]


def estimate_classifier_cost(texts: Sequence[str], capabilities: Capabilities, model: str, *,
                             max_tokens: int = MAX_REPLY_TOKENS,
                             prices_usd_per_mtok: tuple[float, float] | None = None,
                             price_model: str | None = None) -> SpendEstimate:
    """What classifying ``texts`` would cost at most, before any call.

    Prices come from ``prices_usd_per_mtok`` (input, output) when given, else from litellm's
    price map under ``price_model`` (default: ``model``)."""
    litellm = litellm_module()
    prices = prices_usd_per_mtok or prices_usd_per_mtok_of(price_model or model, "classifier")
    counter_model = price_model or model
    prompt = 0
    for t in texts:
        try:
            prompt += int(litellm.token_counter(model=counter_model,
                                                messages=classifier_messages(t, capabilities)))
        except Exception:  # a model litellm cannot tokenise: count with its default encoding
            prompt += int(litellm.token_counter(messages=classifier_messages(t, capabilities)))
    return SpendEstimate(model, "classifier", len(texts), prompt, max_tokens * len(texts),
                         *prices)


def _label(reply: str, ids: Sequence[str]) -> str | None:
    found = [(m.start(), cid) for cid in ids
             if (m := re.search(rf"(?<![\w-]){re.escape(cid)}(?![\w-])", reply, re.IGNORECASE))]
    return min(found)[1] if found else None


def classify(texts: Sequence[str], capabilities: Capabilities, model: str, *,
             max_spend_usd: float, confirmed: bool = False, api_base: str | None = None,
             api_key: str | None = None, max_tokens: int = MAX_REPLY_TOKENS,
             prices_usd_per_mtok: tuple[float, float] | None = None,
             price_model: str | None = None, timeout_s: float = 60.0, concurrency: int = 4,
             estimate: SpendEstimate | None = None) -> ClassifierResult:
    """Label each text with a capability id (None: uncategorised); the spend is checked first.
    Calls run ``concurrency`` at a time; the first failure stops the run with an EconError."""
    est = estimate or estimate_classifier_cost(texts, capabilities, model, max_tokens=max_tokens,
                                               prices_usd_per_mtok=prices_usd_per_mtok,
                                               price_model=price_model)
    check_spend(est, max_spend_usd, confirmed)
    litellm = litellm_module()
    ids = [cid for cid, _ in capabilities]

    def one(i: int) -> tuple[str | None, int, int]:
        try:
            resp = litellm.completion(model=model,
                                      messages=classifier_messages(texts[i], capabilities),
                                      api_base=api_base,
                                      api_key=api_key or ("EMPTY" if api_base else None),
                                      max_tokens=max_tokens, temperature=0, timeout=timeout_s,
                                      num_retries=0)
        except Exception as exc:
            msg = cut(" ".join(str(exc).split()), 200, [api_key])  # redacted, then cut
            raise EconError(f"classifier {model}: conversation {i + 1} of {len(texts)}: "
                            f"{type(exc).__name__}: {msg}") from None
        usage = getattr(resp, "usage", None)
        return (_label(resp.choices[0].message.content or "", ids),
                int(getattr(usage, "prompt_tokens", 0) or 0),
                int(getattr(usage, "completion_tokens", 0) or 0))

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        done = list(pool.map(one, range(len(texts))))
    return ClassifierResult(tuple(d[0] for d in done), est, sum(d[1] for d in done),
                            sum(d[2] for d in done))


def classifier_shares(labels: Sequence[str | None], capability_ids: Sequence[str],
                      confidence: float = 0.95) -> tuple[list[dict[str, Any]], float]:
    """``capabilities`` entries ``{id, share, ci_low, ci_high, n}`` of the contract, and the
    uncategorised share, from the labels of a self-weighting sample."""
    n = len(labels)
    if n == 0:
        raise EconError("classifier: no conversations were sampled")
    out = []
    for cid in capability_ids:
        k = sum(1 for x in labels if x == cid)
        lo, hi = wilson_interval(k, n, confidence)
        out.append({"id": cid, "share": k / n, "ci_low": lo, "ci_high": hi, "n": k})
    return out, sum(1 for x in labels if x is None) / n
