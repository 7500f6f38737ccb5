"""One way to show each kind of figure (issue 24, item 5): the formatting module, the wording
of signs and counts, and every table of the app as it is drawn (no "None", shares at one
decimal, thousands separators on money, one precision for cost per conversation)."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from econ.app.ab_tab import COLUMNS as AB_COLUMNS
from econ.app.consent_tab import PAYBACK_TABLE, TIER_DETAILS, TIER_TABLE, detectable_text
from econ.app.grid import columns_of, styled
from econ.app.uncertainty_tab import MC_TABLE
from econ.base.formatting import cell, count, money, percent, unit_cost
from econ.decisions.payback import payback
from econ.decisions.uncertainty import floor_intervals, simulate
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.outputs.export import candidate_columns, candidates_frame, tier_pricing_table
from econ.outputs.payback_view import loss_change_text, payback_frame
from tests.conftest import DEFAULT, SCENARIOS


def test_money_has_thousands_separators_and_cents():
    assert money(134072) == "134,072.00"
    assert money(1644564.004) == "1,644,564.00"
    assert money(-0.001) == "0.00"  # never "-0.00"
    assert money(-6971.5) == "-6,971.50"


def test_shares_one_decimal_counts_whole_unit_costs_one_precision():
    assert percent(0.82834) == "82.8%"
    assert cell(0.82834, "share") == "82.8%"
    assert count(42.0) == "42" and count(6280) == "6,280" and count(1.5) == "1.50"
    assert unit_cost(0.0041234) == "0.004123" and unit_cost(12.5) == "12.500000"


@pytest.mark.parametrize("kind", ["text", "money", "unit_cost", "count", "share"])
def test_what_does_not_exist_is_a_dash(kind):
    assert cell(None, kind) == "—"
    if kind != "text":
        assert cell(math.nan, kind) == "—" and cell(math.inf, kind) == "—"


def test_plain_words_for_signs_and_nothing():
    assert loss_change_text(1234.4) == "add 1,234 USD/month of capability loss"
    assert loss_change_text(-6971.2) == "cut capability loss by 6,971 USD/month"
    assert loss_change_text(0.2) == "leave capability loss unchanged"
    assert detectable_text(None, "inconclusive") == "too few examples to detect any drop"
    assert detectable_text(None, "unmeasured") == "not measured"
    assert detectable_text(0.034, "retained") == "detectable ≥ 3.4%"


def _shown(frame: pd.DataFrame, columns) -> list[str]:
    """Every cell of ``frame`` as the app draws it."""
    html = styled(frame, columns).to_html()
    return re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)


def _check_cells(cells: list[str], columns, frame) -> None:
    assert cells, "nothing drawn"
    for text in cells:
        assert text not in {"None", "nan", "NaN", "<NA>", ""}, cells
        assert not re.search(r"\d\.\d\d+%", text), text  # shares at one decimal
        assert not re.search(r"(?<![\d,.])\d{4,}(?:\.\d+)?(?![\d%])", text) or \
            not re.match(r"^-?\d", text) or "," in text, text  # thousands separated


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.yaml")))
def test_every_app_table_shows_figures_one_way(name):
    loaded = load_scenario(SCENARIOS / name)
    ev = evaluate(loaded.scenario, loaded.measured)
    tiers = tier_pricing_table(ev)
    for columns in (TIER_TABLE, TIER_DETAILS):
        _check_cells(_shown(tiers, columns), columns, tiers)
    cands = candidates_frame(ev)
    _check_cells(_shown(cands, columns_of(candidate_columns(ev))), None, cands)
    pb = payback(ev)
    if pb is not None:
        _check_cells(_shown(payback_frame(pb), PAYBACK_TABLE), None, None)
    # cost per conversation at one precision in both tables that show it
    shown = _shown(tiers, TIER_DETAILS)
    per_conv = shown[1::len(TIER_DETAILS)]
    assert per_conv and all(re.fullmatch(r"\d[\d,]*\.\d{6}", c) for c in per_conv), per_conv


def test_monte_carlo_and_ab_tables_show_no_none():
    loaded = load_scenario(DEFAULT)
    ev = evaluate(loaded.scenario, loaded.measured)
    mc = pd.DataFrame(floor_intervals(simulate(ev, loaded.measured, 2000, 0), ev))
    cells = _shown(mc, MC_TABLE)
    _check_cells(cells, MC_TABLE, mc)
    # a free tier's probability of meeting a margin does not exist: a dash, not "None"
    free = [t.economics.tier for t in ev.tiers if t.free]
    if free:
        row = cells[list(mc["tier"]).index(free[0]) * len(MC_TABLE):][:len(MC_TABLE)]
        assert "None" not in row
    ab = pd.DataFrame([{"tier": "free", "plan": "A", "consent": "nothing",
                        "price_usd_month": 0.0, "floor_usd_month": None, "margin": None,
                        "loss_usd_month": 134072.0, "unmeasured": 0.12345,
                        "p_meets_target": None}])
    cells = _shown(ab, AB_COLUMNS)
    assert cells == ["free", "A", "nothing", "0.00", "—", "—", "134,072.00", "12.3%", "—"]


def test_the_text_report_says_dash_for_a_detectable_drop_that_does_not_exist(capsys):
    """An unmeasured capability has no minimum detectable drop: "—", as every other door says,
    never the word "none" in a numeric column."""
    from econ.cli.main import main

    assert main(["evaluate", str(DEFAULT)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines()
               if line.startswith("legacy_csv_input") and "unmeasured" in line)
    assert " none " not in row
    cells = row.split()
    assert cells[cells.index("unmeasured") - 2] == "—"  # MDD, then the tolerance


def test_the_breakeven_table_shows_whole_volumes_and_dashes():
    """The break-even panel's table through the one formatting module: whole conversations a
    month with separators, "—" where the fleet is never cheaper (was "None" and 363396.67)."""
    from econ.app.breakeven_panel import BREAKEVEN_TABLE, breakeven_frame
    from econ.decisions.breakeven import breakeven
    from tests.conftest import SELF_HOSTED

    loaded = load_scenario(SELF_HOSTED)
    ev = evaluate(loaded.scenario, loaded.measured)
    frame = breakeven_frame(breakeven(ev, loaded.measured))
    cells = _shown(frame, BREAKEVEN_TABLE)
    _check_cells(cells, BREAKEVEN_TABLE, frame)
    volumes = [c for i, c in enumerate(cells) if i % len(BREAKEVEN_TABLE) in (2, 4)]
    assert volumes and all(re.fullmatch(r"\d{1,3}(,\d{3})*|—", v) for v in volumes), volumes
