"""The context-aware serving model, written out again for the tests, independently of econ.

Scalar Python for the physics (the attention pairs are summed token by token, not by formula),
the tables read as plain CSV, and the maximum a posteriori fit by scipy.optimize.minimize
(Nelder-Mead) rather than econ's least_squares. See econ/model/serving.py for the model.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

DATA = Path(__file__).resolve().parents[1] / "data" / "serving"
PRIOR = (2.0, 2.0, 1.4, 2e-3, 5e-4)  # data/SOURCES.md §9
PRIOR_SD = (0.7, 0.7, 0.5, 1.5, 1.5)
RUN_SD = 0.1


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

    @property
    def kv_per_token(self) -> float:
        return 2 * self.layers * self.kv_heads * self.head_dim * self.kv_bytes

    @property
    def kv_capacity(self) -> float:
        return (self.gpus * self.memory * self.utilisation
                - self.params * self.weight_bytes) / self.kv_per_token

    def terms(self, prompt: float, new: float, out: float,
              conc: float) -> tuple[float, float, float, float, float]:
        """(prefill, decode compute, memory, steps ÷ batch, 1): what the five efficiencies
        multiply."""
        batch = max(1.0, min(conc, self.max_seqs, self.kv_capacity / (prompt + out / 2 + 1)))
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
        return prefill, decode, traffic / (self.bandwidth * g), out / batch, 1.0


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
    mem_gb = float(gpu["memory_gb"])
    default_seqs = 1024 if mem_gb * 1e9 >= 70 * 1024 ** 3 and "a100" not in m["gpu"].lower() \
        else 256
    return Hand(int(arch["layers"]), int(arch["attention_heads"]), int(arch["kv_heads"]),
                int(arch["head_dim"]), float(arch["parameters_billion"]) * 1e9, wb,
                float(m.get("kv_cache_bytes_per_value", 2)), int(m["gpus_per_replica"]),
                mem_gb * 1e9, float(gpu["hbm_tb_per_s"]) * 1e12, tflops * 1e12,
                float(m.get("gpu_memory_utilization", 0.9)),
                float(m.get("max_num_seqs") or default_seqs))


def fit(hand: Hand, runs: list[tuple[float, float, float, float]]) -> np.ndarray:
    """(input, output, concurrency, seconds per request) runs → the five efficiencies."""
    rows = np.array([hand.terms(i, i, o, c) for i, o, c, _ in runs])
    meas = np.array([s for *_, s in runs])

    def loss(z: np.ndarray) -> float:
        pred = rows @ np.exp(z)
        data = np.sum((np.log(pred / meas) / RUN_SD) ** 2)
        return float(data + np.sum(((z - np.log(PRIOR)) / np.array(PRIOR_SD)) ** 2))

    z = np.log(PRIOR)
    for _ in range(3):  # restarts polish Nelder-Mead's answer
        z = minimize(loss, z, method="Nelder-Mead",
                     options={"xatol": 1e-12, "fatol": 1e-16, "maxiter": 40000,
                              "maxfev": 40000}).x
    return np.exp(z)


def conversation_seconds(hand: Hand, eff: np.ndarray, shape: dict,
                         reasoning_per_turn: float = 0.0) -> float:
    """Replica-seconds of a conversation, turn by turn at each turn's context (saturation);
    each turn decodes its hidden reasoning and its answer, and re-sends only the answers."""
    t, s = int(shape["turns"]), shape["system_prompt_tokens"]
    u, a, hit = shape["user_tokens_per_turn"], shape["assistant_tokens_per_turn"], \
        shape.get("cache_hit_rate", 0.0)
    total = 0.0
    for k in range(1, t + 1):
        prompt = s + u + (k - 1) * (u + a)
        cached = hit * ((s if k > 1 else 0) + (k - 1) * (u + a))
        total += float(np.dot(hand.terms(prompt, prompt - cached, a + reasoning_per_turn,
                                         math.inf), eff))
    return total
