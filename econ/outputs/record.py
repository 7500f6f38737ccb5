"""The decision record: what a planning session decided, for its minutes (Markdown and HTML).

In: an evaluation, its measurements, the export provenance, the Monte Carlo draws and seed and
the sensitivity swing. Out: a frozen :class:`DecisionRecord` (the figures, computed once by the
same functions as ``econ evaluate``, ``econ uncertainty`` and ``econ sensitivity``), its Markdown
and HTML texts, and every file of the record as bytes (``record_files``; PNG charts rendered by
:mod:`econ.outputs.record_charts`). Writing the files is the caller's business.
May import: econ.base … econ.decisions, econ.outputs.
"""

from __future__ import annotations

import base64
import html
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from econ.base.draw_limits import DEFAULT_DRAWS
from econ.base.formatting import number, percent
from econ.base.secrets import redact
from econ.decisions.frontier import Frontier, tier_frontier
from econ.decisions.payback import Payback, payback
from econ.decisions.sensitivity import SensitivityRow, sensitivity, tornado
from econ.decisions.uncertainty import TierUncertainty, simulate
from econ.model.evaluate import Evaluation, Measured, TierResult
from econ.model.tiers import tier_measure
from econ.outputs.cells import markdown_cell, markdown_text
from econ.outputs.headline import Headline, headline_line, headlines, share_percent
from econ.outputs.payback_view import distillations_text, loss_change_text
from econ.outputs.provenance import Provenance, tier_consent
from econ.outputs.record_charts import chart_pngs
from econ.outputs.report import BLEND, payback_text, plan_text
from econ.outputs.verdicts import (
    CAPABILITY_COLUMNS,
    capability_cells,
    changes_line,
    tier_verdicts_statement,
    verdict_statement,
)

__all__ = ["DecisionRecord", "TierDecision", "build_record", "priced_below_floor", "record_files",
           "record_html", "record_markdown", "record_zip"]

TORNADO_ROWS = 15


@dataclass(frozen=True)
class TierDecision:
    tier: str
    plan: str
    price_usd_month: float
    floor_usd_month: float | None  # None for a free tier: no floor
    # P5/P50/P95 of the tier's figure: its floor, or a free tier's cost per user (``measure``)
    p5_usd_month: float
    p50_usd_month: float
    p95_usd_month: float
    gross_margin_at_price: float | None
    target_gross_margin: float
    p_margin_meets_target: float | None
    below_floor: bool
    consent: tuple[tuple[str, str], ...]  # (capability, verdict) the tier consents to lose
    at_risk: tuple[str, ...]
    loss_usd_month: float
    # shares of the tier's conversations a model other than its teacher serves (TierResult)
    unmeasured_traffic_share: float = 0.0
    underpowered_traffic_share: float = 0.0
    uncategorised_traffic_share: float = 0.0
    unmeasured_capabilities: tuple[str, ...] = ()
    underpowered_capabilities: tuple[str, ...] = ()
    cost_per_user_month_usd: float = 0.0
    subsidy_usd_month: float | None = None  # a free tier's monthly cost
    measure: str = "price floor"  # what the P5–P95, the frontier and the tornado are of
    measure_usd_month: float = 0.0  # its deterministic value


@dataclass(frozen=True)
class DecisionRecord:
    scenario: str
    description: str
    provenance: Provenance
    draws: int
    seed: int
    swing: float
    tiers: tuple[TierDecision, ...]
    unmeasured_traffic_share: float
    unmeasured_capabilities: tuple[str, ...]
    underpowered_traffic_share: float
    uncategorised_traffic_share: float
    payback: Payback | None
    frontiers: dict[str, Frontier]
    current_points: dict[str, tuple[float, float]]  # tier → (floor or cost per user, loss)
    tornados: dict[str, tuple[SensitivityRow, ...]]
    headlines: tuple[Headline, ...] = ()  # per tier, as the text report prints them
    # the capability table of the reference comparison (teacher vs first student), as the text
    # report shows it: raw and adjusted p-values, the verdicts, the statement under them
    comparison: str = ""
    verdict_rows: tuple[tuple[str, ...], ...] = ()
    verdict_statement: str = ""
    verdict_changes: str | None = None
    multiplicity: str = "holm"


def priced_below_floor(price_usd_month: float, floor_usd_month: float | None) -> bool:
    """A paid tier priced under its floor (a free tier has no floor: never flagged)."""
    return floor_usd_month is not None and 0 < price_usd_month < floor_usd_month - 0.005


def _verdict(ev: Evaluation, tier: TierResult, capability: str) -> str:
    """The verdict of the model that serves ``capability`` in a tier, against the tier's
    teacher ("teacher" when the teacher serves it)."""
    model = tier.assignment.primary(capability)
    if model == tier.teacher:
        return "teacher"
    rets = ev.pairs.get((tier.teacher, model), ())
    return next((r.verdict for r in rets if r.capability == capability), "unmeasured")


def build_record(ev: Evaluation, measured: Measured, provenance: Provenance, *,
                 draws: int = DEFAULT_DRAWS, seed: int = 0, swing: float = 0.2) -> DecisionRecord:
    mc: dict[str, TierUncertainty] = {r.tier: r for r in simulate(ev, measured, draws, seed)}
    consent = dict(tier_consent(ev))
    rows = sensitivity(ev, measured, swing)
    tiers = []
    for t in ev.tiers:
        e = t.economics
        r = mc[e.tier]
        p5, p50, p95 = r.cost_per_user_month_usd if r.price_floor_usd_month is None \
            else r.price_floor_usd_month
        tiers.append(TierDecision(
            tier=e.tier, plan=plan_text(t.assignment), price_usd_month=e.price_usd_month,
            floor_usd_month=e.price_floor_usd_month, p5_usd_month=p5,
            p50_usd_month=p50, p95_usd_month=p95,
            gross_margin_at_price=e.gross_margin_at_price,
            target_gross_margin=e.target_gross_margin,
            p_margin_meets_target=mc[e.tier].p_margin_meets_target,
            below_floor=priced_below_floor(e.price_usd_month, e.price_floor_usd_month),
            consent=tuple((c, _verdict(ev, t, c)) for c in consent[e.tier]),
            at_risk=t.at_risk, loss_usd_month=t.loss_usd_month,
            unmeasured_traffic_share=t.unmeasured_traffic_share,
            underpowered_traffic_share=t.underpowered_traffic_share,
            uncategorised_traffic_share=t.uncategorised_traffic_share,
            unmeasured_capabilities=t.unmeasured_capabilities,
            underpowered_capabilities=t.underpowered_capabilities,
            cost_per_user_month_usd=e.cost_per_user_month_usd,
            subsidy_usd_month=t.subsidy_usd_month, measure=tier_measure(e.price_usd_month),
            measure_usd_month=e.measure_usd_month))
    fronts = {t.economics.tier: tier_frontier(ev, t.economics.tier) for t in ev.tiers}
    current = {}
    for tid, front in fronts.items():
        here = front.current
        assert here is not None  # tier_frontier always marks the tier's current plan
        current[tid] = (here.measure_usd_month, here.loss_usd_month)
    cov = ev.coverage
    return DecisionRecord(
        scenario=ev.scenario.name, description=ev.scenario.description, provenance=provenance,
        draws=draws, seed=seed, swing=swing, tiers=tuple(tiers),
        unmeasured_traffic_share=cov.unmeasured_traffic_share,
        unmeasured_capabilities=cov.unmeasured_capabilities,
        underpowered_traffic_share=cov.underpowered_traffic_share,
        uncategorised_traffic_share=cov.uncategorised_traffic_share,
        payback=payback(ev), frontiers=fronts, current_points=current,
        tornados={tid: tuple(tornado(rows, tid)[:TORNADO_ROWS]) for tid in fronts},
        headlines=headlines(ev),
        comparison=f"teacher {ev.scenario.teacher_id} vs student {ev.scenario.student_id}",
        verdict_rows=tuple(tuple(capability_cells(r)) for r in ev.retention),
        verdict_statement=verdict_statement(ev.retention),
        verdict_changes=changes_line(ev.retention), multiplicity=ev.scenario.multiplicity)


def _tier_verdicts_line(rec: DecisionRecord) -> str:
    return tier_verdicts_statement(rec.multiplicity)


def _verdict_lines(rec: DecisionRecord) -> list[str]:
    return [rec.verdict_statement] + ([rec.verdict_changes] if rec.verdict_changes else [])


def _usd(x: float | None) -> str:
    return number(x, 2, "USD")


def _tier_rows(rec: DecisionRecord, d: Callable[[str], str] = str) -> list[list[str]]:
    """The tier table's cells; ``d`` makes a string of the scenario safe for the format."""
    out = []
    for t in rec.tiers:
        flag = " ⚠ below floor" if t.below_floor else ""
        spread = f"{number(t.p5_usd_month, 2)} – {number(t.p95_usd_month, 2)}"
        out.append([
            d(t.tier), d(t.plan), number(t.price_usd_month, 2) + flag,
            number(t.floor_usd_month, 2),
            number(t.cost_per_user_month_usd, 2), number(t.subsidy_usd_month, 2),
            spread + (" (cost per user)" if t.floor_usd_month is None else ""),
            percent(t.gross_margin_at_price), percent(t.target_gross_margin),
            percent(t.p_margin_meets_target),
            ", ".join(f"{d(c)} ({v})" for c, v in t.consent) or "nothing",
            ", ".join(d(c) for c in t.at_risk) or "—", number(t.loss_usd_month, 2)])
    return out


TIER_HEADERS = ["Tier", "Plan", "Price (USD/month)", "Price floor (USD/month)",
                "Cost per user (USD/month)", "Free-tier subsidy (USD/month)",
                "Floor P5 – P95 (USD/month; a free tier: cost per user)", "Margin at price",
                "Target margin", "P(margin ≥ target)", "Consents to lose (verdict)",
                "At risk without consent", "Capability loss (USD/month)"]
NUMERIC_COLUMNS = (2, 3, 4, 5, 6, 7, 8, 9, 12)
PAYBACK_NUMERIC = (2, 3, 4)


def _td(text: str, numeric: bool) -> str:
    """A cell of the record's HTML tables: numbers right-aligned."""
    return f'<td class="num">{html.escape(redact(text))}</td>' if numeric else \
        f"<td>{html.escape(redact(text))}</td>"


def _payback_line(p: Payback | None, t: Callable[[str], str] = str) -> str:
    """The payback sentence; ``t`` makes an id safe for the target format."""
    if p is None:
        return "The scenario has no distillation costs; payback is not computed."
    return (f"One-off cost of distilling {t(', '.join(p.distilled_models))}: {_usd(p.one_off_usd)} "
            f"({distillations_text(p)}). Against each tier's best plan "
            f"without it (same consent set and routing, every undistilled model tried, by cost "
            f"plus capability loss) the plans save {_usd(p.gross_savings_usd_month)}/month "
            f"gross, {loss_change_text(p.added_loss_usd_month)}, net of loss "
            f"{_usd(p.net_of_loss_savings_usd_month)}/month. Cash payback (one-off ÷ gross "
            f"savings): {payback_text(p.cash_payback_months, p.cash_payback_never_because)}"
            f"; 12-month cash {_usd(p.cash_12_months_usd)}. Net of capability loss: "
            f"{payback_text(p.net_of_loss_payback_months, p.net_of_loss_payback_never_because)}"
            f"; 12-month net of loss {_usd(p.net_of_loss_12_months_usd)}.")


PAYBACK_HEADERS = ["Tier", "Baseline (best plan without distillation)", "Gross savings "
                   "(USD/month)", "Added loss (USD/month)", "Net of loss (USD/month)",
                   "Cash payback", "Net-of-loss payback"]


def _payback_rows(p: Payback | None, d: Callable[[str], str] = str) -> list[list[str]]:
    """Per tier: paybacks as if the tier alone carried the one-off cost; ``d`` makes a string
    of the scenario safe for the format."""
    if p is None:
        return []
    return [[d(r.tier), d(plan_text(r.baseline_assignment)), _usd(r.gross_savings_usd_month),
             _usd(r.added_loss_usd_month), _usd(r.net_of_loss_savings_usd_month),
             payback_text(r.cash_payback_months, r.cash_payback_never_because),
             payback_text(r.net_of_loss_payback_months, r.net_of_loss_payback_never_because)]
            for r in p.tiers]


def _coverage_lines(rec: DecisionRecord, d: Callable[[str], str] = str) -> list[str]:
    """Each tier's share of its conversations a model other than its teacher serves without an
    eval that can speak for it, then their traffic-weighted blend; ``d`` makes a string of the
    scenario safe for the format."""
    out = []
    for t in rec.tiers:
        out.append(f"Tier {d(t.tier)}: unmeasured {share_percent(t.unmeasured_traffic_share)}"
                   + (f" ({d(', '.join(t.unmeasured_capabilities))}: no eval results; their loss "
                      "is counted at the pessimistic end of the prior)"
                      if t.unmeasured_capabilities else "")
                   + f", underpowered {share_percent(t.underpowered_traffic_share)}"
                   + (f" ({d(', '.join(t.underpowered_capabilities))})"
                      if t.underpowered_capabilities else "")
                   + f", uncategorised {share_percent(t.uncategorised_traffic_share)} of its "
                   "conversations, on models other than its teacher")
    out += [f"All tiers ({BLEND}): unmeasured traffic {share_percent(rec.unmeasured_traffic_share)}"
            f", underpowered traffic {share_percent(rec.underpowered_traffic_share)}, "
            f"uncategorised traffic {share_percent(rec.uncategorised_traffic_share)} of "
            "conversations (uncategorised: traffic shares that sum to less than 100%)"]
    return out


HEADLINE_INTRO = ("Each tier's teacher alone against the plan it serves (USD per conversation, "
                  "traffic-weighted), and the traffic its evals cannot speak for:")


def record_markdown(rec: DecisionRecord, images: dict[str, str] | None = None) -> str:
    """The record as Markdown; ``images`` maps a PNG file name to its alt text."""
    p = rec.provenance
    m = markdown_text  # every string from the scenario or the file system is text, not Markdown
    out = [f"# Decision record: {m(rec.scenario)}", "", m(rec.description, "  \n"), "",
           f"Scenario {m(p.scenario_file)} at git revision {m(p.git_revision)}"
           + (" (file modified since)" if p.git_dirty else "")
           + f", {p.date}, econ {m(p.econ_version)}; unsaved edits: "
           + ("yes" if p.unsaved_edits else "no") + ".", "",
           "## Coverage", ""]
    out += [f"- {line}" for line in _coverage_lines(rec, m)]
    out += ["", "## Headline per tier", "", HEADLINE_INTRO, ""]
    out += [f"- {m(headline_line(h))}" for h in rec.headlines]
    out += ["", "## Plan, price floor and consent per tier", "",
            f"Floors P5 – P95 and P(margin ≥ target) from a Monte Carlo of {rec.draws:,} draws "
            f"(seed {rec.seed}).", "",
            "| " + " | ".join(TIER_HEADERS) + " |",
            "| " + " | ".join("---:" if i in NUMERIC_COLUMNS else "---"
                              for i in range(len(TIER_HEADERS))) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in _tier_rows(rec, markdown_cell)]
    out += ["", m(_tier_verdicts_line(rec))]
    below = [t.tier for t in rec.tiers if t.below_floor]
    if below:
        out += ["", f"**Priced below the floor:** {m(', '.join(below))}."]
    heads = [h for h, _ in CAPABILITY_COLUMNS]
    out += ["", "## Capability verdicts", "", m(f"{rec.comparison}; pass rates and drops in %, "
                                                 "95% intervals; p-values one-sided."), "",
            "| " + " | ".join(heads) + " |",
            "| " + " | ".join("---:" if a else "---" for _, a in CAPABILITY_COLUMNS) + " |"]
    out += ["| " + " | ".join(str(markdown_cell(c)) for c in row) + " |"
            for row in rec.verdict_rows]
    out += [""] + [m(x) for x in _verdict_lines(rec)]
    out += ["", "## Payback", "", _payback_line(rec.payback, m)]
    rows = _payback_rows(rec.payback, markdown_cell)
    if rows:
        out += ["", "Per tier, as if the tier alone carried the one-off cost:", "",
                "| " + " | ".join(PAYBACK_HEADERS) + " |",
                "| " + " | ".join("---" if i < 2 else "---:"
                                  for i in range(len(PAYBACK_HEADERS))) + " |"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
    if images:
        out += ["", "## Charts", ""]
        out += [f"![{alt}]({name})" for name, alt in images.items()]
    return "\n".join(out) + "\n"


def record_html(rec: DecisionRecord, pngs: dict[str, bytes] | None = None,
                images: dict[str, str] | None = None) -> str:
    """The record as one self-contained HTML page (the PNGs inlined)."""
    def e(text: str) -> str:
        return html.escape(redact(text))

    p = rec.provenance
    rows = "".join("<tr>" + "".join(_td(c, i in NUMERIC_COLUMNS) for i, c in enumerate(row))
                   + "</tr>" for row in _tier_rows(rec))
    body = [f"<h1>Decision record: {e(rec.scenario)}</h1>", f"<p>{e(rec.description)}</p>",
            f"<p>Scenario <code>{e(p.scenario_file)}</code> at git revision "
            f"<code>{e(p.git_revision)}</code>{' (file modified since)' if p.git_dirty else ''}"
            f", {e(p.date)}, econ {e(p.econ_version)}; unsaved edits: "
            f"{'yes' if p.unsaved_edits else 'no'}.</p>",
            "<h2>Coverage</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in _coverage_lines(rec))
            + "</ul>",
            "<h2>Headline per tier</h2>", f"<p>{e(HEADLINE_INTRO)}</p>",
            "<ul>" + "".join(f"<li>{e(headline_line(h))}</li>" for h in rec.headlines)
            + "</ul>",
            "<h2>Plan, price floor and consent per tier</h2>",
            f"<p>Floors P5 – P95 and P(margin ≥ target) from a Monte Carlo of {rec.draws:,} "
            f"draws (seed {rec.seed}).</p>",
            "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in TIER_HEADERS)
            + f"</tr></thead><tbody>{rows}</tbody></table>",
            f"<p>{e(_tier_verdicts_line(rec))}</p>",
            "<h2>Capability verdicts</h2>",
            f"<p>{e(rec.comparison)}; pass rates and drops in %, 95% intervals; p-values "
            "one-sided.</p>",
            "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h, _ in CAPABILITY_COLUMNS)
            + "</tr></thead><tbody>" + "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                for row in rec.verdict_rows) + "</tbody></table>",
            *[f"<p>{e(x)}</p>" for x in _verdict_lines(rec)],
            "<h2>Payback</h2>", f"<p>{e(_payback_line(rec.payback))}</p>"]
    pay_rows = _payback_rows(rec.payback)
    if pay_rows:
        body += ["<p>Per tier, as if the tier alone carried the one-off cost:</p>",
                 "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in PAYBACK_HEADERS)
                 + "</tr></thead><tbody>" + "".join(
                     "<tr>" + "".join(_td(c, i in PAYBACK_NUMERIC) for i, c in enumerate(row))
                     + "</tr>" for row in pay_rows) + "</tbody></table>"]
    if images and pngs:
        body.append("<h2>Charts</h2>")
        for name, alt in images.items():
            data = base64.b64encode(pngs[name]).decode("ascii")
            body.append(f'<figure><img alt="{e(alt)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{e(alt)}</figcaption></figure>")
    # the tables fit the page (cells wrap, never the page sideways); numbers right-aligned
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;width:100%;font-size:0.9em}"
             "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;"
             "overflow-wrap:anywhere}td.num{text-align:right}"
             "img{max-width:100%}")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Decision record: {e(rec.scenario)}</title><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


def record_files(rec: DecisionRecord) -> dict[str, bytes]:
    """Every file of the record: decision.md, decision.html and the PNG charts."""
    pngs, images = chart_pngs(rec)
    return {"decision.md": record_markdown(rec, images).encode("utf-8"),
            "decision.html": record_html(rec, pngs, images).encode("utf-8"), **pngs}




def record_zip(files: dict[str, bytes], folder: str = "decision-record") -> bytes:
    """The record's files in one ZIP (fixed timestamps: the same record gives the same bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(f"{folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0)),
                       data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
