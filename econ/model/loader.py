"""Load a scenario file: YAML with lines, schema validation, references, prices and eval results.

Every problem found is reported at once, each as ``FILE:LINE: dotted.path: message (got VALUE)``.
"""

from __future__ import annotations

import json
import os
import types
import typing
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from econ.base.errors import EconError, Problem, ScenarioError
from econ.base.fileio import MAX_INPUT_BYTES, MAX_SCENARIO_BYTES, read_text_limited
from econ.evidence.results_io import read_results, results_to_eval_data
from econ.evidence.retention import SliceResults
from econ.model.cost import measured_time_models
from econ.model.evaluate import Measured, inline_eval_data
from econ.model.prices import PriceSnapshot, price_problems, resolve_prices
from econ.scenario.schema import Scenario, SelfHostedModel, reference_problems
from econ.scenario.yamlio import Lines, parse_yaml

__all__ = [
    "DEFAULT_SNAPSHOT",
    "Loaded",
    "load_scenario",
    "load_snapshot",
    "parse_scenario",
]

DEFAULT_SNAPSHOT = Path(__file__).resolve().parents[2] / "data" / "litellm_prices.json"


@dataclass(frozen=True)
class Loaded:
    scenario: Scenario
    measured: Measured
    path: Path | None
    text: str
    lines: Lines
    notices: tuple[str, ...] = ()  # what was assumed in reading the file (a version-1 file)


def load_snapshot(path: str | Path | None = None) -> PriceSnapshot:
    p = Path(path or os.environ.get("ECON_PRICES") or DEFAULT_SNAPSHOT)
    try:
        return PriceSnapshot.from_json(json.loads(read_text_limited(p, MAX_INPUT_BYTES)))
    except FileNotFoundError:
        raise ScenarioError([Problem((), "price snapshot not found")], str(p)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem((), f"not UTF-8 text (byte {exc.start})")],
                            str(p)) from None
    except OSError as exc:
        raise ScenarioError([Problem((), f"cannot read the price snapshot: "
                                     f"{exc.strerror or exc}")], str(p)) from None
    except RecursionError:
        raise ScenarioError([Problem((), "not a price snapshot: nested too deeply")],
                            str(p)) from None
    except EconError as exc:
        raise ScenarioError([Problem((), f"not a price snapshot: {exc}")], str(p)) from None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ScenarioError([Problem((), f"not a price snapshot: {exc}")], str(p)) from None


def load_scenario(path: str | Path, snapshot: PriceSnapshot | None = None,
                  assume_saturation: bool = False) -> Loaded:
    p = Path(path)
    try:
        text = read_text_limited(p, MAX_SCENARIO_BYTES)
    except FileNotFoundError:
        raise ScenarioError([Problem((), "scenario file not found")], str(p)) from None
    except IsADirectoryError:
        raise ScenarioError([Problem((), "is a directory, not a scenario file")], str(p)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem((), f"not UTF-8 text (byte {exc.start})")],
                            str(p)) from None
    except OSError as exc:
        raise ScenarioError([Problem((), f"cannot read scenario file: {exc.strerror or exc}")],
                            str(p)) from None
    return parse_scenario(text, str(p), snapshot, base_dir=p.parent,
                          assume_saturation=assume_saturation)


def parse_scenario(text: str, file: str | None = None, snapshot: PriceSnapshot | None = None,
                   base_dir: Path | None = None, confine_to: Path | None = None,
                   assume_saturation: bool = False) -> Loaded:
    """Validate scenario text; ``base_dir`` (default: the file's folder) resolves relative
    result and benchmark paths. With ``confine_to`` (an uploaded scenario) every file the
    scenario names must lie inside that folder, so an upload cannot probe the server's files.
    ``assume_saturation`` prices every self-hosted model at saturation (as the model field)."""
    if base_dir is None:
        base_dir = Path(file).parent if file else Path(".")
    data, lines = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise ScenarioError([Problem((), "a scenario is a mapping of keys to values", line=1,
                                     value=type(data).__name__, has_value=True)], file)
    try:
        scenario = Scenario.model_validate(data, context={"skip_references": True})
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, data, lines), file) from None
    snap = snapshot or load_snapshot()
    problems = reference_problems(scenario) + price_problems(scenario, snap)
    if confine_to is not None:
        problems += _outside_files(scenario, base_dir, confine_to)
    if scenario.capability_map is not None:
        from econ.evidence.importers.capmap import CapabilityMap

        try:
            CapabilityMap.from_data(scenario.capability_map, "capability_map")
        except EconError as exc:
            problems.append(Problem(("capability_map",), str(exc).split(": ", 1)[1]))
    evals: dict[str, dict[str, SliceResults]] = inline_eval_data(scenario)
    eval_only: list[str] = []
    if not problems and scenario.eval_results:
        evals, eval_only, more = _file_evals(scenario, evals, base_dir)
        problems += more
    time_models = dict(measured_time_models(scenario))
    fits: dict[str, Any] = {}
    notices: list[str] = []
    if not problems:
        problems += _fit_benchmarks(scenario, base_dir, time_models, fits, assume_saturation)
    if not problems:
        problems += _measured_conversations(scenario, base_dir, time_models, notices)
    if problems:
        raise ScenarioError([_locate(pr, lines) for pr in problems], file)
    measured = Measured(resolve_prices(scenario, snap), time_models, evals, tuple(eval_only),
                        fits)
    from econ.scenario.migrate import version_notice

    notice = version_notice(data, file)
    return Loaded(scenario, measured, Path(file) if file else None, text, lines,
                  ((notice,) if notice else ()) + tuple(notices))


def _outside_files(scenario: Scenario, base: Path, folder: Path) -> list[Problem]:
    named: list[tuple[tuple[str | int, ...], str]] = [
        (("eval_results", i), f) for i, f in enumerate(scenario.eval_results)]
    named += [(("models", mid, "benchmarks", i), f) for mid, m in scenario.models.items()
              if isinstance(m, SelfHostedModel) for i, f in enumerate(m.benchmarks or [])]
    named += [(("models", mid, "measured_conversations", i), f)
              for mid, m in scenario.models.items() if isinstance(m, SelfHostedModel)
              for i, f in enumerate(m.measured_conversations)]
    if scenario.probes is not None:
        named.append((("probes",), scenario.probes))
    # the scenarios folder and the data folder beside it (measured benchmarks live there)
    roots = (folder.resolve(), (folder / ".." / "data").resolve())
    return [Problem(loc, "an uploaded scenario may name only files inside the scenarios folder "
                    "or the data folder beside it", value=f, has_value=True)
            for loc, f in named
            if not any((base / f).resolve().is_relative_to(r) for r in roots)]


def _fit_benchmarks(scenario: Scenario, base: Path, time_models: dict[str, Any],
                    fits: dict[str, Any], saturate: bool = False) -> list[Problem]:
    """Fit the GPU time model of every self-hosted model that names its architecture, lists
    benchmark files or borrows another's (``benchmarks_from``): the context-aware serving model
    with a physical prior when the architecture is known (the prior alone with no runs), else
    the linear prefill/decode split. ``saturate``: price at saturation (``--assume-saturation``)."""
    from econ.model.fit import fit_time_model
    from econ.model.interval import transfer_of
    from econ.model.operating_point import OperatingPoints, operating_points
    from econ.model.serving_fit import fit_serving
    from econ.model.serving_specs import architecture_table, gpu_table, replica_of

    problems = []
    for mid, m in scenario.models.items():
        if not isinstance(m, SelfHostedModel) or not (m.benchmarks or m.architecture
                                                      or m.benchmarks_from):
            continue
        try:
            replica = replica_of(m, architecture_table(), gpu_table())
        except EconError as exc:
            field, _, msg = str(exc).partition(": ")
            problems.append(Problem(("models", mid, field), msg))
            continue
        donor_id = m.benchmarks_from
        donor = scenario.models[donor_id] if donor_id else m
        assert isinstance(donor, SelfHostedModel)
        shapes, more = _runs_of(donor_id or mid, donor, base)
        if more:  # a borrower's donor reports its own bad files
            problems += [] if donor_id else more
            continue
        if not shapes and (replica is None or m.measured_conversations):
            continue  # nothing to fit, or measured conversations cost it
        where = ("models", mid, "benchmarks_from" if donor_id else "benchmarks")
        try:
            points = operating_points(shapes, m.slo, saturate or m.assume_saturation) \
                if shapes else OperatingPoints((), (), False)
            if replica is not None:
                measured_on: Any = None
                transfer: tuple[str, ...] = ()
                t_sd = 0.0
                if donor_id:
                    measured_on = replica_of(donor, architecture_table(), gpu_table())
                    transfer, t_sd = transfer_of(donor_id, donor, m)
                fit: Any = fit_serving(replica, points.runs, points.concurrency_points,
                                       notes=points.notes, fit_replica=measured_on,
                                       transfer=transfer, transfer_log_sd=t_sd)
            else:
                stated = "prefill_cost_ratio" in m.model_fields_set
                fit = fit_time_model(points.runs, m.prefill_cost_ratio if stated or not
                                     m.benchmarks else None)
        except EconError as exc:
            if "latency objective" in str(exc):
                where = ("models", mid, "slo")
            problems.append(Problem(where, str(exc)))
            continue
        fits[mid] = fit
        time_models[mid] = fit.model
    return problems


def _runs_of(mid: str, m: SelfHostedModel, base: Path) -> tuple[list[Any], list[Problem]]:
    """The runs a self-hosted model states: its throughput and its benchmark files."""
    from econ.evidence.importers.bench import read_bench
    from econ.model.fit import shape_of_measurement, shape_of_run

    shapes = []
    problems = []
    if m.throughput is not None:
        shapes.append(shape_of_measurement(m.throughput, f"models.{mid}.throughput"))
    for i, f in enumerate(m.benchmarks):
        try:
            runs = read_bench(base / f)
            for j, run in enumerate(runs, start=1):
                label = f"{f}" + (f" run {j}" if len(runs) > 1 else "")
                shapes.append(shape_of_run(run, label))
        except EconError as exc:
            problems.append(Problem(("models", mid, "benchmarks", i), str(exc)))
    return shapes, problems


def _measured_conversations(scenario: Scenario, base: Path, time_models: dict[str, Any],
                            notices: list[str]) -> list[Problem]:
    """Replace the time model of every self-hosted model that lists measured conversations."""
    from econ.evidence.importers.aiperf_records import read_conversations
    from econ.model.measured import measured_conversation_time, shape_notice

    problems = []
    for mid, m in scenario.models.items():
        if not isinstance(m, SelfHostedModel) or not m.measured_conversations:
            continue
        runs = []
        for i, f in enumerate(m.measured_conversations):
            try:
                runs.append(read_conversations(base / f))
            except EconError as exc:
                problems.append(Problem(("models", mid, "measured_conversations", i), str(exc)))
        if runs and len(runs) == len(m.measured_conversations):
            time_models[mid] = measured = measured_conversation_time(runs)
            notice = shape_notice(mid, scenario, measured)
            if notice:
                notices.append(notice)
    return problems


def _file_evals(scenario: Scenario, inline: dict[str, dict[str, SliceResults]],
                base: Path) -> tuple[dict[str, dict[str, SliceResults]], list[str], list[Problem]]:
    rows = []
    for f in scenario.eval_results:
        rows += read_results(base / f)
    from_files = results_to_eval_data(rows)
    known = {c.id for c in scenario.capabilities}
    problems = []
    merged = {cap: dict(per_model) for cap, per_model in inline.items()}
    for cap, per_model in from_files.items():
        if cap not in known:
            continue
        i = next(i for i, c in enumerate(scenario.capabilities) if c.id == cap)
        for model, sl in per_model.items():
            if model in merged.get(cap, {}):
                problems.append(Problem(("capabilities", i, "evals", model),
                                        "given both inline and in eval_results files; keep one"))
            merged.setdefault(cap, {})[model] = sl
    eval_only = sorted(set(from_files) - known)
    return merged, eval_only, problems


def _locate(p: Problem, lines: Lines) -> Problem:
    path = p.path
    while path and path not in lines:
        path = path[:-1]
    return Problem(p.path, p.message, lines.get(path, 1), p.value, p.has_value)


def _pydantic_problems(exc: ValidationError, data: Any, lines: Lines) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    errors = exc.errors(include_url=False)
    for err in errors:
        if _other_branch_meant(err, errors):
            continue
        path, found = _data_path(data, err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(data, path[:-1])
            near = get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean '{near[0]}'?" if near else (
                f"; allowed: {', '.join(allowed)}" if allowed else "")
            problem = Problem(path, f"unknown key{hint}")
        elif kind == "missing":
            problem = Problem(path, "required field is missing")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            msg = msg[:1].lower() + msg[1:]
            if path and path[-1] == "api_key_env":  # a key pasted where its variable's name goes
                msg, found = ("the name of an environment variable (letters, digits and _), "
                              "never the key itself (the value is not shown)"), False
            problem = Problem(path, msg, value=err.get("input"), has_value=found)
        if (path, problem.message) in seen:
            continue
        seen.add((path, problem.message))
        out.append(_locate(problem, lines))
    return out


def _other_branch_meant(err: Any, errors: list[Any]) -> bool:
    """A mapping given where a field takes a name or the figures inline (``architecture``):
    the name branch's "valid string" error is noise when the mapping's own branch failed too."""
    if err["type"] != "string_type" or not isinstance(err.get("input"), dict):
        return False
    parent = tuple(err["loc"][:-1])
    return any(e is not err and tuple(e["loc"][:len(parent)]) == parent
               and len(e["loc"]) > len(parent) + 1 for e in errors)


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[tuple[str | int, ...], bool]:
    """Map a pydantic location onto the data: drop union-member tags; keep a final missing key."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif i == len(loc) - 1 and isinstance(node, dict):
            path.append(part)
            return tuple(path), False
    return tuple(path), True


def _allowed_keys(data: Any, parent: tuple[str | int, ...]) -> list[str]:
    """Field names of the schema model found at ``parent``."""
    ann: Any = Scenario
    node = data
    for part in parent:
        ann = _pick(ann, node)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            ann = ann.model_fields[str(part)].annotation
        elif typing.get_origin(ann) is dict:
            ann = typing.get_args(ann)[1]
        elif typing.get_origin(ann) is list:
            ann = typing.get_args(ann)[0]
        else:
            return []
        node = node[part]
    ann = _pick(ann, node)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return sorted(ann.model_fields)
    return []


def _pick(ann: Any, node: Any) -> Any:
    """Strip Annotated and choose the union member that fits the data."""
    while typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(ann) if a is not type(None)]
        for m in members:
            if isinstance(m, type) and issubclass(m, BaseModel) and isinstance(node, dict):
                tag = m.model_fields.get("serving")
                if tag is None or node.get("serving") in typing.get_args(tag.annotation):
                    return m
        return members[0] if members else ann
    return ann
