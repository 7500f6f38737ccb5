"""Secrets, third round: a credential in any field, URL or error never reaches an output.

Each case puts a canary where a user might paste a key (a scenario field, an endpoint URL, a
backend URL, a link, an error message, the environment) and asserts the canary appears in no
output, file, page or link, and that the refusal is exit 1 with a message that does not echo it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from econ.cli import main
from tests.conftest import BASIC, ROOT

TOKEN = "7f3a9c2e5b1d4f60"  # fixed: test ids must match across xdist workers
KEY = f"sk-proj-CANARY{TOKEN}"  # an OpenAI-shaped key
PASSWORD = f"CanaryPw{TOKEN}"
APP = str(ROOT / "app.py")


def run(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def scenario_with(tmp_path: Path, old: str, new: str, name: str = "s.yaml") -> Path:
    text = BASIC.read_text()
    assert old in text, old
    p = tmp_path / name
    p.write_text(text.replace(old, new, 1))
    return p


FIELDS = {
    "price_key": ("price_key: gpt-4o-mini", f"price_key: {KEY}"),
    "description": ("Premium frontier", f"Premium {KEY} frontier"),
    "a model label": ("label: distilled student priced like GPT-4o mini", f"label: {KEY}"),
    "a model id": ("  student:\n", f"  {KEY}:\n"),
    "api_base password": ("role: student", "role: student\n    endpoint: {litellm_model: "
                          f"openai/x, api_base: 'https://alice:{PASSWORD}@vllm.internal/v1'}}"),
    "api_base token parameter": ("role: student", "role: student\n    endpoint: {litellm_model: "
                                 f"openai/x, api_base: 'https://h/v1?token={PASSWORD}'}}"),
}


@pytest.mark.parametrize("field", list(FIELDS))
def test_a_credential_in_a_scenario_field_is_refused_without_echo(tmp_path, capsys, field):
    old, new = FIELDS[field]
    path = scenario_with(tmp_path, old, new)
    canary = KEY if KEY in new else PASSWORD
    for command in ("validate", "evaluate"):
        code, text = run(command, str(path), capsys=capsys)
        assert code == 1, text
        assert canary not in text and "CANARY" not in text and "Canary" not in text
        assert "looks like a credential" in text


def test_a_key_pasted_as_api_key_env_is_refused_without_echo(tmp_path, capsys):
    pasted = f"abc-{TOKEN}-def"  # not shaped like a known key, but not a variable name either
    path = scenario_with(tmp_path, "role: student", "role: student\n    endpoint: {litellm_model:"
                         f" openai/x, api_key_env: '{pasted}'}}")
    code, text = run("validate", str(path), capsys=capsys)
    assert code == 1, text
    assert pasted not in text
    assert "api_key_env: the name of an environment variable" in text


def test_a_value_of_a_secret_variable_is_refused_where_the_scenario_would_show_it(
        tmp_path, capsys, monkeypatch):
    plain = f"plainvalue{TOKEN}"  # no shape of a key at all: known only from the environment
    monkeypatch.setenv("MY_SERVICE_API_KEY", plain)
    path = scenario_with(tmp_path, "name: frontier-vs-distilled", f"name: {plain}")
    code, text = run("evaluate", str(path), capsys=capsys)
    assert code == 1 and plain not in text, text


def test_diff_never_prints_a_url_password(tmp_path, capsys):
    a = scenario_with(tmp_path, "role: student", "role: student\n    endpoint: {litellm_model: "
                      "openai/x, api_base: 'https://vllm.internal/v1'}", "a.yaml")
    b = scenario_with(tmp_path, "role: student", "role: student\n    endpoint: {litellm_model: "
                      f"openai/x, api_base: 'https://alice:{PASSWORD}@vllm.internal/v1'}}",
                      "b.yaml")
    for extra in ((), ("--json",)):
        code, text = run("diff", str(a), str(b), *extra, capsys=capsys)
        assert PASSWORD not in text, text
        assert code == 1


@pytest.mark.parametrize("url", [
    f"postgres://alice:{PASSWORD}@127.0.0.1:1/db",
    f"mysql://bob:{PASSWORD}@127.0.0.1:1/db",
    f"snowflake://carol:{PASSWORD}@account/db/schema",
    f"bigquery://{PASSWORD}@project/dataset",
    f"nosuchscheme://{PASSWORD}@host/x",
])
def test_backend_urls_are_printed_without_their_credentials(tmp_path, capsys, url):
    log = tmp_path / "log.jsonl"
    log.write_text('{"messages": [{"role": "user", "content": "hi"}, '
                   '{"role": "assistant", "content": "hello"}]}\n')
    code, text = run("traffic", str(log), "--backend", url, capsys=capsys)
    assert code != 0, text
    assert PASSWORD not in text, text
    assert "***" in text  # the URL is named without its credentials


def test_a_classifier_error_is_redacted_before_it_is_cut(monkeypatch):
    """A 401 body that puts the key across the 200-character cut: no part of it survives."""
    from econ.base.errors import EconError
    from econ.evidence.traffic import classifier
    from econ.evidence.traffic.spend import SpendEstimate

    key = f"sk-CANARY{TOKEN}{TOKEN}"

    class Fake:
        @staticmethod
        def completion(**kwargs):
            raise RuntimeError("AuthenticationError: " + "x" * 140 + f" Incorrect API key "
                               f"provided: {kwargs['api_key']}. You can find your key at ...")

    monkeypatch.setattr(classifier, "litellm_module", lambda: Fake)
    est = SpendEstimate("openai/m", "classifier", 1, 10, 10, 0.0, 0.0)
    with pytest.raises(EconError) as err:
        classifier.classify(["hi"], [("math", "math")], "openai/m", max_spend_usd=1.0,
                            api_key=key, estimate=est, concurrency=1)
    assert "CANARY" not in str(err.value) and TOKEN[:6] not in str(err.value), str(err.value)


def test_redaction_by_shape_and_by_place():
    from econ.base.secrets import looks_secret, redact

    env: dict[str, str] = {}
    cases = {
        f"key {KEY} here": "key *** here",
        f"postgres://alice:{PASSWORD}@db:5432/x": "postgres://***@db:5432/x",
        f"https://{PASSWORD}@github.com/o/r": "https://***@github.com/o/r",
        f"https://h/x?a=1&token={PASSWORD}&b=2": "https://h/x?a=1&token=***&b=2",
        f"bigquery://p/d?credentials_base64={PASSWORD}": "bigquery://p/d?credentials_base64=***",
        f"Authorization: Bearer {PASSWORD}": "Authorization: Bearer ***",
        f"password={PASSWORD}": "password=***",
        "ghp_" + "a1B2" * 9: "***",
        "AKIA" + "ABCDEFGHIJ123456": "***",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefgh123": "***",
        "token Zq8Lm3Np5Rt7Vx9Bc2Df": "token ***",
        "id: Zq8Lm3Np5Rt7Vx9Bc2Df4Gh": "id: ***",  # random-looking, no known prefix
        "x 9fKq2LmZ7wXc4RtB8nVd3Hs y": "x *** y",
    }
    for text, expected in cases.items():
        assert redact(text, environ=env) == expected, text
    # ordinary report text stays as it is
    for text in ("Meta-Llama-3.1-8B-Instruct on 4x H100", "DeepSeekR1DistillLlama8B",
                 "git revision 3f2a9c1e0b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f", "Basic Statistics",
                 "tokens per turn: user 295.6", "key-findings of the review", "sk-learn",
                 "https://docs.nvidia.com/aiperf/", "http://localhost:8000/v1",
                 "ThisIsAVeryLongCamelCase2"):
        assert redact(text, environ=env) == text, text
        assert not looks_secret(text, environ=env)


def test_a_record_and_an_export_never_carry_a_credential(tmp_path):
    """Whatever reaches the recorder and the exporter (here a description set after
    validation, as an edit would) is redacted there too."""
    from econ.model.evaluate import evaluate
    from econ.model.loader import load_scenario
    from econ.outputs.export import export_bytes
    from econ.outputs.provenance import build_provenance
    from econ.outputs.record import build_record, record_html, record_markdown

    loaded = load_scenario(BASIC)
    scenario = loaded.scenario.model_copy(update={"description": f"see {KEY}"})
    ev = evaluate(scenario, loaded.measured)
    prov = build_provenance(ev, None, f"{KEY}.yaml", unsaved_edits=False)
    rec = build_record(ev, loaded.measured, prov, draws=1000, seed=0)
    for text in (record_markdown(rec), record_html(rec),
                 *(export_bytes(ev, f, prov).decode("utf-8", "replace")
                   for f in ("csv", "md", "json"))):
        assert "CANARY" not in text


def test_the_app_never_shows_a_pasted_key(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    scenario_with(folder, "label: distilled student priced like GPT-4o mini", f"label: {KEY}",
                  "leak.yaml")
    monkeypatch.setenv("ECON_SCENARIOS", str(folder))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    shown = [e.value for e in at.error]
    assert shown and "looks like a credential" in " ".join(shown)
    assert "CANARY" not in repr([el.value for el in at.main if hasattr(el, "value")])


def test_a_shared_link_never_echoes_a_key(monkeypatch, folder):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["scenario"] = "frontier-vs-distilled.yaml"
    at.query_params["tier"] = KEY
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "ignored" in warnings.lower() and "CANARY" not in warnings
    shown = " ".join(t.value for t in at.text)
    assert "tier '***" in shown and "CANARY" not in shown, shown
    assert all("CANARY" not in str(v) for v in at.query_params.values())


@pytest.mark.parametrize("argv", [["validate"], ["evaluate", "--json"], ["schema"], ["--help"]])
def test_a_full_or_closed_stdout_is_exit_1_with_one_line(argv):
    """`> /dev/full` and `>&-`: exit 1 and one line on stderr, never 0, 2 or Python's 120."""
    import os

    args = list(argv)
    if argv[0] in ("validate", "evaluate"):
        args = [argv[0], str(BASIC), *argv[1:]]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "econ.cli", *args]
    with open("/dev/full", "w") as full:
        r = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True, env=env,
                           timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.strip().count("\n") == 0 and "standard output" in r.stderr, r.stderr
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       env=env, timeout=120, preexec_fn=lambda: os.close(1))
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.strip().count("\n") == 0 and "standard output" in r.stderr, r.stderr


def test_a_read_only_export_target_is_refused(tmp_path, capsys):
    target = tmp_path / "table.csv"
    target.write_text("keep me\n")
    target.chmod(0o444)
    code, text = run("export", str(BASIC), "-o", str(target), capsys=capsys)
    assert code == 1 and "read-only" in text, text
    assert target.read_text() == "keep me\n"
