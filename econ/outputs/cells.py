"""Cells that are safe to open: no spreadsheet formula, no broken Markdown table.

In: a table of values. Out: the same table with text cells neutralised for the target format.
A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run
as a formula by Excel, LibreOffice or Google Sheets (CSV and XLSX alike), so it gets a leading
apostrophe, as OWASP advises; numbers stay numbers. In Markdown, ``|`` would end a cell and a
newline a row, so they are escaped. JSON needs nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "markdown_cell", "safe_cells", "spreadsheet_cell"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A text value that a spreadsheet would read as a formula, prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def markdown_cell(value: Any) -> Any:
    """A text value with ``|`` escaped and line breaks turned into ``<br>``."""
    if not isinstance(value, str):
        return value
    text = value.replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def safe_cells(df: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """``df`` with every text cell made safe for ``fmt`` (csv, xlsx, md; json unchanged)."""
    cell = {"csv": spreadsheet_cell, "xlsx": spreadsheet_cell, "md": markdown_cell}.get(fmt)
    if cell is None:
        return df
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):  # object or string columns
            out[col] = out[col].map(cell)
    out.columns = [cell(c) for c in out.columns]
    return out
