"""Length distributions: the expectation of a cost over a spread of request lengths.

A workload of variable-length requests (ShareGPT, a chat log) does not cost what its mean shape
costs: attention and the KV cache a decode reads grow with the product of the prompt and output
lengths, so a spread of lengths raises the mean cost. The cost of such a workload is the
expectation over its lengths, every request in the batch the mix's mean KV holding allows.

At a fixed batch a request's GPU time is a polynomial of degree two in its lengths (the terms of
:mod:`econ.model.serving`), so its expectation depends on the lengths' means and variances
only. A spread stated as a coefficient of variation (``cv``, the mean kept) is therefore taken
exactly by two points per length, ``mean·(1 ± cv)`` with weight ½ each: the two moments of the
distribution, whatever its shape (lognormal, a dataset's histogram). The points are a device
of the expectation, not lengths that occur (with ``cv > 1`` one is negative). A run's own
per-request lengths are used as they are. Pure; imports numpy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spread_factors", "spread_points"]


def spread_factors(cv: float) -> tuple[np.ndarray, np.ndarray]:
    """(factors, weights) with Σ weights·factor = 1 and Σ weights·factor² = 1 + cv²: the
    expectation of any polynomial of degree two in a length of mean 1 and spread ``cv``.
    ``cv`` 0 gives the single factor 1."""
    if cv <= 0:
        return np.ones(1), np.ones(1)
    return np.array([1.0 - cv, 1.0 + cv]), np.array([0.5, 0.5])


def spread_points(mean_input: float, input_cv: float, mean_output: float,
                  output_cv: float) -> tuple[tuple[float, float, float], ...]:
    """(input, output, weight) points of independent input and output lengths of the stated
    means and spreads; empty when neither has a spread (a fixed shape)."""
    if input_cv <= 0 and output_cv <= 0:
        return ()
    fi, wi = spread_factors(input_cv)
    fo, wo = spread_factors(output_cv)
    return tuple((float(mean_input * a), float(mean_output * b), float(u * v))
                 for a, u in zip(fi, wi, strict=True) for b, v in zip(fo, wo, strict=True))
