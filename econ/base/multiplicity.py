"""Multiplicity corrections of a family of p-values.

- ``holm``: Holm's (1979) step-down; controls the family-wise error rate (the chance of any
  false claim in the family) at α;
- ``bh``: Benjamini–Hochberg (1995) step-up; controls the false discovery rate (the expected
  share of false claims among those made) at α;
- ``none``: every p-value stands alone.
Adjusted p-values are compared with the same α as raw ones. Checked against
``statsmodels.stats.multitest.multipletests`` (methods ``holm`` and ``fdr_bh``).
May import: numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

__all__ = ["MULTIPLICITY", "Multiplicity", "adjust", "strictest_level"]

Multiplicity = Literal["holm", "bh", "none"]
MULTIPLICITY: tuple[Multiplicity, ...] = get_args(Multiplicity)


def adjust(p_values: Sequence[float], method: Multiplicity) -> list[float]:
    """Adjusted p-values in the order given."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0 or method == "none":
        return [float(x) for x in p]
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * ranked))
    elif method == "bh":
        adj = np.minimum.accumulate((m * ranked / np.arange(1, m + 1))[::-1])[::-1]
        adj = np.minimum(1.0, adj)
    else:
        raise ValueError(f"unknown multiplicity correction {method!r}")
    out = np.empty(m)
    out[order] = adj
    return [float(x) for x in out]


def strictest_level(alpha: float, family_size: int, method: Multiplicity) -> float:
    """The raw p-value that earns a claim whatever the rest of the family shows: α/m under
    Holm or Benjamini–Hochberg (their first step), α uncorrected."""
    return alpha if method == "none" else alpha / max(family_size, 1)
