r"""One conversation record as a list of messages in econ's token classes.

Every supported JSON shape comes down to the same messages, each with a *class* (its ``role``
in the tidy rows) that says how it is billed:

- ``system`` (input, every call): system and ``developer`` messages, a top-level ``system``,
  tool definitions (``tools``, ``functions``);
- ``user`` (input): what the person typed; it starts a turn;
- ``assistant`` (output): the model's text answer;
- ``tool_call`` (output): a call the model wrote: OpenAI ``tool_calls`` / ``function_call``,
  Anthropic ``tool_use``, ShareGPT ``function_call``;
- ``tool`` (input): a tool's result sent back: OpenAI ``tool`` / ``function``, Anthropic
  ``tool_result`` (not a user turn), ShareGPT ``observation``;
- ``image`` (input): an image part, its tokens where the log states its size
  (:mod:`.images`), else uncounted; images listed by path at the top level (LLaVA /
  LLaMA-Factory ``images`` with ``<image>`` markers) are uncounted.

Formats: OpenAI chat (``messages`` of ``{role, content}``, content a string or parts), the
Anthropic Messages API (``messages`` of content blocks, top-level ``system``), ShareGPT
(``conversations`` of ``{from, value}``, with LLaMA-Factory's ``function_call`` /
``observation`` and top-level ``system`` / ``tools``), WildChat (``conversation``) and HH-RLHF
transcripts (``chosen``: ``\n\nHuman:`` / ``\n\nAssistant:`` blocks). Anthropic ``thinking``
blocks are reasoning, which a scenario models per model (``reasoning_tokens_per_turn``), so
they are not counted as answer text.

Order: the first message after the system ones is the user's; a tool result follows a call
(or another result, or the assistant's text); two user messages, or two assistant answers, in a
row are out of order. Problems raise :class:`BadRecord` with a short ``reason`` (counted by
``--skip-bad``) and a message naming the record.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from econ.base.errors import EconError
from econ.evidence.traffic.images import part_image_tokens

__all__ = ["CLASSES", "BadRecord", "Message", "record_messages"]

CLASSES = ("system", "user", "assistant", "tool_call", "tool", "image")
_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
          "chatgpt": "assistant", "bing": "assistant", "system": "system",
          "developer": "system", "tool": "tool", "function": "tool", "observation": "tool",
          "ipython": "tool", "function_call": "tool_call"}
_TRANSCRIPT = re.compile(r"\n\n(Human|Assistant):[ ]?")
_ASSISTANT_SIDE = ("assistant", "tool_call")


class BadRecord(EconError):
    """A conversation that cannot be read; ``reason`` is its short kind, for --skip-bad."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Message:
    role: str  # one of CLASSES
    text: str | None  # None for an image
    tokens: float = math.nan  # the log's own count, NaN when it has none


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _call_text(name: Any, arguments: Any) -> str:
    """What the model wrote for a call: the tool's name and its arguments."""
    return f"{_text_of(name)} {_text_of(arguments)}".strip()


def _parts(role: str, content: list[Any], where: str) -> list[Message]:
    """Messages of a list of content parts (OpenAI parts or Anthropic blocks), in order; the
    text parts of the message are joined into one message of its role."""
    texts: list[str] = []
    out: list[Message] = []
    tools: list[Message] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise BadRecord(f"{where}: a content part is not an object", "bad message")
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text") or (kind is None and "text" in part):
            texts.append(_text_of(part.get("text")))
        elif kind in ("image_url", "input_image", "image"):
            out.append(Message("image", None, part_image_tokens(part)))
        elif kind == "tool_use":
            tools.append(Message("tool_call", _call_text(part.get("name"), part.get("input"))))
        elif kind == "tool_result":
            inner = part.get("content")
            if isinstance(inner, list):
                for m in _parts("tool", inner, where):
                    tools.append(m)
            else:
                tools.append(Message("tool", _text_of(inner)))
        # thinking, redacted_thinking and unknown parts: not answer text (module docstring)
    head: list[Message] = []
    if "".join(texts).strip() or (role == "user" and not tools):
        head.append(Message(role, "\n".join(texts)))
    if role == "user" and tools:  # tool results first: they answer the previous call
        return tools + head + out
    return head + out + tools


def _message(m: dict[str, Any], role: str, text_key: str, where: str) -> list[Message]:
    content = m.get(text_key)
    calls = m.get("tool_calls")
    legacy = m.get("function_call")
    if isinstance(content, list):
        msgs = _parts(role, content, where)
    elif content is not None or role in ("user", "tool"):
        msgs = [Message(role, _text_of(content))]
    else:
        msgs = []
    if (calls or legacy) and role == "assistant":  # an empty answer beside a call is no answer
        msgs = [x for x in msgs if x.role != "assistant" or (x.text or "").strip()]
    if isinstance(calls, list):
        for c in calls:
            fn = c.get("function") if isinstance(c, dict) else None
            fn = fn if isinstance(fn, dict) else (c if isinstance(c, dict) else {})
            msgs.append(Message("tool_call", _call_text(fn.get("name"), fn.get("arguments"))))
    if isinstance(legacy, dict):
        msgs.append(Message("tool_call", _call_text(legacy.get("name"),
                                                    legacy.get("arguments"))))
    tokens = logged_count(m.get("tokens"), f"{where}: tokens")
    texts = [x for x in msgs if x.role != "image"]
    if tokens is not None and len(texts) == 1:
        texts[0].tokens = tokens
    return msgs


def logged_count(value: Any, where: str) -> float | None:
    """A token count the log states: a number of at least 0 (None when it states none, or
    states it as text or a bool, which are not counts). A negative, NaN or infinite count is
    refused (:class:`BadRecord`): averaged in, it would make the traffic's shape nonsense."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    count = float(value) if not isinstance(value, int) or abs(value) < 2**1023 else math.inf
    if not math.isfinite(count) or count < 0:
        raise BadRecord(f"{where}: a token count is a finite number of at least 0 (got "
                        f"{_short_number(value)})", "bad token count")
    return count


def _short_number(value: float) -> str:
    text = str(value) if isinstance(value, float) or abs(value) < 10**30 else \
        f"an integer of {len(str(abs(value)))} digits"
    return text


def _preamble(record: dict[str, Any]) -> list[Message]:
    """A top-level system prompt and tool definitions (billed as input every call)."""
    out: list[Message] = []
    system = record.get("system")
    if isinstance(system, str) and system:
        out.append(Message("system", system))
    elif isinstance(system, list):
        text = "\n".join(_text_of(b.get("text")) if isinstance(b, dict) else _text_of(b)
                         for b in system)
        if text:
            out.append(Message("system", text))
    for key in ("tools", "functions"):
        tools = record.get(key)
        if isinstance(tools, str):  # ShareGPT keeps them as a JSON string
            tools = tools.strip()
            if tools and tools != "[]":
                out.append(Message("system", tools))
        elif isinstance(tools, list) and tools:
            out.append(Message("system", json.dumps(tools, ensure_ascii=False)))
    return out


def record_messages(record: dict[str, Any], where: str) -> list[Message]:
    """The messages of one record (any supported format), checked for order."""
    if "messages" in record:  # OpenAI chat, Anthropic Messages
        raw, role_key, text_key = record["messages"], "role", "content"
    elif "conversations" in record:  # ShareGPT
        raw, role_key, text_key = record["conversations"], "from", "value"
    elif "conversation" in record:  # WildChat
        raw, role_key, text_key = record["conversation"], "role", "content"
    elif "chosen" in record or "transcript" in record:  # HH-RLHF transcript
        return _transcript(str(record.get("chosen", record.get("transcript", ""))), where)
    else:
        raise BadRecord(f"{where}: record has no messages (expected one of messages, "
                        "conversations, conversation, chosen)", "no messages")
    if not isinstance(raw, list) or not raw:
        raise BadRecord(f"{where}: record has no messages", "no messages")
    out = _preamble(record)
    start = len(out)
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or role_key not in m:
            raise BadRecord(f"{where}: message {i} has no field {role_key!r}", "bad message")
        role = _ROLES.get(str(m[role_key]).lower())
        if role is None:
            raise BadRecord(f"{where}: message {i}: unknown role {m[role_key]!r}",
                            "unknown role")
        out.extend(_message(m, role, text_key, f"{where}: message {i}"))
    media = record.get("images", record.get("image"))
    paths = media if isinstance(media, list) else [media] if isinstance(media, str) else []
    if paths:
        out[start:] = _placed_images(out[start:], len(paths))
    _usage(record, out, where)
    check_order(out, where)
    return out


def _placed_images(msgs: list[Message], count: int) -> list[Message]:
    """LLaVA / LLaMA-Factory logs: images listed by path at the top level, placed by
    ``<image>`` markers in the messages (those without a marker go with the first user
    message). Their size is not stated: uncounted."""
    out: list[Message] = []
    left = count
    for m in msgs:
        out.append(m)
        k = min(left, (m.text or "").count("<image>"))
        out.extend(Message("image", None) for _ in range(k))
        left -= k
    if left:
        first = next((i for i, m in enumerate(out) if m.role == "user"), len(out) - 1)
        out[first + 1:first + 1] = [Message("image", None) for _ in range(left)]
    return out


def _usage(record: dict[str, Any], msgs: list[Message], where: str) -> None:
    """A logged completion count (OpenAI ``completion_tokens``, Anthropic ``output_tokens``)
    covers the last response: given to its message when that is one message."""
    usage = record.get("usage")
    if not isinstance(usage, dict):
        return
    name = "completion_tokens" if "completion_tokens" in usage else "output_tokens"
    count = logged_count(usage.get(name), f"{where}: usage.{name}")
    if count is None:
        return
    last = [m for m in itertools.takewhile(lambda m: m.role in (*_ASSISTANT_SIDE, "image"),
                                           reversed(msgs)) if m.role != "image"]
    if len(last) == 1:
        last[0].tokens = count


def _transcript(text: str, where: str) -> list[Message]:
    parts = _TRANSCRIPT.split("\n\n" + text.lstrip("\n") if not text.startswith("\n\n") else text)
    if len(parts) < 3:
        raise BadRecord(f"{where}: transcript has no 'Human:'/'Assistant:' blocks",
                        "no messages")
    out = [Message("user" if who == "Human" else "assistant", body.strip())
           for who, body in zip(parts[1::2], parts[2::2], strict=True)]
    # real HH-RLHF transcripts hold repeated speaker blocks: only the opening speaker is checked
    check_order(out, where, alternate=False)
    return out


def check_order(msgs: list[Message], where: str, *, alternate: bool = True) -> None:
    """Raise :class:`BadRecord` when the messages are out of order (module docstring)."""
    turns = [m for m in msgs if m.role not in ("system", "image")]
    if not turns:
        raise BadRecord(f"{where}: record has no messages", "no messages")
    if turns[0].role != "user":
        raise BadRecord(f"{where}: roles out of order: conversation starts with "
                        f"{turns[0].role!r}, not 'user'", "roles out of order")
    if not alternate:
        return
    for a, b in itertools.pairwise(turns):
        if a.role == b.role and a.role in ("user", "assistant"):
            raise BadRecord(f"{where}: roles out of order: two {a.role!r} messages in a row",
                            "roles out of order")
        if b.role == "tool" and a.role == "user":
            raise BadRecord(f"{where}: roles out of order: a tool result follows a user "
                            "message, not a tool call", "roles out of order")
