"""The ``econ`` command line. Errors become one clean message on stderr and exit code 1."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO, cast

from econ.base.errors import EconError
from econ.base.secrets import RedactingStream
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
    """Run one command. Everything it prints passes through :func:`econ.base.secrets.redact`;
    standard output is flushed before the exit code is decided, so a full or closed output is
    exit 1 with one line on stderr, never a silent 0."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, RedactingStream(out if out is not None else _Closed("<stdout>")))
    sys.stderr = cast(TextIO, RedactingStream(err if err is not None else _Closed("<stderr>")))
    try:
        code = _run(argv)
        return _flushed(code)
    except SystemExit as exc:  # --help, an argument error: flushed the same way
        code = _flushed(exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT)
        raise SystemExit(code) from None
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        sys.stdout, sys.stderr = out, err


class _Closed(io.TextIOBase):
    """What ``sys.stdout`` is when the shell closed it (``>&-``): every write fails as EBADF."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, s: str) -> int:
        raise OSError(9, "Bad file descriptor (the output is closed)")


def _flushed(code: int) -> int:
    """Flush standard output; a write that fails there (a full disk, a closed output) turns
    the exit code into 1 with one line on stderr. A reader that went away (a broken pipe, as
    with ``| head``) keeps the command's code."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError) as exc:
        return _stdout_failed(exc)
    return code


def _stdout_failed(exc: OSError | ValueError) -> int:
    """One line on stderr for an output that cannot be written; exit 1."""
    _silence_stdout()
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    print(f"econ: cannot write to standard output: {reason}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null so the interpreter's own flush at exit does not
    fail a second time (Python's advice for SIGPIPE)."""
    if isinstance(sys.stdout, RedactingStream):
        sys.stdout.failed = None
    stream: TextIO | None = getattr(sys.stdout, "inner", sys.stdout)
    try:
        fd = stream.fileno() if stream is not None else -1
    except (OSError, ValueError, AttributeError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass


def _run(argv: Sequence[str] | None) -> int:
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
        _silence_stdout()
        return EXIT_OK
    except OSError as exc:  # an unwritable output, a full disk: bad input, named
        if exc is getattr(sys.stdout, "failed", None):
            return _stdout_failed(exc)
        where = exc.filename if exc.filename is not None else "econ"
        print(f"{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (RecursionError, MemoryError) as exc:  # input shaped to exhaust us
        print(f"econ: the input is too large or too deeply nested ({type(exc).__name__})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: one line, never a traceback (ECON_DEBUG=1 shows it)
        if os.environ.get("ECON_DEBUG"):
            raise
        print(f"econ: internal error ({type(exc).__name__}: {exc}); rerun with "
              "ECON_DEBUG=1 for the traceback and report it", file=sys.stderr)
        return EXIT_INTERNAL
    return code


if __name__ == "__main__":
    sys.exit(main())
