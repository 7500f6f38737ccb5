"""The context-aware serving model, written out again for the tests, independently of econ.

Scalar Python for the physics (the attention pairs are summed token by token, not by formula),
the tables read as plain CSV, and the maximum a posteriori fit by scipy.optimize.minimize
(Nelder-Mead, the four factors held at 1 or more by its bounds) rather than econ's
least_squares. See econ/model/serving.py for the model.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

DATA = Path(__file__).resolve().parents[1] / "data" / "serving"
PRIOR = (2.0, 2.0, 1.4, 2.0, 2e-3, 5e-4)  # data/SOURCES.md §9
PRIOR_SD = (0.7, 0.7, 0.5, 0.7, 1.5, 1.5)
RUN_SD = 0.1
WEAK_SD = 0.5  # an [assumption] throughput
GIB = 2 ** 30


@dataclass(frozen=True)
class Hand:
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    params: float
    weight_bytes: float
    kv_bytes: float
    gpus: int
    memory: float
    bandwidth: float
    flops: float
    utilisation: float
    max_seqs: float
    link: float = math.inf  # bytes a second each way per GPU (half the quoted figure)

    @property
    def kv_per_token(self) -> float:
        return 2 * self.layers * self.kv_heads * self.head_dim * self.kv_bytes

    @property
    def kv_capacity(self) -> float:
        return (self.gpus * self.memory * self.utilisation
                - self.params * self.weight_bytes) / self.kv_per_token

    def terms(self, prompt: float, new: float, out: float, conc: float,
              held: float | None = None) -> tuple[float, float, float, float, float, float]:
        """(prefill, decode compute, memory, communication, steps ÷ batch, 1): what the six
        efficiencies multiply. ``held``: KV tokens a sequence holds (default prompt + out/2)."""
        held = prompt + out / 2 if held is None else held
        batch = max(1.0, min(conc, self.max_seqs, self.kv_capacity / (held + 1)))
        pair = 4 * self.layers * self.heads * self.head_dim
        # pairs summed token by token: each new token attends to the cached prefix and the new
        # tokens before it (and half of itself, as the closed form counts n²/2)
        whole = int(new)
        prefill_pairs = sum(prompt - new + j + 0.5 for j in range(whole))
        prefill_pairs += (new - whole) * (prompt - new + whole + (new - whole) / 2)
        decode_pairs = out * prompt + out * (out - 1) / 2
        g = self.gpus
        prefill = (2 * self.params * new + pair * prefill_pairs) / (self.flops * g)
        decode = (2 * self.params * out + pair * decode_pairs) / (self.flops * g)
        traffic = out * self.params * self.weight_bytes / batch + self.kv_per_token * decode_pairs
        # two all-reduces a layer per token; a ring moves 2(g-1)/g of each 2-byte hidden vector
        hidden = self.heads * self.head_dim
        sent = 0.0
        for _layer in range(self.layers):
            for _allreduce in range(2):
                sent += 2 * (g - 1) / g * hidden * 2
        comm = (new + out) * sent / self.link if g > 1 else 0.0
        return prefill, decode, traffic / (self.bandwidth * g), comm, out / batch, 1.0

    def roofline(self, prompt: float, out: float, conc: float) -> float:
        """The fastest a request can run: compute at peak or memory at peak, overlapped."""
        pre, dec, mem, comm, *_ = self.terms(prompt, prompt, out, conc)
        return max(pre + dec, mem, comm)


def table(name: str, key: str) -> dict[str, dict[str, str]]:
    with (DATA / name).open() as fh:
        return {r[key].lower(): r for r in csv.DictReader(fh)}


def hand_of(m: dict) -> Hand:
    """The replica of a scenario's self-hosted model (raw YAML dict)."""
    arch = table("models.csv", "model")[m["architecture"].lower()]
    gpu = table("gpus.csv", "gpu")[m["gpu"].lower()]
    wb = float(m.get("weight_bytes_per_parameter", 2))
    fp8 = wb <= 1 and gpu["fp8_dense_tflops"]
    tflops = float(gpu["fp8_dense_tflops"] if fp8 else gpu["bf16_dense_tflops"])
    # memory in the unit the table states it: GiB (2^30) or GB (10^9)
    memory = float(gpu["memory_gib"]) * GIB if gpu.get("memory_gib") else \
        float(gpu["memory_gb"]) * 1e9
    default_seqs = 1024 if memory >= 70 * GIB and "a100" not in m["gpu"].lower() else 256
    link = float(gpu["interconnect_gb_per_s"]) * 1e9 / 2 if gpu.get("interconnect_gb_per_s") \
        else math.inf
    return Hand(int(arch["layers"]), int(arch["attention_heads"]), int(arch["kv_heads"]),
                int(arch["head_dim"]), float(arch["parameters_billion"]) * 1e9, wb,
                float(m.get("kv_cache_bytes_per_value", 2)), int(m["gpus_per_replica"]),
                memory, float(gpu["hbm_tb_per_s"]) * 1e12, tflops * 1e12,
                float(m.get("gpu_memory_utilization", 0.9)),
                float(m.get("max_num_seqs") or default_seqs), link)


def expected_terms(hand: Hand, points: list[tuple[float, float, float]],
                   conc: float) -> list[float]:
    """The six terms averaged over (input, output, weight) points of a length distribution,
    the batch set by the mix's mean KV holding."""
    total = sum(w for *_, w in points)
    held = sum(w * (i + o / 2) for i, o, w in points) / total
    out = [0.0] * 6
    for i, o, w in points:
        for k, t in enumerate(hand.terms(i, i, o, conc, held)):
            out[k] += w / total * t
    return out


def fit(hand: Hand, runs: list[tuple], weak: tuple[bool, ...] = ()) -> np.ndarray:
    """(input, output, concurrency, seconds per request[, length points]) runs → the six
    efficiencies; ``weak[i]`` marks an assumed throughput. No runs: the prior. (Memoised: a
    Nelder-Mead fit takes seconds, and the golden tests ask for the same one many times.)"""
    key = (hand, repr(runs), weak)
    if key not in _FITS:
        _FITS[key] = _fit(hand, runs, weak)
    return _FITS[key].copy()


_FITS: dict[tuple, np.ndarray] = {}


def _fit(hand: Hand, runs: list[tuple], weak: tuple[bool, ...]) -> np.ndarray:
    if not runs:
        return np.array(PRIOR)
    rows = np.array([expected_terms(hand, r[4], r[2]) if len(r) > 4 else
                     hand.terms(r[0], r[0], r[1], r[2]) for r in runs])
    meas = np.array([r[3] for r in runs])
    sd = np.array([WEAK_SD if (weak and weak[i]) else RUN_SD for i in range(len(runs))])

    log_meas, log_prior = np.log(meas), np.log(PRIOR)
    inv_sd, inv_prior_sd = 1 / sd, 1 / np.array(PRIOR_SD)

    def loss(z: np.ndarray) -> float:
        # Σ (log(pred / meas) / sd)² + Σ ((z − log prior) / prior sd)², with dot products
        # (a few µs a call: Nelder-Mead calls it some 10⁵ times)
        data = (np.log(rows @ np.exp(z)) - log_meas) * inv_sd
        prior = (z - log_prior) * inv_prior_sd
        return float(data @ data + prior @ prior)

    bounds = [(0.0, None)] * 4 + [(None, None)] * 2  # factors of at least 1
    z = np.log(PRIOR)
    for _ in range(4):  # restarts polish Nelder-Mead's answer
        z = minimize(loss, z, method="Nelder-Mead", bounds=bounds,
                     options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 60000,
                              "maxfev": 60000}).x
    return np.exp(z)


def conversation_seconds(hand: Hand, eff: np.ndarray, shape: dict,
                         reasoning_per_turn: float = 0.0, conc: float = math.inf) -> float:
    """Replica-seconds of a conversation, turn by turn at each turn's context (at client
    concurrency ``conc``); each turn decodes its hidden reasoning and its answer, and re-sends
    only the answers."""
    t, s = int(shape["turns"]), shape["system_prompt_tokens"]
    u, a, hit = shape["user_tokens_per_turn"], shape["assistant_tokens_per_turn"], \
        shape.get("cache_hit_rate", 0.0)
    total = 0.0
    for k in range(1, t + 1):
        prompt = s + u + (k - 1) * (u + a)
        cached = hit * ((s if k > 1 else 0) + (k - 1) * (u + a))
        total += float(np.dot(hand.terms(prompt, prompt - cached, a + reasoning_per_turn,
                                         conc), eff))
    return total


def lognormal_rule(cv: float, nodes: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of a lognormal factor of mean 1 and spread ``cv`` (Gauss–Hermite in the
    log): E f(X) = Σ w·f(x) to machine precision for a smooth f of moderate growth (the tests
    check the rule against scipy's adaptive integration of the lognormal density). Twenty nodes
    reach factors up to about e^6 at cv 0.9; more would price conversations of millions of
    tokens token by token in :meth:`Hand.terms`, for nothing."""
    sigma = math.sqrt(math.log1p(cv * cv))
    z, w = np.polynomial.hermite.hermgauss(nodes)
    return np.exp(math.sqrt(2.0) * sigma * z - sigma * sigma / 2), w / math.sqrt(math.pi)


def conversation_seconds_spread(hand: Hand, eff: np.ndarray, shape: dict, user_cv: float,
                                assistant_cv: float, conc: float = math.inf) -> float:
    """The expectation of a conversation's replica-seconds over lognormal factors (mean 1) on
    its user and on its assistant tokens per turn, one of each per conversation, integrated
    numerically (Gauss–Hermite in the log, :func:`lognormal_rule`); every turn in the batch of
    the mean conversation's KV holding."""
    t, s = int(shape["turns"]), shape["system_prompt_tokens"]
    u, a = shape["user_tokens_per_turn"], shape["assistant_tokens_per_turn"]
    hit = shape.get("cache_hit_rate", 0.0)

    def seconds(fu: float, fa: float) -> float:
        total = 0.0
        for k in range(1, t + 1):
            mean_prompt = s + u + (k - 1) * (u + a)
            prompt = s + u * fu + (k - 1) * (u * fu + a * fa)
            cached = hit * ((s if k > 1 else 0) + (k - 1) * (u * fu + a * fa))
            total += float(np.dot(hand.terms(prompt, prompt - cached, a * fa, conc,
                                             mean_prompt + a / 2), eff))
        return total

    fus, wus = lognormal_rule(user_cv)
    fas, was = lognormal_rule(assistant_cv)
    return float(sum(wu * wa * seconds(fu, fa) for fu, wu in zip(fus, wus, strict=True)
                     for fa, wa in zip(fas, was, strict=True)))
