"""Two JSON reports agree: every key, count and label equal, every float to 1e-12 relative.

Engines (DuckDB's parallel scan, Spark, Polars) sum floating-point columns in an order that can
change from run to run, so the same figures may differ in the last bit (1 ulp seen in CI)."""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["assert_same"]


def assert_same(got: Any, want: Any, where: str = "") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        for key in want:
            assert_same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), where
    else:
        assert got == want, where
