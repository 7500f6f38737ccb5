"""What a scenario states about eval results inline: a model's counts on a capability, and the
models it was scored on the same items as. Part of the scenario schema
(:mod:`econ.scenario.schema`); :func:`paired_problems` checks what relates one model's counts to
another's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, model_validator

from econ.base.errors import Problem
from econ.scenario.strict import Strict

__all__ = ["EvalCounts", "paired_problems"]


class EvalCounts(Strict):
    examples: Annotated[int, Field(ge=0)]
    passed: Annotated[int, Field(ge=0)]
    paired_with: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="Models scored on the same items as this one: model "
        "id -> the number of items exactly one of the two passed (the discordant pairs). The "
        "comparison of the two is then paired; without it, it is unpaired.")

    @model_validator(mode="after")
    def _passed_within_examples(self) -> EvalCounts:
        if self.passed > self.examples:
            raise ValueError(f"passed ({self.passed}) exceeds examples ({self.examples})")
        return self


def paired_problems(where: tuple[str | int, ...],
                    evals: Mapping[str, EvalCounts]) -> list[Problem]:
    """Each ``paired_with`` entry names another model of the same capability, with as many
    examples, and a discordant count its two pass counts allow: with passes k1 and k2 of n, the
    discordant items d satisfy |k1 − k2| ≤ d ≤ min(k1 + k2, 2n − k1 − k2) and d − (k1 − k2) is
    even (each model's own passes split into concordant and discordant ones)."""
    out = []
    for mid, e in evals.items():
        for other, d in e.paired_with.items():
            path = (*where, mid, "paired_with", other)
            o = evals.get(other)
            if other == mid or o is None:
                known = sorted(m for m in evals if m != mid)
                out.append(Problem(path, "must name another model with eval counts on this "
                                   f"capability; it has {', '.join(known) or 'none'}",
                                   value=other, has_value=True))
                continue
            if o.examples != e.examples:
                out.append(Problem(path, f"paired items need equal examples ({mid}: "
                                   f"{e.examples}, {other}: {o.examples})"))
                continue
            k1, k2, n = e.passed, o.passed, e.examples
            high = min(k1 + k2, 2 * n - k1 - k2)
            if not abs(k1 - k2) <= d <= high or (d - (k1 - k2)) % 2:
                out.append(Problem(path, f"{d} discordant items is impossible with {k1} and {k2} "
                                   f"passed of {n}: it must be between {abs(k1 - k2)} and {high} "
                                   f"and differ from {abs(k1 - k2)} by an even number",
                                   value=d, has_value=True))
            back = o.paired_with.get(mid)
            if back is not None and back != d:
                out.append(Problem(path, f"{other} states {back} discordant items with {mid}",
                                   value=d, has_value=True))
    return out
