"""Verdicts are tested once per set of eval results (Measured) and what else they read: a
frontier or a planning session evaluates many plans without re-testing every comparison, and
any change that moves a verdict (a tolerance, the multiplicity correction, the eval results)
gives the verdicts a fresh load gives."""

from __future__ import annotations

from dataclasses import replace

import pytest

import econ.model.evaluate as evaluate_mod
from econ.evidence.retention import SliceResults
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.conftest import DEFAULT


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = evaluate_mod.compare_slices

    def counting(capability, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(capability)
        return real(capability, *args, **kwargs)

    monkeypatch.setattr(evaluate_mod, "compare_slices", counting)
    return seen


def test_plans_and_consent_reuse_the_verdicts(calls: list[str]) -> None:
    loaded = load_scenario(DEFAULT)
    first = evaluate(loaded.scenario, loaded.measured)
    assert calls
    calls.clear()
    other = evaluate(loaded.scenario, loaded.measured,
                     consent={"plus": ("creative_assist", "factual_qa", "math")})
    assert calls == []
    assert other.pairs == first.pairs and other.retention == first.retention


@pytest.mark.parametrize("change", ["tolerance", "multiplicity", "evals"])
def test_what_moves_a_verdict_is_tested_afresh(change: str, calls: list[str]) -> None:
    loaded = load_scenario(DEFAULT)
    s, measured = loaded.scenario, loaded.measured
    evaluate(s, measured)  # fills the memo
    if change == "tolerance":
        caps = [c.model_copy(update={"tolerance": 0.3}) if c.id == "clarifying_questions"
                else c for c in s.capabilities]
        s = s.model_copy(update={"capabilities": caps})
    elif change == "multiplicity":
        s = s.model_copy(update={"multiplicity": "none"})
    else:
        evals = {cid: dict(by_model) for cid, by_model in measured.evals.items()}
        evals["analysis"]["llama-8b-distilled"] = SliceResults(198, 197)
        measured = replace(measured, evals=evals)
    calls.clear()
    got = evaluate(s, measured)
    assert calls  # tested again
    fresh = load_scenario(DEFAULT)
    want_measured = replace(fresh.measured, evals=measured.evals) if change == "evals" \
        else fresh.measured
    want = evaluate(s, want_measured)
    assert got.pairs == want.pairs
    base = evaluate(loaded.scenario, loaded.measured)
    assert got.pairs != base.pairs  # the change did move something
