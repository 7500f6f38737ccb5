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
