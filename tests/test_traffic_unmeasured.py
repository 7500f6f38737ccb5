"""Unmeasured is not zero (issue 25, item 7): --write leaves a share no rule or classifier can
see, a scenario without text rules says so, --suggest-map offers a starter map, and the shipped
scenarios' starter rules do what their comment says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from econ.base.errors import EconError
from econ.cli import main
from econ.evidence.importers.capmap import load_capability_map
from econ.scenario.traffic_write import TrafficProvenance, write_traffic
from tests.conftest import DEFAULT

PROV = TrafficProvenance(("log.jsonl",), "2026-12-02", 1000)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _cap(cid: str, share: float, n: int, by: str | None) -> dict[str, object]:
    return {"id": cid, "share": share, "ci_low": max(0.0, share - 0.01),
            "ci_high": share + 0.01, "n": n, "measured_by": by}


def _shares(text: str) -> dict[str, float]:
    return {c["id"]: c["traffic_share"] for c in yaml.safe_load(text)["capabilities"]}


def test_a_share_no_rule_can_see_is_left_and_said() -> None:
    old = DEFAULT.read_text()
    summary = {"conversations": 1000, "capabilities": [
        _cap("math", 0.1, 100, "text rules"),
        _cap("clarifying_questions", 0.0, 0, None),  # no rule: the old code wrote 0.0
        _cap("legacy_csv_input", 0.0, 0, None)]}
    result = write_traffic(old, summary, PROV)
    before, after = _shares(old), _shares(result.text)
    assert after["math"] == 0.1
    assert after["clarifying_questions"] == before["clarifying_questions"] == 0.025
    assert after["legacy_csv_input"] == before["legacy_csv_input"] == 0.008
    assert [c.path for c in result.changes if c.path.endswith("traffic_share")] == [
        "capabilities[math].traffic_share"]
    assert len(result.notes) == 2 and all("unmeasured is not 0" in n for n in result.notes)
    assert "left at 0.025: no text rule or classifier can see clarifying_questions" in \
        result.notes[0]


def test_kept_shares_are_never_lowered_to_make_room() -> None:
    old = DEFAULT.read_text()
    before = _shares(old)
    measured = ["creative_assist", "analysis", "code_help", "factual_qa", "math"]

    def summary(last: float) -> dict[str, object]:
        return {"conversations": 1000, "capabilities": [
            _cap(c, s, round(1000 * s), "text rules")
            for c, s in zip(measured, (0.6, 0.2, 0.1, 0.05, last), strict=True)]
            + [_cap("clarifying_questions", 0.0, 0, None)]}

    # measured 0.6 + 0.2 + 0.1 + 0.05 + 0.015 = 0.965; kept 0.025 + 0.008 = 0.033: 0.998 fits
    fits = write_traffic(old, summary(0.015), PROV)
    after = _shares(fits.text)
    assert after["clarifying_questions"] == before["clarifying_questions"] == 0.025
    assert after["legacy_csv_input"] == before["legacy_csv_input"] == 0.008
    assert after["math"] == 0.015 and sum(after.values()) == pytest.approx(0.998, abs=1e-9)
    # measured 0.985 + kept 0.033 = 1.018: refused, naming what was kept, nothing lowered
    with pytest.raises(EconError, match=r"would sum to 1\.0180, more than 1; the shares this "
                       r"log does not measure are kept as they are \(clarifying_questions "
                       r"0\.025, legacy_csv_input 0\.008\), never lowered or set to 0"):
        write_traffic(old, summary(0.035), PROV)


def test_a_scenario_without_rules_says_so_and_writes_no_share(
        folder: Path, fixtures_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = folder / "frontier-vs-distilled.yaml"
    text = scenario.read_text()
    start = text.index("capability_map:")
    end = text.index("probes: probes/")
    scenario.write_text(text[:start] + text[end:])  # the scenario as shipped before issue 25
    before = _shares(scenario.read_text())
    log = fixtures_dir / "hh-rlhf_harmless-base_test.jsonl.gz"
    code, out, err = run(capsys, "traffic", str(log), "--scenario", str(scenario))
    assert code == 0, err
    assert "has no text rules" in err and "--suggest-map" in err
    assert "not measured: no text rule sees it" in out
    code, out, err = run(capsys, "traffic", str(log), "--scenario", str(scenario),
                         "--write", str(scenario), "--json")
    assert code == 0, err
    assert _shares(scenario.read_text()) == before  # no share moved to 0
    got = json.loads(out)
    assert all(c["measured_by"] is None for c in got["capabilities"])
    assert "has no text rules" in got["notes"][0]


def test_suggest_map_offers_clusters_to_the_capabilities_they_name(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = folder / "frontier-vs-distilled.yaml"
    topics = {"code": "python function code error bug compile script loop list",
              "math": "equation solve integral derivative algebra probability number sum",
              "write": "write poem story essay letter blog lyrics creative title"}
    lines = []
    for i in range(90):
        words = topics[("code", "math", "write")[i % 3]].split()
        text = " ".join(words[(i + k) % len(words)] for k in range(6))
        lines.append(json.dumps({"messages": [{"role": "user", "content": text},
                                              {"role": "assistant", "content": "ok"}]}))
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "traffic", str(log), "--scenario", str(scenario),
                         "--suggest-map")
    assert code == 0, err
    path = tmp_path / "map.yaml"
    path.write_text(out)
    cmap = load_capability_map(path)  # it parses, as a capability map
    # "code" names code_help, "creative" creative_assist; no term names math (its words are
    # "math"): the algebra cluster is listed for the user, and math gets no guessed rule
    assert set(cmap.text) == {"code_help", "creative_assist"}
    assert '# "math": no cluster\'s terms name it' in out
    assert "algebra" in out and "-> no capability's name matched" in out
    code, out2, err = run(capsys, "traffic", str(log), "--scenario", str(scenario),
                          "--capability-map", str(path), "--json")
    assert code == 0, err
    got = {c["id"]: c for c in json.loads(out2)["capabilities"]}
    assert got["code_help"]["n"] == got["creative_assist"]["n"] == 30
    assert got["math"]["measured_by"] is None  # --write would keep its share


def test_a_suggested_map_holds_the_logs_words_only_as_data(tmp_path: Path) -> None:
    import argparse

    from econ.cli.traffic_steps import render_map
    from econ.evidence.traffic.suggest import SuggestedCluster, SuggestedMap

    hostile = 'x"\n- evil: [1]\u2028# not a comment\ntext: {pwned: {keywords: [a]}}'
    found = SuggestedMap({"math": ("yes", "null", "a: b", hostile)},
                         (SuggestedCluster(3, 1.0, ("sum", hostile), (hostile,), "math",
                                           ("sum",)),), 3, ("code_help",))
    args = argparse.Namespace(scenario="s.yaml", logs=["l.jsonl"], table=None)
    out = render_map(found, args)
    path = tmp_path / "m.yaml"
    path.write_text(out)
    cmap = load_capability_map(path)  # it loads: nothing of the log became YAML
    # the keyword with line breaks could never be loaded back (the loader refuses control
    # characters): it is left out, and a comment says so; the others stay data, as written
    assert set(cmap.text) == {"math"} and len(cmap.text["math"]) == 3
    assert yaml.safe_load(out)["text"]["math"]["keywords"] == ["yes", "null", "a: b"]
    assert '1 suggested keyword(s) of "math" left out' in out
    assert "\u2028" not in out.replace("\\u2028", "")


def test_the_shipped_starter_rules_do_what_their_comment_says(
        fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """frontier-vs-distilled.yaml's capability_map comment: on MT-Bench, coding 9 of 10 to
    code_help, math 6 of 10 to math, writing 7 and roleplay 4 of 10 to creative_assist, 12 of
    80 uncategorised; 83.8% of HH-RLHF's requests uncategorised; a semicolon CSV is legacy."""
    comment = DEFAULT.read_text()
    for claim in ("coding 9 of 10", "math 6 of 10", "writing 7 and roleplay 4 of 10",
                  "12 of 80", "83.8%"):
        assert claim in re.sub(r"\s+#\s+", " ", comment)
    qs = [json.loads(x) for x in (fixtures_dir / "mtbench_questions.jsonl").read_text()
          .splitlines()]
    counts: dict[str, dict[str, int]] = {}
    for cat in ("coding", "math", "writing", "roleplay"):
        log = tmp_path / f"{cat}.jsonl"
        log.write_text("".join(json.dumps({"conversations": [
            m for t in q["turns"] for m in ({"from": "human", "value": t},
                                            {"from": "gpt", "value": "ok"})]}) + "\n"
            for q in qs if q["category"] == cat))
        code, out, err = run(capsys, "traffic", str(log), "--scenario", str(DEFAULT), "--json")
        assert code == 0, err
        counts[cat] = {c["id"]: c["n"] for c in json.loads(out)["capabilities"]}
    assert counts["coding"]["code_help"] == 9 and counts["math"]["math"] == 6
    assert counts["writing"]["creative_assist"] == 7
    assert counts["roleplay"]["creative_assist"] == 4
    all_log = tmp_path / "all.jsonl"
    all_log.write_text("".join(json.dumps({"conversations": [
        m for t in q["turns"] for m in ({"from": "human", "value": t},
                                        {"from": "gpt", "value": "ok"})]}) + "\n" for q in qs))
    code, out, _ = run(capsys, "traffic", str(all_log), "--scenario", str(DEFAULT), "--json")
    assert round(json.loads(out)["uncategorised_share"] * 80) == 12
    hh = fixtures_dir / "hh-rlhf_harmless-base_test.jsonl.gz"
    code, out, _ = run(capsys, "traffic", str(hh), "--scenario", str(DEFAULT), "--json")
    assert round(100 * json.loads(out)["uncategorised_share"], 1) == 83.8
    csv = tmp_path / "csv.jsonl"
    csv.write_text(json.dumps({"messages": [
        {"role": "user", "content": "Import this please:\nid;name;amount\n1;Ann;3,50\n"},
        {"role": "assistant", "content": "Done."}]}) + "\n")
    code, out, _ = run(capsys, "traffic", str(csv), "--scenario", str(DEFAULT), "--json")
    assert {c["id"]: c["n"] for c in json.loads(out)["capabilities"]}["legacy_csv_input"] == 1


def test_a_suggested_keyword_is_common_in_its_cluster() -> None:
    from econ.evidence.traffic.suggest import common_terms

    # 20 texts: "write" as a word in 5 (not in "Writer", yes in "re-write"), "poem" in 2,
    # "david" in 1: the bar is max(2, 10% of 20) = 2 texts
    texts = (["Write a poem", "please re-write this", "write it", "WRITE", "Writer's block",
              "write an ode", "a poem again", "ask David"] + ["filler text"] * 12)
    assert common_terms(("write", "poem", "david", "writer", "absent"), texts) == (
        "write", "poem")
    # with 40 texts the bar is 10% = 4: "poem" (2) falls out, "write" (5) stays
    assert common_terms(("write", "poem"), texts + ["filler"] * 20) == ("write",)


def test_a_term_names_a_capability_by_its_stem() -> None:
    from econ.evidence.traffic.suggest import capability_words, same_stem, stem

    # by hand: the first suffix of ing/e/al/y/s that leaves three letters goes
    assert [stem(w) for w in ("coding", "code", "legal", "legacy", "Writing", "use")] == [
        "cod", "cod", "leg", "legac", "writ", "use"]
    assert same_stem("coding", "code") and same_stem("write", "writing")
    assert same_stem("mathematics", "math")  # "math" (4 letters) begins "mathematic"
    assert not same_stem("legal", "legacy")  # "leg" is under four letters, "legac" differs
    assert not same_stem("use", "user")  # "use" and "user" (no suffix leaves 3 letters)
    words = capability_words("legacy_csv_input", "corner-case input format (legacy CSV)")
    assert words == ("legacy", "csv")  # "input", "corner", "case", "format" name no topic
    assert same_stem("CSV", "csv") and not any(same_stem("legal", w) for w in words)
