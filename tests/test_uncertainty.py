from __future__ import annotations

import json
import re

import pytest

from econ.cli import main
from econ.decisions.sensitivity import sensitivity
from econ.decisions.uncertainty import simulate
from econ.model.evaluate import evaluate
from econ.model.loader import parse_scenario
from tests.conftest import DEFAULT, SELF_HOSTED, raw_yaml


def zero_spread(path):
    """Every spread set to zero: token lengths, throughputs, turns, API prices, conversations
    per user."""
    text, n = re.subn(r"(_cv: )[0-9.]+", r"\g<1>0.0", path.read_text())
    assert n >= 5
    return parse_scenario(text, str(path), base_dir=path.parent)


@pytest.mark.parametrize("path", [DEFAULT, SELF_HOSTED])
def test_zero_spread_reproduces_deterministic_result_exactly(path):
    loaded = zero_spread(path)
    ev = evaluate(loaded.scenario, loaded.measured)
    result = simulate(ev, loaded.measured, draws=1000, seed=3, posterior=False, chunk=300)
    for r, t in zip(result, ev.tiers, strict=True):
        e = t.economics
        assert r.cost_per_conversation_usd == (e.cost_per_conversation_usd,) * 3
        assert r.price_floor_usd_month == (e.price_floor_usd_month,) * 3
        assert r.loss_usd_month == pytest.approx((t.loss_usd_month,) * 3, rel=1e-12)
        if e.meets_target is not None:
            assert r.p_margin_meets_target == float(e.meets_target)


def test_fixed_seed_reproduces_bit_for_bit():
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    a = simulate(ev, loaded.measured, draws=5000, seed=11)
    b = simulate(ev, loaded.measured, draws=5000, seed=11, chunk=1234)
    c = simulate(ev, loaded.measured, draws=5000, seed=12)
    assert a == b
    assert a != c


def test_spread_widens_the_interval():
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    r = simulate(ev, loaded.measured, draws=20000, seed=1)
    for x, t in zip(r, ev.tiers, strict=True):
        p5, p50, p95 = x.price_floor_usd_month
        assert p5 < p50 < p95
        assert p5 < t.economics.price_floor_usd_month < p95


def test_uncertainty_cli(capsys):
    assert main(["uncertainty", str(DEFAULT), "--draws", "2000", "--seed", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["tiers"]) == {"free", "plus", "pro"}
    plus = out["tiers"]["plus"]
    assert set(plus["price_floor_usd_month"]) == {"p5", "p50", "p95"}
    assert 0 <= plus["p_margin_meets_target"] <= 1
    assert out["tiers"]["free"]["p_margin_meets_target"] is None


def test_sensitivity_by_hand():
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    rows = sensitivity(ev, loaded.measured, 0.2)
    y = raw_yaml(DEFAULT)
    pro = next(t for t in y["tiers"] if t["id"] == "pro")
    per_user = next(t for t in ev.tiers if t.economics.tier == "pro").economics
    row = next(r for r in rows if r.input == "tiers[pro].target_gross_margin")
    rate, fixed = y["fees"]["payment_rate"], y["fees"]["payment_fixed_usd"]
    for m, got in ((0.48, row.floor_at_low["pro"]), (0.72, row.floor_at_high["pro"])):
        assert got == pytest.approx((per_user.cost_per_user_month_usd + fixed) / (1 - m - rate))
    assert pro["target_gross_margin"] == 0.6
    # ranked by the largest swing on any tier; severities move no floor and are left out
    assert not any("severity" in r.input for r in rows)
    swings = [max(r.swing(t) for t in ("free", "plus", "pro")) for r in rows]
    assert swings == sorted(swings, reverse=True)


def test_sensitivity_cli(capsys):
    assert main(["sensitivity", str(SELF_HOSTED), "--json", "--swing", "0.1"]) == 0
    out = json.loads(capsys.readouterr().out)
    team = out["tiers"]["team"]["inputs"]
    assert team[0]["swing_usd_month"] >= team[-1]["swing_usd_month"] > 0
    assert any(i["input"] == "measured throughput of llama-8b (× base)" for i in team)


@pytest.mark.parametrize(("spread", "tiers"), [
    ("turns_cv", {"free", "plus", "pro"}),
    ("price_cv", {"plus", "pro"}),  # API models serve plus (GPT-4o) and pro; free is self-hosted
    ("conversations_per_user_month_cv", {"free", "plus", "pro"}),
])
def test_each_new_spread_widens_the_floors_it_touches(spread, tiers):
    """Only one spread left on: the tiers it reaches get an interval, the others stay exact."""
    text = re.sub(r"(_cv: )[0-9.]+", r"\g<1>0.0", DEFAULT.read_text())
    text = re.sub(rf"({spread}: )0\.0", r"\g<1>0.3", text)
    loaded = parse_scenario(text, str(DEFAULT), base_dir=DEFAULT.parent)
    ev = evaluate(loaded.scenario, loaded.measured)
    result = simulate(ev, loaded.measured, draws=4000, seed=2, posterior=False)
    for r, t in zip(result, ev.tiers, strict=True):
        p5, p50, p95 = r.price_floor_usd_month
        if r.tier in tiers:
            assert p5 < t.economics.price_floor_usd_month < p95
        else:
            assert p5 == p50 == p95 == t.economics.price_floor_usd_month
