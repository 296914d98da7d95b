"""Exact and near-duplicate documents.

Exact duplicates are the same canonical URL or the same normalised text
(`storyline.ids`).  Near duplicates (a re-run of the same wire story with a new
headline, a corrected sentence, different page furniture) are found with MinHash
over word shingles: a signature is a fixed-size array, so the store can keep it
and find candidates by equality on LSH band keys, and the in-memory index uses
datasketch's MinHashLSH.

Signatures use datasketch's "affine32" scheme with a fixed seed, so they are
identical across processes and machines and may be persisted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from datasketch import MinHash, MinHashLSH

from storyline.ids import canonical_url, content_hash, normalise_text

_SCHEME = "affine32"
_SEED = 1
_WORD = re.compile(r"\w+")
# Apostrophes and quote marks vary by outlet style ("Russia's" / "Russia’s"); drop them
# so they neither split nor distinguish words.
_APOSTROPHES = str.maketrans("", "", "'’‘ʼ`´")

# Measured (bench/passages_speed.py semeval): at 0.8 only ~58% of ~150-word copies with a
# new headline and one edited sentence are caught, at 0.7 ~95%; no SemEval pair of two
# distinct articles about the same event reaches 0.6.
DEFAULT_THRESHOLD = 0.7
DEFAULT_NUM_PERM = 128

# A MinHash signature as computed here, or as read back from a store (any int sequence).
Signature = np.ndarray | Sequence[int]


def words(text: str) -> list[str]:
    """Normalised word tokens: case-folded, punctuation and quote style ignored."""
    return _WORD.findall(normalise_text(text).translate(_APOSTROPHES))


def shingles(text: str, k: int = 5) -> set[str]:
    """Word k-shingles of the normalised text; a text shorter than k words is one shingle."""
    if k < 1:
        raise ValueError("k must be at least 1")
    tokens = words(text)
    if not tokens:
        return set()
    if len(tokens) <= k:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    # Generating the permutations costs more than hashing a short text; reuse them.
    return MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME).permutations


def minhash_signature(text: str, num_perm: int = DEFAULT_NUM_PERM, k: int = 5) -> np.ndarray:
    """MinHash hash values (uint32, length num_perm) of the text's word k-shingles.

    Deterministic (fixed seed and scheme).  An empty text gives the all-max
    signature, which `is_near_duplicate` never matches.
    """
    minhash = MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME,
                      permutations=_permutations(num_perm))
    minhash.update_batch([s.encode("utf-8") for s in shingles(text, k)])
    return minhash.hashvalues.copy()


def _as_minhash(signature: Signature) -> MinHash:
    values = np.asarray(signature, dtype=np.uint32)
    return MinHash(hashvalues=values, seed=_SEED, scheme=_SCHEME,
                   permutations=_permutations(len(values)))


def is_empty_signature(signature: np.ndarray) -> bool:
    """The MinHash of an empty text (every value at its maximum)."""
    return bool(np.all(signature == np.iinfo(np.uint32).max))


def estimated_jaccard(a_sig: Signature, b_sig: Signature) -> float:
    """Share of equal hash values: an unbiased estimate of the shingle-set Jaccard."""
    a = np.asarray(a_sig, dtype=np.uint32)
    b = np.asarray(b_sig, dtype=np.uint32)
    if a.shape != b.shape:
        raise ValueError(f"signatures differ in length: {a.shape[0]} vs {b.shape[0]}")
    if is_empty_signature(a) or is_empty_signature(b):
        return 0.0
    return float(np.count_nonzero(a == b)) / a.shape[0]


def is_near_duplicate(a_sig: Signature, b_sig: Signature,
                      threshold: float = DEFAULT_THRESHOLD) -> bool:
    return estimated_jaccard(a_sig, b_sig) >= threshold


@lru_cache(maxsize=32)
def lsh_params(threshold: float = DEFAULT_THRESHOLD,
               num_perm: int = DEFAULT_NUM_PERM) -> tuple[int, int]:
    """(bands, rows) that datasketch's MinHashLSH picks for this threshold.

    A store that finds candidates by `band_keys` equality must use these, so it
    finds the same candidates as `NearDuplicateIndex`.
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def band_keys(signature: Signature, bands: int, rows: int) -> list[str]:
    """One key per LSH band ("<band>:<digest of its rows>"); equal key = candidate pair.

    Keys are stable across platforms (little-endian bytes), short enough to index.
    """
    values = np.asarray(signature, dtype="<u4")
    if bands * rows > values.shape[0]:
        raise ValueError(f"{bands} bands x {rows} rows needs {bands * rows} hash values, "
                         f"the signature has {values.shape[0]}")
    if is_empty_signature(values):
        return []  # an empty text is nobody's near duplicate
    keys = []
    for band in range(bands):
        chunk = values[band * rows : (band + 1) * rows].tobytes()
        keys.append(f"{band}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return keys


class NearDuplicateIndex:
    """In-memory near-duplicate index (MinHash LSH, then a check of the estimate)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM):
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.num_perm = num_perm
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._signatures: dict[str, np.ndarray] = {}

    @property
    def bands(self) -> int:
        return self._lsh.b

    @property
    def rows(self) -> int:
        return self._lsh.r

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._signatures

    def add(self, doc_id: str, signature: Signature) -> None:
        """Index a document; adding an id again replaces its signature."""
        values = np.asarray(signature, dtype=np.uint32)
        if values.shape != (self.num_perm,):
            raise ValueError(f"signature must have {self.num_perm} values, got {values.shape}")
        if doc_id in self._signatures:
            self.remove(doc_id)
        self._signatures[doc_id] = values
        if not is_empty_signature(values):
            self._lsh.insert(doc_id, _as_minhash(values), check_duplication=False)

    def remove(self, doc_id: str) -> None:
        values = self._signatures.pop(doc_id)
        if not is_empty_signature(values):
            self._lsh.remove(doc_id)

    def query(self, signature: Signature) -> list[tuple[str, float]]:
        """Indexed ids whose estimated Jaccard with `signature` is >= threshold, best first."""
        values = np.asarray(signature, dtype=np.uint32)
        if values.shape != (self.num_perm,) or is_empty_signature(values):
            return []
        found = []
        for doc_id in self._lsh.query(_as_minhash(values)):
            similarity = estimated_jaccard(values, self._signatures[doc_id])
            if similarity >= self.threshold:
                found.append((doc_id, similarity))
        found.sort(key=lambda item: (-item[1], item[0]))
        return found


DuplicateKind = Literal["url", "text", "near"]


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    """The earlier document a new one duplicates, and how it was recognised."""

    of: str
    kind: DuplicateKind
    similarity: float  # 1.0 for url/text; estimated Jaccard for near


class DuplicateFinder:
    """First-seen-wins duplicate detection over a stream of documents (in memory).

    Checks, in order: same canonical URL, same normalised text, near-duplicate
    text.  Documents recognised as duplicates are not indexed themselves, so a
    chain of copies all point at the original.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM):
        self.num_perm = num_perm
        self._by_url: dict[str, str] = {}
        self._by_hash: dict[str, str] = {}
        self._near = NearDuplicateIndex(threshold, num_perm)

    def check(self, doc_id: str, text: str, url: str | None = None) -> DuplicateMatch | None:
        """The earlier document this one duplicates, or None (it is then kept as an original)."""
        canon = canonical_url(url)
        if canon is not None and canon in self._by_url:
            return DuplicateMatch(self._by_url[canon], "url", 1.0)
        digest = content_hash(text)
        if digest in self._by_hash:
            return DuplicateMatch(self._by_hash[digest], "text", 1.0)
        signature = minhash_signature(text, self.num_perm)
        near = self._near.query(signature)
        if near:
            return DuplicateMatch(near[0][0], "near", near[0][1])
        if canon is not None:
            self._by_url[canon] = doc_id
        self._by_hash[digest] = doc_id
        self._near.add(doc_id, signature)
        return None
