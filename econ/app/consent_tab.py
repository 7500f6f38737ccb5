"""Headline metrics, the consent table and the tier panel."""

from __future__ import annotations

import streamlit as st

from econ.app.state import NO_ROUTE, show_tier_consent, wkey
from econ.base.formatting import ci_percent, percent
from econ.model.evaluate import Evaluation
from econ.outputs.export import candidates_frame, tier_pricing_table
from econ.outputs.report import headline

__all__ = ["consent_table", "headline_metrics", "tiers_panel"]


def headline_metrics(ev: Evaluation) -> None:
    h = headline(ev)
    cols = st.columns(6)
    cols[0].metric("Teacher (USD/conv.)", f"{h.teacher_cost_per_conversation_usd:.4g}",
                   help=f"model `{h.teacher}`, traffic-weighted over capabilities")
    cols[1].metric("Student (USD/conv.)", f"{h.student_cost_per_conversation_usd:.4g}",
                   help=f"model `{h.student}`, traffic-weighted over capabilities")
    cols[2].metric("Teacher ÷ student cost", "—" if h.teacher_to_student_cost_ratio is None
                   else f"{h.teacher_to_student_cost_ratio:,.0f}×")
    cols[3].metric("Cost (USD/month)", f"{h.cost_usd_month:,.0f}",
                   help=f"{h.conversations_month:,.0f} conversations a month across tiers")
    cols[4].metric("Unmeasured traffic", percent(h.unmeasured_traffic_share))
    cols[5].metric("Underpowered traffic", percent(h.underpowered_traffic_share))
    cov = ev.coverage
    if h.unmeasured_traffic_share > 0:
        st.warning(f"**{percent(h.unmeasured_traffic_share)} of conversations are unmeasured**: "
                   "no "
                   f"eval results for the teacher or the student on "
                   f"{', '.join(cov.unmeasured_capabilities)}. Their loss is counted at the "
                   "pessimistic end of the prior.")
    if h.underpowered_traffic_share > 0:
        st.info(f"{percent(h.underpowered_traffic_share)} of conversations are in capabilities "
                "whose "
                f"eval slice cannot detect a drop as large as its tolerance: "
                f"{', '.join(cov.underpowered_capabilities)}.")


_GRID = [2.2, 0.9, 0.9, 1.5, 1.5, 1.5, 0.9, 1.6, 0.8]


def consent_table(source: str, ev: Evaluation) -> None:
    st.subheader("Capabilities: what the student keeps, and what you consent to lose")
    caps = [c.id for c in ev.scenario.capabilities]
    tier = st.selectbox("Consent set of tier (the ticks act on this tier only)",
                        [t.id for t in ev.scenario.tiers], key=wkey(source, "ctier"),
                        on_change=show_tier_consent, args=(source, caps))
    head = st.columns(_GRID)
    for col, text in zip(head, ["capability", "traffic share", "severity (USD/failure)",
                                "teacher pass rate (95% CI)", "student pass rate (95% CI)",
                                "drop (95% CI)", "min. detectable drop", "verdict",
                                "consent to lose"], strict=True):
        col.markdown(f"**{text}**")
    res = ev.tier(tier)
    student = next((m for m in res.assignment.models if m != res.teacher),
                   ev.scenario.student_id)
    rets = {r.capability: r for r in ev.retention_against(res.teacher, student)}
    st.caption(f"Tier `{tier}`: student `{student}` against its teacher `{res.teacher}`.")
    for c in ev.scenario.capabilities:
        r = rets[c.id]
        row = st.columns(_GRID)
        row[0].markdown(f"`{c.id}`" + (" · load-bearing" if c.load_bearing else ""))
        row[1].markdown(percent(c.traffic_share))
        row[2].markdown(f"{c.severity_usd:,.2f}")
        row[3].markdown(f"{percent(r.teacher_pass_rate)} {ci_percent(r.teacher_ci)} · "
                        f"n={r.n_teacher}")
        row[4].markdown(f"{percent(r.student_pass_rate)} {ci_percent(r.student_ci)} · "
                        f"n={r.n_student}")
        row[5].markdown(f"{percent(r.drop)} {ci_percent(r.drop_ci)}"
                        + (f" · {r.pairing}" if r.pairing else "")
                        + (f", decided {r.decided_by}" if r.decided_by else ""))
        row[6].markdown("none" if r.min_detectable_drop is None
                        else percent(r.min_detectable_drop))
        row[7].markdown(f"**{r.verdict}**" + (f" (n≈{r.n_to_settle:,} would settle it)"
                                              if r.n_to_settle else ""))
        row[8].checkbox(f"consent to lose {c.id}", key=wkey(source, "consent", c.id),
                        label_visibility="collapsed")


def tiers_panel(source: str, ev: Evaluation) -> None:
    st.subheader("Tiers at this consent set")
    models = list(ev.scenario.models)
    for t, res in zip(ev.scenario.tiers, ev.tiers, strict=True):
        e = res.economics
        cols = st.columns([1.6, 1.2, 1.2, 1.2])
        with cols[0].container(key=f"floor-{t.id}"):
            st.markdown(f"**{t.id}** · price floor **{e.price_floor_usd_month:,.2f} USD/month**  \n"
                        f"margin at price {percent(e.gross_margin_at_price)} (target "
                        f"{percent(e.target_gross_margin, 0)})")
        cols[1].number_input("price (USD/month)", min_value=0.0, step=1.0,
                             key=wkey(source, "price", t.id))
        cols[2].selectbox("model", models, key=wkey(source, "model", t.id))
        cols[3].selectbox("route unconsented capabilities to", [NO_ROUTE, *models],
                          key=wkey(source, "route", t.id))
    table = tier_pricing_table(ev)
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "price_usd_month": st.column_config.NumberColumn("price (USD/mo)", format="%.2f"),
        "cost_per_conversation_usd": st.column_config.NumberColumn("cost/conv (USD)",
                                                                   format="%.5f"),
        "conversations_per_user_month": st.column_config.NumberColumn("conv/user/mo"),
        "cost_per_user_month_usd": st.column_config.NumberColumn("cost/user (USD/mo)",
                                                                 format="%.2f"),
        "target_gross_margin": st.column_config.NumberColumn("target margin", format="percent"),
        "price_floor_usd_month": st.column_config.NumberColumn("price floor (USD/mo)",
                                                               format="%.2f"),
        "gross_margin_at_price": st.column_config.NumberColumn("margin at price",
                                                               format="percent"),
        "capability_loss_usd_month": st.column_config.NumberColumn("capability loss (USD/mo)",
                                                                   format="%.0f"),
    })
    st.markdown(f"**Candidates** (verdicts against the reference teacher "
                f"`{ev.scenario.teacher_id}`; floors if a tier were served by the model alone)")
    st.dataframe(candidates_frame(ev), hide_index=True, width="stretch",
                 key=wkey(source, "candidates"))
    b = ev.blend
    st.caption(f"Blended gross margin {percent(b.blended_gross_margin)}; each paying user's gross "
               f"profit carries {b.free_users_carried_per_paying_user or 0:,.1f} free users.")
