"""The ``econ`` command line. Errors become one clean message on stderr and exit code 1."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from econ.errors import EconError

if TYPE_CHECKING:
    from econ.export import ExportFormat

__all__ = ["main"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_LOST = 0, 1, 2, 3


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, allow_nan=False) + "\n")


def _load(args: argparse.Namespace) -> Any:
    from econ.loader import load_scenario, load_snapshot

    snapshot = load_snapshot(args.prices) if getattr(args, "prices", None) else None
    return load_scenario(args.scenario, snapshot)


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = _load(args)
    s = loaded.scenario
    print(f"{args.scenario}: ok ({len(s.models)} models, {len(s.capabilities)} capabilities, "
          f"{len(s.tiers)} tiers)")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from econ.scenario import Scenario

    _print_json(Scenario.model_json_schema())
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from econ.evaluate import evaluate
    from econ.report import evaluation_json, text_report

    loaded = _load(args)
    ev = evaluate(loaded.scenario, loaded.measured, consent=args.consent)
    if args.json:
        _print_json(evaluation_json(ev))
    else:
        sys.stdout.write(text_report(ev))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from econ.evaluate import evaluate
    from econ.export import EXPORT_FORMATS, export_bytes
    from econ.fileio import atomic_write_bytes

    out = Path(args.output)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in EXPORT_FORMATS:
        raise EconError(f"{out}: cannot tell the export format; use --format csv|xlsx|md|json")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    loaded = _load(args)
    ev = evaluate(loaded.scenario, loaded.measured, consent=args.consent)
    data = export_bytes(ev, cast("ExportFormat", fmt))
    atomic_write_bytes(out, data)
    print(f"wrote {out} ({fmt}, {len(loaded.scenario.tiers)} tiers)", file=sys.stderr)
    return EXIT_OK


def cmd_prices_show(args: argparse.Namespace) -> int:
    from econ.loader import load_snapshot
    from econ.prices import model_prices

    snap = load_snapshot(args.prices)
    rows = {}
    for name in args.models:
        if name not in snap.models:
            from difflib import get_close_matches

            near = get_close_matches(name, list(snap.models), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise EconError(f"{name}: not in the price snapshot (litellm "
                            f"{snap.litellm_version}, {snap.snapshot_date}){hint}")
        rows[name] = vars(model_prices(snap, name))
    if args.json:
        _print_json({"litellm_version": snap.litellm_version,
                     "snapshot_date": snap.snapshot_date, "models": rows})
        return EXIT_OK
    from econ.report import format_table

    print(f"Price snapshot: litellm {snap.litellm_version}, taken {snap.snapshot_date} "
          "(USD per million tokens)")
    cols = ["input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok",
            "batch_input_usd_per_mtok", "batch_output_usd_per_mtok"]
    table = [[n] + ["—" if r[c] is None else f"{r[c]:g}" for c in cols] for n, r in rows.items()]
    print(format_table(["model", "input", "output", "cached input", "batch input",
                        "batch output"], table, [False] + [True] * 5))
    return EXIT_OK


def cmd_prices_refresh(args: argparse.Namespace) -> int:
    from econ.price_refresh import refresh

    return refresh(args)


def cmd_compare(args: argparse.Namespace) -> int:
    from econ.compare import compare_json, compare_results, compare_text
    from econ.results_io import read_results

    rows = []
    for f in args.results:
        rows += read_results(f)
    results = compare_results(rows, args.teacher, args.student, args.tolerance)
    if args.json:
        _print_json(compare_json(results, args.teacher, args.student))
    else:
        sys.stdout.write(compare_text(results, args.teacher, args.student))
    return EXIT_LOST if any(r.verdict == "lost" for r in results) else EXIT_OK


def _tier_id(loaded: Any, tier: str) -> str:
    ids = [t.id for t in loaded.scenario.tiers]
    if tier not in ids:
        raise EconError(f"--tier {tier}: no such tier; the scenario has {', '.join(ids)}")
    return tier


def cmd_frontier(args: argparse.Namespace) -> int:
    from econ.evaluate import evaluate
    from econ.frontier import tier_frontier

    loaded = _load(args)
    ev = evaluate(loaded.scenario, loaded.measured)
    front = tier_frontier(ev, _tier_id(loaded, args.tier))
    choice = None
    if args.target_floor is not None:
        choice = front.least_loss_under_floor(args.target_floor)
    elif args.max_loss is not None:
        choice = front.cheapest_under_loss(args.max_loss)
    if args.json:
        _print_json({"tier": front.tier, "points": [p.to_json() for p in front.points],
                     "retained": list(front.retained),
                     "choice": choice.to_json() if choice else None})
        return EXIT_OK
    from econ.report import format_table

    print(f"Consent frontier of tier {front.tier}: {len(front.points)} Pareto-optimal consent sets"
          f" (retained, always on the student: {', '.join(front.retained) or 'none'})")
    rows = [[f"{p.price_floor_usd_month:,.2f}", f"{p.loss_usd_month:,.0f}",
             ", ".join(p.consent) or "(nothing)",
             ", ".join(p.unmeasured)] for p in front.points]
    print(format_table(["floor (USD/mo)", "loss (USD/mo)", "consent to lose",
                        "unmeasured (loss at prior's worst)"], rows, [True, True, False, False]))
    if args.target_floor is not None or args.max_loss is not None:
        if choice is None:
            print("\nno consent set meets the target")
        else:
            print(f"\nchoice: consent to lose {', '.join(choice.consent) or 'nothing'}: floor "
                  f"{choice.price_floor_usd_month:,.2f} USD/mo, loss "
                  f"{choice.loss_usd_month:,.0f} USD/mo")
    return EXIT_OK


def cmd_uncertainty(args: argparse.Namespace) -> int:
    from econ.evaluate import evaluate
    from econ.uncertainty import simulate

    loaded = _load(args)
    ev = evaluate(loaded.scenario, loaded.measured)
    bar = _progress_bar() if args.draws >= 200_000 else None
    result = simulate(ev, loaded.measured, args.draws, args.seed, progress=bar)
    if args.json:
        _print_json({"draws": args.draws, "seed": args.seed,
                     "tiers": {r.tier: r.to_json() for r in result}})
        return EXIT_OK
    from econ.report import format_table

    print(f"Monte Carlo: {args.draws:,} draws, seed {args.seed} (P5 / P50 / P95)")
    rows = [[r.tier, " / ".join(f"{100 * x:.3f}" for x in r.cost_per_conversation_usd),
             " / ".join(f"{x:,.2f}" for x in r.price_floor_usd_month),
             " / ".join(f"{x:,.0f}" for x in r.loss_usd_month),
             "—" if r.p_margin_meets_target is None else f"{100 * r.p_margin_meets_target:.1f}"]
            for r in result]
    print(format_table(["tier", "cost/conv (¢)", "floor (USD/mo)", "loss (USD/mo)",
                        "P(margin ≥ target) (%)"], rows, [False, True, True, True, True]))
    return EXIT_OK


def _progress_bar() -> Any:
    def show(fraction: float) -> None:
        if sys.stderr.isatty():
            filled = int(30 * fraction)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * fraction:5.1f}%")
            if fraction >= 1:
                sys.stderr.write("\n")
            sys.stderr.flush()

    return show


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from econ.evaluate import evaluate
    from econ.sensitivity import sensitivity, tornado

    loaded = _load(args)
    ev = evaluate(loaded.scenario, loaded.measured)
    rows = sensitivity(ev, loaded.measured, args.swing)
    tiers = [t.id for t in loaded.scenario.tiers]
    base = {t.economics.tier: t.economics.price_floor_usd_month for t in ev.tiers}
    if args.json:
        out: dict[str, Any] = {"swing": args.swing, "tiers": {}}
        for tid in tiers:
            out["tiers"][tid] = {"base_floor_usd_month": base[tid], "inputs": [
                {"input": r.input, "base_value": r.base_value, "low_value": r.low_value,
                 "high_value": r.high_value, "floor_at_low_usd_month": r.floor_at_low[tid],
                 "floor_at_high_usd_month": r.floor_at_high[tid],
                 "swing_usd_month": r.swing(tid)} for r in tornado(rows, tid)]}
        _print_json(out)
        return EXIT_OK
    from econ.report import format_table

    for tid in tiers:
        ranked = tornado(rows, tid)
        print(f"Tier {tid}: floor {base[tid]:,.2f} USD/mo; inputs moved ±{100 * args.swing:g}%")
        table = [[r.input, f"{r.base_value:g}", _money(r.floor_at_low[tid]),
                  _money(r.floor_at_high[tid]), f"{r.swing(tid):,.2f}"] for r in ranked[:args.top]]
        print(format_table(["input", "base value", "floor at −swing (USD/mo)",
                            "floor at +swing (USD/mo)", "swing (USD/mo)"], table,
                           [False, True, True, True, True]))
        print()
    return EXIT_OK


def _money(x: float | None) -> str:
    return "—" if x is None else f"{x:,.2f}"


def cmd_import_bench(args: argparse.Namespace) -> int:
    from econ.importers.bench import read_bench

    runs = []
    for f in args.files:
        runs += read_bench(f, args.format)
    if args.json:
        _print_json([r.to_json() for r in runs])
        return EXIT_OK
    from econ.report import format_table

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
    return EXIT_OK


def cmd_import_evals(args: argparse.Namespace) -> int:
    from econ.fileio import atomic_write_text
    from econ.importers.capmap import CapabilityMap, load_capability_map
    from econ.importers.evals import ImportOptions, read_evals
    from econ.results_io import results_to_text

    out = Path(args.output)
    fmt = {".csv": "csv", ".jsonl": "jsonl"}.get(out.suffix.lower())
    if fmt is None:
        raise EconError(f"{out}: the output is .csv or .jsonl")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    cmap = load_capability_map(args.capability_map) if args.capability_map else CapabilityMap()
    options = ImportOptions(model=args.model, capability_map=cmap, task=args.task,
                            filter=args.filter, metric=args.metric, scorer=args.scorer,
                            pass_threshold=args.pass_threshold)
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
    from econ.cost import cost_table
    from econ.scenario import SelfHostedModel

    loaded = _load(args)
    s = loaded.scenario
    m = s.models.get(args.model)
    if not isinstance(m, SelfHostedModel):
        hosted = [k for k, v in s.models.items() if isinstance(v, SelfHostedModel)]
        raise EconError(f"--model {args.model}: not a self-hosted model of the scenario; "
                        f"self-hosted: {', '.join(hosted) or 'none'}")
    fit = loaded.measured.fits.get(args.model)
    if fit is None:
        from econ.fit import fit_time_model, shape_of_measurement

        assert m.throughput is not None
        fit = fit_time_model([shape_of_measurement(m.throughput, "throughput")],
                             m.prefill_cost_ratio)
    costs = cost_table(s, loaded.measured.prices, loaded.measured.time_models)
    per_cap = dict(costs.per_capability[args.model])
    if args.json:
        _print_json({
            "model": args.model, "method": fit.method,
            "prefill_s_per_token": fit.model.prefill_s_per_token,
            "decode_s_per_token": fit.model.decode_s_per_token,
            "runs": [{"run": r.label, "input_tokens_per_request": r.input_tokens_per_request,
                      "output_tokens_per_request": r.output_tokens_per_request,
                      "seconds_per_request": r.seconds_per_request,
                      "predicted_seconds_per_request": p, "relative_residual": e}
                     for r, p, e in zip(fit.runs, fit.predicted_seconds_per_request,
                                        fit.relative_residuals, strict=True)],
            "cost_per_conversation_usd_by_capability": per_cap,
            "cost_per_conversation_usd": costs.uncategorised[args.model],
        })
        return EXIT_OK
    from econ.report import format_table

    how = ("non-negative least squares on relative errors" if fit.method == "nnls" else
           f"one input/output ratio: split with prefill_cost_ratio {m.prefill_cost_ratio:g}")
    print(f"GPU time model of {args.model} ({m.gpus_per_replica}× {m.gpu} per replica), {how}:")
    print(f"  prefill {fit.model.prefill_s_per_token * 1e3:.5f} ms/token, decode "
          f"{fit.model.decode_s_per_token * 1e3:.5f} ms/token (replica time)")
    rows = [[r.label, f"{r.input_tokens_per_request:,.1f}", f"{r.output_tokens_per_request:,.1f}",
             f"{r.seconds_per_request * 1e3:,.2f}", f"{p * 1e3:,.2f}", f"{100 * e:+.1f}"]
            for r, p, e in zip(fit.runs, fit.predicted_seconds_per_request,
                               fit.relative_residuals, strict=True)]
    print(format_table(["run", "input tok/req", "output tok/req", "measured (ms/req)",
                        "fitted (ms/req)", "residual (%)"], rows,
                       [False, True, True, True, True, True]))
    print(f"\nCost per conversation at {m.usd_per_gpu_hour:g} USD/GPU-hour, utilisation "
          f"{m.target_utilisation:g} ÷ peak-to-average {m.peak_to_average:g} (USD):")
    print(format_table(["capability", "USD/conversation"],
                       [[c, f"{v:.6f}"] for c, v in per_cap.items()]
                       + [["(uncategorised)", f"{costs.uncategorised[args.model]:.6f}"]],
                       [False, True]))
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from econ.evaluate import evaluate
    from econ.gitrev import file_at_revision, revision_label
    from econ.loader import load_scenario, load_snapshot, parse_scenario
    from econ.scenario_diff import diff_evaluations

    snapshot = load_snapshot(args.prices) if args.prices else None
    revs = args.rev or []
    if len(revs) > 2:
        raise EconError("--rev: give at most two revisions")
    if revs and len(args.scenarios) != 1:
        raise EconError("with --rev, give one scenario file")
    if not revs and len(args.scenarios) != 2:
        raise EconError("give two scenario files, or one with --rev REV [--rev REV2]")
    if revs:
        path = Path(args.scenarios[0])
        sides = []
        for rev in revs:
            text = file_at_revision(path, rev)
            sides.append(parse_scenario(text, revision_label(path, rev), snapshot,
                                        base_dir=path.parent))
        if len(revs) == 1:
            sides.append(load_scenario(path, snapshot))
        labels = [revision_label(path, r) for r in revs] + ([] if len(revs) == 2 else [str(path)])
    else:
        sides = [load_scenario(p, snapshot) for p in args.scenarios]
        labels = list(args.scenarios)
    a, b = (evaluate(x.scenario, x.measured) for x in sides)
    d = diff_evaluations(a, b)
    if args.json:
        _print_json({"old": labels[0], "new": labels[1], **d.to_json()})
        return EXIT_OK
    from econ.report import format_table

    print(f"{labels[0]} → {labels[1]}")
    print(f"\nInputs changed: {len(d.inputs)}")
    if d.inputs:
        print(format_table(["input", "old", "new"],
                           [[c.path, _short(c.old), _short(c.new)] for c in d.inputs]))
    print(f"\nOutputs moved: {len(d.outputs)}")
    if d.outputs:
        print(format_table(
            ["output", "unit", "old", "new", "change", "change (%)"],
            [[o.name, o.unit, _fmt(o.old), _fmt(o.new), _fmt(o.change),
              "—" if o.change_pct is None else f"{o.change_pct:+.1f}"] for o in d.outputs],
            [False, False, True, True, True, True]))
    return EXIT_OK


def _short(v: Any) -> str:
    text = json.dumps(v) if not isinstance(v, str) else v
    return text if len(text) <= 48 else text[:45] + "..."


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.6g}"


def cmd_probe(args: argparse.Namespace) -> int:
    import statistics

    from econ.cost import conversation_cost_usd
    from econ.scenario import ApiModel

    loaded = _load(args)
    s = loaded.scenario
    if args.model not in s.models:
        raise EconError(f"--model {args.model}: not a model of the scenario; it has "
                        f"{', '.join(s.models)}")
    spec = s.models[args.model]
    endpoint = spec.endpoint
    litellm_model = endpoint.litellm_model if endpoint else (
        spec.price_key if isinstance(spec, ApiModel) else None)
    if litellm_model is None:
        raise EconError(f"models.{args.model}: give an endpoint (litellm_model, api_base) to "
                        "probe a self-hosted model")
    key_env = endpoint.api_key_env if endpoint else None
    api_key = os.environ.get(key_env) if key_env else None
    if key_env and not api_key:
        raise EconError(f"models.{args.model}.endpoint.api_key_env: set the environment "
                        f"variable {key_env}")
    probes_file = args.probes or s.probes
    if probes_file is None:
        raise EconError(f"{args.scenario}: the scenario names no probes file; add probes: "
                        "FILE.jsonl or pass --probes")
    base = Path(args.scenario).parent
    from econ.probe import ProbeTarget, load_probes, run_probes

    probes = load_probes(Path(probes_file) if args.probes else base / probes_file)
    out = Path(args.output or f"{Path(args.scenario).stem}.{args.model}.probe.jsonl")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    prices = loaded.measured.prices.get(args.model)
    time_model = loaded.measured.time_models.get(args.model)
    target = ProbeTarget(args.model, litellm_model,
                         args.base_url or (endpoint.api_base if endpoint else None), api_key,
                         lambda t: float(conversation_cost_usd(spec, t, prices, time_model)))

    def bar(done: int, total: int) -> None:
        if sys.stderr.isatty():
            filled = int(30 * done / max(total, 1))
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} probes")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    outcome = run_probes(probes, target, out, concurrency=args.concurrency,
                         timeout_s=args.timeout, retries=args.retries, progress=bar)
    from econ.report import format_table

    rows = [r for r in _read_jsonl(out) if r.get("model") == args.model]
    by_cap: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_cap.setdefault(str(r["capability"]), []).append(r)
    table = []
    for cap, rs in sorted(by_cap.items()):
        costs = [r["cost_usd"] for r in rs if r.get("cost_usd") is not None]
        table.append([cap, str(len(rs)), f"{100 * sum(r['passed'] for r in rs) / len(rs):.1f}",
                      f"{statistics.mean(r['input_tokens'] for r in rs):,.0f}",
                      f"{statistics.mean(r['output_tokens'] for r in rs):,.0f}",
                      f"{statistics.median(r['latency_s'] for r in rs):.3f}",
                      f"{statistics.mean(costs):.6f}" if costs else "—"])
    print(f"{args.model} via {litellm_model}: {outcome.done} probes now, {outcome.skipped} from "
          f"an earlier run; results in {out}")
    print(format_table(["capability", "n", "passed (%)", "input tok/conv", "output tok/conv",
                        "latency p50 (s)", "cost (USD/conv)"], table,
                       [False, True, True, True, True, True, True]))
    if outcome.failed:
        for pid, err in sorted(outcome.failed.items()):
            print(f"probe {pid}: {err}", file=sys.stderr)
        print(f"{len(outcome.failed)} probe(s) failed after retries; rerun the same command to "
              "resume with them", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def _add_scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--prices", help="price snapshot JSON (default: data/litellm_prices.json)")


def _share(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {v})")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {v})")
    return v


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="econ", description="Cost–capability product economics of LLM products.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("evaluate", help="cost per conversation, retention, tiers and floors")
    _add_scenario(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--consent", nargs="*", metavar="CAPABILITY",
                   help="consent set to use instead of the scenario's")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "compare", help="teacher vs student per capability from results files (exit 3 if lost)")
    p.add_argument("results", nargs="+", help="per-example results, CSV or JSONL")
    p.add_argument("--teacher", required=True, help="model id of the teacher in the files")
    p.add_argument("--student", required=True, help="model id of the student in the files")
    p.add_argument("--tolerance", type=_share, default=0.02,
                   help="largest accepted drop in pass rate (default 0.02 = 2 points)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("frontier", help="Pareto frontier of consent sets: floor against loss")
    _add_scenario(p)
    p.add_argument("--tier", required=True)
    p.add_argument("--target-floor", type=float, metavar="USD",
                   help="least-loss consent set whose floor is at or under this price")
    p.add_argument("--max-loss", type=float, metavar="USD",
                   help="cheapest consent set whose monthly loss is at or under this")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_frontier)

    p = sub.add_parser("uncertainty", help="Monte Carlo P5/P50/P95 of floors and margins")
    _add_scenario(p)
    p.add_argument("--draws", type=_positive_int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_uncertainty)

    p = sub.add_parser("sensitivity", help="one-at-a-time swings of every input (tornado)")
    _add_scenario(p)
    p.add_argument("--swing", type=_share, default=0.2, help="relative swing (default 0.2)")
    p.add_argument("--top", type=_positive_int, default=15, help="rows per tier in the text")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sensitivity)

    p = sub.add_parser("import", help="read serving benchmarks and eval logs")
    isub = p.add_subparsers(dest="import_command", required=True, metavar="KIND")
    q = isub.add_parser("bench", help="serving benchmark results → one record per run")
    q.add_argument("files", nargs="+", metavar="FILE")
    q.add_argument("--format", help="vllm, sglang, llmperf-summary, llmperf-individual, aiperf "
                   "(default: detected from the content)")
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
    q.add_argument("--pass-threshold", type=_share, default=0.5,
                   help="a numeric score at or above this passes (default 0.5)")
    q.set_defaults(func=cmd_import_evals)

    p = sub.add_parser("fit", help="GPU time per prefill/decode token fitted to benchmarks")
    _add_scenario(p)
    p.add_argument("--model", required=True, help="a self-hosted model of the scenario")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("diff", help="inputs changed and headline outputs moved between two "
                       "scenarios, or one scenario at git revisions")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    p.add_argument("--rev", action="append", metavar="REV",
                   help="git revision (once: REV → working tree; twice: REV → REV2)")
    p.add_argument("--prices", help="price snapshot JSON")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("probe", help="send the scenario's probe conversations through litellm")
    _add_scenario(p)
    p.add_argument("--model", required=True)
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (overrides the scenario's)")
    p.add_argument("--concurrency", type=_positive_int, default=4)
    p.add_argument("--probes", help="probes JSONL (default: the scenario's probes)")
    p.add_argument("-o", "--output", help="results JSONL, appended and resumed "
                   "(default: SCENARIO.MODEL.probe.jsonl)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    p.add_argument("--retries", type=int, default=4, help="retries on 429/5xx/timeouts")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("validate", help="check a scenario file")
    _add_scenario(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the scenario JSON Schema")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("export", help="write the tier-pricing table")
    _add_scenario(p)
    p.add_argument("--format", choices=["csv", "xlsx", "md", "json"])
    p.add_argument("-o", "--output", required=True, help="output file")
    p.add_argument("--consent", nargs="*", metavar="CAPABILITY")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("prices", help="the pinned litellm price snapshot")
    psub = p.add_subparsers(dest="prices_command", required=True, metavar="ACTION")
    q = psub.add_parser("show", help="prices of models in the snapshot")
    q.add_argument("models", nargs="+")
    q.add_argument("--prices", help="price snapshot JSON")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_prices_show)
    q = psub.add_parser("refresh", help="rebuild the snapshot from the installed litellm")
    q.add_argument("--prices", help="price snapshot JSON to rewrite")
    q.add_argument("--scenarios", default="scenarios", help="folder of scenarios to watch")
    q.set_defaults(func=cmd_prices_refresh)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except EconError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line, never a traceback (ECON_DEBUG=1 shows it)
        if os.environ.get("ECON_DEBUG"):
            raise
        print(f"econ: internal error ({type(exc).__name__}: {exc}); rerun with ECON_DEBUG=1 "
              "for the traceback and report it", file=sys.stderr)
        return EXIT_INTERNAL
    return code


if __name__ == "__main__":
    sys.exit(main())
