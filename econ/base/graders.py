"""Graders of probe replies: exact, contains, regex, or a JSON-schema check."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Grader", "grade"]


class Grader(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["exact", "contains", "regex", "json_schema"]
    value: Annotated[str, Field(description="expected text, substring or pattern")] | None = None
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    case_sensitive: bool = False


def grade(g: Grader, reply: str) -> bool:
    """Whether ``reply`` passes the grader."""
    text, want = reply.strip(), (g.value or "")
    if g.type == "exact":
        return text == want.strip() if g.case_sensitive else text.lower() == want.strip().lower()
    if g.type == "contains":
        return want in text if g.case_sensitive else want.lower() in text.lower()
    if g.type == "regex":
        return re.search(want, text, 0 if g.case_sensitive else re.IGNORECASE) is not None
    import jsonschema

    body = text
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        body = fenced.group(1)
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return False
    return bool(jsonschema.Draft202012Validator(g.json_schema or {}).is_valid(data))
