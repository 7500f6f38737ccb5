"""econ breakeven: at what monthly conversation volume self-hosting beats the API."""

from __future__ import annotations

import argparse
from typing import Any

from econ.cli.common import EXIT_OK, add_scenario, banner, load, print_json, tier_id

__all__ = ["register"]


def _volume(x: float | None) -> str:
    return "never" if x is None else f"{x:,.0f}"


def cmd_breakeven(args: argparse.Namespace) -> int:
    from econ.decisions.breakeven import ON_DEMAND, breakeven, volume_grid
    from econ.model.evaluate import evaluate

    loaded = load(args)
    ev = evaluate(loaded.scenario, loaded.measured)
    today, basis = None, "every tier's conversations"
    if args.tier is not None:
        tid = tier_id(loaded, args.tier)
        t = next(t for t in loaded.scenario.tiers if t.id == tid)
        today, basis = t.users * t.conversations_per_user_month, f"tier {tid}'s conversations"
    result = breakeven(ev, loaded.measured, today, basis)
    volumes = volume_grid(result.volume_today)
    if args.json:
        print_json(result.to_json(volumes))
        return EXIT_OK
    from econ.outputs.report import format_table

    def price(label: str) -> str:
        return "usd_per_gpu_hour" if label == ON_DEMAND else f"gpu_prices.{label}"

    banner(ev)
    print("Break-even volume: each model serves every conversation of the scenario alone; an "
          "API model costs the same per conversation at any volume; a self-hosted fleet is "
          "whole replicas (min_replicas, then steps of replica_granularity).")
    print(f"Today: {result.volume_today:,.0f} conversations a month ({result.volume_basis}).\n")
    if not result.self_hosted or not result.api:
        print("nothing to compare: the scenario needs a self-hosted and an API model")
        return EXIT_OK
    rows: list[list[Any]] = [
        [o.model, price(o.price_label), f"{o.usd_per_gpu_hour:g}",
         f"{o.usd_per_replica_month:,.0f}",
         f"{o.min_replicas} + {o.replica_granularity}·k",
         f"{100 * o.continuous_usd_per_conversation:.4f}",
         f"{o.continuous_usd_per_conversation / o.tokens_per_conversation * 1e6:.3f}",
         str(o.at(result.volume_today)["replicas"]),
         f"{100 * o.cost_per_conversation_usd(result.volume_today):.4f}",
         f"{100 * o.utilisation(result.volume_today):.2f}"]
        for o in result.self_hosted]
    rows += [[a.model, "API", "", "", "", f"{100 * a.usd_per_conversation:.4f}",
              f"{a.usd_per_mtok:.3f}", "", f"{100 * a.usd_per_conversation:.4f}", ""]
             for a in result.api]
    print(format_table(["model", "GPU price", "USD/GPU-h", "USD/replica-month",
                        "replicas (min + step·k)", "cost/conv, fleet sized exactly (¢)",
                        "USD/M tokens (blended)",
                        "replicas today", "cost/conv today (¢)", "GPU utilisation today (%)"],
                       rows, [False, False, True, True, False, True, True, True, True, True]))
    print("\nCrossovers (conversations a month at which self-hosting costs no more per "
          "conversation than the API):")
    xrows = []
    for x in result.crossovers:
        windows = ", ".join(f"{lo:,.0f}–{hi:,.0f}" for lo, hi in x.windows)
        if x.more_windows:
            windows += f" and {x.more_windows} more"
        xrows.append([x.self_hosted, price(x.price_label), x.api, _volume(x.first_volume),
                      "" if x.replicas_at_first is None else str(x.replicas_at_first),
                      _volume(x.always_from),
                      "" if x.replicas_at_always is None else str(x.replicas_at_always),
                      windows or ("—" if x.first_volume is not None else "")])
    print(format_table(["self-hosted", "GPU price", "API", "first break-even", "replicas",
                        "cheaper from (for good)", "replicas", "cheaper only within"],
                       xrows, [False, False, False, True, True, True, True, False]))
    for o in result.self_hosted:
        print(f"\n{o.model} at {price(o.price_label)} = {o.usd_per_gpu_hour:g} USD/GPU-hour:")
        print(format_table(
            ["conversations/month", "replicas", "GPU utilisation (%)", "cost/conv (¢)",
             "USD/M tokens", *(f"vs {a.model} (¢)" for a in result.api)],
            [[f"{v:,.0f}" + (" (today)" if v == result.volume_today else ""),
              str(o.at(v)["replicas"]), f"{100 * o.utilisation(v):.2f}",
              f"{100 * o.cost_per_conversation_usd(v):.4f}", f"{o.usd_per_mtok(v):.3f}",
              *(f"{100 * (o.cost_per_conversation_usd(v) - a.usd_per_conversation):+.4f}"
                for a in result.api)] for v in volumes],
            [False, True, True, True, True, *(True for _ in result.api)]))
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("breakeven", help="monthly volume at which self-hosting beats the API "
                       "(whole replicas)")
    add_scenario(p)
    p.add_argument("--tier", help="mark this tier's monthly conversations as today's volume "
                   "(default: every tier's)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_breakeven)
