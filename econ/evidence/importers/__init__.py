"""Importers: outputs of the serving-benchmark and eval tools teams already run, read as they are.

One source format per module; :mod:`econ.evidence.importers.detect` tells them apart by content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from econ.base.lazy import lazy_names

if TYPE_CHECKING:
    from econ.evidence.importers.bench import BENCH_FORMATS, BenchRun, read_bench
    from econ.evidence.importers.evals import EVAL_FORMATS, read_evals

__all__ = ["BENCH_FORMATS", "EVAL_FORMATS", "BenchRun", "read_bench", "read_evals"]

# Imported on first use (PEP 562): `econ traffic` reads the capability map of this package
# (importers.capmap) and needs neither importer; the eval importers pull in scipy through
# the statistics (0.8 s of CPU at every start of `econ traffic` before).
_LAZY = {
    "BENCH_FORMATS": "econ.evidence.importers.bench",
    "BenchRun": "econ.evidence.importers.bench",
    "read_bench": "econ.evidence.importers.bench",
    "EVAL_FORMATS": "econ.evidence.importers.evals",
    "read_evals": "econ.evidence.importers.evals",
}

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
