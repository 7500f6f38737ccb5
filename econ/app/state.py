"""The app's session state: every widget key in one place, and the edits they hold.

Widget keys are ``w|<scenario file>|<what>|<id>``; the loaded text of a scenario is kept under
``loaded|<file name>``. Nothing here computes a figure: it turns widget state into ``Edits``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import streamlit as st

from econ.model.loader import Loaded
from econ.scenario.edits import Edits, TierEdit

__all__ = ["DEFAULT_SCENARIO", "LOADED_PREFIX", "NO_ROUTE", "AdoptedPlan", "consent_sets",
           "edits_from_widgets", "init_widgets", "reload_from_disk", "scenarios_folder",
           "set_consent", "show_tier_consent", "widget_defaults", "wkey"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = "frontier-vs-distilled.yaml"
LOADED_PREFIX = "loaded|"
NO_ROUTE = "(no routing)"


def scenarios_folder() -> Path:
    """The folder the app lists and saves into (``ECON_SCENARIOS`` or the repository's own)."""
    return Path(os.environ.get("ECON_SCENARIOS", REPO_ROOT / "scenarios")).resolve()


def reload_from_disk() -> None:
    """Forget every loaded scenario text, so the next run reads the files again."""
    for k in [k for k in st.session_state if str(k).startswith(LOADED_PREFIX)]:
        del st.session_state[k]


def wkey(source: str, *parts: str) -> str:
    return "|".join(("w", source, *parts))


def widget_defaults(source: str, loaded: Loaded) -> dict[str, Any]:
    """The value each editing widget takes from the file (before anyone touches it). Consent is
    held per tier under one key (tier -> consent set); the ticks show the selected tier's."""
    s = loaded.scenario
    out: dict[str, Any] = {wkey(source, "consent_sets"): {t.id: s.tier_consent(t)
                                                           for t in s.tiers}}
    for t in s.tiers:
        out[wkey(source, "price", t.id)] = float(t.price_usd_month)
        out[wkey(source, "model", t.id)] = t.plan.model
        out[wkey(source, "route", t.id)] = t.plan.route.to if t.plan.route else NO_ROUTE
    return out


def consent_sets(source: str) -> dict[str, tuple[str, ...]]:
    """Every tier's consent set as edited in the app (the ticks show the selected tier's)."""
    return dict(st.session_state[wkey(source, "consent_sets")])


def init_widgets(source: str, loaded: Loaded) -> None:
    ss = st.session_state
    s = loaded.scenario
    for key, value in widget_defaults(source, loaded).items():
        ss.setdefault(key, value)
    tiers = [t.id for t in s.tiers]
    if ss.get(wkey(source, "ctier")) not in tiers:
        ss[wkey(source, "ctier")] = tiers[min(1, len(tiers) - 1)]
    shown = ss[wkey(source, "consent_sets")].get(ss[wkey(source, "ctier")], ())
    for c in s.capabilities:
        ss.setdefault(wkey(source, "consent", c.id), c.id in shown)


def edits_from_widgets(source: str, loaded: Loaded) -> Edits:
    ss = st.session_state
    s = loaded.scenario
    caps = {c.id for c in s.capabilities}
    sets = {tier: tuple(c for c in chosen if c in caps)  # a removed capability leaves them
            for tier, chosen in consent_sets(source).items()}
    for t in s.tiers:  # a tier added since the sets were first taken starts at its file's
        sets.setdefault(t.id, s.tier_consent(t))
    sets[ss[wkey(source, "ctier")]] = tuple(
        c.id for c in s.capabilities if ss[wkey(source, "consent", c.id)])
    ss[wkey(source, "consent_sets")] = sets
    tier_consent = {t.id: sets[t.id] for t in s.tiers if sets[t.id] != s.tier_consent(t)}
    tiers = {}
    for t in s.tiers:
        route = ss[wkey(source, "route", t.id)]
        tiers[t.id] = TierEdit(price_usd_month=ss[wkey(source, "price", t.id)],
                               model=ss[wkey(source, "model", t.id)],
                               route_to="" if route == NO_ROUTE else route,
                               teacher=s.tier_teacher(t),
                               router=ss.get(wkey(source, "router", t.id)),
                               routed=ss.get(wkey(source, "routed", t.id)))
    return Edits(tiers=tiers, tier_consent=tier_consent)


def show_tier_consent(source: str, capabilities: list[str]) -> None:
    """Callback of the tier picker: the ticks show the newly selected tier's consent set."""
    shown = consent_sets(source)[st.session_state[wkey(source, "ctier")]]
    for c in capabilities:
        st.session_state[wkey(source, "consent", c)] = c in shown


# a frontier point's plan: model, route target or ``NO_ROUTE``, the router's (USD per
# conversation, error rate) and what the route sends (None for the last two without a route)
AdoptedPlan = tuple[str, str, tuple[float, float] | None, Literal["unconsented"] | list[str] | None]


def set_consent(source: str, capabilities: list[str], consent: tuple[str, ...],
                tier: str | None = None, plan: AdoptedPlan | None = None) -> None:
    """Adopt a consent set (and a frontier point's whole plan) into one tier (default: the
    tier the ticks show)."""
    ss = st.session_state
    if plan is not None and tier is not None:
        ss[wkey(source, "model", tier)], ss[wkey(source, "route", tier)] = plan[:2]
        ss[wkey(source, "router", tier)] = plan[2]
        ss[wkey(source, "routed", tier)] = (
            plan[3] if plan[3] is None or plan[3] == "unconsented" else tuple(plan[3]))
    tier = tier or ss[wkey(source, "ctier")]
    sets = consent_sets(source)
    sets[tier] = tuple(c for c in capabilities if c in consent)
    ss[wkey(source, "consent_sets")] = sets
    if tier == ss[wkey(source, "ctier")]:
        for c in capabilities:
            ss[wkey(source, "consent", c)] = c in consent
