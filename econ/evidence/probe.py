"""``econ probe``: send a scenario's probe conversations to a model through litellm.

Each probe is one conversation (user turns sent in order, the model's replies kept in the
history), labelled with the capability it exercises and graded on the last reply. Results are
appended, one JSON line per finished conversation, in the plain per-example format plus the
measured tokens, latency and cost, so an interrupted run keeps what it finished and a rerun
resumes with the rest. 429s, 5xx replies, timeouts and dropped connections are retried with
exponential backoff. The API key is read from the environment and never written anywhere.

This module imports litellm (slow, so only ``econ probe`` loads it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from econ.base.errors import EconError
from econ.base.fileio import MAX_INPUT_BYTES, MAX_SCENARIO_BYTES, read_limited, read_text_limited
from econ.base.graders import Grader, grade
from econ.base.secrets import cut
from econ.scenario.conversation import ConversationTokens

__all__ = ["Probe", "ProbeOutcome", "ProbeTarget", "check_probe_output", "finished_records",
           "load_probes", "output_lock", "run_probes"]

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
_RECORD_KEYS = {"model", "example_id", "capability", "passed", "latency_s"}
ERROR_CHARS = 300  # an error message is cut to this length, after redaction
# litellm gives these a status code (500, 408) although no server replied
_TIMEOUTS = {"Timeout", "APITimeoutError", "ReadTimeout", "ConnectTimeout", "WriteTimeout",
             "PoolTimeout", "TimeoutException"}
_CONNECTION_FAILURES = {"APIConnectionError", "ConnectError", "RemoteProtocolError"}


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    capability: str
    system: str | None = None
    turns: list[str] = Field(min_length=1, description="user messages, sent in order")
    grader: Grader


def load_probes(path: Path) -> list[Probe]:
    try:
        text = read_text_limited(path, MAX_SCENARIO_BYTES)
    except FileNotFoundError:
        raise EconError(f"{path}: probes file not found") from None
    except UnicodeDecodeError as exc:
        raise EconError(f"{path}: the probes file is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise EconError(f"{path}: cannot read the probes file: {exc.strerror or exc}") from None
    probes, problems, seen = [], [], set()
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            p = Probe.model_validate_json(line)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(x) for x in err["loc"]) or "(line)"
            problems.append(f"{path}:{i}: {where}: {str(err['msg']).removeprefix('Value error, ')}")
            continue
        if p.id in seen:
            problems.append(f"{path}:{i}: id: duplicate probe id {p.id!r}")
        seen.add(p.id)
        probes.append(p)
    if problems:
        raise EconError("\n".join(problems))
    if not probes:
        raise EconError(f"{path}: no probes")
    return probes


@dataclass(frozen=True)
class ProbeTarget:
    model_id: str  # the scenario's id, recorded in the results
    litellm_model: str
    api_base: str | None
    api_key: str | None
    cost_usd: Callable[[ConversationTokens], float] | None = None


@dataclass(frozen=True)
class ProbeOutcome:
    done: int
    skipped: int  # finished in an earlier run
    failed: dict[str, str]  # probe id -> last error
    records: tuple[dict[str, Any], ...]


def _status(exc: Exception) -> int | None:
    code = getattr(exc, "status_code", None)
    return int(code) if isinstance(code, int) else None


def _retryable(exc: Exception) -> bool:
    status = _status(exc)
    if status is not None:
        return status in RETRYABLE_STATUS
    name = type(exc).__name__
    return name in {"Timeout", "APIConnectionError", "ServiceUnavailableError",
                    "InternalServerError", "RateLimitError"}


def _describe(exc: Exception, secret: str | None) -> str:
    """One line about a failed call, with every secret redacted before the text is cut."""
    name = type(exc).__name__
    status = _status(exc)
    reason = _no_reply(exc)
    if reason:
        label = f"{name} (no HTTP reply: {reason})"
    else:
        label = name + (f" (HTTP {status})" if status else "")
    return cut(f"{label}: {exc}", ERROR_CHARS, [secret])


def _no_reply(exc: BaseException) -> str | None:
    """Why no server replied, when litellm labels a refused connection or a timeout with a
    status code of its own (500, 408): found in the exception chain."""
    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and len(chain) < 20:
        chain.append(node)
        node = node.__cause__ or node.__context__
    names = [type(e).__name__ for e in chain]
    if any(isinstance(e, TimeoutError) or n in _TIMEOUTS for e, n in zip(chain, names,
                                                                          strict=True)):
        return "timed out"
    if any(isinstance(e, ConnectionError) or n in _CONNECTION_FAILURES
           for e, n in zip(chain, names, strict=True)):
        return "the connection failed"
    return None


def run_probes(probes: Sequence[Probe], target: ProbeTarget, out_path: Path, *,
               concurrency: int = 4, timeout_s: float = 60.0, retries: int = 4,
               backoff_s: float = 0.5,
               progress: Callable[[int, int], None] | None = None) -> ProbeOutcome:
    if retries < 0:
        raise EconError(f"--retries {retries}: give 0 or more retries")
    if not timeout_s > 0 or timeout_s == float("inf"):
        raise EconError(f"--timeout {timeout_s}: give a positive number of seconds")
    with output_lock(out_path):
        return _run_locked(probes, target, out_path, concurrency, timeout_s, retries,
                           backoff_s, progress)


@contextlib.contextmanager
def output_lock(out_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``out_path`` (created empty if new) for the whole run, so
    a second run on the same output refuses instead of doubling the spend."""
    try:
        fd = os.open(out_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EconError(f"{out_path}: cannot lock the output: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EconError(f"{out_path}: another econ probe is writing to this file; wait "
                            "for it to finish (a rerun then resumes where it stopped)") from None
        yield
    finally:
        os.close(fd)


def check_probe_output(path: Path, model_ids: Iterable[str]) -> None:
    """Refuse to append to a file that is not an earlier probe result of this scenario."""
    if not path.exists():
        return
    data = read_limited(path, MAX_INPUT_BYTES)
    known = set(model_ids)
    lines = data.split(b"\n")
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        last_partial = i == len(lines)
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            if last_partial and line.startswith(b'{"model"'):
                continue  # an interrupted run's half line: the resume cuts it
            rec = None
        if not (isinstance(rec, dict) and set(rec) >= _RECORD_KEYS
                and rec.get("model") in known):
            raise EconError(f"{path}:{i}: not a probe result of this scenario; econ probe "
                            "appends only to its own results: choose another -o")


def _run_locked(probes: Sequence[Probe], target: ProbeTarget, out_path: Path, concurrency: int,
                timeout_s: float, retries: int, backoff_s: float,
                progress: Callable[[int, int], None] | None) -> ProbeOutcome:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True  # its "Give Feedback" banner would go to stdout
    _drop_partial_line(out_path)
    done_ids = {str(r.get("example_id")) for r in finished_records(out_path, target.model_id)}
    todo = [p for p in probes if p.id not in done_ids]
    lock = threading.Lock()
    records: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    counter = [0]

    def call(messages: list[dict[str, str]]) -> tuple[str, int, int]:
        for attempt in range(max(0, retries) + 1):
            try:
                resp = litellm.completion(
                    model=target.litellm_model, messages=messages, api_base=target.api_base,
                    # a local OpenAI-compatible server takes any key; an API's own key is
                    # read from the environment by litellm when none is given
                    api_key=target.api_key or ("EMPTY" if target.api_base else None),
                    timeout=timeout_s, max_retries=0,
                    num_retries=0, temperature=0)
                usage = getattr(resp, "usage", None)
                content = resp.choices[0].message.content or ""
                return (content, int(getattr(usage, "prompt_tokens", 0) or 0),
                        int(getattr(usage, "completion_tokens", 0) or 0))
            except Exception as exc:
                if attempt >= retries or not _retryable(exc):
                    raise
                time.sleep(backoff_s * 2 ** attempt)
        raise RuntimeError("no attempt was made")  # pragma: no cover - the loop runs once

    def one(p: Probe) -> None:
        messages = [{"role": "system", "content": p.system}] if p.system else []
        t0 = time.perf_counter()
        tokens_in = tokens_out = 0
        per_turn: list[tuple[float, float, float]] = []
        try:
            reply = ""
            for turn in p.turns:
                messages.append({"role": "user", "content": turn})
                reply, i, o = call(messages)
                tokens_in += i
                tokens_out += o
                per_turn.append((float(i), 0.0, float(o)))
                messages.append({"role": "assistant", "content": reply})
        except Exception as exc:
            with lock:
                failed[p.id] = _describe(exc, target.api_key)
                counter[0] += 1
                if progress:
                    progress(counter[0], len(todo))
            return
        latency = time.perf_counter() - t0
        tokens = ConversationTokens(float(tokens_in), 0.0, float(tokens_out),
                                    measured_turns=tuple(per_turn))
        record = {"model": target.model_id, "example_id": p.id, "capability": p.capability,
                  "passed": int(grade(p.grader, reply)), "input_tokens": tokens_in,
                  "output_tokens": tokens_out, "latency_s": round(latency, 4),
                  "cost_usd": target.cost_usd(tokens) if target.cost_usd else None,
                  "turns": len(p.turns)}
        with lock:
            with out_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            records.append(record)
            counter[0] += 1
            if progress:
                progress(counter[0], len(todo))

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        list(pool.map(one, todo))
    return ProbeOutcome(len(records), len(probes) - len(todo), failed, tuple(records))


def finished_records(path: Path, model_id: str) -> list[dict[str, Any]]:
    """The result records this model already has in ``path`` (a partial line is ignored)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("model") == model_id:
            out.append(rec)
    return out


def _drop_partial_line(path: Path) -> None:
    """Cut a last line left unfinished by an interrupted run, so appends start clean."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])
