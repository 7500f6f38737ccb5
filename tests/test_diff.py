"""econ diff: between two scenario files, and between git revisions of one."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from econ.cli import main
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import BASIC, DEFAULT, ROOT, SELF_HOSTED


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_diff_between_the_worked_scenarios(capsys):
    code, out, err = run(capsys, "diff", str(DEFAULT), str(SELF_HOSTED), "--json")
    assert code == 0, err
    d = json.loads(out)
    inputs = {c["path"]: (c["old"], c["new"]) for c in d["inputs"]}
    assert inputs["conversation.turns"] == (5, 3)
    assert inputs["capabilities[code_help].evals.o1.passed"] == (132, None)
    outputs = {o["name"]: o for o in d["outputs"]}
    a = evaluate(*_loaded(DEFAULT))
    b = evaluate(*_loaded(SELF_HOSTED))
    free_a = a.tiers[0].economics.cost_per_user_month_usd  # a free tier has no floor
    free_b = b.tiers[0].economics.cost_per_user_month_usd
    assert "tiers.free.price_floor" not in outputs  # none on either side
    moved = outputs["tiers.free.cost_per_user"]
    assert (moved["old"], moved["new"]) == (free_a, free_b)
    assert moved["change"] == pytest.approx(free_b - free_a)
    assert moved["change_pct"] == pytest.approx(100 * (free_b - free_a) / free_a)
    assert outputs["models.o1.cost_per_conversation"]["new"] is None
    assert "tiers.free.frontier_size" in outputs
    assert "unmeasured_traffic_share" not in outputs  # both 0.8%


def _loaded(path):
    loaded = load_scenario(path)
    return loaded.scenario, loaded.measured


@pytest.fixture
def repo(tmp_path):
    """A throwaway git repository with two commits of one scenario."""
    root = tmp_path / "repo"
    (root / "scenarios").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "benchmarks", root / "data" / "benchmarks")
    path = root / "scenarios" / "s.yaml"
    path.write_text(BASIC.read_text())

    def git(*args):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                       env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
                            "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    path.write_text(BASIC.read_text()
                    .replace("    price_usd_month: 20 ", "    price_usd_month: 25 ")
                    .replace("consent: [creative_assist, factual_qa]",
                             "consent: [creative_assist, factual_qa, analysis]"))
    git("commit", "-q", "-am", "second")
    path.write_text(path.read_text().replace("  turns: 5 ", "  turns: 6 "))  # uncommitted
    return path


def test_diff_between_two_revisions(repo, capsys):
    code, out, err = run(capsys, "diff", str(repo), "--rev", "HEAD~1", "--rev", "HEAD", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["old"] == "s.yaml@HEAD~1" and d["new"] == "s.yaml@HEAD"
    assert {c["path"]: (c["old"], c["new"]) for c in d["inputs"]} == {
        "consent": (["creative_assist", "factual_qa"],
                    ["creative_assist", "factual_qa", "analysis"]),
        "tiers[plus].price_usd_month": (20.0, 25.0),
    }
    names = {o["name"] for o in d["outputs"]}
    assert {"tiers.plus.price_floor", "tiers.plus.gross_margin_at_price",
            "tiers.plus.loss"} <= names
    assert "tiers.free.loss" not in names  # the free tier serves everything on the student
    assert "models.teacher.cost_per_conversation" not in names


def test_diff_revision_against_working_tree(repo, capsys):
    code, out, _ = run(capsys, "diff", str(repo), "--rev", "HEAD")
    assert code == 0
    assert "s.yaml@HEAD → " in out
    assert "conversation.turns" in out and "models.teacher.cost_per_conversation" in out


def test_diff_bad_revision_and_not_a_repo(repo, tmp_path, capsys):
    code, _, err = run(capsys, "diff", str(repo), "--rev", "nope")
    assert (code, err.strip()) == (1, "nope: unknown revision")
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(DEFAULT.read_text())
    code, _, err = run(capsys, "diff", str(outside), "--rev", "HEAD")
    assert (code, err.strip()) == (1, f"{outside}: not inside a git repository")
    code, _, err = run(capsys, "diff", str(DEFAULT))
    assert (code, err.strip()) == (1, "give two scenario files, or one with --rev REV "
                                      "[--rev REV2]")
