"""The pinned price snapshot: show, and refresh from the installed litellm offline."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from importlib import metadata

from econ.cli import main
from econ.model.prices import PriceSnapshot, build_snapshot, diff_snapshots
from tests.conftest import ROOT, SNAPSHOT


def test_snapshot_records_version_and_date():
    data = json.loads(SNAPSHOT.read_text())
    assert data["litellm_version"] and data["snapshot_date"]
    dt.date.fromisoformat(data["snapshot_date"])
    assert data["models"]["o1"]["input_cost_per_token"] == 15e-6


def test_build_and_diff_snapshots():
    cost_map = {"a": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
                "img": {"mode": "image_generation", "input_cost_per_token": 1e-6,
                        "output_cost_per_token": 1e-6},
                "noprice": {"mode": "chat"},
                "sample_spec": {"mode": "chat", "input_cost_per_token": "0"}}
    snap = build_snapshot(cost_map, "9.9", "2026-01-01")
    assert list(snap.models) == ["a"]
    old = PriceSnapshot("1", "2025-01-01", {"a": {"input_cost_per_token": 2e-6,
                                                  "output_cost_per_token": 2e-6},
                                            "gone": {"input_cost_per_token": 1.0}})
    d = diff_snapshots(old, snap, {"a"})
    assert d.added == [] and d.removed == ["gone"]
    assert d.changed == {"a": {"input_cost_per_token": (2e-6, 1e-6)}}


def test_refresh_offline_reports_changes(tmp_path):
    snap = json.loads(SNAPSHOT.read_text())
    snap["models"]["o1"]["input_cost_per_token"] = 99e-6
    del snap["models"]["gpt-4o-mini"]
    snap["models"]["retired-model-x"] = {"input_cost_per_token": 1e-6,
                                         "output_cost_per_token": 1e-6}
    snap["litellm_version"], snap["snapshot_date"] = "0.0.1", "2020-01-01"
    target = tmp_path / "prices.json"
    target.write_text(json.dumps(snap))
    proc = subprocess.run(
        [sys.executable, "-m", "econ.cli", "prices", "refresh", "--prices", str(target),
         "--scenarios", str(ROOT / "scenarios")],
        capture_output=True, text=True, check=False, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_PROXY": "*",
             "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
    assert proc.returncode == 0, proc.stderr
    assert "loading litellm (offline cost map" in proc.stderr
    version = metadata.version("litellm")
    assert f"litellm 0.0.1 (2020-01-01) → {version}" in proc.stdout
    assert "added 1: gpt-4o-mini" in proc.stdout
    assert "removed 1: retired-model-x" in proc.stdout
    assert "  o1.input_usd_per_mtok: 99 → 15" in proc.stdout
    written = json.loads(target.read_text())
    assert written["litellm_version"] == version
    assert written["snapshot_date"] == dt.date.today().isoformat()
    assert written["models"]["gpt-4o-mini"]["output_cost_per_token"] == 6e-7


def test_prices_show_text(capsys):
    assert main(["prices", "show", "o1"]) == 0
    out = capsys.readouterr().out
    assert "USD per million tokens" in out and "o1" in out and "15" in out
