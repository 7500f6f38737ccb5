"""cli: the ``econ`` command line, one module per group of commands; ``main`` in ``main``.

In: argv. Out: text, JSON and files, and exit codes (0 ok, 1 bad input, 2 internal error, 3 a
capability lost in ``econ compare``). The only place besides the app that turns ``EconError``
into a message for people.
May import: every econ layer below (``base`` … ``outputs``); never ``econ.app``.
"""

from econ.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
