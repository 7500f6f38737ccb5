"""Every bad input gives exit code 1 and one exact message naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from econ.cli import main
from tests.conftest import DEFAULT


def line_of(path: Path, text: str) -> int:
    """1-based number of the first line of ``path`` that contains ``text``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def fails(capsys, *argv: str) -> str:
    assert main(list(argv)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    return captured.err.strip()


def test_unknown_key_with_did_you_mean(capsys, edited):
    p = edited("    traffic_share: 0.136 ", "    trafic_share: 0.136 ")
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line_of(p, '- id: analysis')}: capabilities[1].traffic_share: required field is "
        "missing\n"
        f"{p}:{line_of(p, 'trafic_share')}: "
        "capabilities[1].trafic_share: unknown key; did you mean 'traffic_share'?")


def test_wrong_type(capsys, edited):
    p = edited("  turns: 5 ", "  turns: five ")
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line_of(p, 'turns: five')}: "
        "conversation.turns: input should be a valid integer, unable to parse string "
        "as an integer (got 'five')")


def test_negative_price(capsys, edited):
    p = edited("    price_key: o1 ", "    price_key: o1\n    prices: {input_usd_per_mtok: -15} ")
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line_of(p, 'input_usd_per_mtok: -15')}: "
        "models.teacher.prices.input_usd_per_mtok: input should be greater than or "
        "equal to 0 (got -15)")


def test_shares_over_one(capsys, edited):
    p = edited("    traffic_share: 0.586 ", "    traffic_share: 0.786 ")
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line_of(p, 'capabilities:')}: "
        "capabilities: traffic shares sum to more than 1 (got 1.146)")


def test_plan_names_unknown_model(capsys, edited):
    p = edited("      model: teacher\n", "      model: techer\n")
    line = p.read_text().splitlines().index("      model: techer") + 1
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line}: tiers[2].plan.model: unknown model; did you mean 'teacher'? "
        "(got 'techer')")


def test_yaml_syntax_error(capsys, edited):
    p = edited("consent: [creative_assist, factual_qa]", "consent: [creative_assist, factual_qa")
    lines = p.read_text().splitlines()
    opened = lines.index("consent: [creative_assist, factual_qa") + 1
    noticed = next(i for i in range(opened + 1, len(lines) + 1) if lines[i - 1].strip())
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{noticed}: (top level): YAML syntax error: did not find expected ',' or ']' "
        f"(while parsing a flow sequence started on line {opened})")


def test_object_tag_is_never_constructed(capsys, edited, tmp_path):
    marker = tmp_path / "pwned"
    p = edited("name: frontier-vs-distilled",
               f"name: !!python/object/apply:os.system ['touch {marker}']")
    assert fails(capsys, "evaluate", str(p)) == (
        f"{p}:{line_of(p, 'name: !!python')}: name: tags are not allowed in scenario files "
        "(got '!!python/object/apply:os.system')")
    assert not marker.exists()


def test_empty_file(capsys, tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("")
    assert fails(capsys, "evaluate", str(p)) == f"{p}:1: (top level): the file is empty"


def test_missing_file(capsys, tmp_path):
    p = tmp_path / "nope.yaml"
    assert fails(capsys, "evaluate", str(p)) == f"{p}: (top level): scenario file not found"


def test_several_problems_at_once(capsys, edited, tmp_path):
    p = edited("  turns: 5 ", "  turns: -2 ")
    text = p.read_text().replace("    severity_usd: 0.02 ", "    severity_usd: cheap ", 1)
    p.write_text(text)
    err = fails(capsys, "validate", str(p))
    assert err.splitlines() == [
        f"{p}:{line_of(p, 'turns: -2')}: "
        "conversation.turns: input should be greater than or equal to 1 (got -2)",
        f"{p}:{line_of(p, 'severity_usd: cheap')}: "
        "capabilities[0].severity_usd: input should be a valid number, unable to parse "
        "string as a number (got 'cheap')",
    ]


def test_unknown_price_key(capsys, edited):
    p = edited("    price_key: gpt-4o-mini ", "    price_key: gpt-4o-mnii ")
    err = fails(capsys, "evaluate", str(p))
    assert err.startswith(f"{p}:{line_of(p, 'gpt-4o-mnii')}: "
                          "models.student.price_key: not in the price snapshot of "
                          "litellm ")
    assert "did you mean 'gpt-4o-mini'" in err


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "md", "json"])
def test_export_of_bad_scenario_writes_nothing(capsys, edited, tmp_path, fmt):
    p = edited("  turns: 5 ", "  turns: five ")
    out = tmp_path / f"table.{fmt}"
    fails(capsys, "export", str(p), "-o", str(out))
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [p]


def test_export_to_missing_folder(capsys, tmp_path):
    out = tmp_path / "no" / "such" / "table.csv"
    assert fails(capsys, "export", str(DEFAULT), "-o", str(out)) == (
        f"{out}: the folder {out.parent} does not exist")


def test_export_failure_keeps_previous_file(capsys, edited, tmp_path):
    out = tmp_path / "table.csv"
    out.write_text("previous")
    p = edited("  turns: 5 ", "  turns: five ")
    fails(capsys, "export", str(p), "-o", str(out))
    assert out.read_text() == "previous"
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted([p.name, "table.csv"])


def test_scenario_is_not_a_mapping(capsys, tmp_path):
    p = Path(tmp_path / "list.yaml")
    p.write_text("- a\n- b\n")
    assert fails(capsys, "validate", str(p)) == (
        f"{p}:1: (top level): a scenario is a mapping of keys to values (got 'list')")
