"""econ: cost–capability product economics of LLM products.

Load a scenario, evaluate it, and read cost per conversation, capability retention, eval coverage
and the price floor of every tier::

    import econ
    loaded = econ.load_scenario("scenarios/frontier-vs-distilled.yaml")
    ev = econ.evaluate(loaded.scenario, loaded.measured)
"""

from econ.conversation import ConversationTokens, conversation_tokens
from econ.cost import CostTable, TokenTimeModel, cost_table
from econ.errors import EconError, Problem, ScenarioError
from econ.evaluate import Coverage, Evaluation, Measured, TierResult, evaluate
from econ.export import EXPORT_FORMATS, export_bytes, tier_pricing_table
from econ.frontier import Frontier, FrontierPoint, tier_frontier
from econ.loader import Loaded, load_scenario, load_snapshot, parse_scenario
from econ.payback import Payback, payback
from econ.prices import PriceSnapshot, TokenPrices
from econ.report import evaluation_json, text_report
from econ.retention import Retention, SliceResults, compare_slices
from econ.scenario import Capability, Scenario, Tier
from econ.scenario_diff import ScenarioDiff, diff_evaluations
from econ.sensitivity import SensitivityRow, sensitivity
from econ.uncertainty import TierUncertainty, simulate

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
    "load_scenario",
    "load_snapshot",
    "parse_scenario",
    "payback",
    "sensitivity",
    "simulate",
    "text_report",
    "tier_frontier",
    "tier_pricing_table",
]
