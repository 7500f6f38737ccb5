"""The Streamlit app, driven headless with AppTest."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from econ.decisions.frontier import tier_frontier
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import ROOT, SCENARIOS, unescaped

APP = str(ROOT / "app.py")


def start(folder: Path, name: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if name is not None:
        at.selectbox(key="pick").select(name).run()
    assert not at.exception, at.exception
    return at


def open_tab(at: AppTest, label: str) -> AppTest:
    """Switch tabs (the app computes only the open tab)."""
    at.session_state["tab"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def other_charts(at: AppTest) -> list[object]:
    """The charts drawn besides the consent tab's own (each capability's drop)."""
    return [c for c in at.get("vega_lite_chart")
            if "retention" not in [d.name for d in c.proto.datasets]]


def consent_box(at: AppTest, source: str, cap: str):
    return at.checkbox(key=f"w|{source}|consent|{cap}")


def floors(at: AppTest) -> dict[str, float]:
    table = at.dataframe[0].value
    # a free tier has no floor: its cell is empty (NaN in the frame), None here as in econ
    return {t: None if pd.isna(f) else f
            for t, f in zip(table["tier"], table["price_floor_usd_month"], strict=True)}


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
            if floor is None:  # a free tier has a cost per user, no floor
                assert not hasattr(row, f"floor_{tier}_usd_month")
                assert getattr(row, f"cost_per_user_{tier}_usd_month") == \
                    cand.tier_costs_per_user_month_usd[tier]
            else:
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
    open_tab(at, "Frontier")
    at.selectbox(key=f"w|{name}|fpick|plus").select(0).run()
    at.button(key=f"w|{name}|fadopt|plus").click().run()
    assert not at.exception
    open_tab(at, "Consent & tiers")  # the ticks were kept while their tab was hidden
    ticked = {c.key.split("|")[-1] for c in at.checkbox if c.value}
    assert ticked == set(front.points[0].consent)
    after = floors(at)
    # adopted into its own tier only, at the point's floor
    assert after["plus"] == pytest.approx(front.points[0].price_floor_usd_month, rel=1e-12)
    table = at.dataframe[0].value
    loss = dict(zip(table["tier"], table["capability_loss_usd_month"], strict=True))
    assert loss["plus"] == pytest.approx(front.points[0].loss_usd_month, rel=1e-9)
    details = at.dataframe[1].value  # "More columns": plan, teacher, consent
    assert dict(zip(details["tier"], details["teacher"], strict=True))["plus"] == front.teacher
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
    open_tab(at, "Frontier")
    at.selectbox(key=f"w|{name}|ftier").select("free").run()
    at.selectbox(key=f"w|{name}|fpick|free").select(i).run()
    at.button(key=f"w|{name}|fadopt|free").click().run()
    assert not at.exception
    open_tab(at, "Consent & tiers")
    after = floors(at)
    assert after["free"] is None is point.price_floor_usd_month  # free: no floor
    table = at.dataframe[0].value
    per_user = dict(zip(table["tier"], table["cost_per_user_month_usd"], strict=True))
    assert per_user["free"] == pytest.approx(point.cost_per_user_month_usd, rel=1e-12)
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
    open_tab(at, "Export & save")
    at.button(key=f"w|{name}|save").click().run()
    assert not at.exception and not at.error
    saved = path.read_text()
    assert ("    consent: [creative_assist, analysis, factual_qa] # edited, was [creative_assist, "
            "factual_qa]: plus keeps code help") in saved
    assert "    price_usd_month: 25            # edited, was 20: ChatGPT Plus and Claude" in saved
    # every comment survives (an edited value's says so), and nothing else moved
    comments = [line.split("#", 1)[1] for line in original.splitlines() if "#" in line]
    assert comments == [re.sub(r"^ edited, was .*?: ", " ", line.split("#", 1)[1])
                        for line in saved.splitlines() if "#" in line]
    changed = [(a, b) for a, b in zip(original.splitlines(), saved.splitlines(), strict=True)
               if a != b]
    assert len(changed) == 2
    reloaded = load_scenario(path).scenario
    assert reloaded.tiers[1].consent == ["creative_assist", "analysis", "factual_qa"]
    assert reloaded.consent == ["creative_assist", "factual_qa"]  # the default is untouched
    assert any("Saved scenarios/" in s.value for s in at.success)
    # the downloads drawn in the run of the save already see the saved file
    assert any('"Unsaved edits: no"' in c.value for c in at.caption)
    assert not any('"Unsaved edits: yes"' in c.value for c in at.caption)


def test_downloads_say_unsaved_until_the_save(folder):
    name = "frontier-vs-distilled.yaml"
    at = start(folder)
    open_tab(at, "Export & save")
    assert any('"Unsaved edits: no"' in c.value for c in at.caption)
    at.session_state[f"w|{name}|price|plus"] = 25.0
    at.run()
    assert any('"Unsaved edits: yes"' in c.value for c in at.caption)
    at.button(key=f"w|{name}|save").click().run()
    assert any('"Unsaved edits: no"' in c.value for c in at.caption)


def test_save_refuses_when_file_changed_on_disk(folder):
    name = "frontier-vs-distilled.yaml"
    path = folder / name
    at = start(folder)
    other = path.read_text().replace("name: frontier-vs-distilled",
                                     "name: frontier-vs-distilled-edited-elsewhere")
    path.write_text(other)
    consent_box(at, name, "analysis").check().run()
    open_tab(at, "Export & save")
    at.button(key=f"w|{name}|save").click().run()
    assert not at.exception
    assert "changed on disk since it was loaded" in at.error[0].value
    assert path.read_text() == other
    # the edit is kept in the app
    open_tab(at, "Consent & tiers")
    assert consent_box(at, name, "analysis").value is True


def test_preview_shows_diff(folder):
    name = "frontier-vs-distilled.yaml"
    at = start(folder)
    consent_box(at, name, "code_help").check().run()
    open_tab(at, "Export & save")
    at.button(key=f"w|{name}|preview").click().run()
    diff = at.code[0].value
    assert "-    consent: [creative_assist, factual_qa]   # plus keeps" in diff
    assert ("+    consent: [creative_assist, code_help, factual_qa] # edited, was "
            "[creative_assist, factual_qa]: plus keeps") in diff


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
    open_tab(at, "Compare with revision")
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "Inputs changed since `HEAD`: 1" in shown
    inputs = at.dataframe[-2].value
    assert list(inputs["Input"]) == ["tiers[plus].consent"]
    # a list shows as words, never as a Python repr
    loaded = load_scenario(folder / name)
    plus = next(t for t in loaded.scenario.tiers if t.id == "plus")
    was = list(loaded.scenario.tier_consent(plus))
    now = [c.id for c in loaded.scenario.capabilities if c.id in {*was, "code_help"}]
    assert inputs["Before"][0] == ", ".join(was)
    assert inputs["After"][0] == ", ".join(now)
    outputs = at.dataframe[-1].value
    assert "tiers.plus.price_floor" in set(outputs["Output"])
    # a margin moves in percentage points, computed here from econ's own evaluations
    loaded = load_scenario(folder / name)
    old = evaluate(loaded.scenario, loaded.measured)
    new = evaluate(loaded.scenario, loaded.measured, consent={"plus": now})
    margin = dict(zip(outputs["Output"], outputs["Change"], strict=True))[
        "tiers.plus.gross_margin_at_price"]
    pp = 100 * (new.tiers[1].economics.gross_margin_at_price
                - old.tiers[1].economics.gross_margin_at_price)
    assert margin == f"{pp:+.1f} pp"
    rel = dict(zip(outputs["Output"], outputs["Relative change"], strict=True))
    assert rel["tiers.plus.gross_margin_at_price"] == "—"
    assert not any("[" in str(v) for v in inputs[["Before", "After"]].to_numpy().ravel())
    at.text_input(key=f"w|{name}|rev").set_value("no-such-rev").run()
    assert any("no-such-rev: unknown revision" in unescaped(e.value) for e in at.error)


def test_sources_expander_shows_the_cited_sections(folder):
    at = start(folder)
    exp = [e for e in at.expander if e.label == "Sources"]
    assert exp, "a Sources expander"
    text = "\n".join(m.value for m in exp[0].markdown)
    assert "§3 API prices" in text and "cited here" in text
    assert "This scenario cites §" in exp[0].caption[0].value


def test_reload_after_refused_save_keeps_the_colleagues_change(folder):
    """The issue's sequence: a colleague sets pro to 190 on disk; a save is refused; reload and
    save must keep 190 (it went back to the old price) and keep my own edit."""
    name = "frontier-vs-distilled.yaml"
    path = folder / name
    at = start(folder)
    consent_box(at, name, "analysis").check().run()
    theirs = path.read_text().replace("    price_usd_month: 200 ", "    price_usd_month: 190 ")
    assert theirs != path.read_text()
    path.write_text(theirs)
    open_tab(at, "Export & save")
    at.button(key=f"w|{name}|save").click().run()
    assert "changed on disk since it was loaded" in at.error[0].value
    assert path.read_text() == theirs
    # the three-way view: theirs and yours as diffs from the base, and the ways out
    codes = [c.value for c in at.code]
    assert any("+    price_usd_month: 190" in c for c in codes)  # theirs
    assert any("+    consent: [creative_assist, analysis, factual_qa]" in c
               for c in codes)  # yours: plus's consent set
    assert at.button(key=f"w|{name}|conflict|theirs")
    assert at.button(key=f"w|{name}|conflict|mine")
    at.button(key="reload").click().run()
    open_tab(at, "Consent & tiers")
    assert not at.exception
    assert at.number_input(key=f"w|{name}|price|pro").value == 190.0  # untouched: follows disk
    assert consent_box(at, name, "analysis").value is True  # mine: kept
    shown = " ".join(w.value for w in at.warning)
    assert "changed on disk" in shown, shown
    assert "`tiers[pro].price_usd_month`: 200.0 → 190.0" in shown, shown
    open_tab(at, "Export & save")
    at.button(key=f"w|{name}|save").click().run()
    assert not at.error, [e.value for e in at.error]
    saved = path.read_text()
    assert "    price_usd_month: 190 " in saved
    assert "    consent: [creative_assist, analysis, factual_qa]" in saved


def test_refused_save_can_take_theirs_or_keep_mine(folder):
    name = "frontier-vs-distilled.yaml"
    path = folder / name
    at = start(folder)
    at.number_input(key=f"w|{name}|price|plus").set_value(25.0).run()
    theirs = path.read_text().replace("    price_usd_month: 200 ", "    price_usd_month: 190 ")
    path.write_text(theirs)
    open_tab(at, "Export & save")
    at.button(key=f"w|{name}|save").click().run()
    at.button(key=f"w|{name}|conflict|mine").click().run()
    assert not at.exception
    saved = path.read_text()
    assert "    price_usd_month: 25 " in saved and "    price_usd_month: 200 " in saved
    assert any("over theirs" in s.value for s in at.success)


def chart(at: AppTest, dataset: str):
    """The spec and the named dataset (a DataFrame) of the chart that carries ``dataset``."""
    import json

    import pyarrow as pa

    for el in at.get("vega_lite_chart"):
        names = [d.name for d in el.proto.datasets]
        if dataset in names:
            raw = el.proto.datasets[names.index(dataset)].data.data
            return json.loads(el.proto.spec), pa.ipc.open_stream(raw).read_all().to_pandas()
    raise AssertionError(f"no chart with dataset {dataset!r}")


def test_tornado_follows_the_selected_tier_sorted_by_swing(folder):
    from econ.decisions.sensitivity import sensitivity, tornado

    name = "frontier-vs-distilled.yaml"
    at = open_tab(start(folder), "Uncertainty & sensitivity")
    at.number_input(key=f"w|{name}|draws").set_value(1000).run()
    at.selectbox(key=f"w|{name}|ttier").select("pro").run()
    assert not at.exception
    spec, data = chart(at, "tornado")
    loaded = load_scenario(folder / name)
    ev = evaluate(loaded.scenario, loaded.measured)
    expected = [r.input for r in tornado(sensitivity(ev, loaded.measured, 0.2), "pro")[:15]]
    ranked = data.sort_values("rank").drop_duplicates("input")
    assert list(ranked["input"]) == expected
    assert list(ranked["swing_usd_month"]) == sorted(ranked["swing_usd_month"], reverse=True)
    assert expected[0] == "tiers[pro].target_gross_margin"
    # the axis sorts by that rank (a data-order sort kept the previous tier's order)
    y = spec["layer"][0]["encoding"]["y"]
    assert y["sort"] == {"field": "rank", "op": "min", "order": "ascending"}
    # −/+ ends coloured, with a legend; the tooltip names the input, both values, both floors
    color = spec["layer"][0]["encoding"]["color"]
    assert color["field"] == "end" and color["scale"]["domain"] == ["−swing", "+swing"]
    assert "legend" in color
    tips = {t["field"] for t in spec["layer"][0]["encoding"]["tooltip"]}
    assert {"input", "low_value", "high_value", "at_low_usd_month", "at_high_usd_month"} <= tips
    assert set(data["end"]) == {"−swing", "+swing"}


def test_frontier_point_list_starts_at_the_current_consent_not_lose_everything(folder):
    from econ.decisions.frontier import tier_frontier

    name = "frontier-vs-distilled.yaml"
    at = open_tab(start(folder), "Frontier")
    pick = at.selectbox(key=f"w|{name}|fpick|plus")
    loaded = load_scenario(folder / name)
    front = tier_frontier(evaluate(loaded.scenario, loaded.measured), "plus")
    points = [(set(p.consent), p.student) for p in front.points]
    everything = {c.id for c in loaded.scenario.capabilities}
    assert front.current is not None
    here = (set(front.current.consent), front.current.student)
    assert pick.index is None or points[pick.index][0] != everything
    if here in points:
        assert pick.index == points.index(here)
    else:
        assert pick.index is None  # a placeholder, and the Adopt button is disabled
        assert at.button(key=f"w|{name}|fadopt|plus").disabled
    # the rules: the tier's price and the target price
    _, rules = chart(at, "prices")
    assert list(rules["label"]) == ["tier price", "target price"]
    assert list(rules["price_usd_month"]) == [20.0, 20.0]
    at.number_input(key=f"w|{name}|target|plus").set_value(15.0).run()
    _, rules = chart(at, "prices")
    assert list(rules["price_usd_month"]) == [20.0, 15.0]


def test_uncertainty_chart_shows_the_tier_price(folder):
    name = "frontier-vs-distilled.yaml"
    at = open_tab(start(folder), "Uncertainty & sensitivity")
    at.number_input(key=f"w|{name}|draws").set_value(1000).run()
    spec, floors = chart(at, "floors")
    row = floors.set_index("tier").loc["plus"]
    assert row["price_usd_month"] == 20.0
    assert row["price_vs_floor"] == pytest.approx(20.0 / row["floor_usd_month"] - 1)
    assert floors.set_index("tier").loc["free"]["price_vs_floor"] is None or \
        pd.isna(floors.set_index("tier").loc["free"]["price_vs_floor"])
    assert any(layer.get("mark", {}).get("type") == "tick" for layer in spec["layer"])


def test_below_floor_uncategorised_and_payback_are_shown(folder):
    from econ.decisions.payback import payback

    name = "frontier-vs-distilled.yaml"
    at = start(folder)
    loaded = load_scenario(folder / name)
    floor = evaluate(loaded.scenario, loaded.measured).tier("plus").economics.price_floor_usd_month
    at.number_input(key=f"w|{name}|price|plus").set_value(round(floor / 2, 2)).run()
    tiers = [t.model_copy(update={"price_usd_month": round(floor / 2, 2)}) if t.id == "plus"
             else t for t in loaded.scenario.tiers]
    ev = evaluate(loaded.scenario.model_copy(update={"tiers": tiers}), loaded.measured)
    shown = " ".join(m.value for m in at.markdown)
    plus = ev.tier("plus").economics
    assert plus.price_usd_month < plus.price_floor_usd_month
    gap = plus.price_floor_usd_month - plus.price_usd_month
    assert f"**price {plus.price_usd_month:,.2f} is below the floor** by {gap:,.2f}" in shown
    assert "**price 0.00 is below" not in shown  # a free tier is not flagged
    share = ev.tier("plus").uncategorised_traffic_share  # the headline follows the tier picked
    assert share > 0
    assert any(f"{100 * share:.1f}% of tier plus's conversations are uncategorised" in i.value
               for i in at.info)
    pb = payback(ev)
    for kind, months in (("Cash", pb.cash_payback_months),
                         ("Net of capability loss", pb.net_of_loss_payback_months)):
        assert months is not None and months > 2  # months, not days, against the real baseline
        assert f"**{kind}**{' (one-off ÷ gross savings)' if kind == 'Cash' else ''}: pays " \
            f"back in {months:,.1f} months" in shown
    table = next(d.value for d in at.dataframe if "cash_payback" in d.value.columns)
    assert list(table["tier"]) == [t.tier for t in pb.tiers]


def test_a_tick_computes_only_the_open_tab_and_hidden_tabs_keep_their_settings(folder):
    name = "frontier-vs-distilled.yaml"
    at = open_tab(start(folder), "Uncertainty & sensitivity")
    at.number_input(key=f"w|{name}|draws").set_value(1000).run()
    at.selectbox(key=f"w|{name}|ttier").select("pro").run()
    open_tab(at, "Consent & tiers")
    assert not other_charts(at)  # no frontier, Monte Carlo or tornado computed
    consent_box(at, name, "analysis").check().run()
    assert not other_charts(at)
    open_tab(at, "Uncertainty & sensitivity")
    assert at.number_input(key=f"w|{name}|draws").value == 1000
    assert at.selectbox(key=f"w|{name}|ttier").value == "pro"
    open_tab(at, "Consent & tiers")
    assert consent_box(at, name, "analysis").value is True


def test_a_routed_point_adopted_after_a_lone_one_sits_at_its_floor(folder):
    """Adopting the cheapest point (a student alone) drops plus's route; the frontier then
    prices routed points with the router its caption names. Adopting one of those must give
    exactly the floor the list showed (it gave the file's router's floor before)."""
    name = "frontier-vs-distilled.yaml"
    at = open_tab(start(folder), "Frontier")
    pick = f"w|{name}|fpick|plus"
    at.selectbox(key=pick).select(0).run()
    at.button(key=f"w|{name}|fadopt|plus").click().run()
    options = at.selectbox(key=pick).options
    i = next(i for i, o in enumerate(options) if " routed · " in o)
    listed = options[i].split(" USD/mo floor")[0]
    at.selectbox(key=pick).select(i).run()
    at.button(key=f"w|{name}|fadopt|plus").click().run()
    assert not at.exception
    caption = next(c.value for c in at.caption if "Orange diamond" in c.value)
    assert f"current consent set (floor {listed} USD/month" in caption, (listed, caption)


def test_a_free_tier_frontier_trades_cost_per_user_without_a_red_error(folder):
    """Issue 20: the free tier has no floor, so its frontier is its cost per user against loss;
    the default target is its own cost per user, which its plan reaches: no error."""
    name = "frontier-vs-distilled.yaml"
    at = open_tab(start(folder), "Frontier")
    at.selectbox(key=f"w|{name}|ftier").select("free").run()
    assert not at.exception and not at.error
    loaded = load_scenario(folder / name)
    ev = evaluate(loaded.scenario, loaded.measured)
    per_user = ev.tier("free").economics.cost_per_user_month_usd
    assert at.number_input(key=f"w|{name}|target|free").value == math.ceil(100 * per_user) / 100
    assert at.number_input(key=f"w|{name}|target|free").label.startswith("Target cost per user")
    shown = " ".join(s.value for s in at.success)
    assert "Least loss at a cost per user ≤ " in shown
    caption = next(c.value for c in at.caption if "Orange diamond" in c.value)
    assert f"(cost per user {per_user:,.2f} USD/month" in caption
    assert "floor" not in at.selectbox(key=f"w|{name}|fpick|free").options[0]
    # and the tornado of the free tier ranks its cost per user: the card's fixed fee is no
    # driver (a free tier pays no card fees)
    open_tab(at, "Uncertainty & sensitivity")
    at.number_input(key=f"w|{name}|draws").set_value(1000).run()
    at.selectbox(key=f"w|{name}|ttier").select("free").run()
    assert not at.exception
    assert any("Tier free's cost per user with each input moved" in c.value for c in at.caption)
    mc = next(d.value for d in at.dataframe if "measure" in d.value.columns)
    row = mc.set_index("tier").loc["free"]
    assert row["measure"] == "cost per user"
    assert row["base_usd_month"] == pytest.approx(per_user, rel=1e-12)


def test_breakeven_panel_shows_econ_breakevens_crossovers(folder, capsys):
    """The app's break-even table and chart are econ breakeven's figures."""
    import json

    from econ.app.breakeven_panel import EXPANDER_KEY
    from econ.cli import main

    name = "self-hosted-llama.yaml"
    at = start(folder, name)
    assert not other_charts(at)  # closed: nothing computed (the consent tab draws its own)
    at.session_state[EXPANDER_KEY] = True
    at.run()
    assert not at.exception, at.exception
    shown = next(d.value for d in at.dataframe
                 if "first_breakeven_conversations_month" in d.value.columns)
    assert main(["breakeven", str(folder / name), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)["crossovers"]
    assert len(shown) == len(cli)
    for (_, row), x in zip(shown.iterrows(), cli, strict=True):
        assert row["api"] == x["api"]
        assert row["first_breakeven_conversations_month"] == pytest.approx(
            x["first_breakeven_conversations_month"])
        assert row["always_cheaper_from_conversations_month"] == pytest.approx(
            x["always_cheaper_from_conversations_month"])
    spec, curves = chart(at, "curves")
    assert spec["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"
    eight = curves[curves["option"] == "llama-8b"].sort_values("conversations_month")
    # one replica of 2,183 USD a month spread over the volume at the low end
    assert eight.iloc[0]["cost_per_conversation_usd"] == pytest.approx(2.99 * 730 / 1e3)
    assert eight.iloc[0]["replicas"] == 1
    assert set(curves["option"]) >= {"gpt-4o (API)", "llama-8b @ reserved", "llama-70b @ spot"}
