"""Round-trip saves through YAML anchors, and tier ids that YAML 1.2 reads as numbers."""

from __future__ import annotations

from econ.model.loader import parse_scenario
from econ.scenario.edits import Edits, TierEdit, apply_to_yaml
from tests.conftest import BASIC as DEFAULT

PLUS_PLAN = """    plan:
      model: student
      route:
        to: teacher
        capabilities: unconsented  # what the team does not consent to lose goes to the teacher
        router_usd_per_conversation: 0.0002  # [assumption] a small classifier call
        router_error_rate: 0.02    # [assumption]
"""


def shared_plan_text() -> str:
    """The default scenario with the free tier's plan anchored and the plus tier aliasing it."""
    text = DEFAULT.read_text()
    assert PLUS_PLAN in text
    text = text.replace(PLUS_PLAN, "    plan: *shared\n")
    free_plan = "    plan:\n      model: student\n  - id: plus"
    assert free_plan in text
    return text.replace(free_plan, "    plan: &shared\n      model: student\n  - id: plus")


def test_an_edit_through_an_alias_changes_only_its_tier():
    text = shared_plan_text()
    loaded = parse_scenario(text, str(DEFAULT))
    plans = {t.id: t.plan for t in loaded.scenario.tiers}
    assert plans["free"] == plans["plus"]
    new_text = apply_to_yaml(text, loaded.scenario,
                             Edits(tiers={"plus": TierEdit(model="teacher")}))
    after = {t.id: t.plan for t in parse_scenario(new_text, str(DEFAULT)).scenario.tiers}
    assert after["plus"].model == "teacher"
    assert after["free"] == plans["free"]  # the other end of the alias is untouched
    # and the other way round: editing the anchored tier leaves the alias's tier alone
    new_text = apply_to_yaml(text, loaded.scenario,
                             Edits(tiers={"free": TierEdit(model="teacher")}))
    after = {t.id: t.plan for t in parse_scenario(new_text, str(DEFAULT)).scenario.tiers}
    assert after["free"].model == "teacher"
    assert after["plus"] == plans["plus"]


def test_an_edit_of_an_unaliased_tier_keeps_the_aliases():
    text = shared_plan_text()
    loaded = parse_scenario(text, str(DEFAULT))
    new_text = apply_to_yaml(text, loaded.scenario,
                             Edits(tiers={"pro": TierEdit(price_usd_month=250)}))
    assert "plan: &shared" in new_text and "plan: *shared" in new_text
    assert {t.id: t.price_usd_month for t in
            parse_scenario(new_text, str(DEFAULT)).scenario.tiers}["pro"] == 250


def test_numeric_looking_tier_ids_are_edited():
    text = DEFAULT.read_text()
    for old, new in (("  - id: plus\n", "  - id: 1e3\n"), ("  - id: pro\n", "  - id: 0o17\n")):
        assert old in text
        text = text.replace(old, new)
    loaded = parse_scenario(text, str(DEFAULT))
    assert [t.id for t in loaded.scenario.tiers] == ["free", "1e3", "0o17"]
    edits = Edits(tiers={"1e3": TierEdit(price_usd_month=25),
                         "0o17": TierEdit(price_usd_month=199)})
    new_text = apply_to_yaml(text, loaded.scenario, edits)
    reread = parse_scenario(new_text, str(DEFAULT)).scenario
    assert [t.id for t in reread.tiers] == ["free", "1e3", "0o17"]
    assert [t.price_usd_month for t in reread.tiers] == [0, 25, 199]
