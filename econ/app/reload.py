"""Reloading a scenario that changed on disk without losing anyone's edit.

A widget nobody touched (its value is still the one the old file gave it) takes the new file's
value; a touched widget keeps yours. What changed on disk is kept under ``RELOADED_PREFIX`` so
the page can show it. A save refused for a conflict shows the three texts (base, theirs,
yours) and offers to take theirs (this reload) or to save yours over theirs.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from econ.app.parsing import parse_cached
from econ.app.state import LOADED_PREFIX, scenarios_folder, widget_defaults, wkey
from econ.app.text import Markdown, code, markdown, say
from econ.base.errors import EconError
from econ.decisions.scenario_diff import input_changes
from econ.model.loader import Loaded
from econ.scenario.store import save_scenario_text, unified_diff

__all__ = ["CONFLICT_PREFIX", "RELOADED_PREFIX", "conflict_view", "forget_reload",
           "reload_changes", "reload_scenario"]

RELOADED_PREFIX = "reloaded|"
CONFLICT_PREFIX = "conflict|"


def _parse(text: str, name: str) -> Loaded | list[str]:
    return parse_cached(text, name, str(scenarios_folder()))


def reload_scenario(name: str) -> None:
    """Read ``scenarios/name`` again; untouched widgets follow the file, touched ones stay."""
    ss = st.session_state
    key = LOADED_PREFIX + name
    old_text = ss.get(key)
    ss.pop(CONFLICT_PREFIX + name, None)
    try:
        new_text = (scenarios_folder() / name).read_text(encoding="utf-8")
    except OSError as exc:
        ss[RELOADED_PREFIX + name] = f"could not read {name}: {exc.strerror}"
        return
    ss[key] = new_text
    if old_text is None or old_text == new_text:
        ss[RELOADED_PREFIX + name] = [] if old_text is not None else None
        return
    old, new = _parse(old_text, name), _parse(new_text, name)
    kept: list[str] = []
    if isinstance(old, Loaded):
        fresh = widget_defaults(name, new) if isinstance(new, Loaded) else {}
        for wk, value in widget_defaults(name, old).items():
            if wk not in ss:
                continue
            if isinstance(value, dict):  # consent sets: tier by tier
                kept += _merge_consent(name, wk, value, fresh.get(wk, value), old)
                continue
            if ss[wk] == value:
                del ss[wk]  # untouched: init_widgets gives it the new file's value
            else:
                kept.append(wk.split("|", 2)[2].replace("|", " "))
    changes: list[tuple[str, Any, Any]] = []
    if isinstance(old, Loaded) and isinstance(new, Loaded):
        changes = [(c.path, c.old, c.new) for c in input_changes(old.scenario, new.scenario)]
    ss[RELOADED_PREFIX + name] = changes
    ss[RELOADED_PREFIX + "kept|" + name] = kept


def _merge_consent(name: str, key: str, base: dict[str, tuple[str, ...]],
                   theirs: dict[str, tuple[str, ...]], old: Loaded) -> list[str]:
    """Each tier's consent set follows the file unless you changed it; the ticks are re-derived
    from the merged sets. Returns the tiers whose consent you had edited."""
    ss = st.session_state
    mine: dict[str, tuple[str, ...]] = dict(ss[key])
    kept = [f"consent {tier}" for tier, caps in mine.items()
            if tier in base and tuple(caps) != tuple(base[tier])]
    merged = dict(theirs)
    merged.update({tier: caps for tier, caps in mine.items()
                   if tier not in base or tuple(caps) != tuple(base[tier])})
    ss[key] = merged
    for c in old.scenario.capabilities:
        ss.pop(wkey(name, "consent", c.id), None)
    return kept


def reload_changes(name: str) -> None:
    """Show what the last reload brought in from disk (until the next save or reload)."""
    ss = st.session_state
    changes = ss.get(RELOADED_PREFIX + name)
    kept = ss.get(RELOADED_PREFIX + "kept|" + name, [])
    if changes is None:
        return
    if isinstance(changes, str):
        say(st.error, "{changes}", changes=changes)
        return
    if not changes:
        say(st.info, "Reloaded {name}: nothing changed on disk.", name=name)
        ss.pop(RELOADED_PREFIX + name, None)
        return
    moved = "\n".join(markdown("- {path}: {old} → {new}", path=code(p), old=_short(a),
                                new=_short(b)) for p, a, b in changes)
    note = (markdown("\n\nYour edits kept over the file: {kept}.", kept=", ".join(kept))
            if kept else "\n\nYou had no edits of your own; every widget follows the file.")
    say(st.warning, "**{name} changed on disk** since you loaded it; the page now shows the "
        "file's values wherever you had not edited:\n\n{moved}{note}", name=name,
        moved=Markdown(moved), note=Markdown(note))


def forget_reload(name: str) -> None:
    """After a save, the changes a reload brought in are history."""
    st.session_state.pop(RELOADED_PREFIX + name, None)
    st.session_state.pop(RELOADED_PREFIX + "kept|" + name, None)


def _short(v: Any) -> str:
    text = ", ".join(map(str, v)) if isinstance(v, list) else str(v)
    return text if len(text) <= 60 else text[:57] + "…"


def _save_mine(name: str, mine: str, theirs: str) -> None:
    ss = st.session_state
    try:
        save_scenario_text(scenarios_folder(), name, mine, theirs)
    except EconError as exc:
        ss[CONFLICT_PREFIX + name + "|error"] = str(exc)
        return
    ss[LOADED_PREFIX + name] = mine
    forget_reload(name)
    ss[CONFLICT_PREFIX + name + "|saved"] = True  # conflict_view says so, then forgets both


def conflict_view(name: str, base: str, mine: str) -> None:
    """After a refused save: base, theirs and yours side by side, and the two ways out."""
    ss = st.session_state
    if ss.pop(CONFLICT_PREFIX + name + "|saved", False):
        ss.pop(CONFLICT_PREFIX + name, None)
        say(st.success, "Saved your version over theirs in scenarios/{name}.", name=name)
        return
    error = ss.pop(CONFLICT_PREFIX + name + "|error", None)
    if error:
        say(st.error, "{error}", error=error)
    try:
        theirs = (scenarios_folder() / name).read_text(encoding="utf-8")
    except OSError:
        theirs = ""
    if theirs == base:
        ss.pop(CONFLICT_PREFIX + name, None)
        return
    st.markdown("**The file changed on disk since you loaded it.** Base is the file as you "
                "loaded it; theirs is the file now; yours is what your save would write.")
    cols = st.columns(3)
    with cols[0]:
        st.markdown("**Theirs** (base → disk now)")
        st.code(unified_diff(base, theirs, name) or "(no change)", language="diff")
    with cols[1]:
        st.markdown("**Yours** (base → your save)")
        st.code(unified_diff(base, mine, name) or "(no change)", language="diff")
    with cols[2]:
        st.markdown("**Base** (as you loaded it)")
        with st.expander("the whole base file"):
            st.code(base, language="yaml")
    buttons = st.columns(2)
    buttons[0].button("Take theirs: reload, keeping only the edits you made",
                      key=wkey(name, "conflict", "theirs"), on_click=reload_scenario,
                      args=(name,), type="primary")
    buttons[1].button("Keep yours: save over theirs", key=wkey(name, "conflict", "mine"),
                      on_click=_save_mine, args=(name, mine, theirs))
