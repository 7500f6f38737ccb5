"""Text rules read the same way on every engine: a corpus in several scripts, assignments
written out by hand, checked on DuckDB, Polars and (slow) Spark."""

from __future__ import annotations

from typing import Any

import pytest

from econ.base.errors import EconError
from econ.evidence.importers.capmap import CapabilityMap
from econ.evidence.traffic.rules import compile_keyword, compile_regex, required_literal

RULES = {"text": {
    "coding": {"keywords": ["python", "код", "编程", "برمجة", "código"]},
    "travel": {"keywords": ["hôtel", "straße", "отель", "旅行", "فندق"]},
    "philosophy": {"keywords": ["λόγος"]},
    "math": {"regex": [r"\d+\s*[-+*/^=]\s*\d+", r"\bx\s*="]},
}}

# (user messages, the capability a reader of each language assigns under RULES); None is
# uncategorised. Each line says why.
CORPUS: list[tuple[list[str], str | None]] = [
    (["Wie schreibe ich Python-Code?"], "coding"),  # '-' ends the word
    (["PYTHONIC ideas"], None),  # python runs on into a letter
    (["Мне нужен КОД на Питоне"], "coding"),  # Cyrillic, upper case
    (["кодировка текста"], None),  # код runs on into a Cyrillic letter
    (["我想学习编程语言"], "coding"),  # Han is written without spaces: no boundary needed
    (["أحتاج برمجة تطبيق"], "coding"),  # Arabic between spaces
    (["ابحث عن فندق رخيص"], "travel"),
    (["HÔTEL près de la gare"], "travel"),  # accented capital
    (["Die Straße ist lang"], "travel"),
    (["Die Hauptstraße ist lang"], None),  # inside a compound: not the whole word
    (["Τι είναι ο ΛΌΓΟΣ"], "philosophy"),  # a final capital sigma lowers to ς or σ
    (["ο λογοσ"], None),  # no accent: another word
    (["what is 12 + 30"], "math"),
    (["x = 5, y = 7"], "math"),
    (["box = 3"], None),  # \bx needs a non-word character before x
    (["١٢ + ٣٠"], None),  # \d is 0-9 on every engine
    (["python hôtel"], "coding"),  # a tie goes to the first listed
    (["¿Código en Python?"], "coding"),
    (["hello", "отель на ночь"], "travel"),  # any user message counts
    (["naïve café"], None),
    (["旅行の計画を立てたい"], "travel"),
    (["Straßenbahn"], None),
]
ASSISTANT_ONLY = "python"  # an assistant message never assigns


def messages_table() -> Any:
    import pyarrow as pa

    rows: list[tuple[int, int, int, str, str]] = []
    for cid, (texts, _) in enumerate(CORPUS):
        for turn, text in enumerate(texts, start=1):
            rows.append((cid, len(rows), turn, "user", text))
            rows.append((cid, len(rows), turn, "assistant", ASSISTANT_ONLY))
    cols = list(zip(*rows, strict=True))
    return pa.table({"conversation": pa.array(cols[0], pa.int64()),
                     "message": pa.array(cols[1], pa.int64()),
                     "turn": pa.array(cols[2], pa.int64()),
                     "role": pa.array(cols[3], pa.string()),
                     "text": pa.array(cols[4], pa.string())})


def assigned_on(con: Any) -> dict[int, str | None]:
    import ibis

    from econ.evidence.traffic.mix import conversations

    rules = CapabilityMap.from_data(RULES, "map").text_patterns()
    expr = conversations(ibis.memtable(messages_table()), rules)
    got = con.to_pyarrow(expr).to_pylist()
    return {int(r["conversation"]): r["capability"] for r in got}


EXPECTED = {cid: cap for cid, (_, cap) in enumerate(CORPUS)}


@pytest.mark.parametrize("url", ["duckdb://", "polars://"])
def test_multilingual_rules_assign_as_written(url: str) -> None:
    import ibis

    assert assigned_on(ibis.connect(url)) == EXPECTED


@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_multilingual_rules_assign_as_written_on_spark(spark_backend: Any) -> None:
    assert assigned_on(spark_backend) == EXPECTED


@pytest.mark.parametrize(("regex", "why"), [
    (r"(?<=a)b", "look-behind"), (r"(?=a)b", "look-ahead"), (r"(a)\1", "back references"),
    (r"a\Bb", r"\B"), (r"(?s)a.b", "inline flags"), (r"a++", "possessive"),
    (r"a\bb", r"\b is portable only"), (r"[[:alpha:]]", "POSIX classes"),
    (r"[\W]", r"\W inside"), (r"a{1,2000}", "above 1000"),
])
def test_unportable_regexes_are_refused_with_the_reason(regex: str, why: str) -> None:
    with pytest.raises(EconError, match="not portable") as err:
        CapabilityMap.from_data({"text": {"c": {"regex": [regex]}}}, "m.yaml")
    assert why in str(err.value) and "m.yaml: text.c.regex" in str(err.value)


def test_the_dialect_has_no_ascii_shorthands() -> None:
    assert compile_regex(r"\bdef \w+\(") == \
        r"(?:^|[^\p{L}\p{M}\p{N}_])def [\p{L}\p{M}\p{N}_]+\("
    assert compile_regex(r"\d{2,3}\s$") == r"[0-9]{2,3}[\t\n\x0B\f\r ]\z"
    assert compile_regex(r"Foo.[A-Z]") == r"foo[^\n][a-z]"
    assert compile_keyword("C++") == r"(?:^|[^\p{L}\p{M}\p{N}_])c\+\+"
    assert required_literal(compile_keyword("Act as")) == "act as"
    assert required_literal(compile_regex("a|b")) is None
