"""Browser-test fixtures: the app on a loopback port, and Debian's Chromium via Playwright.

Set-up is most of a browser test's CPU (issue 24): starting Streamlit (importing it and econ,
running the app a first time) and starting Playwright's driver and a Chromium. So:

- one Chromium per pytest process (xdist worker), started by the first browser test and
  stopped as soon as the next test is not a browser test (``close_chromium``, called from
  tests/conftest.py): a live Playwright session leaves its asyncio loop marked as running in
  the thread, which breaks a later test's ``asyncio.run``. Each test gets pages of its own
  browser context (``new_page``): fresh cookies and storage, and a new Streamlit session;
- ``served``: a Streamlit server of the test's own, on a scratch copy of scenarios/, for a test
  that saves, uploads, writes scenario files or measures the server process;
- ``shared_app``: one server per worker for the tests that only read (each in a new session).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EPOCH = "1767225600"  # exports dated 2026-01-01, so a download equals `econ export`


def need_chromium() -> None:
    """Skip without Debian's Chromium; under CI its absence is a failure."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(base: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """The app on a loopback port over a copy of scenarios/ (and the benchmarks it measures)
    made in ``base``: (URL, its scenarios folder, the server process)."""
    folder = base / "scenarios"
    shutil.copytree(ROOT / "scenarios", folder)
    shutil.copytree(ROOT / "data" / "benchmarks", base / "data" / "benchmarks")
    port = _free_port()
    env = {**os.environ, "ECON_SCENARIOS": str(folder), "SOURCE_DATE_EPOCH": EPOCH}
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
    try:
        yield url, folder, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class _Chromium:
    """The worker's Playwright driver and Chromium, started on first use."""

    def __init__(self) -> None:
        self.playwright: Any = None
        self.browser: Any = None

    def get(self) -> Any:
        if self.browser is not None and not self.browser.is_connected():
            self.close()  # it crashed: start another
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            try:
                self.browser = self.playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            except BaseException:
                self.close()
                raise
        return self.browser

    def close(self) -> None:
        browser, playwright = self.browser, self.playwright
        self.browser = self.playwright = None
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_CHROMIUM = _Chromium()


def close_chromium() -> None:
    """Stop the worker's Chromium and Playwright driver, if started."""
    _CHROMIUM.close()


@pytest.fixture
def new_page() -> Iterator[Callable[..., Any]]:
    """``new_page(**context_options)``: a page in a new browser context of the worker's
    Chromium (fresh cookies and storage: a new Streamlit session); closed after the test."""
    need_chromium()
    browser = _CHROMIUM.get()
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        if browser.is_connected():
            context.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """The app of this test alone: (URL, its scenarios folder, the server process)."""
    need_chromium()
    with serve(tmp_path) as app:
        yield app


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app shared by the tests of this worker that only read: (URL, scenarios folder).
    A test using it must not save or write files, nor depend on a fresh server; an upload is
    fine (it lives in the test's session, never in the folder)."""
    need_chromium()
    with serve(tmp_path_factory.mktemp("shared-app")) as (url, folder, _):
        yield url, folder
