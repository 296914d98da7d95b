"""A deterministic bag-of-words embedder for linker tests: texts sharing words get close vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class HashedWordsEmbedder:
    name = "hashed-words-test"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                rows[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        norms[norms == 0] = 1
        return rows / norms
