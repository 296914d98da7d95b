"""The per-article "claims" analysis: claim spans and their sentence embeddings.

Fact comparison embeds every claim of a story's articles. Done at ingest, once
per article, the story page only reads the vectors back instead of running the
model on first view. The vectors are stored compactly: each L2-normalised row
quantised to int8 (scaled by its largest component; the scale is not kept, as a
cosine only needs the direction), base64 of the whole matrix: 512 bytes a claim
for the 512-dimensional default model.

A stored analysis is used only when it was made by the model the comparison
uses and its spans are the claims of the article body as it is now; otherwise
the claims are embedded at read time as before.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from storyline.compare.facts import Embed, claim_spans

CLAIMS_KIND = "claims"


def encode_rows(vectors: np.ndarray) -> str:
    """Rows quantised to int8 by their own largest component, as base64."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.size == 0:
        return ""
    peak = np.abs(matrix).max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    quantised = np.rint(matrix / peak * 127).astype(np.int8)
    return base64.b64encode(quantised.tobytes()).decode("ascii")


def decode_rows(text: str, dim: int) -> np.ndarray:
    """L2-normalised float32 rows back from `encode_rows`."""
    if not text:
        return np.zeros((0, dim), dtype=np.float32)
    raw = np.frombuffer(base64.b64decode(text), dtype=np.int8)
    if dim <= 0 or raw.size % dim:
        raise ValueError(f"claim vectors: {raw.size} values do not make rows of {dim}")
    matrix = raw.reshape(-1, dim).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def claims_analysis(body: str, embed: Embed, model: str) -> dict[str, Any]:
    """The claim spans of `body` and their embeddings by `embed` (model `model`)."""
    spans = claim_spans(body)
    vectors = np.asarray(embed([body[s:e] for s, e in spans]) if spans else np.zeros((0, 0)))
    return {
        "model": model,
        "spans": [[s, e] for s, e in spans],
        "dim": int(vectors.shape[1]) if vectors.ndim == 2 and len(spans) else 0,
        "vectors": encode_rows(vectors),
    }


def article_claims(body: str) -> dict[str, Any]:
    """The "claims" analysis with the default embedder (loaded once per process).

    Without the model the analysis records why; the story page then embeds at read
    time (and fails there the same way it would have without this analysis).
    """
    from storyline.link.embed import EmbedderUnavailable, load_embedder

    try:
        embedder = load_embedder()
    except EmbedderUnavailable as exc:
        return {"error": str(exc)}
    return claims_analysis(body, embedder.embed, embedder.name)


def stored_claim_vectors(
    body: str, data: Mapping[str, Any] | None, model: str
) -> dict[str, np.ndarray]:
    """Claim text -> stored vector, if `data` fits `body` and `model` (else empty)."""
    if not data or data.get("model") != model:
        return {}
    try:
        spans = [(int(s), int(e)) for s, e in data.get("spans") or []]
        if spans != claim_spans(body):
            return {}  # the body changed (re-cleaned) or the claim rules did
        vectors = decode_rows(str(data.get("vectors") or ""), int(data.get("dim") or 0))
    except (TypeError, ValueError):
        return {}  # a malformed record costs a read-time embedding, not the page
    if len(vectors) != len(spans):
        return {}
    return {body[s:e]: row for (s, e), row in zip(spans, vectors, strict=True)}


def embed_with_stored(
    stored: Mapping[str, np.ndarray], fallback: Callable[[Sequence[str]], np.ndarray]
) -> Embed:
    """An embed function reading `stored` vectors, computing only the missing texts."""

    def embed(texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in stored))
        computed = dict(zip(missing, fallback(missing), strict=True)) if missing else {}
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack(
            [np.asarray(stored[t] if t in stored else computed[t], dtype=np.float32) for t in texts]
        )

    return embed
