"""Differences of means with t intervals: graded scores, and examples grouped in clusters.

- paired, no clusters: the paired t on per-example differences (n − 1 degrees of freedom);
- unpaired, no clusters: Welch's t (Welch–Satterthwaite degrees of freedom);
- clustered: ordinary least squares with a cluster-robust (CR1) covariance, as statsmodels'
  ``OLS(...).fit(cov_type="cluster", use_t=True)`` computes it, and a t reference with G − 1
  degrees of freedom (G clusters). Paired: the per-example difference on a constant (Miller 2024,
  "Adding Error Bars to Evals"); unpaired: the outcome on a constant and a teacher indicator.
The design effect is the squared ratio of the cluster-robust standard error to the classical one
(rows independent): an interval is √(design effect) wider than if they were.
A p-value is the t test of the same standard error, so test and interval always agree.
May import: numpy, scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MeanDiff", "paired_mean_diff", "unpaired_mean_diff"]


@dataclass(frozen=True)
class MeanDiff:
    """first − second: the estimate, its standard error and the t reference."""

    estimate: float
    se: float
    se_naive: float  # the classical standard error, every row independent
    df: float
    units: int  # pairs, examples of the smaller group, or clusters
    clusters: int | None
    method: str

    @property
    def design_effect(self) -> float | None:
        if self.clusters is None or self.se_naive <= 0:
            return None
        return (self.se / self.se_naive) ** 2

    def bounds(self, gamma: float) -> tuple[float, float]:
        """Lower and upper bound, each at one-sided level ``gamma``, within [−1, 1]."""
        from scipy import stats

        half = float(stats.t.isf(gamma, self.df)) * self.se if self.se > 0 else 0.0
        return max(-1.0, self.estimate - half), min(1.0, self.estimate + half)

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        return self.bounds((1 - confidence) / 2)

    def p_above(self, delta0: float) -> float:
        """One-sided p of "difference > δ0"."""
        from scipy import stats

        if self.se <= 0:
            return 0.0 if self.estimate > delta0 else 1.0 if self.estimate < delta0 else 0.5
        return float(stats.t.sf((self.estimate - delta0) / self.se, self.df))

    def p_below(self, delta0: float) -> float:
        """One-sided p of "difference < δ0"."""
        from scipy import stats

        if self.se <= 0:
            return 0.0 if self.estimate < delta0 else 1.0 if self.estimate > delta0 else 0.5
        return float(stats.t.cdf((self.estimate - delta0) / self.se, self.df))


def _cluster_index(clusters: Sequence[str]) -> tuple[np.ndarray, int]:
    _, idx = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)
    return idx, int(idx.max()) + 1 if len(idx) else 0


def paired_mean_diff(diffs: Sequence[float],
                     clusters: Sequence[str] | None = None) -> MeanDiff:
    """Mean of per-example differences; cluster-robust when ``clusters`` (one per difference)
    group them."""
    d = np.asarray(diffs, dtype=float)
    n = len(d)
    est = float(d.mean())
    naive = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    if clusters is None:
        return MeanDiff(est, naive, naive, max(n - 1, 1), n, None, "paired_t")
    idx, g = _cluster_index(clusters)
    sums = np.bincount(idx, weights=d - est, minlength=g)
    se = math.sqrt(g / (g - 1) * float((sums ** 2).sum())) / n if g > 1 else math.inf
    return MeanDiff(est, se, naive, max(g - 1, 1), g, g, "cluster_robust_paired")


def unpaired_mean_diff(first: Sequence[float], second: Sequence[float],
                       first_clusters: Sequence[str] | None = None,
                       second_clusters: Sequence[str] | None = None) -> MeanDiff:
    """mean(first) − mean(second); cluster-robust when clusters are given for both (a cluster
    may hold rows of both groups)."""
    y1, y2 = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    n1, n2 = len(y1), len(y2)
    est = float(y1.mean() - y2.mean())
    y = np.concatenate([y1, y2])
    x = np.concatenate([np.ones(n1), np.zeros(n2)])
    big_x = np.column_stack([np.ones(n1 + n2), x])
    xtx_inv = np.linalg.inv(big_x.T @ big_x)
    resid = y - big_x @ (xtx_inv @ big_x.T @ y)
    n = n1 + n2
    naive = math.sqrt(float(resid @ resid) / (n - 2) * xtx_inv[1, 1]) if n > 2 else math.inf
    if first_clusters is None or second_clusters is None:
        v1 = float(y1.var(ddof=1)) / n1 if n1 > 1 else math.inf
        v2 = float(y2.var(ddof=1)) / n2 if n2 > 1 else math.inf
        se = math.sqrt(v1 + v2)
        denom = (v1 ** 2 / (n1 - 1) if n1 > 1 else 0.0) + (v2 ** 2 / (n2 - 1) if n2 > 1 else 0.0)
        df = (v1 + v2) ** 2 / denom if denom > 0 and math.isfinite(se) else float(n - 2)
        return MeanDiff(est, se, naive, max(df, 1.0), min(n1, n2), None, "welch_t")
    idx, g = _cluster_index([*first_clusters, *second_clusters])
    scores = big_x * resid[:, None]
    per_cluster = np.zeros((g, 2))
    np.add.at(per_cluster, idx, scores)
    meat = per_cluster.T @ per_cluster
    cov = xtx_inv @ meat @ xtx_inv * (g / (g - 1) * (n - 1) / (n - 2)) if g > 1 else None
    se = math.sqrt(float(cov[1, 1])) if cov is not None else math.inf
    return MeanDiff(est, se, naive, max(g - 1, 1), g, g, "cluster_robust_unpaired")
