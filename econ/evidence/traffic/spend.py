"""What calls to a paid model would cost, estimated before any is made, and the spend limit.

In: a model name, token counts. Out: :class:`SpendEstimate`; :func:`check_spend` refuses an
estimate above a limit (``EconError``: exit 1 at the CLI) unless the user confirmed it.
Prices come from litellm's price map, offline (``LITELLM_LOCAL_MODEL_COST_MAP=True``), or are
given; litellm is imported inside :func:`litellm_module` only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from econ.base.errors import EconError

__all__ = ["SpendEstimate", "check_spend", "litellm_module", "prices_usd_per_mtok", "usd"]


@dataclass(frozen=True)
class SpendEstimate:
    model: str
    what: str  # "classifier" or "embeddings"
    calls: int
    prompt_tokens: int
    max_completion_tokens: int  # the reply cap per call times the calls (0 for embeddings)
    input_usd_per_mtok: float
    output_usd_per_mtok: float

    @property
    def usd(self) -> float:
        """Upper bound of the spend: every reply at its token cap."""
        return (self.prompt_tokens * self.input_usd_per_mtok
                + self.max_completion_tokens * self.output_usd_per_mtok) / 1e6

    @property
    def usd_per_call(self) -> float:
        return self.usd / self.calls if self.calls else 0.0


def litellm_module() -> Any:
    """litellm, imported now (slow), offline price map, no telemetry or banners."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


def prices_usd_per_mtok(model: str, what: str) -> tuple[float, float]:
    """(input, output) USD per million tokens of ``model`` in litellm's price map."""
    try:
        info = litellm_module().get_model_info(model)
        return (float(info.get("input_cost_per_token") or 0.0) * 1e6,
                float(info.get("output_cost_per_token") or 0.0) * 1e6)
    except Exception:
        raise EconError(f"{what} {model}: not priced in litellm's price map; give its prices "
                        "in USD per million tokens") from None


def check_spend(estimate: SpendEstimate, max_spend_usd: float, confirmed: bool = False) -> None:
    """Refuse an estimated spend above the limit unless the user confirmed it."""
    if estimate.usd > max_spend_usd and not confirmed:
        raise EconError(f"{estimate.what} {estimate.model}: {estimate.calls} calls are "
                        f"estimated at up to {usd(estimate.usd)} USD "
                        f"({usd(estimate.usd_per_call)} USD a call), above the spend limit of "
                        f"{usd(max_spend_usd)} USD; raise --max-spend-usd or confirm")


def usd(x: float) -> str:
    """An amount of USD readable at any size: 4 decimals, or 3 significant digits below 0.01."""
    return "0" if x == 0 else f"{x:.4f}" if abs(x) >= 0.01 else f"{x:.3g}"
