"""Invariants of the cost and pricing model, over generated inputs."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from econ.model.cost import api_cost_usd, self_hosted_cost_usd, time_model_from_measurement
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.model.prices import TokenPrices
from econ.model.tiers import price_floor_usd_month
from econ.scenario.conversation import conversation_tokens
from econ.scenario.schema import Fees, SelfHostedModel, ThroughputMeasurement
from tests.conftest import DEFAULT, SELF_HOSTED

prices = st.builds(TokenPrices, st.floats(0, 100), st.floats(0, 100),
                   st.one_of(st.none(), st.floats(0, 1)))
tok = st.floats(0, 5000)


def _cost_api(p: TokenPrices, turns, s, u, a, resend, hit):
    if p.cached_input_usd_per_mtok is not None:
        # a cache read never costs more than an uncached input token
        assume(p.cached_input_usd_per_mtok <= p.input_usd_per_mtok)
    return api_cost_usd(conversation_tokens(turns, s, u, a, resend, hit, cache="api"), p,
                        False)


@given(prices, st.integers(1, 30), tok, tok, tok, st.booleans(), st.floats(0, 1), tok, tok)
def test_api_cost_never_falls_as_tokens_or_turns_rise(p, turns, s, u, a, resend, hit, du, da):
    base = _cost_api(p, turns, s, u, a, resend, hit)
    assert _cost_api(p, turns, s, u + du, a, resend, hit) >= base - 1e-12
    assert _cost_api(p, turns, s, u, a + da, resend, hit) >= base - 1e-12
    assert _cost_api(p, turns + 1, s, u, a, resend, hit) >= base - 1e-12


@given(st.integers(1, 30), tok, tok, tok, st.booleans(), st.floats(0, 1), tok,
       st.sampled_from(["api", "self_hosted"]))
def test_cache_writes_and_reads_never_exceed_the_input(turns, s, u, a, resend, hit, r, cache):
    t = conversation_tokens(turns, s, u, a, resend, hit, r, cache=cache)
    assert t.cached_input_tokens >= 0 and t.cache_write_tokens >= -1e-9
    # reads and writes are disjoint parts of the input
    assert t.cached_input_tokens + t.cache_write_tokens <= t.input_tokens * (1 + 1e-12) + 1e-9
    assert t.output_tokens == pytest.approx(turns * (a + r), rel=1e-12)
    assert t.reasoning_tokens == pytest.approx(turns * r, rel=1e-12)
    if hit == 0:
        assert t.cache_write_tokens == 0


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 1), st.floats(1, 3),
       st.integers(1, 30), tok, tok, tok, st.booleans(), st.floats(0, 1), tok, tok, tok)
def test_api_cost_with_cache_writes_never_falls_as_tokens_rise(inp, out, read, write, turns, s,
                                                               u, a, resend, hit, r, du, dr):
    # Anthropic-style: reads at most the input price, writes at 1x to 3x of it
    p = TokenPrices(inp, out, read * inp, cache_write_input_usd_per_mtok=write * inp)

    def cost(t, uu, rr):
        return api_cost_usd(conversation_tokens(t, s, uu, a, resend, hit, rr, cache="api"),
                            p, False)

    base = cost(turns, u, r)
    assert cost(turns, u + du, r) >= base - 1e-12
    assert cost(turns, u, r + dr) >= base - 1e-12
    assert cost(turns + 1, u, r) >= base - 1e-12


@given(st.integers(1, 30), tok, tok, tok, st.floats(0, 1), st.floats(0.01, 5), tok, tok)
def test_self_hosted_cost_never_falls_as_tokens_rise(turns, s, u, a, hit, rho, du, da):
    m = SelfHostedModel(serving="self_hosted", role="student", gpu="H100", usd_per_gpu_hour=3.0,
                        gpus_per_replica=2, target_utilisation=0.5, peak_to_average=1.5,
                        throughput=ThroughputMeasurement(output_tokens_per_s=4000,
                                                         input_tokens_per_request=500,
                                                         output_tokens_per_request=300),
                        prefill_cost_ratio=rho)
    assert m.throughput is not None
    tm = time_model_from_measurement(m.throughput, rho)

    def cost(t, uu, aa):
        return self_hosted_cost_usd(
            conversation_tokens(t, s, uu, aa, True, hit, cache="self_hosted"), m, tm)

    base = cost(turns, u, a)
    assert cost(turns, u + du, a) >= base - 1e-15
    assert cost(turns, u, a + da) >= base - 1e-15
    assert cost(turns + 1, u, a) >= base - 1e-15


@given(st.floats(0, 1000), st.floats(0, 0.9), st.floats(0, 0.9), st.floats(0, 0.09),
       st.floats(0, 1))
def test_higher_target_margin_never_lowers_floor(cost, m1, m2, rate, fixed):
    lo, hi = sorted((m1, m2))
    assume(hi + rate < 1)
    fees = Fees(payment_rate=rate, payment_fixed_usd=fixed)
    assert price_floor_usd_month(cost, hi, fees) >= price_floor_usd_month(cost, lo, fees)


_LOADED = {p: load_scenario(p) for p in (DEFAULT, SELF_HOSTED)}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([DEFAULT, SELF_HOSTED]), st.data())
def test_consenting_to_lose_more_never_raises_plan_cost(path, data):
    loaded = _LOADED[path]
    caps = [c.id for c in loaded.scenario.capabilities]
    small = data.draw(st.sets(st.sampled_from(caps)))
    large = small | data.draw(st.sets(st.sampled_from(caps)))
    a = evaluate(loaded.scenario, loaded.measured, consent=sorted(small))
    b = evaluate(loaded.scenario, loaded.measured, consent=sorted(large))
    for ta, tb in zip(a.tiers, b.tiers, strict=True):
        assert tb.economics.cost_per_conversation_usd <= ta.economics.cost_per_conversation_usd \
            + 1e-15
        # a paid tier's floor, a free tier's cost per user (it has no floor)
        assert tb.economics.measure_usd_month <= ta.economics.measure_usd_month + 1e-12
