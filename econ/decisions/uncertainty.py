"""Monte Carlo over the measured inputs: seeded, vectorised, chunk by chunk, cached per tier.

In: an evaluation and its measurements, the number of draws and a seed. Out: one frozen
:class:`TierUncertainty` per tier: P5/P50/P95 of the cost per conversation, the cost per user,
the price floor and the capability loss, and P(margin at price ≥ target). What is drawn is
described in :mod:`econ.decisions.draws`; the plan of each tier is held at the deterministic
one (consent and retention verdicts fixed).

**Speed and memory.** The draws run in chunks on up to two threads (numpy releases the GIL);
only the models the tiers serve are costed. A chunk's inputs are drawn, used and dropped:
nothing of size draws × inputs is ever held. A chunk is a whole number of seeding runs
(:data:`~econ.decisions.draws.SEED_DRAWS`), as many as keep its arrays within
:data:`CHUNK_BYTES` (64 MiB, at most 8 runs); the figures do not depend on the chunk size. What
is kept for exact percentiles is three float64 figures per draw and tier (cost per
conversation, cost per user, loss: 24 bytes, 24 MB per tier at 1M draws); tiers are computed in
groups whose kept figures stay within :data:`KEPT_BYTES` (128 MiB). A chunk is at least one
run, so with many random inputs it outgrows CHUNK_BYTES; a second thread then runs only while
two chunks stay within :data:`IN_FLIGHT_BYTES` (256 MiB, estimated). So memory is bounded by
KEPT_BYTES plus two chunks in flight, or one chunk past IN_FLIGHT_BYTES, whatever the draws and
the tiers (300 capabilities with a share spread × 20 tiers at 1M draws: 453 MB peak RSS, 605
MB with two threads, 4.3 GB before chunking); a scenario with so many random inputs that one
run of each exceeds :data:`MAX_CHUNK_BYTES` is refused with a message.
The percentiles are exact over the draws (numpy's linear interpolation); the floor's are the
cost per user's through the floor formula, which is increasing and affine, so they equal the
percentiles of the floors themselves.

**Cache.** Each tier's result is kept (at most :data:`CACHE_ENTRIES`) under a hash of what its
computation reads: the scenario's conversation, capabilities and fees, the tier, the models it
serves with their prices and time models, its resolved plan, the distribution of every input it
draws, the draws and the seed. A consent tick on one tier recomputes that tier only; the
Uncertainty tab, the A/B tab and the decision record share the results. :func:`prefetch`
computes what a state will need in a background thread (the app calls it after a tick, while
the Uncertainty tab is closed); :func:`simulate` then waits for that computation instead of
starting its own.
May import: econ.base … econ.model, econ.decisions.draws.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.base.draw_limits import DEFAULT_DRAWS, MAX_DRAWS
from econ.base.errors import EconError
from econ.decisions.draws import (
    SEED_DRAWS,
    BlockDraws,
    Spreads,
    draw_block,
    drawn_arrays,
    spreads,
)
from econ.model.cost import CostTable, cost_table
from econ.model.evaluate import Evaluation, Measured, TierResult
from econ.model.loss import plan_loss_usd_month
from econ.model.plans import plan_cost_per_conversation
from econ.model.tiers import gross_margin_at_price, price_floor_usd_month, tier_measure
from econ.scenario.conversation import capability_shape
from econ.scenario.schema import Scenario

__all__ = ["CACHE_ENTRIES", "CHUNK_BYTES", "DEFAULT_DRAWS", "IN_FLIGHT_BYTES", "KEPT_BYTES",
           "MAX_CHUNK_BYTES", "MAX_DRAWS", "TierUncertainty", "clear_cache", "floor_intervals",
           "prefetch", "simulate", "tier_key"]

PERCENTILES = (5.0, 50.0, 95.0)
KEPT_BYTES = 128 * 1024 * 1024  # per-draw figures kept for exact percentiles, at most
CHUNK_BYTES = 64 * 1024 * 1024  # arrays of one chunk in flight, about (an estimate)
IN_FLIGHT_BYTES = 256 * 1024 * 1024  # two chunks past this (estimated): one thread
MAX_CHUNK_BYTES = 512 * 1024 * 1024  # one seeding run of every input beyond this: refused
MAX_RUNS_PER_CHUNK = 8
FIGURES = 3  # kept per draw and tier: cost per conversation, cost per user, loss
CACHE_ENTRIES = 256
_VERSION = "mc-3"  # bump when the draws or the figures change meaning


@dataclass(frozen=True)
class TierUncertainty:
    tier: str
    draws: int
    cost_per_conversation_usd: tuple[float, float, float]
    price_floor_usd_month: tuple[float, float, float] | None  # None: a free tier has no floor
    loss_usd_month: tuple[float, float, float]
    p_margin_meets_target: float | None
    cost_per_user_month_usd: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def to_json(self) -> dict[str, Any]:
        def pct(v: tuple[float, float, float]) -> dict[str, float]:
            return dict(zip(("p5", "p50", "p95"), v, strict=True))

        return {"tier": self.tier, "draws": self.draws,
                "cost_per_conversation_usd": pct(self.cost_per_conversation_usd),
                "cost_per_user_month_usd": pct(self.cost_per_user_month_usd),
                "price_floor_usd_month": None if self.price_floor_usd_month is None
                else pct(self.price_floor_usd_month),
                "loss_usd_month": pct(self.loss_usd_month),
                "p_margin_meets_target": self.p_margin_meets_target}


_cache: OrderedDict[str, TierUncertainty] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


_inflight: dict[str, Future[Any]] = {}  # tier key -> the prefetch computing it
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="econ-mc-prefetch")


def prefetch(ev: Evaluation, measured: Measured, draws: int = DEFAULT_DRAWS, seed: int = 0,
             loss_spread: bool = True) -> Future[Any] | None:
    """Start computing, in a background thread, the tiers of this state that are neither
    cached nor being computed; None when there is nothing to do. A prefetch queued for an older
    state and not yet started is dropped (one computation at a time, the newest state's)."""
    if not 1 <= draws <= MAX_DRAWS:
        return None
    keys = [tier_key(ev, measured, t, draws, seed, loss_spread) for t in ev.tiers]
    with _lock:
        missing = [k for k in keys if k not in _cache and k not in _inflight]
        if not missing:
            return None
        for k, queued in list(_inflight.items()):
            if queued.cancel():
                del _inflight[k]
        future = _background.submit(_simulate, ev, measured, draws, seed, None, loss_spread,
                                    True, None, False, frozenset(missing))
        for k in missing:
            _inflight[k] = future

    def forget(done: Future[Any]) -> None:
        with _lock:
            for k in missing:
                if _inflight.get(k) is done:
                    del _inflight[k]

    future.add_done_callback(forget)
    return future


def _sub_scenario(s: Scenario, tiers: Sequence[TierResult]) -> Scenario:
    """The scenario with only the tiers given and the models they serve."""
    models = {m for t in tiers for m in t.assignment.models}
    ids = {t.economics.tier for t in tiers}
    return s.model_copy(update={"models": {k: v for k, v in s.models.items() if k in models},
                                "tiers": [t for t in s.tiers if t.id in ids]})


def tier_key(ev: Evaluation, measured: Measured, tier: TierResult, draws: int, seed: int,
             loss_spread: bool = True) -> str:
    """The hash of everything one tier's Monte Carlo reads (see the module's docstring)."""
    sub = _sub_scenario(ev.scenario, [tier])
    data = sub.model_dump(mode="json", include={"conversation", "capabilities", "fees",
                                                "models", "tiers"})
    models = sorted(tier.assignment.models)
    parts = [_VERSION, str(draws), str(seed), str(loss_spread), repr(data),
             repr(tier.assignment), tier.teacher,
             repr([(m, measured.prices.get(m), measured.time_models.get(m)) for m in models]),
             repr(spreads(ev, measured, [tier], loss_spread))]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def simulate(ev: Evaluation, measured: Measured, draws: int = DEFAULT_DRAWS, seed: int = 0,
             progress: Callable[[float], None] | None = None, loss_spread: bool = True,
             cache: bool = True, workers: int | None = None) -> tuple[TierUncertainty, ...]:
    """Every tier's percentiles; ``loss_spread`` False holds the drops at their point estimates
    (with every other spread at zero, the result is then the deterministic one, bit for bit)."""
    if not 1 <= draws <= MAX_DRAWS:
        raise ValueError(f"draws must be 1 to {MAX_DRAWS:,} (got {draws:,})")
    return _simulate(ev, measured, draws, seed, progress, loss_spread, cache, workers,
                     wait=cache)


def _cached(keys: Sequence[str], tiers: Sequence[TierResult], out: dict[str, TierUncertainty]
            ) -> set[Future[Any]]:
    """Fill ``out`` with the cached tiers; the background computations still running for
    the others."""
    running = set()
    with _lock:
        for k, t in zip(keys, tiers, strict=True):
            if k in _cache:
                _cache.move_to_end(k)
                out[t.economics.tier] = _cache[k]
            elif k in _inflight:
                running.add(_inflight[k])
    return running


def _simulate(ev: Evaluation, measured: Measured, draws: int, seed: int,
              progress: Callable[[float], None] | None, loss_spread: bool, cache: bool,
              workers: int | None, wait: bool, only: frozenset[str] | None = None
              ) -> tuple[TierUncertainty, ...]:
    """:func:`simulate`; ``wait``: take what another computation has under way (a prefetch,
    another rerun) when it ends; ``only`` (a prefetch): compute the tiers of these keys alone
    and return nothing. What this call computes is marked under way while it runs."""
    keys = [tier_key(ev, measured, t, draws, seed, loss_spread) for t in ev.tiers]
    out: dict[str, TierUncertainty] = {}
    mine: Future[Any] = Future()
    mine.set_running_or_notify_cancel()  # running: a newer prefetch cannot cancel it
    claimed: list[str] = []
    if cache:
        running = _cached(keys, ev.tiers, out)
        if wait and running:  # computed elsewhere: that result, not a second run
            for future in running:
                with contextlib.suppress(Exception):  # failed or cancelled: computed below
                    future.result()
            _cached(keys, ev.tiers, out)
        with _lock:
            for k, t in zip(keys, ev.tiers, strict=True):
                if only is None and t.economics.tier not in out and k not in _inflight:
                    _inflight[k] = mine
                    claimed.append(k)
    todo = [t for k, t in zip(keys, ev.tiers, strict=True)
            if t.economics.tier not in out and (only is None or k in only)]
    try:
        per_group = max(1, KEPT_BYTES // (FIGURES * 8 * draws))
        groups = [todo[i:i + per_group] for i in range(0, len(todo), per_group)]
        for gi, group in enumerate(groups):

            def step(fraction: float, gi: int = gi) -> None:
                if progress is not None:
                    progress(min(1.0, (gi + fraction) / len(groups)))

            results = _simulate_group(ev, measured, group, draws, seed, loss_spread,
                                      workers or min(2, os.cpu_count() or 1), step)
            out.update({r.tier: r for r in results})
        if cache:
            computed = {t.economics.tier for t in todo}
            with _lock:
                for k, t in zip(keys, ev.tiers, strict=True):
                    if t.economics.tier in computed:
                        _cache[k] = out[t.economics.tier]
                while len(_cache) > CACHE_ENTRIES:
                    _cache.popitem(last=False)
    finally:
        with _lock:
            for k in claimed:
                if _inflight.get(k) is mine:
                    del _inflight[k]
        mine.set_result(None)
    if progress is not None:
        progress(1.0)
    return () if only is not None else tuple(out[t.economics.tier] for t in ev.tiers)


def _simulate_group(ev: Evaluation, measured: Measured, tiers: Sequence[TierResult], draws: int,
                    seed: int, loss_spread: bool, workers: int,
                    progress: Callable[[float], None]) -> list[TierUncertainty]:
    sub = _sub_scenario(ev.scenario, tiers)
    sp = spreads(ev, measured, tiers, loss_spread)
    specs = {t.id: t for t in sub.tiers}
    runs, run_bytes = _runs_per_chunk(sub, sp, len(tiers))
    chunk = SEED_DRAWS * runs
    if 2 * runs * run_bytes > IN_FLIGHT_BYTES:
        workers = 1  # one chunk in memory at a time: the figures do not depend on the threads
    kept = np.empty((len(tiers), FIGURES, draws))
    meets = np.zeros(len(tiers), dtype=np.int64)
    blocks = range(0, draws, chunk)

    def run(start: int) -> None:
        n = min(chunk, draws - start)
        d = draw_block(sp, seed, start, n)
        table = _costs(sub, measured, d)
        for i, res in enumerate(tiers):
            tier = specs[res.economics.tier]
            cost = plan_cost_per_conversation(res.assignment, sub, table, d.shares)
            conv = d.conversations_scale.get(tier.id)
            conv = tier.conversations_per_user_month if conv is None else \
                tier.conversations_per_user_month * conv
            per_user = conv * cost
            drops = {m: d.drops[(res.teacher, m)] for m in res.assignment.models
                     if m != res.teacher}
            loss = plan_loss_usd_month(res.assignment, sub, tier.users * conv, drops,
                                       res.teacher, d.shares)
            sl = slice(start, start + n)
            kept[i, 0, sl], kept[i, 1, sl], kept[i, 2, sl] = cost, per_user, loss
            margin = gross_margin_at_price(tier.price_usd_month, per_user, sub.fees)
            if margin is not None:
                hit = np.broadcast_to(margin >= tier.target_gross_margin, (n,))
                with _lock:
                    meets[i] += int(np.count_nonzero(hit))

    if workers <= 1 or len(blocks) == 1:
        for j, start in enumerate(blocks):
            run(start)
            progress((j + 1) / len(blocks))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for j, _ in enumerate(pool.map(run, blocks)):
                progress((j + 1) / len(blocks))
    out = []
    for i, res in enumerate(tiers):
        tier = specs[res.economics.tier]
        cost, per_user, loss = (_pct(kept[i, f]) for f in range(FIGURES))
        floor = tuple(float(price_floor_usd_month(x, tier.target_gross_margin, sub.fees))
                      for x in per_user)
        free = tier.price_usd_month <= 0
        p_meets = None if free else float(meets[i] / draws)
        out.append(TierUncertainty(tier.id, draws, cost, None if free else (
            floor[0], floor[1], floor[2]), loss, p_meets, per_user))
    return out


def _runs_per_chunk(sub: Scenario, sp: Spreads, tiers: int) -> tuple[int, int]:
    """Seeding runs per chunk: as many as keep a chunk's arrays within CHUNK_BYTES (drawn inputs,
    about 16 temporaries per model and distinct conversation shape, 6 per tier); and the
    estimated bytes of one run."""
    shapes = {capability_shape(sub.conversation, c) for c in sub.capabilities}
    arrays = drawn_arrays(sp) + 16 * len(sub.models) * (len(shapes) + 1) + 6 * tiers
    run_bytes = arrays * SEED_DRAWS * 8
    if run_bytes > MAX_CHUNK_BYTES:
        raise EconError(f"the Monte Carlo would hold about {arrays:,} arrays of draws at once "
                        f"({run_bytes / 2**20:,.0f} MiB for {SEED_DRAWS:,} draws); the limit is "
                        f"{MAX_CHUNK_BYTES / 2**20:,.0f} MiB: fewer capabilities with a traffic "
                        "share spread, or fewer models, distinct shapes or tiers")
    return max(1, min(MAX_RUNS_PER_CHUNK, CHUNK_BYTES // run_bytes)), run_bytes


def _costs(sub: Scenario, measured: Measured, d: BlockDraws) -> CostTable:
    time_models = {m: (tm.scaled(d.throughput_scale[m]) if m in d.throughput_scale else tm)
                   for m, tm in measured.time_models.items() if m in sub.models}
    table = cost_table(sub, measured.prices, time_models, d.user_scale, d.assistant_scale,
                       d.turns_scale, d.reasoning_scale)
    return _scale_prices(table, d.price_scale) if d.price_scale else table


def _scale_prices(table: CostTable, scale: dict[str, Any] | Any) -> CostTable:
    """API costs are linear in the token prices: scale each priced model's costs."""
    per_cap = {m: ({c: v * scale[m] for c, v in caps.items()} if m in scale else caps)
               for m, caps in table.per_capability.items()}
    uncat = {m: (v * scale[m] if m in scale else v) for m, v in table.uncategorised.items()}
    return CostTable(per_cap, uncat, table.tokens, table.uncategorised_tokens)


def _pct(x: np.ndarray) -> tuple[float, float, float]:
    a, b, c = np.percentile(x, PERCENTILES)
    return float(a), float(b), float(c)


def floor_intervals(result: tuple[TierUncertainty, ...], ev: Evaluation) -> list[dict[str, Any]]:
    """Rows for display: each tier's figure (its price floor; a free tier's cost per user,
    named in ``measure``), deterministic (``base_usd_month``) and its percentiles, absolute and
    relative to the deterministic figure (0.1 = 10% above it); the floor (None for a free tier)
    and P(margin at price ≥ target)."""
    rows = []
    for r, t in zip(result, ev.tiers, strict=True):
        e = t.economics
        base = e.measure_usd_month
        p5, p50, p95 = r.cost_per_user_month_usd if e.free or r.price_floor_usd_month is None \
            else r.price_floor_usd_month

        rel = [x / base - 1 if base else None for x in (p5, p50, p95)]
        rows.append({"tier": r.tier, "measure": tier_measure(e.price_usd_month),
                     "base_usd_month": base, "p5_usd_month": p5, "p50_usd_month": p50,
                     "p95_usd_month": p95, "p5_vs_base": rel[0], "p50_vs_base": rel[1],
                     "p95_vs_base": rel[2], "floor_usd_month": e.price_floor_usd_month,
                     "p_margin_meets_target": r.p_margin_meets_target})
    return rows
