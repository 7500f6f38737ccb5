"""Tier loss and floors carrying free users: each checked against a hand computation from the
scenario file itself (payback: test_payback.py; coverage: test_tier_coverage.py)."""

from __future__ import annotations

import json

import pytest

from econ.cli import main
from econ.model.loss import PESSIMISTIC_STUDENT_PASS_RATE
from tests.conftest import DEFAULT, SELF_HOSTED, raw_yaml

SCENARIOS = [DEFAULT, SELF_HOSTED]


def evaluate_json(capsys, path) -> dict:
    assert main(["evaluate", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def rate(c: dict, model: str) -> float | None:
    e = c.get("evals", {}).get(model)
    return e["passed"] / e["examples"] if e and e["examples"] else None


def drop(c: dict, teacher: str, model: str) -> float:
    """Pass-rate drop used for the loss: measured, or the uniform prior's pessimistic end."""
    t, s = rate(c, teacher), rate(c, model)
    if t is None or s is None:
        return max(0.0, (1.0 if t is None else t) - PESSIMISTIC_STUDENT_PASS_RATE)
    return max(0.0, t - s)


def tier_teacher(y: dict, tier: dict) -> str:
    plan = tier["plan"]
    for m in (plan["model"], plan.get("route", {}).get("to")):
        if m and y["models"][m]["role"] == "teacher":
            return m
    return y.get("reference") or next(k for k, v in y["models"].items() if v["role"] == "teacher")


def alone(y: dict, out: dict, tier: dict, model: str) -> tuple[float, float]:
    """Monthly cost and loss of ``model`` serving the whole tier, by hand."""
    conv = tier["users"] * tier["conversations_per_user_month"]
    cost = conv * out["models"][model]["cost_per_conversation_usd"]
    teacher = tier_teacher(y, tier)
    loss = 0.0 if model == teacher else sum(
        conv * c["traffic_share"] * drop(c, teacher, model) * c["severity_usd"]
        for c in y["capabilities"])
    return cost, loss


@pytest.mark.parametrize("path", SCENARIOS)
def test_tier_loss_of_single_model_tiers_by_hand(capsys, path):
    y = raw_yaml(path)
    out = evaluate_json(capsys, path)
    for tier in y["tiers"]:
        if "route" in tier["plan"]:
            continue
        _, loss = alone(y, out, tier, tier["plan"]["model"])
        assert out["tiers"][tier["id"]]["loss_usd_month"] == pytest.approx(loss, rel=1e-9)


@pytest.mark.parametrize("path", SCENARIOS)
def test_floors_carrying_free_users_by_hand(capsys, path):
    y = raw_yaml(path)
    out = evaluate_json(capsys, path)
    rate_, fixed = y["fees"]["payment_rate"], y["fees"]["payment_fixed_usd"]
    free = [t for t in y["tiers"] if t["price_usd_month"] == 0]
    paid = [t for t in y["tiers"] if t["price_usd_month"] > 0]
    free_cost = sum(out["tiers"][t["id"]]["cost_usd_month"] for t in free)
    per_paying_user = free_cost / sum(t["users"] for t in paid)
    assert per_paying_user > 0
    for t in paid:
        got = out["tiers"][t["id"]]
        floor = (got["cost_per_user_month_usd"] + per_paying_user + fixed) / (
            1 - t["target_gross_margin"] - rate_)
        assert got["price_floor_carrying_free_users_usd_month"] == pytest.approx(floor, rel=1e-12)
        assert got["price_floor_carrying_free_users_usd_month"] > got["price_floor_usd_month"]
        assert got["subsidy_usd_month"] is None
    for t in free:
        got = out["tiers"][t["id"]]
        assert got["price_floor_carrying_free_users_usd_month"] is None
        assert got["subsidy_usd_month"] == pytest.approx(
            t["users"] * got["cost_per_user_month_usd"], rel=1e-12)
