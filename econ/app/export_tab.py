"""Downloads of the tier-pricing table and the conflict-safe save back to YAML."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st

from econ.app.reload import CONFLICT_PREFIX, conflict_view, forget_reload
from econ.app.state import LOADED_PREFIX, scenarios_folder, wkey
from econ.app.text import markdown, say
from econ.base.draw_limits import DEFAULT_DRAWS
from econ.base.errors import EconError
from econ.model.evaluate import Evaluation
from econ.model.loader import Loaded
from econ.outputs.export import (
    EXPORT_FORMATS,
    ExportFormat,
    export_bytes,
    export_zip,
    sidecar_bytes,
)
from econ.outputs.provenance import Provenance, build_provenance
from econ.outputs.record import build_record, record_files, record_zip
from econ.scenario.edits import Edits, apply_to_yaml
from econ.scenario.store import (
    SaveConflict,
    safe_scenario_path,
    save_scenario_text,
    unified_diff,
)

__all__ = ["export_and_save"]

MIME = {"csv": "text/csv", "md": "text/markdown", "json": "application/json",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def provenance_of(source: str, ev: Evaluation, loaded: Loaded, edits: Edits,
                  from_folder: bool) -> Provenance:
    """The provenance the app's downloads carry (the same function as ``econ export``)."""
    unsaved = apply_to_yaml(loaded.text, loaded.scenario, edits) != loaded.text
    path = scenarios_folder() / source if from_folder else None
    return build_provenance(ev, path, source, unsaved_edits=unsaved)


def _download(source: str, ev: Evaluation, loaded: Loaded, edits: Edits, from_folder: bool,
              fmt: ExportFormat) -> bytes:
    return export_bytes(ev, fmt, provenance_of(source, ev, loaded, edits, from_folder))


def _sidecar(source: str, ev: Evaluation, loaded: Loaded, edits: Edits,
             from_folder: bool) -> bytes:
    """The provenance sidecar ``econ export`` writes beside a CSV or JSON table."""
    return sidecar_bytes(provenance_of(source, ev, loaded, edits, from_folder))


def _all_formats(source: str, ev: Evaluation, loaded: Loaded, edits: Edits,
                 from_folder: bool) -> bytes:
    return export_zip(ev, provenance_of(source, ev, loaded, edits, from_folder),
                      f"{Path(source).stem}-tiers")


def record_settings(source: str) -> tuple[int, int, float]:
    """Monte Carlo draws, seed and sensitivity swing as set on the Uncertainty tab."""
    ss = st.session_state
    return (int(ss.get(wkey(source, "draws"), DEFAULT_DRAWS)),
            int(ss.get(wkey(source, "seed"), 0)),
            float(ss.get(wkey(source, "swing"), 0.2)))


def record_download(source: str, ev: Evaluation, loaded: Loaded, edits: Edits,
                    from_folder: bool, settings: tuple[int, int, float]) -> bytes:
    """The decision record as a ZIP: the files ``econ record`` writes, built the same way."""
    draws, seed, swing = settings
    prov = provenance_of(source, ev, loaded, edits, from_folder)
    files = record_files(build_record(ev, loaded.measured, prov, draws=draws, seed=seed,
                                      swing=swing))
    return record_zip(files, f"{Path(source).stem}-decision-record")


def export_and_save(source: str, ev: Evaluation, loaded: Loaded, edits: Edits,
                     from_folder: bool) -> None:
    st.subheader("Export the tier-pricing table")
    new_text = apply_to_yaml(loaded.text, loaded.scenario, edits)
    unsaved = new_text != loaded.text  # as provenance_of decides it
    st.caption("These downloads hold edits not saved to the file (their provenance says "
               "\"Unsaved edits: yes\")." if unsaved else
               "These downloads are of the scenario as saved (their provenance says "
               "\"Unsaved edits: no\").")
    cols = st.columns(len(EXPORT_FORMATS))
    stem = Path(source).stem
    for col, fmt in zip(cols, EXPORT_FORMATS, strict=True):
        data = partial(_download, source, ev, loaded, edits, from_folder, fmt)
        col.download_button(markdown("Download {fmt}", fmt=fmt.upper()), data=data,
                            file_name=f"{stem}-tiers.{fmt}", mime=MIME[fmt],
                            key=wkey(source, "dl", fmt), on_click="ignore")
    side, zipped = st.columns(2)
    side.download_button(
        "Provenance of the CSV and JSON", file_name=f"{stem}-tiers.provenance.json",
        data=partial(_sidecar, source, ev, loaded, edits, from_folder),
        mime=MIME["json"], key=wkey(source, "dl", "provenance"), on_click="ignore",
        help="The sidecar `econ export` writes beside a CSV or JSON table: scenario file, git "
        "revision, date, econ version, consent sets, unsaved edits, warnings. (The XLSX has it "
        "as a sheet, the Markdown as front matter.)")
    zipped.download_button(
        "All formats with provenance (ZIP)", file_name=f"{stem}-tiers.zip",
        data=partial(_all_formats, source, ev, loaded, edits, from_folder),
        mime="application/zip", key=wkey(source, "dl", "zip"), on_click="ignore")
    draws, seed, swing = settings = record_settings(source)
    st.download_button(
        "Download the decision record (ZIP: Markdown, HTML, PNG charts)",
        data=partial(record_download, source, ev, loaded, edits, from_folder, settings),
        file_name=f"{stem}-decision-record.zip", mime="application/zip",
        key=wkey(source, "dl", "record"), on_click="ignore",
        help=markdown("What `econ record` writes: each tier's plan, floor with P5–P95 ({draws} "
                      "draws, seed {seed}), consent and verdicts, coverage, payback, and the "
                      "frontier and tornado (±{swing}%) charts.", draws=f"{draws:,}", seed=seed,
                      swing=f"{100 * swing:g}"))
    st.subheader("Save the scenario")
    st.caption("Writes the consent set, tier prices and plans back into the YAML file, keeping "
               "its comments and layout (a comment on an edited value says it was edited); "
               "refuses if the file changed on disk since it was loaded.")
    name = source
    if not from_folder:
        st.session_state.setdefault(wkey(source, "saveas"), source)
        name = st.text_input("Save as (a file name in scenarios/)",
                             key=wkey(source, "saveas"))
    buttons = st.columns(2)
    preview = buttons[0].button("Preview changes", key=wkey(source, "preview"))
    # the save runs in the button's callback, before this script: everything drawn after it,
    # the downloads' provenance included, already sees the saved file
    buttons[1].button(markdown("Save to scenarios/{name}", name=name), key=wkey(source, "save"),
                      type="primary", on_click=_save,
                      args=(source, loaded.text, new_text, from_folder))
    result = st.session_state.pop(_SAVED + source, None)
    if result is not None:
        kind, message, diff = result
        say(st.success if kind == "success" else st.error if kind == "error" else st.info,
            "{message}", message=message)
        if diff is not None:
            st.code(diff, language="diff")
    in_conflict = from_folder and CONFLICT_PREFIX + name in st.session_state
    if in_conflict and not preview:
        conflict_view(name, loaded.text, new_text)
    elif preview:
        st.code(unified_diff(loaded.text, new_text, name) or "No changes to save.",
                language="diff")


_SAVED = "save|result|"  # the last save's (kind, message, diff) for the next run to show


def _save(source: str, base_text: str, new_text: str, from_folder: bool) -> None:
    """Save the edited text (the Save button's callback; the outcome waits in the session)."""
    ss = st.session_state
    name = source if from_folder else str(ss.get(wkey(source, "saveas"), source))
    diff = unified_diff(base_text, new_text, name)
    if not diff and from_folder:
        ss[_SAVED + source] = ("info", "No changes to save.", None)
        return
    try:
        path = safe_scenario_path(scenarios_folder(), name)
        save_scenario_text(scenarios_folder(), path.name, new_text,
                           base_text if from_folder else None)
    except SaveConflict as exc:
        ss[_SAVED + source] = ("error", str(exc), None)
        if from_folder:
            ss[CONFLICT_PREFIX + name] = True
        return
    except EconError as exc:
        ss[_SAVED + source] = ("error", str(exc), None)
        return
    ss.pop(CONFLICT_PREFIX + name, None)
    forget_reload(name)
    if from_folder:
        ss[LOADED_PREFIX + name] = new_text
    ss[_SAVED + source] = ("success", f"Saved scenarios/{path.name}. The change:",
                           diff or "(new file)")
