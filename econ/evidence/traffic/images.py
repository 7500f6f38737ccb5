"""Token cost of an image in a chat log, where the log states enough to know it.

An image is billed as input, at a cost the provider publishes as a rule of its pixel size. A
log states that size only for an image sent inline (base64 bytes whose header gives width and
height); an image sent by URL or file path does not, and is left uncounted (``NaN``), never 0.

- **OpenAI** (GPT-4o and o-series figures, OpenAI vision guide, "calculating costs"):
  ``detail: "low"`` costs a flat 85 tokens whatever the size; otherwise the image is scaled to
  fit within 2048 x 2048, then down so that its shortest side is at most 768 px, and costs
  85 + 170 per 512 px tile (1024 x 1024: 765; 2048 x 4096: 1105). ``detail: "auto"`` (or none)
  is counted as high, the upper bound: the model's choice is not logged. Other OpenAI models
  bill images otherwise (GPT-4o mini 2,833 + 5,667 a tile, GPT-4.1 by 32 px patches); the
  figure is the GPT-4o family's.
- **Anthropic** (vision guide): an image whose long edge exceeds 1568 px is scaled down to it;
  it then costs width x height / 750 tokens.

In: a content part (OpenAI ``image_url`` / ``input_image``, Anthropic ``image``). Out: tokens,
or ``NaN`` when the log does not state the size.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from typing import Any

__all__ = ["anthropic_image_tokens", "image_size", "openai_image_tokens", "part_image_tokens"]

_HEAD_CHARS = 1 << 16  # base64 characters decoded to find the size (48 KiB of image)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header of PNG, GIF, JPEG or WebP bytes; None if not found."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg(data)
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        w = 1 + int.from_bytes(data[24:27], "little")
        h = 1 + int.from_bytes(data[27:30], "little")
        return w, h
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return int(w) & 0x3FFF, int(h) & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return int(w), int(h)
        i += 2 + length
    return None


def _decoded_head(b64: str) -> bytes | None:
    head = "".join(b64[:_HEAD_CHARS].split())
    head = head[: len(head) - len(head) % 4]
    try:
        return base64.b64decode(head, validate=False)
    except (binascii.Error, ValueError):
        return None


def _data_url_size(url: str) -> tuple[int, int] | None:
    """The size of an image in a ``data:image/...;base64,`` URL."""
    if not url.startswith("data:") or ";base64," not in url[:100]:
        return None
    data = _decoded_head(url.split(",", 1)[1])
    return image_size(data) if data else None


def openai_image_tokens(size: tuple[int, int] | None, detail: str | None) -> float:
    """Tokens of one image under OpenAI's GPT-4o rule (see the module docstring)."""
    if detail == "low":
        return 85.0
    if size is None or min(size) <= 0:
        return math.nan
    w, h = float(size[0]), float(size[1])
    fit = min(1.0, 2048.0 / max(w, h))
    w, h = w * fit, h * fit
    short = min(1.0, 768.0 / min(w, h))
    w, h = w * short, h * short
    tiles = math.ceil(w / 512.0) * math.ceil(h / 512.0)
    return 85.0 + 170.0 * tiles


def anthropic_image_tokens(size: tuple[int, int] | None) -> float:
    """Tokens of one image under Anthropic's rule: width x height / 750 after scaling the long
    edge down to 1568 px."""
    if size is None or min(size) <= 0:
        return math.nan
    w, h = float(size[0]), float(size[1])
    scale = min(1.0, 1568.0 / max(w, h))
    return float(math.ceil(w * scale * h * scale / 750.0))


def part_image_tokens(part: dict[str, Any]) -> float:
    """Tokens of an image content part, ``NaN`` when the log does not state its size."""
    kind = part.get("type")
    if kind == "image_url":  # OpenAI chat: {"image_url": {"url", "detail"}}
        inner = part.get("image_url")
        url = inner.get("url") if isinstance(inner, dict) else inner
        detail = inner.get("detail") if isinstance(inner, dict) else None
        size = _data_url_size(url) if isinstance(url, str) else None
        return openai_image_tokens(size, detail if isinstance(detail, str) else None)
    if kind == "input_image":  # OpenAI Responses: {"image_url": "...", "detail"}
        url = part.get("image_url")
        detail = part.get("detail")
        size = _data_url_size(url) if isinstance(url, str) else None
        return openai_image_tokens(size, detail if isinstance(detail, str) else None)
    source = part.get("source")  # Anthropic: {"source": {"type": "base64", "data"}}
    if isinstance(source, dict) and source.get("type") == "base64" and isinstance(
            source.get("data"), str):
        data = _decoded_head(source["data"])
        return anthropic_image_tokens(image_size(data) if data else None)
    return math.nan
