"""The tier-pricing table and its export formats (CSV, XLSX, Markdown, JSON) as bytes.

A free tier has no price floor: its floor cell is blank in CSV and XLSX, "—" in Markdown and
null in JSON; its cost per user and subsidy are there. Each tier's row also carries its coverage,
its headline (its teacher alone against its plan) and its payback against its best plan without
distillation: the same figures, from the same functions, as ``econ evaluate``.

Every format carries the same rounded numbers (:func:`display_table`): money per month in cents,
cost per conversation to a ten-thousandth of a cent, shares as fractions to one decimal of a
percent, counts as whole numbers where they are whole, blanks (never ``nan``) where a figure
does not exist. The CSV is a plain table (UTF-8 with a byte-order mark so Excel reads it as
UTF-8, the header on line 1, no comment lines) and JSON a plain list of records: their
:class:`~econ.outputs.provenance.Provenance` goes into a sidecar
(:func:`sidecar_bytes`, written beside the table as :func:`sidecar_path`). Markdown carries it
as YAML front matter, the XLSX as a provenance sheet.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from econ.base.formatting import MISSING, UNIT_COST_DIGITS, Kind, cell
from econ.base.secrets import redact
from econ.decisions.candidates import candidates_table
from econ.decisions.payback import payback
from econ.model.evaluate import Evaluation
from econ.outputs.cells import markdown_cell, spreadsheet_cell
from econ.outputs.headline import headline
from econ.outputs.provenance import Provenance
from econ.outputs.report import plan_text
from econ.outputs.verdicts import (
    candidates_statement,
    capability_records,
    p_text,
    verdict_statement,
)

__all__ = ["COLUMNS", "EXPORT_FORMATS", "SIDECAR_FORMATS", "ExportFormat", "candidates_frame",
           "display_table", "export_bytes", "export_zip", "sidecar_bytes", "sidecar_path",
           "tier_pricing_table"]

ExportFormat = Literal["csv", "xlsx", "md", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx", "md", "json")
# the formats that cannot carry their provenance inside: it goes into a sidecar file
SIDECAR_FORMATS: tuple[ExportFormat, ...] = ("csv", "json")

Columns = dict[str, tuple[str, "Kind"]]
# sheet/section title, rounded rows, columns, the line under the table (verdict tables)
Table = tuple[str, list[dict[str, Any]], Columns, str | None]
# column → (title in plain words, kind); the kind decides rounding and the XLSX number format
COLUMNS: Columns = {
    "tier": ("Tier", "text"),
    "price_usd_month": ("Price (USD/month)", "money"),
    "plan": ("Plan", "text"),
    "teacher": ("Teacher", "text"),
    "consent": ("Consents to lose", "text"),
    "capabilities_at_risk_without_consent": ("At risk without consent", "text"),
    "cost_per_conversation_usd": ("Cost per conversation (USD)", "unit_cost"),
    "conversations_per_user_month": ("Conversations per user a month", "count"),
    "cost_per_user_month_usd": ("Cost per user (USD/month)", "money"),
    "target_gross_margin": ("Target gross margin", "share"),
    "price_floor_usd_month": ("Price floor (USD/month)", "money"),
    "price_floor_carrying_free_users_usd_month": ("Floor carrying free users (USD/month)",
                                                  "money"),
    "subsidy_usd_month": ("Free-tier subsidy (USD/month)", "money"),
    "gross_margin_at_price": ("Gross margin at price", "share"),
    "capability_loss_usd_month": ("Capability loss (USD/month)", "money"),
    # shares of the tier's own conversations a model other than its teacher serves
    "unmeasured_traffic_share": ("Unmeasured traffic", "share"),
    "underpowered_traffic_share": ("Underpowered traffic", "share"),
    "uncategorised_traffic_share": ("Uncategorised traffic", "share"),
    # the tier's headline: its teacher alone against its plan (cost_per_conversation_usd)
    "teacher_cost_per_conversation_usd": ("Teacher alone: cost per conversation (USD)",
                                          "unit_cost"),
    "teacher_to_plan_cost_ratio": ("Teacher ÷ plan cost", "count"),
    # payback against the tier's best plan without distillation, as if the tier alone carried
    # the one-off cost; blank when the scenario has no distillation costs or it never pays back
    "payback_baseline": ("Payback baseline (best plan without distillation)", "text"),
    "gross_savings_usd_month": ("Gross savings (USD/month)", "money"),
    "added_loss_usd_month": ("Added capability loss (USD/month)", "money"),
    "net_of_loss_savings_usd_month": ("Savings net of loss (USD/month)", "money"),
    "cash_payback_months": ("Cash payback, tier alone (months; blank: never)", "count"),
    "net_of_loss_payback_months": ("Net-of-loss payback, tier alone (months; blank: never)",
                                   "count"),
}
_DIGITS: dict[Kind, int] = {"money": 2, "unit_cost": UNIT_COST_DIGITS, "count": 2, "share": 3}
_XLSX_FORMAT: dict[Kind, str] = {"money": "#,##0.00", "unit_cost": "0.000000",
                                 "count": "#,##0", "share": "0.0%", "text": "@",
                                 "p": "General"}
# the capability table of the reference comparison: raw and adjusted p-values with the verdicts
CAPABILITY_EXPORT: Columns = {
    "capability": ("Capability", "text"), "n_teacher": ("Teacher examples", "count"),
    "n_student": ("Student examples", "count"), "design": ("Design", "text"),
    "design_effect": ("Design effect", "count"), "outcome": ("Outcome", "text"),
    "drop": ("Drop", "share"), "drop_ci_low": ("Drop, 95% low", "share"),
    "drop_ci_high": ("Drop, 95% high", "share"), "tolerance": ("Tolerance", "share"),
    "claim": ("Claim tested", "text"), "p_value": ("p at tolerance (raw)", "p"),
    "p_adjusted": ("p at tolerance (adjusted)", "p"), "p_zero": ("p drop > 0 (raw)", "p"),
    "p_zero_adjusted": ("p drop > 0 (adjusted)", "p"),
    "min_detectable_drop": ("Minimum detectable drop", "share"),
    "verdict": ("Verdict", "text"), "verdict_unadjusted": ("Verdict without correction", "text"),
    "n_to_settle": ("Sample to settle", "count"), "settle_unit": ("counted in", "text"),
}


def tier_pricing_table(ev: Evaluation) -> pd.DataFrame:
    """One row per tier, units in the column names, full precision: the tier's economics, its
    coverage, its headline and its payback (the same functions as the text report's)."""
    pb = payback(ev)
    paybacks = {r.tier: r for r in pb.tiers} if pb is not None else {}
    rows = []
    for t in ev.tiers:
        e = t.economics
        h = headline(ev, e.tier)
        r = paybacks.get(e.tier)
        rows.append({
            "tier": e.tier,
            "price_usd_month": e.price_usd_month,
            "plan": plan_text(t.assignment),
            "teacher": t.teacher,
            "consent": ", ".join(t.consent),
            "capabilities_at_risk_without_consent": ", ".join(t.at_risk),
            "cost_per_conversation_usd": e.cost_per_conversation_usd,
            "conversations_per_user_month": e.conversations_per_user_month,
            "cost_per_user_month_usd": e.cost_per_user_month_usd,
            "target_gross_margin": e.target_gross_margin,
            "price_floor_usd_month": e.price_floor_usd_month,
            "price_floor_carrying_free_users_usd_month":
                t.price_floor_carrying_free_users_usd_month,
            "subsidy_usd_month": t.subsidy_usd_month,
            "gross_margin_at_price": e.gross_margin_at_price,
            "capability_loss_usd_month": t.loss_usd_month,
            "unmeasured_traffic_share": t.unmeasured_traffic_share,
            "underpowered_traffic_share": t.underpowered_traffic_share,
            "uncategorised_traffic_share": t.uncategorised_traffic_share,
            "teacher_cost_per_conversation_usd": h.teacher_cost_per_conversation_usd,
            "teacher_to_plan_cost_ratio": h.teacher_to_plan_cost_ratio,
            "payback_baseline": plan_text(r.baseline_assignment) if r else None,
            "gross_savings_usd_month": r.gross_savings_usd_month if r else None,
            "added_loss_usd_month": r.added_loss_usd_month if r else None,
            "net_of_loss_savings_usd_month": r.net_of_loss_savings_usd_month if r else None,
            "cash_payback_months": r.cash_payback_months if r else None,
            "net_of_loss_payback_months": r.net_of_loss_payback_months if r else None,
        })
    return pd.DataFrame(rows)


def _rounded(value: Any, kind: Kind) -> Any:
    if kind == "text":
        return value
    if value is None or not math.isfinite(float(value)):
        return None
    if kind == "p":
        return float(f"{float(value):.3g}")
    out = round(float(value), _DIGITS[kind]) + 0.0  # + 0.0 turns -0.0 into 0.0
    return int(out) if kind == "count" and out.is_integer() else out


def _rounded_rows(frame: pd.DataFrame, columns: Columns) -> list[dict[str, Any]]:
    return [{col: _rounded(row[col], columns[col][1]) for col in columns}
            for row in frame.to_dict("records")]


def display_table(ev: Evaluation) -> list[dict[str, Any]]:
    """The tier-pricing table rounded for display: the numbers every export writes."""
    return _rounded_rows(tier_pricing_table(ev), COLUMNS)


def candidate_columns(ev: Evaluation) -> Columns:
    """Titles and kinds of the candidates table's columns (verdict and floor per tier); the
    reasoning and cache-write tokens per conversation where some model has them."""
    cols: Columns = {"model": ("Model", "text"), "role": ("Role", "text"),
                     "serving": ("Serving", "text"),
                     "cost_per_conversation_usd": ("Cost per conversation (USD)", "unit_cost")}
    if ev.gpu_intervals:
        cols["cost_per_conversation_usd_low_90"] = (
            "Cost per conversation, 90% interval low (USD; self-hosted GPU time)", "unit_cost")
        cols["cost_per_conversation_usd_high_90"] = (
            "Cost per conversation, 90% interval high (USD)", "unit_cost")
    tokens = ev.model_tokens_per_conversation.values()
    if any(t.get("reasoning_tokens") for t in tokens):
        cols["reasoning_tokens_per_conversation"] = (
            "Reasoning tokens per conversation (billed as output)", "count")
    if any(t.get("cache_write_tokens") for t in tokens):
        cols["cache_write_tokens_per_conversation"] = (
            "Cache-write tokens per conversation", "count")
    cols["retention_against"] = ("Verdicts against", "text")
    cols.update({f"verdict_{c.id}": (f"Verdict: {c.id}", "text")
                 for c in ev.scenario.capabilities})
    for t in ev.scenario.tiers:  # a free tier has no floor: its cost per user instead
        if t.price_usd_month > 0:
            cols[f"floor_{t.id}_usd_month"] = (f"Floor if {t.id} ran on it (USD/month)", "money")
        else:
            cols[f"cost_per_user_{t.id}_usd_month"] = (
                f"Cost per user if {t.id} (free) ran on it (USD/month)", "money")
    return cols


def _cell_text(text: str) -> str:
    """Every text cell of the CSV and the XLSX: never a live formula (OWASP's leading
    apostrophe on ``= + - @``, tab, CR), and never a line break that would end a row."""
    return str(spreadsheet_cell(text.replace("\r\n", " ").replace("\n", " ")
                                .replace("\r", " ")))


def _csv_value(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "text":
        text = _cell_text(str(value))
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if re.search(r'[",\n\r]', text) \
            else text
    if isinstance(value, int):
        return str(value)
    return f"{value:.{_DIGITS[kind]}f}"


def _md_value(value: Any, kind: Kind) -> str:
    """A Markdown cell: the figure as the app shows it (:func:`econ.base.formatting.cell`)."""
    if kind == "p":
        return MISSING if value is None else p_text(value)
    if kind == "text" and value is not None:
        return str(markdown_cell(str(value))) or MISSING
    return cell(value, kind)


def _csv(rows: list[dict[str, Any]]) -> bytes:
    """Header on line 1, one line per row, CRLF (RFC 4180), UTF-8 with a byte-order mark."""
    lines = [",".join(COLUMNS)]
    lines += [",".join(_csv_value(r[c], k) for c, (_, k) in COLUMNS.items()) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def sidecar_bytes(prov: Provenance) -> bytes:
    """The provenance of a CSV or JSON export as a JSON object (the keys of the Markdown front
    matter); the same state gives the same bytes, whichever table it sits beside."""
    out: dict[str, Any] = {"describes": "the tier-pricing table exported beside this file"}
    out.update({key: value for key, _, value in prov.items() if not key.startswith(
        ("consent_", "warning_"))})
    out["git_dirty"] = prov.git_dirty
    out["unsaved_edits"] = prov.unsaved_edits
    out["consent"] = {tier: list(caps) for tier, caps in prov.consent}
    out["warnings"] = list(prov.warnings)
    return _redacted((json.dumps(out, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def export_zip(ev: Evaluation, prov: Provenance, stem: str) -> bytes:
    """Every format of the table and the sidecar in one ZIP under ``stem`` (fixed timestamps:
    the same state gives the same bytes); each file is what ``econ export`` writes."""
    out = io.BytesIO()
    files = {f"{stem}.{fmt}": export_bytes(ev, fmt, prov) for fmt in EXPORT_FORMATS}
    files[sidecar_path(Path(f"{stem}.csv")).name] = sidecar_bytes(prov)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def sidecar_path(table: Path) -> Path:
    """Where the provenance of ``table`` goes: ``t.csv`` → ``t.provenance.json`` beside it."""
    return table.with_name(f"{table.stem}.provenance.json")


def _md_table(rows: list[dict[str, Any]], columns: Columns) -> list[str]:
    out = ["| " + " | ".join(t for t, _ in columns.values()) + " |",
           "| " + " | ".join("---" if k == "text" else "---:" for _, k in columns.values()) + " |"]
    out += ["| " + " | ".join(_md_value(r[c], k) for c, (_, k) in columns.items()) + " |"
            for r in rows]
    return out


def _markdown(tables: list[Table], prov: Provenance | None) -> bytes:
    out = []
    if prov:
        out += ["---"] + [f"{key}: {json.dumps(value, ensure_ascii=False)}"
                          for key, _, value in prov.items()] + ["---", ""]
    for i, (title, rows, columns, note) in enumerate(tables):
        if i:
            out += ["", f"## {title}", ""]
        out += _md_table(rows, columns)
        if note:
            out += ["", str(markdown_cell(note))]
    return ("\n".join(out) + "\n").encode("utf-8")


def _json(rows: list[dict[str, Any]]) -> bytes:
    return (json.dumps(rows, indent=2, allow_nan=False, ensure_ascii=False) + "\n").encode()


def _xlsx(tables: list[Table], prov: Provenance | None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for title, rows, columns, _ in tables:
        ws = wb.create_sheet(title)
        ws.append([t for t, _ in columns.values()])
        for r in rows:
            ws.append([_cell_text(r[c]) if k == "text" and r[c] is not None else r[c]
                       for c, (_, k) in columns.items()])
        for j, (col, (head, kind)) in enumerate(columns.items(), 1):
            ws.cell(1, j).font = Font(bold=True)
            shown = [head] + [_md_value(r[col], kind) for r in rows]
            ws.column_dimensions[ws.cell(1, j).column_letter].width = min(
                60, max(len(s) for s in shown) + 2)
            number_format = _XLSX_FORMAT[kind]
            if kind == "count" and any(isinstance(r[col], float) for r in rows):
                number_format = "#,##0.00"  # a count with a fraction (an average) keeps it
            for i in range(2, len(rows) + 2):
                ws.cell(i, j).number_format = number_format
        ws.freeze_panes = "A2"
    notes = [(title, note) for title, _, _, note in tables if note]
    if notes:  # the line under each verdict table, on a sheet of its own (tables stay tidy)
        ns = wb.create_sheet("verdict notes")
        ns.append(["Table", "How its verdicts were reached"])
        for title, note in notes:
            ns.append([title, _cell_text(note)])
        ns.cell(1, 1).font = ns.cell(1, 2).font = Font(bold=True)
        ns.column_dimensions["A"].width = 14
        ns.column_dimensions["B"].width = 120
        ns.freeze_panes = "A2"
    if prov:
        ps = wb.create_sheet("provenance")
        ps.append(["What", "Value"])
        for _, label, value in prov.items():
            ps.append([label, _cell_text(value)])
        ps.cell(1, 1).font = ps.cell(1, 2).font = Font(bold=True)
        ps.column_dimensions["A"].width = max(len(r[1]) for r in prov.items()) + 2
        ps.column_dimensions["B"].width = min(80, max(len(r[2]) for r in prov.items()) + 2)
        ps.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return _reproducible_zip(buf.getvalue())


def candidates_frame(ev: Evaluation) -> pd.DataFrame:
    """The candidates table: one row per model, verdicts and floors in their own columns."""
    rows = []
    for r in candidates_table(ev):
        row: dict[str, object] = {"model": r.model, "role": r.role, "serving": r.serving,
                                  "cost_per_conversation_usd": r.cost_per_conversation_usd,
                                  "cost_per_conversation_usd_low_90":
                                      r.cost_interval_usd[0] if r.cost_interval_usd else None,
                                  "cost_per_conversation_usd_high_90":
                                      r.cost_interval_usd[1] if r.cost_interval_usd else None,
                                  "reasoning_tokens_per_conversation":
                                      r.reasoning_tokens_per_conversation,
                                  "cache_write_tokens_per_conversation":
                                      r.cache_write_tokens_per_conversation,
                                  "retention_against": r.retention_against or ""}
        row.update({f"verdict_{c.id}": r.verdicts.get(c.id, "")
                    for c in ev.scenario.capabilities})
        row.update({f"floor_{t}_usd_month": v for t, v in r.tier_floors_usd_month.items()
                    if v is not None})
        row.update({f"cost_per_user_{t}_usd_month": v
                    for t, v in r.tier_costs_per_user_month_usd.items()
                    if r.tier_floors_usd_month.get(t) is None})
        rows.append(row)
    return pd.DataFrame(rows)


def export_bytes(ev: Evaluation, fmt: ExportFormat, provenance: Provenance | None = None) -> bytes:
    """The tier-pricing table of ``ev`` in ``fmt``; XLSX and Markdown also carry the candidates
    table, the capability table of the reference comparison (verdicts with raw and adjusted
    p-values), each with its verdict statement, and ``provenance`` when given (CSV and JSON: see
    :func:`sidecar_bytes`)."""
    rows = display_table(ev)
    if fmt == "csv":
        return _redacted(_csv(rows))
    if fmt == "json":
        return _redacted(_json(rows))
    columns = candidate_columns(ev)
    tables: list[Table] = [
        ("tier pricing", rows, COLUMNS, None),
        ("candidates", _rounded_rows(candidates_frame(ev), columns), columns,
         candidates_statement(ev)),
        ("capabilities", [{c: _rounded(rec[c], k) for c, (_, k) in CAPABILITY_EXPORT.items()}
                          for rec in capability_records(ev.retention)], CAPABILITY_EXPORT,
         verdict_statement(ev.retention))]
    if fmt == "md":
        return _redacted(_markdown(tables, provenance))
    if fmt == "xlsx":  # every text cell is redacted in _cell_text
        return _xlsx(tables, provenance)
    raise ValueError(f"unknown export format {fmt!r}")


def _redacted(data: bytes) -> bytes:
    """A text export with every credential-shaped string hidden (the one redaction function)."""
    return redact(data.decode("utf-8")).encode("utf-8")


_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _reproducible_zip(data: bytes) -> bytes:
    """Rewrite an XLSX with fixed timestamps so the same table always gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _STAMP.sub(rb"\g<1>1980-01-01T00:00:00Z\g<2>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), body,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
