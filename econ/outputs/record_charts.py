"""The decision record's charts as PNG bytes: each tier's frontier and tornado.

In: a decision record (anything with the fields of :class:`ChartedRecord`, as
:class:`econ.outputs.record.DecisionRecord` has; this module does not import the record, so the
two do not import each other). Out: ``{file name: PNG bytes}`` and
``{file name: caption}``. The Vega-Lite specs are the app's own (:mod:`econ.outputs.charts`),
rendered without a browser by ``vl-convert-python``.
May import: econ.outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from econ.outputs.charts import (
    frontier_spec,
    price_rules,
    tornado_records,
    tornado_spec,
    with_data,
)

__all__ = ["ChartedRecord", "chart_pngs", "frontier_records", "png"]


class ChartedTier(Protocol):
    @property
    def tier(self) -> str: ...
    @property
    def price_usd_month(self) -> float: ...
    @property
    def floor_usd_month(self) -> float | None: ...
    @property
    def measure(self) -> str: ...
    @property
    def measure_usd_month(self) -> float: ...


class ChartedRecord(Protocol):
    """What the charts read of a decision record."""

    @property
    def tiers(self) -> Sequence[ChartedTier]: ...
    @property
    def current_points(self) -> Mapping[str, tuple[float, float]]: ...
    @property
    def frontiers(self) -> Mapping[str, Any]: ...
    @property
    def tornados(self) -> Mapping[str, Sequence[Any]]: ...
    @property
    def swing(self) -> float: ...


def png(spec: dict[str, Any], width: int = 720) -> bytes:
    import vl_convert as vlc

    sized = {**spec, "width": width}
    return bytes(vlc.vegalite_to_png(sized, scale=2))


def frontier_records(front: Any) -> list[dict[str, Any]]:
    """The frontier chart's ``frontier`` dataset (the app's and the record's): each point's
    figure (``measure_usd_month``: its floor, or a free tier's cost per user) and loss."""
    return [{"point": i, "measure_usd_month": p.measure_usd_month,
             "price_floor_usd_month": p.price_floor_usd_month,
             "cost_per_user_month_usd": p.cost_per_user_month_usd,
             "loss_usd_month": p.loss_usd_month, "consent": ", ".join(p.consent) or "(nothing)",
             "student": (p.student or front.teacher)
             + (" routed" if p.routed and p.student else " alone"),
             "unmeasured": ", ".join(p.unmeasured)} for i, p in enumerate(front.points)]


def chart_pngs(rec: ChartedRecord) -> tuple[dict[str, bytes], dict[str, str]]:
    pngs: dict[str, bytes] = {}
    captions: dict[str, str] = {}
    for t in rec.tiers:
        figure, loss = rec.current_points[t.tier]
        free = t.floor_usd_month is None
        spec = with_data(frontier_spec(t.measure),
                         frontier=frontier_records(rec.frontiers[t.tier]),
                         current=[{"measure_usd_month": figure, "loss_usd_month": loss}],
                         prices=price_rules(t.price_usd_month, None, free))
        name = f"frontier-{t.tier}.png"
        pngs[name] = png(spec)
        note = rec.frontiers[t.tier].thinning.note()
        captions[name] = (f"Consent frontier of tier {t.tier}: {t.measure} against capability "
                          "loss; the diamond is the chosen consent set"
                          + ("" if free else ", the dashed rule the tier's price")
                          + (f" ({note})" if note else ""))
        rows = tornado_records(rec.tornados[t.tier], t.tier, t.measure_usd_month, rec.swing,
                               t.measure)
        if rows:
            name = f"tornado-{t.tier}.png"
            pngs[name] = png(with_data(tornado_spec(t.measure), tornado=rows))
            captions[name] = (f"Sensitivity of tier {t.tier}'s {t.measure}: each input moved "
                              f"±{100 * rec.swing:g}%, largest swing on top")
    return pngs, captions
