"""The serving figures a self-hosted model may state: its architecture, its GPU's datasheet
figures and a latency objective. Part of the scenario schema (:mod:`econ.scenario.schema`);
``data/serving/*.csv`` rows validate against the same models."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from econ.scenario.strict import Strict

__all__ = ["Architecture", "GpuSpec", "LatencySlo", "ThroughputMeasurement"]


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
    """One GPU's datasheet figures (dense tensor throughput, not the sparse figure).

    Memory is stated once, in the unit meant: ``memory_gib`` (2³⁰ bytes: what NVML and so vLLM
    see of an HBM part sold as "80 GB") or ``memory_gb`` (10⁹ bytes). Bandwidths and TFLOPS are
    decimal (10¹² bytes or FLOP a second), as vendors state them."""

    memory_gib: Annotated[float, Field(gt=0.0, le=10_000.0)] | None = Field(
        None, description="Memory per GPU in GiB (2^30 bytes), as the driver reports it.")
    memory_gb: Annotated[float, Field(gt=0.0, le=10_000.0)] | None = Field(
        None, description="Memory per GPU in GB (10^9 bytes); give this or memory_gib.")
    hbm_tb_per_s: Annotated[float, Field(gt=0.0, le=1_000.0)]
    bf16_dense_tflops: Annotated[float, Field(gt=0.0, le=1_000_000.0)]
    fp8_dense_tflops: Annotated[float, Field(gt=0.0, le=1_000_000.0)] | None = None
    interconnect_gb_per_s: Annotated[float, Field(gt=0.0, le=1_000_000.0)] | None = Field(
        None, description="GPU-to-GPU bandwidth per GPU, both directions together as vendors "
        "quote it (NVLink 900 GB/s on an H100 SXM), for tensor-parallel all-reduces.")
    source: str | None = None

    @model_validator(mode="after")
    def _one_memory(self) -> GpuSpec:
        if (self.memory_gib is None) == (self.memory_gb is None):
            raise ValueError("give the GPU's memory once: memory_gib (2^30 bytes, as the "
                             "driver reports it) or memory_gb (10^9 bytes)")
        return self

    @property
    def memory_bytes(self) -> float:
        if self.memory_gib is not None:
            return self.memory_gib * 1024.0 ** 3
        assert self.memory_gb is not None
        return self.memory_gb * 1e9


class LatencySlo(Strict):
    """A latency objective: the operating point is the highest-throughput run meeting it."""

    ttft_ms: Annotated[float, Field(gt=0.0)] | None = Field(
        None, description="Largest time to first token, at ttft_statistic.")
    ttft_statistic: Literal["mean", "median", "p90", "p95", "p99"] = "p99"
    itl_ms: Annotated[float, Field(gt=0.0)] | None = Field(
        None, description="Largest inter-token latency, at itl_statistic.")
    itl_statistic: Literal["mean", "median", "p90", "p95", "p99"] = "median"


class ThroughputMeasurement(Strict):
    """One measured serving run of a replica: throughput at a stated request shape. A
    ``source`` marked ``[assumption]`` makes it a weak measurement (it widens the interval and
    does not override the physical prior)."""

    output_tokens_per_s: Annotated[float, Field(gt=0.0)]
    input_tokens_per_request: Annotated[float, Field(ge=0.0)]
    output_tokens_per_request: Annotated[float, Field(gt=0.0)]
    max_concurrency: Annotated[int, Field(ge=1)] | None = None
    throughput_cv: Annotated[float, Field(ge=0.0)] = Field(
        0.0, description="Run-to-run coefficient of variation of throughput (Monte Carlo spread)."
    )
    input_tokens_spread_cv: Annotated[float, Field(ge=0.0)] = Field(
        0.0, description="Coefficient of variation of the run's input tokens per request "
        "(lognormal): the fit takes the expectation over it.")
    output_tokens_spread_cv: Annotated[float, Field(ge=0.0)] = Field(
        0.0, description="The same for output tokens per request.")
    source: str | None = None

    @property
    def assumed(self) -> bool:
        return self.source is not None and "[assumption]" in self.source.lower()
