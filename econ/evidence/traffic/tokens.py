"""Token counts of message text with tiktoken, offline, in each model's own encoding.

litellm ships tiktoken's encoding files inside its package (``cl100k_base``, ``o200k_base``,
``p50k_base``); ``TIKTOKEN_CACHE_DIR`` is pointed at them without importing litellm (its import
takes seconds and is never needed here). An encoding whose file is in neither that folder nor a
``TIKTOKEN_CACHE_DIR`` the user set is refused with the file to put there: econ never downloads
one at run time.

Encodings per model (:func:`encoding_for`): tiktoken's own table of OpenAI model names
(``o200k_base`` for the GPT-4o, o1, o3, o4, GPT-4.1 and GPT-5 families, ``cl100k_base`` for
GPT-4 and GPT-3.5); any other model (Claude, Llama, Qwen, a self-hosted student) is counted with
``cl100k_base`` as a stand-in, said so (``exact: false``): its own tokenizer is not bundled.
In: message texts. Out: token counts, and the name of the tokenizer that counted them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from econ.base.errors import EconError

__all__ = ["ENCODING", "TOKENIZER", "ModelTokenizer", "count_tokens", "encoding_file",
           "encoding_for", "encodings_dir", "tokenizer_name"]

ENCODING = "cl100k_base"
TOKENIZER = f"tiktoken:{ENCODING}"
_FILES = {"o200k_harmony": "o200k_base"}  # encodings that share another's ranks file
_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


def tokenizer_name(encoding: str) -> str:
    return f"tiktoken:{encoding}"


@dataclass(frozen=True)
class ModelTokenizer:
    """The encoding a scenario model's tokens are counted in."""

    model: str  # the scenario's model id
    name: str  # the name looked up (price_key, endpoint model, architecture or id)
    encoding: str
    exact: bool  # tiktoken names this encoding for the model; False: cl100k_base stands in

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "name": self.name, "encoding": self.encoding,
                "exact": self.exact}


def encoding_for(model: str, name: str | None = None) -> ModelTokenizer:
    """The encoding of a model, by its name (a provider prefix such as ``openai/`` is dropped):
    tiktoken's table for OpenAI models, ``cl100k_base`` as a stand-in for any other."""
    from tiktoken.model import encoding_name_for_model

    looked = name or model
    base = looked.rsplit("/", 1)[-1]
    try:
        encoding = encoding_name_for_model(base)
    except KeyError:
        return ModelTokenizer(model, looked, ENCODING, False)
    if encoding_file(encoding) is None:  # an encoding no one bundled (r50k, gpt2): stand in
        return ModelTokenizer(model, looked, ENCODING, False)
    return ModelTokenizer(model, looked, encoding, True)


def encodings_dir() -> Path | None:
    """The tiktoken encodings bundled in the installed litellm package (litellm not imported)."""
    spec = importlib.util.find_spec("litellm")
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "litellm_core_utils" / "tokenizers"
        if folder.is_dir():
            return folder
    return None


def _cache_dir() -> Path | None:
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        folder = encodings_dir()
        if folder is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    value = os.environ.get("TIKTOKEN_CACHE_DIR")
    return Path(value) if value else None


def encoding_file(encoding: str) -> Path | None:
    """The cached ranks file tiktoken reads for ``encoding`` (named by the SHA-1 of its URL),
    when it is there; None otherwise."""
    folder = _cache_dir()
    if folder is None:
        return None
    url = _URL.format(_FILES.get(encoding, encoding))
    path = folder / hashlib.sha1(url.encode()).hexdigest()
    return path if path.is_file() else None


@lru_cache(maxsize=4)
def _encoding(encoding: str = ENCODING) -> Any:
    if encoding_file(encoding) is None:  # never let tiktoken reach for the network
        url = _URL.format(_FILES.get(encoding, encoding))
        raise EconError(f"tiktoken's {encoding} is not available offline: it is not among the "
                        "encodings litellm bundles (litellm_core_utils/tokenizers) nor in "
                        f"TIKTOKEN_CACHE_DIR; econ never downloads it at run time. Fetch {url} "
                        "once and save it in a folder named by TIKTOKEN_CACHE_DIR as "
                        f"{hashlib.sha1(url.encode()).hexdigest()}")
    import tiktoken

    try:
        return tiktoken.get_encoding(encoding)
    except Exception as exc:  # a damaged file: say so, once
        raise EconError(f"tiktoken cannot load {encoding} offline ({type(exc).__name__}: "
                        f"{exc})") from None


def count_tokens(texts: Sequence[str], encoding: str = ENCODING) -> list[int]:
    """Tokens of each text (special-token strings counted as ordinary text)."""
    encode = _encoding(encoding).encode_ordinary  # a plain loop: the batch API's thread pool
    return [len(encode(t)) for t in texts]  # costs more than it saves on short chat messages
