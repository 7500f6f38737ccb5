"""Headline metrics, the consent table and the tier panel."""

from __future__ import annotations

import streamlit as st

from econ.app.state import NO_ROUTE, show_tier_consent, wkey
from econ.base.formatting import ci_percent, number, percent
from econ.decisions.payback import payback
from econ.model.evaluate import Evaluation
from econ.outputs.consent_matrix import consent_matrix
from econ.outputs.export import candidate_columns, candidates_frame, tier_pricing_table
from econ.outputs.headline import share_percent
from econ.outputs.record import priced_below_floor
from econ.outputs.report import BLEND, headline, payback_frame, payback_text

__all__ = ["consent_table", "headline_metrics", "tiers_panel"]


def headline_metrics(source: str, ev: Evaluation) -> None:
    """The headline of the tier picked in the consent tab: its teacher against the plan it
    serves, and the traffic its evals cannot speak for."""
    tier = st.session_state.get(wkey(source, "ctier"))
    if tier not in {t.economics.tier for t in ev.tiers}:
        tier = ev.tiers[min(1, len(ev.tiers) - 1)].economics.tier
    h = headline(ev, tier)
    st.markdown(f"**Tier `{h.tier}`**: teacher `{h.teacher}`; plan `{h.served_text}` "
                "(pick the tier under *Consent set of tier*)")
    cols = [c for _ in range(2) for c in st.columns(3)]  # two rows: values never truncated
    cols[0].metric("Teacher (USD/conv.)", f"{h.teacher_cost_per_conversation_usd:.4g}",
                   help=f"`{h.teacher}` alone, traffic-weighted over capabilities")
    cols[1].metric("Tier's plan (USD/conv.)", f"{h.plan_cost_per_conversation_usd:.4g}",
                   help=f"`{h.served_text}`, traffic-weighted, router included")
    cols[2].metric("Teacher ÷ plan cost", "—" if h.teacher_to_plan_cost_ratio is None
                   else f"{h.teacher_to_plan_cost_ratio:,.1f}×")
    cols[3].metric("Tier's serving cost (USD/month)", f"{h.cost_usd_month:,.0f}",
                   help=f"{h.conversations_month:,.0f} conversations a month in tier {h.tier}")
    cols[4].metric("Unmeasured traffic", share_percent(h.unmeasured_traffic_share),
                   help="share of the tier's conversations a model other than its teacher "
                   "serves on capabilities with no eval results")
    cols[5].metric("Underpowered traffic", share_percent(h.underpowered_traffic_share),
                   help="share of the tier's conversations a model other than its teacher "
                   "serves on capabilities whose eval slice cannot detect a drop as large as "
                   "its tolerance")
    if h.unmeasured_traffic_share > 0:
        caps = ", ".join(h.unmeasured_capabilities)
        st.warning(f"**{share_percent(h.unmeasured_traffic_share)} of tier {h.tier}'s "
                   f"conversations are unmeasured**: served by `{h.served_text}` with no eval "
                   f"results against `{h.teacher}` on {caps}. Their loss is counted at the "
                   "pessimistic end of the prior.")
    for w in ev.warnings:
        model, _, rest = w.partition(": ")
        advice = ("Check the replica's figures against the runs (econ fit shows each run's "
                  "residual)." if "misses its own run" in rest else "Add a benchmark run at "
                  "that context (econ fit shows what the runs cover).")
        st.warning(f"**GPU cost of `{model}` is extrapolated**: {rest}. {advice}")
    if h.uncategorised_traffic_share > 0:
        st.info(f"**{share_percent(h.uncategorised_traffic_share)} of tier {h.tier}'s "
                "conversations are uncategorised** and served by a model other than its "
                "teacher: the capabilities' traffic shares sum to less than 100%, so this "
                "traffic is costed with the conversation shape but no capability, and no eval "
                "speaks for it.")
    if h.underpowered_traffic_share > 0:
        st.info(f"{share_percent(h.underpowered_traffic_share)} of tier {h.tier}'s conversations "
                "are served by a model other than its teacher on capabilities whose eval slice "
                "cannot detect a drop as large as its tolerance: "
                f"{', '.join(h.underpowered_capabilities)}.")
    cov = ev.coverage
    st.caption(f"All tiers ({BLEND}): {share_percent(cov.unmeasured_traffic_share)} "
               f"unmeasured, {share_percent(cov.underpowered_traffic_share)} underpowered, "
               f"{share_percent(cov.uncategorised_traffic_share)} uncategorised traffic on "
               "models other than the tier's teacher.")


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
    st.caption(f"Tier `{tier}`: student `{student}` against its teacher `{res.teacher}`.")
    head = st.columns(_GRID, gap="xsmall")
    for col, text in zip(head, ["capability · traffic share · severity", "teacher pass rate",
                                "student pass rate", "drop · smallest detectable",
                                "verdict", "lose?"], strict=True):
        col.markdown(f":small[**{text}**]")
    for c in ev.scenario.capabilities:
        r = rets[c.id]
        row = st.columns(_GRID, gap="xsmall")
        row[0].markdown(f"`{breakable(c.id)}`" + (" · load-bearing" if c.load_bearing else "")
                        + f"  \n:small[{percent(c.traffic_share)} of traffic · "
                        f"{c.severity_usd:,.2f} USD per failure]")
        row[1].markdown(f":small[{percent(r.teacher_pass_rate)} {ci_percent(r.teacher_ci)} · "
                        f"n={r.n_teacher}]")
        row[2].markdown(f":small[{percent(r.student_pass_rate)} {ci_percent(r.student_ci)} · "
                        f"n={r.n_student}]")
        mdd = "none" if r.min_detectable_drop is None else percent(r.min_detectable_drop)
        row[3].markdown(f":small[{percent(r.drop)} {ci_percent(r.drop_ci)}"
                        + (f" · {r.pairing}" if r.pairing else "")
                        + (f", decided {r.decided_by}" if r.decided_by else "")
                        + f" · detectable ≥ {mdd}]")
        row[4].markdown(f":small[**{r.verdict}**" + (f" (n≈{r.n_to_settle:,} would settle it)"
                                                     if r.n_to_settle else "") + "]")
        row[5].checkbox(f"consent to lose {c.id}", key=wkey(source, "consent", c.id),
                        label_visibility="collapsed")
    st.caption("Pass rates and drops with 95% intervals (Wilson; Newcombe for the drop, paired "
               "when example ids match); 'detectable' is the smallest drop the slice can show "
               "at α = 0.05 with 80% power. Tick 'lose?' to consent to losing a capability.")


_num = st.column_config.NumberColumn
_text = st.column_config.TextColumn
# the tier table as shown: plain-word headers, floor and margin first, no horizontal scroll
TIER_TABLE = {
    "tier": _text("Tier", width="small"),
    "price_usd_month": _num("Price (USD/mo)", format="%.2f"),
    "price_floor_usd_month": _num("Floor (USD/mo)", format="%.2f",
                                  help="lowest monthly price that meets the target margin; "
                                  "none for a free tier (no price, no card fees)"),
    "price_floor_carrying_free_users_usd_month": _num(
        "Floor with free users (USD/mo)", format="%.2f",
        help="the floor when the free tiers' cost is spread over the paying users"),
    "subsidy_usd_month": _num("Free-tier subsidy (USD/mo)", format="%.0f"),
    "gross_margin_at_price": _num("Margin", format="percent", help="gross margin at the price"),
    "target_gross_margin": _num("Target", format="percent", help="target gross margin"),
    "cost_per_user_month_usd": _num("Cost per user (USD/mo)", format="%.2f"),
    "capability_loss_usd_month": _num("Loss (USD/mo)", format="%.0f",
                                      help="expected cost of failed conversations a month"),
    "cost_per_conversation_usd": _num("Cost per conv. (USD)", format="%.5f"),
    "conversations_per_user_month": _num("Conv. per user a month", format="%.0f"),
    "plan": _text("Plan", width="medium"),
    "teacher": _text("Teacher", width="small"),
    "consent": _text("Consents to lose", width="medium"),
    "unmeasured_traffic_share": _num(
        "Unmeasured", format="percent", help="share of the tier's conversations a model other "
        "than its teacher serves on capabilities with no eval results"),
    "underpowered_traffic_share": _num(
        "Underpowered", format="percent", help="share of the tier's conversations a model other "
        "than its teacher serves on undecided capabilities whose eval slice cannot detect a "
        "drop as large as the tolerance"),
    "uncategorised_traffic_share": _num(
        "Uncategorised", format="percent", help="share of the tier's conversations no "
        "capability claims that a model other than its teacher serves"),
}


PAYBACK_TABLE = {
    "tier": _text("Tier", width="small"),
    "baseline": _text("Baseline (best plan without distillation)", width="large"),
    "gross_savings_usd_month": _num("Gross savings (USD/mo)", format="%.0f"),
    "added_loss_usd_month": _num("Added loss (USD/mo)", format="%.0f"),
    "net_of_loss_savings_usd_month": _num("Net of loss (USD/mo)", format="%.0f"),
    "cash_payback": _text("Cash payback"),
    "net_of_loss_payback": _text("Net-of-loss payback"),
}


def tiers_panel(source: str, ev: Evaluation) -> None:
    st.subheader("Tiers at this consent set")
    models = list(ev.scenario.models)
    for t, res in zip(ev.scenario.tiers, ev.tiers, strict=True):
        e = res.economics
        cols = st.columns([1.6, 1.2, 1.2, 1.2])
        with cols[0].container(key=f"floor-{t.id}"):
            below = priced_below_floor(e.price_usd_month, e.price_floor_usd_month)
            if e.price_floor_usd_month is None:  # free: no floor, no card fees
                st.markdown(f"**{t.id}** (free) · cost per user **"
                            f"{e.cost_per_user_month_usd:,.2f} USD/month**  \n"
                            f"subsidy it needs from the paid tiers "
                            f"{number(res.subsidy_usd_month, 0, 'USD')}/month")
            else:
                carrying = res.price_floor_carrying_free_users_usd_month
                st.markdown(
                    f"**{t.id}** · price floor **{e.price_floor_usd_month:,.2f} USD/month** "
                    f"standalone, {number(carrying, 2, 'USD')}/month carrying free users  \n"
                    f"margin at price {percent(e.gross_margin_at_price)} (target "
                    f"{percent(e.target_gross_margin, 0)})"
                    + (f"  \n:red[**price {e.price_usd_month:,.2f} is below the floor** by "
                       f"{e.price_floor_usd_month - e.price_usd_month:,.2f} USD/month]"
                       if below else ""))
        cols[1].number_input("price (USD/month)", min_value=0.0, step=1.0,
                             key=wkey(source, "price", t.id))
        cols[2].selectbox("model", models, key=wkey(source, "model", t.id))
        cols[3].selectbox("route unconsented capabilities to", [NO_ROUTE, *models],
                          key=wkey(source, "route", t.id))
    table = tier_pricing_table(ev)
    st.dataframe(table, hide_index=True, width="stretch", column_order=list(TIER_TABLE),
                 column_config=TIER_TABLE)
    st.markdown("**Consent matrix**: what each tier consents to lose, and what its plan risks "
                "without consent (verdicts of the serving model against the tier's teacher)")
    matrix = consent_matrix(ev)
    st.dataframe(matrix, hide_index=True, width="stretch", column_config={
        "capability": st.column_config.TextColumn("Capability")})
    st.markdown(f"**Candidates** (verdicts against the reference teacher "
                f"`{ev.scenario.teacher_id}`; floors if a tier were served by the model alone)")
    columns = candidate_columns(ev)
    st.dataframe(candidates_frame(ev), hide_index=True, width="stretch",
                 column_order=list(columns), column_config={
                     col: (st.column_config.NumberColumn(title, format="%.2f") if kind == "money"
                           else st.column_config.NumberColumn(title, format="%.6f")
                           if kind == "unit_cost"
                           else st.column_config.NumberColumn(title, format="%.0f")
                           if kind == "count" else st.column_config.TextColumn(title))
                     for col, (title, kind) in columns.items()})
    b = ev.blend
    st.caption(f"Blended gross margin {percent(b.blended_gross_margin)}; each paying user's gross "
               f"profit carries {b.free_users_carried_per_paying_user or 0:,.1f} free users.")
    pb = payback(ev)
    if pb is not None:
        cash = payback_text(pb.cash_payback_months, pb.cash_payback_never_because)
        net = payback_text(pb.net_of_loss_payback_months, pb.net_of_loss_payback_never_because)
        with st.container(key="payback"):
            st.markdown(
                f"**Distillation of {', '.join(pb.distilled_models)}**: one-off "
                f"{number(pb.one_off_usd, 0, 'USD')} ({pb.distillations_per_year} a year). "
                "Against each tier's best plan without it (same consent set and routing, every "
                "undistilled model tried, by cost plus capability loss) the plans save "
                f"{number(pb.gross_savings_usd_month, 0, 'USD')}/month gross, add "
                f"{number(pb.added_loss_usd_month, 0, 'USD')}/month of capability loss, net of "
                f"loss {number(pb.net_of_loss_savings_usd_month, 0, 'USD')}/month.  \n"
                f"**Cash** (one-off ÷ gross savings): {cash}; "
                f"12-month cash {number(pb.cash_12_months_usd, 0, 'USD')}.  \n"
                f"**Net of capability loss**: {net}; 12-month net of loss "
                f"{number(pb.net_of_loss_12_months_usd, 0, 'USD')}.")
            st.dataframe(payback_frame(pb), hide_index=True, width="stretch",
                         column_config=PAYBACK_TABLE)
            st.caption("Per tier, paybacks as if the tier alone carried the one-off cost.")
