"""Verdicts recomputed without econ's statistics: statsmodels' Clopper–Pearson limits, the MOVER
square-and-add written out, p-values found by scipy's root finder, statsmodels' multipletests
and (clustered slices) its OLS with a cluster-robust covariance. Tests compare econ with this."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import optimize
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from tests.multitest_reference import multipletests

ALPHA_SIDE = 0.025
MIN_UNITS = 10


def cp(k: float, n: float, gamma: float) -> tuple[float, float]:
    lo, hi = proportion_confint(k, n, alpha=2 * gamma, method="beta")
    return (0.0 if k == 0 else float(lo)), (1.0 if k == n else float(hi))


def phi_of(a: float, b: float, c: float, d: float) -> float:
    n = a + b + c + d
    m = (a + b) * (c + d) * (a + c) * (b + d)
    if m == 0:
        return 0.0
    x = a * d - b * c
    return (x - n / 2) / math.sqrt(m) if x > n / 2 else 0.0 if x >= 0 else x / math.sqrt(m)


@dataclass(frozen=True)
class Binary:
    """Passes k1 of n1 (teacher), k2 of n2 (student); cells (a, b, c, d) when paired."""

    k1: int
    n1: int
    k2: int
    n2: int
    cells: tuple[int, int, int, int] | None = None

    @property
    def drop(self) -> float:
        if self.cells:
            return (self.cells[1] - self.cells[2]) / self.n1
        return self.k1 / self.n1 - self.k2 / self.n2

    @property
    def units(self) -> int:
        return self.n1 if self.cells else min(self.n1, self.n2)

    def bounds(self, gamma: float) -> tuple[float, float]:
        phi = phi_of(*self.cells) if self.cells else 0.0
        p1, p2 = self.k1 / self.n1, self.k2 / self.n2
        l1, u1 = cp(self.k1, self.n1, gamma)
        l2, u2 = cp(self.k2, self.n2, gamma)
        lower = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                              + (u2 - p2) ** 2))
        upper = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                              + (p2 - l2) ** 2))
        return max(-1.0, p1 - p2 - lower), min(1.0, p1 - p2 + upper)

    def p(self, delta0: float, above: bool) -> float:
        """One-sided p of "drop > δ0" (above) or "drop < δ0": the level where the bound
        reaches δ0 (0.5 when no level up to 0.5 separates them, 1 − the other side's beyond)."""
        side = 0 if above else 1

        def gap(log_g: float, s: int) -> float:
            b = self.bounds(math.exp(log_g))[s] - delta0
            return b if s == 0 else -b

        lo, hi = math.log(1e-100), math.log(0.5)
        if gap(hi, side) >= 0:
            return 1e-100 if gap(lo, side) >= 0 else math.exp(
                optimize.brentq(lambda x: gap(x, side), lo, hi, xtol=1e-12))
        other = 1 - side
        if gap(hi, other) >= 0:
            q = 1e-100 if gap(lo, other) >= 0 else math.exp(
                optimize.brentq(lambda x: gap(x, other), lo, hi, xtol=1e-12))
            return 1 - q
        return 0.5

    def mdd(self) -> float | None:
        za, zb = sps.norm.ppf(0.975), sps.norm.ppf(0.8)
        if self.cells:
            n, psi0 = self.n1, (self.cells[1] + self.cells[2]) / self.n1

            def gap(d: float) -> float:
                psi = max(psi0, d)
                return d * math.sqrt(n) - za * math.sqrt(psi) - zb * math.sqrt(psi - d * d)
            return optimize.brentq(gap, 1e-12, 1.0) if gap(1.0) >= 0 else None
        p, n1, n2 = self.k1 / self.n1, self.n1, self.n2
        if p <= 0:
            return None

        def gap(d: float) -> float:
            q = p - d
            pbar = (n1 * p + n2 * q) / (n1 + n2)
            return d - za * math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2)) - zb * math.sqrt(
                p * (1 - p) / n1 + q * (1 - q) / n2)
        return optimize.brentq(gap, 1e-12, p) if gap(p) >= 0 else None


@dataclass(frozen=True)
class Clustered:
    """Per-example differences (paired) with their clusters: statsmodels' OLS, CR1, t(G − 1)."""

    diffs: tuple[float, ...]
    clusters: tuple[str, ...]

    def _fit(self):
        groups = np.unique(np.asarray(self.clusters), return_inverse=True)[1]
        x = np.ones((len(self.diffs), 1))
        return sm.OLS(np.asarray(self.diffs), x).fit(cov_type="cluster",
                                                     cov_kwds={"groups": groups}, use_t=True)

    @property
    def drop(self) -> float:
        return float(np.mean(self.diffs))

    @property
    def units(self) -> int:
        return len(set(self.clusters))

    def p(self, delta0: float, above: bool) -> float:
        f = self._fit()
        t = (f.params[0] - delta0) / f.bse[0]
        df = f.df_resid_inference
        return float(sps.t.sf(t, df) if above else sps.t.cdf(t, df))

    def mdd(self) -> float | None:
        f = self._fit()
        df = f.df_resid_inference
        return float((sps.t.isf(0.025, df) + sps.t.ppf(0.8, df)) * f.bse[0])


def verdicts(designs: dict[str, Binary | Clustered], tolerance: dict[str, float],
             method: str = "holm") -> dict[str, str]:
    """The verdict rules of issue 21, over designs recomputed here."""
    caps = list(designs)
    claims, p_tol, p_zero = {}, [], []
    for c in caps:
        d, tol = designs[c], tolerance[c]
        claims[c] = "lost" if d.drop > tol else "retained"
        p_tol.append(d.p(tol, above=claims[c] == "lost"))
        p_zero.append(d.p(0.0, above=True))
    if method == "none":
        adj_tol, adj_zero = p_tol, p_zero
    else:
        sm_method = {"holm": "holm", "bh": "fdr_bh"}[method]
        adj_tol = list(multipletests(p_tol, method=sm_method)[1])
        adj_zero = list(multipletests(p_zero, method=sm_method)[1])
    out = {}
    for c, pt, pz in zip(caps, adj_tol, adj_zero, strict=True):
        d = designs[c]
        degraded = d.drop > 0 and pz < ALPHA_SIDE
        v = "inconclusive"
        if claims[c] == "lost" and pt < ALPHA_SIDE:
            v = "lost"
        elif claims[c] == "retained" and pt <= ALPHA_SIDE:
            v = "retained"
        elif degraded:
            v = "degraded"
        if v != "inconclusive" and d.units < MIN_UNITS:
            v = "inconclusive"
        elif v == "lost":
            mdd = d.mdd()
            if mdd is None or d.drop < mdd:
                v = "degraded" if degraded else "inconclusive"
        out[c] = v
    return out
