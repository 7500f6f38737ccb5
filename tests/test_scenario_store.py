from __future__ import annotations

import os

import pytest

from econ.base.errors import EconError
from econ.model.loader import parse_scenario
from econ.scenario.edits import Edits, TierEdit, apply_to_scenario, apply_to_yaml, edits_between
from econ.scenario.store import SaveConflict, safe_scenario_path, save_scenario_text
from tests.conftest import DEFAULT, SELF_HOSTED


@pytest.mark.parametrize("name", ["../escape.yaml", "/etc/passwd.yaml", "sub/x.yaml",
                                  ".hidden.yaml", "x.txt", "", "..", "a/../../b.yaml"])
def test_paths_never_escape_the_folder(tmp_path, name):
    with pytest.raises(EconError):
        safe_scenario_path(tmp_path, name)


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("x")
    folder = tmp_path / "scenarios"
    folder.mkdir()
    os.symlink(outside, folder / "link.yaml")
    with pytest.raises(EconError, match="resolves outside"):
        save_scenario_text(folder, "link.yaml", "y", "x")
    assert outside.read_text() == "x"


def test_save_conflict_and_new_file(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("a: 1\n")
    with pytest.raises(SaveConflict, match="changed on disk"):
        save_scenario_text(tmp_path, "s.yaml", "a: 2\n", "a: 0\n")
    assert p.read_text() == "a: 1\n"
    with pytest.raises(SaveConflict, match="already exists"):
        save_scenario_text(tmp_path, "s.yaml", "a: 2\n", None)
    save_scenario_text(tmp_path, "s.yaml", "a: 2\n", "a: 1\n")
    assert p.read_text() == "a: 2\n"
    save_scenario_text(tmp_path, "new.yaml", "b: 1\n", None)
    assert (tmp_path / "new.yaml").read_text() == "b: 1\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["new.yaml", "s.yaml"]


@pytest.mark.parametrize("path", [DEFAULT, SELF_HOSTED])
def test_no_edits_leave_the_text_unchanged(path):
    text = path.read_text()
    loaded = parse_scenario(text, str(path))
    assert apply_to_yaml(text, loaded.scenario, Edits()) == text
    assert apply_to_yaml(text, loaded.scenario, Edits(consent=tuple(loaded.scenario.consent))) \
        == text


def test_plan_edits_round_trip_through_yaml():
    text = DEFAULT.read_text()
    s = parse_scenario(text, str(DEFAULT)).scenario
    edits = Edits(consent=("math",), tiers={
        "free": TierEdit(route_to="o1", routed=("code_help",)),
        "plus": TierEdit(route_to="", price_usd_month=12.5),
        "pro": TierEdit(model="gpt-4o-mini", route_to="o1"),
    })
    new_text = apply_to_yaml(text, s, edits)
    reparsed = parse_scenario(new_text, "edited.yaml", base_dir=DEFAULT.parent).scenario
    assert reparsed == apply_to_scenario(s, edits)
    assert reparsed.tiers[0].plan.route is not None
    assert reparsed.tiers[0].plan.route.capabilities == ["code_help"]
    assert reparsed.tiers[1].plan.route is None and reparsed.tiers[1].price_usd_month == 12.5
    assert reparsed.tiers[2].plan.model == "gpt-4o-mini"
    assert edits_between(s, reparsed).consent == ("math",)
    assert apply_to_scenario(s, edits_between(s, reparsed)) == reparsed
    assert "# ChatGPT Pro, 200 USD/month (§5)" in new_text


def _line(text: str, start: str, occurrence: int = 0) -> str:
    return [ln.strip() for ln in text.splitlines() if ln.lstrip().startswith(start)][occurrence]


def test_a_saved_edit_never_leaves_a_comment_contradicting_its_value():
    """Issue 24: the comment at the end of an edited value's line spoke of the old value; it
    says it was edited and what the value was, and an edit back restores it. Comments on lines
    whose value did not change are kept as they were."""
    text = DEFAULT.read_text()
    s = parse_scenario(text, str(DEFAULT)).scenario
    edits = Edits(tiers={"plus": TierEdit(price_usd_month=25.0, route_to="o1")},
                  tier_consent={"pro": ("math", "analysis"), "plus": ("creative_assist",)})
    new = apply_to_yaml(text, s, edits)
    assert _line(new, "price_usd_month:", 1) == (
        "price_usd_month: 25            # edited, was 20: ChatGPT Plus and Claude Pro, "
        "20 USD/month (§5)")
    assert _line(new, "to:", 0).endswith(
        "# edited, was gpt-4o: what plus does not consent to lose goes to GPT-4o")
    assert _line(new, "consent:", 2).endswith(
        "# edited, was [creative_assist, factual_qa]: plus keeps code help and clarifying "
        "questions")
    # pro's empty list stays a one-line list, its comment no longer says "nothing"
    assert _line(new, "consent:", 3) == (
        "consent: [math, analysis]      # edited, was []: pro consents to lose nothing")
    # untouched lines keep their comments exactly
    for untouched in ("price_usd_month: 200           # ChatGPT Pro, 200 USD/month (§5)",
                      "users: 50000                   # 5% of free users pay"):
        assert untouched in new
    # every line of the new text is the old one or an edited one that says so
    changed = set(new.splitlines()) - set(text.splitlines())
    assert all("# edited, was " in ln for ln in changed if "#" in ln), changed
    # edited again: the comment keeps the first value; edited back, it is restored
    s2 = parse_scenario(new, "x.yaml", base_dir=DEFAULT.parent).scenario
    again = apply_to_yaml(new, s2, Edits(tiers={"plus": TierEdit(price_usd_month=30.0)}))
    assert "price_usd_month: 30            # edited, was 20: ChatGPT Plus" in again
    s3 = parse_scenario(again, "x.yaml", base_dir=DEFAULT.parent).scenario
    back = apply_to_yaml(again, s3, Edits(tiers={"plus": TierEdit(price_usd_month=20.0)}))
    assert _line(back, "price_usd_month:", 1) == _line(text, "price_usd_month:", 1)
