"""econ validate, schema, evaluate and export: a scenario in, its figures out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from econ.base.errors import EconError
from econ.cli.common import (
    EXIT_OK,
    add_scenario,
    load,
    positive_int,
    print_json,
    share_arg,
)

if TYPE_CHECKING:
    from econ.outputs.export import ExportFormat

__all__ = ["register"]


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load(args)
    s = loaded.scenario
    print(f"{args.scenario}: ok ({len(s.models)} models, {len(s.capabilities)} capabilities, "
          f"{len(s.tiers)} tiers)")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from econ.scenario.schema import Scenario

    print_json(Scenario.model_json_schema())
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from econ.model.evaluate import evaluate
    from econ.outputs.report import evaluation_json, text_report

    loaded = load(args)
    ev = evaluate(loaded.scenario, loaded.measured, consent=args.consent)
    if args.json:
        print_json(evaluation_json(ev))
    else:
        sys.stdout.write(text_report(ev))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from econ.base.fileio import atomic_write_bytes
    from econ.model.evaluate import evaluate
    from econ.outputs.export import EXPORT_FORMATS, export_bytes
    from econ.outputs.provenance import build_provenance

    out = Path(args.output)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in EXPORT_FORMATS:
        raise EconError(f"{out}: cannot tell the export format; use --format csv|xlsx|md|json")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    loaded = load(args)
    ev = evaluate(loaded.scenario, loaded.measured, consent=args.consent)
    prov = build_provenance(ev, Path(args.scenario), Path(args.scenario).name,
                            unsaved_edits=consent_differs(loaded, args.consent))
    data = export_bytes(ev, cast("ExportFormat", fmt), prov)
    atomic_write_bytes(out, data)
    print(f"wrote {out} ({fmt}, {len(loaded.scenario.tiers)} tiers)", file=sys.stderr)
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    from econ.base.fileio import atomic_write_bytes
    from econ.model.evaluate import evaluate
    from econ.outputs.provenance import build_provenance
    from econ.outputs.record import build_record, record_files

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise EconError(f"{out}: not a folder")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    loaded = load(args)
    ev = evaluate(loaded.scenario, loaded.measured, consent=args.consent)
    prov = build_provenance(ev, Path(args.scenario), Path(args.scenario).name,
                            unsaved_edits=consent_differs(loaded, args.consent))
    files = record_files(build_record(ev, loaded.measured, prov, draws=args.draws,
                                      seed=args.seed, swing=args.swing))
    out.mkdir(exist_ok=True)
    for name, data in files.items():
        atomic_write_bytes(out / name, data)
    print(f"wrote {', '.join(files)} to {out}", file=sys.stderr)
    return EXIT_OK


def consent_differs(loaded: Any, consent: list[str] | None) -> bool:
    """Whether ``--consent`` asks for a consent set other than the file's (an unsaved edit)."""
    return consent is not None and set(consent) != set(loaded.scenario.consent)


def register(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="cost per conversation, retention, tiers and floors")
    add_scenario(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--consent", nargs="*", metavar="CAPABILITY",
                   help="consent set to use instead of the scenario's")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("validate", help="check a scenario file")
    add_scenario(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the scenario JSON Schema")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("export", help="write the tier-pricing table")
    add_scenario(p)
    p.add_argument("--format", choices=["csv", "xlsx", "md", "json"])
    p.add_argument("-o", "--output", required=True, help="output file")
    p.add_argument("--consent", nargs="*", metavar="CAPABILITY")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("record", help="write the decision record: decision.md, decision.html "
                       "and the frontier and tornado PNGs")
    add_scenario(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--consent", nargs="*", metavar="CAPABILITY")
    p.add_argument("--draws", type=positive_int, default=20_000,
                   help="Monte Carlo draws for the P5–P95 floors (default 20000, as the app)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--swing", type=share_arg, default=0.2, help="sensitivity swing (0.2)")
    p.set_defaults(func=cmd_record)
