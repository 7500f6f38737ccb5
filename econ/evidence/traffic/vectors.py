"""Texts as vectors for coverage: TF-IDF on character n-grams, hashed so memory stays bounded.

In: texts (any number, read in chunks). Out: L2-normalised sparse rows (scipy CSR).
The n-grams are ``char_wb`` 3- to 5-grams (n-grams inside word boundaries, lower-cased),
hashed into ``N_FEATURES`` columns (no vocabulary is held), weighted by sublinear term frequency
(1 + log tf) and the smoothed inverse document frequency of the corpus they are fitted on
(scikit-learn's formula: log((1 + n) / (1 + df)) + 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

__all__ = ["NGRAMS", "N_FEATURES", "CharTfidf", "fit_char_tfidf"]

N_FEATURES = 2**20
NGRAMS = (3, 5)


def _hasher() -> HashingVectorizer:
    return HashingVectorizer(analyzer="char_wb", ngram_range=NGRAMS, n_features=N_FEATURES,
                             alternate_sign=False, norm=None, lowercase=True, dtype=np.float64)


@dataclass(frozen=True)
class CharTfidf:
    """A fitted weighting: ``transform`` turns texts into L2-normalised TF-IDF rows."""

    idf: np.ndarray = field(compare=False)
    documents: int

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        x = sp.csr_matrix(_hasher().transform(list(texts)))
        x.data = 1.0 + np.log(x.data)
        x = x @ sp.diags(self.idf)
        return sp.csr_matrix(normalize(x, norm="l2", copy=False))


def fit_char_tfidf(chunks: Iterable[Sequence[str]]) -> CharTfidf:
    """Document frequencies counted chunk by chunk over every text given (one pass)."""
    df = np.zeros(N_FEATURES, dtype=np.int64)
    n = 0
    hasher = _hasher()
    for chunk in chunks:
        if not chunk:
            continue
        x = sp.csr_matrix(hasher.transform(list(chunk)))
        x.sum_duplicates()
        df += np.bincount(x.indices, minlength=N_FEATURES)
        n += x.shape[0]
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    return CharTfidf(idf=idf, documents=n)
