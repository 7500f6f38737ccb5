"""The ``econ`` command line. Errors become one clean message on stderr and exit code 1."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from econ.errors import EconError

if TYPE_CHECKING:
    from econ.export import ExportFormat

__all__ = ["main"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_LOST = 0, 1, 3


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, allow_nan=False) + "\n")


def _load(args: argparse.Namespace) -> Any:
    from econ.loader import load_scenario, load_snapshot

    snapshot = load_snapshot(args.prices) if getattr(args, "prices", None) else None
    return load_scenario(args.scenario, snapshot)


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = _load(args)
    s = loaded.scenario
    print(f"{args.scenario}: ok ({len(s.models)} models, {len(s.capabilities)} capabilities, "
          f"{len(s.tiers)} tiers)")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from econ.scenario import Scenario

    _print_json(Scenario.model_json_schema())
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from econ.evaluate import evaluate
    from econ.report import evaluation_json, text_report

    loaded = _load(args)
    ev = evaluate(loaded.scenario, loaded.measured, consent=args.consent)
    if args.json:
        _print_json(evaluation_json(ev))
    else:
        sys.stdout.write(text_report(ev))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from econ.evaluate import evaluate
    from econ.export import EXPORT_FORMATS, export_bytes
    from econ.fileio import atomic_write_bytes

    out = Path(args.output)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in EXPORT_FORMATS:
        raise EconError(f"{out}: cannot tell the export format; use --format csv|xlsx|md|json")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    loaded = _load(args)
    ev = evaluate(loaded.scenario, loaded.measured, consent=args.consent)
    data = export_bytes(ev, cast("ExportFormat", fmt))
    atomic_write_bytes(out, data)
    print(f"wrote {out} ({fmt}, {len(loaded.scenario.tiers)} tiers)", file=sys.stderr)
    return EXIT_OK


def cmd_prices_show(args: argparse.Namespace) -> int:
    from econ.loader import load_snapshot
    from econ.prices import model_prices

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
        _print_json({"litellm_version": snap.litellm_version,
                     "snapshot_date": snap.snapshot_date, "models": rows})
        return EXIT_OK
    from econ.report import format_table

    print(f"Price snapshot: litellm {snap.litellm_version}, taken {snap.snapshot_date} "
          "(USD per million tokens)")
    cols = ["input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok",
            "batch_input_usd_per_mtok", "batch_output_usd_per_mtok"]
    table = [[n] + ["—" if r[c] is None else f"{r[c]:g}" for c in cols] for n, r in rows.items()]
    print(format_table(["model", "input", "output", "cached input", "batch input",
                        "batch output"], table, [False] + [True] * 5))
    return EXIT_OK


def cmd_prices_refresh(args: argparse.Namespace) -> int:
    from econ.price_refresh import refresh

    return refresh(args)


def cmd_compare(args: argparse.Namespace) -> int:
    from econ.compare import compare_json, compare_results, compare_text
    from econ.results_io import read_results

    rows = []
    for f in args.results:
        rows += read_results(f)
    results = compare_results(rows, args.teacher, args.student, args.tolerance)
    if args.json:
        _print_json(compare_json(results, args.teacher, args.student))
    else:
        sys.stdout.write(compare_text(results, args.teacher, args.student))
    return EXIT_LOST if any(r.verdict == "lost" for r in results) else EXIT_OK


def _add_scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--prices", help="price snapshot JSON (default: data/litellm_prices.json)")


def _share(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {v})")
    return v


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="econ", description="Cost–capability product economics of LLM products.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("evaluate", help="cost per conversation, retention, tiers and floors")
    _add_scenario(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--consent", nargs="*", metavar="CAPABILITY",
                   help="consent set to use instead of the scenario's")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "compare", help="teacher vs student per capability from results files (exit 3 if lost)")
    p.add_argument("results", nargs="+", help="per-example results, CSV or JSONL")
    p.add_argument("--teacher", required=True, help="model id of the teacher in the files")
    p.add_argument("--student", required=True, help="model id of the student in the files")
    p.add_argument("--tolerance", type=_share, default=0.02,
                   help="largest accepted drop in pass rate (default 0.02 = 2 points)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("validate", help="check a scenario file")
    _add_scenario(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the scenario JSON Schema")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("export", help="write the tier-pricing table")
    _add_scenario(p)
    p.add_argument("--format", choices=["csv", "xlsx", "md", "json"])
    p.add_argument("-o", "--output", required=True, help="output file")
    p.add_argument("--consent", nargs="*", metavar="CAPABILITY")
    p.set_defaults(func=cmd_export)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except EconError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
