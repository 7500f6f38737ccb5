"""`make run`: the port can be set, the URL is printed, and Streamlit watches no files."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib

import pytest

from tests.conftest import ROOT


def test_streamlit_watches_no_files():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_run_takes_a_port_and_prints_the_url(tmp_path):
    # a dry run (-n) with a throw-away VENV: prints the commands, runs none of them
    # run under `make test` too: a sub-make prints "Entering/Leaving directory" lines unless told
    # not to, and inherits the outer make's flags through MAKEFLAGS/MAKELEVEL
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(["make", "--no-print-directory", "-n", "run", "PORT=8642",
                          f"VENV={tmp_path / 'venv'}"],
                         cwd=ROOT, capture_output=True, text=True, check=True, env=env).stdout
    run = [line for line in out.splitlines() if "8642" in line]
    assert "http://localhost:8642" in run[0] and run[0].startswith("echo ")
    assert "streamlit run app.py --server.port 8642 --server.address localhost" in run[1]
