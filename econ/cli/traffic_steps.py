"""The optional steps of ``econ traffic``: coverage against evals (TF-IDF offline or litellm
embeddings), the mix by a classifier model, and the write-back into a scenario.

Each takes the loaded tables of :func:`econ.cli.traffic_cmd.summarise_logs` and the ``--json``
payload it adds to; litellm is imported only inside the classifier and embeddings steps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from econ.base.errors import EconError

__all__ = ["add_arguments", "capability_shapes", "classify_mix", "coverage", "needs_text",
           "write_back"]


def needs_text(args: argparse.Namespace) -> bool:
    return bool(args.evals or args.classifier)


def capability_shapes(summary: Any) -> list[dict[str, Any]]:
    """Per-capability shapes in the form the write-back reads (``capability_shapes``)."""
    out = []
    for cid, sh in summary.by_capability.items():
        out.append({"id": cid, "n": sh.conversations,
                    "turns": {"mean": sh.turns_mean, "p50": sh.turns_p50, "p90": sh.turns_p90,
                              "sd": sh.turns_sd},
                    "tokens_per_turn": {
                        "user": {"mean": sh.user_tokens_mean, "sd": sh.user_tokens_sd},
                        "assistant": {"mean": sh.assistant_tokens_mean,
                                      "sd": sh.assistant_tokens_sd},
                        "system": {"mean": sh.system_tokens_mean},
                        "tool_call": {"mean": sh.tool_call_tokens_per_turn},
                        "tool_result": {"mean": sh.tool_result_tokens_per_turn},
                        "image": {"mean": sh.image_tokens_per_turn, "images": sh.images,
                                  "counted": sh.images_counted}}})
    return out


def _api_key(args: argparse.Namespace) -> str | None:
    if args.api_key_env is None:
        return None
    key = os.environ.get(args.api_key_env)
    if not key:
        raise EconError(f"--api-key-env {args.api_key_env}: the variable is not set")
    return key


def _prices(args: argparse.Namespace) -> tuple[float, float] | None:
    return None if args.model_prices is None else (args.model_prices[0], args.model_prices[1])


def _confirm(estimate: Any, args: argparse.Namespace, what: str) -> bool:
    """Show the spend first; above --max-spend-usd, ask on a terminal (refused elsewhere)."""
    from econ.evidence.traffic.spend import usd

    print(f"{what}: {estimate.calls:,} calls, about {usd(estimate.usd_per_call)} a call, at most "
          f"{usd(estimate.usd)} in all (limit {usd(args.max_spend_usd)})", file=sys.stderr)
    if estimate.usd <= args.max_spend_usd or args.yes:
        return bool(args.yes)
    if sys.stdin.isatty() and sys.stderr.isatty():
        answer = input(f"spend up to {usd(estimate.usd)}? [y/N] ").strip().lower()
        return answer in ("y", "yes")
    return False


def classify_mix(args: argparse.Namespace, summary: Any, loaded: Any, conv: Any,
                 capability_ids: list[str], scenario_caps: list[tuple[str, str]],
                 payload: dict[str, Any]) -> None:
    """Replace the rule-based mix by a classifier's on a sample stratified by the rules'
    capabilities (drawn on the engine; only the sample's text is read)."""
    from econ.evidence.traffic.classifier import (
        classifier_shares,
        classify,
        estimate_classifier_cost,
    )
    from econ.evidence.traffic.texts import stratified_texts

    if not scenario_caps:
        raise EconError("--classifier needs --scenario: the capabilities to classify into")
    counts: dict[str | None, int] = {c.id: c.n for c in summary.capabilities}
    counts[None] = summary.shape.conversations - sum(counts.values())
    sample = stratified_texts(loaded.prepared.messages, conv, loaded.scratch,
                              args.classifier_sample, counts).texts
    estimate = estimate_classifier_cost(sample, scenario_caps, args.classifier,
                                        prices_usd_per_mtok=_prices(args))
    confirmed = _confirm(estimate, args, f"classifier {args.classifier}")
    result = classify(sample, scenario_caps, args.classifier, max_spend_usd=args.max_spend_usd,
                      confirmed=confirmed, estimate=estimate, api_base=args.api_base,
                      api_key=_api_key(args))
    caps, rest = classifier_shares(result.labels, capability_ids)
    payload["capabilities"] = [{**c, "measured_by": "classifier"} for c in caps]
    payload["uncategorised_share"] = rest
    payload["mix"] = {"method": f"classifier {args.classifier}",
                      "sample": len(sample), "spent_usd_estimate": estimate.usd}


def coverage(args: argparse.Namespace, loaded: Any, conv: Any) -> dict[str, Any]:
    """The ``coverage`` object: each conversation of a uniform sample (``--text-sample``)
    against its nearest eval input."""
    from econ.evidence.traffic.eval_inputs import read_eval_inputs
    from econ.evidence.traffic.texts import uniform_texts

    sample = uniform_texts(loaded.prepared.messages, conv, loaded.scratch, args.text_sample)
    texts, labels = sample.texts, sample.labels
    evals = [e.text for f in args.evals for e in read_eval_inputs(f)]
    if args.embeddings:
        from econ.evidence.traffic.embeddings import (
            estimate_embedding_cost,
            measure_coverage_embeddings,
        )

        estimate = estimate_embedding_cost([*texts, *evals], args.embeddings,
                                           prices_usd_per_mtok=_prices(args))
        confirmed = _confirm(estimate, args, f"embeddings {args.embeddings}")
        result = measure_coverage_embeddings(
            texts, evals, args.embeddings, api_base=args.api_base, api_key=_api_key(args),
            max_spend_usd=args.max_spend_usd, confirmed=confirmed, estimate=estimate)
    else:
        from econ.evidence.traffic.coverage import measure_coverage

        result = measure_coverage(texts, evals)
    out = result.to_dict(labels)
    out["sample"] = {"conversations": len(texts), "of": sample.population,
                     "method": "uniform (smallest hashes of the conversation keys)"}
    return out


def suggested_map(args: argparse.Namespace, loaded: Any, conv: Any,
                  capabilities: list[tuple[str, str]]) -> Any:
    """Word clusters of a uniform sample (``--text-sample``) offered to the capabilities."""
    from econ.evidence.traffic.suggest import suggest_map
    from econ.evidence.traffic.texts import uniform_texts

    sample = uniform_texts(loaded.prepared.messages, conv, loaded.scratch, args.text_sample)
    return suggest_map([(cid, None if label == cid else label) for cid, label in capabilities],
                       sample.texts)


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar of ``text`` (JSON's escapes are YAML's), with every line or
    paragraph separator and control or format character escaped too."""
    import unicodedata

    return "".join(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF and unicodedata.category(ch) in
                   ("Zl", "Zp", "Cc", "Cf") else ch
                   for ch in json.dumps(text, ensure_ascii=False))


def _comment(text: str) -> str:
    """A log's words as a YAML comment: JSON-escaped (no line break or control character can
    end the comment), never markup."""
    return json.dumps(text, ensure_ascii=True)


def render_map(found: Any, args: argparse.Namespace) -> str:
    """The suggested map as a capability-map YAML file (``--capability-map``), with what it
    rests on in comments. Keys and keywords are JSON strings (valid YAML), whatever the log
    held."""
    from econ.scenario.yamlio import bad_character

    when = dt.datetime.now(dt.UTC).date().isoformat()
    logs = ", ".join(_comment(Path(p).name) for p in args.logs) or _comment(str(args.table))
    out = [f"# Starter text rules for {_comment(Path(args.scenario).name)}, suggested by econ "
           f"traffic --suggest-map on {found.conversations:,} conversations of {logs}, {when}.",
           "# [assumption] Every keyword is a guess from word clusters of the traffic: read the "
           "examples, edit,",
           "# then check the mix with econ traffic LOGS --capability-map THIS_FILE before "
           "--write.",
           "text:"]
    for cid, all_words in found.keywords.items():
        # a keyword with a control character could never be loaded back (the map's loader
        # refuses it, as it refuses one in a scenario): it is left out, and the file says so
        words = [w for w in all_words if bad_character(w, in_key=False) is None]
        if len(words) < len(all_words):
            out.append(f"  # {len(all_words) - len(words)} suggested keyword(s) of "
                       f"{json.dumps(cid)} left out: they hold control characters")
        if not words:
            continue
        sources = [f"cluster {k} ({100 * c.share:.1f}%, matched {_comment(', '.join(c.matched))})"
                   for k, c in enumerate(found.clusters, start=1) if c.capability == cid]
        out.append(f"  {_yaml_string(cid)}:")
        out.append(f"    keywords: [{', '.join(_yaml_string(w) for w in words)}]"
                   f"  # from {'; '.join(sources)}")
    for cid in found.unmatched:
        out.append(f"  # {json.dumps(cid)}: no cluster's terms name it; add keywords by hand "
                   "if user text shows it, else leave it out (--write then keeps its share)")
    out.append("# The clusters (share of the sampled conversations, top terms, an example):")
    for k, c in enumerate(found.clusters, start=1):
        to = f"-> {c.capability}" if c.capability else "-> no capability's name matched"
        example = f"; e.g. {_comment(c.examples[0])}" if c.examples else ""
        out.append(f"#   {k}. {100 * c.share:.1f}%: {_comment(', '.join(c.terms))} {to}{example}")
    return "\n".join(out) + "\n"


def write_back(args: argparse.Namespace,
               payload: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Write the measured figures into ``--write``'s scenario; only a scenario that still
    validates is written, through the locked compare-and-swap save every writer of a scenario
    uses (:func:`econ.scenario.store.rewrite_scenario`). The changes, as ``econ diff`` names
    them, and notes on the shares left as they were (unmeasured is not 0)."""
    from econ.model.loader import parse_scenario
    from econ.scenario.store import rewrite_scenario
    from econ.scenario.traffic_write import TrafficProvenance, write_traffic

    target = Path(args.write)
    if not target.exists():
        raise EconError(f"--write {target}: scenario not found")
    cov = payload.get("coverage") or {}
    if args.add_unseen and cov.get("indicative"):
        raise EconError(f"--add-unseen: the unseen share rests on {cov.get('evals')} eval "
                        f"inputs, fewer than the {cov.get('min_evals')} a "
                        f"{100 * float(cov.get('quantile', 0.95)):g}% threshold needs: it is "
                        "indicative only and is not written; add eval examples")
    when = dt.datetime.now(dt.UTC).date().isoformat()
    files = tuple(Path(p).name for p in args.logs) or (str(args.table),)
    prov = TrafficProvenance(files, when, int(payload["conversations"]))

    def edit(text: str) -> tuple[str, tuple[list[str], list[str]]]:
        parse_scenario(text, str(target))  # the scenario must be valid before it is touched
        result = write_traffic(text, payload, prov, add_unseen=args.add_unseen)
        parse_scenario(result.text, str(target))  # refused (exit 1) before anything is written
        return result.text, ([f"{c.path}: {c.old} → {c.new}" for c in result.changes],
                             list(result.notes))

    return rewrite_scenario(target, edit)[1]


def add_arguments(p: argparse.ArgumentParser) -> None:
    from econ.cli.common import finite_float, positive_float, positive_int

    def non_negative_float(text: str) -> float:
        v = finite_float(text)
        if v < 0:
            raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
        return v

    p.add_argument("--evals", nargs="+", metavar="EVAL",
                   help="eval files (lm-eval samples, Inspect logs, promptfoo exports, CSV/JSONL "
                   "with a text column): report the traffic no eval example resembles")
    p.add_argument("--embeddings", metavar="MODEL",
                   help="coverage on litellm embeddings of MODEL instead of TF-IDF")
    p.add_argument("--classifier", metavar="MODEL",
                   help="assign a stratified sample to the scenario's capabilities with a "
                   "litellm model instead of the text rules")
    p.add_argument("--classifier-sample", type=positive_int, default=400, metavar="N",
                   help="conversations the classifier labels (default 400)")
    p.add_argument("--api-base", metavar="URL", help="endpoint for --classifier/--embeddings")
    p.add_argument("--api-key-env", metavar="VAR",
                   help="environment variable holding the API key (never the key itself)")
    p.add_argument("--model-prices", nargs=2, type=non_negative_float,
                   metavar=("IN_USD_PER_MTOK", "OUT_USD_PER_MTOK"),
                   help="prices of the classifier or embeddings model when litellm's price map "
                   "lacks it (a local server)")
    p.add_argument("--max-spend-usd", type=positive_float, default=1.0, metavar="USD",
                   help="refuse a classifier or embeddings run estimated above this (default 1)")
    p.add_argument("--yes", action="store_true", help="spend above --max-spend-usd")
    p.add_argument("--suggest-map", action="store_true",
                   help="with --scenario: print a starter capability map (text rules) from the "
                   "capability ids and the top terms of word clusters of the traffic, instead "
                   "of the summary")
    p.add_argument("--write", metavar="SCENARIO",
                   help="write the measured shape, shares and spreads into this scenario, "
                   "keeping its comments (each figure gets a provenance comment)")
    p.add_argument("--text-sample", type=positive_int, default=20_000, metavar="N",
                   help="conversations whose text --evals compares (a uniform sample; default "
                   "20000): text is never read for every conversation at once")
    p.add_argument("--add-unseen", action="store_true",
                   help="with --write and --evals: add each unseen cluster as an unmeasured "
                   "capability")
