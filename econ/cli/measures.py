"""econ compare, import and fit: measured eval results and serving benchmarks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.cli.common import (
    EXIT_LOST,
    EXIT_OK,
    add_multiplicity,
    add_scenario,
    load,
    positive_int,
    print_json,
    share_arg,
    token_count,
)

__all__ = ["register"]


def cmd_compare(args: argparse.Namespace) -> int:
    from econ.evidence.results_io import read_results
    from econ.outputs.compare import compare_json, compare_results, compare_text

    rows = []
    for f in args.results:
        rows += read_results(f)
    results = compare_results(rows, args.teacher, args.student, args.tolerance,
                              multiplicity=args.multiplicity)
    if args.json:
        print_json(compare_json(results, args.teacher, args.student))
    else:
        sys.stdout.write(compare_text(results, args.teacher, args.student))
    return EXIT_LOST if any(r.verdict == "lost" for r in results) else EXIT_OK


def cmd_import_bench(args: argparse.Namespace) -> int:
    from econ.evidence.importers.aiperf_records import read_conversations
    from econ.evidence.importers.bench import read_bench

    runs: list[Any] = []
    conversations: dict[int, Any] = {}  # run index -> an AIPerf records file per conversation
    for f in args.files:
        for r in read_bench(f, args.format):
            if r.source_format == "aiperf-records":
                conversations[len(runs)] = read_conversations(f)
            runs.append(r)
    gpus = args.gpus_per_replica
    if args.json:
        out = []
        for i, r in enumerate(runs):
            rec = r.to_json()
            if i in conversations:
                rec["conversations"] = conversations[i].to_json(gpus)
            out.append(rec)
        print_json(out)
        return EXIT_OK
    from econ.outputs.report import format_table

    def num(x: float | None, digits: int = 1) -> str:
        return "—" if x is None else f"{x:,.{digits}f}"

    rows = [[r.source_format, Path(r.file).name, r.model or "—", num(r.completed, 0),
             num(r.failed, 0), num(r.duration_s), num(r.mean_input_tokens),
             num(r.mean_output_tokens), num(r.request_throughput_per_s, 2),
             num(r.output_tokens_per_s), num(r.max_concurrency, 0)] for r in runs]
    print(format_table(["format", "file", "model", "completed", "failed", "duration (s)",
                        "input tok/req", "output tok/req", "requests/s", "output tok/s",
                        "concurrency"], rows,
                       [False, False, False] + [True] * 8))
    if conversations:
        print(f"\nMeasured conversations (GPU-seconds = run duration ÷ completed conversations "
              f"× {gpus} GPU(s) per replica):")
        crow = []
        for c in conversations.values():
            hit = c.prefix_cache_hit_rate
            cached = ("not reported" if c.cached_input_tokens_per_conversation is None else
                      f"{c.cached_input_tokens_per_conversation:,.0f} ({100 * (hit or 0):.0f}%)")
            crow.append([Path(c.file).name, f"{c.completed_conversations}/{c.sessions}",
                         f"{c.turns_per_conversation:.2f}",
                         f"{c.input_tokens_per_conversation:,.0f}", cached,
                         f"{c.output_tokens_per_conversation:,.0f}",
                         f"{c.replica_seconds_per_conversation:,.4f}",
                         f"{c.gpu_seconds_per_conversation(gpus):,.4f}"])
        print(format_table(["file", "completed/sessions", "turns/conv", "input tok/conv",
                            "cached tok/conv (hit)", "output tok/conv", "replica-s/conv",
                            "GPU-s/conv"], crow, [False] + [True] * 7))
    return EXIT_OK


def cmd_import_evals(args: argparse.Namespace) -> int:
    from econ.base.fileio import atomic_write_text
    from econ.evidence.importers.capmap import CapabilityMap, load_capability_map
    from econ.evidence.importers.evals import ImportOptions, read_evals
    from econ.evidence.results_io import results_to_text

    out = Path(args.output)
    fmt = {".csv": "csv", ".jsonl": "jsonl"}.get(out.suffix.lower())
    if fmt is None:
        raise EconError(f"{out}: the output is .csv or .jsonl")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    cmap = load_capability_map(args.capability_map) if args.capability_map else CapabilityMap()
    options = ImportOptions(model=args.model, capability_map=cmap, task=args.task,
                            filter=args.filter, metric=args.metric, scorer=args.scorer,
                            pass_threshold=args.pass_threshold, cluster_key=args.cluster_key)
    rows = []
    seen: dict[tuple[str, str], str] = {}
    for f in args.files:
        for r in read_evals(f, options, args.format):
            key = (r.model, r.example_id)
            if key in seen:
                raise EconError(f"{f}: example {r.example_id} of model {r.model} is also in "
                                f"{seen[key]}; import each example once (or set --model)")
            seen[key] = f
            rows.append(r)
    if not rows:
        raise EconError("no scored examples in " + ", ".join(args.files))
    atomic_write_text(out, results_to_text(rows, fmt))
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        counts[(r.model, r.capability)] = counts.get((r.model, r.capability), 0) + (r.n or 1)
    print(f"wrote {out}: {len(rows)} rows", file=sys.stderr)
    for (model, cap), n in sorted(counts.items()):
        print(f"  {model}  {cap}: {n} examples", file=sys.stderr)
    return EXIT_OK


def cmd_fit(args: argparse.Namespace) -> int:
    from econ.model.cost import cost_table
    from econ.model.cost_interval import cost_intervals, model_basis
    from econ.model.extrapolation import extrapolation_warnings
    from econ.model.fit import fit_time_model, leave_one_out, shape_of_measurement
    from econ.model.plans import Assignment, plan_cost_per_conversation
    from econ.model.serving import ServingModel
    from econ.outputs.fit_report import fit_json, fit_text, predict
    from econ.scenario.schema import SelfHostedModel

    loaded = load(args)
    s = loaded.scenario
    m = s.models.get(args.model)
    if not isinstance(m, SelfHostedModel):
        hosted = [k for k, v in s.models.items() if isinstance(v, SelfHostedModel)]
        raise EconError(f"--model {args.model}: not a self-hosted model of the scenario; "
                        f"self-hosted: {', '.join(hosted) or 'none'}")
    fit = loaded.measured.fits.get(args.model)
    if fit is None:
        if m.throughput is None:
            raise EconError(f"models.{args.model}: no benchmarks or throughput to fit; its cost "
                            "comes from measured_conversations (see econ evaluate --json, "
                            "cost_source)")
        fit = fit_time_model([shape_of_measurement(m.throughput, "throughput")],
                             m.prefill_cost_ratio)
    if isinstance(fit.model, ServingModel):
        loo = fit.loo
    else:
        loo = leave_one_out(fit.runs, m.prefill_cost_ratio)
    measured = loaded.measured
    costs = cost_table(s, measured.prices, measured.time_models)
    per_cap = dict(costs.per_capability[args.model])
    from econ.model.measured import cost_source

    source = cost_source(m, measured.time_models.get(args.model),
                         args.model in measured.fits)["cost_source"]
    intervals = cost_intervals(s, measured.time_models, measured.fits, costs)
    warnings = [w for w in extrapolation_warnings(s, measured.time_models, measured.fits,
                                                  intervals)
                if w.startswith(f"{args.model}: ")]
    prediction = None
    if args.predict is not None:
        prediction = predict(m, fit.model, args.predict[0], args.predict[1],
                             model_basis(m, measured.fits.get(args.model)))
    weighted = float(plan_cost_per_conversation(Assignment(args.model, None, frozenset(), 0.0,
                                                           0.0), s, costs))
    parts = (args.model, fit, loo, per_cap, costs.uncategorised[args.model], warnings,
             prediction, weighted, source, intervals.get(args.model))
    if args.json:
        print_json(fit_json(*parts))
    else:
        print(fit_text(args.model, m, *parts[1:]))
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compare", help="teacher vs student per capability from results files (exit 3 if lost)")
    p.add_argument("results", nargs="+", help="per-example results, CSV or JSONL")
    p.add_argument("--teacher", required=True, help="model id of the teacher in the files")
    p.add_argument("--student", required=True, help="model id of the student in the files")
    p.add_argument("--tolerance", type=share_arg, default=0.02,
                   help="largest accepted drop in pass rate, or in mean score where the scores "
                   "are graded (default 0.02 = 2 points)")
    add_multiplicity(p, "holm")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("import", help="read serving benchmarks and eval logs")
    isub = p.add_subparsers(dest="import_command", required=True, metavar="KIND")
    q = isub.add_parser("bench", help="serving benchmark results → one record per run")
    q.add_argument("files", nargs="+", metavar="FILE")
    q.add_argument("--format", help="vllm, sglang, llmperf-summary, llmperf-individual, aiperf, "
                   "aiperf-records, trtllm-bench (report JSON or console), vllm-console, "
                   "sglang-console (default: detected from the content)")
    q.add_argument("--gpus-per-replica", type=positive_int, default=1, metavar="N",
                   help="GPUs of the replica that served an AIPerf multi-turn run, for its "
                   "GPU-seconds per conversation (default 1)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_import_bench)
    q = isub.add_parser("evals", help="eval logs → per-example results (CSV or JSONL)")
    q.add_argument("files", nargs="+", metavar="FILE")
    q.add_argument("-o", "--output", required=True, help="OUT.csv or OUT.jsonl")
    q.add_argument("--model", help="model id to record (default: from the log)")
    q.add_argument("--capability-map", metavar="MAP", help="YAML/JSON: task/tag/metadata → "
                   "capability")
    q.add_argument("--format", help="lmeval-samples, lmeval-results, inspect, promptfoo, plain")
    q.add_argument("--task", help="lm-eval samples: the task, when the file name does not say")
    q.add_argument("--filter", help="lm-eval: the filter to keep (default: none, or the first)")
    q.add_argument("--metric", help="lm-eval: the metric (default: the first listed)")
    q.add_argument("--scorer", help="Inspect: the scorer (default: the first)")
    q.add_argument("--pass-threshold", type=share_arg, default=0.5,
                   help="a numeric score at or above this passes (default 0.5)")
    q.add_argument("--cluster-key", metavar="FIELD",
                   help="a metadata field (Inspect sample metadata, the lm-eval doc, promptfoo "
                   "vars or metadata) naming each example's cluster: a source document or "
                   "template id (default: Inspect epochs cluster by sample, promptfoo prompts "
                   "by test)")
    q.set_defaults(func=cmd_import_evals)

    p = sub.add_parser("fit", help="GPU time per prefill/decode token fitted to benchmarks")
    add_scenario(p)
    p.add_argument("--model", required=True, help="a self-hosted model of the scenario")
    p.add_argument("--predict", nargs=2, type=token_count, metavar=("INPUT_TOKENS",
                                                                     "OUTPUT_TOKENS"),
                   help="replica-seconds and cost of one single-turn request of that shape at "
                   "the fitted operating point")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fit)
