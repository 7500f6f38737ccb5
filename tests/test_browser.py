"""The app in a real browser: Streamlit on a loopback port, Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from econ.cli import main as econ_main
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from tests.browser_fixtures import EPOCH

pytestmark = pytest.mark.browser


@pytest.fixture
def server(served):
    """The app of this test alone (it saves, uploads or writes): (URL, scenarios folder)."""
    url, folder, _ = served
    return url, folder


def _screenshot(page, name: str) -> None:
    """A full-page screenshot into $ECON_SCREENSHOTS, when set (for a person to look at; no
    test reads them, and each costs Chromium about 0.2 s of CPU)."""
    folder = os.environ.get("ECON_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def _settle(page) -> None:
    """Wait until the app's script run has finished (Streamlit marks the app element)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=60_000)


_TAB_MARK = {"Consent & tiers": "Capabilities: what the student keeps",
             "Frontier": "Pareto-optimal plans (student × consent set) for tier",
             "Uncertainty & sensitivity": "Monte Carlo draws",
             "Export & save": "Export the tier-pricing table",
             "Compare with revision": "Compare the current state",
             "A/B plans": "Pin the current plan as A",
             "Author": "A new scenario from this one"}


def _open_tab(page, name: str) -> None:
    """Click a tab and wait for its content (the app draws only the open tab, on a rerun)."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name=name).click()
    expect(page.get_by_text(_TAB_MARK[name]).first).to_be_visible(timeout=60_000)
    _settle(page)


def _frontier_symbols(page):
    groups = page.locator('[data-testid="stVegaLiteChart"] svg g.mark-symbol')
    deadline = time.monotonic() + 30
    while groups.count() == 0:  # the chart renders after the tab's rerun
        assert time.monotonic() < deadline, "no frontier chart"
        page.wait_for_timeout(200)
    return max((groups.nth(i) for i in range(groups.count())),
               key=lambda g: g.locator("path").count()).locator("path")


def _current_floor(page) -> str:
    text = page.get_by_text("Orange diamond: the current consent set").first.inner_text()
    match = re.search(r"current consent set \(floor ([\d,]+\.\d+) USD/month", text)
    assert match, text
    return match.group(1)


def _wait_current(page, floor: float, what: str) -> None:
    deadline = time.monotonic() + 30
    while _current_floor(page) != f"{floor:,.2f}":
        assert time.monotonic() < deadline, f"{what}: current floor {_current_floor(page)}"
        page.wait_for_timeout(200)
    _settle(page)


def _ticked(page) -> int:
    return int(page.evaluate(
        "() => document.querySelectorAll('input[type=checkbox][aria-label^=\"consent to lose\"]"
        ":checked').length"))


def _ticked_ids(page) -> set[str]:
    return set(page.evaluate(
        "() => [...document.querySelectorAll('input[type=checkbox][aria-label^=\"consent to "
        "lose\"]:checked')].map(e => e.getAttribute('aria-label').slice(16))"))


def _floor(page, tier: str) -> float:
    text = page.locator(f".st-key-floor-{tier}").inner_text()
    match = re.search(r"price floor ([\d,]+\.\d+) USD/month", text)
    assert match, text
    return float(match.group(1).replace(",", ""))


def _cli_export(path: Path, tmp_path: Path, fmt: str,
                consent: dict[str, list[str]] | None = None) -> bytes:
    """`econ export` of a scenario file (with per-tier consent sets), dated like the app."""
    out = tmp_path / f"cli.{fmt}"
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    args = [f"--consent={tier}={','.join(caps)}" for tier, caps in (consent or {}).items()]
    try:
        assert econ_main(["export", str(path), "-o", str(out), *args]) == 0
    finally:
        if old is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return out.read_bytes()


def _sidecar(page, tmp_path: Path, name: str) -> dict[str, object]:
    """The provenance sidecar the app offers beside the CSV, downloaded."""
    import json

    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Provenance of the CSV and JSON").click()
    target = tmp_path / name
    info.value.save_as(target)
    return dict(json.loads(target.read_text(encoding="utf-8")))


def test_consent_tick_moves_a_floor_and_csv_downloads(server, new_page, tmp_path):
    from playwright.sync_api import expect

    url, folder = server
    page = new_page(viewport={"width": 1500, "height": 1600}, accept_downloads=True)
    page.goto(url)
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    _settle(page)
    before = _floor(page, "plus")
    _screenshot(page, "01-loaded.png")

    page.get_by_role("checkbox", name="consent to lose analysis").check(force=True)
    deadline = time.monotonic() + 30
    while _floor(page, "plus") == before and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    _settle(page)
    after = _floor(page, "plus")
    assert after < before

    loaded = load_scenario(folder / "frontier-vs-distilled.yaml")
    ev = evaluate(loaded.scenario, loaded.measured,
                  consent={"plus": ["creative_assist", "analysis", "factual_qa"]})
    plus = next(t for t in ev.tiers if t.economics.tier == "plus")
    assert after == round(plus.economics.price_floor_usd_month, 2)
    _screenshot(page, "02-ticked.png")

    # clicking the frontier's cheapest point adopts its consent set: lose everything
    from econ.decisions.frontier import tier_frontier

    points = tier_frontier(evaluate(loaded.scenario, loaded.measured), "plus").points
    _open_tab(page, "Frontier")
    _frontier_symbols(page).first.click(force=True)
    _wait_current(page, points[0].price_floor_usd_month, "cheapest")
    _screenshot(page, "03-frontier-adopted.png")
    # click a middle point: adopted, and the point list follows the click; then a
    # manual tick, and the same point again: adopted again (it did nothing before)
    # the points as the app now lists them: adopting the cheapest (one model alone) left
    # plus with no router of its own, so its routed points are priced as the frontier
    # caption says, and adopting one gives exactly its floor
    floor, third = "", frozenset[str]()
    for attempt in ("click", "re-click"):
        before = _current_floor(page)
        _frontier_symbols(page).nth(3).click(force=True)
        if attempt == "click":
            deadline = time.monotonic() + 30
            while _current_floor(page) == before:
                assert time.monotonic() < deadline, "nothing adopted"
                page.wait_for_timeout(200)
            _settle(page)
            floor = _current_floor(page)
        else:
            deadline = time.monotonic() + 30
            while _current_floor(page) != floor:
                assert time.monotonic() < deadline, f"re-click: {_current_floor(page)}"
                page.wait_for_timeout(200)
            _settle(page)
        listed = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stSelectbox"]')]
               .filter(e => e.innerText.startsWith('Frontier point'))
               .map(e => [...e.querySelectorAll('input')].map(i => i.value + ' '
                    + (i.getAttribute('aria-label') || '')).join(' ')).join('|')""")
        # the point list follows the click, and the adopted plan sits at its floor
        assert listed.startswith(f"{floor} USD/mo floor"), (floor, listed)
        if attempt == "click":
            label = listed.split(" Frontier point")[0]
            third = frozenset(label.split(" · ")[-1].split(", "))
            _open_tab(page, "Consent & tiers")
            assert _ticked_ids(page) == set(third)
            box = next(c.id for c in loaded.scenario.capabilities
                       if c.id not in third)
            page.get_by_role("checkbox", name=f"consent to lose {box}").check(force=True)
            deadline = time.monotonic() + 30
            while _ticked_ids(page) == set(third):
                assert time.monotonic() < deadline
                page.wait_for_timeout(200)
            _settle(page)
            _open_tab(page, "Frontier")
    _open_tab(page, "Export & save")
    _settle(page)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download CSV").click()
    target = tmp_path / "download.csv"
    info.value.save_as(target)
    assert target.read_bytes().startswith(b"\xef\xbb\xbftier,")  # a plain table
    assert _sidecar(page, tmp_path, "before.json")["unsaved_edits"] is True
    # the adopted point changed plus's plan and consent: save, and `econ export` of the
    # saved file gives the same table as the download
    page.get_by_role("button", name="Save to scenarios/frontier-vs-distilled.yaml").click()
    expect(page.get_by_text("Saved scenarios/frontier-vs-distilled.yaml")).to_be_visible(
        timeout=30_000)
    saved = _cli_export(folder / "frontier-vs-distilled.yaml", tmp_path, "csv")
    assert target.read_bytes() == saved
    # a download right after the save is of the saved file
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download CSV").click()
    after_save = tmp_path / "after-save.csv"
    info.value.save_as(after_save)
    assert after_save.read_bytes() == saved
    assert _sidecar(page, tmp_path, "after.json")["unsaved_edits"] is False
    _screenshot(page, "04-export.png")


def test_uploaded_scenario_is_validated(shared_app, new_page, tmp_path):
    from playwright.sync_api import expect

    url, folder = shared_app  # uploads live in the session, never in the folder
    broken = tmp_path / "upload-broken.yaml"
    broken.write_text((folder / "frontier-vs-distilled.yaml").read_text()
                      .replace("  turns: 5 ", "  turns: five "))
    line = next(i for i, t in enumerate(broken.read_text().splitlines(), 1) if "turns: five" in t)
    too_big = tmp_path / "upload-big.yaml"
    too_big.write_text("# padding\n" * 120_000)  # 1.2 MB
    page = new_page(viewport={"width": 1500, "height": 1400})
    page.goto(url)
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    _settle(page)
    page.locator("input[type=file]").set_input_files(str(broken))
    expect(page.get_by_text(
        f"upload-broken.yaml:{line}: conversation.turns: input should be a valid "
        "integer")).to_be_visible(timeout=30_000)
    assert page.get_by_text("Traceback").count() == 0
    # the label states the limit the widget enforces (it said 256 KB against 1 MB)
    label = page.locator('[data-testid="stFileUploader"]').inner_text()
    assert "at most 1 MB" in label and "256 KB" not in label, label
    assert "1MB" in label.replace(" ", ""), label
    page.locator("input[type=file]").set_input_files(str(too_big))
    expect(page.get_by_text(re.compile(r"1(\.0)?\s?MB or smaller|exceeds|too large",
                                       re.I)).first).to_be_visible(timeout=30_000)
    _screenshot(page, "upload-too-big.png")


def _wait_for_caption(page, start: str) -> None:
    """Wait until the page's scenario caption (`file · description`) names ``start``."""
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first
    deadline = time.monotonic() + 30
    while True:
        _settle(page)
        text = caption.inner_text() if caption.count() else ""
        if text.startswith(start):
            return
        assert time.monotonic() < deadline, text
        page.wait_for_timeout(250)


def test_a_sidebar_pick_after_an_upload_wins(shared_app, new_page, tmp_path):
    """With a file uploaded, picking another scenario in the sidebar shows that scenario."""
    from playwright.sync_api import expect

    url, folder = shared_app  # uploads live in the session, never in the folder
    upload = tmp_path / "uploaded-copy.yaml"
    upload.write_text((folder / "frontier-vs-distilled.yaml").read_text()
                      .replace("name: frontier-vs-distilled", "name: uploaded-copy"))
    page = new_page(viewport={"width": 1500, "height": 1400})
    page.goto(url)
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    _settle(page)
    page.locator("input[type=file]").set_input_files(str(upload))
    _wait_for_caption(page, "uploaded-copy.yaml")
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name="self-hosted-llama.yaml").click()
    _wait_for_caption(page, "self-hosted-llama.yaml")
    # the caption renders before the tiers panel: wait for the llama tiers to arrive
    expect(page.locator(".st-key-floor-team")).to_have_count(1, timeout=30_000)


_TRUNCATED = """() => {
  const out = [];
  const sel = '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *, '
            + '[data-testid="stMetricLabel"] p, [data-testid="stMain"] strong, '
            + '[data-testid="stTab"] p, [data-testid="stWidgetLabel"] p';
  for (const el of document.querySelectorAll(sel)) {
    if (el.offsetParent === null) continue;  // hidden (another tab)
    if (el.scrollWidth > el.clientWidth + 1)
      out.push(['cut', el.innerText, el.scrollWidth, el.clientWidth]);
  }
  // a word that wraps onto two lines was broken mid-word
  const heads = document.querySelectorAll('[data-testid="stMain"] strong, '
                                          + '[data-testid="stMetricLabel"] p');
  for (const el of heads) {
    if (el.offsetParent === null) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const re = /\\S+/g; let m;
      while ((m = re.exec(n.data))) {
        const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
        if (tops.size > 1) out.push(['broken word', m[0], el.innerText]);
      }
    }
  }
  return out;
}"""


WIDTHS_PX = (1024, 1280, 1440)


def resize(page, width: int, height: int) -> None:
    """Set the window's size and wait until the page has laid itself out again. Streamlit's
    resize observers are throttled to one call per 100 ms and each defers its work by a frame:
    past that throttle, then two frames, the charts and tables have their new widths."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(250)
    page.evaluate("() => new Promise(done => requestAnimationFrame("
                  "() => requestAnimationFrame(() => done(null))))")


def test_no_truncated_metric_or_broken_header(shared_app, new_page, tmp_path):
    """Reads only: the worker's shared app, in a new session. One page opened at 1024 px wide,
    each tab then measured at 1024, 1280 and 1440 px (a window resized, as a user does; a
    page opened at each width costs Chromium three loads and three reruns of every tab).
    tests/test_layout.py opens its page at 1440 px and narrows it."""
    from playwright.sync_api import expect

    url, _ = shared_app
    page = new_page(viewport={"width": WIDTHS_PX[0], "height": 2200})
    page.goto(url)
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    _settle(page)
    expect(page.locator('[data-testid="stMetricValue"]')).to_have_count(6)
    problems = []
    for tab in ("Consent & tiers", "Frontier", "Uncertainty & sensitivity",
                "Export & save", "A/B plans", "Author"):
        _open_tab(page, tab)
        _settle(page)
        for width in WIDTHS_PX:
            resize(page, width, 2200)
            box = page.locator('[data-testid="stSidebar"]').bounding_box()
            assert box is not None and box["width"] > 200, (width, box)  # the sidebar is open
            problems += [(width, tab, *p) for p in page.evaluate(_TRUNCATED)]
            _screenshot(page, f"layout-{width}-{tab[:6].strip()}.png")
    assert not problems, problems


def test_a_whole_planning_session(server, new_page, tmp_path):
    """Open a shared link; tick per tier; adopt a frontier point; pin A; change a price; compare
    A/B; download the XLSX and the decision record; save. The downloads carry provenance, their
    numbers equal `econ export` of the saved file, and the record's PNGs are real images."""
    import io
    import zipfile

    import openpyxl
    from playwright.sync_api import expect

    url, folder = server
    name = "frontier-vs-distilled.yaml"
    free = "creative_assist,factual_qa,code_help,clarifying_questions,analysis"
    page = new_page(viewport={"width": 1440, "height": 1400}, accept_downloads=True)
    # 1. the shared link: free consents to lose analysis too, and the ticks show free
    page.goto(f"{url}/?scenario={name}&tier=free&consent.free={free}")
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    deadline = time.monotonic() + 30
    while _ticked_ids(page) != set(free.split(",")):
        assert time.monotonic() < deadline, _ticked_ids(page)
        page.wait_for_timeout(200)
    _settle(page)
    # 2. a tick on plus
    page.locator('[data-testid="stSelectbox"]').filter(
        has_text="Consent set of tier").click()
    page.get_by_role("option", name="plus").click()
    # plus's own consent set replaces free's (which ticked code_help): wait for it, so
    # the tick below lands on plus's checkboxes, not on free's before the rerun
    deadline = time.monotonic() + 30
    while "code_help" in _ticked_ids(page):
        assert time.monotonic() < deadline, _ticked_ids(page)
        page.wait_for_timeout(200)
    _settle(page)
    page.get_by_role("checkbox", name="consent to lose code_help").check(force=True)
    deadline = time.monotonic() + 30
    while "code_help" not in _ticked_ids(page):
        assert time.monotonic() < deadline
        page.wait_for_timeout(200)
    _settle(page)
    assert "code_help" in page.url and "consent.plus=" in page.url  # the URL follows
    # ... adopt a frontier point of plus (the cheapest: the ticks sit elsewhere)
    _open_tab(page, "Frontier")
    before = _current_floor(page)
    _frontier_symbols(page).first.click(force=True)
    deadline = time.monotonic() + 30
    while _current_floor(page) == before:
        assert time.monotonic() < deadline, "nothing adopted"
        page.wait_for_timeout(200)
    _settle(page)
    # 3. pin A, change pro's price
    _open_tab(page, "A/B plans")
    page.get_by_role("button", name="Pin the current plan as A").click()
    _settle(page)
    _open_tab(page, "Consent & tiers")
    price = page.get_by_label("price (USD/month)").nth(2)
    price.fill("250")
    price.press("Enter")
    deadline = time.monotonic() + 30
    while "price.pro=250" not in page.url:
        assert time.monotonic() < deadline, page.url
        page.wait_for_timeout(200)
    _settle(page)
    # 4. A and B side by side
    _open_tab(page, "A/B plans")
    expect(page.get_by_text("B − A:")).to_be_visible(timeout=30_000)
    assert "**pro**" not in page.inner_text("body")  # rendered as bold, not raw
    _screenshot(page, "ab.png")
    # 5. downloads
    _open_tab(page, "Export & save")
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download XLSX").click()
    xlsx = tmp_path / "session.xlsx"
    info.value.save_as(xlsx)
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Download the decision record").click()
    record = tmp_path / "record.zip"
    info.value.save_as(record)
    # 6. save
    page.get_by_role("button", name=f"Save to scenarios/{name}").click()
    expect(page.get_by_text(f"Saved scenarios/{name}")).to_be_visible(timeout=30_000)
    book = openpyxl.load_workbook(xlsx)
    prov = dict(list(book["provenance"].values)[1:])
    assert prov["Unsaved edits"] == "yes" and prov["Scenario file"]
    saved = openpyxl.load_workbook(io.BytesIO(_cli_export(folder / name, tmp_path, "xlsx")))
    for sheet in ("tier pricing", "candidates"):
        assert list(book[sheet].values) == list(saved[sheet].values), sheet
    assert next(r for r in book["tier pricing"].values if r[0] == "pro")[1] == 250
    with zipfile.ZipFile(record) as z:
        names = z.namelist()
        base = {n.rsplit("/", 1)[-1]: n for n in names}
        assert "decision.md" in base and "decision.html" in base
        pngs = [n for n in names if n.endswith(".png")]
        assert len(pngs) == 6
        for n in pngs:
            data = z.read(n)
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, n
        assert "unsaved edits: yes" in z.read(base["decision.md"]).decode()


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.slow
def test_monte_carlo_at_a_million_draws(served, new_page, tmp_path):
    """Issue 24: at 1M draws, a tick on the consent tab, the return to the Uncertainty tab and
    a change of the sensitivity swing each settle (their times are printed; the figures a
    change is judged by are benchmarks/run.py's app_mc_1m_*, ratios against an empty rerun in
    the same run, not a wall-clock bound here), and the server's peak memory stays under
    600 MB."""
    from playwright.sync_api import expect

    url, _, proc = served
    timings: dict[str, float] = {}

    def timed(what: str, action, until) -> None:
        t0 = time.monotonic()
        action()
        deadline = t0 + 120
        while not until():
            assert time.monotonic() < deadline, what
            page.wait_for_timeout(50)
        _settle(page)
        timings[what] = time.monotonic() - t0

    page = new_page(viewport={"width": 1440, "height": 1400})
    page.goto(url)
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    _settle(page)
    _open_tab(page, "Uncertainty & sensitivity")
    draws = page.get_by_role("spinbutton", name="Monte Carlo draws")
    draws.fill("1000000")
    draws.press("Enter")
    expect(page.get_by_text("Monte Carlo (1,000,000 draws)")).to_be_hidden(
        timeout=120_000)
    _settle(page)
    _open_tab(page, "Consent & tiers")
    before = _floor(page, "plus")
    timed("tick", lambda: page.get_by_role(
        "checkbox", name="consent to lose factual_qa").uncheck(force=True),
        lambda: _floor(page, "plus") != before)
    timed("return", lambda: page.get_by_role(
        "tab", name="Uncertainty & sensitivity").click(),
        lambda: page.get_by_text("Tornado for tier").count() > 0)
    swing = page.get_by_role("spinbutton", name="sensitivity swing (±, fraction)")
    timed("swing", lambda: (swing.fill("0.3"), swing.press("Enter")),
          lambda: page.get_by_text("moved by −30%").count() > 0)
    peak = _peak_rss_mb(proc.pid)
    print(f"\n1M draws: {timings}, server peak RSS {peak:.0f} MB")
    assert set(timings) == {"tick", "return", "swing"}
    assert peak < 600, f"server peak RSS {peak:.0f} MB"


def test_a_link_copied_after_adopting_a_new_model_reopens_in_a_fresh_browser(shared_app,
                                                                             new_page):
    """Adopt, on the frontier tab, the point that moves pro from o1 alone to llama-8b-distilled
    routed to o1; the URL then holds that plan, and a fresh browser opening it shows the same
    floors (the link used to hold consent sets and prices only: pro reopened on o1, 869.47)."""
    from playwright.sync_api import expect

    from econ.decisions.frontier import tier_frontier

    url, folder = shared_app  # adopts but never saves: the worker's shared app, new sessions
    name = "frontier-vs-distilled.yaml"
    loaded = load_scenario(folder / name)
    best = tier_frontier(evaluate(loaded.scenario, loaded.measured),
                         "pro").least_loss_within(200.0)
    assert best is not None and best.student == "llama-8b-distilled"
    tiers = [t.id for t in loaded.scenario.tiers]

    def panels(page) -> dict[str, str]:
        return {t: page.locator(f".st-key-floor-{t}").inner_text() for t in tiers}

    page = new_page(viewport={"width": 1440, "height": 1400})
    page.goto(f"{url}/?scenario={name}")
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    _settle(page)
    before = panels(page)
    _open_tab(page, "Frontier")
    page.locator('[data-testid="stSelectbox"]').filter(
        has_text=re.compile(r"^Tier")).click()
    page.get_by_role("option", name="pro", exact=True).click()
    expect(page.get_by_text("Pareto-optimal plans (student × consent set) for tier pro")
           ).to_be_visible(timeout=60_000)
    _settle(page)
    target = page.get_by_label("Target price floor (USD/month): least loss that "
                               "reaches it")
    target.fill("200")
    target.press("Enter")
    expect(page.get_by_text("Least loss at a floor ≤ 200.00 USD/month")).to_be_visible(
        timeout=60_000)
    _settle(page)
    page.get_by_role("button", name="Adopt it").click()
    expect(page.get_by_text("plan changes: pro: model o1 → llama-8b-distilled, routed "
                            "to o1").first).to_be_visible(timeout=60_000)
    _settle(page)
    deadline = time.monotonic() + 30
    while "model.pro=llama-8b-distilled" not in page.url:
        assert time.monotonic() < deadline, page.url
        page.wait_for_timeout(200)
    link = page.url
    _open_tab(page, "Consent & tiers")
    adopted = panels(page)
    assert _floor(page, "pro") == round(best.price_floor_usd_month, 2)
    assert adopted["pro"] != before["pro"]
    assert "route.pro=o1" in link and "router.pro=" in link and "routed.pro=unconsented" in link
    # a fresh browser context (a new Streamlit session): nothing but the link
    page = new_page(viewport={"width": 1440, "height": 1400})
    page.goto(link)
    expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
        timeout=60_000)
    _settle(page)
    deadline = time.monotonic() + 30
    while panels(page) != adopted:
        assert time.monotonic() < deadline, (panels(page), adopted)
        page.wait_for_timeout(200)
    assert _floor(page, "pro") == round(best.price_floor_usd_month, 2)
    assert not page.get_by_text("The link named what this scenario does not have").count()
