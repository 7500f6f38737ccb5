"""The consent matrix of the default scenario, against its tiers' plans read by hand."""

from __future__ import annotations

from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.outputs.consent_matrix import consent_matrix
from tests.conftest import DEFAULT


def test_consent_matrix_of_the_default_scenario():
    loaded = load_scenario(DEFAULT)
    ev = evaluate(loaded.scenario, loaded.measured)
    m = consent_matrix(ev).set_index("capability")
    caps = list(m.index)
    # pro: o1 alone, consents to nothing
    assert set(m["pro"]) == {"teacher"}
    # plus: the distilled 8B on what it consents to lose and on what it is shown to retain;
    # the rest routed to its teacher
    lose_plus = {"creative_assist", "factual_qa"}
    plus_teacher = ev.tier("plus").teacher
    kept = {r.capability for r in ev.retention_against(plus_teacher, "llama-8b-distilled")
            if r.verdict == "retained"}
    for c in caps:
        assert m.loc[c, "plus"].startswith("lose (") == (c in lose_plus), c
        if c not in lose_plus:
            expected = "retained on llama-8b-distilled" if c in kept else "teacher"
            assert m.loc[c, "plus"] == expected, c
    assert kept - lose_plus  # the case is exercised
    # free: the distilled 8B on everything; four consented, the other three at risk
    lose_free = {"creative_assist", "factual_qa", "code_help", "clarifying_questions"}
    for c in caps:
        cell = m.loc[c, "free"]
        assert cell.startswith("lose (" if c in lose_free else "at risk ("), (c, cell)
        assert cell.endswith(", llama-8b-distilled)")
    # the verdicts are those of the distilled 8B against each tier's teacher
    free_teacher = ev.tier("free").teacher
    verdict = {r.capability: r.verdict
               for r in ev.retention_against(free_teacher, "llama-8b-distilled")}
    assert m.loc["code_help", "free"] == f"lose ({verdict['code_help']}, llama-8b-distilled)"
