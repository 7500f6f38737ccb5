"""The package tree follows the data: no import runs back up a layer (see ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import econ

PACKAGE = Path(econ.__file__).resolve().parent
LAYERS = ["base", "scenario", "evidence", "model", "decisions", "outputs", "cli", "app"]
RANK = {name: i for i, name in enumerate(LAYERS)}
RANK["app"] = RANK["cli"]  # the two front ends stand side by side and never import each other
MAY_TALK_TO_PEOPLE = {"outputs", "cli", "app"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Every econ module a file imports, at top level or inside a function."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
    return found


def test_every_module_sits_in_a_layer():
    assert {_layer(p) for p in _modules()} == set(LAYERS)
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == {"__init__.py"}, "modules belong in a layer, not at the top of econ/"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_back_up_a_layer(path):
    own = _layer(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wrong = []
    for line, module in _imports(tree):
        parts = module.split(".")
        if parts[0] != "econ":
            continue
        assert len(parts) > 1 and parts[1] in RANK, f"{path}:{line}: imports {module}"
        other = parts[1]
        if other != own and RANK[other] >= RANK[own]:
            wrong.append(f"{path.relative_to(PACKAGE)}:{line}: {own} imports {module}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_front_ends_print_or_touch_streamlit(path):
    if _layer(path) in MAY_TALK_TO_PEOPLE:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for line, module in _imports(tree):
        assert module.split(".")[0] != "streamlit", f"{path}:{line}: imports streamlit"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "print", f"{path}:{node.lineno}: prints"


def test_every_layer_states_what_it_may_import():
    for layer in LAYERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text()))
        assert doc and "May import" in doc, layer


PUBLIC_API = [
    "EXPORT_FORMATS", "Capability", "ConversationTokens", "CostTable", "Coverage", "EconError",
    "Evaluation", "Frontier", "FrontierPoint", "Loaded", "Measured", "Payback", "PriceSnapshot",
    "Problem", "Retention", "Scenario", "ScenarioDiff", "ScenarioError", "SensitivityRow",
    "SliceResults", "Tier", "TierResult", "TierUncertainty", "TokenPrices", "TokenTimeModel",
    "compare_slices", "conversation_tokens", "cost_table", "diff_evaluations", "evaluate",
    "evaluation_json", "export_bytes", "load_scenario", "load_snapshot", "parse_scenario",
    "payback", "sensitivity", "simulate", "text_report", "tier_frontier", "tier_pricing_table",
]


def test_public_api_still_imports_from_econ():
    missing = [name for name in PUBLIC_API if not hasattr(econ, name)]
    assert not missing
    assert set(PUBLIC_API) <= set(econ.__all__)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """econ module -> the econ modules it imports (``from econ.a import b`` names ``econ.a.b``
    when b is a module), at top level, inside functions and under TYPE_CHECKING alike."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    out.add(sub if sub in paths else node.module)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
        graph[name] = {m for m in out if m in paths and m != name}
    return graph


def test_no_modules_import_each_other():
    """No cycle of imports between econ's modules (packages' __init__ re-exports aside)."""
    graph = _import_graph()
    inits = {m for m in graph if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").is_file()}
    cycles = []
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m] - inits):
            if state.get(n) == 1:
                cycles.append(" -> ".join([*stack[stack.index(n):], n]))
            elif n not in state:
                visit(n, [*stack, n])
        state[m] = 2

    for m in sorted(set(graph) - inits):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)
