"""Layout that fits (issue 24, item 6), measured in Chromium at 1024, 1280 and 1440 px wide and
900 px high: every tab of the tab bar visible at 1024 px, the tabs on the first screen, and the
main tables of the consent tab without sideways scroll from 1280 px on.
The widths measured are printed (``-s``) for the record."""

from __future__ import annotations

import pytest

from tests.test_browser import _settle, resize


@pytest.fixture
def app_url(shared_app) -> str:
    """The worker's shared app (these tests only read), each test in a new session."""
    return str(shared_app[0])

pytestmark = pytest.mark.browser

_MEASURE = """() => {
  const list = document.querySelector('[role="tablist"]');
  const box = list.getBoundingClientRect();
  const tabs = [...list.querySelectorAll('[role="tab"]')].map(t => {
    const r = t.getBoundingClientRect();
    return {name: t.innerText, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  });
  const tables = [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .filter(d => d.offsetParent !== null)  // drawn, not in a closed expander
    .map(d => {
      const s = d.querySelector('.dvn-scroller');
      return {content: s ? s.scrollWidth : 0, shown: s ? s.clientWidth : 0,
              head: d.innerText.split('\\n').slice(0, 2).join(' ')};
    });
  return {list: {left: box.left, right: box.right, scroll: list.scrollWidth,
                 client: list.clientWidth},
          tabs, tables, pageScroll: document.documentElement.scrollWidth,
          viewport: window.innerWidth};
}"""


def test_tabs_fit_and_tables_do_not_scroll_sideways(app_url, new_page):
    """One page opened at 1440 px wide, then narrowed to 1280 and 1024 px (a resized window;
    tests/test_browser.py opens its page at 1024 px and widens it)."""
    from playwright.sync_api import expect

    page = new_page(viewport={"width": 1440, "height": 900})
    page.goto(app_url)
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    _settle(page)
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(
        timeout=60_000)
    page.wait_for_function("() => [...document.querySelectorAll("
                           "'[data-testid=\"stDataFrame\"] .dvn-scroller')]"
                           ".length >= 3", timeout=60_000)
    for width in (1440, 1280, 1024):
        resize(page, width, 900)
        _check_width(page.evaluate(_MEASURE), width)


def _check_width(m: dict, width: int) -> None:
    print(f"\n{width} px: tab bar {m['list']['scroll']} / {m['list']['client']} px, "
          f"tabs' top {min(t['top'] for t in m['tabs']):.0f} px; tables (content / "
          f"shown px): " + "; ".join(f"{t['content']}/{t['shown']}"
                                     for t in m["tables"]))
    assert m["viewport"] == width, m["viewport"]
    # every tab whole inside the tab bar and the window: nothing clipped or scrolled
    assert m["list"]["scroll"] <= m["list"]["client"] + 1, (width, m["list"])
    for tab in m["tabs"]:
        assert m["list"]["left"] - 1 <= tab["left"] and \
            tab["right"] <= min(m["list"]["right"], width) + 1, (width, tab)
        assert tab["bottom"] <= 900, (width, tab)  # on the first screen, no scrolling
    assert len(m["tabs"]) == 7
    assert m["pageScroll"] <= width, width  # the page itself never scrolls sideways
    if width >= 1280:
        wide = [t for t in m["tables"] if t["content"] > t["shown"] + 2]
        assert not wide, (width, wide)
