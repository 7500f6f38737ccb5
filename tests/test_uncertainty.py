from __future__ import annotations

import json
import math
import re
import threading
import tracemalloc
from dataclasses import replace

import pytest
import yaml
from scipy.stats import norm

from econ.base.draw_limits import MAX_DRAWS
from econ.base.errors import EconError
from econ.cli import main
from econ.decisions import uncertainty
from econ.decisions.draws import SEED_DRAWS
from econ.decisions.sensitivity import sensitivity
from econ.decisions.uncertainty import FIGURES, simulate, tier_key
from econ.model.evaluate import evaluate
from econ.model.loader import Loaded, load_scenario, parse_scenario
from tests import verdicts_by_hand as hand
from tests.conftest import DEFAULT, SELF_HOSTED, raw_yaml


def zero_spread(path):
    """Every spread set to zero: token lengths, throughputs, turns, API prices, conversations
    per user."""
    text, n = re.subn(r"(_cv: )[0-9.]+", r"\g<1>0.0", path.read_text())
    assert n >= 5
    return parse_scenario(text, str(path), base_dir=path.parent)


def no_fit_interval(ev):
    """The evaluation without its self-hosted prediction intervals, a spread the Monte Carlo
    draws throughput from (issue 22): with every spread at zero, they go too."""
    return replace(ev, gpu_intervals={})


@pytest.mark.parametrize("path", [DEFAULT, SELF_HOSTED])
def test_zero_spread_reproduces_deterministic_result_exactly(path):
    loaded = zero_spread(path)
    ev = no_fit_interval(evaluate(loaded.scenario, loaded.measured))
    result = simulate(ev, loaded.measured, draws=70_000, seed=3, loss_spread=False, cache=False)
    for r, t in zip(result, ev.tiers, strict=True):
        e = t.economics
        assert r.cost_per_conversation_usd == (e.cost_per_conversation_usd,) * 3
        assert r.cost_per_user_month_usd == (e.cost_per_user_month_usd,) * 3
        # a free tier has no floor, in the draws as in the point
        assert r.price_floor_usd_month == (None if e.free else (e.price_floor_usd_month,) * 3)
        assert r.loss_usd_month == (t.loss_usd_month,) * 3  # bit for bit, as the rest
        if e.meets_target is not None:
            assert r.p_margin_meets_target == float(e.meets_target)


def test_a_seed_gives_the_same_figures_on_any_threads_chunks_and_tier_grouping(monkeypatch):
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    draws = 9 * SEED_DRAWS + 1234  # two chunks of 8 runs and a short one
    a = simulate(ev, loaded.measured, draws=draws, seed=11, cache=False, workers=1)
    b = simulate(ev, loaded.measured, draws=draws, seed=11, cache=False, workers=2)
    # kept figures of one tier only at a time: every tier computed on its own
    monkeypatch.setattr(uncertainty, "KEPT_BYTES", 1)
    c = simulate(ev, loaded.measured, draws=draws, seed=11, cache=False, workers=2)
    # chunks of one seeding run each
    monkeypatch.setattr(uncertainty, "CHUNK_BYTES", 1)
    d = simulate(ev, loaded.measured, draws=draws, seed=11, cache=False, workers=2)
    e = simulate(ev, loaded.measured, draws=draws, seed=12, cache=False)
    assert a == b == c == d
    assert a != e


def test_too_many_random_inputs_are_refused_before_drawing(monkeypatch):
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    monkeypatch.setattr(uncertainty, "MAX_CHUNK_BYTES", 1024 * 1024)
    with pytest.raises(EconError, match="the limit is 1 MiB"):
        simulate(ev, loaded.measured, draws=1000, cache=False)


def test_many_spread_inputs_stay_within_the_chunk_budget(tmp_path):
    """300 capabilities, each with a traffic-share spread: the chunk shrinks so its arrays stay
    near CHUNK_BYTES (a fixed chunk of 8 runs would hold 300 × 64k draws × 8 bytes, 157 MB)."""
    caps = [{"id": f"c{i}", "traffic_share": 0.003, "traffic_share_sd": 0.001,
             "severity_usd": 0.1} for i in range(300)]
    price = {"prices": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 1}}
    data = {"schema_version": 2, "name": "wide",
            "conversation": {"turns": 2, "system_prompt_tokens": 10, "user_tokens_per_turn": 10,
                             "assistant_tokens_per_turn": 10},
            "models": {"t": {"serving": "api", "role": "teacher", **price},
                       "s": {"serving": "api", "role": "student", **price}},
            "capabilities": caps,
            "tiers": [{"id": "x", "price_usd_month": 10, "users": 1000,
                       "conversations_per_user_month": 10, "target_gross_margin": 0.5,
                       "plan": {"model": "t"}}]}
    p = tmp_path / "wide.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load_scenario(p)
    ev = evaluate(loaded.scenario, loaded.measured)
    draws = 8 * SEED_DRAWS
    tracemalloc.start()
    simulate(ev, loaded.measured, draws=draws, cache=False, workers=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    kept = FIGURES * 8 * draws
    # measured: 59 MiB; with chunks of 8 runs whatever the inputs, 154 MiB
    assert peak < kept + 1.5 * uncertainty.CHUNK_BYTES


def _counting(monkeypatch) -> list[str]:
    """Record the tiers the Monte Carlo actually computes (a cache miss)."""
    computed: list[str] = []
    real = uncertainty._simulate_group

    def spy(ev, measured, tiers, *args):
        computed.extend(t.economics.tier for t in tiers)
        return real(ev, measured, tiers, *args)

    monkeypatch.setattr(uncertainty, "_simulate_group", spy)
    return computed


def test_each_tier_is_computed_once_per_input_state(monkeypatch):
    uncertainty.clear_cache()
    computed = _counting(monkeypatch)
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    first = simulate(ev, loaded.measured, draws=3000, seed=4)
    assert computed == ["free", "plus", "pro"]
    # the same state again (a tab revisited, the A/B tab, the record): nothing recomputed
    assert simulate(evaluate(loaded.scenario, loaded.measured), loaded.measured, 3000, 4) == first
    assert computed == ["free", "plus", "pro"]
    # a tick on plus (factual_qa goes back to GPT-4o) recomputes plus only
    ticked = evaluate(loaded.scenario, loaded.measured, consent={"plus": ["creative_assist"]})
    again = simulate(ticked, loaded.measured, 3000, 4)
    assert computed == ["free", "plus", "pro", "plus"]
    assert (again[0], again[2]) == (first[0], first[2]) and again[1] != first[1]
    # and the result is the one a cold computation gives
    assert again == simulate(ticked, loaded.measured, 3000, 4, cache=False)
    del computed[:]
    # another seed or draw count is another state
    simulate(ev, loaded.measured, 3000, 5)
    simulate(ev, loaded.measured, 3001, 4)
    assert computed == ["free", "plus", "pro"] * 2
    uncertainty.clear_cache()


def test_tier_key_follows_what_the_tier_reads():
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    s = loaded.scenario

    def keys(scenario, consent=None, draws=1000, seed=0):
        ev = evaluate(scenario, loaded.measured, consent=consent)
        return {t.economics.tier: tier_key(ev, loaded.measured, t, draws, seed)
                for t in ev.tiers}

    base = keys(s)
    # free has no router: its consent moves no traffic, so no figure of the Monte Carlo
    assert keys(s, {"free": ["creative_assist"]}) == base
    # plus un-ticks factual_qa: it goes to GPT-4o; plus's key moves, the others' do not
    ticked = keys(s, {"plus": ["creative_assist"]})
    assert ticked["plus"] != base["plus"]
    assert (ticked["free"], ticked["pro"]) == (base["free"], base["pro"])
    priced = s.model_copy(update={"tiers": [
        t.model_copy(update={"price_usd_month": 25.0}) if t.id == "plus" else t
        for t in s.tiers]})
    moved = keys(priced)
    assert moved["plus"] != base["plus"]
    assert (moved["free"], moved["pro"]) == (base["free"], base["pro"])
    # every tier reads the capabilities (traffic shares are drawn together)
    caps = [c.model_copy(update={"severity_usd": c.severity_usd * 2}) for c in s.capabilities]
    assert all(a != b for a, b in zip(keys(s.model_copy(update={"capabilities": caps})).values(),
                                      base.values(), strict=True))
    # a model no tier serves (gpt-4o-mini) reads into no key
    mini = s.models["gpt-4o-mini"].model_copy(update={"price_cv": 0.5})
    assert keys(s.model_copy(update={"models": {**s.models, "gpt-4o-mini": mini}})) == base
    assert keys(s, seed=1) != base and keys(s, draws=1001) != base


def test_draws_are_capped():
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    with pytest.raises(ValueError, match="1 to 1,000,000"):
        simulate(ev, loaded.measured, draws=MAX_DRAWS + 1)


def test_memory_grows_with_the_kept_figures_only(monkeypatch):
    """Going from 100k to 300k draws adds the 24 bytes per draw and tier kept for exact
    percentiles, and nothing of size draws × inputs (blocks are drawn and dropped)."""
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)

    def peak(draws: int) -> int:
        tracemalloc.start()
        simulate(ev, loaded.measured, draws=draws, seed=0, cache=False, workers=1)
        out = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return out

    tiers = len(ev.tiers)
    grown = peak(300_000) - peak(100_000)
    assert grown < 1.1 * FIGURES * 8 * 200_000 * tiers + 4e6
    monkeypatch.setattr(uncertainty, "KEPT_BYTES", FIGURES * 8 * 300_000)  # one tier at a time
    assert peak(300_000) - peak(100_000) < 1.1 * FIGURES * 8 * 200_000 + 4e6


def one_capability(tmp_path, student: dict | None) -> Loaded:
    """A teacher and a student, one capability (all the traffic, 1 USD a failure), one tier of
    1,000 users × 10 conversations on the student: the loss is 10,000 × drop."""
    cap = {"id": "chat", "traffic_share": 1.0, "severity_usd": 1.0,
           "evals": {"t": {"examples": 200, "passed": 180}, **({"s": student} if student else {})}}
    price = {"prices": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 1}}
    data = {"schema_version": 2, "name": "one",
            "conversation": {"turns": 2, "system_prompt_tokens": 10, "user_tokens_per_turn": 10,
                             "assistant_tokens_per_turn": 10},
            "models": {"t": {"serving": "api", "role": "teacher", **price},
                       "s": {"serving": "api", "role": "student", **price}},
            "capabilities": [cap],
            "tiers": [{"id": "x", "price_usd_month": 10, "users": 1000,
                       "conversations_per_user_month": 10, "target_gross_margin": 0.5,
                       "consent": ["chat"], "plan": {"model": "s"}, "teacher": "t"}]}
    p = tmp_path / "one.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(p)


def test_loss_draws_centre_on_the_point_drop(tmp_path):
    """A measured drop is drawn around the point the evaluation uses: the median of the loss
    is the point loss, and P5 / P95 follow the drop's 95% interval (MOVER over Clopper–Pearson
    limits, written out over statsmodels' limits in tests/verdicts_by_hand.py)."""
    loaded = one_capability(tmp_path, {"examples": 200, "passed": 160})
    ev = evaluate(loaded.scenario, loaded.measured)
    assert ev.tiers[0].loss_usd_month == pytest.approx(10_000 * (0.9 - 0.8), rel=1e-12)
    lo, hi = hand.Binary(180, 200, 160, 200).bounds(0.025)
    z95, z90 = norm.ppf(0.975), norm.ppf(0.95)
    p5 = 10_000 * (0.1 - z90 * (0.1 - lo) / z95)
    p95 = 10_000 * (0.1 + z90 * (hi - 0.1) / z95)
    r = simulate(ev, loaded.measured, draws=400_000, seed=2, cache=False)[0]
    # the sampling error of a percentile of 400k normal draws is under 0.1% of these figures
    assert r.loss_usd_month == pytest.approx((p5, 1000.0, p95), rel=5e-3)


def test_unmeasured_capability_loss_is_drawn_from_its_prior(tmp_path):
    """No student examples: the point counts the drop at the uniform prior's pessimistic end
    (0.9 − 0.025); the draws take the student's pass rate from that prior, U(0, 1), so the
    drop is max(0.9 − U, 0): P5 0, P50 0.4, P95 0.85, and the point is their P97.5."""
    loaded = one_capability(tmp_path, None)
    ev = evaluate(loaded.scenario, loaded.measured)
    assert ev.tiers[0].loss_usd_month == pytest.approx(10_000 * (0.9 - 0.025), rel=1e-12)
    r = simulate(ev, loaded.measured, draws=400_000, seed=2, cache=False)[0]
    p5, p50, p95 = r.loss_usd_month
    assert p5 == 0.0
    # four standard errors of a percentile q of n uniform draws: sqrt(q(1 - q) / n), × 10,000
    assert p50 == pytest.approx(4000.0, abs=4 * 10_000 * (0.25 / 400_000) ** 0.5)
    assert p95 == pytest.approx(8500.0, abs=4 * 10_000 * (0.05 * 0.95 / 400_000) ** 0.5)
    held = simulate(ev, loaded.measured, draws=1000, seed=2, loss_spread=False, cache=False)[0]
    assert held.loss_usd_month == (ev.tiers[0].loss_usd_month,) * 3


def test_conversations_spread_is_documented_as_the_tier_mean():
    from econ.scenario.schema import Tier

    text = Tier.model_fields["conversations_per_user_month_cv"].description or ""
    assert "mean" in text and "not the spread across" in text


def test_uncertainty_cli(capsys):
    assert main(["uncertainty", str(DEFAULT), "--draws", "2000", "--seed", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["tiers"]) == {"free", "plus", "pro"}
    plus = out["tiers"]["plus"]
    assert set(plus["price_floor_usd_month"]) == {"p5", "p50", "p95"}
    assert 0 <= plus["p_margin_meets_target"] <= 1
    assert out["tiers"]["free"]["p_margin_meets_target"] is None


def test_sensitivity_by_hand():
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    rows = sensitivity(ev, loaded.measured, 0.2)
    y = raw_yaml(DEFAULT)
    pro = next(t for t in y["tiers"] if t["id"] == "pro")
    per_user = next(t for t in ev.tiers if t.economics.tier == "pro").economics
    row = next(r for r in rows if r.input == "tiers[pro].target_gross_margin")
    rate, fixed = y["fees"]["payment_rate"], y["fees"]["payment_fixed_usd"]
    for m, got in ((0.48, row.floor_at_low["pro"]), (0.72, row.floor_at_high["pro"])):
        assert got == pytest.approx((per_user.cost_per_user_month_usd + fixed) / (1 - m - rate))
    assert pro["target_gross_margin"] == 0.6
    # ranked by the largest swing on any tier; severities move no floor and are left out
    assert not any("severity" in r.input for r in rows)
    swings = [max(r.swing(t) for t in ("free", "plus", "pro")) for r in rows]
    assert swings == sorted(swings, reverse=True)


def test_sensitivity_cli(capsys):
    assert main(["sensitivity", str(SELF_HOSTED), "--json", "--swing", "0.1"]) == 0
    out = json.loads(capsys.readouterr().out)
    team = out["tiers"]["team"]["inputs"]
    assert team[0]["swing_usd_month"] >= team[-1]["swing_usd_month"] > 0
    assert any(i["input"] == "measured throughput of llama-8b (× base)" for i in team)


@pytest.mark.parametrize(("spread", "tiers"), [
    ("turns_cv", {"free", "plus", "pro"}),
    ("price_cv", {"plus", "pro"}),  # API models serve plus (GPT-4o) and pro; free is self-hosted
    ("conversations_per_user_month_cv", {"free", "plus", "pro"}),
])
def test_each_new_spread_widens_the_floors_it_touches(spread, tiers):
    """Only one spread left on: the tiers it reaches get an interval, the others stay exact
    (a free tier's figure is its cost per user: it has no floor)."""
    text = re.sub(r"(_cv: )[0-9.]+", r"\g<1>0.0", DEFAULT.read_text())
    text = re.sub(rf"({spread}: )0\.0", r"\g<1>0.3", text)
    loaded = parse_scenario(text, str(DEFAULT), base_dir=DEFAULT.parent)
    ev = no_fit_interval(evaluate(loaded.scenario, loaded.measured))
    result = simulate(ev, loaded.measured, draws=4000, seed=2, loss_spread=False)
    for r, t in zip(result, ev.tiers, strict=True):
        e = t.economics
        assert (r.price_floor_usd_month is None) == e.free
        p5, p50, p95 = r.cost_per_user_month_usd if e.free else r.price_floor_usd_month
        if r.tier in tiers:
            assert p5 < e.measure_usd_month < p95
        else:
            assert p5 == p50 == p95 == e.measure_usd_month


def test_the_monte_carlo_draws_from_the_prediction_interval():
    """Every spread at zero but the fit's own: the free tier, served by the self-hosted 8B
    alone, spreads as its prediction interval says. Its cost is base ÷ T with T a lognormal
    throughput factor of log-sd σ (the model's traffic-weighted interval), so its P5 and P95
    are base × exp(∓1.645 σ)."""
    loaded = zero_spread(DEFAULT)
    ev = evaluate(loaded.scenario, loaded.measured)
    sigma = ev.gpu_intervals["llama-8b-distilled"].log_sd
    assert sigma > 0.1
    free = next(t for t in ev.tiers if t.economics.tier == "free")
    assert free.assignment.models == ("llama-8b-distilled",)
    base = free.economics.cost_per_conversation_usd
    (r, *_) = simulate(ev, loaded.measured, draws=40_000, seed=4, loss_spread=False,
                       cache=False)
    p5, p50, p95 = r.cost_per_conversation_usd
    z = 1.6448536269514722
    assert p50 == pytest.approx(base, rel=0.01)
    assert p5 == pytest.approx(base * math.exp(-z * sigma), rel=0.02)
    assert p95 == pytest.approx(base * math.exp(z * sigma), rel=0.02)


def _held(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Hold every Monte Carlo computation until ``gate`` is set; ``started`` is set when one
    reaches it (the spy of :func:`_counting`, if installed, still records it)."""
    gate, started = threading.Event(), threading.Event()
    real = uncertainty._simulate_group

    def held(*args, **kwargs):
        started.set()
        gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(uncertainty, "_simulate_group", held)
    return gate, started


def test_a_prefetch_is_waited_for_not_computed_twice(monkeypatch):
    """The app prefetches the Monte Carlo after a tick while the tab is closed: coming back,
    simulate takes the prefetch's result (computed once, as a cold computation gives it)."""
    uncertainty.clear_cache()
    computed = _counting(monkeypatch)
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    simulate(ev, loaded.measured, 3000, 4)
    ticked = evaluate(loaded.scenario, loaded.measured, consent={"plus": ["creative_assist"]})
    gate, _ = _held(monkeypatch)  # the prefetch runs until the test lets it finish
    future = uncertainty.prefetch(ticked, loaded.measured, 3000, 4)
    assert future is not None
    assert uncertainty.prefetch(ticked, loaded.measured, 3000, 4) is None  # under way already
    threading.Timer(0.2, gate.set).start()
    got = simulate(ticked, loaded.measured, 3000, 4)  # waits for the prefetch
    assert future.done()
    assert computed == ["free", "plus", "pro", "plus"]  # plus once, by the prefetch
    assert got == simulate(ticked, loaded.measured, 3000, 4, cache=False)
    assert uncertainty.prefetch(ticked, loaded.measured, 3000, 4) is None  # all cached
    uncertainty.clear_cache()


def test_a_failed_prefetch_leaves_the_error_to_the_caller(monkeypatch):
    uncertainty.clear_cache()
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)

    def broken(*args, **kwargs):
        raise EconError("the Monte Carlo would hold too many arrays")

    monkeypatch.setattr(uncertainty, "_simulate_group", broken)
    future = uncertainty.prefetch(ev, loaded.measured, 3000, 4)
    assert future is not None
    with pytest.raises(EconError, match="too many arrays"):
        future.result(30)
    with pytest.raises(EconError, match="too many arrays"):  # computed (and failed) again
        simulate(ev, loaded.measured, 3000, 4)
    uncertainty.clear_cache()


def test_a_computation_under_way_is_not_started_twice(monkeypatch):
    """A rerun that starts while another is computing the same state (or a prefetch then) waits
    for it: the tiers are computed once."""
    uncertainty.clear_cache()
    computed = _counting(monkeypatch)
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    gate, started = _held(monkeypatch)
    results: list = []
    first = threading.Thread(target=lambda: results.append(simulate(ev, loaded.measured, 3000, 4)))
    first.start()
    assert started.wait(30)
    assert uncertainty.prefetch(ev, loaded.measured, 3000, 4) is None  # under way: no prefetch
    threading.Timer(0.2, gate.set).start()
    second = simulate(ev, loaded.measured, 3000, 4)  # waits for the first
    first.join(30)
    assert results == [second]
    assert computed == ["free", "plus", "pro"]
    assert uncertainty._inflight == {}
    uncertainty.clear_cache()


def test_a_prefetch_for_a_newer_state_does_not_cancel_a_computation_under_way(monkeypatch):
    """A tick during a rerun's Monte Carlo: the new state's prefetch drops queued prefetches
    only, never the running computation (which then ends normally, its tiers cached)."""
    uncertainty.clear_cache()
    computed = _counting(monkeypatch)
    loaded = parse_scenario(DEFAULT.read_text(), str(DEFAULT))
    ev = evaluate(loaded.scenario, loaded.measured)
    ticked = evaluate(loaded.scenario, loaded.measured, consent={"plus": ["creative_assist"]})
    gate, started = _held(monkeypatch)
    errors: list[BaseException] = []

    def foreground() -> None:
        try:
            simulate(ev, loaded.measured, 3000, 4)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=foreground)
    first.start()
    assert started.wait(30)
    future = uncertainty.prefetch(ticked, loaded.measured, 3000, 4)  # plus only is new
    gate.set()
    first.join(30)
    assert future is not None
    future.result(30)
    assert errors == []
    # the two ran at once: each tier once, plus once per state, in either order
    assert sorted(computed) == ["free", "plus", "plus", "pro"]
    uncertainty.clear_cache()
