"""A free tier charges nobody: no card fees, no price floor; its figures are its cost per user
and the subsidy it needs, everywhere one figure per tier is shown (held against tiers_by_hand)."""

from __future__ import annotations

import json

import pytest

from econ.cli import main
from tests.conftest import DEFAULT, SELF_HOSTED, raw_yaml
from tests.tiers_by_hand import Hand


def cli_json(capsys, *args: str) -> dict:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("path", [DEFAULT, SELF_HOSTED], ids=lambda p: p.name)
def test_free_tier_figures_by_hand(capsys, path):
    y = raw_yaml(path)
    out = cli_json(capsys, "evaluate", str(path), "--json")
    h = Hand(y, out)
    free = [t for t in y["tiers"] if t["price_usd_month"] == 0]
    assert free
    for tier in free:
        got = out["tiers"][tier["id"]]
        per_user = tier["conversations_per_user_month"] * h.cost_per_conversation(
            tier["plan"], tier)
        assert got["price_floor_usd_month"] is None  # never (C + 0.30) ÷ (1 − r)
        assert got["fees_usd_month"] == 0
        assert got["cost_per_user_month_usd"] == pytest.approx(per_user, rel=1e-9)
        assert got["subsidy_usd_month"] == pytest.approx(tier["users"] * per_user, rel=1e-9)
        for c in out["candidates"].values():
            assert c["tier_floors_usd_month"][tier["id"]] is None
            assert c["tier_costs_per_user_month_usd"][tier["id"]] == pytest.approx(
                tier["conversations_per_user_month"] * c["cost_per_conversation_usd"],
                rel=1e-12)


def test_free_frontier_by_cost_per_user(capsys):
    out = cli_json(capsys, "frontier", str(DEFAULT), "--tier", "free", "--json",
                   "--target-cost-per-user", "3")
    assert all(p["price_floor_usd_month"] is None for p in out["points"])
    per_user = [p["cost_per_user_month_usd"] for p in out["points"]]
    assert per_user == sorted(per_user)
    ok = [p for p in out["points"] if p["cost_per_user_month_usd"] <= 3]
    assert out["choice"] == min(ok, key=lambda p: p["loss_usd_month"])
    assert main(["frontier", str(DEFAULT), "--tier", "free", "--target-floor", "3"]) == 1
    assert "tier free is free: it has no price floor; use --target-cost-per-user" in \
        capsys.readouterr().err


def test_free_tornado_ranks_cost_per_user_and_no_card_fee(capsys):
    y = raw_yaml(DEFAULT)
    out = cli_json(capsys, "sensitivity", str(DEFAULT), "--json")
    ev = cli_json(capsys, "evaluate", str(DEFAULT), "--json")
    free = out["tiers"]["free"]
    assert free["base_floor_usd_month"] is None and free["ranked_by"] == "cost per user"
    base = ev["tiers"]["free"]["cost_per_user_month_usd"]
    assert free["base_cost_per_user_month_usd"] == base
    names = [i["input"] for i in free["inputs"]]
    assert "fees.payment_fixed_usd" not in names and "fees.payment_rate" not in names
    # by hand: cost per user is conversations per user × cost per conversation, so moving the
    # conversations ±20% moves it ±20%
    key = "tiers[free].conversations_per_user_month"
    row = next(i for i in free["inputs"] if i["input"] == key)
    conv = next(t for t in y["tiers"] if t["id"] == "free")["conversations_per_user_month"]
    assert row["low_value"] == pytest.approx(0.8 * conv) and \
        row["high_value"] == pytest.approx(1.2 * conv)
    assert row["cost_per_user_at_low_month_usd"] == pytest.approx(
        base * row["low_value"] / conv, rel=1e-12)
    assert row["cost_per_user_at_high_month_usd"] == pytest.approx(
        base * row["high_value"] / conv, rel=1e-12)
    assert row["floor_at_low_usd_month"] is None
    assert row["swing_usd_month"] == pytest.approx(
        row["cost_per_user_at_high_month_usd"] - row["cost_per_user_at_low_month_usd"])
    assert [i["swing_usd_month"] for i in free["inputs"]] == sorted(
        (i["swing_usd_month"] for i in free["inputs"]), reverse=True)


def test_free_monte_carlo_has_no_floor(capsys):
    out = cli_json(capsys, "uncertainty", str(DEFAULT), "--draws", "2000", "--json")
    free = out["tiers"]["free"]
    assert free["price_floor_usd_month"] is None
    p = free["cost_per_user_month_usd"]
    assert p["p5"] < p["p50"] < p["p95"]
    assert free["p_margin_meets_target"] is None
    assert main(["uncertainty", str(DEFAULT), "--draws", "2000"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("free "))
    assert "— (free)" in line
