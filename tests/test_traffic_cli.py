"""econ traffic end to end: coverage in the --json contract, the classifier's spend limit, and
--write into a copy of a worked scenario checked with econ diff."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportion_confint

from econ.cli import main
from tests.conftest import DEFAULT, ROOT
from tests.test_probe import SECRET, FakeServer, server  # noqa: F401 - the loopback fixture

CATEGORIES = ("writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem",
              "humanities")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def mtbench(fixtures_dir, tmp_path) -> tuple[Path, list[str]]:
    """MT-Bench questions as ShareGPT traffic (the one-line reshape), and each one's category."""
    out, cats = tmp_path / "mtbench.jsonl", []
    with out.open("w") as fh:
        for line in (fixtures_dir / "mtbench_questions.jsonl").read_text().splitlines():
            q = json.loads(line)
            turns = [m for t in q["turns"] for m in ({"from": "human", "value": t},
                                                     {"from": "gpt", "value": "ok"})]
            fh.write(json.dumps({"id": q["question_id"], "conversations": turns}) + "\n")
            cats.append(q["category"])
    return out, cats


def test_coverage_is_part_of_the_json_contract(mtbench, fixtures_dir, capsys) -> None:
    log, cats = mtbench
    code, out, err = run(capsys, "traffic", str(log), "--evals",
                         str(fixtures_dir / "lmeval_samples_math_perturbed.jsonl"), "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["conversations"] == 80
    cov = got["coverage"]
    assert {"threshold", "unseen_share", "clusters"} <= set(cov)
    assert 0 < cov["unseen_share"] < 1 and cov["threshold"] > 0
    total = sum(c["n"] for c in cov["clusters"])
    assert total == round(cov["unseen_share"] * 80)  # every unseen conversation is clustered
    for c in cov["clusters"]:
        assert {"share", "terms", "examples"} <= set(c)
        assert c["ci_low"] <= c["share"] <= c["ci_high"]
        assert 1 <= len(c["examples"]) <= 3 and all(len(e) <= 80 for e in c["examples"])
    # the writing and roleplay questions are almost all unseen by a math eval
    unseen_writing = sum(c["from"].get("uncategorised", 0) for c in cov["clusters"])
    assert unseen_writing == total  # no --scenario: every conversation is uncategorised
    assert cats.count("writing") == cats.count("roleplay") == 10


def test_classifier_over_the_spend_limit_is_refused(mtbench, tmp_path, capsys, monkeypatch,
                                                    server: FakeServer) -> None:  # noqa: F811
    log, _ = mtbench
    monkeypatch.setenv("ECON_TEST_CLASSIFIER_KEY", SECRET)
    scenario = tmp_path / "s.yaml"
    shutil.copy(DEFAULT, scenario)
    argv = ["traffic", str(log), "--scenario", str(scenario), "--classifier", "openai/small",
            "--api-base", server.url, "--api-key-env", "ECON_TEST_CLASSIFIER_KEY",
            "--model-prices", "0.15", "0.60", "--json"]
    code, out, err = run(capsys, *argv, "--max-spend-usd", "0.000001")
    assert code == 1 and out == ""
    assert "above the spend limit" in err and "Traceback" not in err
    assert "a call" in err  # the per-call cost is shown first
    assert sum(server.calls.values()) == 0  # refused before any call

    def answer(model: str, last: str) -> str:
        return "math" if re.search(r"\d", last) else "none"

    server.answer = answer  # type: ignore[method-assign]
    code, out, err = run(capsys, *argv, "--max-spend-usd", "1", "--classifier-sample", "40")
    assert code == 0, err
    got = json.loads(out)
    assert got["mix"]["sample"] == 40 and got["mix"]["method"] == "classifier openai/small"
    assert sum(server.calls.values()) == 40  # one call per sampled conversation
    math = next(c for c in got["capabilities"] if c["id"] == "math")
    assert 0 < math["n"] < 40 and math["share"] == pytest.approx(math["n"] / 40)
    lo, hi = proportion_confint(math["n"], 40, alpha=0.05, method="wilson")
    assert (math["ci_low"], math["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    assert got["uncategorised_share"] == pytest.approx(1 - math["share"])


def test_write_changes_only_the_measured_figures(fixtures_dir, tmp_path, capsys) -> None:
    src = tmp_path / "scenarios" / "s.yaml"
    src.parent.mkdir()
    shutil.copy(DEFAULT, src)
    shutil.copytree(ROOT / "scenarios" / "probes", tmp_path / "scenarios" / "probes")
    shutil.copytree(ROOT / "data" / "benchmarks", tmp_path / "data" / "benchmarks")
    copy = src.with_name("copy.yaml")
    shutil.copy(src, copy)
    before = copy.read_text()
    log = fixtures_dir / "hh-rlhf_harmless-base_test.jsonl.gz"
    code, out, err = run(capsys, "traffic", str(log), "--write", str(copy), "--json")
    assert code == 0, err
    written = [line.strip() for line in err.splitlines() if " → " in line]
    assert written, err
    after = copy.read_text()
    # every comment line survives; changed lines carry the provenance (file, n)
    comments = [ln for ln in before.splitlines() if ln.lstrip().startswith("#")]
    assert [ln for ln in after.splitlines() if ln.lstrip().startswith("#")] == comments
    for path in ("conversation.turns", "conversation.user_tokens_per_turn",
                 "conversation.assistant_tokens_per_turn"):
        assert any(w.startswith(path + ":") for w in written), written
    changed = [ln for ln in after.splitlines() if ln not in before.splitlines()]
    assert all("hh-rlhf_harmless-base_test.jsonl.gz" in ln and "n=2312" in ln
               for ln in changed), changed
    # econ diff lists exactly those changes
    code, out, err = run(capsys, "diff", str(src), str(copy), "--json")
    assert code in (0, 3), err
    paths = sorted(d["path"] for d in json.loads(out)["inputs"])
    assert paths == sorted(w.split(":")[0] for w in written)
    # the written scenario still evaluates
    code, _, err = run(capsys, "evaluate", str(copy), "--json")
    assert code == 0, err


def test_traffic_without_classifier_never_imports_litellm(mtbench, fixtures_dir) -> None:
    log, _ = mtbench
    code = ("import sys; from econ.cli import main; "
            f"main(['traffic', {str(log)!r}, '--evals', "
            f"{str(fixtures_dir / 'lmeval_samples_math_perturbed.jsonl')!r}, '--json']); "
            "print('LITELLM' if 'litellm' in sys.modules else 'CLEAN', file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().endswith("CLEAN")


def test_add_unseen_refuses_an_indicative_share_and_reads_fastchat_evals(
        mtbench, fixtures_dir, folder, tmp_path, capsys) -> None:
    """Issue 25, item 8: an unseen share from fewer than 20 eval inputs is not written; a
    FastChat question file (MT-Bench's question.jsonl) is read as evals."""
    log, _ = mtbench
    scenario = folder / "frontier-vs-distilled.yaml"
    before = scenario.read_text()
    code, out, err = run(capsys, "traffic", str(log), "--evals",
                         str(fixtures_dir / "lmeval_samples_math_perturbed.jsonl"),
                         "--write", str(scenario), "--add-unseen")
    assert code == 1 and "indicative only and is not written" in err
    assert "fewer than the 20" in err and scenario.read_text() == before
    half = tmp_path / "question.jsonl"  # 40 of MT-Bench's questions, as FastChat writes them
    half.write_text("".join(x + "\n" for x in (fixtures_dir / "mtbench_questions.jsonl")
                            .read_text().splitlines()[0::2]))
    code, out, err = run(capsys, "traffic", str(log), "--evals", str(half), "--json")
    assert code == 0, err
    cov = json.loads(out)["coverage"]
    assert cov["evals"] == 40 and cov["indicative"] is False and cov["min_evals"] == 20
    assert "HH-RLHF" in cov["reference"]
