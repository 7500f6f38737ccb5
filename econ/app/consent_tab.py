"""Headline metrics, the consent table and the tier panel."""

from __future__ import annotations

import streamlit as st

from econ.app.grid import Spec, columns_of, show_table
from econ.app.state import NO_ROUTE, show_tier_consent, wkey
from econ.app.text import code, markdown, say, word
from econ.base.formatting import ci_percent, money, number, percent, unit_cost
from econ.decisions.consent_effect import idle_consents
from econ.decisions.payback import payback
from econ.model.evaluate import Evaluation
from econ.outputs.charts import retention_records, retention_spec, with_data
from econ.outputs.consent_matrix import consent_matrix
from econ.outputs.export import COLUMNS, candidate_columns, candidates_frame, tier_pricing_table
from econ.outputs.headline import Headline, share_percent
from econ.outputs.payback_view import distillations_text, loss_change_text, payback_reasons
from econ.outputs.record import priced_below_floor
from econ.outputs.report import BLEND, headline, payback_frame, payback_text
from econ.outputs.verdicts import (
    candidates_statement,
    changes_line,
    design_text,
    p_text,
    tier_verdicts_statement,
    verdict_statement,
)

__all__ = ["consent_table", "detectable_text", "headline_metrics", "tiers_panel"]


def headline_metrics(source: str, ev: Evaluation) -> None:
    """The headline of the tier picked in the consent tab: its teacher against the plan it
    serves, and the traffic its evals cannot speak for."""
    tier = st.session_state.get(wkey(source, "ctier"))
    if tier not in {t.economics.tier for t in ev.tiers}:
        tier = ev.tiers[min(1, len(ev.tiers) - 1)].economics.tier
    h = headline(ev, tier)
    say(st.markdown, "**Tier {tier}**: teacher {teacher}; plan {plan} (pick the tier under "
        "*Consent set of tier*)", tier=code(h.tier), teacher=code(h.teacher),
        plan=code(h.served_text))
    cols = [c for _ in range(2) for c in st.columns(3)]  # two rows: values never truncated
    cols[0].metric("Teacher (USD/conv.)", unit_cost(h.teacher_cost_per_conversation_usd),
                   help=markdown("{teacher} alone, traffic-weighted over capabilities",
                                 teacher=code(h.teacher)))
    cols[1].metric("Tier's plan (USD/conv.)", unit_cost(h.plan_cost_per_conversation_usd),
                   help=markdown("{plan}, traffic-weighted, router included",
                                 plan=code(h.served_text)))
    cols[2].metric("Teacher ÷ plan cost", "—" if h.teacher_to_plan_cost_ratio is None
                   else f"{h.teacher_to_plan_cost_ratio:,.1f}×")
    cols[3].metric("Tier's serving cost (USD/month)", money(h.cost_usd_month),
                   help=markdown("{n} conversations a month in tier {tier}",
                                 n=f"{h.conversations_month:,.0f}", tier=h.tier))
    cols[4].metric("Unmeasured traffic", share_percent(h.unmeasured_traffic_share),
                   help="share of the tier's conversations a model other than its teacher "
                   "serves on capabilities with no eval results")
    cols[5].metric("Underpowered traffic", share_percent(h.underpowered_traffic_share),
                   help=markdown(UNDERPOWERED_HELP))
    notes = _notes(h, ev)
    if notes:
        # one line, the details folded: the tabs stay on the first screen
        with st.expander(markdown(":orange[**{n} note{s} on tier {tier}'s figures**]: {notes}",
                                  n=len(notes), s="s" if len(notes) > 1 else "", tier=h.tier,
                                  notes=" · ".join(notes))):
            _alerts(h, ev)
    cov = ev.coverage
    say(st.caption, "All tiers ({blend}): {unmeasured} unmeasured, {underpowered} underpowered, "
        "{uncategorised} uncategorised traffic on models other than the tier's teacher.",
        blend=BLEND, unmeasured=share_percent(cov.unmeasured_traffic_share),
        underpowered=share_percent(cov.underpowered_traffic_share),
        uncategorised=share_percent(cov.uncategorised_traffic_share))


def _notes(h: Headline, ev: Evaluation) -> list[str]:
    """The alerts of :func:`_alerts` in a few words each, for the one summary line."""
    out = []
    if h.unmeasured_traffic_share > 0:
        out.append(f"{share_percent(h.unmeasured_traffic_share)} unmeasured")
    out += [f"GPU cost of {w.partition(': ')[0]} extrapolated" for w in ev.warnings]
    if h.uncategorised_traffic_share > 0:
        out.append(f"{share_percent(h.uncategorised_traffic_share)} uncategorised")
    if h.underpowered_traffic_share > 0:
        out.append(f"{share_percent(h.underpowered_traffic_share)} underpowered")
    return out


def _alerts(h: Headline, ev: Evaluation) -> None:
    """Each note on the tier's figures in full."""
    if h.unmeasured_traffic_share > 0:
        say(st.warning, "**{share} of tier {tier}'s conversations are unmeasured**: served by "
            "{plan} with no eval results against {teacher} on {caps}. Their loss is counted at "
            "the pessimistic end of the prior.", share=share_percent(h.unmeasured_traffic_share),
            tier=h.tier, plan=code(h.served_text), teacher=code(h.teacher),
            caps=", ".join(h.unmeasured_capabilities))
    for w in ev.warnings:
        model, _, rest = w.partition(": ")
        against = ("misses its own run", "physical bound", "stated replica's KV cache")
        if any(a in rest for a in against):
            advice = ("Check the replica's figures against the runs (econ fit shows each "
                      "run's residual).")
        elif rest.startswith("its GPU cost rests on"):
            advice = "Add benchmark runs of this model (econ fit shows what it rests on)."
        else:
            advice = ("Add a benchmark run where the conversations go (econ fit shows what "
                      "the runs cover).")
        say(st.warning, "**GPU cost of {model} is extrapolated**: {rest}. {advice}",
            model=code(model), rest=rest, advice=advice)
    if h.uncategorised_traffic_share > 0:
        say(st.info, "**{share} of tier {tier}'s conversations are uncategorised** and served "
            "by a model other than its teacher: the capabilities' traffic shares sum to less "
            "than 100%, so this traffic is costed with the conversation shape but no "
            "capability, and no eval speaks for it.",
            share=share_percent(h.uncategorised_traffic_share), tier=h.tier)
    if h.underpowered_traffic_share > 0:
        say(st.info, "{share} of tier {tier}'s conversations are served by a model other than "
            "its teacher on capabilities whose eval slice cannot detect a drop as large as its "
            "tolerance: {caps}.", share=share_percent(h.underpowered_traffic_share), tier=h.tier,
            caps=", ".join(h.underpowered_capabilities))


_GRID = [2.1, 1.45, 1.45, 1.5, 1.6, 0.55]


def breakable(identifier: str) -> str:
    """An id that may wrap after its underscores (never inside a word) in a narrow column."""
    return identifier.replace("_", "_\u200b")


def consent_table(source: str, ev: Evaluation) -> None:
    st.subheader("Capabilities: what the student keeps, and what you consent to lose")
    caps = [c.id for c in ev.scenario.capabilities]
    tier = st.selectbox("Consent set of tier (the ticks act on this tier only)",
                        [t.id for t in ev.scenario.tiers], key=wkey(source, "ctier"),
                        on_change=show_tier_consent, args=(source, caps))
    res = ev.tier(tier)
    student = next((m for m in res.assignment.models if m != res.teacher),
                   ev.scenario.student_id)
    rets = {r.capability: r for r in ev.retention_against(res.teacher, student)}
    say(st.caption, "Tier {tier}: student {student} against its teacher {teacher}.",
        tier=code(tier), student=code(student), teacher=code(res.teacher))
    head = st.columns(_GRID, gap="xsmall")
    helps = [None, None, None, MDD_HELP, VERDICT_HELP,
             "Tick to consent to losing the capability on this tier: its plan may then serve it "
             "with the student."]
    for col, text, help_text in zip(head, ["capability · traffic share · severity",
                                           "teacher pass rate", "student pass rate",
                                           "drop · smallest detectable", "verdict", "lose?"],
                                    helps, strict=True):
        col.markdown(markdown(":small[**{text}**]", text=text),
                     help=None if help_text is None else markdown(help_text))
    for c in ev.scenario.capabilities:
        r = rets[c.id]
        row = st.columns(_GRID, gap="xsmall")
        row[0].markdown(markdown("{id}{load}  \n:small[{share} of traffic · {severity} USD per "
                                 "failure]", id=code(breakable(c.id)),
                                 load=" · load-bearing" if c.load_bearing else "",
                                 share=percent(c.traffic_share), severity=money(c.severity_usd)))
        for col, side, n in ((row[1], "teacher", r.n_teacher), (row[2], "student", r.n_student)):
            if r.outcome == "mean_score":
                score = r.teacher_mean_score if side == "teacher" else r.student_mean_score
                col.markdown(markdown(":small[{score} mean score · n={n}]", score=percent(score),
                                      n=n))
            else:
                rate = r.teacher_pass_rate if side == "teacher" else r.student_pass_rate
                ci = r.teacher_ci if side == "teacher" else r.student_ci
                col.markdown(markdown(":small[{rate} {ci} · n={n}]", rate=percent(rate),
                                      ci=ci_percent(ci), n=n))
        mdd = detectable_text(r.min_detectable_drop, r.verdict)
        row[3].markdown(markdown(":small[{drop} {ci}{design} · {mdd}]", drop=percent(r.drop),
                                 ci=ci_percent(r.drop_ci),
                                 design=f" · {design_text(r)}" if r.design else "", mdd=mdd))
        row[4].markdown(markdown(":small[**{verdict}**{rest}]", verdict=r.verdict, rest=(
            f" · p at tolerance {p_text(r.p_value)}, adjusted {p_text(r.p_adjusted)}"
            if r.p_value is not None else "") + (
            f" · {r.verdict_unadjusted} before the correction" if r.changed_by_correction
            else "") + (f" · {r.held_back}" if r.held_back else "") + (
            f" · ≈{r.n_to_settle:,} {r.settle_unit} would settle it" if r.n_to_settle else "")))
        # the label is the checkbox's accessible name too: an ordinary id reads as itself
        row[5].checkbox(markdown("consent to lose {cap}", cap=word(c.id)),
                        key=wkey(source, "consent", c.id), label_visibility="collapsed")
    table = [rets[c.id] for c in ev.scenario.capabilities]
    change = changes_line(table)
    st.caption(markdown("{statement}{change} Pass rates with Wilson 95% intervals. Tick 'lose?' "
                        "to consent to losing a capability.", statement=verdict_statement(table),
                        change=f" {change}." if change else ""),
               help=markdown(MDD_HELP))
    consent = res.consent
    idle = idle_consents(ev.scenario.tiers[[t.id for t in ev.scenario.tiers].index(tier)],
                         consent, res.retained)
    if idle:
        reasons = sorted(set(idle.values()))
        say(st.info, "**Ticking {caps} changes no figure on this tier**: {reasons}.",
            caps=", ".join(idle), reasons="; ".join(reasons))
    rows = retention_records([rets[c.id] for c in ev.scenario.capabilities], consent)
    st.vega_lite_chart(with_data(retention_spec(), retention=rows), width="stretch",
                       height=60 + 30 * len(rows), key=wkey(source, "retention_chart", tier))
    say(st.caption, "Tier {tier}: each capability's drop with its 95% interval against its "
        "tolerance (black tick), coloured by verdict; a diamond marks a capability the tier "
        "consents to lose.", tier=code(tier))


def _tier_col(col: str, title: str, help_text: str | None = None) -> tuple[str, Spec]:
    """A column of the tier-pricing table: the kind the exports give it, a shorter title."""
    return col, (title, COLUMNS[col][1], help_text)


# the tier table as shown: plain-word headers, floor and margin first; what fits 1280 px
# without sideways scroll, the rest under "More columns"
TIER_TABLE: dict[str, Spec] = dict([
    _tier_col("tier", "Tier"),
    _tier_col("price_usd_month", "Price (USD/mo)"),
    _tier_col("price_floor_usd_month", "Floor (USD/mo)",
              "lowest monthly price that meets the target margin; none for a free tier (no "
              "price, no card fees)"),
    _tier_col("price_floor_carrying_free_users_usd_month", "Floor with free users",
              "USD/month: the floor when the free tiers' cost is spread over the paying users"),
    _tier_col("gross_margin_at_price", "Margin", "gross margin at the price"),
    _tier_col("target_gross_margin", "Target", "target gross margin"),
    _tier_col("cost_per_user_month_usd", "Cost per user (USD/mo)"),
    _tier_col("capability_loss_usd_month", "Loss (USD/mo)",
              "expected cost of failed conversations a month"),
])
TIER_DETAILS: dict[str, Spec] = dict([
    _tier_col("tier", "Tier"),
    _tier_col("cost_per_conversation_usd", "Cost per conv. (USD)"),
    _tier_col("conversations_per_user_month", "Conv. per user a month"),
    _tier_col("subsidy_usd_month", "Free-tier subsidy (USD/mo)"),
    _tier_col("plan", "Plan"),
    _tier_col("teacher", "Teacher"),
    _tier_col("consent", "Consents to lose"),
    _tier_col("unmeasured_traffic_share", "Unmeasured",
              "share of the tier's conversations a model other than its teacher serves on "
              "capabilities with no eval results"),
    _tier_col("underpowered_traffic_share", "Underpowered",
              "share of the tier's conversations a model other than its teacher serves on "
              "undecided capabilities whose eval slice cannot detect a drop as large as the "
              "tolerance"),
    _tier_col("uncategorised_traffic_share", "Uncategorised",
              "share of the tier's conversations no capability claims that a model other than "
              "its teacher serves"),
])

PAYBACK_TABLE: dict[str, Spec] = {
    "tier": ("Tier", "text", None),
    "baseline": ("Baseline", "text", "the best plan without distillation: same consent set and "
                 "routing, every undistilled model tried, by cost plus capability loss"),
    "gross_savings_usd_month": ("Savings (USD/mo)", "money", "gross savings a month"),
    "added_loss_usd_month": ("Added loss (USD/mo)", "money",
                             "capability loss the plan adds (negative: it removes loss)"),
    "net_of_loss_savings_usd_month": ("Net of loss (USD/mo)", "money", None),
    "cash_payback": ("Cash payback", "text", "one-off cost ÷ gross savings"),
    "net_of_loss_payback": ("Net of loss", "text", "payback: one-off cost ÷ savings net of "
                            "capability loss"),
}


def detectable_text(mdd: float | None, verdict: str) -> str:
    """The smallest drop an eval slice can detect, in words (never "detectable ≥ none")."""
    if verdict == "unmeasured":
        return "not measured"
    if mdd is None:
        return "too few examples to detect any drop"
    return f"detectable ≥ {percent(mdd)}"


UNDERPOWERED_HELP = ("Underpowered: the eval slice is too small to detect a drop as large as the "
                     "capability's tolerance (its smallest detectable drop, MDD, is larger), so "
                     "'no significant drop' says little. Share of the tier's conversations a "
                     "model other than its teacher serves on such capabilities.")
VERDICT_HELP = ("retained: the drop's interval lies within the tolerance; lost: the drop is "
                "significant and beyond it; inconclusive: neither; underpowered: the slice is too "
                "small to detect a drop the size of the tolerance; unmeasured: no eval results. "
                "'n≈… would settle it' is the slice size that would.")
MDD_HELP = ("Smallest detectable drop (MDD): the smallest fall in pass rate the eval slice would "
            "show as significant (two-sided test at α = 0.05) 80% of the time. 'detectable ≥ "
            "3.0%' means a smaller drop could go unseen.")


def tiers_panel(source: str, ev: Evaluation) -> None:
    st.subheader("Tiers at this consent set")
    models = list(ev.scenario.models)
    for t, res in zip(ev.scenario.tiers, ev.tiers, strict=True):
        e = res.economics
        cols = st.columns([1.6, 1.2, 1.2, 1.2])
        with cols[0].container(key=f"floor-{t.id}"):
            below = priced_below_floor(e.price_usd_month, e.price_floor_usd_month)
            if e.price_floor_usd_month is None:  # free: no floor, no card fees
                label = "" if "free" in t.id.lower() else " (free tier)"
                say(st.markdown, "**{tier}**{label} · cost per user **{cost} USD/month**  \n"
                    "subsidy it needs from the paid tiers {subsidy}/month", tier=t.id,
                    label=label, cost=money(e.cost_per_user_month_usd),
                    subsidy=number(res.subsidy_usd_month, 0, "USD"))
            else:
                carrying = res.price_floor_carrying_free_users_usd_month
                st.markdown(
                    markdown("**{tier}** · price floor **{floor} USD/month** standalone, "
                             "{carrying}/month carrying free users  \nmargin at price {margin} "
                             "(target {target})", tier=t.id, floor=money(e.price_floor_usd_month),
                             carrying=number(carrying, 2, "USD"),
                             margin=percent(e.gross_margin_at_price),
                             target=percent(e.target_gross_margin))
                    + (markdown("  \n:red[**price {price} is below the floor** by {gap} "
                                "USD/month]", price=money(e.price_usd_month),
                                gap=money(e.price_floor_usd_month - e.price_usd_month))
                       if below else ""))
        cols[1].number_input("price (USD/month)", min_value=0.0, step=1.0,
                             key=wkey(source, "price", t.id))
        cols[2].selectbox("model", models, key=wkey(source, "model", t.id))
        cols[3].selectbox("route unconsented capabilities to", [NO_ROUTE, *models],
                          key=wkey(source, "route", t.id))
    table = tier_pricing_table(ev)
    show_table(table, TIER_TABLE, key=wkey(source, "tier_table"))
    with st.expander("More columns: cost per conversation, plan, teacher, consent"):
        show_table(table, TIER_DETAILS, key=wkey(source, "tier_details"))
    st.markdown("**Consent matrix**: what each tier consents to lose, and what its plan risks "
                "without consent (verdicts of the serving model against the tier's teacher)")
    matrix = consent_matrix(ev)
    show_table(matrix, {c: ("Capability" if c == "capability" else str(c), "text", None)
                        for c in matrix.columns})
    st.caption(markdown("{statement}", statement=tier_verdicts_statement(ev.scenario.multiplicity)))
    say(st.markdown, "**Candidates** (verdicts against the reference teacher {teacher}; floors "
        "if a tier were served by the model alone)", teacher=code(ev.scenario.teacher_id))
    cands, columns = candidates_frame(ev), columns_of(candidate_columns(ev))
    detail = [c for c in columns if c.startswith("verdict_") or c.endswith("_per_conversation")
              or c == "retention_against"]
    main = {c: s for c, s in columns.items() if c not in detail}
    main["cost_per_conversation_usd"] = ("Cost/conv. (USD)", "unit_cost",
                                         "cost per conversation in USD")
    for end, title in (("low_90", "90% low"), ("high_90", "90% high")):
        if f"cost_per_conversation_usd_{end}" in main:
            main[f"cost_per_conversation_usd_{end}"] = (
                title, "unit_cost", f"cost per conversation, 90% interval {end[:-3]} (USD; "
                "self-hosted GPU time)")
    for t in ev.scenario.tiers:  # short titles, the long ones as help: the table fits 1280 px
        main[f"floor_{t.id}_usd_month"] = (f"Floor: {t.id}", "money", markdown(
            "USD/month: the price floor if tier {tier} ran on this model alone", tier=t.id))
        if f"cost_per_user_{t.id}_usd_month" in main:
            main[f"cost_per_user_{t.id}_usd_month"] = (f"Per user: {t.id}", "money", markdown(
                "USD/month: the cost per user if the free tier {tier} ran on this model alone",
                tier=t.id))
    show_table(cands, main)
    with st.expander("Verdicts per capability (and tokens per conversation) of each candidate"):
        show_table(cands, {"model": columns["model"]} | {c: columns[c] for c in detail})
    st.caption(markdown("{statement}", statement=candidates_statement(ev)))
    b = ev.blend
    say(st.caption, "Blended gross margin {margin}; each paying user's gross profit carries "
        "{carried} free users.", margin=percent(b.blended_gross_margin),
        carried=f"{b.free_users_carried_per_paying_user or 0:,.1f}")
    pb = payback(ev)
    if pb is not None:
        cash = payback_text(pb.cash_payback_months, pb.cash_payback_never_because)
        net = payback_text(pb.net_of_loss_payback_months, pb.net_of_loss_payback_never_because)
        with st.container(key="payback"):
            say(st.markdown,
                "**Distillation of {models}**: one-off {one_off} ({distillations}). Against each "
                "tier's best plan without it (same consent set and routing, every undistilled "
                "model tried, by cost plus capability loss) the plans save {gross}/month gross, "
                "{loss_change}, net of loss {net_savings}/month.  \n**Cash** (one-off ÷ gross "
                "savings): {cash}; 12-month cash {cash_12}.  \n**Net of capability loss**: "
                "{net}; 12-month net of loss {net_12}.",
                models=", ".join(pb.distilled_models), one_off=number(pb.one_off_usd, 0, "USD"),
                distillations=distillations_text(pb),
                gross=number(pb.gross_savings_usd_month, 0, "USD"),
                loss_change=loss_change_text(pb.added_loss_usd_month),
                net_savings=number(pb.net_of_loss_savings_usd_month, 0, "USD"), cash=cash,
                cash_12=number(pb.cash_12_months_usd, 0, "USD"), net=net,
                net_12=number(pb.net_of_loss_12_months_usd, 0, "USD"))
            show_table(payback_frame(pb), PAYBACK_TABLE, widths={"baseline": "medium"})
            for line in payback_reasons(pb):
                say(st.caption, "{line}", line=line)
            st.caption("Per tier, paybacks as if the tier alone carried the one-off cost.")
