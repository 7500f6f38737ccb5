"""The shared link's format: every editable field of every tier's plan goes out and comes back.

``econ.scenario.link`` without Streamlit: a scenario with the session's edits applied is
written as query parameters and reopened against the file as loaded; the reopened tiers are
the edited ones, field for field, and evaluate to the same figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.scenario.edits import Edits, TierEdit, apply_to_scenario
from econ.scenario.link import link_params, plan_params, read_link, reopen
from econ.scenario.schema import Scenario
from tests.conftest import DEFAULT, SELF_HOSTED

LOADED = {p: load_scenario(p) for p in (DEFAULT, SELF_HOSTED)}


def edited(path: Path, tier_index: int, **change: object) -> tuple[Scenario, Scenario]:
    s = LOADED[path].scenario
    t = s.tiers[tier_index]
    consent = change.pop("consent", None)
    e = TierEdit(teacher=s.tier_teacher(t), **change)  # type: ignore[arg-type]
    edits = Edits(tiers={t.id: e},
                  tier_consent={t.id: consent} if consent is not None else {})  # type: ignore[dict-item]
    return s, apply_to_scenario(s, edits)


def same_tiers(a: Scenario, b: Scenario) -> None:
    for x, y in zip(a.tiers, b.tiers, strict=True):
        assert x.price_usd_month == y.price_usd_month, x.id
        assert x.plan == y.plan, x.id
        assert a.tier_consent(x) == b.tier_consent(y), x.id
        assert a.tier_teacher(x) == b.tier_teacher(y), x.id


def floors(s: Scenario, path: Path) -> dict[str, tuple[float, float, float]]:
    ev = evaluate(s, LOADED[path].measured)
    return {t.economics.tier: (t.economics.cost_per_conversation_usd,
                               t.economics.cost_per_user_month_usd, t.loss_usd_month)
            for t in ev.tiers}


# every field the app lets a planning session change in a tier, one at a time
FIELDS = {
    "price": {"price_usd_month": 37.5},
    "consent": {"consent": ("creative_assist", "analysis")},
    "model": {"model": "gpt-4o-mini"},
    "route to": {"route_to": "o1"},
    "route removed": {"route_to": ""},
    "router": {"route_to": "o1", "router": (0.0011, 0.07)},
    "routed list": {"route_to": "o1", "routed": ("code_help", "math")},
    "everything": {"price_usd_month": 150.0, "model": "llama-8b-distilled", "route_to": "o1",
                   "router": (0.0003, 0.04), "routed": "unconsented",
                   "consent": ("creative_assist", "code_help", "factual_qa", "math")},
}


@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize("tier_index", [0, 1, 2])
def test_every_field_goes_out_and_comes_back(field, tier_index):
    change = dict(FIELDS[field])
    base, working = edited(DEFAULT, tier_index, **change)
    params = plan_params(working)
    back = reopen(base, params)
    same_tiers(back, working)
    assert floors(back, DEFAULT) == floors(working, DEFAULT)
    assert read_link(base, params).ignored == ()


@pytest.mark.parametrize("path", [DEFAULT, SELF_HOSTED])
def test_the_file_as_it_is_goes_out_and_comes_back(path):
    s = LOADED[path].scenario
    params = plan_params(s)
    for t in s.tiers:  # every tier, whole, even untouched
        assert {f"{k}.{t.id}" for k in ("consent", "price", "model", "route")} <= set(params)
    assert reopen(s, params) == s
    assert read_link(s, params).edits.tier_consent == {}


def test_the_adopted_pro_plan_is_spelled_out():
    """pro adopts llama-8b-distilled routed to o1 (the issue's example, floor 182.20)."""
    from econ.decisions.frontier import point_plan, tier_frontier

    loaded = LOADED[DEFAULT]
    ev = evaluate(loaded.scenario, loaded.measured)
    point = tier_frontier(ev, "pro").least_loss_within(200.0)
    assert point is not None and point.student == "llama-8b-distilled"
    plan = point_plan(ev, "pro", point)
    base, working = edited(DEFAULT, 2, model=plan.model, route_to=plan.route.to,
                           router=(plan.route.router_usd_per_conversation,
                                   plan.route.router_error_rate),
                           routed=plan.route.capabilities, consent=point.consent)
    params = link_params(working, "frontier-vs-distilled.yaml", "pro", {"pro": 200.0})
    assert params["model.pro"] == "llama-8b-distilled"
    assert params["route.pro"] == "o1"
    assert params["router.pro"] == "0.0002,0.02"  # plus's router, which the point was priced with
    assert params["routed.pro"] == "unconsented"
    assert params["consent.pro"] == "creative_assist,code_help,factual_qa,math"
    assert "target.pro" not in params  # the target equals the price: nothing to say
    assert params["scenario"] == "frontier-vs-distilled.yaml" and params["tier"] == "pro"
    back = evaluate(reopen(base, params), loaded.measured).tier("pro").economics
    assert back.price_floor_usd_month == pytest.approx(point.price_floor_usd_month, rel=1e-12)
    # the link before this fix held consent sets and prices only: pro reopened on o1 alone
    old = {k: v for k, v in params.items() if k.startswith(("consent.", "price."))}
    assert evaluate(reopen(base, old), loaded.measured).tier("pro").economics \
        .price_floor_usd_month > 800


def test_what_the_scenario_lacks_is_ignored_and_the_rest_opens():
    s = LOADED[DEFAULT].scenario
    link = read_link(s, {
        "tier": "gold", "model.pro": "gpt-5", "route.plus": "claude", "router.plus": "1,0.9",
        "routed.plus": "math,**bold**", "consent.free": "analysys,math", "price.pro": "-3",
        "price.plus": "nan", "target.plus": "abc", "consent.nope": "math", "colour": "red",
        "model.free": "gpt-4o-mini", "route.pro": "-", "price.free": "1e3"})
    assert link.ignored == (
        "tier 'gold'", "'model.pro': model 'gpt-5'", "'route.plus': model 'claude'",
        "'router.plus'='1,0.9' (not a router: USD per conversation,error rate at most 0.5)",
        "'routed.plus': capability '**bold**'", "'consent.free': capability 'analysys'",
        "'price.pro'='-3' (not a price)", "'price.plus'='nan' (not a price)",
        "'target.plus'='abc' (not a price)", "'consent.nope' (no tier 'nope')", "'colour'")
    assert link.tier is None
    assert link.edits.tier_consent == {"free": ("math",)}
    assert link.edits.tiers["free"].model == "gpt-4o-mini"
    assert link.edits.tiers["free"].price_usd_month == 1000.0
    assert link.edits.tiers["plus"].routed == ("math",)
    assert link.edits.tiers["pro"].route_to == ""
    assert "model" not in {k for k, v in vars(link.edits.tiers["pro"]).items() if v is not None}
    apply_to_scenario(s, link.edits)  # the rest applies


def test_a_long_or_hostile_value_is_quoted_short():
    s = LOADED[DEFAULT].scenario
    (said,) = read_link(s, {"model.pro": "x" * 5000 + "\n<script>"}).ignored
    assert said.startswith("'model.pro': model 'xxxx") and len(said) < 120
    assert "<script>" not in said


def test_a_plan_the_scenario_refuses_leaves_the_tier_its_own(monkeypatch):
    """Should the scenario refuse a tier's linked plan as a whole, that tier keeps its file's
    plan (its price and every other tier's plan still apply) and the link says so."""
    import econ.scenario.link as link_module

    s = LOADED[DEFAULT].scenario
    real = link_module.apply_to_scenario

    def refuse_pro_on_the_mini(scenario: Scenario, edits: Edits) -> Scenario:
        e = edits.tiers.get("pro")
        if e is not None and e.model == "gpt-4o-mini":
            raise ValueError("pro may not run on the mini")
        return real(scenario, edits)

    monkeypatch.setattr(link_module, "apply_to_scenario", refuse_pro_on_the_mini)
    link = read_link(s, {"model.pro": "gpt-4o-mini", "price.pro": "150",
                         "model.free": "gpt-4o-mini"})
    assert link.ignored == ("the plan of tier 'pro' (the scenario refuses it: "
                            "'pro may not run on the mini')",)
    assert link.edits.tiers["pro"].model is None
    assert link.edits.tiers["pro"].price_usd_month == 150.0
    assert link.edits.tiers["free"].model == "gpt-4o-mini"
