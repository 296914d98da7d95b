"""The clusterer's cached, incremental scoring equals a plain recomputation from the features.

`OnlineClusterer` keeps story summaries, a centroid matrix, IDF maps and decoded articles
across decisions (for speed); the reference below recomputes every signal from the raw
features of the article and of each candidate story, with nothing cached.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pytest
from hashed_embedder import HashedWordsEmbedder  # tests/unit helper

from storyline.link.base import FrozenFeatures
from storyline.link.cluster import (
    FEATURE_NAMES,
    NEAREST_MEMBERS,
    SHORTLIST,
    STORY_MEMORY,
    OnlineClusterer,
    article_features,
    decode_vector,
)
from storyline.link.features import TermStats
from storyline.store.base import StoryCandidate

EMBEDDER = HashedWordsEmbedder(48)

# Four events, two of them look-alikes (two earthquakes), with dates and years.
EVENTS = {
    "norcia": (
        "Earthquake hits Norcia",
        "A magnitude 6.1 earthquake struck Norcia in Umbria on Sunday in 2016. Rescuers "
        "searched the rubble of Norcia for survivors while Umbria counted the damage.",
    ),
    "amatrice": (
        "Earthquake hits Amatrice",
        "A magnitude 6.2 earthquake struck Amatrice in Lazio on Wednesday in 2016. "
        "Firefighters in Amatrice dug through collapsed houses as Lazio sent help.",
    ),
    "riksbank": (
        "Riksbank raises rates",
        "Sweden's Riksbank raised its interest rate by half a point on Thursday as "
        "inflation kept climbing. Governor Erik Thedeen said Sweden must act in 2023.",
    ),
    "strike": (
        "Dock workers strike in Rotterdam",
        "Dock workers in Rotterdam walked out on Monday over pay. The union FNV said "
        "the strike at the Port of Rotterdam would last until Friday in 2022.",
    ),
}
EXTRA = [
    " Officials gave new figures later.",
    " More reports followed in the evening.",
    " Witnesses described the scene.",
    " The government promised support.",
]


def _stream() -> list[tuple[str, dict[str, Any]]]:
    """Articles of the four events, interleaved, each a slight variant of its event."""
    stream = []
    for round_ in range(4):
        for k, (event, (title, body)) in enumerate(EVENTS.items()):
            text = body + EXTRA[(round_ + k) % len(EXTRA)] * (1 + round_ % 2)
            published = date(2024, 3, 1 + round_ * 2 + k % 2).isoformat()
            stream.append(
                (event, article_features(title, text, published, "en", EMBEDDER))
            )
    return stream


# -- the reference: every signal from the raw features, nothing cached ----------------
def _sublinear(counts: Mapping[str, int]) -> dict[str, float]:
    return {t: 1.0 + math.log(c) for t, c in counts.items() if c > 0}


def _day(published: str | None) -> float | None:
    return None if published is None else float(date.fromisoformat(published).toordinal())


def _years(names: Sequence[str]) -> set[int]:
    return {int(n) for n in names if len(n) == 4 and n.isdigit() and 1900 <= int(n) <= 2099}


def _cosine(a: Mapping[str, float], b: Mapping[str, float], stats: TermStats) -> float:
    dot = sum(a[t] * b[t] * stats.idf(t) ** 2 for t in a if t in b)
    if dot == 0.0:
        return 0.0
    norm_a = math.sqrt(sum((w * stats.idf(t)) ** 2 for t, w in a.items())) or 1.0
    norm_b = math.sqrt(sum((w * stats.idf(t)) ** 2 for t, w in b.items())) or 1.0
    return dot / (norm_a * norm_b)


def _share(mine: Sequence[str], theirs: set[str], stats: TermStats) -> float:
    total = sum(stats.idf(n) for n in mine)
    shared = sum(stats.idf(n) for n in mine if n in theirs)
    return shared / total if total else 0.0


def _pair(
    article: Mapping[str, Any], story: Sequence[Mapping[str, Any]], clusterer: OnlineClusterer
) -> np.ndarray:
    terms, names = clusterer.stats, clusterer.entity_stats
    vector = decode_vector(article["embedding"])
    members = list({f["embedding"]: f for f in story}.values())  # one per distinct text
    newest = members[-STORY_MEMORY:]
    embeddings = np.stack([decode_vector(f["embedding"]) for f in newest])
    total = np.sum([decode_vector(f["embedding"]) for f in members], axis=0)
    centroid = total / np.linalg.norm(total)
    cosines = embeddings @ vector
    story_terms: dict[str, float] = {}
    for f in members:
        for t, w in _sublinear(f["terms"]).items():
            story_terms[t] = story_terms.get(t, 0.0) + w
    story_names = {n for f in members for n in f["entities"]}
    shingles = set(article["shingles"])
    story_shingles = {s for f in members for s in f["shingles"]}
    days = [d for d in (_day(f["published"]) for f in members) if d is not None]
    day = _day(article["published"])
    mine = _sublinear(article["terms"])
    lead = _sublinear(article["lead_terms"])
    nearest = [newest[i] for i in np.argsort(-cosines)[:NEAREST_MEMBERS]]
    years = _years(article["entities"])
    story_years = {y for f in members for y in _years(f["entities"])}
    signals = {
        "cos_max": float(cosines.max()),
        "cos_centroid": float(centroid @ vector),
        "terms": _cosine(mine, story_terms, terms),
        "entities": _share(article["entities"], story_names, names),
        "passages": len(shingles & story_shingles) / len(shingles) if shingles else 0.0,
        "time_gap": math.log1p(min(abs(day - d) for d in days)) if day and days else 0.0,
        "time_known": 1.0 if day and days else 0.0,
        "terms_nn": max(_cosine(mine, _sublinear(m["terms"]), terms) for m in nearest),
        "entities_nn": max(_share(article["entities"], set(m["entities"]), names) for m in nearest),
        "years_conflict": 1.0 if years and story_years and not years & story_years else 0.0,
        "lead_nn": max(
            _share(article["lead_entities"], set(m["entities"]), names) for m in nearest
        ),
        "lead_nn_back": max(
            _share(m["lead_entities"], set(article["entities"]), names) for m in nearest
        ),
        "lead_terms_nn": max(_cosine(lead, _sublinear(m["lead_terms"]), terms) for m in nearest),
    }
    return np.array([signals[n] for n in FEATURE_NAMES])


# Every signal weighs in (the learned weights leave the time signals at 0).
WEIGHTS = {name: 0.4 + 0.15 * i for i, name in enumerate(FEATURE_NAMES)}
BIAS = -4.0


def _reference_scores(
    article: Mapping[str, Any],
    candidates: Sequence[StoryCandidate],
    clusterer: OnlineClusterer,
    named: Mapping[str, float] = WEIGHTS,
    bias: float = BIAS,
) -> dict[str, float]:
    vector = decode_vector(article["embedding"])
    coarse = []
    for c in candidates:
        distinct = {f["embedding"]: f for f in c.features}.values()
        total = np.sum([decode_vector(f["embedding"]) for f in distinct], axis=0)
        coarse.append(float(total @ vector / np.linalg.norm(total)))
    shortlist = sorted(range(len(candidates)), key=lambda i: -coarse[i])[:SHORTLIST]
    weights = np.array([named[n] for n in FEATURE_NAMES])
    scores = {}
    for i in shortlist:
        z = float(_pair(article, candidates[i].features, clusterer) @ weights) + bias
        scores[candidates[i].id] = 1.0 / (1.0 + math.exp(-z))
    return scores


def test_cached_scoring_equals_a_plain_recomputation_as_stories_grow_merge_and_reload() -> None:
    stream = _stream()
    # Scores only (merges are tested elsewhere); a high threshold keeps every story apart.
    clusterer = OnlineClusterer(weights=WEIGHTS, bias=BIAS, threshold=1.01, merge_threshold=1.01)
    for _, features in stream:  # fixed stream statistics, so nothing cached goes stale
        clusterer.observe(features)
    stories: dict[str, StoryCandidate] = {}
    compared = 0
    for n, (event, features) in enumerate(stream):
        candidates = list(stories.values())
        decision = clusterer.decide(features, candidates)
        expected = _reference_scores(features, candidates, clusterer)
        assert set(decision.scores) == set(expected)
        for story_id, probability in expected.items():
            assert decision.scores[story_id] == pytest.approx(probability, rel=1e-9, abs=1e-12)
        compared += len(expected)
        # Grow the stories in place (as the window does), by the true event.
        story = stories.setdefault(
            event,
            StoryCandidate(
                id=event, title="", first_seen=None, last_seen=None, article_count=0, features=[]
            ),
        )
        story.features.append(dict(features))
        if n == 9:
            # A story reloaded from the store: a new list of the same features.
            stories["norcia"] = StoryCandidate(
                id="norcia",
                title="",
                first_seen=None,
                last_seen=None,
                article_count=0,
                features=[dict(f) for f in stories["norcia"].features],
            )
            clusterer.forget_story("norcia")
        if n == 11:
            # Two stories merged: one list takes the other's articles, the other is forgotten.
            stories["riksbank"].features.extend(stories.pop("strike").features)
            clusterer.forget_story("strike")
    assert compared >= 30
    # A live fixture: with the learned weights, the look-alike earthquakes stay apart.
    learned = OnlineClusterer()
    for _, features in stream:
        learned.observe(features)
    assert learned.decide(stream[0][1], list(stories.values())).story_id == "norcia"


def test_reference_detects_a_wrong_signal() -> None:
    """The comparison can fail: a clusterer with another weight scores differently."""
    stream = _stream()
    clusterer = OnlineClusterer(weights={**WEIGHTS, "terms_nn": 0.0}, bias=BIAS)
    for _, features in stream:
        clusterer.observe(features)
    story = StoryCandidate(
        id="norcia", title="", first_seen=None, last_seen=None, article_count=1,
        features=[stream[0][1]],
    )
    scores = clusterer.decide(stream[4][1], [story]).scores
    expected = _reference_scores(stream[4][1], [story], clusterer)
    assert scores["norcia"] != pytest.approx(expected["norcia"], rel=1e-6)


@pytest.mark.parametrize("kind", ["plain", "checkpoint"])
def test_idf_maps_equal_idf_calls_and_expire_with_the_cache(kind: str) -> None:
    from storyline.link.stories import CheckpointStats

    def fresh() -> TermStats:
        return TermStats() if kind == "plain" else CheckpointStats()

    mapped, called = fresh(), fresh()
    docs = [[f"w{i % 7}", f"w{i % 3}", f"rare{i}"] for i in range(60)]
    words = ["w0", "w1", "w5", "rare3", "never-seen"]
    generations = set()
    for n, doc in enumerate(docs):
        for stats in (mapped, called):
            stats.observe(doc)
        if n % 4:
            continue
        before = mapped.generation
        values = mapped.idf_map(words)
        # Exactly the values, and the same cache contents, as one `idf` call per word.
        assert values == {w: called.idf(w) for w in words}
        assert mapped._idf_cache == called._idf_cache
        assert mapped.cache_holds(mapped.generation)
        generations.add(mapped.generation)
        if mapped.generation != before:
            assert not mapped.cache_holds(before)
    assert len(generations) > 3  # the cache was emptied several times along the stream
    assert mapped.idf_map([]) == {}


class _CountingFrozen(FrozenFeatures):
    """Frozen features that count how often a value other than the embedding is read."""

    __slots__ = ("_values", "reads")

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)
        self.reads = 0

    def __getitem__(self, key: str) -> Any:
        if key != "embedding":
            self.reads += 1
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def test_a_summary_rebuilt_from_the_same_frozen_features_decodes_nothing_again() -> None:
    stream = _stream()
    clusterer = OnlineClusterer(weights=WEIGHTS, bias=BIAS, threshold=1.01, merge_threshold=1.01)
    for _, features in stream:
        clusterer.observe(features)
    members = [_CountingFrozen(f) for event, f in stream[:12] if event == "norcia"]
    story = StoryCandidate(
        id="norcia", title="", first_seen=None, last_seen=None, article_count=0,
        features=list(members),
    )  # fmt: skip
    probe = stream[-1][1]
    first = clusterer.decide(probe, [story])
    assert all(m.reads > 0 for m in members)  # decoded once, to build the summary
    reads = [m.reads for m in members]
    clusterer.forget_story("norcia")  # as at a statistics checkpoint: rebuilt from the window
    again = clusterer.decide(probe, [story])
    assert again.scores == first.scores
    assert [m.reads for m in members] == reads  # the same objects: nothing decoded again
    # Equal values in new plain dicts are compared (read) and give the same scores.
    clusterer.forget_story("norcia")
    plain = StoryCandidate(
        id="norcia", title="", first_seen=None, last_seen=None, article_count=0,
        features=[dict(m._values) for m in members],
    )  # fmt: skip
    assert clusterer.decide(probe, [plain]).scores == first.scores
