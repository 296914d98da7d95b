"""The online linker: features, the decision rule, the in-memory driver, learning."""

from __future__ import annotations

import json

import numpy as np
from hashed_embedder import HashedWordsEmbedder  # tests/unit helper

from storyline.link.cluster import (
    FEATURE_NAMES,
    InMemoryStories,
    MergingDecision,
    OnlineClusterer,
    article_features,
    decode_vector,
    encode_vector,
    fit_logistic,
    gold_training_pairs,
)
from storyline.link.features import entity_names, shingle_sample
from storyline.store.base import StoryCandidate

EMBEDDER = HashedWordsEmbedder()

QUAKE = [
    (
        "Earthquake hits Norcia in central Italy",
        "A magnitude 6.1 earthquake struck Norcia on Sunday. "
        "Rescuers in Norcia searched the rubble for survivors of the earthquake.",
    ),
    (
        "Norcia earthquake: rescuers search rubble",
        "Rescuers in Norcia kept searching the rubble after "
        "the magnitude 6.1 earthquake on Sunday, officials in Umbria said.",
    ),
]
BANK = [
    (
        "Central bank raises rates",
        "The Riksbank raised its interest rate by half a point on Thursday "
        "as inflation in Sweden kept climbing.",
    ),
    (
        "Riksbank lifts interest rate",
        "Sweden's Riksbank lifted the interest rate by half a point on Thursday, citing inflation.",
    ),
]


def _features(title: str, body: str, published: str | None = "2024-05-01") -> dict:
    return article_features(title, body, published, "en", EMBEDDER)


def test_features_are_json_and_keep_the_embedding() -> None:
    features = _features(*QUAKE[0])
    restored = json.loads(json.dumps(features))
    vector = decode_vector(restored["embedding"])
    assert vector.shape == (EMBEDDER.dim,)
    assert np.allclose(vector, EMBEDDER.embed([f"{QUAKE[0][0]}\n{QUAKE[0][1]}"])[0], atol=1e-3)
    assert "norcia" in restored["entities"] and restored["terms"]["earthquake"] == 3
    assert restored["model"] == EMBEDDER.name


def test_given_entities_replace_the_proxy() -> None:
    features = article_features(
        "t", "Some body text here.", None, None, EMBEDDER, entities=["Mario Draghi"]
    )
    assert features["entities"] == ["mario draghi"]


def test_entity_proxy_skips_sentence_openers_and_keeps_names_and_numbers() -> None:
    names = entity_names("However, the CIA met Kim Jong Un in 2018. New York agreed.")
    assert "however" not in names
    assert {"cia", "kim jong un", "2018", "new york"} <= set(names)


def test_shared_passage_keeps_the_same_shingles() -> None:
    passage = (
        "the minister said the agreement would be signed in the capital next week "
        "after talks that lasted for more than nine hours without a break"
    )
    first = set(shingle_sample("Opening words differ here. " + passage))
    second = set(shingle_sample(passage + " And closing words are also different."))
    assert first and first & second


def test_decide_joins_the_same_story_and_starts_a_new_one_otherwise() -> None:
    clusterer = OnlineClusterer()
    stored = [_features(*QUAKE[0])]
    for f in stored:
        clusterer.observe(f)
    quake = StoryCandidate(
        id="quake", title="", first_seen=None, last_seen=None, article_count=1, features=stored
    )
    same = clusterer.decide(_features(*QUAKE[1]), [quake])
    other = clusterer.decide(_features(*BANK[0]), [quake])
    assert same.story_id == "quake"
    assert other.story_id is None
    assert same.scores["quake"] > other.scores["quake"]
    assert clusterer.decide(_features(*BANK[0]), []).story_id is None


def test_driver_separates_two_stories_in_arrival_order() -> None:
    driver = InMemoryStories(OnlineClusterer())
    stream = [_features(*QUAKE[0]), _features(*BANK[0]), _features(*QUAKE[1]), _features(*BANK[1])]
    result = driver.run(stream)
    ids = result.story_ids
    assert ids[0] == ids[2] and ids[1] == ids[3] and ids[0] != ids[1]
    assert len(driver.stories) == 2


def test_driver_window_keeps_far_apart_dates_out() -> None:
    driver = InMemoryStories(OnlineClusterer(), window_days=7)
    first = driver.add(_features(*QUAKE[0], published="2020-01-01"))
    later = driver.add(_features(*QUAKE[1], published="2024-01-01"))
    assert first.story_id != later.story_id


def test_learning_recovers_a_separating_rule() -> None:
    stream = [_features(*QUAKE[0]), _features(*BANK[0]), _features(*QUAKE[1]), _features(*BANK[1])]
    x, y = gold_training_pairs(stream, ["q", "b", "q", "b"])
    assert x.shape[1] == len(FEATURE_NAMES) and set(y) == {0.0, 1.0}
    weights, bias = fit_logistic(x, y, l2=0.1)
    scores = x @ weights + bias
    assert scores[y == 1].min() > scores[y == 0].max()


def test_fit_logistic_on_a_known_boundary() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - x[:, 1] > 0).astype(float)
    weights, _ = fit_logistic(x, y, l2=0.01)
    assert weights[0] > 0 > weights[1]


def test_stories_from_another_embedding_model_are_not_compared() -> None:
    clusterer = OnlineClusterer()
    other = dict(_features(*QUAKE[0]))
    other["embedding"] = encode_vector(np.ones(EMBEDDER.dim * 2, dtype=np.float32))
    story = StoryCandidate(
        id="old", title="", first_seen=None, last_seen=None, article_count=1, features=[other]
    )
    decision = clusterer.decide(_features(*QUAKE[1]), [story])
    assert decision.story_id is None and decision.scores == {}


QUAKE_LATER = (
    "Norcia earthquake: survivors pulled from rubble",
    "Rescuers pulled two survivors from the rubble in Norcia, a day after the "
    "magnitude 6.1 earthquake hit Umbria on Sunday.",
)


def _story(story_id: str, features: list[dict]) -> StoryCandidate:
    return StoryCandidate(
        id=story_id,
        title="",
        first_seen=None,
        last_seen=None,
        article_count=len(features),
        features=features,
    )


def test_an_article_bridging_two_stories_of_one_event_merges_them_into_the_larger() -> None:
    # The same event split into two stories earlier; the bank story is unrelated.
    split = {
        "q1": [_features(*QUAKE[0])],
        "q2": [_features(*QUAKE[1]), _features(QUAKE[1][0], QUAKE[1][1] + " More later.")],
        "bank": [_features(*BANK[0])],
    }
    article = _features(*QUAKE_LATER)
    candidates = [_story(k, v) for k, v in split.items()]

    def decide(merge_threshold: float) -> object:
        clusterer = OnlineClusterer(merge_threshold=merge_threshold)
        for features in [f for v in split.values() for f in v]:
            clusterer.observe(features)
        return clusterer.decide(article, candidates)

    merging = decide(0.0)
    assert isinstance(merging, MergingDecision)
    assert merging.story_id == "q2" and merging.merge_from == ["q1"]  # the larger survives
    plain = decide(1.01)  # above 1: never merge
    assert not isinstance(plain, MergingDecision) and plain.story_id in {"q1", "q2"}


def test_driver_applies_merges_and_redirects_the_merged_away_id() -> None:
    driver = InMemoryStories(OnlineClusterer(merge_threshold=0.0))
    driver.restore("q1", _features(*QUAKE[0]))
    driver.restore("q2", _features(*QUAKE[1]))
    driver.restore("q2", _features(QUAKE[1][0], QUAKE[1][1] + " More later."))
    decision = driver.add(_features(*QUAKE_LATER))
    assert decision.story_id == "q2"
    assert set(driver.stories) == {"q2"} and driver.stories["q2"].article_count == 4
    assert driver.resolve("q1") == "q2" and driver.resolve("q2") == "q2"



def test_a_long_story_is_compared_by_its_newest_members_only() -> None:
    from storyline.link.cluster import STORY_MEMORY, _Article, _StorySummary

    oldest = _Article.from_features(_features(*QUAKE[0]))
    newer = [
        _Article.from_features(
            _features(f"Riksbank decision {n}", f"{BANK[n % 2][1]} Meeting number {n} of Riksbank.")
        )
        for n in range(STORY_MEMORY)
    ]
    probe = _Article.from_features(_features(*QUAKE[0]))  # the same report again
    clusterer = OnlineClusterer()
    at = {name: FEATURE_NAMES.index(name) for name in ("entities", "passages")}

    def story_features(members: list[_Article]) -> dict[str, float]:
        vector = clusterer.pair_vector(probe, _StorySummary.build(members))
        return {name: float(vector[i]) for name, i in at.items()}

    still_in = story_features([oldest, *newer[:-1]])  # STORY_MEMORY members
    gone = story_features([oldest, *newer])  # the quake report has left the profile
    assert all(value > 0 for value in still_in.values()), still_in
    assert gone["entities"] == gone["passages"] == 0.0
    summary = _StorySummary.build([oldest, *newer])
    assert "norcia" not in summary.entities and "earthquake" not in summary.terms
    expected = np.sum([a.embedding for a in newer], axis=0)
    assert summary.centroid is not None
    assert np.allclose(summary.centroid, expected / np.linalg.norm(expected), atol=1e-5)
