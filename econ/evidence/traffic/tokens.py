"""Token counts of message text with tiktoken, offline.

litellm ships tiktoken's encoding files inside its package; ``TIKTOKEN_CACHE_DIR`` is pointed at
them without importing litellm (its import takes seconds and is never needed here).
In: message texts. Out: token counts, and the name of the tokenizer that counted them.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from econ.base.errors import EconError

__all__ = ["ENCODING", "TOKENIZER", "count_tokens", "encodings_dir"]

ENCODING = "cl100k_base"
TOKENIZER = f"tiktoken:{ENCODING}"


def encodings_dir() -> Path | None:
    """The tiktoken encodings bundled in the installed litellm package (litellm not imported)."""
    spec = importlib.util.find_spec("litellm")
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "litellm_core_utils" / "tokenizers"
        if folder.is_dir():
            return folder
    return None


@lru_cache(maxsize=1)
def _encoding() -> Any:
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        folder = encodings_dir()
        if folder is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    import tiktoken

    try:
        return tiktoken.get_encoding(ENCODING)
    except Exception as exc:  # no bundled file and no network: say so, once
        raise EconError(f"tiktoken cannot load {ENCODING} offline ({type(exc).__name__}); "
                        "install litellm, which bundles the encoding files") from None


def count_tokens(texts: Sequence[str]) -> list[int]:
    """Tokens of each text (special-token strings counted as ordinary text)."""
    encode = _encoding().encode_ordinary  # a plain loop: the batch API's thread pool costs more
    return [len(encode(t)) for t in texts]  # than it saves on short chat messages
