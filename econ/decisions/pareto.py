"""Pareto sets of sums: every consent set of k capabilities as (cost, loss), merged one
capability at a time, kept to a number of points with a stated bound.

Both objectives of a consent set are sums over capabilities of what each one's choice adds, so
the Pareto set of k choices is the Pareto set of (the set of k - 1) × (the k-th choice): exact,
no 2^k enumeration. That set itself can hold up to 2^k points (choices whose loss per dollar
saved is alike, 20 of them: a million). Past :data:`MAX_FRONTIER_POINTS` each merge step thins
it on a grid of the loss (the cheapest point of each cell kept) and adds up what it left out
(:class:`Thinning`): every consent set not kept has a kept point at no higher cost and at most
``loss_gap_usd_month`` more loss. Memory and time grow with k × the cap, never with 2^k.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_FRONTIER_POINTS", "Choice", "Thinning", "pareto_merge", "pareto_merge_thinned"]

MAX_FRONTIER_POINTS = 2_000  # points of one student's Pareto set kept while merging


@dataclass(frozen=True)
class Choice:
    """What one capability adds to (cost per conversation, loss per month) for each choice."""

    capability: str
    consent_cost: float
    consent_loss: float
    keep_cost: float
    keep_loss: float


@dataclass(frozen=True)
class Thinning:
    """What keeping a Pareto set to a number of points left out, and its bound: each consent
    set not shown has a shown point at no higher cost and at most ``loss_gap_usd_month`` more
    loss."""

    dropped: int = 0  # points dropped while merging, over every student
    loss_gap_usd_month: float = 0.0  # the largest bound of any student
    max_points: int = MAX_FRONTIER_POINTS

    def merged(self, other: Thinning) -> Thinning:
        return Thinning(self.dropped + other.dropped,
                        max(self.loss_gap_usd_month, other.loss_gap_usd_month), self.max_points)

    def to_json(self) -> dict[str, float | int]:
        return {"dropped_points": self.dropped, "loss_gap_usd_month": self.loss_gap_usd_month,
                "max_points_per_student": self.max_points}

    def note(self) -> str | None:
        """The sentence every door shows under a thinned frontier (None: exact)."""
        if not self.dropped:
            return None
        return (f"thinned: a student's Pareto set is kept to {self.max_points:,} points; "
                f"{self.dropped:,} were left out while merging, and each consent set not shown "
                f"has a point shown at no higher floor and at most "
                f"{self.loss_gap_usd_month:,.2f} USD/month more loss")


def pareto_merge(choices: Sequence[Choice], max_points: int = MAX_FRONTIER_POINTS,
                 ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Pareto set of (cost, loss) sums over all consent sets; masks mark consented choices.

    Returns costs (ascending), losses (descending) and the bit mask of each point. Exact while
    the set stays within ``max_points``; see :func:`pareto_merge_thinned` for what thinning
    left out.
    """
    cost, loss, masks, _ = pareto_merge_thinned(choices, max_points)
    return cost, loss, masks


def pareto_merge_thinned(choices: Sequence[Choice], max_points: int = MAX_FRONTIER_POINTS,
                         ) -> tuple[np.ndarray, np.ndarray, list[int], Thinning]:
    """:func:`pareto_merge` with what thinning to ``max_points`` left out.

    The bound holds by induction: after each step, every consent set of the choices merged so
    far has a kept point at no higher cost and at most the sum of the steps' gaps more loss
    (its prefix's kept point, extended by the same choice, is a candidate of the next step).
    """
    cost = np.zeros(1)
    loss = np.zeros(1)
    masks = np.array([0], dtype=object)
    dropped, gap = 0, 0.0
    for i, ch in enumerate(choices):
        cost = np.concatenate([cost + ch.keep_cost, cost + ch.consent_cost])
        loss = np.concatenate([loss + ch.keep_loss, loss + ch.consent_loss])
        masks = np.concatenate([masks, masks | (1 << i)])
        cost, loss, masks = _pareto(cost, loss, masks)
        if len(cost) > max_points:
            keep, step_gap = _thin(loss, max_points)
            dropped += len(cost) - len(keep)
            gap += step_gap
            cost, loss, masks = cost[keep], loss[keep], masks[keep]
    return cost, loss, list(masks), Thinning(dropped, gap, max_points)


def _thin(loss: np.ndarray, max_points: int) -> tuple[np.ndarray, float]:
    """Indices to keep of a Pareto set (cost ascending, loss descending) cut to at most
    ``max_points``: cells of equal loss width, the cheapest point of each kept, and the last
    (least loss) point; with the largest loss a dropped point is below its cell's kept one."""
    cells = max_points - 1
    width = (loss[0] - loss[-1]) / cells
    cell = np.minimum(((loss[0] - loss) / width).astype(np.int64), cells - 1)
    _, first = np.unique(cell, return_index=True)  # cells ascend with the index
    keep = np.union1d(first, [len(loss) - 1])
    gaps = loss[first][np.searchsorted(cell[first], cell)] - loss
    gaps[keep] = 0.0
    return keep, float(np.max(gaps))


def _pareto(cost: np.ndarray, loss: np.ndarray,
            masks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep points no other point matches or beats on both objectives (one of equal twins)."""
    order = np.lexsort((loss, cost))
    cost, loss, masks = cost[order], loss[order], masks[order]
    best_before = np.minimum.accumulate(np.concatenate([[np.inf], loss[:-1]]))
    keep = loss < best_before
    return cost[keep], loss[keep], masks[keep]
