"""The ``econ`` command line: one module per group of commands, ``main`` in :mod:`econ.cli.main`."""

from econ.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
