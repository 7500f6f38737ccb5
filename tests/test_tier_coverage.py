"""Coverage per tier, for what the tier serves, held against tiers_by_hand; the scenario-wide
figures are the traffic-weighted blends of the tiers'."""

from __future__ import annotations

import json

import pytest

from econ.cli import main
from tests.conftest import DEFAULT, SELF_HOSTED, raw_yaml
from tests.tiers_by_hand import Hand

SCENARIOS = [DEFAULT, SELF_HOSTED]
KEYS = ("unmeasured", "underpowered", "uncategorised")


def evaluate_json(capsys, path) -> dict:
    assert main(["evaluate", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_each_tier_coverage_by_hand(capsys, path):
    y = raw_yaml(path)
    out = evaluate_json(capsys, path)
    h = Hand(y, out)
    for tier in y["tiers"]:
        got = out["tiers"][tier["id"]]
        want = h.coverage(tier)
        for k in KEYS:
            assert got[f"{k}_traffic_share"] == pytest.approx(want[k], rel=1e-12, abs=1e-15), k
        assert got["unmeasured_capabilities"] == want["unmeasured_caps"]
        assert got["underpowered_capabilities"] == want["underpowered_caps"]
        head = out["headlines"][tier["id"]]
        for k in KEYS:
            assert head[f"{k}_traffic_share"] == got[f"{k}_traffic_share"]
    for k in KEYS:
        assert out[f"{k}_traffic_share"] == pytest.approx(h.blend(k), rel=1e-12, abs=1e-15)
    assert out["coverage"]["scenario_shares_are"] == "traffic-weighted blend of the tiers"
    assert out["coverage"]["traffic_share_without_capability"] == pytest.approx(h.rest)


def test_default_tiers_differ_as_their_plans_do(capsys):
    """Issue 20: free serves the distilled 8B against o1, plus routes to GPT-4o (its teacher),
    pro runs on o1 alone and so has nothing unmeasured, underpowered or uncategorised."""
    out = evaluate_json(capsys, DEFAULT)
    t = out["tiers"]
    assert [t["pro"][f"{k}_traffic_share"] for k in KEYS] == [0.0, 0.0, 0.0]
    assert t["free"]["underpowered_traffic_share"] != t["plus"]["underpowered_traffic_share"]
    # free: the 8B serves everything, legacy CSV unmeasured, all uncategorised traffic on it
    assert t["free"]["unmeasured_traffic_share"] == pytest.approx(0.008)
    assert t["free"]["uncategorised_traffic_share"] == pytest.approx(1 - 0.946)
    # plus: the unconsented go to its teacher; only the 2% misrouted reach the 8B
    assert t["plus"]["unmeasured_traffic_share"] == pytest.approx(0.008 * 0.02)
    assert t["plus"]["uncategorised_traffic_share"] == pytest.approx((1 - 0.946) * 0.02)


def test_text_report_has_one_headline_per_tier(capsys):
    out = evaluate_json(capsys, DEFAULT)
    assert main(["evaluate", str(DEFAULT)]) == 0
    text = capsys.readouterr().out
    for tid, h in out["headlines"].items():
        t = out["tiers"][tid]
        ratio = out["models"][h["teacher"]]["cost_per_conversation_usd"] / \
            t["cost_per_conversation_usd"]
        assert h["teacher"] == t["teacher"] and h["served"][0] == t["plan"]["model"]
        assert h["teacher_to_plan_cost_ratio"] == pytest.approx(ratio, rel=1e-12)
        line = next(x for x in text.splitlines() if x.startswith(f"  {tid}: teacher "))
        assert f"(teacher ÷ plan {ratio:,.1f}×)" in line
        assert f"{100 * t['underpowered_traffic_share']:.1f}% underpowered" in line
    assert "  plus: teacher gpt-4o at " in text
    assert "plan llama-8b-distilled, routed to gpt-4o at " in text
