"""Memory of the global stage: what the story window holds per member stays small and bounded.

The window keeps the link features of every member of every story still active, and a
long-running story never leaves it: held as decoded dicts (~35 kB a member) they grew
a 100k-article batch's parent by ~25 MB per 1,000 articles (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import random
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from storyline.batch import DocumentStage
from storyline.config import Settings
from storyline.link.cluster import encode_vector
from storyline.link.stories import default_linker
from storyline.pipeline import (
    PLAIN_FEATURES,
    PackedFeatures,
    Pipeline,
    StoryWindow,
    shared_strings,
)
from storyline.records import Failure, RawDocument
from storyline.store import open_store
from storyline.store.base import StoryCandidate

# What one member may cost in the window (packed: ~4 kB of realistic features;
# decoded as before: ~30 kB).
MEMBER_BYTES_BOUND = 8_000


def realistic_features(seed: int) -> dict:
    """Link features shaped like the production linker's (link/cluster.py `article_features`)."""
    rng = random.Random(seed)
    words = [f"{rng.choice('bcdfgklmnprst')}{rng.randrange(10**6):06d}word" for _ in range(300)]
    return {
        "version": 1,
        "model": "test-embedder-512d",
        "embedding": encode_vector(np.random.default_rng(seed).standard_normal(512)),
        "terms": {w: rng.randint(1, 9) for w in words},
        "entities": sorted(f"name {rng.randrange(10**5)}" for _ in range(60)),
        "lead_terms": {w: 1 for w in words[:50]},
        "lead_entities": ["name 1", "name 2"],
        "shingles": sorted(rng.randrange(2**48) for _ in range(160)),
        "published": f"2024-01-{1 + seed % 28:02d}T10:00:00",
        "language": "en",
        "article_id": f"a{seed:015d}",
        "outlet": "Example Times",
        "minhash": [rng.randrange(2**32) for _ in range(128)],
    }


def test_packed_features_read_like_the_stored_json() -> None:
    features = realistic_features(1)
    stored = json.loads(json.dumps({k: v for k, v in features.items() if k != "minhash"}))
    packed = PackedFeatures(stored)
    assert dict(packed) == stored
    assert list(packed) == list(stored)  # the stored key order
    assert len(packed) == len(stored)
    assert packed == stored
    for key in stored:
        assert key in packed
        assert packed[key] == stored[key]
        assert packed.get(key) == stored[key]
    assert "minhash" not in packed
    assert packed.get("minhash") is None
    assert packed.get("minhash", 7) == 7
    with pytest.raises(KeyError):
        packed["minhash"]
    # What every decision reads is the very object given (no decoding per read).
    for key in PLAIN_FEATURES:
        assert packed[key] is stored[key]


def test_packed_features_keep_json_types_and_missing_plain_keys() -> None:
    packed = PackedFeatures({"terms": {"a": 1}, "entities": ("x", "y"), "published": None})
    assert "embedding" not in packed
    assert "article_id" not in packed
    assert packed.get("embedding") is None
    # As the store gives them back: a tuple reads as a list.
    assert packed["entities"] == ["x", "y"]
    assert packed["published"] is None
    assert dict(packed) == {"terms": {"a": 1}, "entities": ["x", "y"], "published": None}


def test_window_members_stay_within_the_bound_for_a_long_running_story() -> None:
    members = 150
    window = StoryWindow(store=None, window_days=7.0)  # type: ignore[arg-type]  # never read
    story = StoryCandidate("s1", "title", "2024-01-01T10:00:00", "2024-01-01T10:00:00", 1)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for count in range(1, members + 1):
            # As in the pipeline: the article's features are the window's alone once stored.
            window.added(replace(story, article_count=count), realistic_features(count))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    kept = window.stories["s1"].features
    assert len(kept) == members
    assert held / members < MEMBER_BYTES_BOUND, f"{held / members:.0f} bytes per member"
    # Nothing is lost: each member reads back as stored, without its MinHash.
    features = [realistic_features(count) for count in range(1, members + 1)]
    for original, member in zip(features, kept, strict=True):
        assert dict(member) == {k: v for k, v in original.items() if k != "minhash"}
    newest = features[-1]
    assert window.nearest_members("s1", newest["embedding"], 1) == [newest["article_id"]]


def test_ingest_processed_can_hand_outcomes_on_without_keeping_them(tmp_path) -> None:
    # The batch job counts outcomes as they come: a report holding one per document
    # (~0.4 kB each) would grow with the corpus for nothing.
    store = open_store(str(tmp_path / "s.db"))
    try:
        stage = DocumentStage(Settings.from_env(), default_linker(), analyse=False)
        raw = RawDocument("a.txt", "Title\n\n" + "The river rose again in the city. " * 20, "text")
        seen: list[str] = []
        report = Pipeline(store).ingest_processed(
            [stage(raw), Failure("x", "read", "unreadable")],
            on_outcome=lambda outcome: seen.append(outcome.status),
            keep_outcomes=False,
        )
        assert seen == ["new", "failed"]
        assert report.outcomes == []
        assert store.count_articles() == 1
    finally:
        store.close()


def test_shared_strings_keep_values_and_order_with_one_object_per_word() -> None:
    text = json.dumps(realistic_features(3))
    first, second = shared_strings(json.loads(text)), shared_strings(json.loads(text))
    assert first == json.loads(text)
    assert list(first["terms"]) == list(json.loads(text)["terms"])
    # Two decodings of the same article now hold the same word objects, not copies.
    assert all(a is b for a, b in zip(first["terms"], second["terms"], strict=True))
    assert all(a is b for a, b in zip(first["entities"], second["entities"], strict=True))
    # Numbers are left as they are.
    assert first["shingles"] == second["shingles"]
    # What the window decodes is shared too.
    packed = PackedFeatures(first)
    assert all(a is b for a, b in zip(packed["terms"], first["terms"], strict=True))
