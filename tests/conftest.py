from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from tests.browser_fixtures import close_chromium, new_page, served, shared_app

__all__ = ["new_page", "served", "shared_app"]  # fixtures of the browser tests

# Property tests assert invariants, not speed: hypothesis's default 200 ms deadline per example
# fails them on a loaded machine (205 ms seen on two busy cores). Speed is measured in
# benchmarks/, as ratios within one run.
settings.register_profile("econ", deadline=None)
settings.load_profile("econ")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
DEFAULT = SCENARIOS / "frontier-vs-distilled.yaml"
SELF_HOSTED = SCENARIOS / "self-hosted-llama.yaml"
# one teacher, one student: the version-1 worked scenario migrated to version 2, kept fixed so
# tests of importers, probes and bad input do not move with the worked scenarios
BASIC = Path(__file__).parent / "data" / "basic-scenario.yaml"
V1 = Path(__file__).parent / "data" / "v1"
SNAPSHOT = ROOT / "data" / "litellm_prices.json"
FIXTURES = ROOT.parent / "shared" / "fixtures"


def unescaped(markdown: str) -> str:
    """What a reader sees of Markdown the app escaped: the backslash escapes removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def raw_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def raw_snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text())["models"]


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES} (clone beside ../shared)")
    return FIXTURES


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch copy of scenarios/ (with the benchmarks it measures) the app may write to."""
    import shutil

    dst = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, dst)
    shutil.copytree(ROOT / "data" / "benchmarks", tmp_path / "data" / "benchmarks")
    monkeypatch.setenv("ECON_SCENARIOS", str(dst))
    return dst


@pytest.fixture
def edited(tmp_path: Path):
    """Write the default scenario with one text replacement applied; return its path."""

    def make(old: str, new: str, source: Path = BASIC, name: str = "s.yaml") -> Path:
        text = source.read_text()
        assert old in text, old
        p = tmp_path / name
        p.write_text(text.replace(old, new, 1))
        return p

    return make


@pytest.fixture(scope="session")
def spark_backend():
    """An Ibis backend on a local Spark session (one for the test session), started the way
    ``econ traffic --backend pyspark://`` starts one; skipped without PySpark or Java."""
    pytest.importorskip("pyspark")
    from econ.base.errors import EconError
    from econ.evidence.traffic.connect import open_engine

    # the tests' Spark reads a few thousand rows: a JVM with the quick compiler only and the
    # serial collector spends 40% less CPU on them (50 -> 30 s measured); econ itself leaves
    # the JVM's defaults alone for real data
    previous = os.environ.get("JAVA_TOOL_OPTIONS")
    os.environ["JAVA_TOOL_OPTIONS"] = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    try:
        engine = open_engine("pyspark://?spark.master=local[2]", "512MB")
    except EconError as exc:
        pytest.skip(str(exc))
    finally:
        if previous is None:
            del os.environ["JAVA_TOOL_OPTIONS"]
        else:
            os.environ["JAVA_TOOL_OPTIONS"] = previous
    yield engine.backend
    engine.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first (browser, slow, the Spark group): xdist hands the first tests out
    one by one, so the long ones start at once on every worker instead of leaving one worker
    busy at the end while the others idle. The order of the rest is kept."""

    def long(item: pytest.Item) -> bool:
        return any(item.get_closest_marker(m) for m in ("browser", "slow", "xdist_group"))

    # the browser tests first of all, side by side: they share a worker's Chromium
    items.sort(key=lambda item: (not item.get_closest_marker("browser"), not long(item)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """Stop the worker's Chromium once the browser tests are done: its Playwright session
    leaves an asyncio loop marked running, which a later test's ``asyncio.run`` refuses."""
    yield
    if nextitem is None or not nextitem.get_closest_marker("browser"):
        close_chromium()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core, plus one on a machine of up to four cores, where the
    browser, subprocess and Spark tests spend part of their time waiting and a spare worker
    fills it (two cores: 337 s against 347 s for the whole suite, measured once each)."""
    cores = os.cpu_count() or 1
    return cores + 1 if cores <= 4 else cores
