"""Payback in words and tables: the text report, the record and the app say it the same way.

In: a :class:`~econ.decisions.payback.Payback`. Out: text lines, a DataFrame, a JSON-ready dict.
May import: econ.base … econ.decisions, econ.outputs.tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from econ.base.formatting import duration, number
from econ.decisions.payback import Payback
from econ.outputs.tables import format_table, plan_json, plan_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["distillations_text", "loss_change_text", "payback_frame", "payback_json",
           "payback_lines", "payback_reasons", "payback_text"]


def distillations_text(pb: Payback) -> str:
    """``one distillation a year``, ``4 distillations a year``."""
    n = pb.distillations_per_year
    return f"{'one' if n == 1 else f'{n:g}'} distillation{'' if n == 1 else 's'} a year"


def loss_change_text(added_usd_month: float, unit: str = "USD/month") -> str:
    """What the plans do to capability loss, in plain words whatever its sign (never "add
    -6,971")."""
    if round(added_usd_month) > 0:
        return f"add {number(added_usd_month, 0)} {unit} of capability loss"
    if round(added_usd_month) < 0:
        return f"cut capability loss by {number(-added_usd_month, 0)} {unit}"
    return "leave capability loss unchanged"


def payback_text(months: float | None, never_because: str | None) -> str:
    """A payback in words: its duration, or "never pays back" with the reason."""
    if months is None:
        return f"never pays back ({never_because})" if never_because else "never pays back"
    return f"pays back in {duration(months)}"


def payback_frame(pb: Payback) -> pd.DataFrame:
    """Per tier: baseline, savings, added loss, net, and both paybacks as durations ("never":
    :func:`payback_reasons` says why)."""
    import pandas as pd

    return pd.DataFrame([{
        "tier": r.tier, "baseline": plan_text(r.baseline_assignment),
        "gross_savings_usd_month": r.gross_savings_usd_month,
        "added_loss_usd_month": r.added_loss_usd_month,
        "net_of_loss_savings_usd_month": r.net_of_loss_savings_usd_month,
        "cash_payback": duration(r.cash_payback_months),
        "net_of_loss_payback": duration(r.net_of_loss_payback_months),
    } for r in pb.tiers])


def payback_reasons(pb: Payback) -> list[str]:
    """Why each payback that never comes does not: the lines under the per-tier table."""
    return [f"{r.tier}: {kind} payback never comes: {why}" for r in pb.tiers
            for kind, why in (("cash", r.cash_payback_never_because),
                              ("net-of-loss", r.net_of_loss_payback_never_because))
            if why is not None and (kind == "cash" or why != r.cash_payback_never_because)]


def payback_lines(pb: Payback | None) -> list[str]:
    """The payback paragraph and table of the text report."""
    if pb is None:
        return []
    out = [f"Distillation of {', '.join(pb.distilled_models)}"
           + ("" if pb.distilled_models_stated else " (taken as distilled: the students the "
              "tiers serve; name it in distillation.model)")
           + f": one-off {number(pb.one_off_usd, 0)} USD, "
           f"{distillations_text(pb)}. Against each tier's best plan "
           f"without it (same consent set and routing, every undistilled model tried, by cost "
           f"plus capability loss) the plans save {number(pb.gross_savings_usd_month, 0)} "
           f"USD/mo gross and {loss_change_text(pb.added_loss_usd_month, 'USD/mo')}, "
           f"net of loss {number(pb.net_of_loss_savings_usd_month, 0)} USD/mo",
           f"  cash (one-off ÷ gross savings): "
           f"{payback_text(pb.cash_payback_months, pb.cash_payback_never_because)}; "
           f"12-month cash {number(pb.cash_12_months_usd, 0)} USD",
           f"  net of capability loss (one-off ÷ net): "
           f"{payback_text(pb.net_of_loss_payback_months, pb.net_of_loss_payback_never_because)}"
           f"; 12-month net of loss {number(pb.net_of_loss_12_months_usd, 0)} USD",
           "Per tier (paybacks as if the tier alone carried the one-off cost):"]
    out.append(format_table(
        ["tier", "baseline (best plan without distillation)", "gross savings (USD/mo)",
         "added loss (USD/mo)", "net of loss (USD/mo)", "cash payback", "net-of-loss payback"],
        [[r.tier, plan_text(r.baseline_assignment), number(r.gross_savings_usd_month, 0),
          number(r.added_loss_usd_month, 0), number(r.net_of_loss_savings_usd_month, 0),
          duration(r.cash_payback_months), duration(r.net_of_loss_payback_months)]
         for r in pb.tiers],
        [False, False, True, True, True, True, True]))
    out += [f"  {line}" for line in payback_reasons(pb)]
    return out


def payback_json(p: Payback | None) -> dict[str, Any] | None:
    if p is None:
        return None
    out = p.to_json()
    for tier, t in zip(out["tiers"].values(), p.tiers, strict=True):
        tier["baseline_plan"] = plan_json(t.baseline_assignment)
    return out
