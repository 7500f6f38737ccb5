"""The hostile-input suites' check of a refusal: exit code 1, one message, no traceback."""

from __future__ import annotations

from typing import Any

from econ.cli import main

__all__ = ["fails"]


def fails(capsys: Any, *argv: str) -> str:
    """Run ``econ ARGV``; assert it refused with exit 1 and no internal error; its stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse
        code = exc.code
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "internal error" not in captured.err and "Traceback" not in captured.err
    return str(captured.err).strip()
