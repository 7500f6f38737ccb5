"""The consent matrix: every capability against every tier, in words, for the room's screen.

In: an evaluation. Out: one row per capability, one column per tier, each cell saying what the
tier decided: ``lose (verdict)`` when the tier consents to lose it and a student serves it,
``at risk (verdict)`` when a student serves it without consent and without shown retention,
``consented, teacher serves`` and ``teacher`` otherwise. The verdict is that of the serving
model against the tier's teacher.
"""

from __future__ import annotations

import pandas as pd

from econ.model.evaluate import Evaluation, TierResult

__all__ = ["consent_matrix"]


def _cell(ev: Evaluation, tier: TierResult, capability: str) -> str:
    model = tier.assignment.primary(capability)
    consented = capability in tier.consent
    if model == tier.teacher:
        return "consented, teacher serves" if consented else "teacher"
    rets = ev.pairs.get((tier.teacher, model), ())
    verdict = next((r.verdict for r in rets if r.capability == capability), "unmeasured")
    if consented:
        return f"lose ({verdict}, {model})"
    if capability in tier.at_risk:
        return f"at risk ({verdict}, {model})"
    return f"{verdict} on {model}"


def consent_matrix(ev: Evaluation) -> pd.DataFrame:
    """Capabilities × tiers: what each tier consents to lose, and what its plan risks."""
    rows = []
    for c in ev.scenario.capabilities:
        row = {"capability": c.id}
        row.update({t.economics.tier: _cell(ev, t, c.id) for t in ev.tiers})
        rows.append(row)
    return pd.DataFrame(rows)
