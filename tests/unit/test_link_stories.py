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


# -- the linker's statistics and window in the store (restarts, other writers) -----------
import random  # noqa: E402
import sqlite3  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from storyline.config import Settings  # noqa: E402
from storyline.link.base import LinkDecision  # noqa: E402
from storyline.link.cluster import MergingDecision  # noqa: E402
from storyline.link.features import TermStats  # noqa: E402
from storyline.link.stories import CheckpointStats, next_checkpoint  # noqa: E402
from storyline.pipeline import Pipeline, StoryWindow  # noqa: E402
from storyline.records import RawDocument  # noqa: E402
from storyline.store import open_store  # noqa: E402
from storyline.store.base import Store  # noqa: E402

_EVENTS = [
    ("Harbourg", "bridge collapse", "Marta Kessel", "ferries", "the transport ministry"),
    ("Velmora", "flood", "Joren Abbas", "levees", "the civil protection agency"),
    ("Ostravik", "dock strike", "Lena Duarte", "wages", "the port union"),
    ("Calderon", "wildfire", "Ibrahim Soto", "hectares", "the forestry service"),
    ("Nyberg", "election recount", "Petra Lindqvist", "ballots", "the electoral commission"),
]


def _report(event: int, n: int, rng: random.Random) -> RawDocument:
    place, topic, person, thing, body = _EVENTS[event]
    a, b = rng.randrange(12, 900), rng.randrange(2, 60)
    sentences = [
        f"{person} of {body} said the {topic} in {place} had affected {a} people.",
        f"The {topic} in {place} is the largest in the region for {b} years, {body} said.",
        f'"We are working around the clock," {person} told reporters in {place}.',
        f"By evening {a} residents had gathered in {place} to ask about the {thing}.",
        f"Critics accused {person} of reacting {b} hours too late to the {topic}.",
        f"Insurers put the cost of the {topic} in {place} at {a} million euros.",
    ]
    text = "\n\n".join(rng.sample(sentences, 4))
    return RawDocument(
        f"report-{n}", text, "text", url=f"https://news{n % 7}.example.org/{n}",
        title=f"{place} {topic}: {person} speaks ({n})",
        published=f"2024-03-{1 + event * 3 + rng.randrange(3):02d}T{rng.randrange(24):02d}:00:00",
        outlet=f"Outlet {n % 9}", language="en",
    )


def _reports(count: int) -> list[RawDocument]:
    rng = random.Random(7)
    return [_report(i % len(_EVENTS), i, rng) for i in range(count)]


def _partition(store: Store) -> set[frozenset[str]]:
    return {frozenset(a.id for a in s.articles) for s in store.iter_stories()}


def test_checkpoints_follow_every_document_then_every_twentieth() -> None:
    assert [next_checkpoint(n) for n in range(5)] == [1, 2, 3, 4, 5]
    for n in (100, 1_000, 123_456, 10**6):
        assert n < next_checkpoint(n) <= n * 1.05


def test_checkpoint_stats_idf_comes_from_the_checkpoint_and_restores_exactly() -> None:
    stats = CheckpointStats()
    rng = random.Random(1)
    words = [f"w{i}" for i in range(40)]
    for _ in range(30):
        stats.observe(rng.sample(words, 8))
    stats.observe(["w1", "w2"])
    assert stats.documents == stats.live_documents == 31  # every document while small
    for _ in range(100):
        stats.observe(rng.sample(words, 8))
    assert stats.documents == 127 and stats.live_documents == 131  # ..., 121, 127, 133
    plain = TermStats()
    rng = random.Random(1)
    for _ in range(30):
        plain.observe(rng.sample(words, 8))
    plain.observe(["w1", "w2"])
    for _ in range(96):
        plain.observe(rng.sample(words, 8))
    assert stats.idf("w3") == pytest.approx(plain.idf("w3"))
    df = {t: (stats.doc_freq.get(t, 0) + stats.pending.get(t, 0), stats.doc_freq.get(t, 0))
          for t in set(stats.doc_freq) | set(stats.pending)}
    again = CheckpointStats.restored(stats.live_documents, stats.documents, df)
    for word in [*words, "unseen"]:
        assert again.idf(word) == stats.idf(word)
    for _ in range(10):
        terms = rng.sample(words, 8)
        stats.observe(terms)
        again.observe(terms)
    assert (again.documents, again.live_documents) == (stats.documents, stats.live_documents)
    assert all(again.idf(w) == stats.idf(w) for w in words)


def test_a_restarted_pipeline_makes_the_same_stories(tmp_path: Path) -> None:
    docs = _reports(45)
    settings = Settings.from_env()
    whole = open_store(str(tmp_path / "whole.db"))
    try:
        report = Pipeline(whole, settings).ingest(docs)
        assert report.count("failed") == 0
        expected = _partition(whole)
    finally:
        whole.close()
    assert 1 < len(expected) < 45
    path = str(tmp_path / "restarted.db")
    for part in (docs[:9], docs[9:20], docs[20:33], docs[33:]):  # a fresh process each time
        store = open_store(path)
        try:
            assert Pipeline(store, settings).ingest(part).count("failed") == 0
        finally:
            store.close()
    store = open_store(path)
    try:
        assert _partition(store) == expected
        stats = store.load_link_terms()
        assert stats.documents == sum(len(s) for s in expected)
        assert stats.checkpoint_documents == 44  # every document to 40, then 42, 44, 46
    finally:
        store.close()


def test_two_pipelines_on_one_store_see_each_others_stories(tmp_path: Path) -> None:
    docs = _reports(20)
    settings = Settings.from_env()
    first, second = open_store(str(tmp_path / "s.db")), open_store(str(tmp_path / "s.db"))
    try:
        pipelines = [Pipeline(first, settings), Pipeline(second, settings)]
        for n, doc in enumerate(docs):  # alternate writers, as two ingest processes would
            assert pipelines[n % 2].ingest([doc]).count("failed") == 0
        partition = _partition(first)
    finally:
        first.close()
        second.close()
    # Reports of one event from both writers end up together, not one story per writer.
    for group in partition:
        if len(group) > 1:
            break
    else:
        pytest.fail("no story joined articles")
    assert len(partition) <= len(docs) // 2


def test_near_copies_are_found_through_band_keys_also_in_an_old_store(tmp_path: Path) -> None:
    settings = Settings.from_env()
    original = _reports(1)[0]
    copy = RawDocument(
        "copy", original.content.replace("people", "residents", 1), "text",
        url="https://other.example.org/copy", title=original.title + " (update)",
        published=original.published, outlet="Another Outlet", language="en",
    )
    same_outlet = RawDocument(
        "again", original.content + "\n\nThis report was updated.", "text",
        url="https://news0.example.org/again", title=original.title,
        published=original.published, outlet=original.outlet, language="en",
    )
    path = tmp_path / "old.db"
    store = open_store(str(path))
    try:
        first = Pipeline(store, settings).ingest([original]).outcomes[0]
    finally:
        store.close()
    # A store written before band keys existed: no keys, not marked ready.
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM lsh_bands")
    conn.execute("DELETE FROM link_terms")
    conn.execute("DELETE FROM link_state WHERE name IN ('ready', 'documents')")
    conn.commit()
    conn.close()
    store = open_store(str(path))
    try:
        outcomes = Pipeline(store, settings).ingest([copy, same_outlet]).outcomes
        assert outcomes[0].status == "new" and outcomes[0].story_id == first.story_id
        assert outcomes[1].status == "duplicate"
        assert outcomes[1].duplicate_of == first.article_id
        assert store.link_state("ready") == 1
        assert store.load_link_terms().documents == 2  # back-filled, then the copy
        passages = store.get_analysis(outcomes[0].article_id or "", "shared_passages")
        assert passages and passages[0]["with_article_id"] == first.article_id
    finally:
        store.close()


class _BridgingLinker:
    """Two articles start stories; the third bridges them (a scripted `MergingDecision`)."""

    similarity_method = "scripted-merge"
    window_days = 30.0

    def __init__(self) -> None:
        self.calls = 0

    def features(self, article: object) -> dict:
        return {}

    def decide(self, features: object, candidates: list) -> LinkDecision:
        self.calls += 1
        if self.calls < 3:
            return LinkDecision(None, 0.0)
        survivor, merged = sorted(c.id for c in candidates)
        return MergingDecision(survivor, 0.9, merge_from=[merged])


def test_a_merging_decision_moves_the_stories_into_one_and_redirects(tmp_path: Path) -> None:
    rng = random.Random(3)
    docs = [_report(0, 0, rng), _report(2, 1, rng), _report(4, 2, rng)]
    store = open_store(str(tmp_path / "merge.db"))
    try:
        pipeline = Pipeline(store, Settings.from_env(), linker=_BridgingLinker())
        outcomes = pipeline.ingest(docs).outcomes
        assert [o.status for o in outcomes] == ["new", "new", "new"]
        first, second, bridge = (o.story_id for o in outcomes)
        assert first != second
        survivor = min(first, second)
        assert bridge == survivor
        assert _partition(store) == {frozenset(o.article_id for o in outcomes)}
        merged_away = max(first, second)
        redirected = store.get_story(merged_away)
        assert redirected is not None and redirected.id == survivor
        assert store.check() == []
    finally:
        store.close()


def test_a_merge_keeps_the_window_in_step_without_a_reload(tmp_path: Path) -> None:
    rng = random.Random(5)
    docs = [_report(0, 0, rng), _report(2, 1, rng), _report(4, 2, rng)]
    store = open_store(str(tmp_path / "merge-window.db"))
    try:
        pipeline = Pipeline(store, Settings.from_env(), linker=_BridgingLinker())
        outcomes = pipeline.ingest(docs).outcomes
        survivor = outcomes[2].story_id
        merged_away = ({o.story_id for o in outcomes[:2]} - {survivor}).pop()
        window = pipeline._window
        assert window is not None
        # Our own merge is accounted for: the window is not dropped for a reload.
        assert window.known_changes == store.link_state("changes")
        assert merged_away not in window.stories
        # The survivor holds what a fresh load from the store gives it, in stored order.
        fresh = StoryWindow(store, window.window_days)
        fresh.cover(docs[2].published)
        assert [f["article_id"] for f in window.stories[survivor].features] == [
            f["article_id"] for f in fresh.stories[survivor].features
        ]
        assert len(window.stories[survivor].features) == 3
    finally:
        store.close()


def test_a_near_copy_weeks_later_is_a_recurring_story_not_a_copy(tmp_path: Path) -> None:
    # The same text (another outlet's, and the same outlet's again) a month later: no
    # syndication join and no duplicate; within the window it is both.
    settings = Settings.from_env()
    original = _reports(1)[0]
    assert original.published is not None

    def again(key: str, outlet: str | None, published: str) -> RawDocument:
        edited = original.content.replace("people", "residents", 1) + f"\n\nFiled as {key}."
        return RawDocument(
            key, edited, "text",
            url=f"https://example.net/{key}", title=original.title, published=published,
            outlet=outlet, language="en",
        )  # fmt: skip

    store = open_store(str(tmp_path / "recur.db"))
    try:
        day = original.published[:10]
        later = f"{int(day[:4]) + 1}{day[4:]}"  # a year on: far outside any window
        outcomes = Pipeline(store, settings).ingest(
            [original, again("other-later", "Another Outlet", later),
             again("same-later", original.outlet, later),
             again("other-soon", "Third Outlet", original.published)]
        ).outcomes  # fmt: skip
        first, other_later, same_later, other_soon = outcomes
        assert other_later.status == "new" and other_later.story_id != first.story_id
        assert same_later.status != "duplicate" or same_later.duplicate_of != first.article_id
        assert other_soon.status == "new" and other_soon.story_id == first.story_id
    finally:
        store.close()
