"""Monte Carlo over the measured inputs: seeded, vectorised, spread-free draws reproduce the
deterministic result exactly.

Each draw scales
- every self-hosted model's throughput by a lognormal factor with the measurement's CV
  (median preserved: σ = sqrt(log(1 + cv²)));
- the mean user and assistant tokens per turn by lognormal factors with the shape's
  ``token_length_cv`` (shared by all capabilities of the draw);
- each capability's traffic share by a normal draw with its ``traffic_share_sd``, clipped at 0,
  and the shares rescaled to sum to 1 when they exceed it;
and samples each pass rate from its Beta(1 + passed, 1 + failed) posterior for the loss.
The plan of each tier is held at the deterministic one (consent and retention verdicts fixed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from econ.model.cost import cost_table
from econ.model.evaluate import Evaluation, Measured
from econ.model.loss import PESSIMISTIC_STUDENT_PASS_RATE, loss_drop, plan_loss_usd_month
from econ.model.plans import plan_cost_per_conversation
from econ.model.tiers import gross_margin_at_price, price_floor_usd_month
from econ.scenario.schema import SelfHostedModel

__all__ = ["Draws", "TierUncertainty", "draw_inputs", "floor_intervals", "simulate"]

PERCENTILES = (5.0, 50.0, 95.0)


@dataclass(frozen=True)
class Draws:
    user_scale: np.ndarray
    assistant_scale: np.ndarray
    throughput_scale: dict[str, np.ndarray]
    shares: dict[str, np.ndarray]
    drops: dict[str, np.ndarray]


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
    drops = {}
    teacher, student = s.teacher_id, s.student_id
    for c in s.capabilities:
        per_model = measured.evals.get(c.id, {})
        t, st = per_model.get(teacher), per_model.get(student)
        if not posterior:
            drops[c.id] = np.full(n, loss_drop(ev.retention_of(c.id)))
            continue
        if t is None or st is None or t.examples == 0 or st.examples == 0:
            rate = t.passed / t.examples if t is not None and t.examples else 1.0
            drops[c.id] = np.full(n, max(0.0, rate - PESSIMISTIC_STUDENT_PASS_RATE))
            continue
        pt = rng.beta(1 + t.passed, 1 + t.examples - t.passed, n)
        ps = rng.beta(1 + st.passed, 1 + st.examples - st.passed, n)
        drops[c.id] = np.maximum(pt - ps, 0.0)
    return Draws(user, assistant, throughput, shares, drops)


def simulate(ev: Evaluation, measured: Measured, draws: int = 10_000, seed: int = 0,
             progress: Callable[[float], None] | None = None, chunk: int = 50_000,
             posterior: bool = True) -> tuple[TierUncertainty, ...]:
    """P5/P50/P95 of every tier's cost, floor and loss, and P(margin at price ≥ target)."""
    s = ev.scenario
    d = draw_inputs(ev, measured, draws, seed, posterior)
    n_tiers = len(ev.tiers)
    cost = np.empty((n_tiers, draws))
    loss = np.empty((n_tiers, draws))
    for start in range(0, draws, chunk):
        sl = slice(start, min(draws, start + chunk))
        time_models = {mid: tm.scaled(d.throughput_scale[mid][sl]) if mid in d.throughput_scale
                       else tm for mid, tm in measured.time_models.items()}
        table = cost_table(s, measured.prices, time_models, d.user_scale[sl],
                           d.assistant_scale[sl])
        shares = {k: v[sl] for k, v in d.shares.items()}
        for i, (tier, res) in enumerate(zip(s.tiers, ev.tiers, strict=True)):
            cost[i, sl] = plan_cost_per_conversation(res.assignment, s, table, shares)
            loss[i, sl] = plan_loss_usd_month(
                res.assignment, s, tier.users * tier.conversations_per_user_month,
                {k: v[sl] for k, v in d.drops.items()}, shares)
        if progress is not None:
            progress(sl.stop / draws)
    out = []
    for i, tier in enumerate(s.tiers):
        per_user = tier.conversations_per_user_month * cost[i]
        floor = price_floor_usd_month(per_user, tier.target_gross_margin, s.fees)
        margin = gross_margin_at_price(tier.price_usd_month, per_user, s.fees)
        p_meets = None if margin is None else float(np.mean(margin >= tier.target_gross_margin))
        out.append(TierUncertainty(tier.id, draws, _pct(cost[i]), _pct(floor), _pct(loss[i]),
                                   p_meets))
    return tuple(out)


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
