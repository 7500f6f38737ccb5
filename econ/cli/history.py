"""econ diff and prices: scenario versions in git, and the pinned price snapshot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.cli.common import (
    EXIT_OK,
    fmt_number,
    print_json,
    short,
)

__all__ = ["register"]


def cmd_diff(args: argparse.Namespace) -> int:
    from econ.decisions.scenario_diff import diff_evaluations
    from econ.model.evaluate import evaluate
    from econ.model.loader import load_scenario, load_snapshot, parse_scenario
    from econ.scenario.gitrev import file_at_revision, revision_label

    snapshot = load_snapshot(args.prices) if args.prices else None
    saturate = bool(args.assume_saturation)
    revs = args.rev or []
    if len(revs) > 2:
        raise EconError("--rev: give at most two revisions")
    if revs and len(args.scenarios) != 1:
        raise EconError("with --rev, give one scenario file")
    if not revs and len(args.scenarios) != 2:
        raise EconError("give two scenario files, or one with --rev REV [--rev REV2]")
    if revs:
        path = Path(args.scenarios[0])
        sides = []
        for rev in revs:
            text = file_at_revision(path, rev)
            sides.append(parse_scenario(text, revision_label(path, rev), snapshot,
                                        base_dir=path.parent, assume_saturation=saturate))
        if len(revs) == 1:
            sides.append(load_scenario(path, snapshot, assume_saturation=saturate))
        labels = [revision_label(path, r) for r in revs] + ([] if len(revs) == 2 else [str(path)])
    else:
        sides = [load_scenario(p, snapshot, assume_saturation=saturate) for p in args.scenarios]
        labels = list(args.scenarios)
    a, b = (evaluate(x.scenario, x.measured) for x in sides)
    d = diff_evaluations(a, b)
    if args.json:
        print_json({"old": labels[0], "new": labels[1], **d.to_json()})
        return EXIT_OK
    from econ.outputs.report import format_table

    print(f"{labels[0]} → {labels[1]}")
    print(f"\nInputs changed: {len(d.inputs)}")
    if d.inputs:
        print(format_table(["input", "old", "new"],
                           [[c.path, short(c.old), short(c.new)] for c in d.inputs]))
    print(f"\nOutputs moved: {len(d.outputs)}")
    if d.outputs:
        print(format_table(
            ["output", "unit", "old", "new", "change", "change (%)"],
            [[o.name, o.unit, fmt_number(o.old), fmt_number(o.new), fmt_number(o.change),
              "—" if o.change_pct is None else f"{o.change_pct:+.1f}"] for o in d.outputs],
            [False, False, True, True, True, True]))
    return EXIT_OK


def cmd_prices_show(args: argparse.Namespace) -> int:
    from econ.model.loader import load_snapshot
    from econ.model.prices import model_prices

    snap = load_snapshot(args.prices)
    rows = {}
    for name in args.models:
        if name not in snap.models:
            from difflib import get_close_matches

            near = get_close_matches(name, list(snap.models), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise EconError(f"{name}: not in the price snapshot (litellm "
                            f"{snap.litellm_version}, {snap.snapshot_date}){hint}")
        rows[name] = vars(model_prices(snap, name))
    if args.json:
        print_json({"litellm_version": snap.litellm_version,
                    "snapshot_date": snap.snapshot_date, "models": rows})
        return EXIT_OK
    from econ.outputs.report import format_table

    print(f"Price snapshot: litellm {snap.litellm_version}, taken {snap.snapshot_date} "
          "(USD per million tokens)")
    cols = ["input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok",
            "batch_input_usd_per_mtok", "batch_output_usd_per_mtok"]
    table = [[n] + ["—" if r[c] is None else f"{r[c]:g}" for c in cols] for n, r in rows.items()]
    print(format_table(["model", "input", "output", "cached input", "batch input",
                        "batch output"], table, [False] + [True] * 5))
    return EXIT_OK


def cmd_prices_refresh(args: argparse.Namespace) -> int:
    from econ.cli.price_refresh import refresh

    return refresh(args)


def register(sub: Any) -> None:
    p = sub.add_parser("diff", help="inputs changed and headline outputs moved between two "
                       "scenarios, or one scenario at git revisions")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    p.add_argument("--rev", action="append", metavar="REV",
                   help="git revision (once: REV → working tree; twice: REV → REV2)")
    p.add_argument("--prices", help="price snapshot JSON")
    p.add_argument("--assume-saturation", action="store_true",
                   help="price self-hosted models at saturation on both sides (see evaluate)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("prices", help="the pinned litellm price snapshot")
    psub = p.add_subparsers(dest="prices_command", required=True, metavar="ACTION")
    q = psub.add_parser("show", help="prices of models in the snapshot")
    q.add_argument("models", nargs="+")
    q.add_argument("--prices", help="price snapshot JSON")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_prices_show)
    q = psub.add_parser("refresh", help="rebuild the snapshot from the installed litellm")
    q.add_argument("--prices", help="price snapshot JSON to rewrite")
    q.add_argument("--scenarios", default="scenarios", help="folder of scenarios to watch")
    q.set_defaults(func=cmd_prices_refresh)
