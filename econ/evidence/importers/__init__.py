"""Importers: outputs of the serving-benchmark and eval tools teams already run, read as they are.

One source format per module; :mod:`econ.evidence.importers.detect` tells them apart by content.
"""

from econ.evidence.importers.bench import BENCH_FORMATS, BenchRun, read_bench
from econ.evidence.importers.evals import EVAL_FORMATS, read_evals

__all__ = ["BENCH_FORMATS", "EVAL_FORMATS", "BenchRun", "read_bench", "read_evals"]
