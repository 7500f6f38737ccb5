"""The base of every scenario model: strict, frozen, no NaN or infinity."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict"]


class Strict(BaseModel):
    # allow_inf_nan=False: .inf, -.inf and .nan are refused in every number of a scenario
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
