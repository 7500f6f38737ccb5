"""Whether a consent moves anything: a tick changes a tier's figures only when it changes which
model serves the capability. Each idle consent comes with the reason in words (no router, a
router with a fixed list, a capability the student keeps anyway).

In: a scenario's tier, its consent set and the capabilities its student retains.
Out: ``{capability: reason}`` for the consents that change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from econ.scenario.schema import Tier

__all__ = ["idle_consents"]


def idle_consents(tier: Tier, consent: Iterable[str],
                  retained: Iterable[str]) -> dict[str, str]:
    """The capabilities of ``consent`` whose tick leaves tier ``tier``'s plan as it is, each
    with the reason (mirrors :func:`econ.model.plans.resolve_plan`)."""
    consent = list(consent)
    if not consent:
        return {}
    route = tier.plan.route
    if route is None:
        why = (f"tier {tier.id} has no router: {tier.plan.model} serves every capability "
               "whether or not you consent, so the tick changes no cost, floor or loss")
        return dict.fromkeys(consent, why)
    if route.to == tier.plan.model:
        why = (f"tier {tier.id}'s router sends traffic to the model that serves the rest "
               f"({tier.plan.model}), so the tick changes nothing")
        return dict.fromkeys(consent, why)
    if route.capabilities != "unconsented":
        why = (f"tier {tier.id} routes a fixed list of capabilities to {route.to}, whatever "
               "you consent to, so the tick changes nothing")
        return dict.fromkeys(consent, why)
    kept = set(retained)
    return {c: f"the student {tier.plan.model} keeps {c} (its drop is within the tolerance), "
               "so it serves it with or without your consent"
            for c in consent if c in kept}
