"""econ probe: live probe conversations through litellm."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_scenario,
    load,
    non_negative_int,
    positive_float,
    positive_int,
    progress_bar,
)

__all__ = ["register"]


def cmd_probe(args: argparse.Namespace) -> int:
    import statistics

    from econ.model.cost import conversation_cost_usd
    from econ.scenario.schema import ApiModel

    loaded = load(args)
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
    from econ.evidence.probe import (
        ProbeTarget,
        check_probe_output,
        finished_records,
        load_probes,
        run_probes,
    )

    probes = load_probes(Path(probes_file) if args.probes else base / probes_file)
    out = Path(args.output or f"{Path(args.scenario).stem}.{args.model}.probe.jsonl")
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    check_probe_output(out, s.models)
    prices = loaded.measured.prices.get(args.model)
    time_model = loaded.measured.time_models.get(args.model)
    target = ProbeTarget(args.model, litellm_model,
                         args.base_url or (endpoint.api_base if endpoint else None), api_key,
                         lambda t: float(conversation_cost_usd(spec, t, prices, time_model)))

    outcome = run_probes(probes, target, out, concurrency=args.concurrency,
                         timeout_s=args.timeout, retries=args.retries,
                         progress=progress_bar("probes"))
    from econ.outputs.report import format_table

    rows = finished_records(out, args.model)
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


def register(sub: Any) -> None:
    p = sub.add_parser("probe", help="send the scenario's probe conversations through litellm")
    add_scenario(p)
    p.add_argument("--model", required=True)
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (overrides the scenario's)")
    p.add_argument("--concurrency", type=positive_int, default=4)
    p.add_argument("--probes", help="probes JSONL (default: the scenario's probes)")
    p.add_argument("-o", "--output", help="results JSONL, appended and resumed "
                   "(default: SCENARIO.MODEL.probe.jsonl)")
    p.add_argument("--timeout", type=positive_float, default=60.0, help="seconds per request")
    p.add_argument("--retries", type=non_negative_int, default=4,
                   help="retries on 429/5xx/timeouts")
    p.set_defaults(func=cmd_probe)
