"""What every econ command shares: loading, JSON output, argument types, warnings."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from econ.base.draw_limits import DEFAULT_DRAWS, MAX_DRAWS
from econ.base.errors import EconError

__all__ = [
    "EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_LOST", "EXIT_OK", "add_draws", "add_multiplicity",
    "add_scenario", "banner", "consent_overrides", "coverage_json", "draws_arg", "finite_float",
    "fmt_number", "load", "non_negative_int", "positive_float", "positive_int", "print_json",
    "progress_bar", "share_arg", "short", "tier_id", "token_count",
]

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_LOST = 0, 1, 2, 3


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, allow_nan=False) + "\n")


def load(args: argparse.Namespace) -> Any:
    from econ.model.loader import load_scenario, load_snapshot

    snapshot = load_snapshot(args.prices) if getattr(args, "prices", None) else None
    loaded = load_scenario(args.scenario, snapshot,
                           assume_saturation=bool(getattr(args, "assume_saturation", False)))
    for notice in loaded.notices:
        print(f"notice: {notice}", file=sys.stderr)
    method = getattr(args, "multiplicity", None)
    if method is not None and method != loaded.scenario.multiplicity:
        from dataclasses import replace

        loaded = replace(loaded, scenario=loaded.scenario.model_copy(
            update={"multiplicity": method}))
    return loaded


def add_scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--prices", help="price snapshot JSON (default: data/litellm_prices.json)")
    p.add_argument("--assume-saturation", action="store_true",
                   help="price self-hosted models at the batch the KV cache allows, beyond the "
                   "highest concurrency their runs reached (a physics extrapolation, with a "
                   "wider interval)")


def add_multiplicity(p: argparse.ArgumentParser, default: str | None = None) -> None:
    from econ.base.multiplicity import MULTIPLICITY

    p.add_argument("--multiplicity", choices=MULTIPLICITY, default=default,
                   help="correction of the verdicts for testing many capabilities at once: "
                   "holm (family-wise error), bh (false discovery rate) or none (default: "
                   + (f"{default})" if default else "the scenario's multiplicity, holm)"))


def share_arg(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= v <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {v})")
    return v


def finite_float(text: str) -> float:
    """A number; ``nan``, ``inf`` and ``-inf`` are refused."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number (got {text})")
    return v


def positive_float(text: str) -> float:
    v = finite_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0 (got {text})")
    return v


def token_count(text: str) -> float:
    """A token count: a finite number from 0 to 10 million."""
    v = finite_float(text)
    if not 0 <= v <= 1e7:
        raise argparse.ArgumentTypeError(f"must be a token count from 0 to 10,000,000 (got {text})")
    return v


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def non_negative_int(text: str) -> int:
    v = _whole_number(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {v})")
    return v


def positive_int(text: str) -> int:
    v = _whole_number(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {v})")
    return v


def draws_arg(text: str) -> int:
    v = positive_int(text)
    if v > MAX_DRAWS:
        raise argparse.ArgumentTypeError(f"at most {MAX_DRAWS:,} draws (got {v:,})")
    return v


def add_draws(p: argparse.ArgumentParser) -> None:
    """``--draws`` and ``--seed`` of the Monte Carlo, as ``econ uncertainty``, ``econ record``
    and the app take them."""
    p.add_argument("--draws", type=draws_arg, default=DEFAULT_DRAWS,
                   help=f"Monte Carlo draws, 1 to {MAX_DRAWS:,} (default {DEFAULT_DRAWS:,})")
    p.add_argument("--seed", type=non_negative_int, default=0, help="Monte Carlo seed (0)")


def banner(ev: Any) -> None:
    from econ.outputs.report import coverage_banner

    lines = coverage_banner(ev)
    if lines:
        print("\n".join(lines) + "\n")


def coverage_json(ev: Any) -> dict[str, Any]:
    """The banner's figures, named as in evaluate --json: the blend at the top level, each
    tier's own under ``coverage_by_tier``."""
    from econ.outputs.report import BLEND

    cov = ev.coverage
    return {"unmeasured_traffic_share": cov.unmeasured_traffic_share,
            "unmeasured_capabilities": list(cov.unmeasured_capabilities),
            "underpowered_traffic_share": cov.underpowered_traffic_share,
            "uncategorised_traffic_share": cov.uncategorised_traffic_share,
            "scenario_shares_are": BLEND,
            "coverage_by_tier": {t.economics.tier: {
                "unmeasured_traffic_share": t.unmeasured_traffic_share,
                "underpowered_traffic_share": t.underpowered_traffic_share,
                "uncategorised_traffic_share": t.uncategorised_traffic_share}
                for t in ev.tiers},
            "warnings": list(ev.warnings)}  # the banner's GPU-cost lines, as evaluate --json


def progress_bar(unit: str = "") -> Any:
    """A stderr progress bar (drawn only on a terminal): call it with (done, total)."""

    def show(done: float, total: float = 1.0) -> None:
        if sys.stderr.isatty():
            fraction = done / max(total, 1e-12)
            filled = int(30 * fraction)
            count = f"{done:,.0f}/{total:,.0f} {unit}" if unit else f"{100 * fraction:5.1f}%"
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {count}")
            if fraction >= 1:
                sys.stderr.write("\n")
            sys.stderr.flush()

    return show


def tier_id(loaded: Any, tier: str) -> str:
    ids = [t.id for t in loaded.scenario.tiers]
    if tier not in ids:
        raise EconError(f"--tier {tier}: no such tier; the scenario has {', '.join(ids)}")
    return tier


def _did_you_mean(got: str, known: list[str]) -> str:
    from difflib import get_close_matches

    near = get_close_matches(got, known, n=1)
    return f"; did you mean '{near[0]}'?" if near else f"; known: {', '.join(known)}"


def consent_overrides(loaded: Any, values: list[str] | None) -> dict[str, tuple[str, ...]] | None:
    """``--consent TIER=cap1,cap2`` (repeatable; ``TIER=`` consents to nothing) as
    tier -> consent set; an unknown tier or capability is an error with a did-you-mean."""
    if not values:
        return None
    s = loaded.scenario
    tiers = [t.id for t in s.tiers]
    caps = [c.id for c in s.capabilities]
    out: dict[str, tuple[str, ...]] = {}
    problems = []
    for v in values:
        tier, sep, rest = v.partition("=")
        tier = tier.strip()
        if not sep:
            problems.append(f"--consent {v}: name the tier, as TIER=cap1,cap2 (tiers: "
                            f"{', '.join(tiers)})")
            continue
        if tier not in tiers:
            problems.append(f"--consent {v}: unknown tier '{tier}'{_did_you_mean(tier, tiers)}")
            continue
        chosen = [c.strip() for c in rest.split(",") if c.strip()]
        for c in chosen:
            if c not in caps:
                problems.append(f"--consent {v}: unknown capability '{c}'"
                                f"{_did_you_mean(c, caps)}")
        if tier in out:
            problems.append(f"--consent {v}: tier '{tier}' given twice")
        out[tier] = tuple(dict.fromkeys(chosen))
    if problems:
        raise EconError("\n".join(problems))
    return out


def fmt_number(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.6g}"


def short(v: Any) -> str:
    text = json.dumps(v) if not isinstance(v, str) else v
    return text if len(text) <= 48 else text[:45] + "..."
