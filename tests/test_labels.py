"""Words for a finance person (issue 24, item 9): tornado rows in words with the YAML path on
hover, the Monte Carlo chart in USD, the consent tab's retention chart, and a reason whenever a
tick changes no figure."""

from __future__ import annotations

import re

import pytest

from econ.decisions.consent_effect import idle_consents
from econ.decisions.sensitivity import sensitivity
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.outputs.charts import (
    interval_spec,
    retention_records,
    retention_spec,
    tornado_records,
    tornado_spec,
)
from econ.outputs.input_words import input_words
from econ.scenario.edits import Edits, apply_to_scenario
from tests.conftest import DEFAULT, SCENARIOS


def test_known_inputs_read_as_words():
    assert input_words("models.llama-8b-distilled.target_utilisation") == \
        "target GPU utilisation of llama-8b-distilled"
    assert input_words("models.llama-3.1-8b.usd_per_gpu_hour") == \
        "GPU price (USD/GPU-hour) of llama-3.1-8b"  # an id with dots stays whole
    assert input_words("tiers[plus].plan.route.router_error_rate") == \
        "router error rate, tier plus"
    assert input_words("capabilities[math].reasoning_tokens_per_turn.o1") == \
        "reasoning tokens per turn of o1 on math"
    assert input_words("capabilities[math].traffic_share") == "traffic share, math"
    assert input_words("prices.gpt-4o.output_usd_per_mtok") == \
        "output-token price (USD/M tokens) of gpt-4o"
    assert input_words("fees.payment_rate") == "card fee rate"
    assert input_words("measured throughput of llama-8b (× base)") == \
        "measured throughput of llama-8b (× base)"
    assert input_words("a.b[x].new_field") == "new field (x)"  # unknown: still words


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.yaml")))
def test_every_tornado_row_is_in_words_and_keeps_its_path(name):
    loaded = load_scenario(SCENARIOS / name)
    ev = evaluate(loaded.scenario, loaded.measured)
    rows = sensitivity(ev, loaded.measured, 0.2)
    assert rows
    labels = {r.input: input_words(r.input) for r in rows}
    for path, words in labels.items():
        field = re.split(r"[.\]]", path)[-1]
        assert not re.search(r"^\w+\.|\[", words), (path, words)  # no YAML path
        assert "_" not in field or field not in words, (path, words)  # the field in words
    assert len(set(labels.values())) == len(labels)  # one row per input, none merged
    tier = ev.tiers[0].economics
    records = tornado_records(rows, tier.tier, tier.price_floor_usd_month, 0.2)
    assert {r["label"] for r in records} <= set(labels.values())
    assert all(r["label"] == labels[r["input"]] for r in records)
    spec = str(tornado_spec())
    assert "'field': 'label'" in spec and "'field': 'input'" in spec  # words shown, path on hover


def test_monte_carlo_chart_is_in_usd():
    spec = interval_spec()
    fields = re.findall(r"'field': '([^']+)'", str(spec))
    assert {"p5_usd_month", "p50_usd_month", "p95_usd_month", "base_usd_month"} <= set(fields)
    assert not [f for f in fields if f.endswith(("_vs_base", "_vs_floor"))
                and f != "price_vs_floor"]
    assert "USD/month" in str(spec)


def test_a_tick_on_a_tier_without_router_is_idle_and_says_why():
    loaded = load_scenario(DEFAULT)
    s = loaded.scenario
    pro = next(t for t in s.tiers if t.id == "pro")
    assert pro.plan.route is None
    idle = idle_consents(pro, ["math"], ())
    assert set(idle) == {"math"} and "no router" in idle["math"]
    # independently: the tick leaves every figure of the tier as it was
    base = evaluate(s, loaded.measured).tier("pro")
    ticked = evaluate(apply_to_scenario(s, Edits(tier_consent={"pro": ("math",)})),
                      loaded.measured).tier("pro")
    assert ticked.consent == ("math",)
    assert ticked.economics.price_floor_usd_month == base.economics.price_floor_usd_month
    assert ticked.economics.cost_per_conversation_usd == \
        base.economics.cost_per_conversation_usd


def test_a_tick_on_a_routed_tier_moves_traffic_unless_the_student_keeps_it():
    loaded = load_scenario(DEFAULT)
    s = loaded.scenario
    ev = evaluate(s, loaded.measured)
    plus = next(t for t in s.tiers if t.id == "plus")
    res = ev.tier("plus")
    caps = [c.id for c in s.capabilities]
    kept = set(res.retained)
    idle = idle_consents(plus, caps, res.retained)
    assert set(idle) == kept
    moving = [c for c in caps if c not in kept and c not in res.consent]
    assert moving, "the default scenario has a capability a tick would move"
    c = moving[0]
    after = evaluate(apply_to_scenario(s, Edits(tier_consent={"plus": (*res.consent, c)})),
                     loaded.measured).tier("plus")
    assert after.assignment.primary(c) != res.assignment.primary(c)


def test_retention_chart_has_every_capability_and_marks_the_ticked():
    loaded = load_scenario(DEFAULT)
    ev = evaluate(loaded.scenario, loaded.measured)
    res = ev.tier("plus")
    rets = ev.retention_against(res.teacher, res.assignment.default_model)
    rows = retention_records(rets, ("math",))
    assert [r["capability"] for r in rows] == [r.capability for r in rets]
    assert [r["capability"] for r in rows if r["consent"] == "consented to lose"] == ["math"]
    for r, ret in zip(rows, rets, strict=True):
        assert r["verdict"] == ret.verdict and r["tolerance"] == ret.tolerance
        if ret.drop is None:
            assert r["note"] == "not measured"
        else:
            assert r["drop_lo"] <= r["drop"] <= r["drop_hi"]
    assert "tolerance" in str(retention_spec())


def test_the_app_says_why_a_tick_changes_nothing(folder):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    name = DEFAULT.name
    at.selectbox(key=f"w|{name}|ctier").select("pro").run()
    assert not at.exception, at.exception
    assert not [i for i in at.info if "changes no figure" in i.value]
    at.checkbox(key=f"w|{name}|consent|math").check().run()
    assert not at.exception, at.exception
    said = [i.value for i in at.info if "changes no figure" in i.value]
    assert said and "no router" in said[0] and "math" in said[0]
    # the chart of the tier's drops is drawn, the ticked capability marked
    from tests.test_app import chart

    spec, data = chart(at, "retention")
    assert "tolerance" in str(spec)
    assert list(data.loc[data["consent"] == "consented to lose", "capability"]) == ["math"]
    assert list(data["capability"]) == [c.id for c in load_scenario(DEFAULT).scenario.capabilities]
