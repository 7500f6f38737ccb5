"""An API's prompt cache holds what was sent, never the answer that followed it.

Every expected figure is worked out here turn by turn (the prompts of a conversation listed one
by one, the cacheable prefix of turn k being turn k−1's prompt, or the shared system prompt at
turn 1), at Anthropic's Sonnet 4.5 prices (data/SOURCES.md §3: input 3, output 15, cache read
0.30, 5-minute cache write 3.75 USD per million tokens), never from econ's closed forms.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from econ.cli import main
from econ.decisions.uncertainty import simulate
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.scenario.conversation import conversation_tokens

IN, OUT, READ, WRITE = 3.0, 15.0, 0.30, 3.75  # USD per million tokens, claude-sonnet-4-5


def by_hand(turns: int, s: float, u: float, a: float, resend: bool, hit: float,
            keeps_answers: bool = False) -> dict[str, float]:
    """Tokens and USD of one conversation, turn by turn.

    ``keeps_answers``: the cache of a self-hosted server, which holds the KV blocks of the
    tokens it generated, so turn k (k ≥ 2) may read all of turn k−1 with its answer (and turn 1
    nothing); otherwise an API's cache: turn k may read what turn k−1 sent (turn 1: the system
    prompt every conversation shares)."""
    prompts: list[float] = []
    sent_and_answered: list[float] = []
    inp = read = written = 0.0
    for k in range(1, turns + 1):
        history = sum(u + a for _ in range(k - 1)) if resend else 0.0
        prompt = s + history + u
        if keeps_answers:
            prefix = 0.0 if k == 1 else (sent_and_answered[-1] if resend else s)
        else:
            prefix = s if k == 1 or not resend else prompts[-1]
        reusable = prompt if resend else s  # what a later turn of this conversation can read
        r = hit * prefix
        inp += prompt
        read += r
        written += (reusable - r) if hit > 0 else 0.0
        prompts.append(prompt)
        sent_and_answered.append(prompt + a)
    usd = ((inp - read - written) * IN + written * WRITE + read * READ + turns * a * OUT) / 1e6
    return {"input": inp, "read": read, "written": written, "output": turns * a, "usd": usd}


SHAPES = [  # (turns, system prompt, user, assistant tokens a turn, history re-sent)
    (3, 1000.0, 100.0, 200.0, True),
    (5, 500.0, 295.58, 441.34, True),  # the worked scenarios' base shape, five turns
    (3, 500.0, 295.58, 441.34, True),  # ... and three (the self-hosted scenario)
    (5, 500.0, 1500.0, 441.34, True),  # code help: pasted code
    (1, 2000.0, 50.0, 100.0, True),
    (4, 800.0, 120.0, 300.0, False),
]


def test_the_hand_computation_of_the_first_shape():
    """Turn by turn, three turns, S 1000, u 100, a 200, every cacheable token hit:

    turn  prompt                    cacheable (read)            written (prompt − read)
    1     1000 + 100       = 1100   system prompt       = 1000    100
    2     1000 + 300 + 100 = 1400   turn 1's prompt     = 1100    300 (answer 1 + user 2)
    3     1000 + 600 + 100 = 1700   turn 2's prompt     = 1400    300
    total                    4200                         3500    700;  output 600
    USD = (700 × 3.75 + 3500 × 0.30 + 600 × 15) / 1e6 = (2625 + 1050 + 9000) / 1e6
    The old rule read turn k−1's answer too: 0 + 1300 + 1600 = 2900 read, 1300 written,
    (1300 × 3.75 + 2900 × 0.30 + 9000) / 1e6 = 0.014745: 14% under the bill."""
    h = by_hand(3, 1000, 100, 200, True, 1.0)
    assert (h["input"], h["read"], h["written"], h["output"]) == (4200, 3500, 700, 600)
    assert h["usd"] == pytest.approx(0.012675, rel=1e-12)
    old = by_hand(3, 1000, 100, 200, True, 1.0, keeps_answers=True)
    assert (old["read"], old["written"]) == (2900, 1300)
    assert old["usd"] == pytest.approx(0.014745, rel=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("hit", [1.0, 0.5])
def test_tokens_follow_the_turns(shape, hit):
    turns, s, u, a, resend = shape
    for cache, keeps in (("api", False), ("self_hosted", True)):
        h = by_hand(turns, s, u, a, resend, hit, keeps_answers=keeps)
        t = conversation_tokens(turns, s, u, a, resend, hit, cache=cache)
        assert t.input_tokens == pytest.approx(h["input"], rel=1e-12)
        assert t.cached_input_tokens == pytest.approx(h["read"], rel=1e-12, abs=1e-9)
        assert t.cache_write_tokens == pytest.approx(h["written"], rel=1e-12, abs=1e-9)
        assert t.output_tokens == pytest.approx(h["output"], rel=1e-12)


def scenario(turns: int, s: float, u: float, a: float, resend: bool, hit: float) -> dict:
    return {
        "schema_version": 2, "name": "prompt-cache",
        "conversation": {"turns": turns, "system_prompt_tokens": s, "user_tokens_per_turn": u,
                         "assistant_tokens_per_turn": a, "resend_history": resend,
                         "cache_hit_rate": hit},
        "models": {"sonnet": {"serving": "api", "role": "teacher",
                              "price_key": "claude-sonnet-4-5"},
                   "s": {"serving": "api", "role": "student",
                         "prices": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 1}}},
        "capabilities": [{"id": "chat", "traffic_share": 1.0, "severity_usd": 0.0}],
        "tiers": [{"id": "t", "price_usd_month": 10, "users": 100,
                   "conversations_per_user_month": 30, "target_gross_margin": 0.5,
                   "plan": {"model": "sonnet"}}],
    }


@pytest.mark.parametrize("shape", SHAPES)
def test_a_cached_api_model_at_full_hit_is_billed_by_hand(capsys, tmp_path, shape):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(scenario(*shape, 1.0), sort_keys=False))
    assert main(["evaluate", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    h = by_hand(*shape, 1.0)
    assert out["models"]["sonnet"]["cost_per_conversation_usd"] == pytest.approx(h["usd"],
                                                                                rel=1e-12)
    tokens = out["models"]["sonnet"]["tokens_per_conversation"]
    assert tokens["cached_input_tokens"] == pytest.approx(h["read"], rel=1e-12)
    assert tokens["cache_write_tokens"] == pytest.approx(h["written"], rel=1e-12)
    assert out["tiers"]["t"]["cost_per_conversation_usd"] == pytest.approx(h["usd"], rel=1e-12)


def test_the_old_rule_understated_a_cached_api_model():
    """The rule that let turn k read turn k−1's answer undercharged a multi-turn conversation
    with history by several per cent at a full hit (the issue says 2–12%); a one-turn
    conversation, or one without history, now reads the shared system prompt at turn 1 and
    costs less than the old rule said."""
    gaps = {}
    for turns, s, u, a, resend in SHAPES:
        new = by_hand(turns, s, u, a, resend, 1.0)["usd"]
        old = by_hand(turns, s, u, a, resend, 1.0, keeps_answers=True)["usd"]
        gaps[(turns, s, u, a, resend)] = new / old - 1
    assert gaps[(5, 500.0, 295.58, 441.34, True)] == pytest.approx(0.1006, abs=5e-4)
    assert gaps[(3, 500.0, 295.58, 441.34, True)] == pytest.approx(0.0507, abs=5e-4)
    assert gaps[(5, 500.0, 1500.0, 441.34, True)] == pytest.approx(0.0628, abs=5e-4)
    assert gaps[(1, 2000.0, 50.0, 100.0, True)] < 0
    assert gaps[(4, 800.0, 120.0, 300.0, False)] < 0


def test_self_hosted_prefix_cache_keeps_its_rule():
    """A self-hosted model's GPU time is charged on the turns its server's prefix cache sees:
    the scenario's self-hosted figures are those of the rule that holds generated tokens."""
    from tests.conftest import SELF_HOSTED

    loaded = load_scenario(SELF_HOSTED)
    ev = evaluate(loaded.scenario, loaded.measured)
    shape = loaded.scenario.conversation
    h = by_hand(shape.turns, shape.system_prompt_tokens, shape.user_tokens_per_turn,
                shape.assistant_tokens_per_turn, shape.resend_history, shape.cache_hit_rate,
                keeps_answers=True)
    llama = ev.costs.uncategorised_tokens["llama-8b"]
    assert llama.cached_input_tokens == pytest.approx(h["read"], rel=1e-12)
    api = ev.costs.uncategorised_tokens["gpt-4o"]
    assert api.cached_input_tokens == pytest.approx(by_hand(
        shape.turns, shape.system_prompt_tokens, shape.user_tokens_per_turn,
        shape.assistant_tokens_per_turn, shape.resend_history,
        shape.cache_hit_rate)["read"], rel=1e-12)


def test_monte_carlo_without_spread_reproduces_the_cached_api_plan(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(scenario(5, 500.0, 295.58, 441.34, True, 1.0), sort_keys=False))
    loaded = load_scenario(p)
    ev = evaluate(loaded.scenario, loaded.measured)
    (r,) = simulate(ev, loaded.measured, draws=500, seed=2, loss_spread=False, cache=False)
    h = by_hand(5, 500.0, 295.58, 441.34, True, 1.0)
    assert ev.tier("t").economics.cost_per_conversation_usd == pytest.approx(h["usd"], rel=1e-12)
    assert r.cost_per_conversation_usd == pytest.approx((h["usd"],) * 3, rel=1e-12)
    # fractional turns (a draw of 1.5 turns) never count an answer as cached
    t = conversation_tokens(np.array([1.5, 2.0]), 0.0, 0.0, 100.0, True, 1.0, cache="api")
    assert t.cached_input_tokens[0] == 0 and t.cached_input_tokens[1] == 0


def test_every_cached_api_model_of_the_worked_scenarios(capsys):
    """Before/after of each API model with caching on in the worked scenarios (the default
    scenario caches nothing; the self-hosted one hits half the cacheable prefix): gpt-4o there,
    by hand at its prices (2.50 in, 1.25 cached, 10 out; no write price: writes at 2.50)."""
    from tests.conftest import DEFAULT, SELF_HOSTED, raw_snapshot, raw_yaml

    for path in (DEFAULT, SELF_HOSTED):
        y = raw_yaml(path)
        assert main(["evaluate", str(path), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        for mid, m in y["models"].items():
            if m["serving"] != "api":
                continue
            price = raw_snapshot()[m["price_key"]]
            cached_price = price.get("cache_read_input_token_cost",
                                     price["input_cost_per_token"])
            rest = 1 - sum(c["traffic_share"] for c in y["capabilities"])
            usd = 0.0
            for w, cap in [(c["traffic_share"], c) for c in y["capabilities"]] + [(rest, {})]:
                sh = {"resend_history": True, "cache_hit_rate": 0.0, **y["conversation"],
                      **(cap.get("conversation") or {})}
                r = cap.get("reasoning_tokens_per_turn", {}).get(
                    mid, m.get("reasoning_tokens_per_turn", 0.0))
                h = by_hand(sh["turns"], sh["system_prompt_tokens"], sh["user_tokens_per_turn"],
                            sh["assistant_tokens_per_turn"], sh["resend_history"],
                            sh["cache_hit_rate"])
                usd += w * ((h["input"] - h["read"]) * price["input_cost_per_token"]
                            + h["read"] * cached_price
                            + (h["output"] + sh["turns"] * r) * price["output_cost_per_token"])
            assert out["models"][mid]["cost_per_conversation_usd"] == pytest.approx(
                usd, rel=1e-12), (path.name, mid)
