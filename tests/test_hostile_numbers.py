"""Bad numbers and malformed files refused at the door (issue 23, items 8 and "exit 2 instead
of 1"): exit 1, one message naming the file (and line and field where known), no traceback,
nothing half-written."""

from __future__ import annotations

import json

import pytest

from econ.cli import main
from tests.cli_failures import fails

# ---- token counts in traffic logs -----------------------------------------------------------

def _chat(tokens: object = None, usage: object = None) -> str:
    user: dict[str, object] = {"role": "user", "content": "hi"}
    if tokens is not None:
        user["tokens"] = tokens
    record: dict[str, object] = {"messages": [user, {"role": "assistant", "content": "yo"}]}
    if usage is not None:
        record["usage"] = usage
    return json.dumps(record)


@pytest.mark.parametrize(("line", "field", "got"), [
    (_chat(tokens=-100), "message 0: tokens", "-100"),
    (_chat(tokens=-0.5), "message 0: tokens", "-0.5"),
    (_chat(usage={"completion_tokens": -5}), "usage.completion_tokens", "-5"),
    (_chat(usage={"output_tokens": 10**400}), "usage.output_tokens",
     "an integer of 401 digits"),
    (_chat(tokens=float("nan")), "message 0: tokens", "nan"),
    (_chat(tokens=float("inf")), "message 0: tokens", "inf"),
])
def test_bad_token_count_in_a_jsonl_log(capsys, tmp_path, line, field, got):
    ok = _chat(tokens=3)
    p = tmp_path / "log.jsonl"
    p.write_text(ok + "\n" + line + "\n")
    assert fails(capsys, "traffic", str(p)) == (
        f"{p}:2: {field}: a token count is a finite number of at least 0 (got {got})")


@pytest.mark.parametrize("value", ["-100", "-0.5", "inf"])  # "nan" is a null to pyarrow
def test_bad_token_count_in_a_csv_log(capsys, tmp_path, value):
    p = tmp_path / "log.csv"
    p.write_text("conversation_id,role,content,tokens\n1,user,hi,4\n1,assistant,yo,5\n"
                 f"2,user,hi,{value}\n2,assistant,yo,5\n")
    assert fails(capsys, "traffic", str(p)) == (
        f"{p}:4: message 0: tokens: a token count is a finite number of at least 0 "
        f"(got {value})")


def test_bad_token_counts_are_skipped_with_a_count(capsys, tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text(_chat(tokens=3) + "\n" + _chat(tokens=-1) + "\n")
    assert main(["traffic", "--skip-bad", "--json", str(p)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["conversations"] == 1
    assert "bad token count" in json.dumps(out)


# ---- serving benchmarks --------------------------------------------------------------------

@pytest.mark.parametrize(("figures", "field", "rule", "got"), [
    ({"duration": -1.0}, "duration_s", "a measurement is at least 0", "-1.0"),
    ({"request_throughput": -10}, "request_throughput_per_s", "a measurement is at least 0",
     "-10.0"),
    ({"total_output_tokens": -100}, "total_output_tokens", "a measurement is at least 0",
     "-100.0"),
    ({"p99_ttft_ms": -5}, "latency_ms.ttft_p99", "a measurement is at least 0", "-5.0"),
    ({"duration": 0}, "duration_s", "a duration or rate of a run is above 0", "0.0"),
    ({"output_throughput": 0}, "output_tokens_per_s", "a duration or rate of a run is above 0",
     "0.0"),
])
def test_implausible_benchmark_figures(capsys, tmp_path, figures, field, rule, got):
    doc = {"completed": 10, "duration": 1.0, "total_input_tokens": 100,
           "total_output_tokens": 100, "request_throughput": 10, "output_throughput": 100,
           **figures}
    p = tmp_path / "bench.json"
    p.write_text(json.dumps(doc))
    assert fails(capsys, "import", "bench", str(p)) == (
        f"{p}: {field}: not a plausible measurement: {rule} (got {got})")


# ---- scenarios: numbers out of any sane range -------------------------------------------------

def _line(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(("old", "new", "field", "message"), [
    ("    price_usd_month: 20 ", "    price_usd_month: 1e308 ", "tiers[1].price_usd_month",
     "a price above the sane range of at most 1,000,000 USD a month; set allow_extreme_prices: "
     "true in the scenario if it is meant (got 1e+308)"),
    ("    price_key: gpt-4o-mini ", "    prices: {input_usd_per_mtok: 1, "
     "output_usd_per_mtok: 20000}  ", "models.student.prices.output_usd_per_mtok",
     "a price above the sane range of at most 10,000 USD per million tokens; set "
     "allow_extreme_prices: true in the scenario if it is meant (got 20000.0)"),
    ("  usd_per_gpu_hour: 2.99 ", "  usd_per_gpu_hour: 5000 ", "distillation.usd_per_gpu_hour",
     "a price above the sane range of at most 1,000 USD per GPU-hour; set allow_extreme_prices: "
     "true in the scenario if it is meant (got 5000.0)"),
    ("    users: 50000 ", "    users: " + "1" + "0" * 400 + " ", "tiers[1].users",
     "number too large (at most 1,000,000,000,000,000) (got '401 digits')"),
    ("{examples: 200, passed: 188}", "{examples: " + "1" + "0" * 400 + ", passed: 188}",
     "capabilities[0].evals.teacher.examples",
     "number too large (at most 1,000,000,000,000,000) (got '401 digits')"),
    ("    users: 50000 ", "    users: true ", "tiers[1].users",
     "input should be a number, not true or false (got True)"),
])
def test_absurd_numbers_in_a_scenario(capsys, edited, old, new, field, message):
    p = edited(old, new)
    for command in ("validate", "evaluate"):
        assert fails(capsys, command, str(p)) == (
            f"{p}:{_line(p, new.strip()[:20])}: {field}: {message}")


def test_extreme_prices_allowed_when_the_scenario_says_so(capsys, edited):
    p = edited("    price_usd_month: 20 ", "    price_usd_month: 2000000 ")
    assert main(["validate", str(p)]) == 1
    capsys.readouterr()
    p.write_text(p.read_text() + "allow_extreme_prices: true\n")
    assert main(["validate", str(p)]) == 0


def test_absurd_price_in_the_snapshot_a_scenario_uses(capsys, tmp_path):
    from tests.conftest import BASIC, SNAPSHOT

    snap = json.loads(SNAPSHOT.read_text())
    snap["models"]["gpt-4o-mini"]["output_cost_per_token"] = 1e308
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(snap))
    out = tmp_path / "t.md"
    assert fails(capsys, "export", str(BASIC), "--prices", str(prices), "-o", str(out)) == (
        f"{BASIC}:{_line(BASIC, 'price_key: gpt-4o-mini')}: models.student.price_key: the price "
        "snapshot's gpt-4o-mini.output_cost_per_token is a price above the sane range of at most "
        "0.01 USD per token; set allow_extreme_prices: true in the scenario if it is meant (got "
        "1e+308)")
    assert not out.exists()
