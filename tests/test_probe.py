"""econ probe end to end through litellm, against our own OpenAI-compatible server on loopback."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from econ.base.graders import Grader, grade
from econ.cli import main
from econ.evidence.results_io import read_results
from tests.conftest import BASIC as DEFAULT

SECRET = "sk-test-secret-7f3a9"


class FakeServer:
    """Deterministic chat completions; some prompts fail on their first try (429, 500) or are
    slow once; ``ALWAYS500`` fails until ``healed`` is set.

    With ``s_per_prefill_token`` or ``s_per_decode_token`` it is also a simulated one-sequence
    replica: a request naming ``max_tokens`` is answered with that many words, after holding
    the replica (one request at a time) for prefill × uncached prompt words + decode × reply
    words seconds. It keeps a prefix cache of the message lists it has seen (the longest seen
    prefix is not prefilled again, and is reported as ``prompt_tokens_details.cached_tokens``)
    and counts its own busy time in ``busy_s`` (measured around the hold)."""

    def __init__(self, s_per_prefill_token: float = 0.0, s_per_decode_token: float = 0.0,
                 api_key: str | None = SECRET) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.healed = False
        self.s_per_prefill_token, self.s_per_decode_token = s_per_prefill_token, s_per_decode_token
        self.replica = threading.Lock()
        self.busy_s = 0.0
        self.timed_requests = 0
        self.prefixes: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if api_key is not None and (self.headers.get("Authorization")
                                            != f"Bearer {api_key}"):
                    return self._send(401, {"error": {"message": "bad key"}})
                limit = body.get("max_tokens") or body.get("max_completion_tokens")
                if limit and (server.s_per_prefill_token or server.s_per_decode_token):
                    return self._send(200, server.serve_timed(body, int(limit)))
                model = body["model"]
                if self.path.endswith("/embeddings"):  # for traffic coverage --embeddings
                    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    server.calls[(model, "embeddings")] += 1
                    return self._send(200, {
                        "object": "list", "model": model,
                        "data": [{"object": "embedding", "index": i,
                                  "embedding": server.embed(t)} for i, t in enumerate(texts)],
                        "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)}})
                last = body["messages"][-1]["content"]
                key = (model, last)
                server.calls[key] += 1
                first = server.calls[key] == 1
                if "FLAKY429" in last and first:
                    return self._send(429, {"error": {"message": "slow down"}})
                if "FLAKY500" in last and first:
                    return self._send(500, {"error": {"message": "boom"}})
                if "ALWAYS500" in last and not server.healed:
                    return self._send(500, {"error": {"message": "down"}})
                if "SLOW" in last and first:
                    time.sleep(2.5)
                reply = server.answer(model, last)
                prompt = sum(len(m["content"].split()) for m in body["messages"])
                return self._send(200, {
                    "id": "x", "object": "chat.completion", "created": 0, "model": model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply}}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": len(reply.split()),
                              "total_tokens": prompt + len(reply.split())}})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # the client may have timed out on the slow reply and left
                with contextlib.suppress(BrokenPipeError):
                    self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve_timed(self, body: dict, limit: int) -> dict:
        messages = [(m["role"], _content(m["content"])) for m in body["messages"]]
        words = [len(text.split()) for _role, text in messages]
        keys = [json.dumps(messages[:k]) for k in range(1, len(messages) + 1)]
        reply = " ".join(["tok"] * limit)
        with self.replica:
            cached = max((sum(words[:k + 1]) for k in range(len(keys)) if keys[k] in self.prefixes),
                         default=0)
            hold = (self.s_per_prefill_token * (sum(words) - cached)
                    + self.s_per_decode_token * limit)
            start = time.perf_counter()
            time.sleep(hold)
            self.busy_s += time.perf_counter() - start
            self.timed_requests += 1
            self.prefixes.update(keys)
            # the reply joins the prefix the next turn re-sends
            self.prefixes.add(json.dumps([*messages, ("assistant", reply)]))
        return {"id": f"r{self.timed_requests}", "object": "chat.completion", "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "length",
                             "message": {"role": "assistant", "content": reply}}],
                "usage": {"prompt_tokens": sum(words), "completion_tokens": limit,
                          "total_tokens": sum(words) + limit,
                          "prompt_tokens_details": {"cached_tokens": cached}}}

    @staticmethod
    def answer(model: str, last: str) -> str:
        if "ambiguous" in last:
            # the teacher asks; the student guesses
            return "Which report do you mean?" if model == "big" else "Here is the summary."
        if "csv" in last:
            return '{"rows": 2}' if model == "big" else "rows: 2"
        return "The answer is 42."

    @staticmethod
    def embed(text: str) -> list[float]:
        """Deterministic bag of words: counts of lower-cased words hashed into 64 slots."""
        vec = [0.0] * 64
        for word in text.lower().split():
            vec[zlib.crc32(word.strip(".,?!").encode()) % 64] += 1.0
        return vec

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _content(content: str | list) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content if isinstance(p, dict))


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


PROBES = [
    {"id": "a1", "capability": "clarifying_questions",
     "turns": ["Summarise the report (ambiguous)"],
     "grader": {"type": "regex", "value": r"\?\s*$"}},
    {"id": "a2", "capability": "clarifying_questions",
     "turns": ["Hello", "Fix the ambiguous one FLAKY429"], "grader": {"type": "contains",
                                                                       "value": "which"}},
    {"id": "c1", "capability": "legacy_csv_input", "turns": ["parse this csv FLAKY500"],
     "grader": {"type": "json_schema", "schema": {"type": "object", "required": ["rows"]}}},
    {"id": "m1", "capability": "math", "turns": ["What is 6*7? SLOW"],
     "grader": {"type": "contains", "value": "42"}},
    {"id": "m2", "capability": "math", "turns": ["What is 40+2?"],
     "grader": {"type": "exact", "value": "The answer is 42."}},
]


def scenario(tmp_path, server, probes=PROBES):
    (tmp_path / "probes.jsonl").write_text("".join(json.dumps(p) + "\n" for p in probes))
    text = DEFAULT.read_text()
    text = text.replace("    price_key: o1 ", f"""    price_key: o1
    endpoint:
      litellm_model: openai/big
      api_base: {server.url}
      api_key_env: ECON_TEST_KEY
    """.rstrip() + " ")
    text = text.replace("    price_key: gpt-4o-mini ", """    price_key: gpt-4o-mini
    endpoint:
      litellm_model: openai/small
      api_base: http://127.0.0.1:9/v1
      api_key_env: ECON_TEST_KEY
    """.rstrip() + " ")
    text = text.replace("probes: probes/frontier-vs-distilled.jsonl", "probes: probes.jsonl")
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


def probe(capsys, path, model, out, *extra):
    code = main(["probe", str(path), "--model", model, "-o", str(out), "--timeout", "1",
                 "--retries", "3", "--concurrency", "3", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_probe_teacher_and_student_then_compare(tmp_path, server, capsys, monkeypatch):
    monkeypatch.setenv("ECON_TEST_KEY", SECRET)
    path = scenario(tmp_path, server)
    out = tmp_path / "results.jsonl"
    code, text, err = probe(capsys, path, "teacher", out)
    assert code == 0, err
    # the student's scenario endpoint is dead: --base-url points it at the server
    code, text2, err = probe(capsys, path, "student", out, "--base-url", server.url)
    assert code == 0, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 10
    teacher = {r["example_id"]: r for r in records if r["model"] == "teacher"}
    student = {r["example_id"]: r for r in records if r["model"] == "student"}
    assert {k: v["passed"] for k, v in teacher.items()} == dict.fromkeys(teacher, 1)
    assert {k: v["passed"] for k, v in student.items()} == {
        "a1": 0, "a2": 0, "c1": 0, "m1": 1, "m2": 1}
    # two turns: the second prompt carries the whole history
    assert teacher["a2"]["turns"] == 2
    assert teacher["a2"]["input_tokens"] == 1 + (1 + 4 + 5)  # "The answer is 42." is 4 words
    # cost from the pinned prices: o1 at 15 / 60 USD per million tokens
    r = teacher["m2"]
    assert r["cost_usd"] == pytest.approx((r["input_tokens"] * 15 + r["output_tokens"] * 60) / 1e6)
    # retries: the 429, the 500 and the slow reply were each sent twice, nothing more
    assert server.calls[("big", "Fix the ambiguous one FLAKY429")] == 2
    assert server.calls[("big", "parse this csv FLAKY500")] == 2
    assert server.calls[("big", "What is 6*7? SLOW")] == 2
    assert "clarifying_questions" in text and "cost (USD/conv)" in text
    # the results feed econ compare
    rows = read_results(out)
    assert len(rows) == 10
    code = main(["compare", str(out), "--teacher", "teacher", "--student", "student", "--json"])
    result = json.loads(capsys.readouterr().out)
    caps = {c["capability"]: c for c in result["capabilities"]}
    assert caps["clarifying_questions"]["n_paired"] == 2
    assert caps["clarifying_questions"]["drop"] == 1.0
    assert code in (0, 3)
    # the key never reaches any output
    for blob in (out.read_text(), text, text2, err):
        assert SECRET not in blob


def test_partial_run_keeps_results_and_resumes(tmp_path, server, capsys, monkeypatch):
    monkeypatch.setenv("ECON_TEST_KEY", SECRET)
    probes = [*PROBES[3:], {"id": "x1", "capability": "math", "turns": ["ALWAYS500 1+1"],
                            "grader": {"type": "contains", "value": "42"}}]
    path = scenario(tmp_path, server, probes)
    out = tmp_path / "results.jsonl"
    code, _, err = probe(capsys, path, "teacher", out)
    assert code == 1
    assert "probe x1: InternalServerError (HTTP 500)" in err
    assert "rerun the same command to resume" in err
    assert SECRET not in err
    assert sorted(json.loads(line)["example_id"] for line in out.read_text().splitlines()) == [
        "m1", "m2"]
    assert server.calls[("big", "ALWAYS500 1+1")] == 4  # first try and three retries
    # an interrupted write left half a line behind: the resume cuts it
    out.write_text(out.read_text() + '{"model": "teacher", "exam')
    server.healed = True
    before = sum(server.calls.values())
    code, text, err = probe(capsys, path, "teacher", out)
    assert code == 0, err
    assert sum(server.calls.values()) - before == 1  # only the unfinished probe was sent
    assert "1 probes now, 2 from an earlier run" in text
    assert len(read_results(out)) == 3


def test_missing_key_and_bad_probe_file(tmp_path, server, capsys, monkeypatch):
    monkeypatch.delenv("ECON_TEST_KEY", raising=False)
    path = scenario(tmp_path, server)
    code, _, err = probe(capsys, path, "teacher", tmp_path / "o.jsonl")
    assert code == 1
    assert err.strip() == ("models.teacher.endpoint.api_key_env: set the environment variable "
                           "ECON_TEST_KEY")
    monkeypatch.setenv("ECON_TEST_KEY", SECRET)
    (tmp_path / "probes.jsonl").write_text('{"id": "a", "capability": "x", "turns": [], '
                                           '"grader": {"type": "contains", "value": "y"}}\n')
    code, _, err = probe(capsys, path, "teacher", tmp_path / "o.jsonl")
    assert code == 1
    assert err.strip().startswith(f"{tmp_path / 'probes.jsonl'}:1: turns: List should have at "
                                  "least 1 item")
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(("grader", "reply", "ok"), [
    ({"type": "exact", "value": "Yes"}, " yes \n", True),
    ({"type": "exact", "value": "Yes", "case_sensitive": True}, "yes", False),
    ({"type": "contains", "value": "echo"}, "It is an Echo.", True),
    ({"type": "regex", "value": r"^\d+$"}, "42", True),
    ({"type": "regex", "value": r"^\d+$"}, "42 apples", False),
    ({"type": "json_schema", "schema": {"type": "object", "required": ["a"]}},
     '```json\n{"a": 1}\n```', True),
    ({"type": "json_schema", "schema": {"type": "object", "required": ["a"]}}, '{"b": 1}', False),
    ({"type": "json_schema", "schema": {"type": "object"}}, "not json", False),
])
def test_graders(grader, reply, ok):
    assert grade(Grader.model_validate(grader), reply) is ok
