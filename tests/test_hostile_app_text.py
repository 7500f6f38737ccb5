"""Text is text in the app: Markdown from a scenario, a file, an error or a shared link is shown
as characters, never rendered (no image fetched, no live link or bold notice).

The browser test serves a scenario whose description, model id and label hold Markdown images
pointing at a local HTTP listener, opens it with a link whose parameters hold more, visits every
tab and a scenario whose error quotes such a value, and asserts no request reached the listener.
The structural test keeps every Markdown call of ``econ/app`` going through ``econ/app/text.py``.
"""

from __future__ import annotations

import ast
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import BASIC, ROOT

# calls that render their first argument (or a label) as Markdown
MARKDOWN_CALLS = {"markdown", "warning", "error", "info", "success", "caption", "subheader",
                  "header", "title", "toast", "write", "button", "checkbox", "toggle", "metric",
                  "expander", "download_button", "radio", "popover", "spinner"}
# a literal Markdown file of the project itself, rendered on purpose
ALLOWED = {("sources_panel.py", "body")}


def _renders_data(node: ast.expr) -> bool:
    """Whether a Markdown argument is built from data here instead of by econ/app/text.py."""
    if isinstance(node, ast.Constant):
        return False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in ("markdown", "escape", "code", "lines", "code_lines"):
        return False
    if isinstance(node, ast.BinOp):
        return _renders_data(node.left) or _renders_data(node.right)
    if isinstance(node, ast.IfExp):
        return _renders_data(node.body) or _renders_data(node.orelse)
    return True  # an f-string, a variable, str(exc), a join of data…


def test_every_markdown_call_in_the_app_goes_through_the_text_helper():
    problems = []
    for path in sorted((ROOT / "econ" / "app").glob("*.py")):
        if path.name == "text.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in MARKDOWN_CALLS):
                continue
            args = list(node.args[:1]) + [k.value for k in node.keywords
                                          if k.arg in ("label", "help", "body")]
            for arg in args:
                name = arg.id if isinstance(arg, ast.Name) else None
                if _renders_data(arg) and (path.name, name) not in ALLOWED:
                    problems.append(f"{path.name}:{node.lineno}: {ast.unparse(arg)[:70]}")
    assert not problems, "render data through econ.app.text (say/markdown):\n" + \
        "\n".join(problems)


class _Listener:
    """A local HTTP server that records every request made to it."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    lis = _Listener()
    yield lis
    lis.close()


def hostile_scenarios(folder: Path, base: str) -> tuple[str, str]:
    """Two scenario files: one valid with Markdown in its description, a model id and a label;
    one whose validation error quotes a Markdown image."""
    image = f"![m]({base}/model.png)"
    text = re.sub(r"(?<!role: )\bstudent\b(?=[:\s,\]])", "'" + image + "'", BASIC.read_text())
    text = text.replace("Premium frontier chat feature",
                        f"![d]({base}/description.png) **Session expired.** "
                        f"[Sign in again]({base}/login) <img src='{base}/html.png'>", 1)
    text = text.replace("label: distilled student priced like GPT-4o mini",
                        f"label: '![l]({base}/label.png)'", 1)
    (folder / "zz-hostile.yaml").write_text(text)
    broken = BASIC.read_text().replace("turns: 5", f"turns: '![e]({base}/error.png)'", 1)
    assert broken != BASIC.read_text()
    (folder / "zz-broken.yaml").write_text(broken)
    return "zz-hostile.yaml", "zz-broken.yaml"


@pytest.mark.browser
def test_no_markdown_from_data_reaches_the_browser(served, new_page, listener):
    """Writes hostile scenario files into its folder: an app of its own."""
    from tests.test_browser import _settle

    url, folder, _ = served
    good, broken = hostile_scenarios(folder, listener.base)
    link = {"scenario": good, "tier": f"**Session expired.** [Sign in again]({listener.base}/x)"
            f" ![t]({listener.base}/tier.png)",
            "consent.free": f"![c]({listener.base}/consent.png)",
            "price.plus": f"![p]({listener.base}/price.png)"}
    page = new_page(viewport={"width": 1500, "height": 1400})
    page.goto(f"{url}/?{urllib.parse.urlencode(link)}")
    page.wait_for_selector('[data-testid="stTab"]', timeout=60_000)
    _settle(page)
    shown = page.inner_text("body").replace("\u2060", "")  # the word joiner of URLs
    assert f"![d]({listener.base}/description.png)" in shown  # as text
    assert "Sign in again" in shown and "ignored" in shown.lower()
    assert not page.locator(f'a[href^="{listener.base}"]').count()  # no live link
    tabs = page.get_by_role("tab")
    for i in range(tabs.count()):
        tabs.nth(i).click()
        _settle(page)
        page.wait_for_timeout(500)
    page.goto(f"{url}/?scenario={broken}")
    # the error's text itself is waited for: an alert element can be in the page a moment
    # before the run that fills it (seen once on two busy cores: only the sidebar was drawn)
    error = f"![e]({listener.base}/error.png)"
    page.wait_for_function(
        "text => document.body.innerText.replaceAll('\\u2060', '').includes(text)",
        arg=error, timeout=60_000)
    _settle(page)
    assert error in page.inner_text("body").replace("\u2060", "")
    page.wait_for_timeout(1000)
    assert listener.hits == [], listener.hits


def test_a_widget_label_reads_an_ordinary_id_as_itself_and_escapes_the_rest():
    from econ.app.text import escape, markdown, word

    # its accessible name (the raw label) keeps an id's underscores; nothing else is left live
    assert markdown("consent to lose {cap}", cap=word("code_help")) == "consent to lose code_help"
    assert word("a._b_.c") == escape("a._b_.c") == r"a.\_b\_.c"  # emphasis there: escaped
    assert word("![x](http://e/x.png)") == escape("![x](http://e/x.png)")
    assert word(r"a\_b") == escape(r"a\_b")
