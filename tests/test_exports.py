"""Exports a finance team accepts: rounded numbers, XLSX formats, provenance in every format."""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest

from econ.cli import main
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.outputs.export import COLUMNS, sidecar_bytes
from econ.outputs.provenance import build_provenance
from tests.conftest import DEFAULT, ROOT

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


@pytest.fixture
def fixed_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def export(tmp_path, fmt, *extra):
    out = tmp_path / f"t.{fmt}"
    assert main(["export", str(DEFAULT), "-o", str(out), *extra]) == 0
    return out


def truth(capsys):
    """econ evaluate --json, the unrounded figures (rounded here, independently of export)."""
    assert main(["evaluate", str(DEFAULT), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["tiers"]


def test_csv_is_a_plain_table_rounded_to_cents(tmp_path, capsys, fixed_date):
    path = export(tmp_path, "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + ",".join(COLUMNS).encode() + b"\r\n")  # BOM, header
    text = raw.decode("utf-8-sig")
    assert not [line for line in text.splitlines() if line.startswith("#")]
    assert not re.search(r"nan|e[+-]\d", text, re.I)
    for number in re.findall(r"(?<![\w.])\d+\.\d+", text):
        assert len(number.split(".")[1]) <= 6, number
    df = pd.read_csv(path)  # no arguments: one row per tier
    s = load_scenario(DEFAULT).scenario
    assert list(df.columns) == list(COLUMNS)
    assert list(df["tier"]) == [t.id for t in s.tiers]
    tiers = truth(capsys)
    for _, row in df.iterrows():
        t = tiers[row["tier"]]
        if t["price_floor_usd_month"] is None:  # a free tier: a blank cell, never 0.45
            assert math.isnan(row["price_floor_usd_month"])
            assert row["subsidy_usd_month"] == round(t["subsidy_usd_month"], 2)
        else:
            assert row["price_floor_usd_month"] == round(t["price_floor_usd_month"], 2)
        assert row["cost_per_conversation_usd"] == round(t["cost_per_conversation_usd"], 6)
        assert row["conversations_per_user_month"] == t["conversations_per_user_month"]
        margin = t["gross_margin_at_price"]
        if margin is None:
            assert math.isnan(row["gross_margin_at_price"])  # a blank cell, not "nan"
        else:
            assert row["gross_margin_at_price"] == round(margin, 3)
    # whole counts are written whole, as a spreadsheet shows them
    assert re.search(r",42,", text) and ",42.00," not in text


def test_the_provenance_goes_into_a_sidecar(tmp_path, capsys, fixed_date):
    path = export(tmp_path, "csv")
    assert "t.provenance.json" in capsys.readouterr().err
    side = json.loads((tmp_path / "t.provenance.json").read_text(encoding="utf-8"))
    s = load_scenario(DEFAULT).scenario
    rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert side["scenario_file"] == "scenarios/frontier-vs-distilled.yaml"
    assert side["git_revision"] == rev
    assert side["date"] == "2026-01-01"
    assert side["unsaved_edits"] is False
    assert side["consent"] == {t.id: list(s.tier_consent(t)) for t in s.tiers}
    assert side["econ_version"]
    # the same keys as the Markdown front matter, whichever table it sits beside
    import yaml

    front = yaml.safe_load(export(tmp_path, "md").read_text().split("---\n")[1])
    assert {k for k in front if not k.startswith(("consent_", "warning_"))} <= set(side)
    first = (tmp_path / "t.provenance.json").read_bytes()
    export(tmp_path, "json")
    assert (tmp_path / "t.provenance.json").read_bytes() == first
    assert path.exists()
    # --consent is an unsaved edit, and the sidecar says so
    export(tmp_path, "csv", "--consent", "plus=analysis")
    side = json.loads((tmp_path / "t.provenance.json").read_text(encoding="utf-8"))
    assert side["unsaved_edits"] is True and side["consent"]["plus"] == ["analysis"]


def test_xlsx_and_markdown_write_no_sidecar(tmp_path, fixed_date):
    export(tmp_path, "xlsx")
    export(tmp_path, "md")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.md", "t.xlsx"]


def test_a_sidecar_that_cannot_be_written_leaves_the_table_untouched(tmp_path, capsys,
                                                                     fixed_date):
    (tmp_path / "t.csv").write_text("old\n")
    (tmp_path / "t.provenance.json").mkdir()  # the sidecar's place is taken by a folder
    assert main(["export", str(DEFAULT), "-o", str(tmp_path / "t.csv")]) == 1
    assert "t.provenance.json: cannot write: not a regular file" in capsys.readouterr().err
    assert (tmp_path / "t.csv").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.provenance.json"]


def test_no_duplicate_columns(tmp_path, fixed_date):
    df = pd.read_csv(export(tmp_path, "csv"), dtype=str, keep_default_na=False)
    cols = list(df.columns)
    assert len(set(cols)) == len(cols)
    same = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]
            if df[a].tolist() == df[b].tolist() and df[a].str.len().sum() > 0]
    # only the price/floor pairs of the free tier could coincide; no text column twice
    assert not [p for p in same if COLUMNS[p[0]][1] == "text"], same
    assert "capabilities_consented_lost" not in cols


def test_every_format_carries_the_same_numbers(tmp_path, fixed_date):
    csv = pd.read_csv(export(tmp_path, "csv"))
    js = pd.DataFrame(json.loads(export(tmp_path, "json").read_text()))
    ws = openpyxl.load_workbook(export(tmp_path, "xlsx"))["tier pricing"]
    rows = list(ws.values)
    names = {title: col for col, (title, _) in COLUMNS.items()}
    xl = pd.DataFrame(rows[1:], columns=[names[t] for t in rows[0]])
    md = export(tmp_path, "md").read_text()
    margin_col = list(COLUMNS).index("gross_margin_at_price")
    assert rows[1][0] == "free" and rows[1][margin_col] is None  # a blank cell, not nan
    for col, (_title, kind) in COLUMNS.items():
        if kind == "text":
            continue
        for a, b, c in zip(csv[col], js[col], xl[col], strict=True):
            if pd.isna(a):
                assert pd.isna(b) and pd.isna(c), col
            else:
                assert a == b == c, (col, a, b, c)
    # the Markdown shows the same cents, with thousands separators
    floor = csv.loc[csv["tier"] == "pro", "price_floor_usd_month"].item()
    assert f"| {floor:,.2f} |" in md
    loss = csv.loc[csv["tier"] == "free", "capability_loss_usd_month"].item()
    assert loss > 1e5  # large enough that pandas' default would print it in e-notation
    assert f"| {loss:,.2f} |" in md and "e+0" not in md and "nan" not in md.lower()


def test_xlsx_number_formats_widths_frozen_header_and_provenance(tmp_path, fixed_date):
    wb = openpyxl.load_workbook(export(tmp_path, "xlsx", "--consent", "plus=analysis"))
    assert wb.sheetnames == ["tier pricing", "candidates", "capabilities", "verdict notes",
                             "provenance"]
    ws = wb["tier pricing"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Tier", "Price (USD/month)", "Plan"]
    assert all("_" not in h for h in header)
    col = {h: i + 1 for i, h in enumerate(header)}
    assert ws.cell(2, col["Price floor (USD/month)"]).number_format == "#,##0.00"
    assert ws.cell(2, col["Gross margin at price"]).number_format == "0.0%"
    loaded = load_scenario(DEFAULT)
    plus = evaluate(loaded.scenario, loaded.measured,
                    consent={"plus": ["analysis"]}).tiers[1].economics
    assert plus.tier == "plus"
    assert ws.cell(3, col["Gross margin at price"]).value == round(plus.gross_margin_at_price, 3)
    for i, h in enumerate(header, 1):
        width = ws.column_dimensions[ws.cell(1, i).column_letter].width
        assert width >= len(h) + 2, h
    prov = dict(list(wb["provenance"].values)[1:])
    assert prov["Scenario file"] == "scenarios/frontier-vs-distilled.yaml"
    assert prov["Date"] == "2026-01-01"
    assert prov["Unsaved edits"] == "yes"  # --consent differs from the file's consent set
    assert prov["Consent to lose (plus)"] == "analysis"
    assert prov["econ version"]


def test_markdown_front_matter(tmp_path, fixed_date):
    import yaml

    text = export(tmp_path, "md").read_text()
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["scenario_file"] == "scenarios/frontier-vs-distilled.yaml"
    assert front["unsaved_edits"] == "no"
    assert front["date"] == "2026-01-01"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "md", "json"])
def test_same_inputs_same_bytes(tmp_path, fixed_date, fmt):
    a = export(tmp_path, fmt).read_bytes()
    b = export(tmp_path, fmt).read_bytes()
    assert a == b


def test_outside_git_the_provenance_says_so(tmp_path, fixed_date):
    shutil.copytree(DEFAULT.parent, tmp_path / "scenarios")
    shutil.copytree(ROOT / "data" / "benchmarks", tmp_path / "data" / "benchmarks")
    path = tmp_path / "scenarios" / DEFAULT.name
    loaded = load_scenario(path)
    ev = evaluate(loaded.scenario, loaded.measured)
    prov = build_provenance(ev, path, path.name, unsaved_edits=False)
    assert prov.scenario_file == DEFAULT.name
    assert prov.git_revision == "not in git"
    side = json.loads(sidecar_bytes(prov))
    assert side["git_revision"] == "not in git" and side["git_dirty"] is None


def test_app_download_is_the_cli_export(tmp_path, monkeypatch, fixed_date):
    """The app's download callable gives the same bytes as `econ export` of the same state."""
    from econ.app.export_tab import _all_formats, _download, _sidecar
    from econ.scenario.edits import Edits

    loaded = load_scenario(DEFAULT)
    consent = ("analysis",)
    ev = evaluate(loaded.scenario, loaded.measured, consent={"plus": list(consent)})
    monkeypatch.setenv("ECON_SCENARIOS", str(DEFAULT.parent))
    edits = Edits(tier_consent={"plus": consent}, tiers={})
    for fmt in ("csv", "xlsx", "md", "json"):
        got = _download(DEFAULT.name, ev, loaded, edits, True, fmt)
        assert got == export(tmp_path, fmt, "--consent", "plus=analysis").read_bytes(), fmt
    assert _sidecar(DEFAULT.name, ev, loaded, edits, True) == \
        (tmp_path / "t.provenance.json").read_bytes()
    with zipfile.ZipFile(io.BytesIO(_all_formats(DEFAULT.name, ev, loaded, edits, True))) as z:
        stem = "frontier-vs-distilled-tiers"
        assert sorted(z.namelist()) == sorted(
            [f"{stem}.{f}" for f in ("csv", "xlsx", "md", "json")]
            + [f"{stem}.provenance.json"])
        for fmt in ("csv", "xlsx", "md", "json"):
            assert z.read(f"{stem}.{fmt}") == (tmp_path / f"t.{fmt}").read_bytes(), fmt
        assert z.read(f"{stem}.provenance.json") == (tmp_path / "t.provenance.json").read_bytes()
