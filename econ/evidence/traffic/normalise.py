r"""Logs where they live, normalised on the engine: Ibis expressions from a table of the user's
(or a file the engine reads itself) to econ's messages.

Three layouts, told from the schema (or named with ``--columns``):

- **rows**: one row per message: a conversation column, an order column, a role and a text
  column, optionally a token count;
- **array**: one row per conversation with a messages array of structs (OpenAI ``messages``
  ``{role, content}``, ShareGPT ``conversations`` ``{from, value}``, WildChat
  ``conversation``), optionally ``usage.completion_tokens`` (given to the last assistant
  message) and an id;

Roles map to econ's classes as the readers map them (:mod:`.messages`: ``developer`` is system,
``tool``/``function``/``observation`` a tool result). On the engine only a message's role and
text are read: tool calls nested in a message, content parts and images are read by econ's own
readers (the embedded default), not here; a content that is not a string is read as its JSON
text.
- **transcript**: HH-RLHF style ``chosen`` strings split at ``\n\nHuman:`` / ``\n\nAssistant:``.

Out: ``conversation`` (string), ``message`` (position in the conversation), ``turn`` (user
messages so far; 0 for system), ``role`` (econ's names; null when unknown), ``tokens`` (the log's
count or null) and ``text``. Nothing is pulled to the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from econ.base.errors import EconError
from econ.evidence.traffic.messages import _ROLES

__all__ = ["Layout", "detect_layout", "messages_of", "parse_columns"]

_ID = ("conversation_id", "conversation", "conversation_hash", "session_id", "thread_id", "id")
_ORDER = ("message_index", "message_id", "position", "seq", "sequence", "index", "idx", "turn",
          "created_at", "timestamp", "ts")
_ROLE = ("role", "from", "speaker", "author")
_TEXT = ("text", "content", "message", "value", "body")
_TOKENS = ("tokens", "token_count", "num_tokens")
_ARRAYS = ("messages", "conversations", "conversation", "turns", "dialogue")
_TRANSCRIPT = ("chosen", "transcript")
KEYS = ("conversation", "order", "role", "text", "tokens", "messages", "transcript")
_WHITESPACE = r"[ \t\n\r\x0B\f]"


@dataclass(frozen=True)
class Layout:
    kind: str  # rows, array, transcript
    columns: Mapping[str, str]  # econ's key -> the source's column (or struct field)


def parse_columns(text: str | None) -> dict[str, str]:
    """``--columns conversation=session_id,role=speaker`` as a mapping."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value or key not in KEYS:
            raise EconError(f"--columns {text}: each item is KEY=COLUMN with KEY one of "
                            f"{', '.join(KEYS)} (got {part.strip()!r})")
        out[key] = value
    return out


def _find(names: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {n.lower(): n for n in names}
    return next((lower[w] for w in wanted if w in lower), None)


def detect_layout(schema: Any, given: Mapping[str, str], where: str) -> Layout:
    """The layout of a table from its Ibis schema, ``given`` naming columns explicitly."""
    names = list(schema.names)
    missing = [c for c in given.values() if c not in names and "." not in c]
    if missing and not ("messages" in given or "transcript" in given):
        raise EconError(f"{where}: no column {', '.join(missing)}; columns: {', '.join(names)}")
    arrays = [n for n in names if schema[n].is_array() and schema[n].value_type.is_struct()]
    array = given.get("messages") or _find(arrays, _ARRAYS) or (arrays[0] if arrays else None)
    transcript = given.get("transcript") or _find(
        [n for n in names if schema[n].is_string()], _TRANSCRIPT)
    if array is not None and "role" not in given:
        fields = list(schema[array].value_type.names)
        role = given.get("role") or _find(fields, _ROLE)
        text = given.get("text") or _find(fields, _TEXT)
        if role is None or text is None:
            raise EconError(f"{where}: {array}: messages need a role and a text field; fields: "
                            f"{', '.join(fields)}")
        cols = {"messages": array, "role": role, "text": text,
                "conversation": given.get("conversation") or _find(names, _ID) or "",
                "tokens": given.get("tokens") or _find(fields, _TOKENS) or "",
                "usage": "usage" if "usage" in names and schema["usage"].is_struct() and
                "completion_tokens" in schema["usage"].names else ""}
        return Layout("array", cols)
    if transcript is not None and "role" not in given:
        return Layout("transcript", {"transcript": transcript})
    role, text = given.get("role") or _find(names, _ROLE), given.get("text") or _find(names, _TEXT)
    conv = given.get("conversation") or _find(names, _ID)
    order = given.get("order") or _find(names, _ORDER)
    if role is None or text is None or conv is None or order is None:
        raise EconError(f"{where}: cannot tell the layout: name a messages array, or the "
                        "conversation, order, role and text columns with --columns "
                        f"(e.g. --columns conversation=session_id,order=ts,role=role,"
                        f"text=content); columns: {', '.join(names)}")
    return Layout("rows", {"conversation": conv, "order": order, "role": role, "text": text,
                           "tokens": given.get("tokens") or _find(names, _TOKENS) or ""})


def _role(raw: Any) -> Any:
    import ibis

    low = raw.cast("string").lower()
    return ibis.cases(*[(low == alias, canon) for alias, canon in _ROLES.items()],
                      else_=ibis.null().cast("string"))


def _turns(t: Any) -> Any:
    """``turn`` = user messages so far in the conversation (system: 0); ``tokens`` given to the
    last assistant message from a conversation's usage."""
    import ibis

    is_user = (t.role == "user").cast("int64")
    w = ibis.window(group_by="conversation", order_by="message", preceding=None, following=0)
    turn = ibis.ifelse(t.role == "system", 0, is_user.sum().over(w))
    return t.mutate(turn=turn.cast("int64"))


def messages_of(table: Any, layout: Layout, key: Any, source_id: str) -> Any:
    """Normalised messages of one source; ``key`` is an expression identifying a row of
    ``table`` (an id column or an engine row number), ``source_id`` keeps keys of two files
    apart."""
    import ibis

    c = layout.columns
    prefix = ibis.literal(source_id + ":")
    if layout.kind == "rows":
        t = table.select(conversation=prefix + table[c["conversation"]].cast("string"),
                         message=ibis.row_number().over(group_by=table[c["conversation"]],
                                                        order_by=table[c["order"]]),
                         role=_role(table[c["role"]]),
                         tokens=(table[c["tokens"]].cast("int64") if c["tokens"]
                                 else ibis.null().cast("int64")),
                         text=table[c["text"]].cast("string"))
        return _turns(t)
    if layout.kind == "transcript":
        raw = table[c["transcript"]].fill_null("")
        lead = "\n\n"
        t0 = ibis.ifelse(raw.startswith(lead), raw, lead + raw.re_replace(r"^\n+", ""))
        split = (t0.replace("\x1e", "\x1d").replace(lead + "Human:", "\x1eH")
                 .replace(lead + "Assistant:", "\x1eA").split("\x1e"))
        keyed = table.select(conversation=prefix + key.cast("string"), parts=split[1:])
        u = keyed.unnest("parts", offset="message")
        part = u.parts
        t = u.select("conversation", "message",
                     role=ibis.cases((part.startswith("H"), "user"),
                                     (part.startswith("A"), "assistant"),
                                     else_=ibis.null().cast("string")),
                     tokens=ibis.null().cast("int64"),
                     text=part.substr(1).re_replace(f"^{_WHITESPACE}+|{_WHITESPACE}+$", ""))
        return _turns(t)
    keyed = table.select(conversation=prefix + key.cast("string"), m=table[c["messages"]],
                         completion=(table.usage.completion_tokens.cast("int64") if c["usage"]
                                     else ibis.null().cast("int64")))
    u = keyed.unnest("m", offset="message")
    t = u.select("conversation", "message", "completion", role=_role(u.m[c["role"]]),
                 logged=(u.m[c["tokens"]].cast("int64") if c["tokens"]
                         else ibis.null().cast("int64")),
                 text=u.m[c["text"]].cast("string"))
    last = t.message.max(where=t.role == "assistant").over(group_by="conversation")
    tokens = ibis.ifelse((t.message == last) & t.completion.notnull(), t.completion, t.logged)
    return _turns(t.select("conversation", "message", "role", "text", tokens=tokens))
