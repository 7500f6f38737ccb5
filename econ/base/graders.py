"""Graders of probe replies: exact, contains, regex, or a JSON-schema check."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Grader", "grade"]


class Grader(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["exact", "contains", "regex", "json_schema"]
    value: Annotated[str, Field(description="expected text, substring or pattern")] | None = None
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    case_sensitive: bool = False

    @model_validator(mode="after")
    def _usable(self) -> Grader:
        """Checked when the probes are loaded, before the first paid call: a grader without
        its value would pass every reply, and a bad pattern would fail only after the calls."""
        if self.type == "json_schema":
            if self.json_schema is None:
                raise ValueError("a json_schema grader needs a schema")
            import jsonschema

            try:
                jsonschema.Draft202012Validator.check_schema(self.json_schema)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"invalid JSON Schema: {exc.message}") from None
            return self
        if not self.value:
            raise ValueError(f"a {self.type} grader needs a non-empty value")
        if self.type == "regex":
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return self


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
