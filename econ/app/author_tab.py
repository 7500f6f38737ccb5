"""Authoring: a new scenario from a template, and adding or removing a capability, tier or
model. Every change is validated by the loader ``econ validate`` uses (the same messages) and
saved through the same conflict-safe path as the Export & save tab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from econ.app.state import LOADED_PREFIX, scenarios_folder, wkey
from econ.base.errors import EconError, ScenarioError
from econ.model.loader import Loaded, parse_scenario
from econ.scenario.authoring import add_item, from_template, remove_item
from econ.scenario.store import safe_scenario_path, save_scenario_text

__all__ = ["author_tab"]

_RESULT = "author|result"


def _validated_save(name: str, text: str, base: str | None) -> None:
    """Validate ``text`` as ``econ validate`` would, then save it (``base`` None: a new file)."""
    ss = st.session_state
    folder = scenarios_folder()
    try:
        path = safe_scenario_path(folder, name)
        parse_scenario(text, path.name, base_dir=folder)
        save_scenario_text(folder, path.name, text, base)
    except ScenarioError as exc:
        ss[_RESULT] = ("error", "Not saved; the result would not validate:\n\n"
                       + "\n".join(f"- `{line}`" for line in str(exc).splitlines()))
        return
    except EconError as exc:
        ss[_RESULT] = ("error", str(exc))
        return
    ss[LOADED_PREFIX + path.name] = text
    ss[_RESULT] = ("success", f"Saved scenarios/{path.name}.")
    if base is None:
        ss["pick"] = path.name  # open the new scenario


def _create(source: str, template: str) -> None:
    ss = st.session_state
    name = str(ss.get(wkey(source, "new_name"), "")).strip()
    if not name.endswith((".yaml", ".yml")):
        name += ".yaml"
    try:
        text = from_template(template, Path(name).stem)
    except EconError as exc:
        ss[_RESULT] = ("error", str(exc))
        return
    _validated_save(name, text, None)


def _k(source: str, section: str, what: str) -> str:
    return wkey(source, "author", section, what)


def _fields(source: str, section: str) -> dict[str, Any]:
    def get(what: str) -> Any:
        return st.session_state.get(_k(source, section, what))

    if section == "capabilities":
        return {"traffic_share": float(get("share") or 0.0),
                "severity_usd": float(get("severity") or 0.0)}
    if section == "tiers":
        return {"price_usd_month": float(get("price") or 0.0),
                "users": float(get("users") or 0.0),
                "conversations_per_user_month": float(get("conversations") or 0.0),
                "target_gross_margin": float(get("margin") or 0.0),
                "plan": {"model": str(get("model") or "")}}
    return {"serving": "api", "role": str(get("role") or "student"),
            "price_key": str(get("price_key") or "")}


def _change(source: str, base: str, section: str, action: str) -> None:
    ss = st.session_state
    item = str(ss.get(wkey(source, "author", section, action, "id"), "") or "").strip()
    try:
        text = (add_item(base, section, item, _fields(source, section)) if action == "add"
                else remove_item(base, section, item))
    except EconError as exc:
        ss[_RESULT] = ("error", str(exc))
        return
    _validated_save(source, text, base)


def author_tab(source: str, loaded: Loaded, from_folder: bool) -> None:
    ss = st.session_state
    result = ss.pop(_RESULT, None)
    if result is not None:
        (st.success if result[0] == "success" else st.error)(result[1])
    st.subheader("A new scenario from this one")
    cols = st.columns([3, 1], vertical_alignment="bottom")
    cols[0].text_input("New file name in scenarios/", key=wkey(source, "new_name"),
                       placeholder="my-plan.yaml")
    cols[1].button("Create", key=wkey(source, "create"), on_click=_create,
                   args=(source, loaded.text))
    if not from_folder:
        st.info("Adding or removing items edits a file of the scenarios folder: create one "
                "from this upload first.")
        return
    st.subheader(f"Add or remove in scenarios/{source}")
    s = loaded.scenario
    section = st.radio("What", ["capabilities", "tiers", "models"], horizontal=True,
                       key=wkey(source, "author", "section"))
    ids = {"capabilities": [c.id for c in s.capabilities], "tiers": [t.id for t in s.tiers],
           "models": list(s.models)}[section]
    add, remove = st.columns(2)
    with add:
        st.text_input("New id", key=wkey(source, "author", section, "add", "id"))
        if section == "capabilities":
            st.number_input("traffic share (0–1)", 0.0, 1.0, 0.01, key=_k(source, section, "share"))
            st.number_input("severity (USD per failed conversation)", 0.0, value=0.1,
                            key=_k(source, section, "severity"))
        elif section == "tiers":
            st.number_input("price (USD/month)", 0.0, value=10.0, key=_k(source, section, "price"))
            st.number_input("users", 0.0, value=1000.0, key=_k(source, section, "users"))
            st.number_input("conversations per user a month", 0.0, value=30.0,
                            key=_k(source, section, "conversations"))
            st.number_input("target gross margin (0–1)", 0.0, 0.99, 0.6,
                            key=_k(source, section, "margin"))
            st.selectbox("plan: model", list(s.models), key=_k(source, section, "model"))
        else:
            st.selectbox("role", ["student", "teacher"], key=_k(source, section, "role"))
            st.text_input("price_key (API model in the price snapshot)",
                          key=_k(source, section, "price_key"))
        st.button(f"Add to {section} and save", key=_k(source, section, "add"), on_click=_change,
                  args=(source, loaded.text, section, "add"))
    with remove:
        st.selectbox("Remove", ids, key=wkey(source, "author", section, "remove", "id"))
        st.button(f"Remove from {section} and save", key=wkey(source, "author", section, "rm"),
                  on_click=_change, args=(source, loaded.text, section, "remove"))
    st.caption("Each change is validated with the messages of `econ validate` and saved only "
               "if the file has not changed on disk since it was loaded.")
