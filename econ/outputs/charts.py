"""Vega-Lite chart specifications (built with Altair) for the app: pure data → dict.

Each chart is built once as a template over named datasets and validated then; the data are
attached per render (``with_data``), so a rerun pays no schema validation.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from econ.outputs.input_words import input_words

__all__ = ["RULES", "TORNADO_ENDS", "VERDICT_COLOURS", "breakeven_spec", "frontier_spec",
           "interval_spec", "price_rules", "retention_records", "retention_spec",
           "tornado_records", "tornado_spec", "with_data", "with_prices"]


def with_data(spec: dict[str, Any], **datasets: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of a template with its named datasets filled in."""
    out = copy.copy(spec)
    out["datasets"] = {name: [dict(r) for r in rows] for name, rows in datasets.items()}
    return out


@cache
def frontier_spec(measure: str = "price floor") -> dict[str, Any]:
    """The tier's figure (``measure``: its price floor, or a free tier's cost per user) against
    capability loss; datasets ``frontier``, ``current`` and ``prices`` (:func:`price_rules`: the
    tier's price and the target as horizontal rules).

    ``frontier`` rows: point, measure_usd_month, price_floor_usd_month, cost_per_user_month_usd,
    loss_usd_month, consent, student, unmeasured. A click selects a point (selection parameter
    ``pick`` over the field ``point``).
    """
    import altair as alt

    x = alt.X("loss_usd_month:Q", title="capability loss (USD/month)")
    y = alt.Y("measure_usd_month:Q", title=f"{measure} (USD/month)")
    pick = alt.selection_point(name="pick", fields=["point"], on="click")
    data = alt.NamedData("frontier")
    line = alt.Chart(data).mark_line(interpolate="step-after", opacity=0.4).encode(x=x, y=y)
    points = alt.Chart(data).mark_circle(size=90).encode(
        x=x, y=y,
        color=alt.condition("datum.unmeasured != ''", alt.value("#d62728"), alt.value("#1f77b4")),
        tooltip=[alt.Tooltip("measure_usd_month:Q", title=f"{measure} (USD/month)",
                             format=",.2f"),
                 alt.Tooltip("loss_usd_month:Q", title="loss (USD/month)", format=",.0f"),
                 alt.Tooltip("consent:N", title="consent to lose"),
                 alt.Tooltip("student:N", title="plan"),
                 alt.Tooltip("unmeasured:N", title="unmeasured (loss at prior's worst)")],
    ).add_params(pick)
    current = alt.Chart(alt.NamedData("current")).mark_point(
        shape="diamond", size=300, filled=True, color="#ff7f0e").encode(
        x=x, y=y, tooltip=[alt.Tooltip("measure_usd_month:Q", title=f"current {measure} "
                                       "(USD/month)", format=",.2f"),
                           alt.Tooltip("loss_usd_month:Q", title="current loss (USD/month)",
                                       format=",.0f")])
    rules = alt.Chart(alt.NamedData("prices"))
    rule = rules.mark_rule(strokeDash=[6, 3]).encode(
        y="price_usd_month:Q",
        color=alt.Color("label:N", title=None, scale=alt.Scale(
            domain=list(RULES), range=["#2ca02c", "#9467bd", "#9467bd"]),
            legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("label:N", title="rule"),
                 alt.Tooltip("price_usd_month:Q", title="USD/month", format=",.2f")])
    spec: dict[str, Any] = (line + points + rule + current).properties(height=380).to_dict()
    return spec


RULES = ("tier price", "target price", "target cost per user")


def price_rules(price_usd_month: float, target_usd_month: float | None,
                free: bool = False) -> list[dict[str, Any]]:
    """The frontier chart's ``prices`` dataset: the tier's price and the target price (a free
    tier: no price, and the target is a cost per user)."""
    out = [] if free else [{"label": RULES[0], "price_usd_month": price_usd_month}]
    if target_usd_month is not None:
        out.append({"label": RULES[2] if free else RULES[1], "price_usd_month": target_usd_month})
    return out


@cache
def interval_spec() -> dict[str, Any]:
    """Each tier's Monte Carlo figure in USD/month (its price floor; a free tier's cost per
    user): P5–P95 as a bar, P50 as a dot, the deterministic figure as an orange tick.

    Dataset ``floors``: rows of :func:`econ.decisions.uncertainty.floor_intervals` with the
    tier's price (:func:`with_prices`), drawn as a green tick (paid tiers only).
    """
    import altair as alt

    base = alt.Chart(alt.NamedData("floors")).encode(y=alt.Y("tier:N", title=None))
    x = alt.X("p5_usd_month:Q", scale=alt.Scale(zero=False), axis=alt.Axis(format=",.2f"),
              title="USD/month: price floor (free tier: cost per user), P5–P95 bar, P50 dot; "
              "orange: deterministic")
    tips = [alt.Tooltip("measure:N", title="figure"),
            alt.Tooltip("base_usd_month:Q", title="deterministic (USD/month)", format=",.2f"),
            alt.Tooltip("p5_usd_month:Q", title="P5 (USD/month)", format=",.2f"),
            alt.Tooltip("p50_usd_month:Q", title="P50 (USD/month)", format=",.2f"),
            alt.Tooltip("p95_usd_month:Q", title="P95 (USD/month)", format=",.2f")]
    zero = base.mark_tick(thickness=3, size=26, color="#ff7f0e").encode(
        x="base_usd_month:Q", tooltip=tips)
    price_tips = [alt.Tooltip("tier:N"),
                  alt.Tooltip("price_usd_month:Q", title="tier price (USD/month)", format=",.2f"),
                  alt.Tooltip("base_usd_month:Q", title="floor (USD/month)", format=",.2f")]
    price = base.transform_filter("datum.price_vs_floor != null").mark_tick(
        thickness=3, size=26, color="#2ca02c").encode(x="price_usd_month:Q", tooltip=price_tips)
    spec: dict[str, Any] = (
        base.mark_rule(strokeWidth=4).encode(x=x, x2="p95_usd_month:Q", tooltip=tips)
        + base.mark_circle(size=90).encode(x="p50_usd_month:Q", tooltip=tips)
        + zero + price
    ).to_dict()
    return spec


def with_prices(rows: Sequence[Mapping[str, Any]],
                prices: Mapping[str, float]) -> list[dict[str, Any]]:
    """Interval rows with each tier's price, absolute and relative to its floor (None for a
    free tier: it has no floor, and no price to draw)."""
    out = []
    for r in rows:
        price = prices[r["tier"]]
        floor = r["floor_usd_month"]
        rel = price / floor - 1 if price > 0 and floor else None
        out.append({**r, "price_usd_month": price, "price_vs_floor": rel})
    return out


TORNADO_ENDS = ("−swing", "+swing")


def tornado_records(ranked: Sequence[Any], tier: str, base_usd_month: float,
                    swing: float, measure: str = "price floor") -> list[dict[str, Any]]:
    """Two rows per input (its −swing and +swing ends), in ``ranked`` order (largest swing
    first, as :func:`econ.decisions.sensitivity.tornado` gives it), for :func:`tornado_spec`.

    ``ranked`` holds :class:`~econ.decisions.sensitivity.SensitivityRow`; the figure is the
    tier's ``measure`` (its price floor, or a free tier's cost per user), ``base_usd_month`` its
    deterministic value; each row carries the input, both values, both figures and the swing.
    """
    out = []
    for rank, r in enumerate(ranked):
        lo, hi = r.at_low(tier), r.at_high(tier)
        common = {"input": r.input, "label": input_words(r.input), "rank": rank, "measure": measure,
                  "swing_usd_month": r.swing(tier), "base_value": r.base_value,
                  "low_value": r.low_value, "high_value": r.high_value,
                  "at_low_usd_month": lo, "at_high_usd_month": hi,
                  "base_usd_month": base_usd_month}
        for end, value in zip(TORNADO_ENDS, (lo, hi), strict=True):
            if value is not None:
                out.append({**common, "end": end, "swing_pct": 100 * swing,
                            "end_usd_month": value})
    return out


@cache
def tornado_spec(measure: str = "price floor") -> dict[str, Any]:
    """One bar per input and end, from the tier's figure (``measure``: its price floor, a free
    tier's cost per user) to the figure with the input at −swing (blue) or +swing (orange);
    inputs sorted by swing, largest on top.

    Dataset ``tornado``: rows of :func:`tornado_records`.
    """
    import altair as alt

    tips = [alt.Tooltip("label:N", title="input"),
            alt.Tooltip("input:N", title="in the scenario file"),
            alt.Tooltip("low_value:Q", title="value at −swing", format=",.6g"),
            alt.Tooltip("high_value:Q", title="value at +swing", format=",.6g"),
            alt.Tooltip("at_low_usd_month:Q", title=f"{measure} at −swing (USD/month)",
                        format=",.2f"),
            alt.Tooltip("at_high_usd_month:Q", title=f"{measure} at +swing (USD/month)",
                        format=",.2f"),
            alt.Tooltip("swing_usd_month:Q", title="swing (USD/month)", format=",.2f")]
    y = alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=420),
              sort=alt.EncodingSortField(field="rank", op="min", order="ascending"))
    bars = alt.Chart(alt.NamedData("tornado")).mark_bar().encode(
        y=y,
        x=alt.X("end_usd_month:Q", scale=alt.Scale(zero=False),
                title=f"{measure} (USD/month) with the input moved; rule: the tier's {measure}"),
        x2="base_usd_month:Q",
        color=alt.Color("end:N", title="input moved by", scale=alt.Scale(
            domain=list(TORNADO_ENDS), range=["#1f77b4", "#ff7f0e"]),
            legend=alt.Legend(orient="top")),
        tooltip=tips)
    base = alt.Chart(alt.NamedData("tornado")).mark_rule(color="#333").encode(
        x="mean(base_usd_month):Q")
    spec: dict[str, Any] = (bars + base).to_dict()
    return spec


@cache
def breakeven_spec() -> dict[str, Any]:
    """Cost per conversation against monthly volume, both on log scales; dataset ``curves``
    (rows: option, conversations_month, cost_per_conversation_usd, replicas) and ``today``
    (one row: conversations_month) as a vertical rule."""
    import altair as alt

    x = alt.X("conversations_month:Q", title="conversations a month",
              scale=alt.Scale(type="log"))
    lines = alt.Chart(alt.NamedData("curves")).mark_line(interpolate="linear").encode(
        x=x, y=alt.Y("cost_per_conversation_usd:Q", title="cost per conversation (USD)",
                     scale=alt.Scale(type="log")),
        color=alt.Color("option:N", title="model @ GPU price"),
        tooltip=[alt.Tooltip("option:N"),
                 alt.Tooltip("conversations_month:Q", title="conversations/month", format=",.0f"),
                 alt.Tooltip("cost_per_conversation_usd:Q", title="USD/conv.", format=".5f"),
                 alt.Tooltip("replicas:Q", title="replicas", format=",.0f")])
    today = alt.Chart(alt.NamedData("today")).mark_rule(strokeDash=[4, 4]).encode(x=x)
    spec: dict[str, Any] = alt.layer(lines, today).properties(height=320).to_dict()
    return spec


VERDICT_COLOURS = {"retained": "#2ca02c", "degraded": "#ff7f0e", "inconclusive": "#bcbd22",
                   "lost": "#d62728", "unmeasured": "#7f7f7f"}


def retention_records(rets: Sequence[Any], consent: Sequence[str]) -> list[dict[str, Any]]:
    """One row per capability for :func:`retention_spec`: its drop with the 95% interval, its
    tolerance, its verdict and whether the tier consents to lose it. ``rets`` holds
    :class:`~econ.evidence.retention.Retention` (an unmeasured one has no drop: drawn as text).
    """
    out = []
    for r in rets:
        lo, hi = r.drop_ci if r.drop_ci is not None else (None, None)
        out.append({"capability": r.capability, "drop": r.drop, "drop_lo": lo, "drop_hi": hi,
                    "tolerance": r.tolerance, "verdict": r.verdict,
                    "consent": "consented to lose" if r.capability in consent else "kept",
                    "note": "not measured" if r.drop is None else ""})
    return out


@cache
def retention_spec() -> dict[str, Any]:
    """Each capability's drop in pass rate (student against teacher) with its 95% interval, the
    tolerance as a black tick, coloured by verdict; a consented capability is a diamond.

    Dataset ``retention``: rows of :func:`retention_records`.
    """
    import altair as alt

    base = alt.Chart(alt.NamedData("retention")).encode(
        y=alt.Y("capability:N", title=None, sort=None, axis=alt.Axis(labelLimit=260)))
    colour = alt.Color("verdict:N", title="verdict", scale=alt.Scale(
        domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values())),
        legend=alt.Legend(orient="top"))
    tips = [alt.Tooltip("capability:N"), alt.Tooltip("verdict:N"),
            alt.Tooltip("drop:Q", title="drop", format=".1%"),
            alt.Tooltip("drop_lo:Q", title="95% interval from", format=".1%"),
            alt.Tooltip("drop_hi:Q", title="to", format=".1%"),
            alt.Tooltip("tolerance:Q", title="tolerance", format=".1%"),
            alt.Tooltip("consent:N", title="this tier")]
    x = alt.X("drop_lo:Q", axis=alt.Axis(format="%"),
              title="drop in pass rate, student against teacher (95% interval); black tick: "
              "tolerance")
    measured = base.transform_filter("datum.drop != null")
    spec: dict[str, Any] = (
        measured.mark_rule(strokeWidth=3).encode(x=x, x2="drop_hi:Q", color=colour,
                                                 tooltip=tips)
        + measured.mark_point(size=110, filled=True).encode(
            x="drop:Q", color=colour, tooltip=tips,
            shape=alt.Shape("consent:N", title=None, scale=alt.Scale(
                domain=["kept", "consented to lose"], range=["circle", "diamond"]),
                legend=alt.Legend(orient="top")))
        + base.mark_tick(color="#000", thickness=2, size=18).encode(x="tolerance:Q",
                                                                    tooltip=tips)
        + base.transform_filter("datum.drop == null").mark_text(align="left", dx=4).encode(
            x=alt.datum(0), text="note:N")
    ).to_dict()
    return spec
