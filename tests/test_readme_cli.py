"""The README's command-line block names every command and flag of `econ --help`, and nothing
else: a flag added to the parser without the README (or the reverse) fails here."""

from __future__ import annotations

import argparse
import re

from econ.cli.main import build_parser
from tests.conftest import ROOT

# --prices and --assume-saturation are stated once, under the block, for every command that
# reads a scenario or prices
PRICES_NOTE = "also takes\n`--prices FILE`"
SATURATION_NOTE = "and\n`--assume-saturation`: self-hosted models priced"
NOTED = ("--prices", "--assume-saturation")
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def commands(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[
        tuple[str, ...], argparse.ArgumentParser]:
    """Every leaf command (``("import", "bench")``) and its parser."""
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {path: p}
    out: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for s in subs:
        for name, sp in s.choices.items():
            out.update(commands(sp, (*path, name)))
    return out


def options(p: argparse.ArgumentParser) -> list[tuple[str, ...]]:
    """Each option's spellings (``("-o", "--output")``), help and the noted ones aside."""
    return [tuple(a.option_strings) for a in p._actions
            if a.option_strings and "--help" not in a.option_strings
            and not set(NOTED) & set(a.option_strings)]


def readme_entries(known: set[tuple[str, ...]]) -> list[tuple[tuple[str, ...], str]]:
    """(command, its text without comments) of every entry of the README's block: a line
    opening with `econ`, its indented continuation lines, split at `| econ`."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## The command line\n\n```sh\n", 1)[1].split("```", 1)[0]
    entries: list[str] = []
    for line in block.splitlines():
        code = line.split("  # ", 1)[0].split(" # ", 1)[0] if "#" in line else line
        if line.startswith("econ "):
            entries.extend(part if part.startswith("econ ") else "econ " + part
                           for part in code.split(" | econ "))
        else:
            assert line.startswith(" "), f"README block: a line outside any entry: {line!r}"
            entries[-1] += " " + code.strip()
    out = []
    for entry in entries:
        words = entry.split()[1:]
        command = max((c for c in known if tuple(words[:len(c)]) == c), key=len, default=None)
        assert command is not None, f"README names a command econ does not have: {entry!r}"
        out.append((command, entry))
    return out


def test_readme_lists_every_command_and_flag_and_nothing_else():
    parsers = commands(build_parser())
    entries = readme_entries(set(parsers))
    missing, unknown = [], []
    for command, p in parsers.items():
        texts = [e for c, e in entries if c == command]
        name = "econ " + " ".join(command)
        if not texts:
            missing.append(name)
            continue
        used = {m for e in texts for m in OPTION.findall(e)}
        missing += [f"{name} {'/'.join(o)}" for o in options(p) if not used & set(o)]
        spelled = {s for o in options(p) for s in o}
        unknown += [f"{name} {u}" for u in sorted(used - spelled)]
    assert not missing, "in `econ --help`, not in the README: " + ", ".join(missing)
    assert not unknown, "in the README, not in `econ --help`: " + ", ".join(unknown)


def test_prices_note_matches_the_commands_that_take_it():
    text = (ROOT / "README.md").read_text()
    assert PRICES_NOTE in text
    without = sorted(" ".join(c) for c, p in commands(build_parser()).items()
                     if not any("--prices" in a.option_strings for a in p._actions))
    assert without == ["compare", "import bench", "import evals", "schema", "traffic"]


def test_saturation_note_matches_the_commands_that_take_it():
    text = (ROOT / "README.md").read_text()
    assert SATURATION_NOTE in text
    parsers = commands(build_parser()).items()
    takes = sorted(" ".join(c) for c, p in parsers
                   if any("--assume-saturation" in a.option_strings for a in p._actions))
    prices = sorted(" ".join(c) for c, p in parsers
                    if any("--prices" in a.option_strings for a in p._actions))
    assert takes == [c for c in prices if not c.startswith("prices ")]  # read a scenario
