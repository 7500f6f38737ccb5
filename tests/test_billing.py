"""Reasoning tokens and prompt-cache writes, checked against hand computations.

The expected figures are typed from the price table (Anthropic's pricing page, data/SOURCES.md
§3 and §8, which the pinned litellm snapshot agrees with) and the token formulas written out
turn by turn below, never from econ's own code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from econ.cli import main
from econ.decisions.draws import draw_block, spreads
from econ.decisions.uncertainty import simulate
from econ.model.cost import self_hosted_gpu_seconds, time_model_from_measurement
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.scenario.conversation import conversation_tokens
from econ.scenario.schema import SelfHostedModel
from tests.conftest import DEFAULT, raw_snapshot
from tests.test_bad_input import fails, line_of


def scenario(model: dict, *, resend_history: bool = True, cache_hit_rate: float = 0.5,
             capability: dict | None = None) -> dict:
    """Three turns: 1,000-token system prompt, 100 user and 200 assistant tokens a turn."""
    cap = {"id": "chat", "traffic_share": 1.0, "severity_usd": 0.0, **(capability or {})}
    return {
        "schema_version": 2, "name": "billing",
        "conversation": {"turns": 3, "system_prompt_tokens": 1000, "user_tokens_per_turn": 100,
                         "assistant_tokens_per_turn": 200, "resend_history": resend_history,
                         "cache_hit_rate": cache_hit_rate},
        "models": {"m": {"serving": "api", "role": "teacher", **model},
                   "s": {"serving": "api", "role": "student",
                         "prices": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 1}}},
        "capabilities": [cap],
        "tiers": [{"id": "t", "price_usd_month": 10, "users": 1,
                   "conversations_per_user_month": 1, "target_gross_margin": 0.5,
                   "plan": {"model": "m"}}],
    }


def evaluate_json(capsys, tmp_path: Path, data: dict) -> dict:
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["evaluate", str(p), "--json"]) == 0
    out: dict = json.loads(capsys.readouterr().out)["models"]["m"]
    return out


def test_snapshot_keeps_anthropic_cache_write_prices():
    # Anthropic: Sonnet 4.5 input 3, output 15, cache hit 0.30, 5-minute cache write 3.75 USD/MTok
    p = raw_snapshot()["claude-sonnet-4-5"]
    assert p["input_cost_per_token"] * 1e6 == pytest.approx(3.0)
    assert p["output_cost_per_token"] * 1e6 == pytest.approx(15.0)
    assert p["cache_read_input_token_cost"] * 1e6 == pytest.approx(0.30)
    assert p["cache_creation_input_token_cost"] * 1e6 == pytest.approx(3.75)
    assert "cache_creation_input_token_cost" not in raw_snapshot()["gpt-4o"]


def test_anthropic_cache_writes_by_hand(capsys, tmp_path):
    """claude-sonnet-4-5, three turns with history re-sent, half the cacheable prefix read.

    An API caches what it was sent: at turn 1 the system prompt (shared by every
    conversation), at turn k the prompt of turn k−1 (without the answer that followed it).

    turn  prompt                   cacheable prefix          read (0.5×)  written (prompt − read)
    1     1000 + 100       = 1100  system prompt    = 1000    500          600
    2     1000 + 300 + 100 = 1400  turn 1's prompt  = 1100    550          850
    3     1000 + 600 + 100 = 1700  turn 2's prompt  = 1400    700         1000
    total                    4200                            1750         2450
    output 3 × 200 = 600.
    USD = (2450 × 3.75 + 1750 × 0.30 + 600 × 15) / 1e6 = (9187.5 + 525 + 9000) / 1e6
    """
    out = evaluate_json(capsys, tmp_path, scenario({"price_key": "claude-sonnet-4-5"}))
    assert out["cost_per_conversation_usd"] == pytest.approx(0.0187125, rel=1e-12)
    tokens = out["tokens_per_conversation"]
    assert tokens["input_tokens"] == pytest.approx(4200)
    assert tokens["cached_input_tokens"] == pytest.approx(1750)
    assert tokens["cache_write_tokens"] == pytest.approx(2450)
    assert tokens["output_tokens"] == pytest.approx(600)
    # writes at the input price would understate the bill: (2450 × 3 + 525 + 9000) / 1e6
    assert out["cost_per_conversation_usd"] - 0.016875 == pytest.approx(2450 * 0.75 / 1e6)
    # caching off: nothing read, nothing written, (4200 × 3 + 600 × 15) / 1e6
    off = evaluate_json(capsys, tmp_path, scenario({"price_key": "claude-sonnet-4-5"},
                                                    cache_hit_rate=0.0))
    assert off["cost_per_conversation_usd"] == pytest.approx(0.0216, rel=1e-12)
    assert off["tokens_per_conversation"]["cache_write_tokens"] == 0


def test_anthropic_cache_writes_without_history_by_hand(capsys, tmp_path):
    """Without history only the system prompt is reused, on every turn (turn 1 reads it from
    other conversations): each turn writes what it did not read of it. Reads 0.5 × 1000 on
    each of 3 turns = 1500; writes 500 × 3 = 1500; the user messages, 300, are plain input;
    output 600.
    USD = (300 × 3 + 1500 × 3.75 + 1500 × 0.30 + 600 × 15) / 1e6 = 15975 / 1e6
    """
    out = evaluate_json(capsys, tmp_path, scenario({"price_key": "claude-sonnet-4-5"},
                                                    resend_history=False))
    assert out["cost_per_conversation_usd"] == pytest.approx(0.015975, rel=1e-12)
    assert out["tokens_per_conversation"]["cache_write_tokens"] == pytest.approx(1500)
    assert out["tokens_per_conversation"]["cached_input_tokens"] == pytest.approx(1500)


def test_model_without_write_price_pays_input_for_writes(capsys, tmp_path):
    # gpt-4o (2.50 / 10, cached 1.25), the turns above: (2450 × 2.5 + 1750 × 1.25 + 600 × 10)
    # / 1e6 = (6125 + 2187.5 + 6000) / 1e6
    out = evaluate_json(capsys, tmp_path, scenario({"price_key": "gpt-4o"}))
    assert out["cost_per_conversation_usd"] == pytest.approx(0.0143125, rel=1e-12)
    # a scenario may state a write price: (2450 × 5 + 1750 × 1.25 + 600 × 10) / 1e6
    out = evaluate_json(capsys, tmp_path, scenario(
        {"price_key": "gpt-4o", "prices": {"cache_write_input_usd_per_mtok": 5}}))
    assert out["cost_per_conversation_usd"] == pytest.approx(0.0204375, rel=1e-12)


def test_reasoning_is_billed_as_output_and_not_resent(capsys, tmp_path):
    # o1 (15 / 60), no caching, 500 reasoning tokens a turn: input stays 4,200; output
    # 3 × (200 + 500) = 2,100. USD = (4200 × 15 + 2100 × 60) / 1e6 = (63000 + 126000) / 1e6
    out = evaluate_json(capsys, tmp_path, scenario(
        {"price_key": "o1", "reasoning_tokens_per_turn": 500}, cache_hit_rate=0.0))
    assert out["cost_per_conversation_usd"] == pytest.approx(0.189, rel=1e-12)
    assert out["reasoning_tokens_per_turn"] == 500
    assert out["tokens_per_conversation"] == pytest.approx(
        {"input_tokens": 4200, "cached_input_tokens": 0, "cache_write_tokens": 0,
         "output_tokens": 2100, "reasoning_tokens": 1500})
    # the capability's figure replaces the model's: 3 × (200 + 2000) = 6,600 output tokens
    out = evaluate_json(capsys, tmp_path, scenario(
        {"price_key": "o1", "reasoning_tokens_per_turn": 500}, cache_hit_rate=0.0,
        capability={"reasoning_tokens_per_turn": {"m": 2000}}))
    assert out["cost_per_conversation_usd"] == pytest.approx((63000 + 6600 * 60) / 1e6,
                                                             rel=1e-12)


def test_reasoning_with_cache_writes_by_hand(capsys, tmp_path):
    # Sonnet 4.5 thinking 1,000 tokens a turn: the cache rows above are unchanged (thinking is
    # never re-sent), output 3 × 1,200 = 3,600: (9187.5 + 525 + 3600 × 15) / 1e6
    out = evaluate_json(capsys, tmp_path, scenario(
        {"price_key": "claude-sonnet-4-5", "reasoning_tokens_per_turn": 1000}))
    assert out["cost_per_conversation_usd"] == pytest.approx(0.0637125, rel=1e-12)


def test_evaluate_json_tokens_agree_with_cost(capsys):
    """One number through every door: each API model's tokens at its prices give its cost."""
    assert main(["evaluate", str(DEFAULT), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    y = yaml.safe_load(DEFAULT.read_text())
    for mid, m in out["models"].items():
        if m["serving"] != "api":
            continue
        p = raw_snapshot()[y["models"][mid]["price_key"]]
        t = m["tokens_per_conversation"]
        usd = ((t["input_tokens"] - t["cached_input_tokens"]) * p["input_cost_per_token"]
               + t["output_tokens"] * p["output_cost_per_token"])
        assert m["cost_per_conversation_usd"] == pytest.approx(usd, rel=1e-12)


def test_negative_reasoning_tokens_refused(capsys, edited):
    p = edited("    price_key: o1 ", "    price_key: o1\n    reasoning_tokens_per_turn: -5 ")
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line_of(p, 'reasoning_tokens_per_turn: -5')}: "
        "models.teacher.reasoning_tokens_per_turn: input should be greater than or equal to 0 "
        "(got -5)")
    p = edited("    traffic_share: 0.136 ",
               "    traffic_share: 0.136\n    reasoning_tokens_per_turn: {teacher: -3} ")
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line_of(p, 'teacher: -3')}: "
        "capabilities[1].reasoning_tokens_per_turn.teacher: input should be greater than or "
        "equal to 0 (got -3)")


def test_reasoning_override_for_unknown_model_refused(capsys, edited):
    p = edited("    traffic_share: 0.136 ",
               "    traffic_share: 0.136\n    reasoning_tokens_per_turn: {techer: 300} ")
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line_of(p, 'techer: 300')}: "
        "capabilities[1].reasoning_tokens_per_turn.techer: unknown model; did you mean "
        "'teacher'? (got 'techer')")


def test_self_hosted_model_decodes_reasoning():
    m = SelfHostedModel(serving="self_hosted", role="student", gpu="H100", usd_per_gpu_hour=3.0,
                        gpus_per_replica=2)
    from econ.scenario.schema import ThroughputMeasurement

    tm = time_model_from_measurement(ThroughputMeasurement(
        output_tokens_per_s=1000, input_tokens_per_request=100, output_tokens_per_request=100),
        prefill_cost_ratio=0.5)
    plain = conversation_tokens(3, 1000, 100, 200, True, 0.5, cache="self_hosted")
    thinking = conversation_tokens(3, 1000, 100, 200, True, 0.5, 400, cache="self_hosted")
    assert thinking.input_tokens == plain.input_tokens
    assert thinking.cached_input_tokens == plain.cached_input_tokens
    assert thinking.output_tokens == plain.output_tokens + 1200
    assert self_hosted_gpu_seconds(thinking, m, tm) > self_hosted_gpu_seconds(plain, m, tm)


def test_monte_carlo_spreads_reasoning_tokens():
    loaded = load_scenario(DEFAULT)
    ev = evaluate(loaded.scenario, loaded.measured)
    d = draw_block(spreads(ev, loaded.measured, ev.tiers), seed=3, start=0, n=2000)
    assert set(d.reasoning_scale) == {"o1"}
    # lognormal with the median kept: cv 0.5 -> sigma sqrt(ln 1.25)
    sigma = np.std(np.log(d.reasoning_scale["o1"]))
    assert sigma == pytest.approx(np.sqrt(np.log(1.25)), rel=0.05)
    # each input has its own stream: every other input is drawn as without the spread
    quiet = loaded.scenario.model_copy(update={"models": {
        **loaded.scenario.models,
        "o1": loaded.scenario.models["o1"].model_copy(update={"reasoning_tokens_cv": 0.0})}})
    ev_q = evaluate(quiet, loaded.measured)
    dq = draw_block(spreads(ev_q, loaded.measured, ev_q.tiers), seed=3, start=0, n=2000)
    assert dq.reasoning_scale == {}
    np.testing.assert_array_equal(d.user_scale, dq.user_scale)
    np.testing.assert_array_equal(d.price_scale["o1"], dq.price_scale["o1"])
    # pro runs on o1: its cost interval widens with the reasoning spread
    wide = {r.tier: r for r in simulate(ev, loaded.measured, draws=4000, seed=1)}["pro"]
    narrow = {r.tier: r for r in simulate(ev_q, loaded.measured, draws=4000, seed=1)}["pro"]
    w5, _, w95 = wide.cost_per_conversation_usd
    n5, _, n95 = narrow.cost_per_conversation_usd
    assert w95 - w5 > (n95 - n5) * 1.1


def test_exports_show_reasoning_and_cache_write_tokens(capsys, tmp_path):
    md = tmp_path / "t.md"
    assert main(["export", str(DEFAULT), "--format", "md", "-o", str(md)]) == 0
    capsys.readouterr()
    lines = md.read_text().splitlines()
    head = next(ln for ln in lines if ln.startswith("| Model |"))
    assert "Reasoning tokens per conversation (billed as output)" in head
    assert "Cache-write tokens" not in head  # no model of the default scenario writes
    o1 = next(ln for ln in lines if ln.startswith("| o1 |"))
    assert "| 6,280 |" in o1  # whole, as a count: 0.872 × 5,000 + 0.128 × 15,000, as in test_golden
    assert main(["evaluate", str(DEFAULT), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["candidates"]["o1"]["reasoning_tokens_per_conversation"] == pytest.approx(6280)
    # a scenario with caching on lists the 2,450 written tokens of the hand computation above
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(scenario({"price_key": "claude-sonnet-4-5"}), sort_keys=False))
    assert main(["export", str(p), "--format", "md", "-o", str(md)]) == 0
    lines = md.read_text().splitlines()
    head = next(ln for ln in lines if ln.startswith("| Model |"))
    assert "Cache-write tokens per conversation" in head
    assert "| 2,450 |" in next(ln for ln in lines if ln.startswith("| m |"))
