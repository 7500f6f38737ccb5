"""Text is text: the app shows every string from a scenario, a file, a log, a URL or an error
literally, never as Markdown.

Everything the app renders as Markdown (``st.markdown``, ``st.caption``, ``st.info``,
``st.warning``, ``st.error``, ``st.success``, widget labels and help) is built here: the
template is Markdown written in this package; every value put into it goes through
:func:`escape`, the escape the decision record and the Markdown export use
(:func:`econ.outputs.cells.markdown_text`: credentials redacted, then every character that could
start Markdown backslash-escaped), or is shown as a code span that cannot close (:func:`code`).
So ``![p](http://…)`` in a description, a model id, an error or a shared link shows as those
characters and the browser fetches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from econ.base.secrets import redact
from econ.outputs.cells import markdown_text

__all__ = ["Markdown", "code", "escape", "lines", "markdown", "say", "word"]


class Markdown(str):
    """A Markdown fragment built here (by :func:`code`, :func:`markdown` or :func:`lines`):
    :func:`escape` passes it on as it is."""

    __slots__ = ()


def escape(value: Any, breaks: str = " ") -> str:
    """``value`` as Markdown that shows it literally (line breaks become ``breaks``)."""
    return value if isinstance(value, Markdown) else markdown_text(value, breaks)


def code(value: Any) -> Markdown:
    """``value`` in a code span no backtick in it can close (credentials redacted, line breaks
    as spaces)."""
    text = re.sub(r"[\r\n\u2028\u2029]+", " ", redact(str(value)))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")


def word(value: Any) -> Markdown:
    """``value`` escaped like :func:`escape`, but an underscore between two letters or digits
    left as it is (it never starts emphasis): for a widget label that is also its accessible
    name, where ``code_help`` must read ``code_help``, not ``code\\_help``."""
    return Markdown(re.sub(r"(?<=[A-Za-z0-9])\\_(?=[A-Za-z0-9])", "_", escape(value)))


def markdown(template: str, /, **values: Any) -> Markdown:
    """``template`` (Markdown written in econ/app) with each ``{name}`` replaced by its value,
    escaped."""
    return Markdown(template.format_map({k: escape(v) for k, v in values.items()}))


def lines(items: Any, bullet: str = "- ") -> Markdown:
    """Lines of text (an error's problems) as a Markdown list, each line a code span."""
    return Markdown("\n".join(f"{bullet}{code(item)}" for item in items))


def say(render: Callable[[str], Any], template: str, /, **values: Any) -> None:
    """Render ``template`` with its values escaped: ``say(st.warning, "**{n}** …", n=...)``."""
    render(markdown(template, **values))
