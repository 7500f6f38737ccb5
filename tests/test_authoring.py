"""Authoring: new scenario from a template; add and remove capabilities, tiers and models,
validated with econ validate's messages and saved through the conflict-safe path."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from econ.base.errors import EconError, ScenarioError
from econ.model.loader import load_scenario, parse_scenario
from econ.scenario.authoring import add_item, from_template, remove_item
from tests.conftest import DEFAULT, ROOT, SCENARIOS

APP = str(ROOT / "app.py")
NAME = DEFAULT.name


def test_add_and_remove_keep_comments_and_validate():
    text = DEFAULT.read_text()
    new = add_item(text, "capabilities", "tables_in_pdfs",
                   {"traffic_share": 0.01, "severity_usd": 0.5})
    s = parse_scenario(new, "x.yaml", base_dir=SCENARIOS).scenario
    assert s.capabilities[-1].id == "tables_in_pdfs"
    assert s.capabilities[-1].traffic_share == 0.01
    # every comment line of the original is still there
    assert [x for x in text.splitlines() if x.lstrip().startswith("#")] == \
        [x for x in new.splitlines() if x.lstrip().startswith("#")]
    gone = remove_item(text, "capabilities", "code_help")
    s2 = parse_scenario(gone, "x.yaml", base_dir=SCENARIOS).scenario
    assert "code_help" not in {c.id for c in s2.capabilities}
    assert all("code_help" not in s2.tier_consent(t) for t in s2.tiers)  # left every consent
    with pytest.raises(EconError, match="exists already"):
        add_item(text, "tiers", "plus", {})
    with pytest.raises(EconError, match="no 'nope' to remove"):
        remove_item(text, "models", "nope")


def test_removing_a_model_in_use_is_reported_like_econ_validate():
    gone = remove_item(DEFAULT.read_text(), "models", "o1")
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(gone, NAME, base_dir=SCENARIOS)
    assert "o1" in str(exc.value) and f"{NAME}:" in str(exc.value)


def test_from_template_renames():
    s = parse_scenario(from_template(DEFAULT.read_text(), "my-plan"), "my-plan.yaml",
                       base_dir=SCENARIOS).scenario
    assert s.name == "my-plan"


def author(at: AppTest) -> AppTest:
    at.session_state["tab"] = "Author"
    at.run()
    assert not at.exception, at.exception
    return at


def test_app_adds_a_tier_removes_a_capability_and_creates_a_scenario(folder):
    at = author(AppTest.from_file(APP, default_timeout=60).run())
    at.radio(key=f"w|{NAME}|author|section").set_value("tiers").run()
    at.text_input(key=f"w|{NAME}|author|tiers|add|id").set_value("team").run()
    at.number_input(key=f"w|{NAME}|author|tiers|price").set_value(30.0).run()
    at.button(key=f"w|{NAME}|author|tiers|add").click().run()
    assert not at.error, [e.value for e in at.error]
    tiers = {t.id: t for t in load_scenario(folder / NAME).scenario.tiers}
    assert tiers["team"].price_usd_month == 30.0
    # removing a model a tier uses is refused with the loader's message; the file is unchanged
    before = (folder / NAME).read_text()
    at.radio(key=f"w|{NAME}|author|section").set_value("models").run()
    at.selectbox(key=f"w|{NAME}|author|models|remove|id").select("o1").run()
    at.button(key=f"w|{NAME}|author|models|rm").click().run()
    assert any("would not validate" in e.value and "o1" in e.value for e in at.error)
    assert (folder / NAME).read_text() == before
    # a colleague changes the file: an authoring save is refused, not merged over
    (folder / NAME).write_text(before.replace("name: frontier-vs-distilled",
                                              "name: frontier-vs-distilled-2"))
    at.radio(key=f"w|{NAME}|author|section").set_value("capabilities").run()
    at.selectbox(key=f"w|{NAME}|author|capabilities|remove|id").select("code_help").run()
    at.button(key=f"w|{NAME}|author|capabilities|rm").click().run()
    assert any("changed on disk" in e.value for e in at.error)
    assert "code_help" in (folder / NAME).read_text()
    # removing a capability that tiers consent to lose (the file is back as it was loaded)
    (folder / NAME).write_text(before)
    at.button(key="reload").click().run()
    author(at)
    at.radio(key=f"w|{NAME}|author|section").set_value("capabilities").run()
    at.selectbox(key=f"w|{NAME}|author|capabilities|remove|id").select("creative_assist").run()
    at.button(key=f"w|{NAME}|author|capabilities|rm").click().run()
    assert not at.error, [e.value for e in at.error]  # the app's consent sets let it go too
    assert "creative_assist" not in {c.id for c in
                                     load_scenario(folder / NAME).scenario.capabilities}
    # a new scenario from this one opens it
    at.text_input(key=f"w|{NAME}|new_name").set_value("my-plan").run()
    at.button(key=f"w|{NAME}|create").click().run()
    assert not at.error, [e.value for e in at.error]
    assert load_scenario(folder / "my-plan.yaml").scenario.name == "my-plan"
    assert at.selectbox(key="pick").value == "my-plan.yaml"
