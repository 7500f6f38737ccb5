"""Checks that relate one part of a scenario to another: a plan naming an unknown model,
traffic shares summing over 1, a self-hosted model with nothing to cost it by or borrowing runs
it cannot. Each is a :class:`Problem` at its own path, so a loader reports each at its line.
Called by :func:`econ.scenario.schema.reference_problems` on a validated scenario; it reads the
scenario's models by their ``serving`` word rather than importing the schema (which imports
this module). Imports only ``econ.base``.
"""

from __future__ import annotations

from typing import Any

from econ.base.errors import Problem
from econ.scenario.eval_spec import paired_problems
from econ.scenario.price_limits import extreme_price_problems

__all__ = ["scenario_reference_problems"]


def _api(m: Any) -> bool:
    return getattr(m, "serving", None) == "api"


def _hosted(m: Any) -> bool:
    return getattr(m, "serving", None) == "self_hosted"


def scenario_reference_problems(s: Any) -> list[Problem]:
    """Problems that relate one part of a scenario to another."""
    out: list[Problem] = extreme_price_problems(s)
    for role in ("teacher", "student"):
        ids = [mid for mid, m in s.models.items() if m.role == role]
        if not ids:
            out.append(Problem(("models",), f"at least one model needs role '{role}'",
                               value=sorted(s.models), has_value=True))
    models = set(s.models)
    teachers = {mid for mid, m in s.models.items() if m.role == "teacher"}
    if s.reference is not None and s.reference not in teachers:
        out.append(_unknown(("reference",), "teacher", s.reference, teachers))
    caps = [c.id for c in s.capabilities]
    known_caps = set(caps)
    out += _duplicates(caps, "capabilities", "capability id")
    out += _duplicates([t.id for t in s.tiers], "tiers", "tier id")
    total = sum(c.traffic_share for c in s.capabilities)
    if total > 1.0 + 1e-9:
        out.append(Problem(("capabilities",), "traffic shares sum to more than 1",
                           value=round(total, 6), has_value=True))
    for i, c in enumerate(s.capabilities):
        for mid in c.evals:
            if mid not in models:
                out.append(_unknown(("capabilities", i, "evals", mid), "model", mid, models))
        out += paired_problems(("capabilities", i, "evals"), c.evals)
        for mid in c.reasoning_tokens_per_turn:
            if mid not in models:
                out.append(_unknown(("capabilities", i, "reasoning_tokens_per_turn", mid),
                                    "model", mid, models))
    for mid, m in s.models.items():
        if _api(m) and m.price_key is None and not _full_prices(m):
            out.append(Problem(("models", mid, "price_key"),
                               "an API model needs a price_key or input and output prices"))
        if _hosted(m):
            out += _self_hosted_problems(s, mid, m)
    if s.distillation is not None and s.distillation.model is not None \
            and s.distillation.model not in models:
        out.append(_unknown(("distillation", "model"), "model", s.distillation.model, models))
    for j, c_id in enumerate(s.consent):
        if c_id not in known_caps:
            out.append(_unknown(("consent", j), "capability", c_id, known_caps))
    for i, t in enumerate(s.tiers):
        if t.plan.model not in models:
            out.append(_unknown(("tiers", i, "plan", "model"), "model", t.plan.model, models))
        r = t.plan.route
        if r is not None:
            if r.to not in models:
                out.append(_unknown(("tiers", i, "plan", "route", "to"), "model", r.to, models))
            if isinstance(r.capabilities, list):
                for j, c_id in enumerate(r.capabilities):
                    if c_id not in known_caps:
                        out.append(_unknown(("tiers", i, "plan", "route", "capabilities", j),
                                            "capability", c_id, known_caps))
        for j, c_id in enumerate(t.consent or []):
            if c_id not in known_caps:
                out.append(_unknown(("tiers", i, "consent", j), "capability", c_id, known_caps))
        if t.teacher is not None and t.teacher not in teachers:
            out.append(_unknown(("tiers", i, "teacher"), "teacher", t.teacher, teachers))
        if t.baseline is not None:
            b = t.baseline
            named: list[tuple[tuple[str, ...], str]] = [(("model",), b.model)]
            if b.route is not None:
                named.append((("route", "to"), b.route.to))
            for where, ref in named:
                if ref not in models:
                    out.append(_unknown(("tiers", i, "baseline", *where), "model", ref, models))
        if t.target_gross_margin + s.fees.payment_rate >= 1.0:
            out.append(Problem(("tiers", i, "target_gross_margin"),
                               "target margin plus payment fee rate must stay below 1",
                               value=t.target_gross_margin, has_value=True))
    return out


def _self_hosted_problems(s: Any, mid: str, m: Any) -> list[Problem]:
    if m.benchmarks_from is not None:
        donor = s.models.get(m.benchmarks_from)
        hosted = {k for k, v in s.models.items() if _hosted(v) and k != mid}
        if m.benchmarks_from not in hosted:
            return [_unknown(("models", mid, "benchmarks_from"), "self-hosted model",
                             m.benchmarks_from, hosted)]
        if donor.benchmarks_from is not None or not (donor.benchmarks or donor.throughput):
            return [Problem(("models", mid, "benchmarks_from"), "borrows runs from a model "
                            "with no runs of its own (benchmarks or throughput)",
                            value=m.benchmarks_from, has_value=True)]
        if donor.architecture is None or m.architecture is None:
            return [Problem(("models", mid, "benchmarks_from"), "both models need an "
                            "architecture for their runs to be carried from one replica to "
                            "the other", value=m.benchmarks_from, has_value=True)]
        return []
    if m.throughput is None and not m.benchmarks and not m.measured_conversations \
            and m.architecture is None:
        return [Problem(("models", mid, "throughput"),
                        "a self-hosted model needs a throughput measurement, benchmarks, "
                        "measured_conversations, benchmarks_from or (for an estimate from "
                        "the spec tables alone) an architecture")]
    return []


def _full_prices(m: Any) -> bool:
    p = m.prices
    return p is not None and p.input_usd_per_mtok is not None and p.output_usd_per_mtok is not None


def _duplicates(ids: list[str], where: str, what: str) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for i, x in enumerate(ids):
        if x in seen:
            out.append(Problem((where, i, "id"), f"duplicate {what}", value=x, has_value=True))
        seen.add(x)
    return out


def _unknown(path: tuple[str | int, ...], what: str, got: str, known: set[str]) -> Problem:
    from difflib import get_close_matches

    near = get_close_matches(got, sorted(known), n=1)
    hint = f"; did you mean '{near[0]}'?" if near else f"; known: {', '.join(sorted(known))}"
    return Problem(path, f"unknown {what}{hint}", value=got, has_value=True)
