"""Run econ commands on hostile input files and count exit codes (issue 23: exit 2 on bad input
is a bug). Usage: PYTHONPATH=. python benchmarks/hostile_exit_codes.py [-v]

Every case is bad input: the expected code is 1. Prints one line per case that is not 1 and a
summary of codes."""

from __future__ import annotations

import collections
import contextlib
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

from econ.cli import main

ROOT = Path(__file__).resolve().parent.parent
BASIC = ROOT / "tests" / "data" / "basic-scenario.yaml"


def scenario(tmp: Path, name: str, old: str, new: str) -> str:
    text = BASIC.read_text()
    assert old in text, old
    p = tmp / name
    p.write_text(text.replace(old, new, 1))
    return str(p)


def write(tmp: Path, name: str, text: str | bytes) -> str:
    p = tmp / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return str(p)


def inspect_zip(tmp: Path, name: str, members: dict[str, str]) -> str:
    p = tmp / name
    with zipfile.ZipFile(p, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return str(p)


def cases(tmp: Path) -> list[tuple[str, list[str]]]:
    out = str(tmp / "o.csv")
    ev = lambda f, *a: ["import", "evals", f, "-o", out, *a]  # noqa: E731
    hdr = {"eval": {"task": "t", "model": "m"}}
    insp = lambda body: json.dumps({**hdr, **body})  # noqa: E731
    pf = lambda results: json.dumps({"evalId": "e", "results": {"prompts": [],  # noqa: E731
                                                                "results": results}})
    lmr = lambda body: json.dumps({"results": {"arc": {"acc,none": 0.5}}, "model_name": "m",  # noqa: E731
                                   "n-samples": {"arc": {"effective": 10}}, "config": {},
                                   **body})
    samples = "samples_arc_2024-05-01T10-00-00.jsonl"
    c: list[tuple[str, list[str]]] = []
    # ---- Inspect
    for i, body in enumerate([{"samples": {"a": 1}}, {"samples": [1, 2]},
                              {"samples": [{"id": 1, "scores": [1, 2]}]},
                              {"samples": [{"id": 1, "scores": {"s": {"value": "C"}},
                                            "metadata": {"tags": 5}}]},
                              {"samples": [{"id": 1, "scores": "C"}]},
                              {"samples": [{"id": [1], "epoch": [1], "scores": {"s": 1}}]},
                              {"samples": [{"id": 1, "scores": {"s": 1}}], "eval": {
                                  "task": "t", "model": ["m"]}},
                              {"samples": [{"id": 1, "scores": {"s": {"value": 1e400}}}]}]):
        c.append((f"inspect json {i}", ev(write(tmp, f"insp{i}.json", insp(body)))))
    c.append(("inspect json truncated", ev(write(tmp, "insp_t.json", insp({})[:-5]))))
    for i, members in enumerate([{"header.json": json.dumps(hdr), "samples/1.json": "[1]"},
                                 {"header.json": json.dumps({"eval": [1]})},
                                 {"header.json": json.dumps(hdr), "summaries.json": "{}"},
                                 {"header.json": json.dumps(hdr),
                                  "samples/1.json": '{"id": 1, "scores": [1]}'},
                                 {"header.json": json.dumps({"eval": "x"})}]):
        c.append((f"inspect zip {i}", ev(inspect_zip(tmp, f"z{i}.eval", members))))
    enc = bytearray(Path(inspect_zip(tmp, "enc.eval", {"header.json": json.dumps(hdr)}))
                    .read_bytes())
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = enc.index(sig)
        off = 6 if sig == b"PK\x03\x04" else 8
        enc[at + off] |= 1  # the encrypted flag
    c.append(("inspect zip encrypted flag", ev(write(tmp, "enc2.eval", bytes(enc)))))
    # ---- promptfoo
    for i, results in enumerate([[1, 2], [{"provider": "x", "testCase": {}}],
                                 [{"provider": {"id": "p"}, "testCase": "t"}],
                                 [{"provider": {"id": "p"}, "gradingResult": "yes"}],
                                 [{"provider": {"id": "p"}, "gradingResult": {
                                     "componentResults": [1]}}],
                                 [{"provider": {"id": "p"}, "gradingResult": {
                                     "componentResults": {"a": 1}}}],
                                 [{"provider": {"id": "p"}, "testCase": {"metadata": {
                                     "tags": 5}}, "success": True}],
                                 [{"provider": {"id": "p"}, "testCase": {"vars": [1]},
                                   "success": True}]]):
        c.append((f"promptfoo {i}", ev(write(tmp, f"pf{i}.json", pf(results)))))
    # ---- lm-eval results
    for i, body in enumerate([{"n-samples": {"arc": 5}}, {"n-samples": [1]},
                              {"n-samples": {"arc": {"effective": "10"}}},
                              {"n-samples": {"arc": {"effective": 2.5}}},
                              {"n-samples": {"arc": {"effective": 1e308}}},
                              {"n-samples": {"arc": {"effective": float("inf")}}},
                              {"config": "x"}, {"config": {"model_args": ["a"]}},
                              {"model_name": ["x"]}]):
        c.append((f"lmeval results {i}", ev(write(tmp, f"results{i}.json", lmr(body)))))
    c.append(("lmeval results truncated", ev(write(tmp, "results_t.json", lmr({})[:-3]))))
    # ---- lm-eval samples
    for i, line in enumerate([{"doc_id": 0, "filter": "none", "metrics": "acc", "acc": 1},
                              {"doc_id": 0, "filter": "none", "metrics": [["a"]], "acc": 1},
                              {"doc_id": 0, "filter": "none", "metrics": 5, "acc": 1},
                              {"doc_id": 0, "filter": ["x"], "metrics": ["acc"], "acc": 1},
                              {"doc_id": 0, "filter": "none", "metrics": ["acc"], "acc": [1]},
                              {"doc_id": 0, "filter": "none", "metrics": ["acc"], "acc": 1e400,
                               }]):
        text = json.dumps(line) + "\n" + json.dumps({**line, "doc_id": 1}) + "\n"
        d = tmp / f"s{i}"
        d.mkdir()
        c.append((f"lmeval samples {i}", ev(write(d, samples, text), "--model", "m")))
    # ---- plain results CSV
    big = "model,example_id,capability,passed\nm,1,c," + "x" * 200_000 + "\n"
    c.append(("results csv field over limit", ev(write(tmp, "big.csv", big))))
    c.append(("results csv field over limit (compare)",
              ["compare", str(tmp / "big.csv"), "--teacher", "m", "--student", "m"]))
    quote = 'model,example_id,capability,passed\nm,"1,c,1\nm,2,c,1\n'
    c.append(("results csv unbalanced quote", ev(write(tmp, "q.csv", quote))))
    c.append(("results csv unbalanced quote (compare)",
              ["compare", str(tmp / "q.csv"), "--teacher", "m", "--student", "m"]))
    c.append(("results csv NUL", ev(write(tmp, "nul.csv", "model,example_id,capability,passed"
                                                            "\nm,1\x00,c,1\n"))))
    # ---- traffic CSV logs
    tcsv = "conversation_id,role,content,tokens\n"
    c.append(("traffic csv field over limit",
              ["traffic", write(tmp, "t_big.csv", "role,content\nuser," + "x" * 200_000 + "\n")]))
    c.append(("traffic csv unbalanced quote",
              ["traffic", write(tmp, "t_q.csv", 'role,content\nuser,"hello\nassistant,hi\n')]))
    c.append(("traffic csv tokens", ["traffic", write(tmp, "t_tok.csv", tcsv +
                                                      "1,user,hi,-100\n1,assistant,yo,5\n")]))
    c.append(("traffic evals csv field over limit", [
        "traffic", write(tmp, "ok.jsonl", '{"messages": [{"role": "user", "content": "hi"}, '
                         '{"role": "assistant", "content": "yo"}]}\n'),
        "--evals", write(tmp, "ev.csv", "example_id,text\n1," + "x" * 200_000 + "\n")]))
    for i, tokens in enumerate(["-100", "NaN", "1e400"]):
        c.append((f"traffic jsonl tokens {tokens}", ["traffic", write(
            tmp, f"tok{i}.jsonl", '{"messages": [{"role": "user", "content": "hi", "tokens": '
            + tokens + '}, {"role": "assistant", "content": "yo"}]}\n')]))
    # ---- ids that are not text
    for i, model in enumerate(["m\\udc80", "m\\u0001", "m\\u202e"]):
        log = ('{"eval": {"task": "t", ' f'"model": "{model}"}}, "samples": [{{"id": 1, '
               '"scores": {"s": 1}}]}')
        c.append((f"eval log model id {i}", ev(write(tmp, f"id{i}.json", log))))
        r = write(tmp, f"r{i}.jsonl", f'{{"model": "{model}", "example_id": "1", '
                  '"capability": "c", "passed": 1}\n')
        c.append((f"results model id {i}", ["compare", r, "--teacher", "m", "--student", "n"]))
    # ---- bench
    c.append(("bench negative throughput", ["import", "bench", write(
        tmp, "b1.json", '{"completed": 10, "duration": -1.0, "total_input_tokens": 100, '
        '"total_output_tokens": 100, "request_throughput": -10, "output_throughput": -5}')]))
    c.append(("bench zero throughput", ["import", "bench", write(
        tmp, "b2.json", '{"completed": 10, "duration": 0, "total_input_tokens": 100, '
        '"total_output_tokens": 100, "request_throughput": 0}')]))
    c.append(("bench negative tokens", ["import", "bench", write(
        tmp, "b3.json", '{"completed": 10, "duration": 1.0, "total_input_tokens": -100, '
        '"total_output_tokens": 100, "request_throughput": 10}')]))
    # ---- scenarios
    big_int = "1" + "0" * 400
    for name, old, new in [
            ("users", "    users: 50000 ", f"    users: {big_int} "),
            ("price", "    price_usd_month: 20 ", f"    price_usd_month: {big_int} "),
            ("turns", "  turns: 5 ", f"  turns: {big_int} "),
            ("severity", "    severity_usd: 0.02 ", f"    severity_usd: {big_int} "),
            ("examples", "{examples: 200, passed: 188}", f"{{examples: {big_int}, passed: 188}}"),
            ("gpu_hours", "  gpu_hours: 2000 ", f"  gpu_hours: {big_int} "),
            ("users_true", "    users: 50000 ", "    users: true "),
            ("price_1e308", "    price_usd_month: 20 ", "    price_usd_month: 1e308 "),
            ("model_ctrl", "  student:\n", "  \"stu\\x01dent\":\n"),
            ("model_surrogate", "  student:\n", "  \"stu\\udc80dent\":\n"),
            ("cap_ctrl", "  - id: analysis", "  - id: \"ana\\x1blysis\""),
            ("tier_bidi", "  - id: plus", "  - id: \"pl\\u202eus\""),
            ("tier_newline", "  - id: plus", "  - id: \"pl\\nus\""),
            ("cap_del", "  - id: analysis", "  - id: \"ana\\x7flysis\""),
    ]:
        p = scenario(tmp, f"sc_{name}.yaml", old, new)
        for cmd in (["evaluate", p], ["export", p, "-o", str(tmp / f"{name}.xlsx")],
                    ["export", p, "-o", str(tmp / f"{name}.md")], ["validate", p],
                    ["frontier", p, "--tier", "plus"], ["diff", p, str(BASIC)],
                    ["sensitivity", p], ["uncertainty", p, "--draws", "100"],
                    ["record", p, "-o", str(tmp / f"rec-{name}"), "--draws", "100"],
                    ["breakeven", p], ["trace", p, "--model", "student", "-o",
                                       str(tmp / f"{name}.jsonl")]):
            c.append((f"scenario {name}: {cmd[0]} {Path(cmd[-1]).suffix}", cmd))
    # ---- capability map regexes
    for i, rx in enumerate(["(?=x)", r"(a)\1", "(?<=a)b", "(?P<n>a)(?P=n)", "a{1000000}",
                            "[", "(?i", r"\p{L}"]):
        m = write(tmp, f"map{i}.yaml", f"text:\n  c:\n    regex: ['{rx}']\n")
        c.append((f"capmap regex {rx}", ["traffic", str(ROOT / "tests" / "data" / "traffic_formats"
                                                     / "openai_tools.jsonl"),
                                         "--capability-map", m]))
    # ---- seeds and draws
    for args in (["--seed", "-1"], ["--seed", str(2**64)], ["--seed", "1e3"], ["--draws", "0"],
                 ["--draws", "-5"], ["--draws", str(10**30)], ["--swing", "nan"],
                 ["--swing", "-1"], ["--swing", "1e308"]):
        c.append((f"record {' '.join(args)}", ["record", str(BASIC), "-o", str(tmp / "rec"),
                                                *args]))
        c.append((f"uncertainty {' '.join(args)}", ["uncertainty", str(BASIC), *args]))
    return c


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


def main_() -> int:
    verbose = "-v" in sys.argv
    counts: collections.Counter[int] = collections.Counter()
    with tempfile.TemporaryDirectory() as d:
        for name, argv in cases(Path(d)):
            code, err = run(argv)
            counts[code] += 1
            if code != 1 or verbose:
                last = err.strip().splitlines()[-1][:160] if err.strip() else ""
                print(f"{code}  {name}: {last}")
    print("exit codes:", dict(sorted(counts.items())), "cases:", sum(counts.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main_())
