"""Scenario schema versions: what a version-1 file is read as, and rewriting it as version 2.

Version 1 (files without ``schema_version``) had exactly one teacher and one student and one
consent set for every tier. Version 2 allows any number of teachers and students, an optional
``reference`` teacher, ``tiers[].consent`` (the top-level ``consent`` stays the default) and
``tiers[].baseline``. A version-1 file means the same in version 2: its consent set is every
tier's default, its only teacher is the reference. Migration writes ``schema_version: 2`` and
leaves everything else (comments, key order, layout) as it was, through round-trip YAML.
"""

from __future__ import annotations

import io
from typing import Any

from econ.scenario.edits import round_trip_yaml
from econ.scenario.schema import SCHEMA_VERSION

__all__ = ["migrate_text", "version_notice"]

_COMMENT = "scenario schema version (econ migrate wrote it)"


def version_notice(data: Any, file: str | None) -> str | None:
    """The one notice a version-1 file gets, saying what was assumed; None for version 2."""
    if not isinstance(data, dict) or data.get("schema_version") == SCHEMA_VERSION:
        return None
    teachers = [k for k, v in (data.get("models") or {}).items()
                if isinstance(v, dict) and v.get("role") == "teacher"]
    ref = data.get("reference") or (teachers[0] if teachers else "the first teacher")
    where = file or "scenario"
    return (f"{where}: schema version 1 (no schema_version): read as version 2 with the "
            f"top-level consent set as every tier's and '{ref}' as the reference teacher; "
            f"`econ migrate {where}` rewrites the file as version 2")


def migrate_text(text: str) -> tuple[str, bool]:
    """The text rewritten as version 2, and whether anything changed."""
    y = round_trip_yaml()
    data = y.load(text)
    if data.get("schema_version") == SCHEMA_VERSION:
        return text, False
    if "schema_version" in data:
        data["schema_version"] = SCHEMA_VERSION
    else:
        keys = list(data)
        pos = keys.index("name") if "name" in keys else 0
        data.insert(pos, "schema_version", SCHEMA_VERSION, comment=_COMMENT)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue(), True
