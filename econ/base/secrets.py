"""Keeping API keys out of every message: redact first, cut afterwards.

litellm reads a provider's key from the environment by itself (``OPENAI_API_KEY`` when a model
has no endpoint), and an error body may echo the ``Authorization`` header. So redaction knows
more than the key econ passed: the value of every environment variable that names a secret, the
known provider variables, and anything shaped like a bearer token or an API key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

__all__ = ["REDACTED", "cut", "redact", "secret_values"]

REDACTED = "***"

# variables litellm reads for providers whose names do not end in a secret-looking suffix
_PROVIDER_VARIABLES = (
    "OPENAI_API_KEY", "AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY", "GOOGLE_API_KEY", "VERTEXAI_CREDENTIALS", "MISTRAL_API_KEY",
    "COHERE_API_KEY", "CO_API_KEY", "GROQ_API_KEY", "TOGETHER_API_KEY", "TOGETHERAI_API_KEY",
    "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "OR_API_KEY", "HUGGINGFACE_API_KEY", "HF_TOKEN",
    "FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY", "XAI_API_KEY", "REPLICATE_API_KEY",
    "REPLICATE_API_TOKEN", "PERPLEXITYAI_API_KEY", "ANYSCALE_API_KEY", "VOYAGE_API_KEY",
    "DATABRICKS_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "CLOUDFLARE_API_KEY", "NVIDIA_NIM_API_KEY", "CEREBRAS_API_KEY", "SAMBANOVA_API_KEY",
    "LITELLM_API_KEY", "LITELLM_MASTER_KEY", "WATSONX_APIKEY", "PREDIBASE_API_KEY",
)
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|APIKEY)$", re.I)
_MIN_SECRET_CHARS = 8  # shorter values ("1", "true") would redact ordinary words

# shapes of secrets whatever their source: an Authorization header's value, provider key
# prefixes, and "api_key": "..." pairs in an echoed request
_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{6,}"),
    re.compile(r"\b(sk|pk|rk|sess|key|gsk|xai|hf|pplx|nvapi|csk)[-_][A-Za-z0-9._\-]{6,}"),
    re.compile(r"\bAKIA[0-9A-Z]{12,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),
    re.compile(r"(?i)((?:api[_-]?key|x-api-key|authorization|access[_-]?token|secret)"
               r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}"),
)


def secret_values(environ: Mapping[str, str] | None = None,
                  extra: Iterable[str | None] = ()) -> list[str]:
    """Every value in the environment that may be a key, plus ``extra``, longest first."""
    env = os.environ if environ is None else environ
    found = {v for k, v in env.items()
             if (k in _PROVIDER_VARIABLES or _SECRET_NAME.search(k)) and
             len(v) >= _MIN_SECRET_CHARS}
    found |= {v for v in extra if v}
    return sorted(found, key=len, reverse=True)


def redact(text: str, extra: Iterable[str | None] = (),
           environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every known secret and every secret-shaped token replaced by ``***``."""
    for value in secret_values(environ, extra):
        text = text.replace(value, REDACTED)
    for i, pattern in enumerate(_PATTERNS):
        if i == 0:
            text = pattern.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        elif i == len(_PATTERNS) - 1:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def cut(text: str, limit: int = 200, extra: Iterable[str | None] = ()) -> str:
    """Redact, then cut to ``limit`` characters: a key straddling the cut cannot escape."""
    clean = redact(text, extra)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
