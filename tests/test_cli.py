from __future__ import annotations

import json
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from econ.cli import main
from econ.outputs.cells import markdown_text
from econ.outputs.export import COLUMNS
from tests.conftest import DEFAULT


def test_evaluate_json_shape(capsys):
    assert main(["evaluate", str(DEFAULT), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"] == "frontier-vs-distilled"
    assert out["models"]["o1"]["role"] == "teacher"
    assert set(out["tiers"]) == {"free", "plus", "pro"}
    for t in out["tiers"].values():
        assert {"plan", "cost_per_conversation_usd", "cost_per_user_month_usd",
                "price_floor_usd_month", "gross_margin_at_price", "consent", "model",
                "price_floor_carrying_free_users_usd_month"} <= set(t)
    # the contract of issue 11: candidates, per-tier consent, payback against a baseline
    roles = {mid: c["role"] for mid, c in out["candidates"].items()}
    assert sorted(roles.values()).count("teacher") >= 2 and \
        sorted(roles.values()).count("student") >= 2
    for c in out["candidates"].values():
        assert {"role", "cost_per_conversation_usd", "verdicts", "tier_floors_usd_month"} <= set(c)
        assert set(c["tier_floors_usd_month"]) == set(out["tiers"])
    assert len({tuple(t["consent"]) for t in out["tiers"].values()}) == 3
    assert {"gross_savings_usd_month", "added_loss_usd_month", "net_of_loss_savings_usd_month",
            "cash_payback_months", "net_of_loss_payback_months"} <= set(out["payback"])
    assert not {"teacher_only_cost_usd_month", "savings_usd_month", "payback_months",
                "net_usd_month"} & set(out["payback"])
    cap = out["capabilities"][0]
    for key in ("id", "traffic_share", "measured", "capability", "n_teacher", "n_student",
                "n_paired", "teacher_pass_rate", "student_pass_rate", "teacher_ci", "student_ci",
                "drop", "drop_ci", "p_value", "test", "min_detectable_drop", "verdict"):
        assert key in cap
    assert out["unmeasured_traffic_share"] > 0
    assert out["underpowered_traffic_share"] > 0


def test_consent_flag_replaces_one_tiers_consent(capsys):
    main(["evaluate", str(DEFAULT), "--json"])
    base = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(DEFAULT), "--json", "--consent", "plus="]) == 0
    none = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(DEFAULT), "--json", "--consent", "plus=analysis,code_help",
                 "--consent", "free=math"]) == 0
    some = json.loads(capsys.readouterr().out)
    assert none["tiers"]["plus"]["consent"] == []
    assert some["tiers"]["plus"]["consent"] == ["analysis", "code_help"]
    assert some["tiers"]["free"]["consent"] == ["math"]
    # tiers not named keep their own consent set
    for tier in base["tiers"]:
        if tier not in ("plus", "free"):
            assert some["tiers"][tier] == base["tiers"][tier]
    assert some["tiers"]["plus"]["price_floor_usd_month"] < \
        none["tiers"]["plus"]["price_floor_usd_month"]


@pytest.mark.parametrize(("value", "message"), [
    ("plsu=analysis", "--consent plsu=analysis: unknown tier 'plsu'; did you mean 'plus'?"),
    ("plus=analysys", "--consent plus=analysys: unknown capability 'analysys'; did you mean "
     "'analysis'?"),
    ("analysis", "--consent analysis: name the tier, as TIER=cap1,cap2 (tiers: free, plus, "
     "pro)"),
])
@pytest.mark.parametrize("command", ["evaluate", "export"])
def test_consent_typo_is_exit_1_with_did_you_mean(capsys, tmp_path, value, message, command):
    out = tmp_path / "t.csv"
    argv = [command, str(DEFAULT), "--consent", value] + (["-o", str(out)]
                                                          if command == "export" else [])
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == message
    assert captured.out == ""
    assert not out.exists()


def test_unconsented_student_capabilities_are_flagged(capsys):
    main(["evaluate", str(DEFAULT), "--json"])
    out = json.loads(capsys.readouterr().out)
    # the free tier serves everything on the distilled student and consents to lose
    # creative_assist, factual_qa, code_help and clarifying_questions
    assert out["tiers"]["free"]["consent"] == [
        "creative_assist", "factual_qa", "code_help", "clarifying_questions"]
    assert out["tiers"]["free"]["capabilities_at_risk"] == [
        "analysis", "math", "legacy_csv_input"]
    assert out["tiers"]["pro"]["capabilities_at_risk"] == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "md", "json"])
def test_export_formats(tmp_path, capsys, fmt):
    out = tmp_path / f"tiers.{fmt}"
    assert main(["export", str(DEFAULT), "--format", fmt, "-o", str(out)]) == 0
    main(["evaluate", str(DEFAULT), "--json"])
    ev = json.loads(capsys.readouterr().out)
    if fmt == "csv":
        df = pd.read_csv(out)
    elif fmt == "json":
        df = pd.DataFrame(json.loads(out.read_text()))
    elif fmt == "xlsx":
        book = openpyxl.load_workbook(out)
        ws = book["tier pricing"]
        rows = list(ws.values)
        names = {title: col for col, (title, _) in COLUMNS.items()}
        df = pd.DataFrame(rows[1:], columns=[names[t] for t in rows[0]])
        cands = list(book["candidates"].values)
        got = {r[0]: dict(zip(cands[0], r, strict=True)) for r in cands[1:]}
        assert set(got) == set(ev["candidates"])
        assert book["tier pricing"].freeze_panes == book["candidates"].freeze_panes == "A2"
        for mid, c in ev["candidates"].items():
            # exports are rounded: cost per conversation to 1e-6 USD, floors to the cent
            assert got[mid]["Cost per conversation (USD)"] == round(
                c["cost_per_conversation_usd"], 6)
            for tier, floor in c["tier_floors_usd_month"].items():
                if floor is None:  # a free tier: its cost per user, never a floor
                    assert f"Floor if {tier} ran on it (USD/month)" not in got[mid]
                    assert got[mid][f"Cost per user if {tier} (free) ran on it (USD/month)"] \
                        == round(c["tier_costs_per_user_month_usd"][tier], 2)
                else:
                    assert got[mid][f"Floor if {tier} ran on it (USD/month)"] == round(floor, 2)
            for cap, verdict in c["verdicts"].items():
                assert got[mid][f"Verdict: {cap}"] == verdict
    else:
        lines = out.read_text().split("---\n")[-1].strip().splitlines()
        assert lines[0].startswith("| Tier | Price (USD/month)")
        assert lines[5] == ""
        assert lines[6] == "## candidates"
        # the candidates table, then the line saying how its verdicts were reached
        assert lines[10 + len(ev["candidates"])] == ""
        statement = markdown_text(ev["candidates_verdict_statement"])  # shown literally
        assert lines[11 + len(ev["candidates"])] == statement
        at = lines.index("## capabilities")
        caps = lines[at + 2:]
        assert len(caps) == 2 + len(ev["capabilities"]) + 2
        assert caps[-1] == markdown_text(ev["verdict_statement"])
        return
    assert list(df["tier"]) == ["free", "plus", "pro"]
    for _, row in df.iterrows():
        t = ev["tiers"][row["tier"]]
        # exports are rounded to the cent; a free tier's floor is empty (it has none)
        floor = t["price_floor_usd_month"]
        got_floor = row["price_floor_usd_month"]
        assert (floor is None and (got_floor is None or pd.isna(got_floor))) or \
            got_floor == round(floor, 2)
        assert row["cost_per_user_month_usd"] == round(t["cost_per_user_month_usd"], 2)
        assert row["consent"] == ", ".join(t["consent"]) or pd.isna(row["consent"])
        carrying = t["price_floor_carrying_free_users_usd_month"]
        got = row["price_floor_carrying_free_users_usd_month"]
        assert (carrying is None and (got is None or pd.isna(got))) or \
            got == round(carrying, 2)
    assert {"tier", "price_usd_month", "plan", "consent",
            "cost_per_conversation_usd", "conversations_per_user_month",
            "cost_per_user_month_usd", "price_floor_usd_month",
            "gross_margin_at_price"} <= set(df.columns)


def test_schema_is_json_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Scenario"
    assert schema["additionalProperties"] is False
    assert "capabilities" in schema["properties"]


def test_prices_show(capsys):
    assert main(["prices", "show", "o1", "gpt-4o-mini", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["models"]["o1"]["input_usd_per_mtok"] == pytest.approx(15.0)
    assert out["models"]["gpt-4o-mini"]["output_usd_per_mtok"] == pytest.approx(0.60)
    assert main(["prices", "show", "gpt-4o-mnii"]) == 1
    assert "did you mean gpt-4o-mini" in capsys.readouterr().err


def test_evaluate_never_imports_litellm():
    code = ("import sys; from econ.cli import main; "
            f"main(['evaluate', {str(DEFAULT)!r}, '--json']); "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('litellm', 'streamlit', 'altair', 'openpyxl', 'statsmodels')]; "
            "sys.stderr.write(repr(bad)); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr


def test_console_script_exit_code(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "econ.cli", "evaluate", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{bad}:")
    assert "Traceback" not in proc.stderr


def test_committed_schema_is_current(capsys):
    """data/scenario.schema.json (which the scenarios point editors at) matches econ schema."""
    from tests.conftest import ROOT

    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(
        (ROOT / "data" / "scenario.schema.json").read_text())
    for path in (ROOT / "scenarios").glob("*.yaml"):
        assert path.read_text().startswith(
            "# yaml-language-server: $schema=../data/scenario.schema.json\n")
