"""econ frontier, uncertainty and sensitivity: what to lose, and how sure we are."""

from __future__ import annotations

import argparse
from typing import Any

from econ.base.errors import EconError
from econ.base.formatting import number
from econ.cli.common import (
    EXIT_OK,
    add_draws,
    add_multiplicity,
    add_scenario,
    banner,
    coverage_json,
    finite_float,
    load,
    positive_int,
    print_json,
    progress_bar,
    share_arg,
    tier_id,
)

__all__ = ["register"]


def cmd_frontier(args: argparse.Namespace) -> int:
    from econ.decisions.adoption import plan_change
    from econ.decisions.frontier import point_plan, tier_frontier
    from econ.model.evaluate import evaluate

    loaded = load(args)
    ev = evaluate(loaded.scenario, loaded.measured)
    front = tier_frontier(ev, tier_id(loaded, args.tier))
    choice = None
    if args.target_floor is not None:
        if front.measure != "price floor":
            raise EconError(f"tier {front.tier} is free: it has no price floor; use "
                            "--target-cost-per-user")
        choice = front.least_loss_within(args.target_floor)
    elif args.target_cost_per_user is not None:
        if front.measure == "price floor":
            raise EconError(f"tier {front.tier} is paid: use --target-floor")
        choice = front.least_loss_within(args.target_cost_per_user)
    elif args.max_loss is not None:
        choice = front.cheapest_under_loss(args.max_loss)
    change = plan_change(ev, front.tier, choice) if choice is not None else None
    if args.json:
        print_json({"tier": front.tier, "teacher": front.teacher,
                    "students": list(front.students), "router": front.router,
                    "points": [p.to_json() for p in front.points],
                    # dropped_points 0: the exact frontier; else what thinning left out
                    "thinning": front.thinning.to_json(),
                    "retained": list(front.retained),
                    "current": front.current.to_json() if front.current else None,
                    "no_consent": front.no_consent.to_json() if front.no_consent else None,
                    "choice": choice.to_json() if choice else None,
                    # the plan adopting the choice gives the tier, and how it differs from now
                    "choice_plan": point_plan(ev, front.tier, choice).model_dump(
                        mode="json", exclude_none=True) if choice else None,
                    "choice_plan_change": change,
                    **coverage_json(ev)})
        return EXIT_OK
    from econ.outputs.report import format_table

    banner(ev)
    print(f"Consent frontier of tier {front.tier}: {len(front.points)} Pareto-optimal plans over "
          f"students {', '.join(front.students) or 'none'} × consent sets, teacher "
          f"{front.teacher}; router: {front.router}")
    if front.thinning.note():
        print(f"!! {front.thinning.note()}")

    def row(p: Any, mark: str = "") -> list[str]:
        plan = (p.student or front.teacher) + ("" if p.routed or p.student is None else " alone")
        if p.student is None:
            plan += " alone"
        return [mark, f"{p.measure_usd_month:,.2f}", f"{p.loss_usd_month:,.0f}", plan,
                ", ".join(p.consent) or "(nothing)", ", ".join(p.unmeasured)]

    rows = [row(p) for p in front.points]
    if front.current is not None:
        rows.append(row(front.current, "current"))
    what = "floor" if front.measure == "price floor" else "cost/user"
    if what != "floor":
        print(f"Tier {front.tier} is free: no price floor and no card fees; its frontier trades "
              "its cost per user (the subsidy it needs per user) against loss")
    print(format_table(["", f"{what} (USD/mo)", "loss (USD/mo)", "student", "consent to lose",
                        "unmeasured (loss at prior's worst)"], rows,
                       [False, True, True, False, False, False]))
    if args.target_floor is not None or args.target_cost_per_user is not None \
            or args.max_loss is not None:
        if choice is None:
            print("\nno consent set meets the target")
        else:
            print(f"\nchoice: consent to lose {', '.join(choice.consent) or 'nothing'}: "
                  f"{'floor' if what == 'floor' else 'cost per user'} "
                  f"{choice.measure_usd_month:,.2f} USD/mo, loss "
                  f"{choice.loss_usd_month:,.0f} USD/mo"
                  + (f"; plan changes: {change}" if change else "; same model and route"))
    return EXIT_OK


def cmd_uncertainty(args: argparse.Namespace) -> int:
    from econ.decisions.uncertainty import simulate
    from econ.model.evaluate import evaluate

    loaded = load(args)
    ev = evaluate(loaded.scenario, loaded.measured)
    bar = progress_bar() if args.draws >= 200_000 else None
    result = simulate(ev, loaded.measured, args.draws, args.seed, progress=bar)
    if args.json:
        print_json({"draws": args.draws, "seed": args.seed,
                    "tiers": {r.tier: r.to_json() for r in result}, **coverage_json(ev)})
        return EXIT_OK
    from econ.outputs.report import format_table

    banner(ev)
    print(f"Monte Carlo: {args.draws:,} draws, seed {args.seed} (P5 / P50 / P95)")
    rows = [[r.tier, " / ".join(f"{100 * x:.3f}" for x in r.cost_per_conversation_usd),
             " / ".join(f"{x:,.2f}" for x in r.cost_per_user_month_usd),
             "— (free)" if r.price_floor_usd_month is None
             else " / ".join(f"{x:,.2f}" for x in r.price_floor_usd_month),
             " / ".join(f"{x:,.0f}" for x in r.loss_usd_month),
             "—" if r.p_margin_meets_target is None else f"{100 * r.p_margin_meets_target:.1f}"]
            for r in result]
    print(format_table(["tier", "cost/conv (¢)", "cost/user (USD/mo)", "floor (USD/mo)",
                        "loss (USD/mo)", "P(margin ≥ target) (%)"], rows,
                       [False, True, True, True, True, True]))
    return EXIT_OK


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from econ.decisions.sensitivity import sensitivity, tornado
    from econ.model.evaluate import evaluate

    loaded = load(args)
    ev = evaluate(loaded.scenario, loaded.measured)
    rows = sensitivity(ev, loaded.measured, args.swing)
    tiers = [t.id for t in loaded.scenario.tiers]
    base = {t.economics.tier: t.economics.price_floor_usd_month for t in ev.tiers}
    per_user = {t.economics.tier: t.economics.cost_per_user_month_usd for t in ev.tiers}
    if args.json:
        out: dict[str, Any] = {"swing": args.swing, "tiers": {}, **coverage_json(ev)}
        for tid in tiers:
            # a free tier has no floor (null): its inputs are ranked by its cost per user
            out["tiers"][tid] = {
                "base_floor_usd_month": base[tid],
                "base_cost_per_user_month_usd": per_user[tid],
                "ranked_by": "price floor" if base[tid] is not None else "cost per user",
                "inputs": [
                    {"input": r.input, "base_value": r.base_value, "low_value": r.low_value,
                     "high_value": r.high_value, "floor_at_low_usd_month": r.floor_at_low[tid],
                     "floor_at_high_usd_month": r.floor_at_high[tid],
                     "cost_per_user_at_low_month_usd": r.cost_per_user_at_low[tid],
                     "cost_per_user_at_high_month_usd": r.cost_per_user_at_high[tid],
                     "swing_usd_month": r.swing(tid)} for r in tornado(rows, tid)]}
        print_json(out)
        return EXIT_OK
    from econ.outputs.report import format_table

    banner(ev)
    for tid in tiers:
        ranked = tornado(rows, tid)
        what = "floor" if base[tid] is not None else "cost per user"
        value = base[tid] if base[tid] is not None else per_user[tid]
        print(f"Tier {tid}: {what} {value:,.2f} USD/mo"
              + (" (free: no floor)" if base[tid] is None else "")
              + f"; inputs moved ±{100 * args.swing:g}%")
        table = [[r.input, f"{r.base_value:g}", number(r.at_low(tid)),
                  number(r.at_high(tid)), f"{r.swing(tid):,.2f}"] for r in ranked[:args.top]]
        print(format_table(["input", "base value", f"{what} at −swing (USD/mo)",
                            f"{what} at +swing (USD/mo)", "swing (USD/mo)"], table,
                           [False, True, True, True, True]))
        print()
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("frontier", help="Pareto frontier of consent sets: floor against loss")
    add_scenario(p)
    add_multiplicity(p)
    p.add_argument("--tier", required=True)
    p.add_argument("--target-floor", type=finite_float, metavar="USD",
                   help="least-loss consent set whose floor is at or under this price")
    p.add_argument("--target-cost-per-user", type=finite_float, metavar="USD",
                   help="a free tier (no floor): least-loss consent set whose cost per user a "
                   "month is at or under this")
    p.add_argument("--max-loss", type=finite_float, metavar="USD",
                   help="cheapest consent set whose monthly loss is at or under this")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_frontier)

    p = sub.add_parser("uncertainty", help="Monte Carlo P5/P50/P95 of floors and margins")
    add_scenario(p)
    add_multiplicity(p)
    add_draws(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_uncertainty)

    p = sub.add_parser("sensitivity", help="one-at-a-time swings of every input (tornado)")
    add_scenario(p)
    add_multiplicity(p)
    p.add_argument("--swing", type=share_arg, default=0.2, help="relative swing (default 0.2)")
    p.add_argument("--top", type=positive_int, default=15, help="rows per tier in the text")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sensitivity)
