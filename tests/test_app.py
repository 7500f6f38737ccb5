"""The Streamlit app, driven headless with AppTest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from econ.decisions.frontier import tier_frontier
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import ROOT, SCENARIOS

APP = str(ROOT / "app.py")


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A scratch copy of scenarios/ the app may write to."""
    dst = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, dst)
    shutil.copytree(ROOT / "data" / "benchmarks", tmp_path / "data" / "benchmarks")
    monkeypatch.setenv("ECON_SCENARIOS", str(dst))
    return dst


def start(folder: Path, name: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if name is not None:
        at.selectbox(key="pick").select(name).run()
    assert not at.exception, at.exception
    return at


def consent_box(at: AppTest, source: str, cap: str):
    return at.checkbox(key=f"w|{source}|consent|{cap}")


def floors(at: AppTest) -> dict[str, float]:
    table = at.dataframe[0].value
    return dict(zip(table["tier"], table["price_floor_usd_month"], strict=True))


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.yaml")))
def test_app_runs_on_every_scenario(folder, name):
    at = start(folder, name)
    assert not at.error
    labels = [m.label for m in at.metric]
    assert any("USD/conv." in label for label in labels)
    assert at.warning, "unmeasured traffic must be warned about"
    assert len(at.checkbox) == len(load_scenario(folder / name).scenario.capabilities)
    # the candidates table, as econ evaluate computes it
    loaded = load_scenario(folder / name)
    ev = evaluate(loaded.scenario, loaded.measured)
    shown = next(d.value for d in at.dataframe if "role" in d.value.columns)
    assert list(shown["model"]) == list(loaded.scenario.models)
    from econ.decisions.candidates import candidates_table

    for row, cand in zip(shown.itertuples(), candidates_table(ev), strict=True):
        assert row.cost_per_conversation_usd == cand.cost_per_conversation_usd
        for tier, floor in cand.tier_floors_usd_month.items():
            assert getattr(row, f"floor_{tier}_usd_month") == floor


def test_ticking_consent_gives_exactly_econs_floors(folder):
    name = "frontier-vs-distilled.yaml"
    at = start(folder)
    loaded = load_scenario(folder / name)
    before = floors(at)
    base = evaluate(loaded.scenario, loaded.measured)
    assert before == {t.economics.tier: t.economics.price_floor_usd_month for t in base.tiers}
    # the ticks act on the tier selected in the app: plus by default
    assert at.selectbox(key=f"w|{name}|ctier").value == "plus"
    consent_box(at, name, "analysis").check().run()
    consent_box(at, name, "code_help").check().run()
    consent_box(at, name, "factual_qa").uncheck().run()
    assert not at.exception
    ev = evaluate(loaded.scenario, loaded.measured,
                  consent={"plus": ["creative_assist", "analysis", "code_help"]})
    after = floors(at)
    assert after == {t.economics.tier: t.economics.price_floor_usd_month for t in ev.tiers}
    assert after["plus"] < before["plus"]
    assert (after["free"], after["pro"]) == (before["free"], before["pro"])
    shown = " ".join(m.value for m in at.markdown)
    assert f"price floor **{after['plus']:,.2f} USD/month**" in shown
    # another tier: the ticks show its own consent set, and act on it alone
    at.selectbox(key=f"w|{name}|ctier").select("free").run()
    ticked = {c.key.split("|")[-1] for c in at.checkbox if c.value}
    assert ticked == set(loaded.scenario.tiers[0].consent)
    consent_box(at, name, "analysis").check().run()
    ev = evaluate(loaded.scenario, loaded.measured, consent={
        "plus": ["creative_assist", "analysis", "code_help"],
        "free": [*loaded.scenario.tiers[0].consent, "analysis"]})
    assert floors(at) == {t.economics.tier: t.economics.price_floor_usd_month for t in ev.tiers}
    # back to plus: its edited ticks are still there
    at.selectbox(key=f"w|{name}|ctier").select("plus").run()
    ticked = {c.key.split("|")[-1] for c in at.checkbox if c.value}
    assert ticked == {"creative_assist", "analysis", "code_help"}


def test_frontier_point_adoption(folder):
    name = "frontier-vs-distilled.yaml"
    at = start(folder)
    before = floors(at)
    loaded = load_scenario(folder / name)
    front = tier_frontier(evaluate(loaded.scenario, loaded.measured), "plus")
    at.selectbox(key=f"w|{name}|fpick|plus").select(0).run()
    at.button(key=f"w|{name}|fadopt|plus").click().run()
    assert not at.exception
    ticked = {c.key.split("|")[-1] for c in at.checkbox if c.value}
    assert ticked == set(front.points[0].consent)
    after = floors(at)
    # adopted into its own tier only, at the point's floor
    assert after["plus"] == pytest.approx(front.points[0].price_floor_usd_month, rel=1e-12)
    table = at.dataframe[0].value
    loss = dict(zip(table["tier"], table["capability_loss_usd_month"], strict=True))
    assert loss["plus"] == pytest.approx(front.points[0].loss_usd_month, rel=1e-9)
    assert dict(zip(table["tier"], table["teacher"], strict=True))["plus"] == front.teacher
    assert (after["free"], after["pro"]) == (before["free"], before["pro"])


def test_routed_point_adopted_into_a_tier_without_a_router(folder):
    """free has no router of its own: its routed points borrow plus's, and adopting one gives
    free exactly the point's floor and loss (the router comes with the point)."""
    name = "frontier-vs-distilled.yaml"
    at = start(folder)
    before = floors(at)
    loaded = load_scenario(folder / name)
    front = tier_frontier(evaluate(loaded.scenario, loaded.measured), "free")
    i, point = next((i, p) for i, p in enumerate(front.points) if p.routed and p.student)
    at.selectbox(key=f"w|{name}|ftier").select("free").run()
    at.selectbox(key=f"w|{name}|fpick|free").select(i).run()
    at.button(key=f"w|{name}|fadopt|free").click().run()
    assert not at.exception
    after = floors(at)
    assert after["free"] == pytest.approx(point.price_floor_usd_month, rel=1e-12)
    table = at.dataframe[0].value
    loss = dict(zip(table["tier"], table["capability_loss_usd_month"], strict=True))
    assert loss["free"] == pytest.approx(point.loss_usd_month, rel=1e-9)
    assert (after["plus"], after["pro"]) == (before["plus"], before["pro"])


def test_bad_scenario_shows_error_not_exception(folder):
    good = (folder / "frontier-vs-distilled.yaml").read_text()
    (folder / "broken.yaml").write_text(good.replace("  turns: 5 ", "  turns: five "))
    at = start(folder, "broken.yaml")
    assert not at.exception
    assert at.error
    lines = (folder / "broken.yaml").read_text().splitlines()
    line = next(i for i, x in enumerate(lines, 1) if x.startswith("  turns: five"))
    assert f"broken.yaml:{line}: conversation.turns: input should be a valid integer" in \
        at.error[0].value
    # the app stays usable: pick a good scenario again
    at.selectbox(key="pick").select("self-hosted-llama.yaml").run()
    assert not at.exception and not at.error


def test_save_round_trips_comments(folder):
    name = "frontier-vs-distilled.yaml"
    path = folder / name
    original = path.read_text()
    at = start(folder)
    consent_box(at, name, "analysis").check().run()
    at.number_input(key=f"w|{name}|price|plus").set_value(25.0).run()
    at.button(key=f"w|{name}|save").click().run()
    assert not at.exception and not at.error
    saved = path.read_text()
    assert "    consent: [creative_assist, analysis, factual_qa] # plus keeps code help" in saved
    assert "    price_usd_month: 25            # ChatGPT Plus and Claude Pro" in saved
    # every comment survives, and nothing else moved
    comments = [line.split("#", 1)[1] for line in original.splitlines() if "#" in line]
    assert comments == [line.split("#", 1)[1] for line in saved.splitlines() if "#" in line]
    changed = [(a, b) for a, b in zip(original.splitlines(), saved.splitlines(), strict=True)
               if a != b]
    assert len(changed) == 2
    reloaded = load_scenario(path).scenario
    assert reloaded.tiers[1].consent == ["creative_assist", "analysis", "factual_qa"]
    assert reloaded.consent == ["creative_assist", "factual_qa"]  # the default is untouched
    assert any("Saved scenarios/" in s.value for s in at.success)


def test_save_refuses_when_file_changed_on_disk(folder):
    name = "frontier-vs-distilled.yaml"
    path = folder / name
    at = start(folder)
    other = path.read_text().replace("name: frontier-vs-distilled",
                                     "name: frontier-vs-distilled-edited-elsewhere")
    path.write_text(other)
    consent_box(at, name, "analysis").check().run()
    at.button(key=f"w|{name}|save").click().run()
    assert not at.exception
    assert "changed on disk since it was loaded" in at.error[0].value
    assert path.read_text() == other
    # the edit is kept in the app
    assert consent_box(at, name, "analysis").value is True


def test_preview_shows_diff(folder):
    name = "frontier-vs-distilled.yaml"
    at = start(folder)
    consent_box(at, name, "code_help").check().run()
    at.button(key=f"w|{name}|preview").click().run()
    diff = at.code[0].value
    assert "-    consent: [creative_assist, factual_qa]   # plus keeps" in diff
    assert "+    consent: [creative_assist, code_help, factual_qa] # plus keeps" in diff


def test_compare_with_revision(folder):
    import subprocess

    root = folder.parent
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "HOME": str(root), "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)
    name = "frontier-vs-distilled.yaml"
    at = start(folder)
    consent_box(at, name, "code_help").check().run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "Inputs changed since `HEAD`: 1" in shown
    inputs = at.dataframe[-2].value
    assert list(inputs["input"]) == ["tiers[plus].consent"]
    outputs = at.dataframe[-1].value
    assert "tiers.plus.price_floor" in set(outputs["output"])
    at.text_input(key=f"w|{name}|rev").set_value("no-such-rev").run()
    assert any("no-such-rev: unknown revision" in e.value for e in at.error)
