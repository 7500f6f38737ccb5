"""econ breakeven: the volume at which self-hosting beats the API, with whole replicas.

Golden figures are computed by hand here from the scenario's inputs: a conversation of 1,000
input and 500 output tokens; the self-hosted model measured at 1,000 output tok/s on requests of
that very shape (0.5 replica-seconds a conversation, whatever the prefill/decode split); one GPU
a replica at 2 USD/GPU-hour, target utilisation 0.5, peak-to-average 1; at least 2 replicas,
added 2 at a time. The API bills 0.3 and 1.0 USD per million input and output tokens.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from econ.cli import main
from econ.decisions.breakeven import ApiOption, SelfHostedOption, crossover
from tests.conftest import ROOT

SELF_HOSTED = ROOT / "scenarios" / "self-hosted-llama.yaml"
HOURS = 730  # a month: 8,760 h ÷ 12

# by hand: GPU-seconds 0.5 × 2 USD/h ÷ 3,600 ÷ 0.5 utilisation = 1/1,800 USD a conversation
C = 0.5 * 2.0 / 3600 / 0.5
R = 1 * 2.0 * HOURS  # one replica-month: 1,460 USD
A = 1000 * 0.3e-6 + 500 * 1.0e-6  # 0.0008 USD a conversation by API


def scenario(tmp_path: Path, **model: object) -> Path:
    data = {
        "schema_version": 2, "name": "breakeven",
        "conversation": {"turns": 1, "system_prompt_tokens": 0, "user_tokens_per_turn": 1000,
                         "assistant_tokens_per_turn": 500, "resend_history": False,
                         "cache_hit_rate": 0.0},
        "models": {
            "api": {"serving": "api", "role": "teacher",
                    "prices": {"input_usd_per_mtok": 0.3, "output_usd_per_mtok": 1.0}},
            "gpu": {"serving": "self_hosted", "role": "student", "gpu": "H100-SXM",
                    "usd_per_gpu_hour": 2.0, "gpus_per_replica": 1,
                    "throughput": {"output_tokens_per_s": 1000, "input_tokens_per_request": 1000,
                                   "output_tokens_per_request": 500},
                    "target_utilisation": 0.5, "peak_to_average": 1.0,
                    "min_replicas": 2, "replica_granularity": 2, **model}},
        "capabilities": [{"id": "chat", "traffic_share": 1.0, "severity_usd": 0.0}],
        "tiers": [{"id": "t", "price_usd_month": 10, "users": 1000,
                   "conversations_per_user_month": 1000, "target_gross_margin": 0.5,
                   "plan": {"model": "api"}}],
    }
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    out: dict = json.loads(capsys.readouterr().out)
    return out


def test_crossovers_and_replicas_by_hand(capsys, tmp_path):
    out = run_json(capsys, "breakeven", str(scenario(tmp_path, gpu_prices={"reserved": 1.0})))
    on_demand, reserved = out["self_hosted"]
    assert on_demand["price"] == "usd_per_gpu_hour" and reserved["price"] == "reserved"
    assert on_demand["continuous_cost_per_conversation_usd"] == pytest.approx(1 / 1800)
    assert on_demand["usd_per_replica_month"] == pytest.approx(1460)
    assert out["api"][0]["cost_per_conversation_usd"] == pytest.approx(0.0008)
    # blended USD per million tokens over the 1,500 tokens of a conversation
    assert out["api"][0]["usd_per_mtok"] == pytest.approx(0.0008 / 1500 * 1e6)
    assert on_demand["continuous_usd_per_mtok"] == pytest.approx(1 / 1800 / 1500 * 1e6)

    # today: 1,000 users × 1,000 conversations; 1e6 × (1/1800) ÷ 1460 = 0.3805 replicas of
    # load, so the 2-replica minimum runs at 0.3805 × 0.5 ÷ 2 = 9.5% average utilisation
    today = on_demand["today"]
    assert out["conversations_month_today"] == 1_000_000
    assert today["replicas"] == 2
    assert today["continuous_replicas"] == pytest.approx(1e6 / 1800 / 1460)
    assert today["cost_per_conversation_usd"] == pytest.approx(2 * 1460 / 1e6)  # 0.292¢
    assert today["utilisation"] == pytest.approx(1e6 / 1800 / 1460 * 0.5 / 2)

    x = {(c["self_hosted"], c["price"], c["api"]): c for c in out["crossovers"]}
    od = x[("gpu", "usd_per_gpu_hour", "api")]
    # 2 replicas (2,920 USD/month) match the API's 0.0008 USD at 2,920 ÷ 0.0008 = 3.65M
    # conversations and serve up to 2,920 ÷ (1/1800) = 5.256M; 4 replicas break even at 7.3M
    # and serve up to 10.512M; 6 at 10.95M and serve to 15.768M, past where 8 break even
    # (14.6M): from 10.95M on self-hosting stays cheaper
    assert od["first_breakeven_conversations_month"] == pytest.approx(3_650_000)
    assert od["replicas_at_first_breakeven"] == 2
    assert [tuple(w) for w in od["windows_conversations_month"]] == [
        pytest.approx((3_650_000, 5_256_000)), pytest.approx((7_300_000, 10_512_000))]
    assert od["always_cheaper_from_conversations_month"] == pytest.approx(10_950_000)
    assert od["replicas_at_always_cheaper"] == 6
    # reserved at 1 USD/GPU-hour: c = 1/3600, R = 730; 2 replicas break even at 1.825M and
    # serve to 5.256M, past where 4 break even (3.65M)
    rs = x[("gpu", "reserved", "api")]
    assert rs["first_breakeven_conversations_month"] == pytest.approx(1_825_000)
    assert rs["always_cheaper_from_conversations_month"] == pytest.approx(1_825_000)
    assert rs["windows_conversations_month"] == []


def test_never_cheaper_when_the_continuous_cost_is_above_the_api(capsys, tmp_path):
    out = run_json(capsys, "breakeven", str(scenario(tmp_path, usd_per_gpu_hour=3.0)))
    # c = 0.5 × 3 ÷ 3,600 ÷ 0.5 = 0.000833 > 0.0008: no volume makes the GPU cheaper
    (x,) = out["crossovers"]
    assert x["first_breakeven_conversations_month"] is None
    assert x["always_cheaper_from_conversations_month"] is None
    assert main(["breakeven", str(scenario(tmp_path, usd_per_gpu_hour=3.0))]) == 0
    assert "never" in capsys.readouterr().out


@pytest.mark.parametrize(("m", "g", "c", "a"), [
    (1, 1, 1 / 1800, 0.0008), (2, 2, 1 / 1800, 0.0008), (3, 1, 0.0007, 0.0008),
    (1, 4, 0.0002, 0.0003), (5, 3, 0.001, 0.0013)])
def test_crossover_matches_a_direct_comparison_at_every_volume(m, g, c, a):
    opt = SelfHostedOption("s", "x", 2.0, c, R, 1, m, g, 0.5, 1500.0)
    x = crossover(opt, ApiOption("a", a, 1500.0))
    assert x.first_volume is not None and x.always_from is not None
    assert not x.more_windows
    top = 3 * x.always_from
    for i in range(1, 20_001):
        v = top * i / 20_000
        # whole replicas by hand: the minimum, then steps of g over the continuous count
        n = m if v * c / R <= m else m + g * math.ceil((v * c / R - m) / g - 1e-12)
        cheaper = n * R / v <= a * (1 + 1e-12)
        inside = v >= x.always_from * (1 - 1e-12) or any(
            lo * (1 - 1e-12) <= v <= hi * (1 + 1e-12) for lo, hi in x.windows)
        assert cheaper == inside, (v, n)


def test_windows_beyond_the_listed_ones_are_counted():
    # c just under a: windows join from n ≥ 3 × 0.00101 ÷ 0.00001 = 303, the first count of
    # 5, 8, … past it is 305, so self-hosting stays cheaper from 302 replicas (302·R/a) on;
    # windows n = 5 … 299 come before: 99 of them, 12 listed
    opt = SelfHostedOption("s", "x", 2.0, 0.001, R, 1, 5, 3, 0.5, 1500.0)
    x = crossover(opt, ApiOption("a", 0.00101, 1500.0))
    assert x.replicas_at_always == 302
    assert x.always_from == pytest.approx(302 * R / 0.00101)
    assert len(x.windows) == 12 and x.more_windows == 87
    assert x.windows[1] == pytest.approx((8 * R / 0.00101, 8 * R / 0.001))


def test_tier_volume_and_evaluate_agree(capsys, tmp_path):
    p = scenario(tmp_path)
    out = run_json(capsys, "breakeven", str(p), "--tier", "t")
    assert out["today_basis"] == "tier t's conversations"
    ev = run_json(capsys, "evaluate", str(p))
    # no plan uses the GPU model: evaluate sizes it serving every conversation alone, as
    # breakeven does at today's volume, so both count the same replicas and cost; evaluate's
    # model cost stays at continuous sizing (1/1,800 USD), the fleet says the factor
    fleet = ev["fleet"]["gpu"]
    today = out["self_hosted"][0]["today"]
    assert fleet["replicas"] == today["replicas"] == 2
    assert fleet["cost_per_conversation_usd"] == pytest.approx(
        today["cost_per_conversation_usd"]) and fleet["fleet_usd_month"] == pytest.approx(2920)
    assert ev["models"]["gpu"]["cost_per_conversation_usd"] == pytest.approx(1 / 1800)
    assert fleet["whole_replica_factor"] == pytest.approx(2 / (1e6 / 1800 / 1460))
    assert main(["breakeven", str(p), "--tier", "nope"]) == 1


def test_worked_scenario_against_gpt4o(capsys):
    """The self-hosted scenario's 8B and 70B against GPT-4o: the crossover is the minimum
    fleet's monthly cost over GPT-4o's cost per conversation (evaluate), and the continuous
    cost is the fit's (econ fit), the whole-replica steps by hand."""
    out = run_json(capsys, "breakeven", str(SELF_HOSTED))
    a = run_json(capsys, "evaluate", str(SELF_HOSTED))["models"]["gpt-4o"][
        "cost_per_conversation_usd"]
    x = {(c["self_hosted"], c["price"]): c for c in out["crossovers"] if c["api"] == "gpt-4o"}
    for model, gpus in (("llama-8b", 1), ("llama-70b", 4)):
        c = run_json(capsys, "fit", str(SELF_HOSTED), "--model", model)[
            "cost_per_conversation_usd"]
        r = gpus * 2.99 * HOURS
        got = x[(model, "usd_per_gpu_hour")]
        assert c < a  # both are cheaper than GPT-4o once busy
        assert got["first_breakeven_conversations_month"] == pytest.approx(r / a)
        n = 1  # min_replicas 1, granularity 1: windows join from n ≥ a ÷ (a − c)
        while n < a / (a - c):
            n += 1
        last = max(1, n - 1)
        assert got["always_cheaper_from_conversations_month"] == pytest.approx(last * r / a)
        assert got["replicas_at_always_cheaper"] == last
