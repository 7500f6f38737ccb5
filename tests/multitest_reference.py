"""statsmodels' ``multipletests``, the independent check of econ's multiplicity corrections,
without the full garbage collection its Holm branch runs on every call (``gc.collect()``: about
0.2 s each in a test process's heap, 8 of the verdict tests' 12 s). The p-values are
statsmodels' own."""

from __future__ import annotations

import gc
from typing import Any

from statsmodels.stats.multitest import multipletests as _multipletests

__all__ = ["multipletests"]


def multipletests(*args: Any, **kwargs: Any) -> Any:
    collect = gc.collect
    gc.collect = lambda generation=2: 0  # type: ignore[assignment]
    try:
        return _multipletests(*args, **kwargs)
    finally:
        gc.collect = collect
