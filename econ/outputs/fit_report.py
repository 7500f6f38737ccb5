"""``econ fit``: the GPU time model of one self-hosted model, its runs, its cross-validation and
its predictions, as JSON and as text. Pure: the CLI prints what these return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from econ.model.cost import TimeModel, self_hosted_cost_usd
from econ.model.cost_interval import ModelInterval
from econ.model.fit import LeaveOneOut
from econ.model.interval import Basis, Interval, request_interval
from econ.model.serving import ServingModel
from econ.outputs.report import format_table
from econ.scenario.conversation import conversation_tokens
from econ.scenario.schema import SelfHostedModel

__all__ = ["Prediction", "fit_json", "fit_text", "predict"]


class Prediction:
    """One single-turn request of a stated shape at the fitted operating point."""

    def __init__(self, model: SelfHostedModel, time_model: TimeModel, input_tokens: float,
                 output_tokens: float, basis: Basis | None = None) -> None:
        tokens = conversation_tokens(1, 0.0, input_tokens, output_tokens, True, 0.0,
                                     cache="self_hosted")
        self.input_tokens, self.output_tokens = input_tokens, output_tokens
        if isinstance(time_model, ServingModel):
            self.seconds = float(time_model.request_seconds(input_tokens, input_tokens,
                                                            output_tokens))
        else:
            self.seconds = float(time_model.replica_seconds(tokens))
        self.gpu_seconds = self.seconds * model.gpus_per_replica
        # the cost `econ evaluate` reports for a one-turn conversation of this shape
        self.cost_usd = float(self_hosted_cost_usd(tokens, model, time_model))
        self.interval = None if basis is None else request_interval(
            basis, time_model, input_tokens, input_tokens, output_tokens)


def predict(model: SelfHostedModel, time_model: TimeModel, input_tokens: float,
            output_tokens: float, basis: Basis | None = None) -> Prediction:
    return Prediction(model, time_model, input_tokens, output_tokens, basis)


def _coefficients(tm: TimeModel) -> dict[str, Any]:
    if isinstance(tm, ServingModel):
        e, r = tm.efficiencies, tm.replica
        return {
            "prefill_factor": e.prefill_factor,
            "decode_compute_factor": e.decode_compute_factor, "memory_factor": e.memory_factor,
            "comm_factor": e.comm_factor,
            "step_overhead_s": e.step_overhead_s, "request_overhead_s": e.request_overhead_s,
            "replica": {
                "kv_bytes_per_token": r.kv_bytes_per_token,
                "kv_capacity_tokens": r.kv_capacity_tokens,
                "weight_bytes": r.weight_bytes, "max_num_seqs": r.max_num_seqs,
                "gpus": r.gpus, "dense_flops_per_s": r.dense_flops_per_s,
                "hbm_bytes_per_s": r.hbm_bytes_per_s,
                "gpu_memory_bytes": r.gpu_memory_bytes,
                "interconnect_bytes_per_s_each_way": (None if r.interconnect_bytes_per_s
                                                      == float("inf")
                                                      else r.interconnect_bytes_per_s),
            },
        }
    return {"prefill_s_per_token": tm.prefill_s_per_token,
            "decode_s_per_token": tm.decode_s_per_token}


def fit_json(model_id: str, fit: Any, loo: LeaveOneOut | None,
             per_capability_usd: Mapping[str, float], uncategorised_usd: float,
             warnings: Sequence[str], prediction: Prediction | None,
             traffic_weighted_usd: float | None = None,
             cost_source: str | None = None,
             interval: ModelInterval | None = None) -> dict[str, Any]:
    """``cost_per_conversation_usd`` is the traffic-weighted cost, as ``econ evaluate --json``
    reports it; ``cost_per_conversation_usd_uncategorised`` the default shape's."""
    tm = fit.model
    weighted = uncategorised_usd if traffic_weighted_usd is None else traffic_weighted_usd
    out: dict[str, Any] = {
        "model": model_id, "method": fit.method,
        "context_aware": isinstance(tm, ServingModel),
        **_coefficients(tm),
        "max_measured_context_tokens": tm.max_measured_context_tokens,
        "cross_validation": None if loo is None else {
            "method": "leave_one_out",
            "max_abs_log_error": loo.max_abs_log_error,
            "runs": [{"held_out": lab, "run": lab, "predicted_over_measured": r}
                     for lab, r in zip(loo.labels, loo.predicted_over_measured, strict=True)],
        },
        "runs": [{"run": r.label, "input_tokens_per_request": r.input_tokens_per_request,
                  "output_tokens_per_request": r.output_tokens_per_request,
                  "concurrency": r.concurrency,
                  "seconds_per_request": r.seconds_per_request,
                  "predicted_seconds_per_request": p, "relative_residual": e}
                 for r, p, e in zip(fit.runs, fit.predicted_seconds_per_request,
                                    fit.relative_residuals, strict=True)],
        "operating_point_notes": list(getattr(fit, "notes", ())),
        "warnings": list(warnings),
        "cost_per_conversation_usd_by_capability": dict(per_capability_usd),
        "cost_per_conversation_usd": weighted,
        "cost_per_conversation_usd_uncategorised": uncategorised_usd,
        "cost_source": cost_source,
        "transfer": list(getattr(fit, "transfer", ())),
        "physics_flags": list(getattr(fit, "flags", ())),
    }
    if interval is not None:
        out["cost_per_conversation_usd_interval"] = interval.overall.to_json(weighted)
        out["cost_per_conversation_usd_interval_by_capability"] = {
            c: i.to_json(per_capability_usd[c]) for c, i in interval.by_capability.items()}
        out["interval_basis"] = interval.basis.to_json(1.0)
    if prediction is not None:
        out.update({
            "predicted_input_tokens": prediction.input_tokens,
            "predicted_output_tokens": prediction.output_tokens,
            "predicted_seconds_per_request": prediction.seconds,
            "predicted_gpu_seconds_per_request": prediction.gpu_seconds,
            "predicted_cost_usd_per_request": prediction.cost_usd,
        })
        if prediction.interval is not None:
            out["predicted_seconds_per_request_interval"] = prediction.interval.to_json(
                prediction.seconds)
    return out


def _interval_text(iv: Interval, value: float, unit: str, digits: int) -> str:
    low, high = iv.bounds(value)
    return f"90% interval {low:.{digits}f}–{high:.{digits}f} {unit} (×/÷ {iv.factor:.2f})"


def fit_text(model_id: str, m: SelfHostedModel, fit: Any, loo: LeaveOneOut | None,
             per_capability_usd: Mapping[str, float], uncategorised_usd: float,
             warnings: Sequence[str], prediction: Prediction | None,
             traffic_weighted_usd: float | None = None,
             cost_source: str | None = None, interval: ModelInterval | None = None) -> str:
    tm = fit.model
    out = [f"!! EXTRAPOLATED GPU COST: {w}" for w in warnings]
    if isinstance(tm, ServingModel):
        e, r = tm.efficiencies, tm.replica
        out += [f"GPU time model of {model_id} ({m.gpus_per_replica}× {m.gpu} per replica): "
                f"context-aware, {fit.method}",
                *[f"  runs borrowed: {t}" for t in getattr(fit, "transfer", ())],
                f"  KV cache {r.kv_bytes_per_token / 1024:,.0f} KiB/token, room for "
                f"{r.kv_capacity_tokens:,.0f} tokens; at most {r.max_num_seqs} sequences",
                f"  prefill at 1/{e.prefill_factor:.2f} and decode compute at "
                f"1/{e.decode_compute_factor:.2f} of the tensor peak, memory at "
                f"1/{e.memory_factor:.2f} of peak bandwidth"
                + (f", all-reduces at 1/{e.comm_factor:.2f} of the link's peak"
                   if r.gpus > 1 else "")
                + f", {e.step_overhead_s * 1e3:.2f} ms per decode step, "
                f"{e.request_overhead_s * 1e3:.2f} ms per request"]
    else:
        how = ("non-negative least squares on relative errors" if fit.method == "nnls" else
               f"one input/output ratio: split with prefill_cost_ratio {m.prefill_cost_ratio:g}")
        out += [f"GPU time model of {model_id} ({m.gpus_per_replica}× {m.gpu} per replica), "
                f"{how}:",
                f"  prefill {tm.prefill_s_per_token * 1e3:.5f} ms/token, decode "
                f"{tm.decode_s_per_token * 1e3:.5f} ms/token (replica time; not context-aware: "
                "name the model's architecture for that)"]
    held = dict(zip(loo.labels, loo.predicted_over_measured, strict=True)) if loo else {}
    rows = [[r.label, f"{r.input_tokens_per_request:,.1f}", f"{r.output_tokens_per_request:,.1f}",
             "-" if r.concurrency is None else f"{r.concurrency:,.0f}",
             f"{r.seconds_per_request * 1e3:,.2f}", f"{p * 1e3:,.2f}", f"{100 * e:+.1f}",
             f"{held[r.label]:.3f}" if r.label in held else "-"]
            for r, p, e in zip(fit.runs, fit.predicted_seconds_per_request,
                               fit.relative_residuals, strict=True)]
    out.append(format_table(["run", "input tok/req", "output tok/req", "concurrency",
                             "measured (ms/req)", "fitted (ms/req)", "residual (%)",
                             "held out: pred/meas"], rows,
                            [False, True, True, True, True, True, True, True]))
    out += [f"  note: {n}" for n in getattr(fit, "notes", ())]
    if prediction is not None:
        out.append(f"\nA single request of {prediction.input_tokens:,.0f} input and "
                   f"{prediction.output_tokens:,.0f} output tokens: "
                   f"{prediction.seconds * 1e3:,.3f} ms of replica time, "
                   f"{prediction.gpu_seconds * 1e3:,.3f} GPU-ms, "
                   f"{prediction.cost_usd:.8f} USD")
        if prediction.interval is not None:
            iv = prediction.interval
            out.append("  " + _interval_text(iv, prediction.seconds * 1e3, "ms", 3))
            out += [f"  outside the runs: {c}" for c in iv.clauses]
    if cost_source == "measured_conversations":
        out.append("\nThe cost below is not this fit's: it comes from the model's "
                   "measured_conversations (econ evaluate says how).")
    out.append(f"\nCost per conversation at {m.usd_per_gpu_hour:g} USD/GPU-hour, utilisation "
               f"{m.target_utilisation:g} ÷ peak-to-average {m.peak_to_average:g} (USD):")
    out.append(format_table(["capability", "USD/conversation"],
                            [[c, f"{v:.6f}"] for c, v in per_capability_usd.items()]
                            + [["(uncategorised)", f"{uncategorised_usd:.6f}"]],
                            [False, True]))
    if traffic_weighted_usd is not None:
        out.append(f"Traffic-weighted over the capabilities: {traffic_weighted_usd:.6f} "
                   "USD/conversation (as econ evaluate reports it)")
    if interval is not None:
        value = uncategorised_usd if traffic_weighted_usd is None else traffic_weighted_usd
        out.append("  " + _interval_text(interval.overall, value, "USD/conversation", 6))
    return "\n".join(out)
