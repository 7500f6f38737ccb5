"""A scenario needs a tier: one without is refused with a message (CLI exit 1, an error in the
app), and the Author tab cannot remove the last one; never "list index out of range"."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from econ.cli import main
from tests.conftest import DEFAULT, ROOT
from tests.test_authoring import NAME, author, remove

APP = str(ROOT / "app.py")


def without_tiers(text: str) -> str:
    head, _ = text.split("\ntiers:\n", 1)
    return head + "\ntiers: []\n"


def test_cli_refuses_a_scenario_without_tiers(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(without_tiers(DEFAULT.read_text()))
    for argv in (["validate", str(path)], ["evaluate", str(path)], ["record", str(path), "-o",
                                                                      str(tmp_path / "r")]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert f"{path}:" in err and "tiers" in err and "at least 1" in err, err
        assert "Traceback" not in err and "internal error" not in err
    assert not (tmp_path / "r").exists()


def test_app_shows_an_error_for_a_scenario_without_tiers(folder):
    (folder / NAME).write_text(without_tiers(DEFAULT.read_text()))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(e.value for e in at.error)
    assert "tiers" in shown and "at least 1" in shown, shown
    for tab in ("Frontier", "Consent & tiers", "Author"):
        at.session_state["tab"] = tab
        at.run()
        assert not at.exception, (tab, [e.value for e in at.exception])


def test_removing_every_tier_in_author_keeps_the_last_one(folder):
    at = author(AppTest.from_file(APP, default_timeout=60).run())
    at.radio(key=f"w|{NAME}|author|section").set_value("tiers").run()
    for tier in ("free", "plus", "pro"):
        remove(at, "tiers", tier)
        assert not at.exception, (tier, [e.value for e in at.exception])
    text = (folder / NAME).read_text()
    assert "id: pro" in text  # the last tier stays: the save was refused with a message
    assert "at least 1" in " ".join(e.value for e in at.error)
    for tab in ("Frontier", "Consent & tiers", "Uncertainty", "Export"):
        at.session_state["tab"] = tab
        at.run()
        assert not at.exception, (tab, [e.value for e in at.exception])
