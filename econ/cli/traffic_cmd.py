"""econ traffic: the measured mix and shape of conversation logs.

``summarise_logs(args)`` builds the ``TrafficSummary`` (and keeps the loaded tables open for a
caller that adds coverage or writes back); ``cmd_traffic`` prints it. Heavy imports (Ibis,
DuckDB, tiktoken) happen inside the command only, so other commands never pay for them, and
litellm is never imported here.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.cli.common import EXIT_OK, non_negative_int, positive_int, print_json

__all__ = ["register", "summarise_logs"]


def _rules(args: argparse.Namespace) -> tuple[list[tuple[str, tuple[str, ...]]], list[str]]:
    """(text rules, capability ids in report order) from --capability-map and --scenario."""
    from econ.evidence.importers.capmap import load_capability_map

    source = args.capability_map or args.scenario
    rules = list(load_capability_map(source).text_patterns()) if source else []
    ids: list[str] = []
    if args.scenario:
        from econ.base.fileio import MAX_SCENARIO_BYTES, read_text_limited
        from econ.scenario.yamlio import parse_yaml

        try:
            data, _ = parse_yaml(read_text_limited(Path(args.scenario), MAX_SCENARIO_BYTES),
                                 args.scenario)
        except FileNotFoundError:
            raise EconError(f"{args.scenario}: scenario not found") from None
        caps = data.get("capabilities") if isinstance(data, dict) else None
        ids = [str(c["id"]) for c in caps or [] if isinstance(c, dict) and "id" in c]
        unknown = [cap for cap, _ in rules if cap not in ids]
        if unknown:
            raise EconError(f"{source}: text rules name capabilities the scenario lacks: "
                            f"{', '.join(unknown)}; it has {', '.join(ids)}")
    return rules, ids or [cap for cap, _ in rules]


def _scenario_capabilities(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(id, label or id) of the scenario's capabilities: what a classifier chooses from."""
    if not args.scenario:
        return []
    from econ.base.fileio import MAX_SCENARIO_BYTES, read_text_limited
    from econ.scenario.yamlio import parse_yaml

    data, _ = parse_yaml(read_text_limited(Path(args.scenario), MAX_SCENARIO_BYTES),
                         args.scenario)
    caps = data.get("capabilities") if isinstance(data, dict) else None
    return [(str(c["id"]), str(c.get("label") or c["id"])) for c in caps or []
            if isinstance(c, dict) and "id" in c]


def model_tokenizers(args: argparse.Namespace) -> list[Any]:
    """Each model of the scenario (``--scenario``, else ``--write``) with the encoding its
    tokens are counted in (:func:`econ.evidence.traffic.tokens.encoding_for`)."""
    path = args.scenario or args.write
    if not path:
        return []
    from econ.base.fileio import MAX_SCENARIO_BYTES, read_text_limited
    from econ.evidence.traffic.tokens import encoding_for
    from econ.scenario.yamlio import parse_yaml

    try:
        data, _ = parse_yaml(read_text_limited(Path(path), MAX_SCENARIO_BYTES), str(path))
    except FileNotFoundError:
        raise EconError(f"{path}: scenario not found") from None
    models = data.get("models") if isinstance(data, dict) else None
    out = []
    for mid, m in (models or {}).items() if isinstance(models, dict) else ():
        m = m if isinstance(m, dict) else {}
        raw = m.get("endpoint")
        endpoint: dict[str, Any] = raw if isinstance(raw, dict) else {}
        arch = m.get("architecture")
        name = (m.get("price_key") or endpoint.get("litellm_model")
                or (arch if isinstance(arch, str) else None) or str(mid))
        out.append(encoding_for(str(mid), str(name)))
    return out


def encodings_of(tokenizers: list[Any]) -> list[str]:
    """The encodings to count in: the one most of the models use first (it gives the figures
    written back; ties go to the first model's), then the others; cl100k_base without models."""
    from collections import Counter

    from econ.evidence.traffic.tokens import ENCODING

    if not tokenizers:
        return [ENCODING]
    counts = Counter(t.encoding for t in tokenizers)
    order = list(dict.fromkeys(t.encoding for t in tokenizers))
    primary = max(order, key=lambda e: (counts[e], -order.index(e)))
    return [primary, *[e for e in order if e != primary]]


def summarise_logs(args: argparse.Namespace,
                   rules_ids: tuple[Any, list[str]] | None = None) -> tuple[Any, Any, Any]:
    """(TrafficSummary, Loaded tables, per-conversation table). Close with ``loaded.close()``.
    ``rules_ids``: the text rules and capability ids, when the caller has read them. Logs
    whose text outgrows DuckDB's memory limit are bad input (exit 1), named."""
    import duckdb

    try:
        return _summarise_logs(args, rules_ids)
    except duckdb.OutOfMemoryException:
        where = ", ".join(map(str, args.logs)) or f"--table {args.table}"
        raise EconError(f"{where}: the logs' text does not fit in the traffic engine's memory "
                        f"limit (--memory-limit {args.memory_limit}): raise it, or read fewer "
                        "or smaller files (--sample N conversations)") from None


def _summarise_logs(args: argparse.Namespace,
                    rules_ids: tuple[Any, list[str]] | None) -> tuple[Any, Any, Any]:
    from econ.cli.traffic_steps import needs_text
    from econ.evidence.traffic.backend import load
    from econ.evidence.traffic.engine import summarise
    from econ.evidence.traffic.normalise import parse_columns

    if args.table and not args.backend:
        raise EconError("--table needs --backend: the engine that holds the table")
    if args.columns and not args.backend:
        raise EconError("--columns names columns of a table or file read by --backend")
    if not args.logs and not args.table:
        raise EconError("give log files, or --backend URL --table NAME")
    rules, ids = rules_ids or _rules(args)
    show = staged_progress() if sys.stderr.isatty() else None
    loaded = load([Path(p) for p in args.logs], url=args.backend, table=args.table,
                  columns=parse_columns(args.columns),
                  keep_text=bool(rules) or needs_text(args),
                  skip_bad=args.skip_bad, limit=args.sample, token_sample=args.token_sample,
                  progress=show, memory_limit=args.memory_limit)
    try:
        summary, conv = summarise(loaded.prepared, loaded.scratch, rules=rules,
                                  capability_ids=ids, token_sample=args.token_sample,
                                  progress=show,
                                  encodings=encodings_of(model_tokenizers(args)))
    except BaseException:
        loaded.close()
        raise
    return summary, loaded, conv


def staged_progress() -> Any:
    """One stderr bar per stage (read, assign, summarise, count), each ended by a newline once
    done; ``count`` shows messages counted, the others a share."""
    finished: set[str] = set()

    def show(stage: str, done: float, total: float) -> None:
        if stage in finished:
            return
        fraction = min(1.0, done / total) if total > 0 else 0.0
        filled = int(30 * fraction)
        what = (f"{done:,.0f}/{total:,.0f} messages" if stage == "count"
                else f"{100 * fraction:5.1f}%")
        sys.stderr.write(f"\r{stage:<9} [{'#' * filled}{'.' * (30 - filled)}] {what}")
        if fraction >= 1:
            sys.stderr.write("\n")
            finished.add(stage)
        sys.stderr.flush()

    return show


def memory_size(text: str) -> str:
    """A DuckDB memory size such as 512MB or 2GB (checked: it goes into a SET statement)."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", text.strip(), re.IGNORECASE):
        raise argparse.ArgumentTypeError(f"a size such as 512MB or 2GB (got {text!r})")
    return text.strip()


def _rule_notes(args: argparse.Namespace, rules: list[Any]) -> list[str]:
    """Say so when the scenario gives the logs nothing to measure a capability by."""
    if not args.scenario or rules or args.classifier:
        return []
    where = (f"the capability map {args.capability_map} has no text rules" if args.capability_map
             else f"{args.scenario} has no text rules (capability_map.text) and no "
             "--capability-map was given")
    return [f"{where}: no capability can be measured from the logs, so every conversation is "
            "uncategorised and --write leaves every share as it is. For a starter map from the "
            "capability ids and the traffic's word clusters: econ traffic LOGS --scenario "
            f"{args.scenario} --suggest-map"]


def _text(summary: Any, unmeasured: set[str] | None = None) -> str:
    s = summary.shape
    reasons = ", ".join(f"{why} {n:,}" for why, n in summary.skipped_by_reason.items())
    lines = [
        f"conversations: {s.conversations:,}  (messages: {summary.messages:,}"
        + (f"; skipped bad conversations: {summary.skipped:,}" if summary.skipped else "")
        + (f": {reasons}" if reasons else "") + ")",
        f"turns per conversation: mean {s.turns_mean:.2f}, p50 {s.turns_p50:g}, "
        f"p90 {s.turns_p90:g}; single-turn {100 * s.single_turn_share:.1f}%",
        f"tokens per turn ({summary.tokenizer}, {summary.counted_messages:,} messages counted): "
        f"user {s.user_tokens_mean:.1f} (sd {s.user_tokens_sd:.1f}), assistant "
        f"{s.assistant_tokens_mean:.1f} (sd {s.assistant_tokens_sd:.1f}); system "
        f"{s.system_tokens_mean:.1f} tokens per conversation",
        f"re-sent history a prompt cache could hit: {100 * s.cache_hit_share:.1f}% of input "
        "tokens",
    ]
    if s.tool_calls or s.tool_results:
        lines.append(f"tool traffic per turn: calls {s.tool_call_tokens_per_turn:.1f} tokens "
                     f"(output; {s.tool_calls:,} calls), results "
                     f"{s.tool_result_tokens_per_turn:.1f} tokens (input; {s.tool_results:,} "
                     "results)")
    if s.images:
        missing = s.images - s.images_counted
        lines.append(f"images: {s.images:,}, {s.image_tokens_per_turn:.1f} tokens per turn "
                     "(input)" + (f"; {missing:,} not counted: the log does not state their "
                                  "size, so the figure is a lower bound" if missing else ""))
    if summary.capabilities:
        lines.append("capability mix (share of conversations, 95% Wilson interval):")
        width = max(len(c.id) for c in summary.capabilities)
        for c in summary.capabilities:
            if c.id in (unmeasured or ()):
                lines.append(f"  {c.id:<{width}}  not measured: no text rule sees it")
                continue
            sh = summary.by_capability.get(c.id)
            extra = (f"  turns {sh.turns_mean:.2f}, user {sh.user_tokens_mean:.0f} / assistant "
                     f"{sh.assistant_tokens_mean:.0f} tokens per turn" if sh else "")
            lines.append(f"  {c.id:<{width}}  {100 * c.share:5.1f}%  "
                         f"[{100 * c.ci_low:.1f}%, {100 * c.ci_high:.1f}%]  n={c.n:,}{extra}")
        lines.append(f"  {'uncategorised':<{width}}  {100 * summary.uncategorised_share:5.1f}%"
                     f"  n={summary.uncategorised:,}  (matched no rule; not folded in)")
    return "\n".join(lines)


def _tokenizers_text(summary: Any, tokenizers: list[Any]) -> str:
    """Which encoding counts each model's tokens; the figures in the others when they differ."""
    by: dict[str, list[str]] = {}
    for t in tokenizers:
        by.setdefault(t.encoding, []).append(t.model + ("" if t.exact else " (stand-in)"))
    primary = summary.tokenizer.rsplit(":", 1)[-1]
    lines = ["tokenizers by model: " + "; ".join(
        f"{enc} for {', '.join(models)}" + (" (figures above)" if enc == primary else "")
        for enc, models in by.items())]
    if any(not t.exact for t in tokenizers):
        lines.append("  stand-in: those models' own tokenizers are not bundled offline; "
                     "cl100k_base approximates them")
    for enc, sh in summary.by_encoding.items():
        lines.append(f"  in {enc}: user {sh.user_tokens_mean:.1f}, assistant "
                     f"{sh.assistant_tokens_mean:.1f} tokens per turn; system "
                     f"{sh.system_tokens_mean:.1f} per conversation (for "
                     f"{', '.join(by.get(enc, []))})")
    return "\n".join(lines)


def _coverage_text(cov: dict[str, Any]) -> str:
    lines = [f"coverage against the evals ({cov['method']}): threshold {cov['threshold']:.3f} "
             f"(calibrated on {cov['evals']} eval inputs at the {100 * cov['quantile']:g}% "
             f"quantile); unseen {100 * cov['unseen_share']:.1f}% "
             f"[{100 * cov['unseen_ci_low']:.1f}%, {100 * cov['unseen_ci_high']:.1f}%]"
             + (f" (indicative: fewer than {cov['min_evals']} eval inputs)"
                if cov.get("indicative") else "")]
    if cov.get("reference"):
        lines.append(f"  representation fitted on a fixed reference: {cov['reference']}")
    if cov.get("note"):
        lines.append(f"  note: {cov['note']}")
    for k, c in enumerate(cov["clusters"], start=1):
        lines.append(f"  unseen cluster {k}: {100 * c['share']:.1f}% [{100 * c['ci_low']:.1f}%, "
                     f"{100 * c['ci_high']:.1f}%], n={c['n']}; terms: {', '.join(c['terms'])}")
        lines += [f"    “{e}”" for e in c["examples"]]
    return "\n".join(lines)


def cmd_traffic(args: argparse.Namespace) -> int:
    from econ.cli import traffic_steps as steps

    if args.add_unseen and not (args.write and args.evals):
        raise EconError("--add-unseen needs --write and --evals")
    if args.embeddings and not args.evals:
        raise EconError("--embeddings needs --evals (the eval inputs to compare against)")
    if args.classifier and not args.scenario:
        raise EconError("--classifier needs --scenario: the capabilities to classify into")
    if args.suggest_map and not args.scenario:
        raise EconError("--suggest-map needs --scenario: the capabilities to suggest rules for")
    if args.suggest_map and args.write:
        raise EconError("--suggest-map prints a map to review; it does not --write")
    rules, ids = _rules(args)
    notes = _rule_notes(args, rules)
    ruled = {cap for cap, _ in rules}  # the capabilities the logs can measure by text rules
    summary, loaded, conv = summarise_logs(args, (rules, ids))
    tokenizers = model_tokenizers(args)
    try:
        payload = summary.as_json()
        for c in payload["capabilities"]:
            c["measured_by"] = "text rules" if c["id"] in ruled else None
        if notes:
            payload["notes"] = notes
        if tokenizers:
            payload["tokenizers"] = [t.as_json() for t in tokenizers]
        if args.classifier:
            steps.classify_mix(args, summary, loaded, conv, ids, _scenario_capabilities(args),
                                payload)
        if args.evals:
            payload["coverage"] = steps.coverage(args, loaded, conv)
        found = (steps.suggested_map(args, loaded, conv, _scenario_capabilities(args))
                 if args.suggest_map else None)
    finally:
        loaded.close()
    changes: list[str] = []
    if args.write:
        changes, left = steps.write_back(args, {**payload, "capability_shapes":
                                                steps.capability_shapes(summary)})
        notes += left
    if found is not None:
        notes = [n for n in notes if "--suggest-map" not in n]
        payload["suggested_map"] = {
            "text": {cid: {"keywords": list(w)} for cid, w in found.keywords.items()},
            "unmatched": list(found.unmatched), "conversations": found.conversations,
            "clusters": [{"n": c.n, "share": c.share, "terms": list(c.terms),
                          "examples": list(c.examples), "capability": c.capability,
                          "matched": list(c.matched)} for c in found.clusters]}
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print_json(payload)
    elif found is not None:
        print(steps.render_map(found, args), end="")
    else:
        print(_text(summary, unmeasured={c.id for c in summary.capabilities} - ruled))
        if tokenizers:
            print(_tokenizers_text(summary, tokenizers))
        if "mix" in payload:
            print(f"mix by {payload['mix']['method']} on {payload['mix']['sample']} "
                  "conversations (replaces the rule-based shares in --json and --write)")
        if "coverage" in payload:
            print(_coverage_text(payload["coverage"]))
    if args.write:
        print(f"wrote {args.write}: {len(changes)} figure(s) changed" if changes
              else f"{args.write}: nothing to change", file=sys.stderr)
        for c in changes:
            print(f"  {c}", file=sys.stderr)
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("traffic", help="measured mix and conversation shape of chat logs")
    p.add_argument("logs", nargs="*", metavar="LOGS",
                   help="conversation logs: OpenAI chat JSONL, ShareGPT, WildChat, HH-RLHF "
                   "transcripts, CSV or Parquet (gzip read transparently); with --backend, "
                   "the engine reads JSONL and Parquet itself")
    p.add_argument("--scenario", help="scenario YAML: its capabilities (and capability_map "
                   "text rules unless --capability-map is given)")
    p.add_argument("--capability-map", help="YAML/JSON capability map with text rules")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--sample", type=positive_int, metavar="N",
                   help="read only the first N conversations (a quick look)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip bad lines and conversations (not UTF-8, not JSON, no messages, "
                   "roles out of order, ...) with a count by reason instead of failing")
    p.add_argument("--backend", metavar="URL",
                   help="Ibis backend URL to run the queries on, where the logs live "
                   "(duckdb:///file.ddb, pyspark://, postgres://…, polars://; default: DuckDB "
                   "embedded)")
    p.add_argument("--table", metavar="NAME",
                   help="with --backend: read this table or view (one row per message, or one "
                   "per conversation with a messages array) instead of files")
    p.add_argument("--columns", metavar="MAP",
                   help="name the columns when they are not found by name: "
                   "conversation=COL,order=COL,role=COL,text=COL,tokens=COL,messages=COL")
    p.add_argument("--memory-limit", default="512MB", metavar="SIZE", type=memory_size,
                   help="DuckDB's memory before it spills to disk (default 512MB)")
    p.add_argument("--token-sample", type=non_negative_int, default=100_000, metavar="N",
                   help="count tokens with tiktoken on a uniform sample of N messages "
                   "(default 100000; 0 counts every message)")
    from econ.cli.traffic_steps import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_traffic)
