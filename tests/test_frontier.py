"""The consent frontier is exact: equal to brute-force enumeration, nothing dominated."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from econ.cli import main
from econ.decisions.frontier import Choice, pareto_merge, tier_frontier
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import DEFAULT, SELF_HOSTED

# small integer grids make ties between consent sets frequent
values = st.integers(0, 6).map(float)
choices = st.lists(st.tuples(values, values, values, values), min_size=0, max_size=14).map(
    lambda xs: [Choice(f"c{i}", *x) for i, x in enumerate(xs)])


def brute_force(chs):
    """Every consent set, then the points no other point matches-or-beats on both objectives."""
    pts = set()
    for bits in itertools.product((0, 1), repeat=len(chs)):
        cost = sum(c.consent_cost if b else c.keep_cost for c, b in zip(chs, bits, strict=True))
        loss = sum(c.consent_loss if b else c.keep_loss for c, b in zip(chs, bits, strict=True))
        pts.add((cost, loss))
    return sorted(p for p in pts
                  if not any(q != p and q[0] <= p[0] and q[1] <= p[1] for q in pts))


@settings(max_examples=150, deadline=None)
@given(choices)
def test_frontier_equals_brute_force(chs):
    cost, loss, masks = pareto_merge(chs)
    assert sorted(zip(cost.tolist(), loss.tolist(), strict=True)) == brute_force(chs)
    # each mask really produces its point
    for c, l_, m in zip(cost, loss, masks, strict=True):
        bits = [(m >> i) & 1 for i in range(len(chs))]
        assert c == sum(ch.consent_cost if b else ch.keep_cost for ch, b in zip(chs, bits,
                                                                                   strict=True))
        assert l_ == sum(ch.consent_loss if b else ch.keep_loss for ch, b in zip(chs, bits,
                                                                                    strict=True))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[st.floats(0, 100)] * 4), max_size=12))
def test_no_point_dominated_with_real_values(xs):
    chs = [Choice(f"c{i}", *x) for i, x in enumerate(xs)]
    cost, loss, _ = pareto_merge(chs)
    assert (cost[1:] > cost[:-1]).all()
    assert (loss[1:] < loss[:-1]).all()


LOADED = {p: load_scenario(p) for p in (DEFAULT, SELF_HOSTED)}


@pytest.mark.parametrize(("path", "tier"), [(DEFAULT, "plus"), (SELF_HOSTED, "team")])
def test_frontier_points_match_evaluate(path, tier):
    loaded = LOADED[path]
    ev = evaluate(loaded.scenario, loaded.measured)
    front = tier_frontier(ev, tier)
    assert len(front.points) >= 3
    for p in front.points:
        ev2 = evaluate(loaded.scenario, loaded.measured, consent=p.consent)
        t = next(x for x in ev2.tiers if x.economics.tier == tier)
        assert p.price_floor_usd_month == pytest.approx(t.economics.price_floor_usd_month,
                                                        rel=1e-12)
        assert p.loss_usd_month == pytest.approx(t.loss_usd_month, rel=1e-9, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 120), st.floats(0, 3e5))
def test_inverse_queries_are_optimal_and_on_the_frontier(target, budget):
    loaded = LOADED[DEFAULT]
    ev = evaluate(loaded.scenario, loaded.measured)
    front = tier_frontier(ev, "plus")
    caps = [c.id for c in loaded.scenario.capabilities]
    every = []
    for r in range(len(caps) + 1):
        for consent in itertools.combinations(caps, r):
            e = evaluate(loaded.scenario, loaded.measured, consent=consent)
            t = e.tiers[1].economics
            every.append((t.price_floor_usd_month, e.tiers[1].loss_usd_month))
    choice = front.least_loss_under_floor(target)
    feasible = [lo for f, lo in every if f <= target + 1e-9]
    if choice is None:
        assert not [f for f, _ in every if f <= target - 1e-9]
    else:
        assert choice in front.points
        assert choice.loss_usd_month == pytest.approx(min(feasible), rel=1e-9)
    cheap = front.cheapest_under_loss(budget)
    feasible = [f for f, lo in every if lo <= budget + 1e-6]
    if cheap is not None:
        assert cheap in front.points
        assert cheap.price_floor_usd_month == pytest.approx(min(feasible), rel=1e-9)


def test_unmeasured_points_are_flagged():
    loaded = LOADED[DEFAULT]
    front = tier_frontier(evaluate(loaded.scenario, loaded.measured), "plus")
    flagged = [p for p in front.points if "legacy_csv_input" in p.consent]
    assert flagged and all(p.unmeasured == ("legacy_csv_input",) for p in flagged)
    assert all(p.loss_usd_month > 0 for p in flagged)


def test_frontier_cli_json(capsys):
    assert main(["frontier", str(DEFAULT), "--tier", "plus", "--target-floor", "20",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tier"] == "plus"
    floors = [p["price_floor_usd_month"] for p in out["points"]]
    assert floors == sorted(floors)
    assert out["choice"]["price_floor_usd_month"] <= 20
    assert out["choice"] in out["points"]
    assert {"consent", "price_floor_usd_month", "loss_usd_month", "unmeasured"} <= set(
        out["points"][0])


def test_frontier_unknown_tier(capsys):
    assert main(["frontier", str(DEFAULT), "--tier", "gold"]) == 1
    assert capsys.readouterr().err.strip() == (
        "--tier gold: no such tier; the scenario has free, plus, pro")


def test_target_nobody_meets(capsys):
    assert main(["frontier", str(DEFAULT), "--tier", "plus", "--target-floor", "1",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["choice"] is None
