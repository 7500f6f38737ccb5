"""econ: cost–capability product economics of LLM products.

Load a scenario, evaluate it, and read cost per conversation, capability retention, eval coverage
and the price floor of every tier::

    import econ
    loaded = econ.load_scenario("scenarios/frontier-vs-distilled.yaml")
    ev = econ.model.evaluate(loaded.scenario, loaded.measured)
"""

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
