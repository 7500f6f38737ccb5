"""Every writer of a scenario locked, and nothing from data becomes YAML.

Writers of every kind run at once on one file: app saves (the Save button's function),
authoring (add a capability, validated), ``econ traffic --write`` and ``econ migrate``. Each
reports success or a conflict; every edit that reported success must be in the final file.
A log whose file name holds a newline and YAML must not put that YAML into the scenario.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from econ.cli import main
from tests.conftest import ROOT, V1

LOG_LINE = json.dumps({"messages": [{"role": "user", "content": "hello there"},
                                    {"role": "assistant", "content": "hi, how can I help?"},
                                    {"role": "user", "content": "tell me a joke"},
                                    {"role": "assistant", "content": "why did the chicken"}]})

# one writer process: app saves (a comment line per save) or authoring (a capability per save)
# until the stop file appears; each success is recorded, a conflict is retried on fresh text.
# An app writer imports only what the Save button's function needs (the authoring and scenario
# modules cost ~1.5 CPU-s to import); ``out``.ready says the writer is in its loop.
WRITER = r"""
import json, sys, time
from pathlib import Path
from econ.scenario.store import SaveConflict, save_scenario_text

folder, name, kind, tag, stop, out = sys.argv[1:]
if kind != "app":
    from econ.scenario.authoring import add_item
    from econ.model.loader import parse_scenario
folder, stop = Path(folder), Path(stop)
done, conflicts, i = [], 0, 0
Path(out + ".ready").write_text("")
while not stop.exists() or len(done) < 3:
    text = (folder / name).read_text()
    marker = f"{kind}-{tag}-{i}"
    if kind == "app":
        new = text + f"# {marker}\n"
    else:
        new = add_item(text, "capabilities", marker.replace("-", "_"),
                       {"traffic_share": 0.0, "severity_usd": 0.1})
        parse_scenario(new, name, base_dir=folder)
    try:
        save_scenario_text(folder, name, new, text)
    except SaveConflict:
        conflicts += 1
        time.sleep(0.0 if kind == "app" else 0.05)  # an author's retry parses again
        continue
    done.append(marker if kind == "app" else marker.replace("-", "_"))
    i += 1
    time.sleep(0.02)
Path(out).write_text(json.dumps({"done": done, "conflicts": conflicts}))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
def test_writers_of_every_kind_at_once_lose_no_edit_that_reported_success(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    name = "s.yaml"
    (folder / name).write_text((V1 / "frontier-vs-distilled.yaml").read_text())
    stop = tmp_path / "stop"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), name, kind, tag,
                                 str(stop), str(tmp_path / f"{kind}-{tag}.json")], env=_env())
               for kind, tag in (("app", "a"), ("app", "b"), ("author", "c"))]
    # the savers are saving when the commands read the file: all three are in their loop
    ready = [tmp_path / f"{kind}-{tag}.json.ready" for kind, tag in
             (("app", "a"), ("app", "b"), ("author", "c"))]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.02)
    logs = []
    for k in range(2):
        log = tmp_path / f"log-{k}.jsonl"
        log.write_text("\n".join([LOG_LINE] * (20 + 10 * k)) + "\n")
        logs.append(log)
    commands = [subprocess.Popen([sys.executable, "-m", "econ.cli", "traffic", str(log),
                                  "--write", str(folder / name)], env=_env(),
                                 stderr=subprocess.PIPE, text=True) for log in logs]
    commands.append(subprocess.Popen([sys.executable, "-m", "econ.cli", "migrate",
                                      str(folder / name)], env=_env(), stderr=subprocess.PIPE,
                                     text=True))
    results = [(c.wait(timeout=600), c.stderr.read() if c.stderr else "") for c in commands]
    stop.write_text("")
    for w in writers:
        assert w.wait(timeout=600) == 0
    final = (folder / name).read_text()
    lost = []
    for kind, tag in (("app", "a"), ("app", "b"), ("author", "c")):
        report = json.loads((tmp_path / f"{kind}-{tag}.json").read_text())
        assert report["done"], report
        lost += [m for m in report["done"] if m not in final]
    for log, (code, err) in zip(logs, results, strict=False):
        assert code == 0, err
        assert "figure(s) changed" in err, err
        assert log.name in final, f"{log.name}: the write reported success and is gone"
    code, err = results[-1]
    assert code == 0, err
    if "wrote" in err:
        assert "schema_version: 2" in final
    assert not lost, f"edits that reported success and were overwritten: {lost}"
    data = yaml.safe_load(final)  # and the file is one valid scenario
    assert data["schema_version"] == 2


def test_a_log_file_name_never_becomes_yaml(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text((V1 / "frontier-vs-distilled.yaml").read_text())
    before = yaml.safe_load(scenario.read_text())
    hostile = "a\ncache_hit_rate: 0.95\nfees:\n  payment_rate: 0.5\n# x\u2028y\u0085z.jsonl"
    log = tmp_path / hostile
    log.write_text("\n".join([LOG_LINE] * 10) + "\n")
    try:
        code = main(["traffic", str(log), "--write", str(scenario)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 0, err
    text = scenario.read_text()
    after = yaml.safe_load(text)
    assert after["conversation"]["cache_hit_rate"] == before["conversation"]["cache_hit_rate"]
    assert after.get("fees") == before.get("fees")
    changed = {ln.split(":")[0].strip() for ln in err.splitlines() if " → " in ln}
    # only what the command reported moved: econ diff names exactly those figures
    original = tmp_path / "orig.yaml"
    original.write_text((V1 / "frontier-vs-distilled.yaml").read_text())
    assert main(["diff", str(original), str(scenario), "--json"]) in (0, 3)
    paths = {d["path"] for d in json.loads(capsys.readouterr().out)["inputs"]}
    assert paths <= changed and all(p.startswith("conversation.") for p in paths), \
        (paths, changed)  # (a figure set to its default, turns_cv 0.0, is no change to diff)
    # the file name sits inside comment lines, its line breaks made spaces
    named = [ln for ln in text.splitlines() if "cache_hit_rate: 0.95" in ln]
    assert named and all("#" in ln.split("cache_hit_rate: 0.95")[0] for ln in named), named
    assert not any(ch in text for ch in "\u2028\u0085")
