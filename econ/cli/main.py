"""The ``econ`` command line. Errors become one clean message on stderr and exit code 1."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from econ.base.errors import EconError
from econ.base.secrets import redact
from econ.cli import (
    breakeven_cmd,
    history,
    measures,
    planning,
    probe_cmd,
    scenario_cmds,
    trace_cmd,
    traffic_cmd,
)
from econ.cli.common import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as bad input (exit 1), as the README promises; 2 stays for
    internal errors. Sub-command parsers are built from this class too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="econ", description="Cost–capability product economics of LLM products.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (scenario_cmds, measures, planning, history, probe_cmd, trace_cmd,
                   traffic_cmd, breakeven_cmd):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except EconError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # an unwritable output, a full disk: bad input, named
        where = exc.filename if exc.filename is not None else "econ"
        print(redact(f"{where}: {exc.strerror or exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (RecursionError, MemoryError) as exc:  # input shaped to exhaust us
        print(f"econ: the input is too large or too deeply nested ({type(exc).__name__})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: one line, never a traceback (ECON_DEBUG=1 shows it)
        if os.environ.get("ECON_DEBUG"):
            raise
        print(redact(f"econ: internal error ({type(exc).__name__}: {exc}); rerun with "
                     "ECON_DEBUG=1 for the traceback and report it"), file=sys.stderr)
        return EXIT_INTERNAL
    return code


if __name__ == "__main__":
    sys.exit(main())
