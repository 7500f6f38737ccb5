"""The decision record: `econ record` and the app's download, the same figures as evaluate."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from econ.cli import main
from econ.model.loader import load_scenario
from tests.conftest import DEFAULT, SELF_HOSTED

DRAWS = "2000"


def record(tmp_path, capsys, scenario=DEFAULT, *extra):
    out = tmp_path / "rec"
    assert main(["record", str(scenario), "-o", str(out), "--draws", DRAWS, *extra]) == 0
    capsys.readouterr()
    return out


def cli_json(capsys, *args):
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def tier_rows(md: str) -> dict[str, list[str]]:
    """The rows of the tier table (the record's other tables, capabilities and candidates,
    are told apart by their header)."""
    rows, header = {}, None
    for line in md.splitlines():
        if not line.startswith("| "):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if header is None:
            header = cells[0]
        elif header == "Tier" and len(cells) == 13 and cells[0] != "---":
            rows[cells[0]] = cells
    return rows


@pytest.mark.parametrize("scenario", [DEFAULT, SELF_HOSTED], ids=lambda p: p.name)
def test_record_has_evaluates_figures(tmp_path, capsys, monkeypatch, scenario):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    out = record(tmp_path, capsys, scenario)
    md = (out / "decision.md").read_text()
    ev = cli_json(capsys, "evaluate", str(scenario), "--json")
    mc = cli_json(capsys, "uncertainty", str(scenario), "--draws", DRAWS, "--json")["tiers"]
    rows = tier_rows(md)
    assert set(rows) == set(ev["tiers"])
    for tid, t in ev["tiers"].items():
        cells = rows[tid]
        free = t["price_usd_month"] == 0
        # a free tier: no floor ("—"), its cost per user and subsidy, and its cost per user's
        # Monte Carlo spread in place of a floor's
        assert cells[3] == ("—" if free else f"{t['price_floor_usd_month']:,.2f}")
        assert cells[4] == f"{t['cost_per_user_month_usd']:,.2f}"
        assert cells[5] == ("—" if not free else f"{t['subsidy_usd_month']:,.2f}")
        assert cells[2].startswith(f"{t['price_usd_month']:,.2f}")
        p = mc[tid]["cost_per_user_month_usd" if free else "price_floor_usd_month"]
        assert cells[6] == f"{p['p5']:,.2f} – {p['p95']:,.2f}" + (
            " (cost per user)" if free else "")
        assert cells[12] == f"{t['loss_usd_month']:,.2f}"
        below = not free and t["price_usd_month"] < t["price_floor_usd_month"]
        assert ("below floor" in cells[2]) == below
    assert "0.45" not in rows["free"][3]
    unmeasured = ev["unmeasured_traffic_share"]
    assert "All tiers (traffic-weighted blend of the tiers): unmeasured traffic " \
        f"{100 * unmeasured:.1f}%" in md
    def share(x):  # two decimals where one would read 0.0% for a non-zero share
        return f"{x:.2%}" if 0 < x < 0.0005 else f"{x:.1%}"

    for tid, t in ev["tiers"].items():
        assert f"- Tier {tid}: unmeasured {share(t['unmeasured_traffic_share'])}" in md
        assert f", underpowered {share(t['underpowered_traffic_share'])}" in md
    assert ", 2026-01-01, econ " in md
    pb = ev["payback"]

    def words(months, why):
        if months is None:
            return f"never pays back ({why})"
        days = months * 365.25 / 12
        return "pays back in " + (f"{24 * days:.1f} hours" if days < 2 else f"{days:.1f} days"
                                  if days < 60.875 else f"{months:,.1f} months")

    assert "Cash payback (one-off ÷ gross savings): " + words(
        pb["cash_payback_months"], pb["cash_payback_never_because"]) + ";" in md
    assert "Net of capability loss: " + words(
        pb["net_of_loss_payback_months"], pb["net_of_loss_payback_never_because"]) + ";" in md
    assert f"save {pb['gross_savings_usd_month']:,.2f} USD/month gross" in md
    assert f"net of loss {pb['net_of_loss_savings_usd_month']:,.2f} USD/month." in md
    for tid, t in pb["tiers"].items():
        row = next(line for line in md.splitlines() if line.startswith(f"| {tid} | ")
                   and "payback" not in line and " USD | " in line)
        assert f"| {t['net_of_loss_savings_usd_month']:,.2f} USD |" in row


def test_record_files_and_pngs(tmp_path, capsys):
    out = record(tmp_path, capsys)
    tiers = [t.id for t in load_scenario(DEFAULT).scenario.tiers]
    names = {p.name for p in out.iterdir()}
    assert {"decision.md", "decision.html"} <= names
    for tid in tiers:
        for kind in ("frontier", "tornado"):
            png = (out / f"{kind}-{tid}.png").read_bytes()
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
            assert f"]({kind}-{tid}.png)" in (out / "decision.md").read_text()
    page = (out / "decision.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2 * len(tiers)
    assert "<table>" in page and "Payback" in page


def test_record_consent_changes_the_plan_and_marks_unsaved(tmp_path, capsys):
    out = record(tmp_path, capsys, DEFAULT, "--consent", "plus=analysis")
    md = (out / "decision.md").read_text()
    assert "unsaved edits: yes" in md
    assert re.search(r"\| plus \| [^|]* \|.*analysis \((retained|lost|degraded|inconclusive)\)",
                     md)


def test_record_refuses_a_file_as_folder(tmp_path, capsys):
    target = tmp_path / "f"
    target.write_text("x")
    assert main(["record", str(DEFAULT), "-o", str(target)]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_record_of_bad_scenario_writes_nothing(tmp_path, capsys, edited):
    bad = edited("  turns: 5 ", "  turns: five ")
    out = tmp_path / "rec"
    assert main(["record", str(bad), "-o", str(out)]) == 1
    assert not out.exists()


def test_app_record_download_is_the_cli_record(tmp_path, capsys, monkeypatch):
    from econ.app.export_tab import record_download
    from econ.model.evaluate import evaluate
    from econ.scenario.edits import Edits

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.setenv("ECON_SCENARIOS", str(DEFAULT.parent))
    out = record(tmp_path, capsys)
    loaded = load_scenario(DEFAULT)
    ev = evaluate(loaded.scenario, loaded.measured)
    data = record_download(DEFAULT.name, ev, loaded, Edits(consent=loaded.scenario.consent,
                                                           tiers={}),
                           True, (int(DRAWS), 0, 0.2))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        got = {n.split("/", 1)[1]: z.read(n) for n in z.namelist()}
    assert got == {p.name: p.read_bytes() for p in out.iterdir()}
