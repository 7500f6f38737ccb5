"""The app in a real browser: Streamlit on a loopback port, Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from econ.decisions.frontier import point_plan, tier_frontier
from econ.model.evaluate import evaluate
from econ.model.loader import load_scenario
from econ.outputs.export import export_bytes
from tests.conftest import ROOT, SCENARIOS

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
    folder = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, folder)
    shutil.copytree(ROOT / "data" / "benchmarks", tmp_path / "data" / "benchmarks")
    port = _free_port()
    env = {**os.environ, "ECON_SCENARIOS": str(folder)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"streamlit did not start on {url}:\n{out}")
        time.sleep(0.3)
    yield url, folder
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _settle(page) -> None:
    """Wait until the app's script run has finished (Streamlit marks the app element)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=60_000)


def _ticked(page) -> int:
    return int(page.evaluate(
        "() => document.querySelectorAll('input[type=checkbox][aria-label^=\"consent to lose\"]"
        ":checked').length"))


def _floor(page, tier: str) -> float:
    text = page.locator(f".st-key-floor-{tier}").inner_text()
    match = re.search(r"price floor ([\d,]+\.\d+) USD/month", text)
    assert match, text
    return float(match.group(1).replace(",", ""))


def test_consent_tick_moves_a_floor_and_csv_downloads(server, tmp_path, capsys):
    from playwright.sync_api import expect, sync_playwright

    url, folder = server
    shots = Path(os.environ.get("ECON_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1600},
                                    accept_downloads=True)
            page.goto(url)
            expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
                timeout=60_000)
            _settle(page)
            before = _floor(page, "plus")
            page.screenshot(path=str(shots / "01-loaded.png"), full_page=True)

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
            page.screenshot(path=str(shots / "02-ticked.png"), full_page=True)

            # clicking the frontier's cheapest point adopts its plan and consent set into plus
            # only: the distilled 8B alone, consenting to lose all it does not retain
            cheapest = tier_frontier(ev, "plus").points[0]
            page.get_by_role("tab", name="Frontier").click()
            _settle(page)
            groups = page.locator('[data-testid="stVegaLiteChart"] svg g.mark-symbol')
            frontier = max((groups.nth(i) for i in range(groups.count())),
                           key=lambda g: g.locator("path").count())
            frontier.locator("path").first.click(force=True)
            deadline = time.monotonic() + 30
            while _ticked(page) != len(cheapest.consent):
                assert time.monotonic() < deadline, f"ticked {_ticked(page)} after the click"
                page.wait_for_timeout(200)
            _settle(page)
            page.screenshot(path=str(shots / "03-frontier-adopted.png"), full_page=True)
            plan = point_plan(ev, "plus", cheapest)
            adopted = loaded.scenario.model_copy(update={"tiers": [
                t.model_copy(update={"plan": plan, "teacher": "gpt-4o"}) if t.id == "plus" else t
                for t in loaded.scenario.tiers]})
            everything = evaluate(adopted, loaded.measured,
                                  consent={"plus": list(cheapest.consent)})
            assert everything.tier("plus").economics.price_floor_usd_month == \
                cheapest.price_floor_usd_month

            page.get_by_role("tab", name="Export & save").click()
            _settle(page)
            with page.expect_download(timeout=30_000) as info:
                page.get_by_role("button", name="Download CSV").click()
            target = tmp_path / "download.csv"
            info.value.save_as(target)
            assert target.read_bytes() == export_bytes(everything, "csv")
            page.screenshot(path=str(shots / "04-export.png"), full_page=True)
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nbrowser screenshots: {shots}")


def test_uploaded_scenario_is_validated(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, folder = server
    broken = tmp_path / "upload-broken.yaml"
    broken.write_text((folder / "frontier-vs-distilled.yaml").read_text()
                      .replace("  turns: 5 ", "  turns: five "))
    line = next(i for i, t in enumerate(broken.read_text().splitlines(), 1) if "turns: five" in t)
    too_big = tmp_path / "upload-big.yaml"
    too_big.write_text("# padding\n" * 30_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            page.goto(url)
            expect(page.get_by_text("Capabilities: what the student keeps")).to_be_visible(
                timeout=60_000)
            _settle(page)
            page.locator("input[type=file]").set_input_files(str(broken))
            expect(page.get_by_text(
                f"upload-broken.yaml:{line}: conversation.turns: input should be a valid "
                "integer")).to_be_visible(timeout=30_000)
            assert page.get_by_text("Traceback").count() == 0
            page.locator("input[type=file]").set_input_files(str(too_big))
            expect(page.get_by_text("the limit is 262,144 bytes")).to_be_visible(timeout=30_000)
        finally:
            browser.close()
