"""A shared link: the plan of a planning session as URL query parameters, and back.

In: a scenario (with the session's edits applied, to write; as loaded, to read) and the query
parameters. Out: the parameters, or the :class:`Edits` they ask for with what was ignored.
Imports: ``econ.scenario`` only. The app's ``econ.app.share`` keeps the URL in step with the
widgets through these functions, and a test reopens a link with :func:`reopen`.

Every tier's plan is written, whole, whether or not it was edited (a link reopens the plan
even if the file changes under it)::

    consent.<tier>=a,b          the capabilities the tier consents to lose (empty: none)
    price.<tier>=25.0           its price, USD/month
    model.<tier>=<model>        the model its plan serves
    route.<tier>=<model> | -    where the route sends traffic ('-': no route)
    router.<tier>=0.0005,0.05   the route's router: USD per conversation, error rate
    routed.<tier>=unconsented | a,b   what the route sends (every unconsented capability, or
                                those listed)

and, about the view rather than the plan, ``tier=<id>`` (the tier the consent ticks show) and
``target.<tier>=150.0`` (the frontier tab's target floor, when set). A parameter that names
something the scenario lacks, or a value that is not one, is ignored and reported; the rest of
the link still applies. A tier whose linked plan the scenario refuses keeps its file's plan.
Every value from a URL is data: reports quote it with ``repr`` and cut it short, never
interpret it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pydantic import ValidationError

from econ.base.secrets import cut
from econ.scenario.edits import Edits, TierEdit, apply_to_scenario
from econ.scenario.schema import Scenario

__all__ = ["NO_ROUTE_PARAM", "PLAN_KINDS", "LinkPlan", "link_params", "plan_params", "read_link",
           "reopen"]

NO_ROUTE_PARAM = "-"  # route.<tier>=- : the tier's plan has no route (an id never starts so)
PLAN_KINDS = ("consent", "price", "model", "route", "router", "routed")
_VIEW_KINDS = ("tier", "target", "scenario")
_SHOWN = 60  # characters of a linked value quoted in a report


def _number(x: float) -> str:
    return repr(float(x))


def plan_params(scenario: Scenario) -> dict[str, str]:
    """Every tier's plan as query parameters (see the module's docstring)."""
    out: dict[str, str] = {}
    for t in scenario.tiers:
        out[f"consent.{t.id}"] = ",".join(scenario.tier_consent(t))
        out[f"price.{t.id}"] = _number(t.price_usd_month)
        out[f"model.{t.id}"] = t.plan.model
        route = t.plan.route
        out[f"route.{t.id}"] = route.to if route is not None else NO_ROUTE_PARAM
        if route is not None:
            out[f"router.{t.id}"] = (f"{_number(route.router_usd_per_conversation)},"
                                     f"{_number(route.router_error_rate)}")
            out[f"routed.{t.id}"] = (route.capabilities if route.capabilities == "unconsented"
                                     else ",".join(route.capabilities))
    return out


def link_params(scenario: Scenario, scenario_file: str | None = None,
                shown_tier: str | None = None,
                targets_usd_month: Mapping[str, float] | None = None) -> dict[str, str]:
    """The whole link of a view, as the app writes it: the scenario file (one of the folder's;
    an upload has none), the tier the ticks show, every tier's plan (``scenario`` with the
    session's edits applied) and the frontier's target floors set away from the tier's price."""
    out = {"scenario": scenario_file} if scenario_file is not None else {}
    if shown_tier is not None:
        out["tier"] = shown_tier
    out.update(plan_params(scenario))
    for t in scenario.tiers:
        target = (targets_usd_month or {}).get(t.id)
        if target is not None and float(target) != float(t.price_usd_month):
            out[f"target.{t.id}"] = _number(target)
    return out


@dataclass(frozen=True)
class LinkPlan:
    """What a link asks of a scenario: the edits to apply, the tier the ticks show, the
    frontier's target floors, and what it named that the scenario lacks (plain text)."""

    edits: Edits
    tier: str | None = None
    targets_usd_month: dict[str, float] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()


def _shown(text: str) -> str:
    """A linked value quoted in a report: credentials redacted first, then cut."""
    return repr(cut(text, _SHOWN))


def _non_negative(value: str) -> float | None:
    try:
        x = float(value)
    except ValueError:
        return None
    return x if math.isfinite(x) and x >= 0 else None


def _router(value: str) -> tuple[float, float] | None:
    parts = value.split(",")
    if len(parts) != 2:
        return None
    cost, error = _non_negative(parts[0]), _non_negative(parts[1])
    if cost is None or error is None or error > 0.5:
        return None
    return cost, error


class _Reader:
    """Reads one link against a scenario, collecting what it ignores."""

    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.tiers = {t.id: t for t in scenario.tiers}
        self.caps = [c.id for c in scenario.capabilities]
        self.ignored: list[str] = []
        self.edits: dict[str, TierEdit] = {}
        self.consent: dict[str, tuple[str, ...]] = {}
        self.targets: dict[str, float] = {}
        self.shown: str | None = None

    def capabilities(self, key: str, value: str) -> tuple[str, ...]:
        chosen = [c for c in value.split(",") if c]
        self.ignored += [f"{_shown(key)}: capability {_shown(c)}" for c in chosen
                         if c not in self.caps]
        return tuple(dict.fromkeys(c for c in chosen if c in self.caps))  # the link's order

    def model(self, key: str, value: str) -> str | None:
        if value in self.s.models:
            return value
        self.ignored.append(f"{_shown(key)}: model {_shown(value)}")
        return None

    def edit(self, tier: str, **change: object) -> None:
        old = self.edits.get(tier) or TierEdit(teacher=self.s.tier_teacher(self.tiers[tier]))
        self.edits[tier] = replace(old, **change)  # type: ignore[arg-type]

    def read(self, key: str, value: str) -> None:
        kind, dot, tier = key.partition(".")
        if kind == "scenario" and not dot:
            return
        if kind == "tier" and not dot:
            if value in self.tiers:
                self.shown = value
            else:
                self.ignored.append(f"tier {_shown(value)}")
            return
        if kind not in (*PLAN_KINDS, "target") or not dot:
            self.ignored.append(_shown(key))
            return
        if tier not in self.tiers:
            self.ignored.append(f"{_shown(key)} (no tier {_shown(tier)})")
            return
        if kind == "consent":
            self.consent[tier] = self.capabilities(key, value)
        elif kind in ("price", "target"):
            x = _non_negative(value)
            if x is None:
                self.ignored.append(f"{_shown(key)}={_shown(value)} (not a price)")
            elif kind == "price":
                self.edit(tier, price_usd_month=x)
            else:
                self.targets[tier] = x
        elif kind == "model":
            model = self.model(key, value)
            if model is not None:
                self.edit(tier, model=model)
        elif kind == "route":
            to = "" if value == NO_ROUTE_PARAM else self.model(key, value)
            if to is not None:
                self.edit(tier, route_to=to)
        elif kind == "router":
            router = _router(value)
            if router is None:
                self.ignored.append(f"{_shown(key)}={_shown(value)} (not a router: USD per "
                                    "conversation,error rate at most 0.5)")
            else:
                self.edit(tier, router=router)
        elif value == "unconsented":  # routed
            self.edit(tier, routed="unconsented")
        else:
            self.edit(tier, routed=self.capabilities(key, value))


def read_link(scenario: Scenario, params: Mapping[str, str]) -> LinkPlan:
    """The edits, view and refusals of a link's query parameters, against ``scenario`` (as
    loaded: a link's plan replaces the file's)."""
    r = _Reader(scenario)
    for key, value in params.items():
        r.read(str(key), str(value))
    consent = {tid: c for tid, c in r.consent.items()  # the same set is no edit
               if set(c) != set(scenario.tier_consent(r.tiers[tid]))}
    kept = Edits(tier_consent=consent)
    for tid, e in r.edits.items():  # a plan the scenario refuses leaves the tier's own
        trial = replace(kept, tiers={**kept.tiers, tid: e})
        try:
            apply_to_scenario(scenario, trial)
        except (ValidationError, ValueError) as exc:
            why = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            r.ignored.append(f"the plan of tier {_shown(tid)} (the scenario refuses it: "
                             f"{_shown(why)})")
            trial = replace(kept, tiers={**kept.tiers, tid: TierEdit(
                price_usd_month=e.price_usd_month, teacher=e.teacher)})
        kept = trial
    return LinkPlan(kept, r.shown, r.targets, tuple(r.ignored))


def reopen(scenario: Scenario, params: Mapping[str, str]) -> Scenario:
    """The scenario a link reopens: ``scenario`` as loaded with the link's plan applied."""
    return apply_to_scenario(scenario, read_link(scenario, params).edits)
