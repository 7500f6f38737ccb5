"""A shared link reopens the same view: scenario, tier, consent sets per tier, edited prices."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
NAME = "self-hosted-llama.yaml"  # not the default: the link must pick it


def floors(at: AppTest) -> dict[str, float]:
    table = at.dataframe[0].value
    return dict(zip(table["tier"], table["price_floor_usd_month"], strict=True))


def opened(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_link_reopens_scenario_tier_consent_and_prices(folder):
    loaded = load_scenario(folder / NAME)
    s = loaded.scenario
    free, team = s.tiers[0].id, s.tiers[1].id
    at = opened({"scenario": NAME, "tier": free, f"consent.{free}": "analysis,math",
                 f"price.{team}": "12.5"})
    assert at.selectbox(key="pick").value == NAME
    assert at.selectbox(key=f"w|{NAME}|ctier").value == free
    ticked = {c.key.split("|")[-1] for c in at.checkbox if c.value}
    assert ticked == {"analysis", "math"}
    tiers = [t.model_copy(update={"price_usd_month": 12.5}) if t.id == team else t
             for t in s.tiers]
    ev = evaluate(s.model_copy(update={"tiers": tiers}), loaded.measured,
                  consent={free: ["analysis", "math"]})
    assert floors(at) == {t.economics.tier: t.economics.price_floor_usd_month for t in ev.tiers}
    assert not [w for w in at.warning if "ignored" in w.value]  # nothing was refused


def test_the_url_follows_a_tick_and_a_price(folder):
    at = opened({"scenario": NAME})
    s = load_scenario(folder / NAME).scenario
    shown = at.selectbox(key=f"w|{NAME}|ctier").value
    tier = next(t for t in s.tiers if t.id == shown)
    box = next(c.id for c in s.capabilities if c.id not in s.tier_consent(tier))
    at.checkbox(key=f"w|{NAME}|consent|{box}").check().run()
    assert box in at.query_params[f"consent.{shown}"].split(",")
    assert at.query_params["scenario"] == NAME
    at.number_input(key=f"w|{NAME}|price|{shown}").set_value(33.25).run()
    assert at.query_params[f"price.{shown}"] == "33.25"
    # the link it wrote reopens the same floors in a new session
    again = opened(dict(at.query_params))
    assert floors(again) == floors(at)


def test_a_link_with_unknown_names_opens_the_rest_and_says_so(folder):
    at = opened({"scenario": "frontier-vs-distilled.yaml", "tier": "gold",
                 "consent.plus": "analysys", "price.pro": "-3", "consent.nope": "math"})
    shown = " ".join(w.value for w in at.warning)
    for what in ("tier 'gold'", "capability 'analysys'", "price.pro='-3'", "no tier 'nope'"):
        assert what in shown, shown
    assert not at.exception


def test_ab_plans_side_by_side(folder):
    """Pin A, change a tick and a price: the A/B table holds econ's own figures for both plans,
    and the changes read in USD and percentage points."""
    from econ.decisions.ab import compare_plans

    name = "frontier-vs-distilled.yaml"
    at = opened({"scenario": name})
    at.session_state["tab"] = "A/B plans"
    at.run()
    assert any("Pin the current" in i.value for i in at.info)
    at.button(key=f"w|{name}|pin").click().run()
    at.session_state["tab"] = "Consent & tiers"
    at.run()
    at.checkbox(key=f"w|{name}|consent|analysis").check().run()
    at.number_input(key=f"w|{name}|price|plus").set_value(25.0).run()
    at.session_state["tab"] = "A/B plans"
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "plan" in d.value.columns
                 and set(d.value["plan"]) == {"A", "B"})
    loaded = load_scenario(folder / name)
    s = loaded.scenario
    a = evaluate(s, loaded.measured)
    plus = next(t for t in s.tiers if t.id == "plus")
    tiers = [t.model_copy(update={"price_usd_month": 25.0}) if t.id == "plus" else t
             for t in s.tiers]
    consent = [c.id for c in s.capabilities if c.id in {*s.tier_consent(plus), "analysis"}]
    b = evaluate(s.model_copy(update={"tiers": tiers}), loaded.measured,
                 consent={"plus": consent})
    got = {(r["tier"], r["plan"]): r for r in table.to_dict("records")}
    for ev, plan in ((a, "A"), (b, "B")):
        for t in ev.tiers:
            row = got[(t.economics.tier, plan)]
            assert row["floor_usd_month"] == t.economics.price_floor_usd_month
            assert row["loss_usd_month"] == t.loss_usd_month
            assert row["price_usd_month"] == t.economics.price_usd_month
    change = next(r for r in compare_plans(a, b) if r.tier == "plus")
    # by hand: the margin change in points is 100 × (B's margin − A's margin)
    pa = a.tier("plus").economics.gross_margin_at_price
    pb = b.tier("plus").economics.gross_margin_at_price
    assert change.margin_change_points == 100 * (pb - pa)
    shown = " ".join(m.value for m in at.markdown)
    assert f"**plus**: floor {change.floor_change_usd_month:+,.2f} USD/mo" in shown
    assert f"margin {100 * (pb - pa):+.1f} pp" in shown
    # with the Monte Carlo: P(margin ≥ target) of each plan, as econ's simulate gives it
    from econ.decisions.uncertainty import simulate

    at.session_state[f"w|{name}|draws"] = 1000
    at.checkbox(key=f"w|{name}|ab_mc").check().run()
    table = next(d.value for d in at.dataframe if "plan" in d.value.columns
                 and set(d.value["plan"]) == {"A", "B"})
    p_b = {r.tier: r.p_margin_meets_target for r in simulate(b, loaded.measured, 1000, 0)}
    got = {(r["tier"], r["plan"]): r for r in table.to_dict("records")}
    assert got[("plus", "B")]["p_meets_target"] == p_b["plus"]
