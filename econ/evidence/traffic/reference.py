"""The fixed reference that coverage's text representation is fitted on.

Coverage compares each conversation with the eval inputs. If the representation were fitted on
the traffic (its IDF, the mean its vectors are centred on), adding unrelated conversations would
move every distance and flip verdicts of the rest. So the representation is fitted once, on a
fixed corpus of ordinary chat requests, and shipped: a conversation's verdict then depends only
on its own text and the evals.

The shipped reference (``data/coverage_reference.npz``; ``data/SOURCES.md`` §10) holds, for the
hashed character n-grams of :mod:`.vectors`, the document frequency and the mean TF-IDF vector
over its texts: the human turns of the even-numbered conversations (0-based line index) of
Anthropic's HH-RLHF ``harmless-base/test.jsonl.gz`` (MIT). :func:`build_reference` rebuilds it
from those texts, exactly (tested where the file is at hand).

In: texts (to build), or nothing (to load the shipped file). Out: :class:`Reference`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from econ.base.errors import EconError
from econ.evidence.traffic.vectors import N_FEATURES, CharTfidf, fit_char_tfidf

__all__ = ["REFERENCE_FILE", "REFERENCE_SOURCE", "Reference", "build_reference",
           "load_reference", "reference_texts", "save_reference"]

REFERENCE_FILE = Path(__file__).resolve().parents[3] / "data" / "coverage_reference.npz"
REFERENCE_SOURCE = ("HH-RLHF harmless-base test, human turns of the even-numbered "
                    "conversations (data/SOURCES.md §10)")


@dataclass(frozen=True)
class Reference:
    """A fitted weighting and the mean of the reference's vectors (what is common to all)."""

    tfidf: CharTfidf
    mean: np.ndarray = field(compare=False, repr=False)  # dense, N_FEATURES
    documents: int
    source: str


def build_reference(texts: Sequence[str], source: str = "given texts") -> Reference:
    """The IDF of ``texts`` and the mean of their L2-normalised TF-IDF rows."""
    if not texts:
        raise EconError("a coverage reference needs at least one text")
    tfidf = fit_char_tfidf([texts])
    total = np.zeros(N_FEATURES, dtype=np.float64)
    for a in range(0, len(texts), 4096):
        total += np.asarray(tfidf.transform(texts[a:a + 4096]).sum(axis=0)).ravel()
    return Reference(tfidf, total / len(texts), len(texts), source)


def save_reference(ref: Reference, path: Path) -> None:
    """Store the document frequencies and the mean where either is non-zero."""
    n = ref.documents
    df = np.rint((1.0 + n) / np.exp(ref.tfidf.idf - 1.0) - 1.0).astype(np.int64)
    keep = np.flatnonzero((df > 0) | (ref.mean != 0))
    with path.open("wb") as fh:
        np.savez_compressed(fh, indices=keep.astype(np.int32), df=df[keep].astype(np.int32),
                            mean=ref.mean[keep], documents=np.int64(n),
                            features=np.int64(N_FEATURES), source=np.str_(ref.source))


@lru_cache(maxsize=2)
def load_reference(path: Path = REFERENCE_FILE) -> Reference:
    """The shipped reference (or one saved by :func:`save_reference`)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["features"]) != N_FEATURES:
                raise EconError(f"{path}: a coverage reference of {int(z['features'])} hashed "
                                f"features, not {N_FEATURES}; rebuild it")
            n = int(z["documents"])
            df = np.zeros(N_FEATURES, dtype=np.int64)
            mean = np.zeros(N_FEATURES, dtype=np.float64)
            df[z["indices"]] = z["df"]
            mean[z["indices"]] = z["mean"]
            source = str(z["source"])
    except FileNotFoundError:
        raise EconError(f"{path}: the coverage reference is missing (it ships in data/)"
                        ) from None
    except (OSError, ValueError, KeyError) as exc:
        raise EconError(f"{path}: not a coverage reference ({exc})") from None
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    return Reference(CharTfidf(idf=idf, documents=n), mean, n, source)


def reference_texts(hh_jsonl_lines: Sequence[str]) -> list[str]:
    """The human turns of the even-numbered records of an HH-RLHF JSON Lines file."""
    import json

    out: list[str] = []
    for i, line in enumerate(hh_jsonl_lines):
        if i % 2 or not line.strip():
            continue
        chosen = json.loads(line)["chosen"]
        out.extend(p.split("\n\nAssistant:")[0].strip() for p in chosen.split("\n\nHuman: ")[1:])
    return out
