"""The tier-pricing table and its export formats (CSV, XLSX, Markdown, JSON) as bytes."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Literal

import pandas as pd

from econ.model.evaluate import Evaluation
from econ.outputs.cells import safe_cells
from econ.outputs.report import plan_text

__all__ = ["EXPORT_FORMATS", "ExportFormat", "export_bytes", "tier_pricing_table"]

ExportFormat = Literal["csv", "xlsx", "md", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx", "md", "json")


def tier_pricing_table(ev: Evaluation) -> pd.DataFrame:
    """One row per tier, units in the column names."""
    rows = []
    for t in ev.tiers:
        e = t.economics
        rows.append({
            "tier": e.tier,
            "price_usd_month": e.price_usd_month,
            "plan": plan_text(t.assignment),
            "capabilities_consented_lost": ", ".join(
                c for c in ev.consent if t.assignment.primary(c) != ev.scenario.teacher_id),
            "capabilities_at_risk_without_consent": ", ".join(t.at_risk),
            "cost_per_conversation_usd": e.cost_per_conversation_usd,
            "conversations_per_user_month": e.conversations_per_user_month,
            "cost_per_user_month_usd": e.cost_per_user_month_usd,
            "target_gross_margin": e.target_gross_margin,
            "price_floor_usd_month": e.price_floor_usd_month,
            "gross_margin_at_price": e.gross_margin_at_price,
            "capability_loss_usd_month": t.loss_usd_month,
            "unmeasured_traffic_share": ev.coverage.unmeasured_traffic_share,
            "underpowered_traffic_share": ev.coverage.underpowered_traffic_share,
        })
    return pd.DataFrame(rows)


def export_bytes(ev: Evaluation, fmt: ExportFormat) -> bytes:
    df = safe_cells(tier_pricing_table(ev), fmt)
    if fmt == "csv":
        return df.to_csv(index=False).encode("utf-8")
    if fmt == "json":
        return (df.to_json(orient="records", indent=2) + "\n").encode("utf-8")
    if fmt == "md":
        return (df.to_markdown(index=False, floatfmt=".6g") + "\n").encode("utf-8")
    if fmt == "xlsx":
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as writer:
            df.to_excel(writer, index=False, sheet_name="tier pricing")
        return _reproducible_zip(buf.getvalue())
    raise ValueError(f"unknown export format {fmt!r}")


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
