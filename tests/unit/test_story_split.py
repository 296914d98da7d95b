"""Story splits: the partition rule, the clusterer's split check, and the pipeline applying a
split inside the article's transaction (scripted linker, like `_BridgingLinker`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from storyline.config import Settings
from storyline.link.base import LinkDecision
from storyline.link.cluster import (
    InMemoryStories,
    OnlineClusterer,
    SplittingDecision,
    encode_vector,
    two_groups,
)
from storyline.link.stories import CheckpointStats, EmbeddingLinker
from storyline.pipeline import Pipeline, StoryWindow
from storyline.records import RawDocument
from storyline.store import open_store
from storyline.store.base import StoryCandidate


def _blocks(sizes: Sequence[int], within: float, across: float) -> np.ndarray:
    n = sum(sizes)
    links = np.full((n, n), across)
    start = 0
    for size in sizes:
        links[start : start + size, start : start + size] = within
        start += size
    np.fill_diagonal(links, 1.0)
    return links


# -- the partition rule ------------------------------------------------------------------
def test_two_coherent_groups_poorly_linked_are_found() -> None:
    assert two_groups(_blocks([3, 2], 0.9, 0.05), 0.2, 2) == ([0, 1, 2], [3, 4])


def test_one_coherent_story_is_not_split() -> None:
    assert two_groups(_blocks([5], 0.7, 0.0), 0.2, 2) is None


def test_groups_must_hold_together_and_be_large_enough() -> None:
    assert two_groups(_blocks([4, 1], 0.9, 0.05), 0.2, 2) is None  # one stray article
    # Two groups apart, but neither holds together at the threshold.
    loose = _blocks([3, 3], 0.15, 0.01)
    assert two_groups(loose, 0.2, 2) is None


def test_a_stray_article_joins_the_group_it_links_to_most() -> None:
    links = _blocks([3, 3, 1], 0.9, 0.02)
    links[6, :3] = links[:3, 6] = 0.15  # links weakly to the first group
    assert two_groups(links, 0.2, 2) == ([0, 1, 2, 6], [3, 4, 5])


# -- the clusterer's split check ------------------------------------------------------------
def _event_features(event: int, n: int, rng: np.random.Generator) -> dict[str, Any]:
    """An article of one of two look-alike events: own names, words and embedding direction."""
    base = np.zeros(32, dtype=np.float32)
    base[event] = 1.0
    vector = base + rng.normal(scale=0.05, size=32).astype(np.float32)
    names = [f"person{event}", f"place{event}", f"{2005 + 3 * event}"]
    words = {f"word{event}x{k}": 1 for k in range(12)} | {"earthquake": 2, "island": 1}
    return {
        "embedding": encode_vector(vector / np.linalg.norm(vector)),
        "terms": words,
        "entities": names,
        "lead_terms": dict(list(words.items())[:5]),
        "lead_entities": names[:2],
        "shingles": [event * 1000 + k for k in range(20)],
        "published": None,
        "article_id": f"e{event}-{n}",
    }


def _stream() -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    # Two articles of event 0, then event 1 arrives and (join threshold 0) is absorbed.
    order = [0, 0, 0, 1, 1, 1]
    return [_event_features(event, n, rng) for n, event in enumerate(order)]


def test_a_story_that_absorbed_two_events_is_split_online() -> None:
    stream = _stream()
    without = InMemoryStories(
        OnlineClusterer(threshold=0.0, merge_threshold=1.01, split_threshold=0.0)
    )
    assert len(set(without.run(stream).story_ids)) == 1  # everything joins the first story
    driver = InMemoryStories(
        OnlineClusterer(threshold=0.0, merge_threshold=1.01, split_threshold=0.5)
    )
    result = driver.run(stream)
    first, second = result.story_ids[0], result.story_ids[-1]
    assert first != second
    assert result.story_ids[:3] == [first] * 3
    assert len(driver.splits) == 1 and driver.splits[0][0] == first
    assert [f["article_id"] for f in driver.stories[second].features] == [
        "e1-3", "e1-4", "e1-5"
    ]
    assert [f["article_id"] for f in driver.stories[first].features] == ["e0-0", "e0-1", "e0-2"]


def test_splitting_off_changes_nothing() -> None:
    stream = _stream()
    off = OnlineClusterer(threshold=0.0, merge_threshold=1.01, split_threshold=0.0)
    decisions = InMemoryStories(off).run(stream).decisions
    assert not any(isinstance(d, SplittingDecision) for d in decisions)


# -- the pipeline applies a split (scripted linker) -------------------------------------------
class _SplittingLinker:
    """Four articles join the first story; the fifth splits the last two off and goes with them."""

    similarity_method = "scripted-split"
    window_days = 30.0

    def __init__(self, article_moves: bool = True) -> None:
        self.calls = 0
        self.article_moves = article_moves

    def features(self, article: object) -> dict[str, Any]:
        return {}

    def decide(
        self, features: object, candidates: Sequence[StoryCandidate]
    ) -> LinkDecision:
        self.calls += 1
        if self.calls == 1:
            return LinkDecision(None, 0.0)
        (story,) = candidates
        if self.calls < 5:
            return LinkDecision(story.id, 0.9)
        return SplittingDecision(
            story.id, 0.9, split_off=[2, 3], article_moves=self.article_moves
        )


def _doc(n: int) -> RawDocument:
    rng = random.Random(n)
    words = " ".join(f"w{rng.randrange(10_000)}" for _ in range(60))
    return RawDocument(
        f"doc-{n}", f"Report number {n}. {words}.", "text",
        url=f"https://news{n}.example.org/{n}", title=f"Report {n}",
        published=f"2024-03-0{1 + n}T10:00:00", outlet=f"Outlet {n}", language="en",
    )


def test_a_splitting_decision_moves_members_and_keeps_links_valid(tmp_path: Path) -> None:
    docs = [_doc(n) for n in range(5)]
    store = open_store(str(tmp_path / "split.db"))
    try:
        pipeline = Pipeline(store, Settings.from_env(), linker=_SplittingLinker())
        outcomes = pipeline.ingest(docs).outcomes
        assert [o.status for o in outcomes] == ["new"] * 5
        article_ids = [o.article_id for o in outcomes]
        old = outcomes[0].story_id
        new = outcomes[4].story_id
        assert old and new and new != old
        partition = {frozenset(a.id for a in s.articles) for s in store.iter_stories()}
        assert partition == {frozenset(article_ids[:2]), frozenset(article_ids[2:])}
        kept, split = store.get_story(old), store.get_story(new)
        assert kept is not None and split is not None
        assert [(p.from_id, p.into_id, p.article_ids) for p in kept.splits] == [
            (old, new, article_ids[2:4])
        ]
        assert split.splits == kept.splits
        assert store.check() == []
        window = pipeline._window
        assert window is not None
        # Our own split is accounted for: the window stays in step without a reload, and
        # holds both parts as a fresh load from the store gives them.
        assert window.known_changes == store.link_state("changes")
        fresh = StoryWindow(store, window.window_days)
        fresh.cover(docs[4].published)
        for story_id in (old, new):
            assert [f["article_id"] for f in window.stories[story_id].features] == [
                f["article_id"] for f in fresh.stories[story_id].features
            ]
    finally:
        store.close()


def test_the_article_can_stay_in_the_old_story(tmp_path: Path) -> None:
    docs = [_doc(n) for n in range(5)]
    store = open_store(str(tmp_path / "split-stay.db"))
    try:
        pipeline = Pipeline(
            store, Settings.from_env(), linker=_SplittingLinker(article_moves=False)
        )
        outcomes = pipeline.ingest(docs).outcomes
        article_ids = [o.article_id for o in outcomes]
        assert outcomes[4].story_id == outcomes[0].story_id
        partition = {frozenset(a.id for a in s.articles) for s in store.iter_stories()}
        assert partition == {
            frozenset([*article_ids[:2], article_ids[4]]), frozenset(article_ids[2:4])
        }
        assert store.check() == []
    finally:
        store.close()


# -- the real linker through the pipeline: a restart gives the same stories ---------------------
def _ecb_topic(topic: str) -> list[RawDocument]:
    import pytest

    from storyline.eval import DataUnavailable
    from storyline.eval.stories import arrival_order, load_ecbplus

    try:
        docs = [d for d in load_ecbplus() if d.group == topic]
    except DataUnavailable as exc:
        pytest.skip(str(exc))
    return [
        RawDocument(f"ecb-{d.id}", d.body, "text", title=d.title, language="en")
        for d in arrival_order(docs, 0)
    ]


def _stories_of(store_path: Path) -> tuple[set[frozenset[str]], int]:
    store = open_store(str(store_path))
    try:
        assert store.check() == []
        stories = list(store.iter_stories())
        splits = {(p.from_id, p.into_id) for s in stories for p in s.splits}
        return {frozenset(a.id for a in s.articles) for s in stories}, len(splits)
    finally:
        store.close()


def _splitting_linker() -> EmbeddingLinker:
    # The production linker with the split check on (it ships off: docs/benchmarks.md).
    return EmbeddingLinker(
        clusterer=OnlineClusterer(
            stats=CheckpointStats(), entity_stats=CheckpointStats(), split_threshold=0.15
        )
    )


def test_splits_survive_a_restart_exactly(tmp_path: Path) -> None:
    docs = _ecb_topic("16")  # two look-alike events (ECB+ topic 16)
    once = tmp_path / "once.db"
    store = open_store(str(once))
    try:
        Pipeline(store, Settings.from_env(), linker=_splitting_linker()).ingest(docs)
    finally:
        store.close()
    twice = tmp_path / "twice.db"
    for part in (docs[:7], docs[7:]):  # a new process for each half
        store = open_store(str(twice))
        try:
            Pipeline(store, Settings.from_env(), linker=_splitting_linker()).ingest(part)
        finally:
            store.close()
    partition, splits = _stories_of(once)
    assert splits >= 1  # the stream does exercise a split
    assert _stories_of(twice) == (partition, splits)
