"""econ planning-session app: tick the capabilities you consent to lose, watch every price floor.

    streamlit run app.py

Thin by design: widgets → scenario edits → econ calls → render. Every figure comes from econ,
the same functions the CLI calls.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from econ.charts import frontier_spec, interval_spec, tornado_spec, with_data
from econ.edits import Edits, TierEdit, apply_to_scenario, apply_to_yaml
from econ.errors import EconError, ScenarioError
from econ.evaluate import Evaluation, evaluate
from econ.export import EXPORT_FORMATS, export_bytes, tier_pricing_table
from econ.formatting import ci_percent, number, percent
from econ.frontier import Frontier, consent_point, tier_frontier
from econ.gitrev import NotARepository, file_at_revision
from econ.loader import Loaded, parse_scenario
from econ.report import headline
from econ.scenario import Scenario
from econ.scenario_diff import diff_against, headline_outputs
from econ.scenario_store import (
    list_scenarios,
    safe_scenario_path,
    save_scenario_text,
    unified_diff,
)
from econ.sensitivity import sensitivity, tornado
from econ.uncertainty import floor_intervals, simulate

ROOT = Path(__file__).resolve().parent
SCENARIOS = Path(os.environ.get("ECON_SCENARIOS", ROOT / "scenarios")).resolve()
DEFAULT_SCENARIO = "frontier-vs-distilled.yaml"
MAX_UPLOAD_BYTES = 256 * 1024
NO_ROUTE = "(no routing)"
MIME = {"csv": "text/csv", "md": "text/markdown", "json": "application/json",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

st.set_page_config(page_title="econ: what to lose at which price floor", layout="wide")


# ---- loading -------------------------------------------------------------------------------

@st.cache_resource(max_entries=32, show_spinner=False)
def _parse(text: str, name: str, folder: str) -> Loaded | list[str]:
    """Validated scenario, or its problems as FILE:LINE: field: message lines."""
    try:
        return parse_scenario(text, name, base_dir=Path(folder))
    except ScenarioError as exc:
        return str(exc).splitlines()


def _select_source() -> tuple[str, str, bool]:
    """The scenario to work on: (file name, text as loaded, came from the scenarios folder)."""
    names = [p.name for p in list_scenarios(SCENARIOS)]
    ss = st.session_state
    with st.sidebar:
        st.header("Scenario")
        index = names.index(DEFAULT_SCENARIO) if DEFAULT_SCENARIO in names else 0
        name = st.selectbox("Scenario file in scenarios/", names, index=index, key="pick")
        upload = st.file_uploader("…or upload a scenario (YAML, at most 256 KB)",
                                  type=["yaml", "yml"], key="upload")
        st.button("Reload from disk", on_click=_reload, help="Discard the loaded copy and read "
                  "the file again (edits in the widgets are kept).")
    if upload is not None:
        data = upload.getvalue()
        if len(data) > MAX_UPLOAD_BYTES:
            st.sidebar.error(f"{upload.name}: {len(data):,} bytes; the limit is "
                             f"{MAX_UPLOAD_BYTES:,} bytes")
        else:
            try:
                return upload.name, data.decode("utf-8"), False
            except UnicodeDecodeError:
                st.sidebar.error(f"{upload.name}: not UTF-8 text")
    key = f"loaded|{name}"
    if key not in ss:
        ss[key] = (SCENARIOS / name).read_text(encoding="utf-8")
    return name, ss[key], True


def _reload() -> None:
    for k in [k for k in st.session_state if str(k).startswith("loaded|")]:
        del st.session_state[k]


# ---- edits held in widget state --------------------------------------------------------------

def _wkey(source: str, *parts: str) -> str:
    return "|".join(("w", source, *parts))


def _init_widgets(source: str, loaded: Loaded) -> None:
    ss = st.session_state
    s = loaded.scenario
    for c in s.capabilities:
        ss.setdefault(_wkey(source, "consent", c.id), c.id in s.consent)
    for t in s.tiers:
        ss.setdefault(_wkey(source, "price", t.id), float(t.price_usd_month))
        ss.setdefault(_wkey(source, "model", t.id), t.plan.model)
        ss.setdefault(_wkey(source, "route", t.id),
                      t.plan.route.to if t.plan.route else NO_ROUTE)


def _edits(source: str, loaded: Loaded) -> Edits:
    ss = st.session_state
    s = loaded.scenario
    consent = tuple(c.id for c in s.capabilities if ss[_wkey(source, "consent", c.id)])
    tiers = {}
    for t in s.tiers:
        route = ss[_wkey(source, "route", t.id)]
        tiers[t.id] = TierEdit(price_usd_month=ss[_wkey(source, "price", t.id)],
                               model=ss[_wkey(source, "model", t.id)],
                               route_to="" if route == NO_ROUTE else route)
    return Edits(consent=consent, tiers=tiers)


def _set_consent(source: str, capabilities: list[str], consent: tuple[str, ...]) -> None:
    for c in capabilities:
        st.session_state[_wkey(source, "consent", c)] = c in consent


def _adopt_from_chart(source: str, capabilities: list[str], chart_key: str) -> None:
    event = st.session_state.get(chart_key) or {}
    picked = (event.get("selection") or {}).get("pick") or []
    points = st.session_state.get(_wkey(source, "frontier_points"), [])
    if picked and "point" in picked[0] and 0 <= int(picked[0]["point"]) < len(points):
        _set_consent(source, capabilities, tuple(points[int(picked[0]["point"])]))


# ---- rendering -----------------------------------------------------------------------------

def _headline(ev: Evaluation) -> None:
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


def _consent_table(source: str, ev: Evaluation) -> None:
    st.subheader("Capabilities: what the student keeps, and what you consent to lose")
    head = st.columns(_GRID)
    for col, text in zip(head, ["capability", "traffic share", "severity (USD/failure)",
                                "teacher pass rate (95% CI)", "student pass rate (95% CI)",
                                "drop (95% CI)", "min. detectable drop", "verdict",
                                "consent to lose"], strict=True):
        col.markdown(f"**{text}**")
    for c in ev.scenario.capabilities:
        r = ev.retention_of(c.id)
        row = st.columns(_GRID)
        row[0].markdown(f"`{c.id}`" + (" · load-bearing" if c.load_bearing else ""))
        row[1].markdown(percent(c.traffic_share))
        row[2].markdown(f"{c.severity_usd:,.2f}")
        row[3].markdown(f"{percent(r.teacher_pass_rate)} {ci_percent(r.teacher_ci)} · "
                        f"n={r.n_teacher}")
        row[4].markdown(f"{percent(r.student_pass_rate)} {ci_percent(r.student_ci)} · "
                        f"n={r.n_student}")
        row[5].markdown(f"{percent(r.drop)} {ci_percent(r.drop_ci)}"
                        + (" paired" if r.n_paired else ""))
        row[6].markdown("none" if r.min_detectable_drop is None
                        else percent(r.min_detectable_drop))
        row[7].markdown(f"**{r.verdict}**" + (f" (n≈{r.n_to_settle:,} would settle it)"
                                              if r.n_to_settle else ""))
        row[8].checkbox(f"consent to lose {c.id}", key=_wkey(source, "consent", c.id),
                        label_visibility="collapsed")


def _tiers(source: str, ev: Evaluation) -> None:
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
                             key=_wkey(source, "price", t.id))
        cols[2].selectbox("model", models, key=_wkey(source, "model", t.id))
        cols[3].selectbox("route unconsented capabilities to", [NO_ROUTE, *models],
                          key=_wkey(source, "route", t.id))
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
    b = ev.blend
    st.caption(f"Blended gross margin {percent(b.blended_gross_margin)}; each paying user's gross "
               f"profit carries {b.free_users_carried_per_paying_user or 0:,.1f} free users.")


def _frontier_tab(source: str, ev: Evaluation) -> None:
    tiers = [t.id for t in ev.scenario.tiers]
    caps = [c.id for c in ev.scenario.capabilities]
    tier = st.selectbox("Tier", tiers, index=min(1, len(tiers) - 1), key=_wkey(source, "ftier"))
    front: Frontier = tier_frontier(ev, tier)
    st.session_state[_wkey(source, "frontier_points")] = [p.consent for p in front.points]
    here = consent_point(ev, tier, ev.consent)
    rows = [{"point": i, "price_floor_usd_month": p.price_floor_usd_month,
             "loss_usd_month": p.loss_usd_month, "consent": ", ".join(p.consent) or "(nothing)",
             "unmeasured": ", ".join(p.unmeasured)} for i, p in enumerate(front.points)]
    spec = with_data(frontier_spec(), frontier=rows, current=[
        {"price_floor_usd_month": here.price_floor_usd_month,
         "loss_usd_month": here.loss_usd_month}])
    chart_key = _wkey(source, "frontier_chart", tier)
    st.vega_lite_chart(spec, width="stretch", key=chart_key,
                       on_select=partial(_adopt_from_chart, source, caps, chart_key),
                       selection_mode="pick")
    st.caption(f"{len(front.points)} Pareto-optimal consent sets for tier {tier}. Orange "
               f"diamond: the current consent set (floor "
               f"{number(here.price_floor_usd_month, 2, 'USD')}/month, loss "
               f"{number(here.loss_usd_month, 0, 'USD')}/month). Red points consent to lose an "
               "unmeasured capability. Click a point to adopt its consent set.")
    labels = [f"{p.price_floor_usd_month:,.2f} USD/mo floor · {p.loss_usd_month:,.0f} USD/mo "
              f"loss · {', '.join(p.consent) or '(nothing)'}" for p in front.points]
    cols = st.columns([3, 1])
    chosen = cols[0].selectbox("Frontier point", range(len(labels)),
                               format_func=lambda i: labels[i], key=_wkey(source, "fpick", tier))
    cols[1].button("Adopt this consent set", key=_wkey(source, "fadopt", tier),
                   on_click=_set_consent, args=(source, caps, front.points[chosen].consent))
    target = st.number_input("Target price floor (USD/month): least loss that reaches it",
                             min_value=0.0, value=float(
                                 ev.tiers[tiers.index(tier)].economics.price_usd_month),
                             step=1.0, key=_wkey(source, "target", tier))
    best = front.least_loss_under_floor(target)
    if best is None:
        lowest = front.points[0].price_floor_usd_month
        st.error(f"No consent set brings tier {tier}'s floor to {number(target, 2, 'USD')}/month "
                 f"or below; the lowest floor is {number(lowest, 2, 'USD')}/month.")
    else:
        st.success(f"Least loss at a floor ≤ {number(target, 2, 'USD')}/month: consent to lose "
                   f"{', '.join(best.consent) or 'nothing'} → floor "
                   f"{number(best.price_floor_usd_month, 2, 'USD')}/month, loss "
                   f"{number(best.loss_usd_month, 0, 'USD')}/month.")
        st.button("Adopt it", key=_wkey(source, "tadopt", tier), on_click=_set_consent,
                  args=(source, caps, best.consent))


@st.cache_data(max_entries=64, show_spinner=False)
def _uncertainty(key: str, _ev: Evaluation, _loaded: Loaded, draws: int, seed: int,
                 swing: float) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    del key  # the cache key: the working scenario and the loaded text
    result = simulate(_ev, _loaded.measured, draws, seed)
    mc = pd.DataFrame(floor_intervals(result, _ev))
    rows = sensitivity(_ev, _loaded.measured, swing)
    tornados = {t.id: pd.DataFrame([{"input": r.input, "floor_at_low_usd_month":
                                     r.floor_at_low[t.id], "floor_at_high_usd_month":
                                     r.floor_at_high[t.id], "swing_usd_month": r.swing(t.id)}
                                    for r in tornado(rows, t.id)[:15]])
                for t in _ev.scenario.tiers}
    return mc, tornados


def _uncertainty_tab(source: str, ev: Evaluation, loaded: Loaded) -> None:
    cols = st.columns(3)
    draws = int(cols[0].number_input("Monte Carlo draws", 1000, 1_000_000, 20_000, 1000,
                                     key=_wkey(source, "draws")))
    seed = int(cols[1].number_input("seed", 0, 2**31 - 1, 0, key=_wkey(source, "seed")))
    swing = float(cols[2].number_input("sensitivity swing (±, fraction)", 0.01, 0.9, 0.2, 0.05,
                                       key=_wkey(source, "swing")))
    key = ev.scenario.model_dump_json() + loaded.text
    with st.spinner(f"Monte Carlo ({draws:,} draws) and sensitivity…"):
        mc, tornados = _uncertainty(key, ev, loaded, draws, seed, swing)
    st.vega_lite_chart(with_data(interval_spec(), floors=mc.to_dict("records")),
                       width="stretch", height=60 + 36 * len(mc))
    st.dataframe(mc, hide_index=True, width="stretch", column_order=[
        "tier", "floor_usd_month", "floor_p5_usd_month", "floor_p50_usd_month",
        "floor_p95_usd_month", "p_margin_meets_target"], column_config={
        "floor_p5_usd_month": st.column_config.NumberColumn("floor P5 (USD/mo)", format="%.2f"),
        "floor_p50_usd_month": st.column_config.NumberColumn("floor P50 (USD/mo)", format="%.2f"),
        "floor_p95_usd_month": st.column_config.NumberColumn("floor P95 (USD/mo)", format="%.2f"),
        "floor_usd_month": st.column_config.NumberColumn("floor (USD/mo)", format="%.2f"),
        "p_margin_meets_target": st.column_config.NumberColumn("P(margin ≥ target)",
                                                               format="percent"),
    })
    tier = st.selectbox("Tornado for tier", list(tornados), key=_wkey(source, "ttier"))
    data = tornados[tier]
    if data.empty:
        st.info("No input moves this tier's floor.")
        return
    st.vega_lite_chart(with_data(tornado_spec(), tornado=data.to_dict("records")),
                       width="stretch", height=60 + 24 * len(data))


def _export_and_save(source: str, ev: Evaluation, loaded: Loaded, edits: Edits,
                     from_folder: bool) -> None:
    st.subheader("Export the tier-pricing table")
    cols = st.columns(len(EXPORT_FORMATS))
    stem = Path(source).stem
    for col, fmt in zip(cols, EXPORT_FORMATS, strict=True):
        col.download_button(f"Download {fmt.upper()}", data=lambda f=fmt: export_bytes(ev, f),
                            file_name=f"{stem}-tiers.{fmt}", mime=MIME[fmt],
                            key=_wkey(source, "dl", fmt), on_click="ignore")
    st.subheader("Save the scenario")
    st.caption("Writes the consent set, tier prices and plans back into the YAML file, keeping "
               "its comments and layout; refuses if the file changed on disk since it was loaded.")
    name = source
    if not from_folder:
        name = st.text_input("Save as (a file name in scenarios/)", value=source,
                             key=_wkey(source, "saveas"))
    cols = st.columns(2)
    preview = cols[0].button("Preview changes", key=_wkey(source, "preview"))
    save = cols[1].button(f"Save to scenarios/{name}", key=_wkey(source, "save"), type="primary")
    if not (preview or save):
        return
    new_text = apply_to_yaml(loaded.text, loaded.scenario, edits)
    diff = unified_diff(loaded.text, new_text, name)
    if preview or (not diff and from_folder):
        st.code(diff or "No changes to save.", language="diff")
        return
    try:
        path = safe_scenario_path(SCENARIOS, name)
        save_scenario_text(SCENARIOS, path.name, new_text, loaded.text if from_folder else None)
    except EconError as exc:
        st.error(str(exc))
        return
    if from_folder:
        st.session_state[f"loaded|{name}"] = new_text
    st.success(f"Saved scenarios/{path.name}. The change:")
    st.code(diff or "(new file)", language="diff")


@st.cache_resource(max_entries=16, show_spinner=False)
def _at_revision(path: str, rev: str,
                 folder: str) -> tuple[Scenario, dict[str, tuple[str, float | None]]] | EconError:
    """The scenario at a git revision and its headline outputs, or what went wrong."""
    try:
        text = file_at_revision(path, rev)
        old = parse_scenario(text, f"{Path(path).name}@{rev}", base_dir=Path(folder))
    except EconError as exc:
        return exc
    return old.scenario, headline_outputs(evaluate(old.scenario, old.measured))


def _compare_tab(source: str, ev: Evaluation, from_folder: bool) -> None:
    if not from_folder:
        st.info("Comparing with a git revision needs a scenario from the scenarios folder.")
        return
    rev = st.text_input("Compare the current state (with your unsaved edits) with git revision",
                        value="HEAD", key=_wkey(source, "rev"))
    old = _at_revision(str(SCENARIOS / source), rev, str(SCENARIOS))
    if isinstance(old, NotARepository):
        st.info(f"{old} — there is no history to compare with.")
        return
    if isinstance(old, EconError):
        st.error(str(old))
        return
    d = diff_against(*old, ev)
    st.markdown(f"**Inputs changed since `{rev}`: {len(d.inputs)}**")
    if d.inputs:
        st.dataframe(pd.DataFrame([{"input": c.path, "old": str(c.old), "new": str(c.new)}
                                   for c in d.inputs]), hide_index=True, width="stretch")
    st.markdown(f"**Headline outputs moved: {len(d.outputs)}**")
    if d.outputs:
        st.dataframe(pd.DataFrame([{"output": o.name, "unit": o.unit, "old": o.old,
                                    "new": o.new, "change": o.change,
                                    "change (%)": o.change_pct} for o in d.outputs]),
                     hide_index=True, width="stretch")


def main() -> None:
    st.title("econ: which capabilities to lose, at which price floor")
    source, text, from_folder = _select_source()
    loaded = _parse(text, source, str(SCENARIOS))
    if not isinstance(loaded, Loaded):
        st.error("This scenario has problems:\n\n" + "\n".join(f"- `{p}`" for p in loaded))
        return
    _init_widgets(source, loaded)
    edits = _edits(source, loaded)
    try:
        working = apply_to_scenario(loaded.scenario, edits)
    except (ValidationError, ValueError) as exc:
        st.error(f"These edits make the scenario invalid: {exc}")
        return
    ev = evaluate(working, loaded.measured)
    st.caption(f"`{source}` · {working.description}")
    _headline(ev)
    tabs = st.tabs(["Consent & tiers", "Frontier", "Uncertainty & sensitivity",
                    "Export & save", "Compare with revision"])
    with tabs[0]:
        _consent_table(source, ev)
        _tiers(source, ev)
    with tabs[1]:
        _frontier_tab(source, ev)
    with tabs[2]:
        _uncertainty_tab(source, ev, loaded)
    with tabs[3]:
        _export_and_save(source, ev, loaded, edits, from_folder)
    with tabs[4]:
        _compare_tab(source, ev, from_folder)


main()
