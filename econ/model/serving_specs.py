"""The physical figures of a self-hosted model's replica: its architecture and its GPU.

``data/serving/models.csv`` and ``data/serving/gpus.csv`` (sources: data/SOURCES.md §9) hold
common open models and GPUs; a scenario names a row (``architecture: qwen3-8b``, ``gpu:
H100-SXM``) or states the figures inline (``architecture: {layers: …}``, ``gpu_spec: {…}``).
Reads the two tables from disk (the loader's edge); the rest is pure.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from econ.base.errors import EconError
from econ.model.serving import Replica
from econ.scenario.schema import Architecture, GpuSpec, SelfHostedModel

__all__ = ["GPUS_FILE", "MODELS_FILE", "architecture_table", "default_max_num_seqs", "gpu_table",
           "parse_table", "replica_of"]

_DATA = Path(__file__).resolve().parents[2] / "data" / "serving"
GPUS_FILE = _DATA / "gpus.csv"
MODELS_FILE = _DATA / "models.csv"
_GIB = 1024.0 ** 3


def _key(name: str) -> str:
    """Row names compare without case, spaces, dashes or a trailing SXM generation digit."""
    k = re.sub(r"[^a-z0-9.]", "", name.lower())
    return re.sub(r"sxm\d$", "sxm", k)


def parse_table(text: str, file: str, kind: type[Architecture] | type[GpuSpec],
                id_column: str) -> dict[str, Architecture | GpuSpec]:
    out: dict[str, Architecture | GpuSpec] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        name = (row.pop(id_column, None) or "").strip()
        if not name:
            raise EconError(f"{file}:{line}: {id_column}: empty")
        fields = {k: v for k, v in row.items() if k and v not in (None, "")}
        try:
            out[_key(name)] = kind.model_validate(fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise EconError(f"{file}:{line}: {where}: {err['msg']}") from None
    return out


@lru_cache(maxsize=4)
def _read(path: str, kind_name: str, id_column: str) -> Mapping[str, Architecture | GpuSpec]:
    kind: type[Architecture] | type[GpuSpec] = Architecture if kind_name == "arch" else GpuSpec
    return parse_table(Path(path).read_text(encoding="utf-8"), path, kind, id_column)


def architecture_table(path: Path = MODELS_FILE) -> Mapping[str, Architecture]:
    return {k: v for k, v in _read(str(path), "arch", "model").items()
            if isinstance(v, Architecture)}


def gpu_table(path: Path = GPUS_FILE) -> Mapping[str, GpuSpec]:
    return {k: v for k, v in _read(str(path), "gpu", "gpu").items() if isinstance(v, GpuSpec)}


def default_max_num_seqs(gpu_name: str, spec: GpuSpec) -> int:
    """vLLM's default (§9): 1024 sequences on GPUs of 70 GiB or more that are not A100s, else
    256."""
    big = spec.memory_bytes >= 70 * _GIB
    return 1024 if big and "a100" not in gpu_name.lower() else 256


def replica_of(model: SelfHostedModel, architectures: Mapping[str, Architecture],
               gpus: Mapping[str, GpuSpec]) -> Replica | None:
    """The model's replica; None without an architecture. An EconError's message starts with
    the field at fault (``architecture:``, ``gpu:``)."""
    arch = model.architecture
    if arch is None:
        return None
    if isinstance(arch, str):
        found = architectures.get(_key(arch))
        if found is None:
            raise EconError(f"architecture: {arch!r} is not in data/serving/models.csv "
                            f"(known: {', '.join(sorted(architectures))}); state its figures "
                            "inline (layers, attention_heads, kv_heads, head_dim, "
                            "parameters_billion)")
        arch = found
    spec = model.gpu_spec or gpus.get(_key(model.gpu))
    if spec is None:
        raise EconError(f"gpu: {model.gpu!r} is not in data/serving/gpus.csv (known: "
                        f"{', '.join(sorted(gpus))}); name one, or give gpu_spec (memory_gib or "
                        "memory_gb, hbm_tb_per_s, bf16_dense_tflops)")
    fp8 = model.weight_bytes_per_parameter <= 1.0 and spec.fp8_dense_tflops is not None
    tflops = spec.fp8_dense_tflops if fp8 and spec.fp8_dense_tflops else spec.bf16_dense_tflops
    try:
        return _replica(model, arch, spec, tflops)
    except EconError as exc:
        raise EconError(f"gpu_memory_utilization: {exc}") from None


def _replica(model: SelfHostedModel, arch: Architecture, spec: GpuSpec,
             tflops: float) -> Replica:
    return Replica(
        layers=arch.layers, attention_heads=arch.attention_heads, kv_heads=arch.kv_heads,
        head_dim=arch.head_dim, parameters=arch.parameters_billion * 1e9,
        weight_bytes_per_parameter=model.weight_bytes_per_parameter,
        kv_cache_bytes_per_value=model.kv_cache_bytes_per_value, gpus=model.gpus_per_replica,
        gpu_memory_bytes=spec.memory_bytes, hbm_bytes_per_s=spec.hbm_tb_per_s * 1e12,
        dense_flops_per_s=tflops * 1e12, gpu_memory_utilization=model.gpu_memory_utilization,
        max_num_seqs=model.max_num_seqs or default_max_num_seqs(model.gpu, spec),
        # vendors quote both directions together; a ring all-reduce sends and receives at once
        interconnect_bytes_per_s=(float("inf") if spec.interconnect_gb_per_s is None
                                  else spec.interconnect_gb_per_s * 1e9 / 2.0),
    )
