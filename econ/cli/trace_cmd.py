"""econ trace: multi-turn conversations of a scenario, written for NVIDIA AIPerf to replay.

The format and its semantics are in :mod:`econ.evidence.trace` (AIPerf's ``multi_turn`` custom
dataset: https://docs.nvidia.com/aiperf/tutorials/datasets-inputs/custom-dataset-guide.md).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from econ.base.errors import EconError
from econ.cli.common import EXIT_OK, add_scenario, load, non_negative_int, positive_int

__all__ = ["register"]


def _non_negative_float(text: str) -> float:
    from econ.cli.common import finite_float

    v = finite_float(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return v


def cmd_trace(args: argparse.Namespace) -> int:
    from econ.base.fileio import atomic_write_text
    from econ.evidence.trace import trace_conversations
    from econ.scenario.schema import SelfHostedModel

    out = Path(args.output)
    if not out.parent.is_dir():
        raise EconError(f"{out}: the folder {out.parent} does not exist")
    loaded = load(args)
    s = loaded.scenario
    m = s.models.get(args.model)
    if not isinstance(m, SelfHostedModel):
        hosted = [k for k, v in s.models.items() if isinstance(v, SelfHostedModel)]
        what = "not a self-hosted model" if args.model in s.models else "not a model"
        raise EconError(f"--model {args.model}: {what} of the scenario (a trace measures the "
                        "GPU time of a server you run); self-hosted: "
                        f"{', '.join(hosted) or 'none'}")
    trace = trace_conversations(s, args.model, args.conversations, args.seed,
                                think_time_s=args.think_time_s, ignore_eos=args.ignore_eos)
    atomic_write_text(out, "".join(json.dumps(r, separators=(",", ":")) + "\n"
                                   for r in trace.records))
    n = len(trace.records)
    print(f"wrote {out}: {n} conversations, {sum(trace.turns):,} turns (AIPerf multi_turn)",
          file=sys.stderr)
    for cap, k in sorted(trace.conversations_by_capability().items()):
        print(f"  {cap}: {k} conversations", file=sys.stderr)
    served = m.endpoint.litellm_model.split("/", 1)[-1] if m.endpoint else args.model
    url = (m.endpoint.api_base if m.endpoint and m.endpoint.api_base else "http://localhost:8000")
    cmd = ["aiperf", "profile", "--model", served, "--url", url.removesuffix("/v1"),
           "--endpoint-type", "chat", "--streaming", "--input-file", str(out),
           "--custom-dataset-type", "multi_turn", "--conversation-num", str(n),
           "--concurrency", "CONCURRENCY"]
    print("replay it with, for example:\n  " + shlex.join(cmd), file=sys.stderr)
    print("then: econ import bench ARTIFACTS/profile_export.jsonl --gpus-per-replica "
          f"{m.gpus_per_replica}", file=sys.stderr)
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("trace", help="multi-turn conversations of the scenario for AIPerf to "
                       "replay against a self-hosted model")
    add_scenario(p)
    p.add_argument("--model", required=True, help="a self-hosted model of the scenario")
    p.add_argument("--conversations", type=positive_int, required=True, metavar="N")
    p.add_argument("--seed", type=non_negative_int, required=True, metavar="S")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="AIPerf multi_turn JSONL to write")
    p.add_argument("--think-time-s", type=_non_negative_float, default=0.0,
                   help="user think time before turns 2..T, seconds (AIPerf's per-turn delay; "
                   "default 0)")
    p.add_argument("--ignore-eos", action="store_true",
                   help="ask the server to write every turn's full output_length (vLLM/SGLang "
                   "ignore_eos and min_tokens)")
    p.set_defaults(func=cmd_trace)
