"""The first story linker: same story joins, a different story starts anew."""

from __future__ import annotations

from storyline.link.stories import EmbeddingLinker, TermLinker
from storyline.records import Article
from storyline.store.base import StoryCandidate


def _article(aid: str, title: str, body: str, published: str | None = "2024-03-01") -> Article:
    return Article(id=aid, source=aid, url=None, title=title, body=body, published=published)


QUAKE_A = _article(
    "a",
    "Strong earthquake hits central Chile",
    "A magnitude 7.1 earthquake struck central Chile near Valparaiso on Thursday, damaging "
    "buildings and cutting power to thousands of homes. Chilean President Gabriel Boric said "
    "emergency teams had been sent to Valparaiso and Santiago.",
)
QUAKE_B = _article(
    "b",
    "Chile earthquake: power cut in Valparaiso after 7.1 quake",
    "Emergency teams were deployed to Valparaiso after a 7.1-magnitude earthquake shook central "
    "Chile, President Gabriel Boric said. Thousands of homes in Valparaiso lost power.",
)
ELECTION = _article(
    "c",
    "Dutch voters head to the polls in snap election",
    "Voters in the Netherlands cast ballots on Wednesday in a snap general election called after "
    "the coalition of Prime Minister Mark Rutte collapsed over migration policy in Amsterdam.",
)


def _candidate(story_id: str, *features: dict) -> StoryCandidate:
    return StoryCandidate(story_id, "t", None, None, len(features), list(features))


def test_same_story_joins() -> None:
    linker = TermLinker()
    decision = linker.decide(linker.features(QUAKE_B), [_candidate("s1", linker.features(QUAKE_A))])
    assert decision.story_id == "s1"
    assert decision.score >= linker.threshold


def test_different_story_starts_new() -> None:
    linker = TermLinker()
    decision = linker.decide(
        linker.features(ELECTION), [_candidate("s1", linker.features(QUAKE_A))]
    )
    assert decision.story_id is None


def test_best_candidate_wins() -> None:
    linker = TermLinker()
    candidates = [
        _candidate("election", linker.features(ELECTION)),
        _candidate("quake", linker.features(QUAKE_A)),
    ]
    assert linker.decide(linker.features(QUAKE_B), candidates).story_id == "quake"


def test_time_distance_lowers_similarity() -> None:
    linker = TermLinker()
    near = linker.similarity(linker.features(QUAKE_A), linker.features(QUAKE_B))
    later = _article("d", QUAKE_B.title, QUAKE_B.body, published="2024-03-20")
    far = linker.similarity(linker.features(QUAKE_A), linker.features(later))
    assert far["score"] < near["score"]
    assert far["cosine"] == near["cosine"]


def test_features_from_another_method_are_ignored() -> None:
    linker = TermLinker()
    foreign = dict(linker.features(QUAKE_A), method="something-else")
    assert linker.decide(linker.features(QUAKE_B), [_candidate("s1", foreign)]).story_id is None


def test_embedding_linker_joins_the_same_story_and_starts_new_ones() -> None:
    linker = EmbeddingLinker()
    quake_a = dict(linker.features(QUAKE_A), article_id="a")
    linker.decide(quake_a, [])
    quake_b = dict(linker.features(QUAKE_B), article_id="b")
    assert linker.decide(quake_b, [_candidate("quake", quake_a)]).story_id == "quake"
    election = dict(linker.features(ELECTION), article_id="c")
    assert linker.decide(election, [_candidate("quake", quake_a, quake_b)]).story_id is None


def test_embedding_linker_ignores_features_of_another_method() -> None:
    linker = EmbeddingLinker()
    old = dict(TermLinker().features(QUAKE_A), article_id="a")
    quake_b = dict(linker.features(QUAKE_B), article_id="b")
    assert linker.decide(quake_b, [_candidate("old", old)]).story_id is None
