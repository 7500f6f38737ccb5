"""econ probe against hostile servers and options: no key anywhere, no silent pass, no double spend.

The canary keys run through every failure path in this process, one run after another (litellm
is imported once), with the real file descriptors 1 and 2 captured (``capfd``: litellm's own
loggers and anything else writing to the process's stderr are caught too), and stdout, stderr
and every file written are searched for any 8-character piece of them. litellm's module
settings, callbacks, client cache and loggers are put back after each run, so nothing one run
leaves there reaches the next run or a later test.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import inspect
import json
import logging
import os
import secrets
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from econ.cli import main
from tests.conftest import BASIC as DEFAULT

ENDPOINT_KEY = "sk-CANARY" + secrets.token_hex(12)  # named by the scenario's api_key_env
PROVIDER_KEY = "sk-proj-CANARY" + secrets.token_hex(12)  # read by litellm itself
LONG = (150, 180, 190, 195, 200, 210, 260, 280, 290, 300, 320)  # padding before the echo


class EchoServer:
    """Fails as the last user message says, echoing the Authorization header in the body."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                last = body["messages"][-1]["content"]
                auth = self.headers.get("Authorization", "")
                if last.startswith("SLOW"):
                    time.sleep(9)  # well past the probes' 3 s timeout
                    return self._send(200, {"error": {"message": auth}})
                status, pad = 500, 0
                if last.startswith("E"):
                    status = int(last[1:4])
                elif last.startswith("LONG"):
                    pad = int(last[4:])
                message = "x" * pad + f"Incorrect API key provided: {auth}; headers: " \
                    f"{{'Authorization': '{auth}'}}"
                return self._send(status, {"error": {"message": message, "type": "invalid"}})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def echo():
    s = EchoServer()
    yield s
    s.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed when the block ends: nothing listens there


def write_scenario(tmp_path: Path, teacher_base: str, probes: list[dict]) -> Path:
    (tmp_path / "probes.jsonl").write_text("".join(json.dumps(p) + "\n" for p in probes))
    text = DEFAULT.read_text().replace("    price_key: o1 ", f"""    price_key: o1
    endpoint:
      litellm_model: openai/big
      api_base: {teacher_base}
      api_key_env: ECON_TEST_KEY
    """.rstrip() + " ")
    text = text.replace("probes: probes/frontier-vs-distilled.jsonl", "probes: probes.jsonl")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def probe_list(prompts: list[str]) -> list[dict]:
    return [{"id": f"p{i}", "capability": "math", "turns": [t],
             "grader": {"type": "contains", "value": "42"}} for i, t in enumerate(prompts)]


@dataclass
class Run:
    code: object
    stdout: str
    stderr: str


def run_in_process(args: list[str], capfd: pytest.CaptureFixture[str]) -> Run:
    """``econ ARGS`` here, with what it wrote to the real stdout and stderr (file descriptors 1
    and 2, litellm's loggers included)."""
    hook = threading.excepthook
    with litellm_restored(), warnings.catch_warnings(record=True) as caught:
        # as in a fresh process: no handler on the root logger (pytest adds its own), so a
        # record no handler takes goes to stderr through logging.lastResort; warnings and a
        # thread's uncaught exception printed, not kept for pytest's summary
        logging.getLogger().handlers.clear()
        warnings.simplefilter("always")
        threading.excepthook = threading.__excepthook__
        try:
            code: object = main(args)
        except SystemExit as exc:
            code = exc.code
        finally:
            threading.excepthook = hook
    out, err = capfd.readouterr()
    return Run(code, out, err + "".join(f"{w.category.__name__}: {w.message}\n"
                                        for w in caught))


@contextlib.contextmanager
def litellm_restored() -> Iterator[None]:
    """Put litellm's module-level settings (``api_base``, keys, ``suppress_debug_info``…) and
    lists (callbacks), its loggers and its client cache back as they were before the block."""
    import litellm

    module = vars(litellm)
    kinds = (str, bytes, int, float, bool, type(None), list, dict, set)
    saved = {k: (v, copy.copy(v)) for k, v in module.items() if isinstance(v, kinds)}
    loggers = {lg: (lg.handlers[:], lg.filters[:], lg.level, lg.propagate, lg.disabled)
               for lg in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
               if isinstance(lg, logging.Logger)}
    try:
        yield
    finally:
        for k in [k for k, v in module.items() if k not in saved and isinstance(v, kinds)]:
            del module[k]  # set during the block (litellm.telemetry)
        for k, (obj, value) in saved.items():
            if module.get(k) is not obj:
                module[k] = obj
            if isinstance(obj, list):
                obj[:] = value
            elif isinstance(obj, (dict, set)):
                obj.clear()
                obj.update(value)
        for lg, (handlers, filters, level, propagate, disabled) in loggers.items():
            lg.handlers[:], lg.filters[:] = handlers, filters
            lg.level, lg.propagate, lg.disabled = level, propagate, disabled
        cache = litellm.in_memory_llm_clients_cache  # clients built with the canary keys
        clients = list(cache.cache_dict.values())
        cache.flush_cache()
        for client in clients:
            close = getattr(client, "close", None)
            if callable(close) and not inspect.iscoroutinefunction(close):
                with contextlib.suppress(Exception):
                    close()


def leaks(blob: str, key: str) -> list[str]:
    """Every 8-character piece of the key's random part found in ``blob``."""
    tail = key.split("CANARY", 1)[1]
    return [tail[i:i + 8] for i in range(len(tail) - 7) if tail[i:i + 8] in blob]


@pytest.mark.slow
def test_no_key_reaches_any_output_on_any_failure_path(tmp_path, echo, capfd, monkeypatch):
    prompts = ["E401", "E400", "E500", "SLOW", *(f"LONG{n}" for n in LONG)]
    path = write_scenario(tmp_path, echo.url, probe_list(prompts))
    for name in list(os.environ):
        if name.startswith(("OPENAI", "ECON_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ECON_TEST_KEY", ENDPOINT_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", PROVIDER_KEY)
    monkeypatch.setenv("OPENAI_API_BASE", echo.url)
    # what econ probe sets before importing litellm (offline price map), undone afterwards
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.chdir(tmp_path)

    def common(name: str) -> list[str]:
        return ["-o", str(tmp_path / f"{name}.jsonl"), "--timeout", "3", "--retries", "0",
                "--concurrency", "4"]

    runs = {
        # the scenario's endpoint and key
        "endpoint": run_in_process(["probe", str(path), "--model", "teacher",
                                    *common("endpoint")], capfd),
        # no endpoint: litellm reads OPENAI_API_KEY (and the base URL) itself
        "provider": run_in_process(["probe", str(path), "--model", "student",
                                    *common("provider")], capfd),
        # a closed port
        "closed": run_in_process(["probe", str(path), "--model", "teacher", *common("closed"),
                                  "--base-url", f"http://127.0.0.1:{closed_port()}/v1"], capfd),
    }
    late = capfd.readouterr()  # anything written once the runs had returned
    assert "Give Feedback" not in late.out + late.err
    for key in (ENDPOINT_KEY, PROVIDER_KEY):
        assert leaks(late.out + late.err, key) == []
    for name, r in runs.items():
        assert r.code == 1, (name, r.stderr)
        assert "internal error" not in r.stderr
        assert "Give Feedback" not in r.stdout + r.stderr  # litellm's banner is silenced
        for key in (ENDPOINT_KEY, PROVIDER_KEY):
            assert leaks(r.stdout, key) == [], name
            assert leaks(r.stderr, key) == [], name
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "s.yaml"]
    for p in written:
        blob = p.read_text(errors="replace")
        assert leaks(blob, ENDPOINT_KEY) == [] and leaks(blob, PROVIDER_KEY) == [], p
    # every probe failed, and the errors say what happened without the key
    endpoint_err = runs["endpoint"].stderr
    assert "probe p0: AuthenticationError (HTTP 401)" in endpoint_err
    assert "probe p1: BadRequestError (HTTP 400)" in endpoint_err
    assert "probe p2: InternalServerError (HTTP 500)" in endpoint_err
    assert "probe p3: Timeout (no HTTP reply: timed out)" in endpoint_err
    assert "Bearer ***" in endpoint_err
    assert f"{len(prompts)} probe(s) failed" in runs["provider"].stderr
    closed = runs["closed"].stderr
    assert "(no HTTP reply: the connection failed)" in closed
    assert "HTTP 500" not in closed


def test_redact_before_cut():
    from econ.base.secrets import cut, redact

    key = "sk-secret-canary-1234567890abcdef"
    text = "x" * 159 + f"Authorization: Bearer {key}"
    # the old order (cut, then replace the whole key) let a fragment through
    assert "sk-secret-canary-12" in text[:200].replace(key, "***")
    for limit in range(150, 240, 3):
        assert "canary" not in cut(text, limit, [key])
    # keys litellm reads itself, and secret-shaped values with no known name
    env = {"OPENAI_API_KEY": "plain-value-0123456789", "MY_SERVICE_TOKEN": "tok-0123456789ab",
           "HOME": "/root"}
    assert redact("a plain-value-0123456789 b tok-0123456789ab /root", environ=env) == \
        "a *** b *** /root"
    assert redact('{"api_key": "abcdefgh1234"}', environ={}) == '{"api_key": "***"}'


def test_probe_options_are_checked_before_any_call(tmp_path, echo, capsys, monkeypatch):
    monkeypatch.setenv("ECON_TEST_KEY", ENDPOINT_KEY)
    path = write_scenario(tmp_path, echo.url, probe_list(["E500"]))
    for flag, value in (("--retries", "-1"), ("--timeout", "-5"), ("--timeout", "nan"),
                        ("--timeout", "0")):
        with pytest.raises(SystemExit) as exc:
            main(["probe", str(path), "--model", "teacher", flag, value])
        assert exc.value.code == 1
        assert f"argument {flag}" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.probe.jsonl"))


@pytest.mark.parametrize(("grader", "message"), [
    ({"type": "regex"}, "a regex grader needs a non-empty value"),
    ({"type": "contains", "value": ""}, "a contains grader needs a non-empty value"),
    ({"type": "regex", "value": "(unclosed"}, "invalid regular expression: missing )"),
    ({"type": "json_schema"}, "a json_schema grader needs a schema"),
    ({"type": "json_schema", "schema": {"type": "nope"}}, "invalid JSON Schema"),
])
def test_graders_are_validated_before_the_first_call(tmp_path, echo, capsys, monkeypatch,
                                                      grader, message):
    monkeypatch.setenv("ECON_TEST_KEY", ENDPOINT_KEY)
    probes = probe_list(["E500", "E500"])
    probes[1]["grader"] = grader
    path = write_scenario(tmp_path, echo.url, probes)
    out = tmp_path / "o.jsonl"
    code = main(["probe", str(path), "--model", "teacher", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{tmp_path / 'probes.jsonl'}:2: grader: {message}" in err
    assert not out.exists()  # nothing sent, nothing written


def test_output_that_is_not_a_probe_result_is_refused(tmp_path, echo, capsys, monkeypatch):
    monkeypatch.setenv("ECON_TEST_KEY", ENDPOINT_KEY)
    path = write_scenario(tmp_path, echo.url, probe_list(["E500"]))
    precious = tmp_path / "notes.txt"
    precious.write_text("line one\nline two without newline")
    code = main(["probe", str(path), "--model", "teacher", "-o", str(precious)])
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        f"{precious}:1: not a probe result of this scenario; econ probe appends only to its "
        "own results: choose another -o")
    assert precious.read_text() == "line one\nline two without newline"
    # a result of another scenario (unknown model ids) is refused too
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"model": "gpt-x", "example_id": "a", "capability": "c",
                                 "passed": 1, "latency_s": 0.1}) + "\n")
    assert main(["probe", str(path), "--model", "teacher", "-o", str(other)]) == 1
    assert "other.jsonl:1: not a probe result of this scenario" in capsys.readouterr().err


def test_a_second_run_on_the_same_output_refuses(tmp_path, echo, capsys, monkeypatch):
    monkeypatch.setenv("ECON_TEST_KEY", ENDPOINT_KEY)
    path = write_scenario(tmp_path, echo.url, probe_list(["E500"]))
    out = tmp_path / "o.jsonl"
    out.write_text("")
    with out.open("a") as held:  # a first run holding the output
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        code = main(["probe", str(path), "--model", "teacher", "-o", str(out), "--retries", "0"])
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        f"{out}: another econ probe is writing to this file; wait for it to finish (a rerun "
        "then resumes where it stopped)")
