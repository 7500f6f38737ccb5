"""Monte Carlo over the measured inputs: seeded, vectorised, spread-free draws reproduce the
deterministic result exactly.

Each draw scales
- every self-hosted model's throughput by a lognormal factor with the measurement's CV
  (median preserved: σ = sqrt(log(1 + cv²)));
- the mean user and assistant tokens per turn by lognormal factors with the shape's
  ``token_length_cv`` (shared by all capabilities of the draw);
- each capability's traffic share by a normal draw with its ``traffic_share_sd``, clipped at 0,
  and the shares rescaled to sum to 1 when they exceed it;
and samples each pass rate from its Beta(1 + passed, 1 + failed) posterior for the loss. When the
scenario states them, it also scales the mean number of turns (``turns_cv``), each API model's
token prices (``price_cv``), each tier's conversations per user
(``conversations_per_user_month_cv``) and each model's reasoning tokens per turn
(``reasoning_tokens_cv``, one factor per model shared by its capabilities) by lognormal factors;
these are drawn last, in that order, so a scenario without them draws exactly as before, and zero
spreads reproduce the deterministic result.
The plan of each tier is held at the deterministic one (consent and retention verdicts fixed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from econ.model.cost import CostTable, cost_table
from econ.model.evaluate import Evaluation, Measured
from econ.model.loss import PESSIMISTIC_STUDENT_PASS_RATE, loss_drop, plan_loss_usd_month
from econ.model.plans import plan_cost_per_conversation
from econ.model.tiers import gross_margin_at_price, price_floor_usd_month
from econ.scenario.schema import ApiModel, SelfHostedModel

__all__ = ["Draws", "TierUncertainty", "draw_inputs", "floor_intervals", "simulate"]

PERCENTILES = (5.0, 50.0, 95.0)


@dataclass(frozen=True)
class Draws:
    user_scale: np.ndarray
    assistant_scale: np.ndarray
    throughput_scale: dict[str, np.ndarray]
    shares: dict[str, np.ndarray]
    drops: dict[tuple[str, str], dict[str, np.ndarray]]  # (teacher, model) -> capability -> drop
    turns_scale: np.ndarray | None = None
    price_scale: dict[str, np.ndarray] = field(default_factory=dict)  # API model -> factor
    conversations_scale: dict[str, np.ndarray] = field(default_factory=dict)  # tier -> factor
    reasoning_scale: dict[str, np.ndarray] = field(default_factory=dict)  # model -> factor


@dataclass(frozen=True)
class TierUncertainty:
    tier: str
    draws: int
    cost_per_conversation_usd: tuple[float, float, float]
    price_floor_usd_month: tuple[float, float, float]
    loss_usd_month: tuple[float, float, float]
    p_margin_meets_target: float | None

    def to_json(self) -> dict[str, Any]:
        def pct(v: tuple[float, float, float]) -> dict[str, float]:
            return dict(zip(("p5", "p50", "p95"), v, strict=True))

        return {"tier": self.tier, "draws": self.draws,
                "cost_per_conversation_usd": pct(self.cost_per_conversation_usd),
                "price_floor_usd_month": pct(self.price_floor_usd_month),
                "loss_usd_month": pct(self.loss_usd_month),
                "p_margin_meets_target": self.p_margin_meets_target}


def _lognormal(rng: np.random.Generator, cv: float, n: int) -> np.ndarray:
    if cv <= 0:
        return np.ones(n)
    sigma = float(np.sqrt(np.log1p(cv * cv)))
    out: np.ndarray = np.exp(sigma * rng.standard_normal(n))
    return out


def draw_inputs(ev: Evaluation, measured: Measured, n: int, seed: int,
                posterior: bool = True) -> Draws:
    """All random inputs of ``n`` draws, in a fixed order so a seed reproduces them exactly.

    With ``posterior`` False the drops stay at their point estimates (no pass-rate spread).
    """
    s = ev.scenario
    rng = np.random.default_rng(seed)
    cv = s.conversation.token_length_cv
    user, assistant = _lognormal(rng, cv, n), _lognormal(rng, cv, n)
    throughput = {}
    for mid, m in s.models.items():
        if isinstance(m, SelfHostedModel):
            m_cv = m.throughput_cv or (m.throughput.throughput_cv if m.throughput else 0.0)
            throughput[mid] = _lognormal(rng, m_cv, n)
    shares = {}
    for c in s.capabilities:
        if c.traffic_share_sd > 0:
            shares[c.id] = np.clip(c.traffic_share + c.traffic_share_sd * rng.standard_normal(n),
                                   0.0, 1.0)
        else:
            shares[c.id] = np.full(n, c.traffic_share)
    total = sum(shares.values(), np.zeros(n))
    over = total > 1.0
    if over.any():
        for k in shares:
            shares[k] = np.where(over, shares[k] / total, shares[k])
    pairs = sorted({(t.teacher, mm) for t in ev.tiers for mm in t.assignment.models
                    if mm != t.teacher}, key=lambda p: (list(s.models).index(p[0]),
                                                       list(s.models).index(p[1])))
    involved = [mm for mm in s.models if any(mm in p for p in pairs)]
    drops: dict[tuple[str, str], dict[str, np.ndarray]] = {p: {} for p in pairs}
    for c in s.capabilities:
        per_model = measured.evals.get(c.id, {})
        rates: dict[str, np.ndarray] = {}
        if posterior:
            for mm in involved:
                r = per_model.get(mm)
                if r is not None and r.examples > 0 and all(
                        (x := per_model.get(o)) is not None and x.examples > 0
                        for p in pairs if mm in p for o in p):
                    rates[mm] = rng.beta(1 + r.passed, 1 + r.examples - r.passed, n)
        for teacher, mm in pairs:
            ret = next(r for r in ev.retention_against(teacher, mm) if r.capability == c.id)
            if teacher in rates and mm in rates:
                drops[(teacher, mm)][c.id] = np.maximum(rates[teacher] - rates[mm], 0.0)
            elif not posterior or ret.drop is not None:
                drops[(teacher, mm)][c.id] = np.full(n, loss_drop(ret))
            else:
                t_res = per_model.get(teacher)
                rate = t_res.passed / t_res.examples if t_res is not None and t_res.examples \
                    else 1.0
                drops[(teacher, mm)][c.id] = np.full(
                    n, max(0.0, rate - PESSIMISTIC_STUDENT_PASS_RATE))
    # drawn last, and only when stated, so scenarios without these spreads draw as before
    turns = _lognormal(rng, s.conversation.turns_cv, n) if s.conversation.turns_cv > 0 else None
    prices = {mid: _lognormal(rng, m.price_cv, n) for mid, m in s.models.items()
              if isinstance(m, ApiModel) and m.price_cv > 0}
    conversations = {t.id: _lognormal(rng, t.conversations_per_user_month_cv, n)
                     for t in s.tiers if t.conversations_per_user_month_cv > 0}
    reasoning = {mid: _lognormal(rng, m.reasoning_tokens_cv, n) for mid, m in s.models.items()
                 if m.reasoning_tokens_cv > 0}
    return Draws(user, assistant, throughput, shares, drops, turns, prices, conversations,
                 reasoning)


def simulate(ev: Evaluation, measured: Measured, draws: int = 10_000, seed: int = 0,
             progress: Callable[[float], None] | None = None, chunk: int = 50_000,
             posterior: bool = True) -> tuple[TierUncertainty, ...]:
    """P5/P50/P95 of every tier's cost, floor and loss, and P(margin at price ≥ target)."""
    s = ev.scenario
    d = draw_inputs(ev, measured, draws, seed, posterior)
    n_tiers = len(ev.tiers)
    cost = np.empty((n_tiers, draws))
    loss = np.empty((n_tiers, draws))
    conv = np.array([[t.conversations_per_user_month] * draws for t in s.tiers], dtype=float
                    ).reshape(n_tiers, draws)
    for start in range(0, draws, chunk):
        sl = slice(start, min(draws, start + chunk))
        time_models = {mid: tm.scaled(d.throughput_scale[mid][sl]) if mid in d.throughput_scale
                       else tm for mid, tm in measured.time_models.items()}
        table = cost_table(s, measured.prices, time_models, d.user_scale[sl],
                           d.assistant_scale[sl],
                           1.0 if d.turns_scale is None else d.turns_scale[sl],
                           {k: v[sl] for k, v in d.reasoning_scale.items()})
        if d.price_scale:
            table = _scale_prices(table, {k: v[sl] for k, v in d.price_scale.items()})
        shares = {k: v[sl] for k, v in d.shares.items()}
        for i, (tier, res) in enumerate(zip(s.tiers, ev.tiers, strict=True)):
            cost[i, sl] = plan_cost_per_conversation(res.assignment, s, table, shares)
            conv_scale = d.conversations_scale.get(tier.id)
            if conv_scale is not None:
                conv[i, sl] = tier.conversations_per_user_month * conv_scale[sl]
            drops = {m: {k: v[sl] for k, v in d.drops[(res.teacher, m)].items()}
                     for m in res.assignment.models if m != res.teacher}
            loss[i, sl] = plan_loss_usd_month(
                res.assignment, s, tier.users * conv[i, sl], drops, res.teacher, shares)
        if progress is not None:
            progress(sl.stop / draws)
    out = []
    for i, tier in enumerate(s.tiers):
        per_user = conv[i] * cost[i]
        floor = price_floor_usd_month(per_user, tier.target_gross_margin, s.fees)
        margin = gross_margin_at_price(tier.price_usd_month, per_user, s.fees)
        p_meets = None if margin is None else float(np.mean(margin >= tier.target_gross_margin))
        out.append(TierUncertainty(tier.id, draws, _pct(cost[i]), _pct(floor), _pct(loss[i]),
                                   p_meets))
    return tuple(out)


def _scale_prices(table: CostTable, scale: dict[str, np.ndarray]) -> CostTable:
    """API costs are linear in the token prices: scale each priced model's costs."""
    per_cap = {m: ({c: v * scale[m] for c, v in caps.items()} if m in scale else caps)
               for m, caps in table.per_capability.items()}
    uncat = {m: (v * scale[m] if m in scale else v) for m, v in table.uncategorised.items()}
    return CostTable(per_cap, uncat, table.tokens, table.uncategorised_tokens)


def _pct(x: np.ndarray) -> tuple[float, float, float]:
    a, b, c = np.percentile(x, PERCENTILES)
    return float(a), float(b), float(c)


def floor_intervals(result: tuple[TierUncertainty, ...], ev: Evaluation) -> list[dict[str, Any]]:
    """Rows for display: each tier's floor percentiles, absolute and relative to its
    deterministic floor (0.1 = 10% above it), and P(margin at price ≥ target)."""
    rows = []
    for r, t in zip(result, ev.tiers, strict=True):
        base = t.economics.price_floor_usd_month
        p5, p50, p95 = r.price_floor_usd_month
        rows.append({"tier": r.tier, "floor_usd_month": base, "floor_p5_usd_month": p5,
                     "floor_p50_usd_month": p50, "floor_p95_usd_month": p95,
                     "p5_vs_floor": p5 / base - 1, "p50_vs_floor": p50 / base - 1,
                     "p95_vs_floor": p95 / base - 1,
                     "p_margin_meets_target": r.p_margin_meets_target})
    return rows
