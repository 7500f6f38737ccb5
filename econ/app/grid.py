"""Every table of the app drawn one way: figures formatted by :mod:`econ.base.formatting`
(money with thousands separators and cents, shares at one decimal, cost per conversation at one
precision, "—" where a figure does not exist, never "None"), numbers right-aligned, the first
column (the tier, the capability) pinned while the rest scrolls."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, Literal

import pandas as pd
import streamlit as st

from econ.base.formatting import Kind, cell

__all__ = ["Spec", "columns_of", "show_table", "styled"]

# a column as shown: its title, the kind of figure it holds and a one-line help (or None)
Spec = tuple[str, Kind, str | None]


def columns_of(kinds: Mapping[str, tuple[str, Kind]]) -> dict[str, Spec]:
    """Specs from ``{column: (title, kind)}`` (the exports' column tables), without help."""
    return {col: (title, kind, None) for col, (title, kind) in kinds.items()}


def styled(frame: pd.DataFrame, columns: Mapping[str, Spec]) -> Any:
    """``frame``'s ``columns`` (in that order) with each cell shown as the formatting module
    writes it; the values underneath stay numbers, so a column still sorts by value."""
    view = frame[[c for c in columns if c in frame.columns]]
    return view.style.format({col: partial(cell, kind=columns[col][1]) for col in view.columns})


def show_table(frame: pd.DataFrame, columns: Mapping[str, Spec], *, pin: str | None = None,
               key: str | None = None,
               widths: Mapping[str, Literal["small", "medium", "large"]] | None = None) -> None:
    """``frame`` as a table of ``columns``; ``pin`` (default: the first column) stays in view;
    ``widths`` caps long text columns (the whole text shows on hover), so the table fits."""
    pin = pin if pin is not None else next(iter(columns))
    widths = widths or {}
    config = {col: st.column_config.Column(
        title, help=help_text, pinned=True if col == pin else None, width=widths.get(col),
        alignment="left" if kind == "text" else "right")
        for col, (title, kind, help_text) in columns.items() if col in frame.columns}
    st.dataframe(styled(frame, columns), hide_index=True, width="stretch",
                 column_config=config, key=key)
