"""econ validate, schema, evaluate and export: a scenario in, its figures out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from econ.base.errors import EconError
from econ.cli.common import (
    EXIT_OK,
    add_draws,
    add_multiplicity,
    add_scenario,
    consent_overrides,
    load,
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
    ev = evaluate(loaded.scenario, loaded.measured,
                  consent=consent_overrides(loaded, args.consent))
    if args.json:
        print_json(evaluation_json(ev))
    else:
        sys.stdout.write(text_report(ev))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    import os
    import stat

    from econ.base.fileio import atomic_write_all, atomic_write_bytes
    from econ.outputs.export import (
        EXPORT_FORMATS,
        SIDECAR_FORMATS,
        export_bytes,
        sidecar_bytes,
        sidecar_path,
    )

    out = Path(args.output)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in EXPORT_FORMATS:
        raise EconError(f"{out}: cannot tell the export format; use --format csv|xlsx|md|json")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    loaded, ev, prov = evaluated_with_provenance(args)
    data = export_bytes(ev, cast("ExportFormat", fmt), prov)
    try:
        stream = stat.S_ISCHR(os.stat(out).st_mode) or stat.S_ISFIFO(os.stat(out).st_mode)
    except OSError:
        stream = False
    if fmt not in SIDECAR_FORMATS:
        atomic_write_bytes(out, data)
        print(f"wrote {out} ({fmt}, {len(loaded.scenario.tiers)} tiers)", file=sys.stderr)
    elif stream:  # a pipe or a device: the table alone, nowhere beside it for a sidecar
        atomic_write_bytes(out, data)
        print(f"wrote {out} ({fmt}, {len(loaded.scenario.tiers)} tiers; no provenance sidecar "
              "beside a pipe or device)", file=sys.stderr)
    else:
        side = sidecar_path(out)
        atomic_write_all([(out, data), (side, sidecar_bytes(prov))])
        print(f"wrote {out} ({fmt}, {len(loaded.scenario.tiers)} tiers) and its provenance "
              f"{side}", file=sys.stderr)
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    """Write the decision record, all or nothing: every file is built first, then written into
    a temporary folder that is moved into place only when complete."""
    from econ.base.fileio import atomic_write_folder
    from econ.outputs.record import build_record, record_files

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise EconError(f"{out}: not a folder")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    loaded, ev, prov = evaluated_with_provenance(args)
    files = record_files(build_record(ev, loaded.measured, prov, draws=args.draws,
                                      seed=args.seed, swing=args.swing))
    atomic_write_folder(out, files)
    print(f"wrote {', '.join(files)} to {out}", file=sys.stderr)
    return EXIT_OK


def evaluated_with_provenance(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The scenario, its evaluation under ``--consent`` and the provenance an output of it
    carries (export and record write the same)."""
    from econ.model.evaluate import evaluate
    from econ.outputs.provenance import build_provenance

    loaded = load(args)
    consent = consent_overrides(loaded, args.consent)
    ev = evaluate(loaded.scenario, loaded.measured, consent=consent)
    prov = build_provenance(ev, Path(args.scenario), Path(args.scenario).name,
                            unsaved_edits=consent_differs(loaded, consent))
    return loaded, ev, prov


def consent_differs(loaded: Any, consent: dict[str, tuple[str, ...]] | None) -> bool:
    """Whether ``--consent`` asks for a tier's consent set other than the file's (an unsaved
    edit)."""
    if consent is None:
        return False
    s = loaded.scenario
    return any(set(caps) != set(s.tier_consent(next(t for t in s.tiers if t.id == tid)))
               for tid, caps in consent.items())


def cmd_migrate(args: argparse.Namespace) -> int:
    """Rewrite a version-1 file as version 2: in place through the locked compare-and-swap
    rewrite every writer of a scenario uses, or into ``-o`` (compared with what it held)."""
    from econ.base.fileio import MAX_SCENARIO_BYTES, read_text_limited
    from econ.model.loader import parse_scenario
    from econ.scenario.migrate import migrate_text
    from econ.scenario.store import rewrite_scenario, save_scenario_file

    path = Path(args.scenario)
    load(args)  # a file that does not load is not rewritten

    def edit(text: str) -> tuple[str, bool]:
        new, changed = migrate_text(text)
        if changed:
            parse_scenario(new, str(path), base_dir=path.parent)  # the result must load too
        return new, changed

    if args.output:
        out = Path(args.output)
        new, changed = edit(read_text_limited(path, MAX_SCENARIO_BYTES))
        try:
            before: str | None = read_text_limited(out, MAX_SCENARIO_BYTES)
        except FileNotFoundError:
            before = None
        if changed:
            save_scenario_file(out, new, before)
    else:
        out = path
        changed = rewrite_scenario(path, edit)[1]
    if not changed:
        print(f"{path}: already schema version 2; nothing written", file=sys.stderr)
        return EXIT_OK
    print(f"wrote {out} (schema version 2)", file=sys.stderr)
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="cost per conversation, retention, tiers and floors")
    add_scenario(p)
    add_multiplicity(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--consent", action="append", metavar="TIER=CAP,CAP",
                   help="the consent set of one tier instead of the scenario's (repeatable; "
                   "TIER= consents to nothing)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("validate", help="check a scenario file")
    add_scenario(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("migrate", help="rewrite a version-1 scenario as version 2 (comments kept)")
    add_scenario(p)
    p.add_argument("-o", "--output", help="write here instead of rewriting the file in place")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("schema", help="print the scenario JSON Schema")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("export", help="write the tier-pricing table")
    add_scenario(p)
    add_multiplicity(p)
    p.add_argument("--format", choices=["csv", "xlsx", "md", "json"])
    p.add_argument("-o", "--output", required=True, help="output file")
    p.add_argument("--consent", action="append", metavar="TIER=CAP,CAP",
                   help="the consent set of one tier instead of the scenario's (repeatable)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("record", help="write the decision record: decision.md, decision.html "
                       "and the frontier and tornado PNGs")
    add_scenario(p)
    add_multiplicity(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--consent", action="append", metavar="TIER=CAP,CAP",
                   help="the consent set of one tier instead of the scenario's (repeatable)")
    add_draws(p)
    p.add_argument("--swing", type=share_arg, default=0.2, help="sensitivity swing (0.2)")
    p.set_defaults(func=cmd_record)
