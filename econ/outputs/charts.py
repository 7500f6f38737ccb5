"""Vega-Lite chart specifications (built with Altair) for the app: pure data → dict.

Each chart is built once as a template over named datasets and validated then; the data are
attached per render (``with_data``), so a rerun pays no schema validation.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

__all__ = ["frontier_spec", "interval_spec", "tornado_spec", "with_data"]


def with_data(spec: dict[str, Any], **datasets: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of a template with its named datasets filled in."""
    out = copy.copy(spec)
    out["datasets"] = {name: [dict(r) for r in rows] for name, rows in datasets.items()}
    return out


@cache
def frontier_spec() -> dict[str, Any]:
    """Price floor against capability loss; datasets ``frontier`` and ``current``.

    ``frontier`` rows: point, price_floor_usd_month, loss_usd_month, consent, unmeasured.
    A click selects a point (selection parameter ``pick`` over the field ``point``).
    """
    import altair as alt

    x = alt.X("loss_usd_month:Q", title="capability loss (USD/month)")
    y = alt.Y("price_floor_usd_month:Q", title="price floor (USD/month)")
    pick = alt.selection_point(name="pick", fields=["point"], on="click")
    data = alt.NamedData("frontier")
    line = alt.Chart(data).mark_line(interpolate="step-after", opacity=0.4).encode(x=x, y=y)
    points = alt.Chart(data).mark_circle(size=90).encode(
        x=x, y=y,
        color=alt.condition("datum.unmeasured != ''", alt.value("#d62728"), alt.value("#1f77b4")),
        tooltip=[alt.Tooltip("price_floor_usd_month:Q", title="floor (USD/month)", format=",.2f"),
                 alt.Tooltip("loss_usd_month:Q", title="loss (USD/month)", format=",.0f"),
                 alt.Tooltip("consent:N", title="consent to lose"),
                 alt.Tooltip("unmeasured:N", title="unmeasured (loss at prior's worst)")],
    ).add_params(pick)
    current = alt.Chart(alt.NamedData("current")).mark_point(
        shape="diamond", size=300, filled=True, color="#ff7f0e").encode(x=x, y=y)
    spec: dict[str, Any] = (line + points + current).properties(height=380).to_dict()
    return spec


@cache
def interval_spec() -> dict[str, Any]:
    """Each tier's P5–P95 floor as a bar, its P50 as a dot, relative to the deterministic floor
    (the zero line), so tiers of very different prices share one axis.

    Dataset ``floors``: rows of :func:`econ.decisions.uncertainty.floor_intervals`.
    """
    import altair as alt

    base = alt.Chart(alt.NamedData("floors")).encode(y=alt.Y("tier:N", title=None))
    x = alt.X("p5_vs_floor:Q", axis=alt.Axis(format="+%"),
              title="price floor relative to the deterministic floor (%): P5–P95 bar, P50 dot")
    tips = [alt.Tooltip("floor_usd_month:Q", title="floor (USD/month)", format=",.2f"),
            alt.Tooltip("floor_p5_usd_month:Q", title="P5 (USD/month)", format=",.2f"),
            alt.Tooltip("floor_p50_usd_month:Q", title="P50 (USD/month)", format=",.2f"),
            alt.Tooltip("floor_p95_usd_month:Q", title="P95 (USD/month)", format=",.2f")]
    zero = alt.Chart(alt.NamedData("floors")).mark_rule(color="#ff7f0e").encode(
        x=alt.datum(0))
    spec: dict[str, Any] = (
        base.mark_rule(strokeWidth=4).encode(x=x, x2="p95_vs_floor:Q", tooltip=tips)
        + base.mark_circle(size=90).encode(x="p50_vs_floor:Q", tooltip=tips)
        + zero
    ).to_dict()
    return spec


@cache
def tornado_spec() -> dict[str, Any]:
    """One bar per input from the floor at −swing to the floor at +swing.

    Dataset ``tornado`` rows: input, floor_at_low_usd_month, floor_at_high_usd_month,
    swing_usd_month, in the order to show.
    """
    import altair as alt

    chart = alt.Chart(alt.NamedData("tornado")).mark_bar().encode(
        y=alt.Y("input:N", sort=None, title=None, axis=alt.Axis(labelLimit=420)),
        x=alt.X("floor_at_low_usd_month:Q", scale=alt.Scale(zero=False),
                title="price floor (USD/month) with the input at −swing and +swing"),
        x2="floor_at_high_usd_month:Q",
        tooltip=[alt.Tooltip("swing_usd_month:Q", title="swing (USD/month)", format=",.2f")])
    spec: dict[str, Any] = chart.to_dict()
    return spec
