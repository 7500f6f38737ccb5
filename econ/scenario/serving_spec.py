"""The serving figures a self-hosted model may state: its architecture, its GPU's datasheet
figures and a latency objective. Part of the scenario schema (:mod:`econ.scenario.schema`);
``data/serving/*.csv`` rows validate against the same models."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from econ.scenario.strict import Strict

__all__ = ["Architecture", "GpuSpec", "LatencySlo"]


class Architecture(Strict):
    """What the GPU cost model needs of a transformer: its KV-cache size per token, its weights,
    and its attention work per token pair."""

    layers: Annotated[int, Field(ge=1, le=1000)]
    attention_heads: Annotated[int, Field(ge=1, le=1024)]
    kv_heads: Annotated[int, Field(ge=1, le=1024)]
    head_dim: Annotated[int, Field(ge=1, le=4096)]
    parameters_billion: Annotated[float, Field(gt=0.0, le=100_000.0)]
    source: str | None = None


class GpuSpec(Strict):
    """One GPU's datasheet figures (dense tensor throughput, not the sparse figure)."""

    memory_gb: Annotated[float, Field(gt=0.0, le=10_000.0)]
    hbm_tb_per_s: Annotated[float, Field(gt=0.0, le=1_000.0)]
    bf16_dense_tflops: Annotated[float, Field(gt=0.0, le=1_000_000.0)]
    fp8_dense_tflops: Annotated[float, Field(gt=0.0, le=1_000_000.0)] | None = None
    source: str | None = None


class LatencySlo(Strict):
    """A latency objective: the operating point is the highest-throughput run meeting it."""

    ttft_ms: Annotated[float, Field(gt=0.0)] | None = Field(
        None, description="Largest time to first token, at ttft_statistic.")
    ttft_statistic: Literal["mean", "median", "p90", "p95", "p99"] = "p99"
    itl_ms: Annotated[float, Field(gt=0.0)] | None = Field(
        None, description="Largest inter-token latency, at itl_statistic.")
    itl_statistic: Literal["mean", "median", "p90", "p95", "p99"] = "median"
