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
from econ.loader import Loaded, load_scenario, load_snapshot, parse_scenario
from econ.prices import PriceSnapshot, TokenPrices
from econ.report import evaluation_json, text_report
from econ.retention import Retention, SliceResults, compare_slices
from econ.scenario import Capability, Scenario, Tier

__all__ = [
    "EXPORT_FORMATS",
    "Capability",
    "ConversationTokens",
    "CostTable",
    "Coverage",
    "EconError",
    "Evaluation",
    "Loaded",
    "Measured",
    "PriceSnapshot",
    "Problem",
    "Retention",
    "Scenario",
    "ScenarioError",
    "SliceResults",
    "Tier",
    "TierResult",
    "TokenPrices",
    "TokenTimeModel",
    "compare_slices",
    "conversation_tokens",
    "cost_table",
    "evaluate",
    "evaluation_json",
    "export_bytes",
    "load_scenario",
    "load_snapshot",
    "parse_scenario",
    "text_report",
    "tier_pricing_table",
]
