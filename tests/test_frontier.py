"""The consent frontier is exact: equal to brute-force enumeration, nothing dominated."""

from __future__ import annotations

import functools
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from econ.cli import main
from econ.decisions.frontier import (
    Candidate,
    Choice,
    merge_candidates,
    pareto_merge,
    point_plan,
    tier_frontier,
    tier_router,
)
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.scenario.schema import Plan, Route, Scenario
from tests.conftest import DEFAULT, SELF_HOSTED, raw_yaml

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


def with_plan(scenario, tier, plan, teacher=None):
    """The scenario with one tier on another plan, its teacher held (the frontier explores
    plans of one tier against one teacher)."""
    data = scenario.model_dump(mode="python")
    for t, orig in zip(data["tiers"], scenario.tiers, strict=True):
        if t["id"] == tier:
            t["plan"] = plan.model_dump(mode="python", exclude_none=True)
            t["teacher"] = teacher or scenario.tier_teacher(orig)
    return Scenario.model_validate(data)


ALL_TIERS = [(DEFAULT, t) for t in ("free", "plus", "pro")] + [
    (SELF_HOSTED, t) for t in ("free", "team", "enterprise")]


@pytest.mark.parametrize(("path", "tier"), ALL_TIERS)
def test_frontier_points_match_evaluate(path, tier):
    """Every point, priced by evaluate with its plan and its consent set as the tier's."""
    loaded = LOADED[path]
    ev = evaluate(loaded.scenario, loaded.measured)
    front = tier_frontier(ev, tier)
    assert len(front.points) >= 3
    for p in front.points:
        scen = with_plan(loaded.scenario, tier, point_plan(ev, tier, p))
        ev2 = evaluate(scen, loaded.measured, consent={tier: p.consent})
        t = ev2.tier(tier)
        if t.free:  # no floor: the point trades its cost per user against loss
            assert p.price_floor_usd_month is None and t.economics.price_floor_usd_month is None
        else:
            assert p.price_floor_usd_month == pytest.approx(t.economics.price_floor_usd_month,
                                                            rel=1e-12)
        assert p.cost_per_user_month_usd == pytest.approx(t.economics.cost_per_user_month_usd,
                                                          rel=1e-12)
        assert p.measure_usd_month == pytest.approx(t.economics.measure_usd_month, rel=1e-12)
        assert p.loss_usd_month == pytest.approx(t.loss_usd_month, rel=1e-9, abs=1e-6)


@functools.cache
def every_plan(path, tier):
    """(floor or a free tier's cost per user, loss) of every plan a tier can take, each priced
    by evaluate: each student
    routed to the tier's teacher with every consent set, each student alone, the teacher alone."""
    loaded = LOADED[path]
    s = loaded.scenario
    ev = evaluate(s, loaded.measured)
    t = next(x for x in s.tiers if x.id == tier)
    teacher = s.tier_teacher(t)
    router = tier_router(s, t)[0]
    caps = [c.id for c in s.capabilities]
    plans = [(Plan(model=teacher), ())]
    for student in s.model_ids("student"):
        plans.append((Plan(model=student), ()))
        routed = Plan(model=student, route=Route(
            to=teacher, router_usd_per_conversation=router.router_usd_per_conversation,
            router_error_rate=router.router_error_rate))
        plans += [(routed, consent) for r in range(len(caps) + 1)
                  for consent in itertools.combinations(caps, r)]
    out = []
    for plan, consent in plans:
        res = evaluate(with_plan(s, tier, plan), loaded.measured, consent={tier: consent})
        out.append((res.tier(tier).economics.measure_usd_month, res.tier(tier).loss_usd_month))
    assert ev.tier(tier)  # the tier exists
    return out


@functools.cache
def default_frontier(tier: str):
    """The default scenario's frontier of one tier, computed once: the examples below vary the
    queries, not the scenario."""
    loaded = LOADED[DEFAULT]
    return tier_frontier(evaluate(loaded.scenario, loaded.measured), tier)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([("plus", 120.0, 3e5), ("free", 30.0, 2e6)]), st.floats(0, 1),
       st.floats(0, 1))
def test_inverse_queries_are_optimal_and_on_the_frontier(case, x, y):
    """Plus by its floor; free (no floor) by its cost per user, the subsidy it needs."""
    tier, top, most = case
    target, budget = x * top, y * most
    front = default_frontier(tier)
    assert front.measure == ("cost per user" if tier == "free" else "price floor")
    every = every_plan(DEFAULT, tier)
    choice = front.least_loss_within(target)
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
        assert cheap.measure_usd_month == pytest.approx(min(feasible), rel=1e-9)


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


@pytest.mark.parametrize(("path", "tier"), ALL_TIERS)
def test_no_consent_and_current_points_equal_evaluate(path, tier):
    """Consenting to nothing is the tier on its teacher alone; the current point is the tier
    panel's figure."""
    loaded = LOADED[path]
    ev = evaluate(loaded.scenario, loaded.measured)
    front = tier_frontier(ev, tier)
    t = next(x for x in loaded.scenario.tiers if x.id == tier)
    on_teacher = evaluate(with_plan(loaded.scenario, tier, Plan(model=front.teacher)),
                          loaded.measured).tier(tier)
    assert front.no_consent.consent == ()
    assert front.no_consent.price_floor_usd_month == on_teacher.economics.price_floor_usd_month
    assert front.no_consent.measure_usd_month == on_teacher.economics.measure_usd_month
    assert front.no_consent.loss_usd_month == 0.0 == on_teacher.loss_usd_month
    assert front.teacher == loaded.scenario.tier_teacher(t)
    res = ev.tier(tier)
    assert front.current.price_floor_usd_month == res.economics.price_floor_usd_month
    assert front.current.cost_per_user_month_usd == res.economics.cost_per_user_month_usd
    assert front.current.loss_usd_month == res.loss_usd_month
    assert front.current.consent == res.consent
    # nothing on the frontier is beaten by the current plan or the teacher alone
    for ref in (front.current, front.no_consent):
        assert not any(ref.measure_usd_month < p.measure_usd_month - 1e-9
                       and ref.loss_usd_month < p.loss_usd_month - 1e-9 for p in front.points)


def brute_force_candidates(cands, extra):
    """Every (candidate × consent set) and every extra point; then the non-dominated ones."""
    pts = set(extra)
    for cand in cands:
        for bits in itertools.product((0, 1), repeat=len(cand.choices)):
            cost = cand.base_cost + sum(c.consent_cost if b else c.keep_cost
                                        for c, b in zip(cand.choices, bits, strict=True))
            loss = cand.base_loss + sum(c.consent_loss if b else c.keep_loss
                                        for c, b in zip(cand.choices, bits, strict=True))
            pts.add((cost, loss))
    return sorted(p for p in pts
                  if not any(q != p and q[0] <= p[0] and q[1] <= p[1] for q in pts))


small = st.integers(0, 6).map(float)
candidate_sets = st.integers(1, 3).flatmap(lambda n_students: st.integers(0, 10).flatmap(
    lambda k: st.lists(st.tuples(small, small, st.lists(st.tuples(small, small, small, small),
                                                        min_size=k, max_size=k)),
                       min_size=n_students, max_size=n_students)))


@settings(max_examples=120, deadline=None)
@given(candidate_sets, st.lists(st.tuples(small, small), max_size=3))
def test_candidate_frontier_equals_brute_force(raw, extra):
    """≤ 3 students, k ≤ 10 capabilities: the merged frontier is exactly the brute force one,
    and every point's (candidate, mask) reproduces it."""
    cands = [Candidate(f"s{i}", base_c, base_l,
                       tuple(Choice(f"c{j}", *x) for j, x in enumerate(chs)))
             for i, (base_c, base_l, chs) in enumerate(raw)]
    merged = merge_candidates(cands, extra)
    assert [(c, lo) for c, lo, _, _ in merged] == brute_force_candidates(cands, extra)
    for cost, loss, i, mask in merged:
        if i >= len(cands):
            assert (cost, loss) == extra[i - len(cands)]
            continue
        cand = cands[i]
        bits = [(mask >> j) & 1 for j in range(len(cand.choices))]
        assert cost == cand.base_cost + sum(
            ch.consent_cost if b else ch.keep_cost for ch, b in zip(cand.choices, bits,
                                                                    strict=True))
        assert loss == cand.base_loss + sum(
            ch.consent_loss if b else ch.keep_loss for ch, b in zip(cand.choices, bits,
                                                                    strict=True))


def test_choice_says_when_the_model_and_router_change(capsys):
    """pro runs on o1 alone; the least loss under a 200 USD floor is llama-8b-distilled routed
    to o1, through the router pro borrows from plus (the file's 0.0002 USD, 2% misrouted)."""
    y = raw_yaml(DEFAULT)
    pro = next(t for t in y["tiers"] if t["id"] == "pro")
    plus = next(t for t in y["tiers"] if t["id"] == "plus")
    assert pro["plan"] == {"model": "o1"}
    r = plus["plan"]["route"]
    said = (f"pro: model o1 → llama-8b-distilled, routed to o1 (router "
            f"{r['router_usd_per_conversation']:g} USD/conversation, "
            f"{100 * r['router_error_rate']:.1f}% misrouted)")
    assert main(["frontier", str(DEFAULT), "--tier", "pro", "--target-floor", "200"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.endswith(f"; plan changes: {said}")
    assert main(["frontier", str(DEFAULT), "--tier", "pro", "--target-floor", "200",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # the floor the text says is the JSON's (one number through every door), under the target
    floor = out["choice"]["price_floor_usd_month"]
    assert 0 < floor <= 200
    assert last.startswith("choice: consent to lose creative_assist, code_help, factual_qa, "
                           f"math: floor {floor:.2f} USD/mo")
    assert out["choice_plan_change"] == said
    assert out["choice_plan"] == {"model": "llama-8b-distilled", "route": {
        "to": "o1", "capabilities": "unconsented",
        "router_usd_per_conversation": r["router_usd_per_conversation"],
        "router_error_rate": r["router_error_rate"]}}
    # under 5 USD plus keeps its model and route (llama-8b-distilled routed to GPT-4o); under
    # 20 it leaves both for GPT-4o alone
    assert main(["frontier", str(DEFAULT), "--tier", "plus", "--target-floor", "5"]) == 0
    assert capsys.readouterr().out.strip().endswith("; same model and route")
    assert main(["frontier", str(DEFAULT), "--tier", "plus", "--target-floor", "20"]) == 0
    assert capsys.readouterr().out.strip().endswith(
        "; plan changes: plus: model llama-8b-distilled → gpt-4o, no longer routed (was routed "
        "to gpt-4o)")


def test_plan_change_words():
    from econ.decisions.adoption import plan_change_words

    routed = Route(to="o1", router_usd_per_conversation=0.001, router_error_rate=0.05)
    alone = Plan(model="s")
    assert plan_change_words("t", alone, alone) is None
    assert plan_change_words("t", Plan(model="s", route=routed), alone) == (
        "t: no longer routed (was routed to o1)")
    assert plan_change_words("t", Plan(model="s", route=routed), Plan(
        model="s", route=routed.model_copy(update={"to": "gpt-4o"}))) == "t: route o1 → gpt-4o"
    assert plan_change_words("t", Plan(model="s", route=routed), Plan(
        model="m", route=routed)) == "t: model s → m, still routed to o1"
    assert plan_change_words("t", Plan(model="s", route=routed), Plan(
        model="s", route=routed.model_copy(update={"router_error_rate": 0.0}))) == (
        "t: router 0.001 USD/conversation, 5.0% misrouted → router 0.001 USD/conversation, "
        "0.0% misrouted")
    assert plan_change_words("t", Plan(model="s", route=routed), Plan(
        model="s", route=routed.model_copy(update={"capabilities": ["math"]}))) == (
        "t: routes math (was every unconsented capability)")
