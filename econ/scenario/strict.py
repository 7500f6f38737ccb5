"""The base of every scenario model: strict, frozen, no NaN or infinity."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict", "not_a_bool"]


class Strict(BaseModel):
    # allow_inf_nan=False: .inf, -.inf and .nan are refused in every number of a scenario
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def not_a_bool(value: Any) -> Any:
    """A number field's value, refused when it is true or false (pydantic reads ``users:
    true`` as 1 user otherwise)."""
    if isinstance(value, bool):
        raise ValueError("input should be a number, not true or false")
    return value
