"""The command line starts without the numerical stack: ``import econ`` is lazy (PEP 562), so
``econ --help``, usage errors and commands that need no statistics do not import scipy or
pandas first; every public name still resolves."""

from __future__ import annotations

import subprocess
import sys

import econ
from tests.conftest import ROOT


def test_the_cli_imports_no_numerical_stack_before_a_command_needs_it() -> None:
    heavy = ("scipy", "pandas", "numpy", "pydantic", "econ.model.evaluate")
    code = (f"import sys, econ, econ.cli.main; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "[]"


def test_every_public_name_resolves() -> None:
    for name in econ.__all__:
        assert getattr(econ, name) is not None, name
    assert econ.evaluate.__module__ == "econ.model.evaluate"
    assert econ.model.__name__ == "econ.model"
    assert set(econ.__all__) <= set(dir(econ))
