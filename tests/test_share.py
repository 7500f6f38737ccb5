"""A shared link reopens the same view: scenario, tier, and every tier's whole plan (consent
set, price, model, route, router, what is routed), plus the frontier's target floors."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import ROOT, unescaped

APP = str(ROOT / "app.py")
NAME = "self-hosted-llama.yaml"  # not the default: the link must pick it


def floors(at: AppTest) -> dict[str, float]:
    table = at.dataframe[0].value
    # a free tier has no floor: its cell is empty (NaN in the frame), None here as in econ
    return {t: None if pd.isna(f) else f
            for t, f in zip(table["tier"], table["price_floor_usd_month"], strict=True)}


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
    assert not [w for w in at.warning if "ignored" in w.value.lower()]  # nothing was refused


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
                 "consent.plus": "analysys", "price.pro": "-3", "consent.nope": "math",
                 "model.pro": "**gpt-5**", "route.plus": "[x](http://example.com)",
                 "model.free": "gpt-4o-mini"})
    assert any("The link named what this scenario does not have" in w.value for w in at.warning)
    # what the link said is shown as plain text (st.text), never as Markdown
    shown = "\n".join(t.value for t in at.text)
    for what in ("tier 'gold'", "capability 'analysys'", "'price.pro'='-3'",
                 "no tier 'nope'", "model '**gpt-5**'", "model '[x](http://example.com)'"):
        assert what in shown, shown
    assert not any("gpt-5" in m.value for m in at.markdown)
    assert not at.exception
    # the rest opened: free runs on the mini, as the link asked
    assert at.selectbox(key="w|frontier-vs-distilled.yaml|model|free").value == "gpt-4o-mini"
    assert at.selectbox(key="w|frontier-vs-distilled.yaml|model|pro").value == "o1"


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
            floor = t.economics.price_floor_usd_month  # None for a free tier (no floor)
            assert (pd.isna(row["floor_usd_month"]) if floor is None
                    else row["floor_usd_month"] == floor)
            assert row["cost_per_user_usd_month"] == t.economics.cost_per_user_month_usd
            assert row["loss_usd_month"] == t.loss_usd_month
            assert row["price_usd_month"] == t.economics.price_usd_month
    change = next(r for r in compare_plans(a, b) if r.tier == "plus")
    # by hand: the margin change in points is 100 × (B's margin − A's margin)
    pa = a.tier("plus").economics.gross_margin_at_price
    pb = b.tier("plus").economics.gross_margin_at_price
    assert change.margin_change_points == 100 * (pb - pa)
    shown = " ".join(unescaped(m.value) for m in at.markdown)
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


DEFAULT_NAME = "frontier-vs-distilled.yaml"


def tier_table(at: AppTest):
    return next(d.value for d in at.dataframe if "price_floor_usd_month" in d.value.columns)


def plan_state(at: AppTest, name: str, tiers: list[str]) -> dict[str, object]:
    """Every per-tier widget the app shows (price, model, route) and the consent sets. (The
    router and what is routed are held without a widget: a reopened session holds the file's
    values explicitly where the first held "the file's"; the link, compared whole, has both.)"""
    ss = at.session_state
    out: dict[str, object] = {}
    for t in tiers:
        for kind in ("price", "model", "route"):
            out[f"{kind}|{t}"] = ss[f"w|{name}|{kind}|{t}"]
        out[f"consent|{t}"] = tuple(ss[f"w|{name}|consent_sets"][t])
    return out


def _edit_consent(at: AppTest) -> str:
    at.checkbox(key=f"w|{DEFAULT_NAME}|consent|analysis").check().run()
    return "consent.plus"


def _edit_price(at: AppTest) -> str:
    at.number_input(key=f"w|{DEFAULT_NAME}|price|pro").set_value(180.0).run()
    return "price.pro"


def _edit_model(at: AppTest) -> str:
    at.selectbox(key=f"w|{DEFAULT_NAME}|model|free").select("gpt-4o-mini").run()
    return "model.free"


def _edit_route(at: AppTest) -> str:
    at.selectbox(key=f"w|{DEFAULT_NAME}|route|pro").select("gpt-4o").run()
    return "route.pro"


def _remove_route(at: AppTest) -> str:
    from econ.app.state import NO_ROUTE

    at.selectbox(key=f"w|{DEFAULT_NAME}|route|plus").select(NO_ROUTE).run()
    return "route.plus"


def _adopt_point(at: AppTest) -> str:
    """pro adopts the least-loss point under a 200 USD floor: llama-8b-distilled routed to o1
    through plus's router (router and what is routed come with the point)."""
    at.session_state["tab"] = "Frontier"
    at.run()
    at.selectbox(key=f"w|{DEFAULT_NAME}|ftier").select("pro").run()
    at.number_input(key=f"w|{DEFAULT_NAME}|target|pro").set_value(200.0).run()
    at.button(key=f"w|{DEFAULT_NAME}|tadopt|pro").click().run()
    at.session_state["tab"] = "Consent & tiers"
    at.run()
    return "router.pro"


def _set_target(at: AppTest) -> str:
    at.session_state["tab"] = "Frontier"
    at.run()
    at.number_input(key=f"w|{DEFAULT_NAME}|target|plus").set_value(15.0).run()
    at.session_state["tab"] = "Consent & tiers"
    at.run()
    return "target.plus"


EDITS = {"consent": _edit_consent, "price": _edit_price, "model": _edit_model,
         "route": _edit_route, "route removed": _remove_route,
         "adopted frontier point": _adopt_point, "frontier target": _set_target}


@pytest.mark.parametrize("field", list(EDITS))
def test_every_editable_field_round_trips_through_the_link(folder, field):
    """Change one field in the app; the URL it writes, opened in a new session, gives the same
    per-tier settings and the same tier table."""
    import pandas as pd

    at = opened({"scenario": DEFAULT_NAME})
    before = dict(at.query_params)
    key = EDITS[field](at)
    assert not at.exception, at.exception
    link = dict(at.query_params)
    assert link.get(key) != before.get(key), (key, before.get(key), link.get(key))
    tiers = list(tier_table(at)["tier"])
    again = opened(link)
    assert not [t for t in again.text if "'" in t.value]  # nothing ignored
    assert plan_state(again, DEFAULT_NAME, tiers) == plan_state(at, DEFAULT_NAME, tiers)
    pd.testing.assert_frame_equal(tier_table(again), tier_table(at))
    assert dict(again.query_params) == link  # and it writes the same link again
    if field == "frontier target":
        assert again.session_state[f"w|{DEFAULT_NAME}|target|plus"] == 15.0


def test_adopt_it_shows_the_adopted_point_and_says_the_plan_changed(folder):
    """After "Adopt it", the point list shows the adopted point, its button re-adopts the same
    plan (it used to undo the adoption), and the message says that the model and route
    changed."""
    from econ.decisions.frontier import tier_frontier

    at = opened({"scenario": DEFAULT_NAME})
    loaded = load_scenario(folder / DEFAULT_NAME)
    front = tier_frontier(evaluate(loaded.scenario, loaded.measured), "pro")
    best = front.least_loss_within(200.0)
    assert best is not None
    at.session_state["tab"] = "Frontier"
    at.run()
    at.selectbox(key=f"w|{DEFAULT_NAME}|ftier").select("pro").run()
    at.number_input(key=f"w|{DEFAULT_NAME}|target|pro").set_value(200.0).run()
    change = "pro: model o1 → llama-8b-distilled, routed to o1"
    # before adopting: what it changes
    assert change in " ".join(unescaped(s.value) for s in at.success)
    at.button(key=f"w|{DEFAULT_NAME}|tadopt|pro").click().run()
    shown = " ".join(unescaped(s.value) for s in at.success)
    assert f"Adopted into tier pro: consent to lose {', '.join(best.consent)}" in shown, shown
    assert f"plan changes: {change}" in shown, shown
    pick = at.selectbox(key=f"w|{DEFAULT_NAME}|fpick|pro")
    assert pick.index is not None and pick.options[pick.index].startswith(
        f"{best.price_floor_usd_month:,.2f} USD/mo floor · ") and "llama-8b-distilled routed" \
        in pick.options[pick.index]
    at.button(key=f"w|{DEFAULT_NAME}|fadopt|pro").click().run()  # adopts the same again
    assert "same model and route" in " ".join(unescaped(s.value) for s in at.success)
    at.session_state["tab"] = "Consent & tiers"
    at.run()
    assert floors(at)["pro"] == pytest.approx(best.price_floor_usd_month, rel=1e-12)
    assert at.selectbox(key=f"w|{DEFAULT_NAME}|model|pro").value == "llama-8b-distilled"
    assert at.selectbox(key=f"w|{DEFAULT_NAME}|route|pro").value == "o1"
