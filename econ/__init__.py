"""econ: cost–capability product economics of LLM products.

Load a scenario, evaluate it, and read cost per conversation, capability retention, eval coverage
and the price floor of every tier::

    import econ
    loaded = econ.load_scenario("scenarios/frontier-vs-distilled.yaml")
    ev = econ.evaluate(loaded.scenario, loaded.measured)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from econ.base.lazy import lazy_names

if TYPE_CHECKING:
    from econ.base.errors import EconError, Problem, ScenarioError
    from econ.decisions.frontier import Frontier, FrontierPoint, tier_frontier
    from econ.decisions.payback import Payback, payback
    from econ.decisions.scenario_diff import ScenarioDiff, diff_evaluations
    from econ.decisions.sensitivity import SensitivityRow, sensitivity
    from econ.decisions.uncertainty import TierUncertainty, simulate
    from econ.evidence.family import judge_family, verdict_statement
    from econ.evidence.retention import Retention, SliceResults, compare_slices
    from econ.model.cost import CostTable, TokenTimeModel, cost_table
    from econ.model.evaluate import Coverage, Evaluation, Measured, TierResult, evaluate
    from econ.model.loader import Loaded, load_scenario, load_snapshot, parse_scenario
    from econ.model.prices import PriceSnapshot, TokenPrices
    from econ.outputs.export import EXPORT_FORMATS, export_bytes, tier_pricing_table
    from econ.outputs.report import evaluation_json, text_report
    from econ.scenario.conversation import ConversationTokens, conversation_tokens
    from econ.scenario.schema import Capability, Scenario, Tier

__all__ = [
    "EXPORT_FORMATS",
    "Capability",
    "ConversationTokens",
    "CostTable",
    "Coverage",
    "EconError",
    "Evaluation",
    "Frontier",
    "FrontierPoint",
    "Loaded",
    "Measured",
    "Payback",
    "PriceSnapshot",
    "Problem",
    "Retention",
    "Scenario",
    "ScenarioDiff",
    "ScenarioError",
    "SensitivityRow",
    "SliceResults",
    "Tier",
    "TierResult",
    "TierUncertainty",
    "TokenPrices",
    "TokenTimeModel",
    "compare_slices",
    "conversation_tokens",
    "cost_table",
    "diff_evaluations",
    "evaluate",
    "evaluation_json",
    "export_bytes",
    "judge_family",
    "load_scenario",
    "load_snapshot",
    "parse_scenario",
    "payback",
    "sensitivity",
    "simulate",
    "text_report",
    "tier_frontier",
    "tier_pricing_table",
    "verdict_statement",
]

# Imported on first use (PEP 562): `econ --help`, `econ traffic` and every command that
# needs no statistics start in a tenth of a second instead of importing scipy first.
_LAZY = {
    "EconError": "econ.base.errors",
    "Problem": "econ.base.errors",
    "ScenarioError": "econ.base.errors",
    "Frontier": "econ.decisions.frontier",
    "FrontierPoint": "econ.decisions.frontier",
    "tier_frontier": "econ.decisions.frontier",
    "Payback": "econ.decisions.payback",
    "payback": "econ.decisions.payback",
    "ScenarioDiff": "econ.decisions.scenario_diff",
    "diff_evaluations": "econ.decisions.scenario_diff",
    "SensitivityRow": "econ.decisions.sensitivity",
    "sensitivity": "econ.decisions.sensitivity",
    "TierUncertainty": "econ.decisions.uncertainty",
    "simulate": "econ.decisions.uncertainty",
    "judge_family": "econ.evidence.family",
    "verdict_statement": "econ.evidence.family",
    "Retention": "econ.evidence.retention",
    "SliceResults": "econ.evidence.retention",
    "compare_slices": "econ.evidence.retention",
    "CostTable": "econ.model.cost",
    "TokenTimeModel": "econ.model.cost",
    "cost_table": "econ.model.cost",
    "Coverage": "econ.model.evaluate",
    "Evaluation": "econ.model.evaluate",
    "Measured": "econ.model.evaluate",
    "TierResult": "econ.model.evaluate",
    "evaluate": "econ.model.evaluate",
    "Loaded": "econ.model.loader",
    "load_scenario": "econ.model.loader",
    "load_snapshot": "econ.model.loader",
    "parse_scenario": "econ.model.loader",
    "PriceSnapshot": "econ.model.prices",
    "TokenPrices": "econ.model.prices",
    "EXPORT_FORMATS": "econ.outputs.export",
    "export_bytes": "econ.outputs.export",
    "tier_pricing_table": "econ.outputs.export",
    "evaluation_json": "econ.outputs.report",
    "text_report": "econ.outputs.report",
    "ConversationTokens": "econ.scenario.conversation",
    "conversation_tokens": "econ.scenario.conversation",
    "Capability": "econ.scenario.schema",
    "Scenario": "econ.scenario.schema",
    "Tier": "econ.scenario.schema",
}
_SUBPACKAGES = frozenset({"app", "base", "cli", "decisions", "evidence", "model", "outputs",
                          "scenario"})

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__, _SUBPACKAGES)
