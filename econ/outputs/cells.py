"""Cells that are safe to open: no spreadsheet formula, no broken Markdown table.

In: a table of values. Out: the same table with text cells neutralised for the target format.
A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run
as a formula by Excel, LibreOffice or Google Sheets (CSV and XLSX alike), so it gets a leading
apostrophe, as OWASP advises; numbers stay numbers. In Markdown, ``|`` would end a cell and a
newline a row, and ``![x](url)``, ``<img>``, ``**bold**`` or a link would be live, so
:func:`markdown_text` backslash-escapes every character that can start Markdown (the app's
renderer, the record and the Markdown export use it alike). Every text cell is redacted
(:func:`econ.base.secrets.redact`) first. JSON needs nothing else.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from econ.base.secrets import redact

__all__ = ["FORMULA_PREFIXES", "markdown_cell", "markdown_text", "safe_cells", "spreadsheet_cell"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# what can start Markdown anywhere in a line (CommonMark, GFM, Streamlit's :color[...] and $math$)
_MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+!|~:$])")
# a list item, rule or heading underline at the start ("- x", "1. x", "---", "==="); "-3.5" stays
_LINE_START = re.compile(r"^(\s*\d*)([-=.)])(?=[\s\-=]|$)")
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)")
_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029")


def spreadsheet_cell(value: Any) -> Any:
    """A text value (redacted) that a spreadsheet would read as a formula, prefixed with
    ``'``."""
    if not isinstance(value, str):
        return value
    value = redact(value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def markdown_text(value: Any, breaks: str = " ") -> str:
    """Any value as Markdown that shows it literally: redacted, every character that could start
    Markdown backslash-escaped, line breaks replaced by ``breaks`` (a space; ``"  \\n"`` keeps
    them as hard breaks; ``"<br>"`` in a table cell). GitHub-flavoured Markdown turns a bare
    ``http://…``, ``www.…`` or ``a@b.c`` into a live link after escapes are undone, so an
    invisible word joiner (U+2060) is put after ``:``, ``www`` and ``@`` there."""
    lines = _BREAK.split(_AUTOLINK.sub("\u2060", redact(str(value))))
    out = [_LINE_START.sub(r"\1\\\2", _MARKUP.sub(r"\\\1", line)) for line in lines]
    return breaks.join(out)


def markdown_cell(value: Any) -> Any:
    """A text value as a Markdown table cell: :func:`markdown_text`, line breaks as ``<br>``."""
    if not isinstance(value, str):
        return value
    return markdown_text(value, "<br>")


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
