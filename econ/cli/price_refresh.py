"""``econ prices refresh``: rebuild the pinned snapshot from the installed litellm, offline.

A command (it prints and writes files), so it lives with the CLI.

This is the only module that imports litellm. It sets LITELLM_LOCAL_MODEL_COST_MAP=True first,
so litellm reads its bundled cost map and never the network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.base.fileio import atomic_write_text
from econ.model.prices import SNAPSHOT_FIELDS, PriceSnapshot, build_snapshot, diff_snapshots

__all__ = ["installed_cost_map", "refresh", "watched_price_keys"]


def installed_cost_map() -> tuple[dict[str, Any], str]:
    """litellm's bundled model cost map and litellm's version (imports litellm)."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    print("loading litellm (offline cost map; this takes a few seconds)…", file=sys.stderr)
    import litellm

    return dict(litellm.model_cost), metadata.version("litellm")


def watched_price_keys(folder: Path) -> set[str]:
    """price_key values used by the scenario files in ``folder`` (a file that cannot be read
    as a scenario is named on stderr and skipped)."""
    from econ.base.fileio import MAX_SCENARIO_BYTES, read_text_limited
    from econ.scenario.yamlio import parse_yaml

    keys: set[str] = set()
    for f in sorted(folder.glob("*.y*ml")):
        try:
            data, _ = parse_yaml(read_text_limited(f, MAX_SCENARIO_BYTES), str(f))
        except (OSError, UnicodeDecodeError, EconError) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
                getattr(exc, "strerror", None) or str(exc).splitlines()[0])
            print(f"{f}: skipped ({reason})", file=sys.stderr)
            continue
        models = data.get("models") if isinstance(data, dict) else None
        if isinstance(models, dict):
            keys |= {m["price_key"] for m in models.values()
                     if isinstance(m, dict) and isinstance(m.get("price_key"), str)}
    return keys


def refresh(args: argparse.Namespace) -> int:
    from econ.model.loader import DEFAULT_SNAPSHOT, load_snapshot

    target = Path(args.prices or DEFAULT_SNAPSHOT)
    if not target.parent.is_dir():
        raise EconError(f"{target}: the folder {target.parent} does not exist")
    if not Path(args.scenarios).is_dir():
        raise EconError(f"--scenarios {args.scenarios}: not a folder")
    old = load_snapshot(target) if target.exists() else PriceSnapshot("none", "never", {})
    cost_map, version = installed_cost_map()
    new = build_snapshot(cost_map, version, dt.date.today().isoformat())
    if not new.models:
        raise EconError("litellm's cost map has no priced chat models; snapshot left unchanged")
    watched = watched_price_keys(Path(args.scenarios))
    diff = diff_snapshots(old, new, watched)
    print(f"litellm {old.litellm_version} ({old.snapshot_date}) → {version} "
          f"({new.snapshot_date}): {len(new.models)} priced chat models")
    print(f"added {len(diff.added)}: {_some(diff.added)}")
    print(f"removed {len(diff.removed)}: {_some(diff.removed)}")
    gone = sorted(watched - set(new.models))
    if gone:
        print(f"!! used by scenarios but no longer priced: {', '.join(gone)}")
    if diff.changed:
        print("changed prices of models used by the scenarios (USD per million tokens):")
        for name, moves in diff.changed.items():
            for field, (a, b) in moves.items():
                print(f"  {name}.{SNAPSHOT_FIELDS[field]}: {_mtok(a)} → {_mtok(b)}")
    else:
        print("no price changes for models used by the scenarios")
    atomic_write_text(target, json.dumps(new.to_json(), indent=1, sort_keys=False) + "\n")
    print(f"wrote {target}")
    return 0


def _some(names: list[str], limit: int = 12) -> str:
    if not names:
        return "none"
    more = f" … and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _mtok(x: float | None) -> str:
    return "—" if x is None else f"{x * 1e6:g}"
