"""Authoring: a new scenario from a template, and adding or removing a capability, tier or
model. Every change is validated by the loader ``econ validate`` uses (the same messages) and
saved through the same conflict-safe path as the Export & save tab. Nothing is picked for
removal until someone picks it; a removal first says what it takes with it (traffic share,
consent sets) and asks to confirm; the removals of the session can be undone, last first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from econ.app.state import LOADED_PREFIX, scenarios_folder, wkey
from econ.app.text import Markdown, markdown, say
from econ.app.text import lines as code_lines
from econ.base.errors import EconError, ScenarioError
from econ.model.loader import Loaded, parse_scenario
from econ.scenario.authoring import add_item, from_template, removal_summary, remove_item
from econ.scenario.store import safe_scenario_path, save_scenario_text

__all__ = ["author_tab"]

_RESULT = "author|result"
_PENDING = "author|pending|"  # + file: (section, id) waiting for confirmation
_UNDO = "author|undo|"  # + file: [(what, text before, text after)], the session's removals


def _validated_save(name: str, text: str, base: str | None) -> bool:
    """Validate ``text`` as ``econ validate`` would, then save it (``base`` None: a new file).
    Returns whether it was saved."""
    ss = st.session_state
    folder = scenarios_folder()
    try:
        path = safe_scenario_path(folder, name)
        parse_scenario(text, path.name, base_dir=folder)
        save_scenario_text(folder, path.name, text, base)
    except ScenarioError as exc:
        ss[_RESULT] = ("error", markdown("Not saved; the result would not validate:\n\n"
                                         "{problems}", problems=code_lines(str(exc).splitlines())))
        return False
    except EconError as exc:
        ss[_RESULT] = ("error", str(exc))
        return False
    ss[LOADED_PREFIX + path.name] = text
    ss[_RESULT] = ("success", f"Saved scenarios/{path.name}.")
    if base is None:
        ss["pick"] = path.name  # open the new scenario
    return True


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


def _add(source: str, base: str, section: str) -> None:
    ss = st.session_state
    item = str(ss.get(wkey(source, "author", section, "add", "id"), "") or "").strip()
    try:
        text = add_item(base, section, item, _fields(source, section))
    except EconError as exc:
        ss[_RESULT] = ("error", str(exc))
        return
    _validated_save(source, text, base)


def _ask(source: str, section: str) -> None:
    """The Remove button: hold the picked item for confirmation (nothing removed yet)."""
    item = st.session_state.get(_picker(source, section))
    if item:
        st.session_state[_PENDING + source] = (section, str(item))


def _cancel(source: str) -> None:
    st.session_state.pop(_PENDING + source, None)


def _remove(source: str, base: str, section: str, item: str) -> None:
    """Confirmed: remove ``item`` and save; the text before goes on the session's undo list."""
    ss = st.session_state
    ss.pop(_PENDING + source, None)
    ss.pop(_picker(source, section), None)  # the picker does not move on to the next item
    try:
        text = remove_item(base, section, item)
    except EconError as exc:
        ss[_RESULT] = ("error", str(exc))
        return
    if _validated_save(source, text, base):
        ss[_RESULT] = ("success", f"Removed {item} from {section} and saved scenarios/{source}; "
                       "“Undo” below puts it back.")
        ss.setdefault(_UNDO + source, []).append((f"{section[:-1]} {item}", base, text))


def _undo(source: str) -> None:
    """Put back the last removal of the session (saved over the text the removal wrote, so a
    file changed on disk since is not overwritten)."""
    ss = st.session_state
    stack = ss.get(_UNDO + source) or []
    if not stack:
        return
    what, before, after = stack[-1]
    if _validated_save(source, before, after):
        stack.pop()
        ss[_RESULT] = ("success", f"Undone: the {what} is back in scenarios/{source}.")


def _picker(source: str, section: str) -> str:
    return wkey(source, "author", section, "remove", "id")


def author_tab(source: str, loaded: Loaded, from_folder: bool) -> None:
    ss = st.session_state
    result = ss.pop(_RESULT, None)
    if result is not None:
        say(st.success if result[0] == "success" else st.error, "{text}", text=result[1])
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
    st.subheader(markdown("Add or remove in scenarios/{source}", source=source))
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
        st.button(markdown("Add to {section} and save", section=section),
                  key=_k(source, section, "add"), on_click=_add,
                  args=(source, loaded.text, section))
    with remove:
        st.selectbox("Remove", ids, index=None, placeholder="pick what to remove",
                     key=_picker(source, section))
        st.button(markdown("Remove from {section}…", section=section),
                  key=wkey(source, "author", section, "rm"),
                  on_click=_ask, args=(source, section),
                  disabled=not ss.get(_picker(source, section)))
    pending = ss.get(_PENDING + source)
    if pending is not None and pending[0] == section and pending[1] in ids:
        _confirm(source, loaded, *pending)
    stack = ss.get(_UNDO + source) or []
    if stack:
        st.button(markdown("Undo: put the {what} back", what=stack[-1][0]),
                  key=wkey(source, "author", "undo"),
                  on_click=_undo, args=(source,),
                  help="Saves the file as it was before that removal (this session's removals "
                  "can be undone one by one, last first).")
    st.caption("Each change is validated with the messages of `econ validate` and saved only "
               "if the file has not changed on disk since it was loaded.")


def _confirm(source: str, loaded: Loaded, section: str, item: str) -> None:
    try:
        summary = removal_summary(loaded.scenario, section, item)
    except EconError as exc:
        say(st.error, "{exc}", exc=exc)
        return
    with st.container(border=True):
        say(st.warning, "Remove {item} from {section} and save scenarios/{source}?\n\n{summary}",
            item=item, section=section, source=source,
            summary=Markdown("\n".join(markdown("- {line}", line=line) for line in summary)))
        yes, no = st.columns(2)
        yes.button(markdown("Yes, remove {item} and save", item=item),
                   key=wkey(source, "author", "confirm"),
                   type="primary", on_click=_remove, args=(source, loaded.text, section, item))
        no.button("Cancel", key=wkey(source, "author", "cancel"), on_click=_cancel,
                  args=(source,))
