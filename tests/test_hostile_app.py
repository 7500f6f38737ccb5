"""The app facing hostile files: a FIFO in the scenarios folder, an upload naming server files."""

from __future__ import annotations

import os
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from econ.base.errors import ScenarioError
from econ.model.loader import parse_scenario
from tests.conftest import DEFAULT, ROOT, SCENARIOS, unescaped


def test_a_fifo_in_the_scenarios_folder_does_not_hang_the_app(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, folder)
    os.mkfifo(folder / "zz-pipe.yaml")
    monkeypatch.setenv("ECON_SCENARIOS", str(folder))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.selectbox(key="pick").select("zz-pipe.yaml").run()
    assert not at.exception, at.exception
    assert [unescaped(e.value) for e in at.error] == [
        "scenarios/zz-pipe.yaml: cannot read: not a regular file (a FIFO); give a file"]


@pytest.mark.parametrize("target", ["/etc/passwd", "../outside.csv"])
def test_an_upload_may_name_only_files_in_the_scenarios_folder(tmp_path, target):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    text = DEFAULT.read_text().replace(
        "probes: probes/frontier-vs-distilled.jsonl",
        f"probes: probes/frontier-vs-distilled.jsonl\neval_results: [{target}]")
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, "upload.yaml", base_dir=folder, confine_to=folder)
    assert str(exc.value).endswith(
        "eval_results[0]: an uploaded scenario may name only files inside the scenarios folder "
        f"or the data folder beside it (got '{target}')")
    # the same text from the command line (not confined) reads the file, and fails on its content
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, "upload.yaml", base_dir=folder)
    assert "only files inside the scenarios folder" not in str(exc.value)
