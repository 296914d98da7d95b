"""Embedders: offline loading, normalised rows, multilingual agreement."""

from __future__ import annotations

import numpy as np
import pytest

from storyline.link.embed import EmbedderUnavailable, available_models, load_embedder


def _load(name: str):  # type: ignore[no-untyped-def]
    try:
        return load_embedder(name)
    except EmbedderUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("name", ["use", "minilm"])
def test_rows_are_unit_float32_and_related_texts_are_closer(name: str) -> None:
    embedder = _load(name)
    texts = [
        "Earthquake of magnitude 6.1 strikes northern Italy, killing three people.",
        "A strong quake hit northern Italy on Sunday; three people died.",
        "The central bank raised interest rates by half a point.",
    ]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, embedder.dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > unrelated + 0.2


def test_multilingual_default_puts_a_translation_near_its_source() -> None:
    embedder = _load("default")
    vectors = embedder.embed(
        [
            "The government announced new taxes on fuel today.",
            "Die Regierung kündigte heute neue Steuern auf Kraftstoff an.",
            "The football team won the championship after a penalty shoot-out.",
        ]
    )
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2


def test_empty_inputs_keep_row_count() -> None:
    embedder = _load("default")
    assert embedder.embed([]).shape == (0, embedder.dim)
    assert embedder.embed(["", "text"]).shape == (2, embedder.dim)


def test_loader_is_cached_and_rejects_unknown_names() -> None:
    assert load_embedder("default") is load_embedder("default")
    with pytest.raises(ValueError, match="unknown embedding model"):
        load_embedder("no-such-model")
    assert "use-multilingual-v3" in available_models()
