"""What the embedders read: at most `MAX_CHARS` characters of title + body."""

from __future__ import annotations

import numpy as np
import pytest

from storyline.link.embed import MAX_CHARS, EmbedderUnavailable, load_embedder

LEAD = (
    "Flood waters breached a levee north of the city overnight and forced thousands of "
    "residents from their homes, while rescue crews worked through the night. "
)


@pytest.mark.parametrize("name", ["use", "minilm"])
def test_text_beyond_the_limit_does_not_change_the_embedding(name: str) -> None:
    try:
        embedder = load_embedder(name)
    except EmbedderUnavailable as exc:
        pytest.skip(str(exc))
    head = (LEAD * (MAX_CHARS // len(LEAD) + 1))[:MAX_CHARS]
    tails = [
        "The central bank raised interest rates by half a point on Thursday.",
        "A football club won the cup final after a penalty shoot-out.",
    ]
    first, second = embedder.embed([head + tails[0], head + tails[1]])
    assert np.array_equal(first, second)
    # The same tail inside the limit does change it: the limit, not the text, decides.
    short = head[: MAX_CHARS // 2]
    near, far = embedder.embed([short + tails[0], short + tails[1]])
    assert not np.array_equal(near, far)
