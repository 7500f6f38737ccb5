"""Schema version 1 files (the worked scenarios as they were in git) still load, with one
notice; `econ migrate` rewrites them as version 2, comments and layout kept."""

from __future__ import annotations

import difflib
import json
import shutil

import pytest

from econ.cli import main
from tests.conftest import SCENARIOS, V1, raw_yaml
from tests.test_golden import api_cost, traffic_weighted

V1_FILES = sorted(V1.glob("*.yaml"))


@pytest.fixture
def v1_copy(tmp_path):
    """The version-1 files beside copies of what they reference (probes, benchmarks)."""
    root = tmp_path / "repo"
    shutil.copytree(SCENARIOS.parent / "data" / "benchmarks", root / "data" / "benchmarks")
    (root / "scenarios").mkdir()
    shutil.copytree(SCENARIOS / "probes", root / "scenarios" / "probes")
    for f in V1_FILES:
        shutil.copy(f, root / "scenarios" / f.name)
    return root / "scenarios"


def test_there_are_two_version_1_files():
    assert [f.name for f in V1_FILES] == ["frontier-vs-distilled.yaml", "self-hosted-llama.yaml"]


@pytest.mark.parametrize("name", ["frontier-vs-distilled.yaml", "self-hosted-llama.yaml"])
def test_version_1_loads_with_one_notice(v1_copy, capsys, name):
    path = v1_copy / name
    assert main(["evaluate", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    notices = [line for line in captured.err.splitlines() if line.startswith("notice: ")]
    teacher = next(k for k, v in raw_yaml(path)["models"].items() if v["role"] == "teacher")
    assert notices == [
        f"notice: {path}: schema version 1 (no schema_version): read as version 2 with the "
        f"top-level consent set as every tier's and '{teacher}' as the reference teacher; "
        f"`econ migrate {path}` rewrites the file as version 2"]
    out = json.loads(captured.out)
    consent = raw_yaml(path)["consent"]
    assert all(t["consent"] == consent for t in out["tiers"].values())


def test_version_1_evaluates_to_the_same_figures_where_nothing_changed(v1_copy, capsys):
    """Model costs and the single-model tiers (free on the student, pro on the teacher) are
    untouched by schema 2, by hand as before; plus moved only because uncategorised traffic
    now follows the router to the teacher."""
    path = v1_copy / "frontier-vs-distilled.yaml"
    y = raw_yaml(path)
    assert main(["evaluate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rate, fixed = y["fees"]["payment_rate"], y["fees"]["payment_fixed_usd"]
    for model in ("teacher", "student"):
        cost = traffic_weighted(y, lambda c, m=model: api_cost(y, m, c))
        assert out["models"][model]["cost_per_conversation_usd"] == pytest.approx(cost, rel=1e-12)
    for tier in y["tiers"]:
        if "route" in tier["plan"]:
            continue
        m = tier["plan"]["model"]
        per_user = tier["conversations_per_user_month"] * traffic_weighted(
            y, lambda c, m=m: api_cost(y, m, c))
        floor = (per_user + fixed) / (1 - tier["target_gross_margin"] - rate)
        got = out["tiers"][tier["id"]]
        assert got["cost_per_user_month_usd"] == pytest.approx(per_user, rel=1e-12)
        if tier["price_usd_month"] > 0:
            assert got["price_floor_usd_month"] == pytest.approx(floor, rel=1e-12)
        else:  # schema 2 and issue 20: a free tier has no floor
            assert got["price_floor_usd_month"] is None
    assert out["tiers"]["pro"]["price_floor_usd_month"] == pytest.approx(400.25, abs=0.005)
    # the figure: each paying user carries about 2.45 USD/month of free users
    free = out["tiers"]["free"]["cost_usd_month"]
    paying = sum(t["users"] for t in y["tiers"] if t["price_usd_month"] > 0)
    assert free / paying == pytest.approx(2.45, abs=0.005)
    # and free's underpowered share (the student alone against the teacher) is the undecided
    # traffic only, about 67% (was 93.8%): creative_assist, factual_qa and clarifying_questions
    # (since issue 21, 9/12 against 4/12 is not lost on 12 examples, and factual_qa's drop from
    # zero does not survive Holm's correction: both inconclusive); pro on the teacher has none
    assert out["tiers"]["free"]["underpowered_traffic_share"] == pytest.approx(
        0.586 + 0.063 + 0.025)
    assert out["tiers"]["pro"]["underpowered_traffic_share"] == 0


@pytest.mark.parametrize("name", ["frontier-vs-distilled.yaml", "self-hosted-llama.yaml"])
def test_migrate_round_trips_with_comments_kept(v1_copy, capsys, name):
    path = v1_copy / name
    before = path.read_text()
    assert main(["evaluate", str(path), "--json"]) == 0
    old = json.loads(capsys.readouterr().out)
    assert main(["migrate", str(path)]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == f"wrote {path} (schema version 2)"
    after = path.read_text()
    added = [line for line in difflib.ndiff(before.splitlines(), after.splitlines())
             if line.startswith(("+ ", "- "))]
    assert added == ["+ schema_version: 2  # scenario schema version (econ migrate wrote it)"]
    assert main(["evaluate", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert "notice" not in captured.err
    assert json.loads(captured.out) == old
    # a second run has nothing to do and writes nothing
    assert main(["migrate", str(path)]) == 0
    assert "already schema version 2; nothing written" in capsys.readouterr().err
    assert path.read_text() == after


def test_migrate_to_another_file_and_bad_input(v1_copy, tmp_path, capsys):
    src = v1_copy / "frontier-vs-distilled.yaml"
    out = v1_copy / "migrated.yaml"
    assert main(["migrate", str(src), "-o", str(out)]) == 0
    assert out.read_text().count("schema_version: 2") == 1
    assert "schema_version" not in src.read_text()
    broken = v1_copy / "broken.yaml"
    broken.write_text(src.read_text().replace("  turns: 5 ", "  turns: five "))
    assert main(["migrate", str(broken)]) == 1
    assert "conversation.turns" in capsys.readouterr().err
    assert "schema_version" not in broken.read_text()
