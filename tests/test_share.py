"""A shared link reopens the same view: scenario, tier, consent sets per tier, edited prices."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import ROOT, SCENARIOS

APP = str(ROOT / "app.py")
NAME = "self-hosted-llama.yaml"  # not the default: the link must pick it


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    dst = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, dst)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.setenv("ECON_SCENARIOS", str(dst))
    return dst


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
