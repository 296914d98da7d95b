"""The store queries the web app added (find_stories, story_facets, story_updated_at),
on every backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds store_backends

from store_backends import BACKENDS, fresh_url
from storyline.records import Article
from storyline.store import Store, open_store
from storyline.store.base import StoryQuery


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = open_store(fresh_url(request.param, tmp_path))
    try:
        _fill(s)
        yield s
    finally:
        s.close()


def _article(n: int, story: str, outlet: str, published: str, text: str,
             language: str = "en") -> Article:
    return Article(
        id=f"a{n}", source=f"t:{n}", url=f"https://example.org/{n}", title=f"Report {n}",
        body=text, outlet=outlet, published=published, language=language,
        content_hash=f"h{n}",
    )


def _fill(s: Store) -> None:
    # s1: harbour strike, Jan 2023, two outlets.  s2: election, Mar 2023, German.
    # s3: harbour + election, May 2023.  Updated in the order s1, s2, s3, then s1 again.
    s.create_story("s1", "Harbour strike", "t")
    s.add_article(_article(1, "s1", "Alpha", "2023-01-05",
                           "Dock workers in the harbour went on strike."), "s1")
    s.create_story("s2", "Election", "t")
    s.add_article(_article(2, "s2", "Gamma", "2023-03-10",
                           "Die Wahl der Regierung, election day.", "de"), "s2")
    s.create_story("s3", "Harbour election", "t")
    s.add_article(_article(3, "s3", "Beta", "2023-05-01",
                           "The harbour board held an election for its chair."), "s3")
    s.add_article(_article(4, "s1", "Beta", "2023-01-07T09:30:00",
                           "The harbour strike entered its third day; strike pay ran out."), "s1")


def ids(rows: list) -> list[str]:
    return [r.id for r in rows]


def test_no_filter_lists_by_last_update(store: Store) -> None:
    assert ids(store.find_stories(StoryQuery())) == ["s1", "s3", "s2"]
    assert ids(store.find_stories(StoryQuery(), limit=1, offset=1)) == ["s3"]
    assert store.find_stories(StoryQuery(), limit=0) == []


def test_text_relevance_and_update_order(store: Store) -> None:
    assert set(ids(store.find_stories(StoryQuery(text="harbour")))) == {"s1", "s3"}
    relevance = ids(store.find_stories(StoryQuery(text="strike", order="relevance")))
    assert relevance == ["s1"]
    assert ids(store.find_stories(StoryQuery(text="election harbour", order="updated"))) == [
        "s3"
    ]
    # Broken syntax is searched as words.
    assert ids(store.find_stories(StoryQuery(text='harbour AND ("'))) != []


def test_phrase_outlet_language_and_dates(store: Store) -> None:
    assert ids(store.find_stories(StoryQuery(phrase="harbour board"))) == ["s3"]
    assert ids(store.find_stories(StoryQuery(phrase="board harbour"))) == []
    assert ids(store.find_stories(StoryQuery(text="harbour", outlet="Beta"))) == ["s1", "s3"]
    assert ids(store.find_stories(StoryQuery(outlet="Alpha"))) == ["s1"]
    assert ids(store.find_stories(StoryQuery(language="de"))) == ["s2"]
    assert ids(store.find_stories(StoryQuery(since="2023-03-01"))) == ["s3", "s2"]
    assert ids(store.find_stories(StoryQuery(until="2023-01-05"))) == ["s1"]
    # A story that ends on a day with a time still counts for that day.
    assert ids(store.find_stories(StoryQuery(since="2023-01-07", until="2023-01-07"))) == ["s1"]


def test_relevance_paging_is_exact(store: Store) -> None:
    everything = ids(store.find_stories(StoryQuery(text="harbour", order="relevance")))
    paged = [
        r.id
        for offset in range(len(everything))
        for r in store.find_stories(StoryQuery(text="harbour", order="relevance"),
                                    limit=1, offset=offset)
    ]
    assert paged == everything


def test_facets(store: Store) -> None:
    facets = store.story_facets()
    assert facets.outlets == [("Beta", 2), ("Alpha", 1), ("Gamma", 1)]
    assert facets.languages == [("en", 3), ("de", 1)]
    assert facets.first_seen == "2023-01-05"
    assert facets.last_seen == "2023-05-01"


def test_updated_at(store: Store) -> None:
    updated = store.story_updated_at(["s1", "s2", "missing"])
    assert set(updated) == {"s1", "s2"}
    assert updated["s1"] > updated["s2"]
    assert store.story_updated_at([]) == {}


# ----------------------------------------------------------------------------- entity filter


def _people(*names: tuple[str, str]) -> dict:
    """A "people" analysis naming (canonical, text as written) entities."""
    return {"entities": [{"text": text, "start": 0, "end": len(text), "label": "PERSON",
                          "canonical": canonical} for canonical, text in names],
            "quotes": [], "citations": [], "error": None}


def _with_people(s: Store) -> None:
    s.put_analysis("a1", "people", _people(("Jake Sullivan", "Sullivan")))
    s.put_analysis("a3", "people", _people(
        ("Émile Zola", "Zola"), ("Co-operation Council", "the Co-operation Council")
    ))
    # Not a "people" analysis: its names are no actors.
    s.put_analysis("a2", "events", [{"text": "Jake Sullivan", "canonical": "Jake Sullivan"}])


def test_entity_filter_matches_the_stored_actors(store: Store) -> None:
    _with_people(store)
    assert ids(store.find_stories(StoryQuery(entity="Jake Sullivan"))) == ["s1"]
    # Any letter case, extra spaces, and the name as written as well as its canonical form.
    assert ids(store.find_stories(StoryQuery(entity="  jake   SULLIVAN "))) == ["s1"]
    assert ids(store.find_stories(StoryQuery(entity="sullivan"))) == ["s1"]
    assert ids(store.find_stories(StoryQuery(entity="émile zola"))) == ["s3"]
    assert ids(store.find_stories(StoryQuery(entity="co operation council"))) == ["s3"]
    # A whole name, not a part of one, and not words of the text ("harbour" is in s1's text).
    assert ids(store.find_stories(StoryQuery(entity="Jake"))) == []
    assert ids(store.find_stories(StoryQuery(entity="harbour"))) == []
    # Combined with the other filters.
    assert ids(store.find_stories(StoryQuery(entity="Zola", text="election"))) == ["s3"]
    assert ids(store.find_stories(StoryQuery(entity="Zola", outlet="Alpha"))) == []


def test_entity_filter_follows_a_rewritten_analysis(store: Store) -> None:
    _with_people(store)
    store.put_analysis("a1", "people", _people(("Margrethe Vestager", "Vestager")))
    assert ids(store.find_stories(StoryQuery(entity="Jake Sullivan"))) == []
    assert ids(store.find_stories(StoryQuery(entity="vestager"))) == ["s1"]
    # An analysis that failed (no entities) names nobody.
    store.put_analysis("a1", "people", {"entities": [], "error": "no model"})
    assert ids(store.find_stories(StoryQuery(entity="vestager"))) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_a_store_indexes_the_names_it_holds(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyline.store import migrations

    url = fresh_url(backend, tmp_path)
    with monkeypatch.context() as patch:  # a store made before migration 2
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        patch.setattr(migrations, "LATEST_VERSION", 1)
        old = open_store(url)
        _fill(old)
        old.put_analysis("a3", "people", _people(("Émile Zola", "Zola")))
        old.close()
    upgraded = open_store(url)
    try:
        assert upgraded.schema_version() >= 2
        assert ids(upgraded.find_stories(StoryQuery(entity="ZOLA"))) == ["s3"]
    finally:
        upgraded.close()


# ----------------------------------------------------------------------------- bounded ranking


def _fill_ranking(s: Store) -> None:
    """Eight one-article stories about "volcano"; the oldest has it in its title."""
    for n in range(8):
        story = f"r{n}"
        s.create_story(story, f"Story {n}", "t")
        title = "Volcano erupts" if n == 0 else f"Report {n}"
        s.add_article(
            Article(id=f"v{n}", source=f"v:{n}", url=f"https://example.org/v/{n}", title=title,
                    body=f"The volcano was quiet for {n} days.", outlet="Alpha",
                    published=f"2023-06-{n + 1:02d}", language="en", content_hash=f"v{n}"),
            story,
        )


def test_ranking_is_exact_below_the_bound_and_bounded_above_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storyline.store.sqlite as sqlite_module

    _fill_ranking(store)
    # Within the bound, the title match of the oldest article ranks first.
    hits = [h.article_id for h in store.search("volcano", limit=3)]
    assert hits[0] == "v0" and len(hits) == 3
    stories = ids(store.find_stories(StoryQuery(text="volcano", order="relevance"), limit=20))
    assert stories[0] == "r0" and set(stories) == {f"r{n}" for n in range(8)}
    # With a bound of 4, only the newest 4 matching articles are ranked.
    monkeypatch.setattr(sqlite_module, "SEARCH_CANDIDATES", 4)
    if type(store).__module__.endswith("postgres"):
        import storyline.store.postgres as postgres_module

        monkeypatch.setattr(postgres_module, "SEARCH_CANDIDATES", 4)
    hits = [h.article_id for h in store.search("volcano", limit=20)]
    assert sorted(hits) == ["v4", "v5", "v6", "v7"]
    stories = ids(store.find_stories(StoryQuery(text="volcano", order="relevance"), limit=20))
    assert sorted(stories) == ["r4", "r5", "r6", "r7"]
    # Selective queries are unaffected: one match, found wherever it is.
    assert [h.article_id for h in store.search("erupts")] == ["v0"]
