"""The sane range of every price a scenario states or borrows, and the problems of prices
outside it. A price far outside it is a typo or a unit slip (USD per token written where USD per
million tokens is meant, a monthly price in cents): its floors and margins are nonsense (1e308
USD per token made every floor null), so it is refused at validation unless the scenario says
``allow_extreme_prices: true``.

Limits (inclusive; every price is also at least 0):
- token prices: at most ``MAX_USD_PER_MTOK`` USD per million tokens (10,000; the dearest list
  price in the pinned snapshot is below 1,000), in the scenario's ``prices`` and in the snapshot
  entry its ``price_key`` names;
- GPU time: at most ``MAX_USD_PER_GPU_HOUR`` USD per GPU-hour (1,000; cloud H100s rent for 2 to
  12) for ``usd_per_gpu_hour``, ``gpu_prices`` and ``distillation.usd_per_gpu_hour``;
- a tier's ``price_usd_month``: at most ``MAX_USD_PER_MONTH`` USD (1,000,000);
- a router's ``router_usd_per_conversation``: at most ``MAX_ROUTER_USD`` USD (100).
Reads the scenario by attribute (the schema imports the module that calls this). Imports only
``econ.base``.
"""

from __future__ import annotations

from typing import Any

from econ.base.errors import Problem

__all__ = ["MAX_ROUTER_USD", "MAX_USD_PER_GPU_HOUR", "MAX_USD_PER_MONTH", "MAX_USD_PER_MTOK",
           "extreme_price", "extreme_price_problems"]

MAX_USD_PER_MTOK = 10_000.0
MAX_USD_PER_GPU_HOUR = 1_000.0
MAX_USD_PER_MONTH = 1_000_000.0
MAX_ROUTER_USD = 100.0
_OVERRIDE = "set allow_extreme_prices: true in the scenario if it is meant"


def extreme_price(value: float, limit: float, unit: str) -> str | None:
    """The message for a price above ``limit`` (None when it is within)."""
    if value <= limit:
        return None
    shown = f"{limit:,.0f}" if limit >= 1 else f"{limit:g}"
    return f"a price above the sane range of at most {shown} {unit}; {_OVERRIDE}"


def extreme_price_problems(s: Any) -> list[Problem]:
    """Prices the scenario states outside their sane range (none when it allows them)."""
    if getattr(s, "allow_extreme_prices", False):
        return []
    out: list[Problem] = []

    def check(path: tuple[str | int, ...], value: float | None, limit: float,
              unit: str) -> None:
        bad = extreme_price(value, limit, unit) if value is not None else None
        if bad is not None:
            out.append(Problem(path, bad, value=value, has_value=True))

    for mid, m in s.models.items():
        prices = getattr(m, "prices", None)
        if prices is not None:
            for name, value in prices.model_dump().items():
                check(("models", mid, "prices", name), value, MAX_USD_PER_MTOK,
                      "USD per million tokens")
        check(("models", mid, "usd_per_gpu_hour"), getattr(m, "usd_per_gpu_hour", None),
              MAX_USD_PER_GPU_HOUR, "USD per GPU-hour")
        for gpu, value in (getattr(m, "gpu_prices", None) or {}).items():
            check(("models", mid, "gpu_prices", gpu), value, MAX_USD_PER_GPU_HOUR,
                  "USD per GPU-hour")
    if s.distillation is not None:
        check(("distillation", "usd_per_gpu_hour"), s.distillation.usd_per_gpu_hour,
              MAX_USD_PER_GPU_HOUR, "USD per GPU-hour")
    for i, t in enumerate(s.tiers):
        check(("tiers", i, "price_usd_month"), t.price_usd_month, MAX_USD_PER_MONTH,
              "USD a month")
        route = t.plan.route
        if route is not None:
            check(("tiers", i, "plan", "route", "router_usd_per_conversation"),
                  route.router_usd_per_conversation, MAX_ROUTER_USD, "USD a conversation")
    return out
