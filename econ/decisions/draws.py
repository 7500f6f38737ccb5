"""The random inputs of the Monte Carlo: what is drawn, from which distribution, block by block.

In: an evaluation (its scenario, retention and tier plans) and its measurements. Out:
:class:`Spreads`, every random input of a set of tiers with its distribution (resolved, hashable,
part of the cache key), and :func:`draw_block`, the draws of one chunk as :class:`BlockDraws`.

Each input has its own random stream: each run of :data:`SEED_DRAWS` draws of it comes from a
generator seeded by (seed, the run's index, the input's name). So an input's draws do not depend
on which other inputs are drawn, on how the draws are cut into chunks, on how many chunks run
at once, or on which tiers are computed together: two tiers that read the same input read the
same draws (common random numbers), and a tier computed alone gets the figures it gets with
every other tier.
An input without spread is a plain float, not an array, so with every spread at zero the
arithmetic is the deterministic evaluation's, bit for bit.

The inputs:
- the mean user and assistant tokens per turn, one lognormal factor each (``token_length_cv``,
  median 1: σ = sqrt(log(1 + cv²))), shared by every capability;
- the mean number of turns (``turns_cv``), each API model's token prices (``price_cv``) and each
  model's reasoning tokens per turn (``reasoning_tokens_cv``), lognormal factors;
- each tier's mean conversations per user (``conversations_per_user_month_cv``): one factor per
  draw for the whole tier, the uncertainty of the tier's mean, not the spread across its users
  (which averages out over the tier);
- each self-hosted model's throughput, a lognormal factor whose σ comes from
  :func:`throughput_sigma`: the measurement's ``throughput_cv`` and the prediction interval of
  the model's GPU time (``Evaluation.gpu_intervals``, :mod:`econ.model.interval`), their
  log-variances added;
- each capability's traffic share, normal with ``traffic_share_sd``, clipped at 0, the shares
  rescaled to sum to 1 where they exceed it;
- each capability's drop in pass rate of a served model against the tier's teacher, drawn
  around the point estimate the evaluation uses: a measured drop from the split normal whose
  median is the point drop and whose 2.5% and 97.5% quantiles are the ends of its reported 95%
  interval (paired when the example ids match), so the draws' median is the point (after the
  same clip at 0); an unmeasured capability's drop is the teacher's pass rate less a student
  pass rate drawn from the uniform prior (the point takes that prior's pessimistic end, its
  2.5% quantile), so it adds spread instead of sitting at one value.
May import: econ.base … econ.model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.base.stats import z_value
from econ.evidence.retention import ALPHA, Retention
from econ.model.evaluate import Evaluation, Measured, TierResult
from econ.model.loss import loss_drop
from econ.scenario.schema import ApiModel, Scenario, SelfHostedModel

__all__ = ["SEED_DRAWS", "BlockDraws", "DropSpread", "Spreads", "draw_block", "drawn_arrays",
           "spreads", "throughput_sigma"]

SEED_DRAWS = 8_192  # draws of one input from one seeded generator: the unit of seeding


def _sigma(cv: float) -> float:
    return float(np.sqrt(np.log1p(cv * cv))) if cv > 0 else 0.0


@dataclass(frozen=True)
class DropSpread:
    """How one drop is drawn: ``fixed`` at ``point``; ``interval``: a split normal with median
    ``point`` and sds ``below`` and ``above``; ``prior``: ``point`` (the teacher's pass rate)
    less a uniform(0, 1) student pass rate. Every draw is clipped at 0."""

    kind: str
    point: float
    below: float = 0.0
    above: float = 0.0


@dataclass(frozen=True)
class Spreads:
    """Every random input of a set of tiers (σ of the log for lognormal factors)."""

    tokens_sigma: float
    turns_sigma: float
    throughput: Mapping[str, float]  # self-hosted model -> σ
    price: Mapping[str, float]  # API model -> σ
    reasoning: Mapping[str, float]  # model -> σ
    conversations: Mapping[str, float]  # tier -> σ
    shares: Mapping[str, tuple[float, float]]  # capability -> (share, sd)
    drops: Mapping[tuple[str, str], Mapping[str, DropSpread]]  # (teacher, model) -> cap -> …


@dataclass(frozen=True)
class BlockDraws:
    """One block's draws: a float where the input has no spread, else an array."""

    n: int
    user_scale: Any
    assistant_scale: Any
    turns_scale: Any
    throughput_scale: Mapping[str, Any]
    price_scale: Mapping[str, Any]
    reasoning_scale: Mapping[str, Any]
    conversations_scale: Mapping[str, Any]
    shares: Mapping[str, Any]
    drops: Mapping[tuple[str, str], Mapping[str, Any]]


def throughput_sigma(scenario: Scenario, measured: Measured, model: str,
                     interval_log_sd: float = 0.0) -> float:
    """σ of ln(throughput factor) of a self-hosted model: its ``throughput_cv`` (else its
    measurement's) and its GPU time's prediction interval (``interval_log_sd``) in quadrature.
    What this returns is what the Monte Carlo draws from (and part of the cache key)."""
    del measured
    m = scenario.models[model]
    assert isinstance(m, SelfHostedModel)
    cv = _sigma(m.throughput_cv or (m.throughput.throughput_cv if m.throughput else 0.0))
    return float(np.hypot(cv, interval_log_sd))


def _drop_spread(r: Retention, spread: bool) -> DropSpread:
    point = loss_drop(r)
    if not spread:
        return DropSpread("fixed", point)
    if r.drop is None:
        teacher = r.teacher_pass_rate if r.teacher_pass_rate is not None else 1.0
        return DropSpread("prior", teacher)
    if r.drop_ci is None:
        return DropSpread("fixed", point)
    z = z_value(1.0 - ALPHA)
    lo, hi = r.drop_ci
    return DropSpread("interval", r.drop, max(0.0, r.drop - lo) / z, max(0.0, hi - r.drop) / z)


def spreads(ev: Evaluation, measured: Measured, tiers: Sequence[TierResult],
            loss_spread: bool = True) -> Spreads:
    """The random inputs the ``tiers`` read. With ``loss_spread`` False every drop is fixed at
    the point estimate the evaluation uses."""
    s = ev.scenario
    models = {m for t in tiers for m in t.assignment.models}
    ids = {t.economics.tier for t in tiers}
    pairs = sorted({(t.teacher, m) for t in tiers for m in t.assignment.models if m != t.teacher})
    return Spreads(
        tokens_sigma=_sigma(s.conversation.token_length_cv),
        turns_sigma=_sigma(s.conversation.turns_cv),
        throughput={m: throughput_sigma(s, measured, m, ev.gpu_intervals[m].log_sd
                                        if m in ev.gpu_intervals else 0.0)
                    for m in sorted(models) if isinstance(s.models[m], SelfHostedModel)},
        price={m: _sigma(spec.price_cv) for m in sorted(models)
               if isinstance(spec := s.models[m], ApiModel)},
        reasoning={m: _sigma(s.models[m].reasoning_tokens_cv) for m in sorted(models)},
        conversations={t.id: _sigma(t.conversations_per_user_month_cv) for t in s.tiers
                       if t.id in ids},
        shares={c.id: (c.traffic_share, c.traffic_share_sd) for c in s.capabilities},
        drops={p: {r.capability: _drop_spread(r, loss_spread) for r in ev.retention_against(*p)}
               for p in pairs})


def _rng(seed: int, unit: int, name: str) -> np.random.Generator:
    tag = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")
    return np.random.default_rng(np.random.SeedSequence([seed, unit, tag]))


def _stream(seed: int, start: int, n: int, name: str, kind: str) -> np.ndarray:
    """Draws ``start`` … ``start + n`` of input ``name``: standard normal or uniform(0, 1)
    numbers, each run of :data:`SEED_DRAWS` from its own seeded generator, so any split of the
    draws into chunks gives the same numbers."""
    assert start % SEED_DRAWS == 0
    parts = []
    for first in range(start, start + n, SEED_DRAWS):
        rng = _rng(seed, first // SEED_DRAWS, name)
        k = min(SEED_DRAWS, start + n - first)
        parts.append(rng.standard_normal(k) if kind == "normal" else rng.random(k))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _lognormal(sigma: float, seed: int, start: int, n: int, name: str) -> Any:
    if sigma <= 0:
        return 1.0
    return np.exp(sigma * _stream(seed, start, n, name, "normal"))


def _drop(d: DropSpread, seed: int, start: int, n: int, name: str) -> Any:
    if d.kind == "fixed":
        return d.point
    if d.kind == "prior":
        return np.maximum(d.point - _stream(seed, start, n, name, "uniform"), 0.0)
    z = _stream(seed, start, n, name, "normal")
    return np.maximum(d.point + z * np.where(z < 0, d.below, d.above), 0.0)


def draw_block(sp: Spreads, seed: int, start: int, n: int) -> BlockDraws:
    """Draws ``start`` … ``start + n`` of every input (``start`` a multiple of
    :data:`SEED_DRAWS`)."""
    shares: dict[str, Any] = {}
    for cid, (share, sd) in sp.shares.items():
        shares[cid] = share if sd <= 0 else np.clip(
            share + sd * _stream(seed, start, n, f"share:{cid}", "normal"), 0.0, 1.0)
    if any(isinstance(v, np.ndarray) for v in shares.values()):
        total = sum(shares.values(), np.zeros(n))
        over = total > 1.0
        if over.any():
            shares = {k: np.where(over, v / total, v) for k, v in shares.items()}
    return BlockDraws(
        n=n,
        user_scale=_lognormal(sp.tokens_sigma, seed, start, n, "tokens:user"),
        assistant_scale=_lognormal(sp.tokens_sigma, seed, start, n, "tokens:assistant"),
        turns_scale=_lognormal(sp.turns_sigma, seed, start, n, "turns"),
        throughput_scale={m: _lognormal(v, seed, start, n, f"throughput:{m}")
                          for m, v in sp.throughput.items() if v > 0},
        price_scale={m: _lognormal(v, seed, start, n, f"price:{m}")
                     for m, v in sp.price.items() if v > 0},
        reasoning_scale={m: _lognormal(v, seed, start, n, f"reasoning:{m}")
                         for m, v in sp.reasoning.items() if v > 0},
        conversations_scale={t: _lognormal(v, seed, start, n, f"conversations:{t}")
                             for t, v in sp.conversations.items() if v > 0},
        shares=shares,
        drops={p: {c: _drop(d, seed, start, n, f"drop:{p[0]}:{p[1]}:{c}")
                   for c, d in per.items()} for p, per in sp.drops.items()})


def drawn_arrays(sp: Spreads) -> int:
    """How many inputs a chunk draws as arrays (the rest are plain floats)."""
    return (2 * (sp.tokens_sigma > 0) + (sp.turns_sigma > 0)
            + sum(v > 0 for m in (sp.throughput, sp.price, sp.reasoning, sp.conversations)
                  for v in m.values())
            + sum(sd > 0 for _, sd in sp.shares.values())
            + sum(d.kind != "fixed" for per in sp.drops.values() for d in per.values()))
