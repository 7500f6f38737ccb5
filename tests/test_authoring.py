"""Authoring: new scenario from a template; add and remove capabilities, tiers and models,
validated with econ validate's messages and saved through the conflict-safe path."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from econ.base.errors import EconError, ScenarioError
from econ.model.loader import load_scenario, parse_scenario
from econ.scenario.authoring import add_item, from_template, removal_summary, remove_item
from tests.conftest import DEFAULT, ROOT, SCENARIOS, unescaped

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


def remove(at: AppTest, section: str, item: str) -> AppTest:
    """Pick, ask, confirm: the three steps of a removal in the Author tab."""
    at.selectbox(key=f"w|{NAME}|author|{section}|remove|id").select(item).run()
    at.button(key=f"w|{NAME}|author|{section}|rm").click().run()
    return at.button(key=f"w|{NAME}|author|confirm").click().run()


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
    remove(at, "models", "o1")
    assert any("would not validate" in e.value and "o1" in e.value for e in at.error)
    assert (folder / NAME).read_text() == before
    # a colleague changes the file: an authoring save is refused, not merged over
    (folder / NAME).write_text(before.replace("name: frontier-vs-distilled",
                                              "name: frontier-vs-distilled-2"))
    at.radio(key=f"w|{NAME}|author|section").set_value("capabilities").run()
    remove(at, "capabilities", "code_help")
    assert any("changed on disk" in e.value for e in at.error)
    assert "code_help" in (folder / NAME).read_text()
    # removing a capability that tiers consent to lose (the file is back as it was loaded)
    (folder / NAME).write_text(before)
    at.button(key="reload").click().run()
    author(at)
    at.radio(key=f"w|{NAME}|author|section").set_value("capabilities").run()
    remove(at, "capabilities", "creative_assist")
    assert not at.error, [e.value for e in at.error]  # the app's consent sets let it go too
    assert "creative_assist" not in {c.id for c in
                                     load_scenario(folder / NAME).scenario.capabilities}
    # a new scenario from this one opens it
    at.text_input(key=f"w|{NAME}|new_name").set_value("my-plan").run()
    at.button(key=f"w|{NAME}|create").click().run()
    assert not at.error, [e.value for e in at.error]
    assert load_scenario(folder / "my-plan.yaml").scenario.name == "my-plan"
    assert at.selectbox(key="pick").value == "my-plan.yaml"


def test_removal_summary_names_share_and_consent_sets():
    s = load_scenario(DEFAULT).scenario
    cap = removal_summary(s, "capabilities", "creative_assist")
    assert cap[0].startswith("Capability creative_assist: 58.6% of the traffic")
    assert cap[1] == "It leaves the consent sets of free, plus and the default consent set."
    assert removal_summary(s, "capabilities", "legacy_csv_input")[1] == "It is in no consent set."
    # plus: 50,000 × 126 of 1,000,000 × 42 + 50,000 × 126 + 5,000 × 462 conversations
    share = 50_000 * 126 / (1_000_000 * 42 + 50_000 * 126 + 5_000 * 462)
    tier = removal_summary(s, "tiers", "plus")
    assert f"{100 * share:.1f}% of the scenario's conversations" in tier[0]
    assert tier[1] == "Its consent set goes with it: creative_assist, factual_qa."
    model = removal_summary(s, "models", "o1")
    assert "tier pro's plan" in model[2] and "the reference" in model[2]
    with pytest.raises(EconError, match="no 'nope'"):
        removal_summary(s, "tiers", "nope")


def test_removing_a_model_takes_its_eval_results_along():
    gone = remove_item(DEFAULT.read_text(), "models", "gpt-4o-mini")
    with pytest.raises(ScenarioError) as exc:  # free's baseline still names it
        parse_scenario(gone, NAME, base_dir=SCENARIOS)
    assert "baseline.model" in str(exc.value) and "evals" not in str(exc.value)


def test_a_removal_asks_first_picks_nothing_and_can_be_undone(folder):
    at = author(AppTest.from_file(APP, default_timeout=60).run())
    picker = f"w|{NAME}|author|capabilities|remove|id"
    before = (folder / NAME).read_text()
    # nothing picked, the button waits for a pick
    assert at.selectbox(key=picker).value is None
    assert at.button(key=f"w|{NAME}|author|capabilities|rm").disabled
    at.selectbox(key=picker).select("clarifying_questions").run()
    at.button(key=f"w|{NAME}|author|capabilities|rm").click().run()
    # asked, not done: the question names the share and the consent sets it leaves
    assert (folder / NAME).read_text() == before
    question = next(unescaped(w.value) for w in at.warning
                    if "Remove clarifying_questions" in unescaped(w.value))
    assert "2.5% of the traffic" in question and "consent sets of free" in question
    # cancel: nothing happens
    at.button(key=f"w|{NAME}|author|cancel").click().run()
    assert not any("Remove clarifying_questions" in unescaped(w.value) for w in at.warning)
    assert (folder / NAME).read_text() == before
    # confirm: removed and saved, the picker does not move on to the next capability
    remove(at, "capabilities", "clarifying_questions")
    assert not at.error, [e.value for e in at.error]
    assert "clarifying_questions" not in {
        c.id for c in load_scenario(folder / NAME).scenario.capabilities}
    assert at.selectbox(key=picker).value is None
    # undo: the file is back as it was, byte for byte
    at.button(key=f"w|{NAME}|author|undo").click().run()
    assert not at.error, [e.value for e in at.error]
    assert (folder / NAME).read_text() == before
    assert any("Undone" in x.value for x in at.success)
