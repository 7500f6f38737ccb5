"""Where an export came from: scenario file, git revision, date, econ version, consent, edits.

In: an evaluation, the scenario's path (None for an upload), whether the widgets or flags hold
edits not saved in the file, and the date (``SOURCE_DATE_EPOCH`` or today, UTC, unless given).
Out: a frozen :class:`Provenance` whose ``items()`` every export writes the same way.
May import: econ.base, econ.scenario, econ.model.
"""

from __future__ import annotations

import datetime as dt
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from econ.model.evaluate import Evaluation
from econ.scenario.gitrev import git_state

__all__ = ["Provenance", "build_provenance", "export_date", "tier_consent"]


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario_file: str
    git_revision: str
    git_dirty: bool | None
    date: str
    econ_version: str
    consent: tuple[tuple[str, tuple[str, ...]], ...]
    unsaved_edits: bool
    warnings: tuple[str, ...] = ()  # GPU costs extrapolated beyond the runs measured

    def items(self) -> list[tuple[str, str, str]]:
        """(key, label, value) rows, in the order every export writes them."""
        dirty = ("—" if self.git_dirty is None
                 else "yes" if self.git_dirty else "no")
        rows = [("scenario_file", "Scenario file", self.scenario_file),
                ("git_revision", "Git revision", self.git_revision),
                ("git_dirty", "File modified since that revision", dirty),
                ("date", "Date", self.date),
                ("econ_version", "econ version", self.econ_version)]
        rows += [(f"consent_{tier}", f"Consent to lose ({tier})", ", ".join(caps) or "nothing")
                 for tier, caps in self.consent]
        rows.append(("unsaved_edits", "Unsaved edits", "yes" if self.unsaved_edits else "no"))
        rows += [(f"warning_{i}", "Warning", w) for i, w in enumerate(self.warnings, start=1)]
        return rows


def export_date() -> str:
    """``SOURCE_DATE_EPOCH`` as a UTC date when set (reproducible exports), else today (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = (dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit()
            else dt.datetime.now(dt.UTC))
    return when.date().isoformat()


def _econ_version() -> str:
    try:
        return version("econ")
    except PackageNotFoundError:
        return "unknown"


def tier_consent(ev: Evaluation) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each tier's consent set, as evaluated (the file's, or the edited one)."""
    return tuple((t.economics.tier, t.consent) for t in ev.tiers)


def build_provenance(ev: Evaluation, scenario_path: Path | None, name: str, *,
                     unsaved_edits: bool, date: str | None = None) -> Provenance:
    """The provenance of exports of ``ev``; ``name`` labels an upload (no path on disk)."""
    state = git_state(scenario_path) if scenario_path is not None else None
    if state is None:
        label = scenario_path.name if scenario_path is not None else f"{name} (uploaded)"
        rev, dirty = "not in git", None
    else:
        label, rev, dirty = state.path_in_repo, state.revision, state.dirty
    return Provenance(scenario_file=label, git_revision=rev, git_dirty=dirty,
                      date=date or export_date(), econ_version=_econ_version(),
                      consent=tier_consent(ev), unsaved_edits=unsaved_edits,
                      warnings=tuple(f"extrapolated GPU cost: {w}" for w in ev.warnings))
