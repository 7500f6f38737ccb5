"""Keeping credentials out of every output: redaction by shape and by place, redact first, cut
afterwards.

One function, :func:`redact`, is what every printer, exporter, recorder, app renderer and URL
goes through. It knows credentials in three ways:

- **by value**: the value of every environment variable that names a secret (``*_KEY``,
  ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``, ``*_CREDENTIALS``) and the provider variables
  litellm reads itself (``OPENAI_API_KEY`` and others);
- **by shape**: provider key prefixes (``sk-``, ``ghp_``, ``AKIA``, ``AIza``…), JSON Web Tokens,
  the value of an ``Authorization: Bearer``/``Basic`` header, and long mixed-case tokens of
  letters and digits that change character class as often as random text does;
- **by place**: the user information of any URL (``postgres://user:pw@host`` prints as
  ``postgres://***@host``), query parameters named like a secret (``?token=``, ``&password=``,
  ``?credentials_base64=``) and ``api_key: …``/``password=…`` pairs in an echoed request.

:func:`looks_secret` tells a value that would be redacted (what scenario validation refuses,
without echoing it); :class:`RedactingStream` wraps ``sys.stdout``/``sys.stderr`` so nothing a
command prints escapes redaction.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "RedactingStream", "cut", "looks_secret", "redact", "redactor",
           "secret_values"]

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

_TOKEN_CHARS = r"A-Za-z0-9._~+/=\-"
# provider key prefixes; what follows must be long, or hold a digit (so "key-findings" stays)
_PREFIXED = re.compile(
    r"(?<![A-Za-z0-9])(?:sk-(?:proj-|ant-|or-|svcacct-|admin-)?|sk_(?:live|test)_|"
    r"[pr]k_(?:live|test)_|gsk_|xai-|hf_|pplx-|nvapi-|csk-|key-|sess-|gh[pousr]_|github_pat_|"
    r"glpat-|xox[abprs]-|AKIA|ASIA|AIza|ya29\.|npm_|pypi-)"
    r"(?=[A-Za-z0-9._\-]*\d|[A-Za-z0-9._\-]{16})[A-Za-z0-9._\-]{8,}")
_JWT = re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]+){1,2}")
_AUTH_SCHEME = re.compile(rf"(?i)\b(bearer)\s+[{_TOKEN_CHARS}]{{8,}}|"
                          rf"\b(basic|token)\s+(?=[{_TOKEN_CHARS}]*[0-9=+/])[{_TOKEN_CHARS}]{{12,}}")
# the user information of a URL: everything between "scheme://" and the last "@" before the host
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#\"'<>@]*(?:@[^\s/?#\"'<>@]*)*@")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;][A-Za-z0-9_.\-]*(?:token|key|secret|password|passwd|pwd|sig|signature|auth|"
    r"credential|credentials|credentials_base64|session)=)[^&#\s\"'<>]*[^&#\s\"'<>:;,.)]")
_NAMED_SECRET = re.compile(
    r"(?i)(\b(?:api[_-]?key|apikey|x-api-key|authorization|access[_-]?token|refresh[_-]?token|"
    r"auth[_-]?token|id[_-]?token|client[_-]?secret|secret[_-]?key|secret|password|passwd|"
    r"private[_-]?key)[\"']?[ \t]*[:=][ \t]*[\"']?)(?!\*\*\*|(?:bearer|basic)\b)[^\s\"',;&}<>]{4,}")
# a long run of letters and digits, mixed case, switching character class as random text does
_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{20,}(?![A-Za-z0-9])")
_MIN_SWITCH_RATE = 0.45  # random base62 switches class at ~0.62 of its characters; CamelCase ~0.3
_MAX_VOWEL_SHARE = 0.3  # random letters are ~19% vowels


def _kind(ch: str) -> int:
    return 0 if ch.isdigit() else 1 if ch.isupper() else 2


def _random_looking(run: str) -> bool:
    """Digits, upper and lower case mixed as in random text: the class changes often, and
    vowels are rare among the letters (words, even run together, are ~40% vowels)."""
    kinds = [_kind(c) for c in run]
    if len(set(kinds)) < 3 or sum(k == 0 for k in kinds) < 2:
        return False
    switches = sum(a != b for a, b in itertools.pairwise(kinds))
    letters = [c for c in run.lower() if c.isalpha()]
    vowels = sum(c in "aeiou" for c in letters) / len(letters)
    return switches / (len(run) - 1) >= _MIN_SWITCH_RATE and vowels < _MAX_VOWEL_SHARE


def secret_values(environ: Mapping[str, str] | None = None,
                  extra: Iterable[str | None] = ()) -> list[str]:
    """Every value in the environment that may be a key, plus ``extra``, longest first."""
    env = os.environ if environ is None else environ
    found = {v for k, v in env.items()
             if (k in _PROVIDER_VARIABLES or _SECRET_NAME.search(k)) and
             len(v) >= _MIN_SECRET_CHARS}
    found |= {v for v in extra if v}
    return sorted(found, key=len, reverse=True)


def _by_shape(text: str) -> str:
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1) or m.group(2)} {REDACTED}", text)
    text = _NAMED_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _PREFIXED.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    return _RUN.sub(lambda m: REDACTED if _random_looking(m.group(0)) else m.group(0), text)


def redact(text: str, extra: Iterable[str | None] = (),
           environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every known secret and every secret-shaped token replaced by ``***``."""
    for value in secret_values(environ, extra):
        text = text.replace(value, REDACTED)
    return _by_shape(text)


def redactor(environ: Mapping[str, str] | None = None,
             extra: Iterable[str | None] = ()) -> Callable[[str], str]:
    """:func:`redact` with the environment read once, for many strings."""
    values = secret_values(environ, extra)
    return lambda text: _by_shape(_replace_all(text, values))


def looks_secret(value: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``value`` holds something :func:`redact` would hide: a key, a token, a password
    in a URL, or the value of a secret environment variable."""
    return redact(value, environ=environ) != value


def cut(text: str, limit: int = 200, extra: Iterable[str | None] = ()) -> str:
    """Redact, then cut to ``limit`` characters: a key straddling the cut cannot escape."""
    clean = redact(text, extra)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


class RedactingStream:
    """A text stream that redacts each line before passing it on (``sys.stdout``, ``sys.stderr``
    of a command). A line is held until its end (``\\n`` or ``\\r``, so a progress bar still
    moves), so a key written in pieces is still seen whole."""

    def __init__(self, inner: Any, environ: Mapping[str, str] | None = None) -> None:
        self.inner = inner
        self._redact = redactor(environ)
        self._pending = ""
        self.failed: OSError | None = None  # a write that failed, raised again by flush

    def write(self, s: str) -> int:
        self._pending += s
        cut_at = max(self._pending.rfind("\n"), self._pending.rfind("\r"))
        if cut_at >= 0:
            done, self._pending = self._pending[:cut_at + 1], self._pending[cut_at + 1:]
            self._pass_on(done)
        return len(s)

    def _pass_on(self, text: str) -> None:
        try:
            self.inner.write(self._redact(text))
        except OSError as exc:
            self.failed = exc
            raise

    def flush(self) -> None:
        """Write what is held and flush; a write that failed before (and was swallowed by a
        caller, as argparse does) fails the flush too."""
        if self._pending:
            pending, self._pending = self._pending, ""
            self._pass_on(pending)
        self.inner.flush()
        if self.failed is not None:
            raise self.failed

    def isatty(self) -> bool:
        return bool(self.inner.isatty())

    def fileno(self) -> int:
        return int(self.inner.fileno())

    def __getattr__(self, name: str) -> object:  # encoding, errors, buffer…
        return getattr(self.inner, name)


def _replace_all(text: str, values: list[str]) -> str:
    for value in values:
        text = text.replace(value, REDACTED)
    return text
