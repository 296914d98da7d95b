"""The storage interface, run against every backend in tests/store_backends.py."""

from __future__ import annotations

import multiprocessing
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds store_backends

from store_backends import (
    BACKENDS,
    concurrent_writer,
    execute_behind_back,
    fresh_url,
    synthetic_article,
)
from storyline.records import Article, RemovedBlock
from storyline.store import Store, StoreError, migrations, open_store
from storyline.store.migrations import LATEST_VERSION, MIGRATIONS, Migration
from storyline.store.sqlite import SQLiteStore


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> str:
    return fresh_url(backend, tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def full_article(article_id: str = "art-1", **overrides: object) -> Article:
    fields: dict[str, object] = {
        "id": article_id,
        "source": "feeds/wire.jsonl:7",
        "url": "https://news.example.com/2024/03/05/harbour-fire?utm_source=x",
        "title": "Fire at the harbour in Zürich",
        "body": "Firefighters worked through the night.\n\n“It was huge,” said Ana Müller.",
        "outlet": "Example News",
        "published": "2024-03-05T07:19:00+01:00",
        "authors": ["Ana Müller", "Bob Stone"],
        "wire_agencies": ["Reuters"],
        "language": "en",
        "canonical_url": "https://news.example.com/2024/03/05/harbour-fire",
        "content_hash": "c0ffee",
        "removed": [
            RemovedBlock("Subscribe now!", "call to action"),
            RemovedBlock("© 2024", "legal"),
        ],
        "duplicate_of": None,
    }
    fields.update(overrides)
    return Article(**fields)  # type: ignore[arg-type]


def add_story_with(store: Store, story_id: str, articles: list[Article]) -> None:
    with store.transaction():
        store.create_story(story_id, articles[0].title, "test")
        for article in articles:
            store.add_article(article, story_id, {"id": article.id})


# -- opening --------------------------------------------------------------------


def test_open_store_accepts_paths_and_urls(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b" / "s.db"
    for url in (f"sqlite:///{nested}", str(tmp_path / "c" / "plain.db"), ":memory:",
                "sqlite:///:memory:"):
        opened = open_store(url)
        try:
            assert opened.schema_version() == LATEST_VERSION
            assert opened.count_articles() == 0
        finally:
            opened.close()
    assert nested.exists()
    assert (tmp_path / "c" / "plain.db").exists()


@pytest.mark.parametrize("url", ["postgresql://user@127.0.0.1:1/db", "postgres://127.0.0.1:1/db"])
def test_unreachable_postgresql_is_a_clear_error(url: str) -> None:
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL"):
        open_store(url)


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(StoreError, match="scheme"):
        open_store("mysql://host/db")


def test_closed_store_raises_store_error(store: Store) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count_articles()


# -- migrations -----------------------------------------------------------------


def test_migrations_are_versioned_and_idempotent(backend: str, store_url: str) -> None:
    first = open_store(store_url)
    first.create_story("s", "kept", "test")
    first.add_article(full_article(), "s")
    assert first.schema_version() == LATEST_VERSION == MIGRATIONS[-1].version
    first.close()
    # Reopening applies nothing again and keeps the data.
    second = open_store(store_url)
    try:
        assert second.schema_version() == LATEST_VERSION
        assert second.count_articles() == 1
        assert second.check() == []
    finally:
        second.close()


def test_store_newer_than_code_is_refused(backend: str, store_url: str) -> None:
    open_store(store_url).close()
    execute_behind_back(
        backend, store_url,
        "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
        (LATEST_VERSION + 1, "from the future", "2099-01-01"),
    )
    with pytest.raises(StoreError, match="newer than this Storyline"):
        open_store(store_url)


def test_pending_migrations_apply_in_order_once(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store(store_url).close()
    extra = Migration(
        LATEST_VERSION + 1, "add a probe table",
        {dialect: "CREATE TABLE migration_probe (x INTEGER); "
                  "INSERT INTO migration_probe (x) VALUES (42)"
         for dialect in ("sqlite", "postgresql")},
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, extra))
    monkeypatch.setattr(migrations, "LATEST_VERSION", extra.version)
    for _ in range(2):  # the second open finds nothing to do (CREATE TABLE again would fail)
        upgraded = open_store(store_url)
        assert upgraded.schema_version() == extra.version
        upgraded.close()
    monkeypatch.undo()
    with pytest.raises(StoreError, match="newer"):
        open_store(store_url)


def test_failed_migration_leaves_the_previous_version(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store(store_url).close()
    broken = Migration(
        LATEST_VERSION + 1, "broken",
        {dialect: "CREATE TABLE half_done (x INTEGER); THIS IS NOT SQL"
         for dialect in ("sqlite", "postgresql")},
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    monkeypatch.setattr(migrations, "LATEST_VERSION", broken.version)
    with pytest.raises(StoreError):
        open_store(store_url)
    monkeypatch.undo()
    reopened = open_store(store_url)
    try:
        assert reopened.schema_version() == LATEST_VERSION
        assert reopened.check() == []
    finally:
        reopened.close()


def test_migration_scripts_split_into_whole_statements() -> None:
    script = """
        CREATE TABLE t (x TEXT DEFAULT 'a;b');
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN
            INSERT INTO t VALUES ('x'); INSERT INTO t VALUES ('y');
        END;
    """
    parts = migrations.statements(script)
    assert len(parts) == 2
    assert parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")
    assert [m.version for m in migrations.pending(0)] == [m.version for m in MIGRATIONS]
    assert migrations.pending(LATEST_VERSION) == []


# -- articles -------------------------------------------------------------------


def test_article_round_trips_exactly(store: Store) -> None:
    article = full_article()
    store.create_story("story-1", article.title, "test")
    store.add_article(article, "story-1", {"terms": {"fire": 1.5}, "names": ["Zürich"]})
    assert store.get_article(article.id) == article
    assert store.has_article(article.id)
    assert not store.has_article("nope")
    assert store.get_article("nope") is None
    assert store.article_story_id(article.id) == "story-1"
    assert store.find_by_content_hash("c0ffee") == article.id
    assert store.find_by_canonical_url(article.canonical_url or "") == article.id
    assert store.find_by_canonical_url("https://other.example/") is None
    assert store.count_articles() == 1


def test_minimal_article_round_trips(store: Store) -> None:
    article = Article(id="bare", source="stdin", url=None, title="", body="Just text.")
    store.add_article(article, None)
    assert store.get_article("bare") == article
    assert store.article_story_id("bare") is None


def test_duplicate_article_id_is_an_error_and_changes_nothing(store: Store) -> None:
    store.create_story("s", "t", "test")
    store.add_article(full_article(), "s")
    with pytest.raises(StoreError, match="already stored"):
        store.add_article(full_article(title="Other"), "s")
    assert store.count_articles() == 1
    assert store.get_article("art-1").title == "Fire at the harbour in Zürich"  # type: ignore[union-attr]
    assert store.get_story("s").articles[0].id == "art-1"  # type: ignore[union-attr]
    assert store.check() == []


def test_linking_to_an_unknown_story_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError):
        store.add_article(full_article(), "no-such-story")
    assert store.count_articles() == 0


def test_content_hash_lookup_ignores_duplicates(store: Store) -> None:
    store.add_article(full_article("dup", duplicate_of="orig", content_hash="h"), None)
    assert store.find_by_content_hash("h") is None
    store.create_story("s", "t", "test")
    store.add_article(full_article("orig", content_hash="h"), "s")
    assert store.find_by_content_hash("h") == "orig"


def test_analysis_results_by_kind(store: Store) -> None:
    store.add_article(full_article(), None)
    assert store.get_analysis("art-1", "entities") is None
    store.put_analysis("art-1", "entities", [{"text": "Zürich", "label": "GPE"}])
    store.put_analysis("art-1", "quotes", {"n": 1})
    store.put_analysis("art-1", "quotes", {"n": 2})  # replaces
    assert store.get_analysis("art-1", "entities") == [{"text": "Zürich", "label": "GPE"}]
    assert store.get_analysis("art-1", "quotes") == {"n": 2}
    with pytest.raises(StoreError):
        store.put_analysis("missing-article", "quotes", {})


# -- transactions -----------------------------------------------------------------


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.create_story("s", "t", "test")
        store.add_article(full_article(), "s", {"f": 1})
        store.put_analysis("art-1", "quotes", [])
        store.add_boilerplate_lines("Example News", ["h1"])
        store.record_failure("x", "store", "inside")
        raise RuntimeError("crash mid-document")
    assert store.count_articles() == 0
    assert store.count_stories() == 0
    assert store.get_analysis("art-1", "quotes") is None
    assert store.boilerplate_counts("Example News", ["h1"]) == {"h1": 0}
    assert store.recent_failures() == []
    assert store.search("harbour") == []
    assert store.check() == []


def test_nested_transaction_joins_the_outer(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.create_story("s", "t", "test")
        with store.transaction():
            store.add_article(full_article(), "s")
        raise RuntimeError("outer fails after inner finished")
    assert store.count_articles() == 0 and store.count_stories() == 0

    # A handled failure inside rolls back only the inner block.
    with store.transaction():
        store.create_story("s", "t", "test")
        store.add_article(full_article(), "s")
        with pytest.raises(StoreError):
            store.add_article(full_article(), "s")  # same id
    assert store.count_articles() == 1
    assert store.check() == []


# -- stories ------------------------------------------------------------------------


def test_story_dates_counts_and_article_order(store: Store) -> None:
    late = full_article("late", published="2024-03-07", content_hash="1")
    early = full_article("early", published="2024-03-02T10:00:00Z", content_hash="2")
    middle = full_article("middle", published="2024-03-05T12:00:00+02:00", content_hash="3")
    add_story_with(store, "s", [late, early, middle])
    story = store.get_story("s")
    assert story is not None
    assert [a.id for a in story.articles] == ["early", "middle", "late"]
    assert story.first_seen == "2024-03-02T10:00:00"
    assert story.last_seen == "2024-03-07"
    assert story.similarity_method == "test"
    assert store.list_stories()[0].article_count == 3
    # A duplicate linked to the story is stored but not counted.
    store.add_article(full_article("copy", duplicate_of="early", content_hash="2"), "s")
    assert store.list_stories()[0].article_count == 3
    assert len(store.get_story("s").articles) == 4  # type: ignore[union-attr]
    assert store.check() == []


def test_story_without_dates_falls_back_to_ingest_time(store: Store) -> None:
    add_story_with(store, "s", [full_article(published=None)])
    story = store.get_story("s")
    assert story is not None and story.first_seen is not None
    assert story.first_seen[:4].isdigit() and story.first_seen == story.last_seen


def test_unknown_story_is_none_and_duplicate_story_is_an_error(store: Store) -> None:
    assert store.get_story("nothing") is None
    assert store.get_story("") is None
    store.create_story("s", "t", "test")
    with pytest.raises(StoreError):
        store.create_story("s", "again", "test")


def test_story_lookup_by_unique_prefix(store: Store) -> None:
    add_story_with(store, "abc123", [full_article("a1", content_hash="1")])
    add_story_with(store, "abd456", [full_article("a2", content_hash="2")])
    assert store.get_story("abc").id == "abc123"  # type: ignore[union-attr]
    assert store.get_story("abd4").id == "abd456"  # type: ignore[union-attr]
    assert store.get_story("abc123").id == "abc123"  # type: ignore[union-attr]
    with pytest.raises(StoreError, match="ambiguous"):
        store.get_story("ab")
    assert store.get_story("abx") is None
    assert store.get_story("a%") is None  # no LIKE wildcards


def test_merge_redirects_old_ids(store: Store) -> None:
    add_story_with(store, "old1", [full_article("a1", published="2024-03-01", content_hash="1")])
    add_story_with(store, "old2", [full_article("a2", published="2024-03-09", content_hash="2")])
    add_story_with(store, "keep", [full_article("a3", published="2024-03-05", content_hash="3")])
    store.merge_stories("old1", "old2", "same event")
    store.merge_stories("old2", "keep", "same event")
    assert store.count_stories() == 1
    for asked in ("old1", "old2", "keep", "old1"[:4]):
        story = store.get_story(asked)
        assert story is not None and story.id == "keep"
        assert [a.id for a in story.articles] == ["a1", "a3", "a2"]
    assert story is not None
    assert (story.first_seen, story.last_seen) == ("2024-03-01", "2024-03-09")
    assert store.list_stories()[0].article_count == 3
    assert store.article_story_id("a1") == "keep"
    assert store.check() == []
    with pytest.raises(StoreError):
        store.merge_stories("keep", "keep", "self")


def test_split_moves_articles_to_a_new_story_and_records_it(store: Store) -> None:
    add_story_with(store, "both", [
        full_article("e1", title="Quake of 2005", published="2005-11-27", content_hash="1"),
        full_article("f1", title="Quake of 2008", published="2008-09-10", content_hash="2"),
        full_article("e2", title="Quake of 2005 (2)", published="2005-11-28", content_hash="3"),
        full_article("f2", title="Quake of 2008 (2)", published="2008-09-11", content_hash="4"),
    ])
    store.split_story("both", ["f2", "f1"], "later", "two events")
    kept, split = store.get_story("both"), store.get_story("later")
    assert kept is not None and split is not None
    assert [a.id for a in kept.articles] == ["e1", "e2"]
    assert [a.id for a in split.articles] == ["f1", "f2"]
    assert (kept.first_seen, kept.last_seen) == ("2005-11-27", "2005-11-28")
    assert (split.first_seen, split.last_seen) == ("2008-09-10", "2008-09-11")
    assert split.title == "Quake of 2008"  # its earliest article's
    assert kept.title == "Quake of 2005"
    assert split.similarity_method == kept.similarity_method == "test"
    counts = {s.id: s.article_count for s in store.list_stories()}
    assert counts == {"both": 2, "later": 2}
    assert store.article_story_id("f1") == "later"
    assert store.get_article("f1") is not None  # articles keep their own address
    for story in (kept, split):
        assert [(p.from_id, p.into_id, p.article_ids, p.reason) for p in story.splits] == [
            ("both", "later", ["f2", "f1"], "two events")
        ]
    assert store.check() == []


def test_split_renames_the_old_story_when_its_title_left(store: Store) -> None:
    add_story_with(store, "s", [
        full_article("a1", title="First event", published="2024-03-01", content_hash="1"),
        full_article("b1", title="Second event", published="2024-03-02", content_hash="2"),
        full_article("b2", title="Second event again", published="2024-03-03", content_hash="3"),
    ])
    store.split_story("s", ["a1"], "t", "two events")
    renamed, split = store.get_story("s"), store.get_story("t")
    assert renamed is not None and split is not None
    assert (renamed.title, split.title) == ("Second event", "First event")
    assert store.check() == []


def test_split_then_merge_keeps_links_valid(store: Store) -> None:
    add_story_with(store, "s", [
        full_article(f"a{i}", published=f"2024-03-0{i}", content_hash=str(i)) for i in range(1, 5)
    ])
    add_story_with(store, "other", [full_article("o1", published="2024-03-05", content_hash="o")])
    store.split_story("s", ["a3", "a4"], "t", "two events")
    store.merge_stories("t", "other", "same event")
    moved = store.get_story("t")  # the split-off id redirects to where its articles are now
    assert moved is not None and moved.id == "other"
    assert {a.id for a in moved.articles} == {"a3", "a4", "o1"}
    assert store.check() == []


def test_bad_splits_are_refused_and_change_nothing(store: Store) -> None:
    add_story_with(store, "s", [
        full_article("a1", published="2024-03-01", content_hash="1"),
        full_article("a2", published="2024-03-02", content_hash="2"),
    ])
    add_story_with(store, "u", [full_article("u1", content_hash="u")])
    store.merge_stories("u", "s", "same")  # "u" is now a redirect: its id is taken
    before = store.get_story("s")
    for args in (
        ("s", [], "t"),  # nothing to move
        ("s", ["a1", "a2", "u1"], "t"),  # everything
        ("s", ["zz"], "t"),  # not a member
        ("nope", ["a1"], "t"),  # no such story
        ("s", ["a1"], "s"),  # into itself
        ("s", ["a1"], "u"),  # an id in use (redirected)
    ):
        with pytest.raises(StoreError):
            store.split_story(args[0], args[1], args[2], "bad")
    assert store.get_story("s") == before
    assert store.count_stories() == 1
    assert store.check() == []


def test_list_stories_most_recently_updated_first_with_outlets(store: Store) -> None:
    add_story_with(store, "first", [full_article("a1", outlet="A", content_hash="1")])
    time.sleep(0.002)
    add_story_with(store, "second", [
        full_article("a2", outlet="B", content_hash="2"),
        full_article("a3", outlet="C", content_hash="3"),
        full_article("a4", outlet="C", content_hash="4"),
    ])
    time.sleep(0.002)
    store.add_article(full_article("a5", outlet="B", content_hash="5"), "first")
    summaries = store.list_stories()
    assert [s.id for s in summaries] == ["first", "second"]
    assert summaries[0].outlets == ["A", "B"]
    assert summaries[1].outlets == ["C", "B"]  # most frequent first
    assert [s.id for s in store.list_stories(limit=1, offset=1)] == ["second"]
    assert store.count_stories() == 2
    stories = list(store.iter_stories())
    assert sorted(s.id for s in stories) == ["first", "second"]
    assert sum(len(s.articles) for s in stories) == 5


def test_candidate_stories_in_window_with_features(store: Store) -> None:
    for day, sid in ((1, "d01"), (10, "d10"), (12, "d12"), (25, "d25")):
        add_story_with(store, sid, [
            full_article(f"{sid}-a", published=f"2024-03-{day:02d}", content_hash=f"{sid}a"),
            full_article(f"{sid}-b", published=f"2024-03-{day:02d}T23:00:00",
                         content_hash=f"{sid}b"),
        ])
    found = store.candidate_stories("2024-03-11T08:00:00", window_days=2)
    assert [c.id for c in found] == ["d12", "d10"]  # most recent first
    assert found[1].features == [{"id": "d10-a"}, {"id": "d10-b"}]
    assert found[1].article_count == 2
    assert found[1].first_seen == "2024-03-10" and found[1].last_seen == "2024-03-10T23:00:00"
    # A story spanning the window counts even though neither end is inside it.
    store.add_article(full_article("late", published="2024-03-30", content_hash="x"), "d01")
    assert {c.id for c in store.candidate_stories("2024-03-20", 1)} == {"d01"}
    assert store.candidate_stories("2023-01-01", 3) == []
    # d01 now runs to the 30th: it is the most recently active story in the window.
    assert [c.id for c in store.candidate_stories("2024-03-11", 2)] == ["d01", "d12", "d10"]
    assert [c.id for c in store.candidate_stories("2024-03-11", 2, limit=1)] == ["d01"]
    # Without a date: the most recently updated stories.
    assert store.candidate_stories(None, 2, limit=1)[0].id == "d01"


def test_band_key_matches_within_a_date_range_are_those_of_stories_active_in_it(
    store: Store,
) -> None:
    march = full_article("march", content_hash="1", published="2024-03-05T07:19:00+01:00")
    may = full_article("may", content_hash="2", published="2024-05-20")
    add_story_with(store, "spring", [march])
    add_story_with(store, "late spring", [may])
    for article in (march, may):
        store.add_band_keys(article.id, [1, 2, 3], ["b0:1", "b1:2"])
    every = {row[0] for row in store.band_key_matches(["b0:1"])}
    in_march = store.band_key_matches(["b0:1"], within=("2024-02-28", "2024-03-12T99"))
    assert every == {"march", "may"}
    assert [(row[0], row[1]) for row in in_march] == [("march", "spring")]


# -- search -----------------------------------------------------------------------


def test_search_ranks_title_matches_first_with_plain_snippet(store: Store) -> None:
    filler = " ".join(["Officials met on Monday to discuss the budget."] * 30)
    in_body = full_article(
        "body", title="City budget talks", content_hash="1",
        body=f"{filler}\n\nA small eruption of the volcano was reported. {filler}",
    )
    in_title = full_article(
        "title", title="Volcano erupts near village", content_hash="2",
        body="Ash fell on roofs near Zürich overnight; the volcano is quiet now.",
    )
    add_story_with(store, "s1", [in_body])
    add_story_with(store, "s2", [in_title])
    hits = store.search("volcano")
    assert [h.article_id for h in hits] == ["title", "body"]
    assert hits[0].story_id == "s2" and hits[0].title == "Volcano erupts near village"
    assert hits[0].outlet == "Example News"
    long_snippet = hits[1].snippet
    assert "volcano" in long_snippet.lower()
    assert "…" in long_snippet and len(long_snippet) < len(in_body.body) / 4
    assert "<" not in long_snippet and "\n" not in long_snippet
    assert store.search("volcano", limit=1)[0].article_id == "title"
    assert [h.article_id for h in store.search("zurich")] == ["title"]  # diacritics folded


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "volcano AND(", "*", "-", "volcano -", "title:", "nosuchcol:volcano",
     "NEAR(volcano", "volcano)", "^", "'; DROP TABLE articles; --", "AND OR NOT",
     "\x00volcano", "a" * 5000, "\"\"", "::", "volcano*", "", "   "],
)
def test_hostile_queries_never_raise(store: Store, query: str) -> None:
    add_story_with(store, "s", [full_article(title="Volcano erupts", content_hash="1")])
    hits = store.search(query)
    assert isinstance(hits, list)
    if "volcano" in query and "-" not in query:
        assert [h.article_id for h in hits] == ["art-1"]  # retried as plain words
    assert store.count_articles() == 1


# -- boilerplate and failures -------------------------------------------------------


def test_boilerplate_counts_articles_per_outlet(store: Store) -> None:
    store.add_boilerplate_lines("A", ["h1", "h2", "h1"])  # repeated in one article: once
    store.add_boilerplate_lines("A", ["h1"])
    store.add_boilerplate_lines("B", ["h1"])
    store.add_boilerplate_lines("A", [])
    assert store.boilerplate_counts("A", ["h1", "h2", "h3"]) == {"h1": 2, "h2": 1, "h3": 0}
    assert store.boilerplate_counts("B", ["h1", "h2"]) == {"h1": 1, "h2": 0}
    assert store.boilerplate_counts("A", []) == {}


def test_search_falls_back_to_any_word_when_all_words_match_nothing(store: Store) -> None:
    add_story_with(store, "s", [full_article(title="Volcano erupts", content_hash="1")])
    add_story_with(store, "t", [full_article("2", title="Volcano and village", content_hash="2")])
    assert [h.article_id for h in store.search("volcano village")] == ["2"]
    # No article has both words: the ones with either are better than nothing.
    assert {h.article_id for h in store.search('volcano" erupts) fire:village')} == {"art-1", "2"}


def test_failures_are_recorded_newest_first(store: Store) -> None:
    store.record_failure("a.html", "extract", "no text")
    store.record_failure("b.warc#12", "read", "truncated record")
    failures = store.recent_failures()
    assert [(f.source, f.stage, f.reason) for f in failures] == [
        ("b.warc#12", "read", "truncated record"),
        ("a.html", "extract", "no text"),
    ]
    assert failures[0].at >= failures[1].at
    assert len(store.recent_failures(limit=1)) == 1


# -- integrity --------------------------------------------------------------------


def test_check_is_clean_on_a_consistent_store(store: Store) -> None:
    add_story_with(store, "s", [full_article()])
    store.add_article(full_article("dup", duplicate_of="art-1"), None)
    assert store.check() == []


def test_check_reports_a_story_deleted_behind_its_back(
    backend: str, store_url: str, store: Store
) -> None:
    add_story_with(store, "gone", [full_article()])
    execute_behind_back(backend, store_url, "DELETE FROM stories WHERE id = ?", ("gone",))
    problems = store.check()
    assert any("orphaned story link" in p and "gone" in p for p in problems), problems


def test_check_reports_near_duplicate_index_rows_of_missing_articles(
    backend: str, store_url: str, store: Store
) -> None:
    add_story_with(store, "s", [full_article("kept", content_hash="1")])
    store.add_band_keys("kept", [1, 2, 3], ["b0:1", "b1:2"])
    assert store.check() == []
    execute_behind_back(
        backend, store_url, "INSERT INTO lsh_bands(band_key, article_id) VALUES ('b0:1', 'ghost')"
    )
    problems = "\n".join(store.check())
    assert "lsh_bands names a missing article ghost" in problems
    assert "kept" not in problems


def test_check_reports_counts_unlinked_articles_and_bad_redirects(
    backend: str, store_url: str, store: Store
) -> None:
    add_story_with(store, "s", [full_article("a1", content_hash="1")])
    store.add_article(full_article("loose", content_hash="2"), None)
    store.create_story("empty", "nothing here", "test")
    execute_behind_back(backend, store_url, "UPDATE stories SET article_count = 7 WHERE id = 's'")
    execute_behind_back(
        backend, store_url,
        "INSERT INTO story_redirects(old_id, new_id, reason, at) VALUES ('x', 'nowhere', 'r', 't')",
    )
    problems = "\n".join(store.check())
    assert "story s records 7 articles" in problems
    assert "article loose" in problems
    assert "story empty has no articles" in problems
    assert "x -> nowhere" in problems


# -- concurrency --------------------------------------------------------------------


def test_two_processes_write_one_store(store_url: str, backend: str) -> None:
    if store_url.endswith(":memory:"):
        pytest.skip("an in-memory store cannot be shared between processes")
    open_store(store_url).close()  # created and migrated once, as `storyline init` would
    per_writer = 150
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=concurrent_writer, args=(store_url, name, per_writer, start))
        for name in ("alpha", "beta")
    ]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # both children import and open the store, then write at once
    start.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    reopened = open_store(store_url)
    try:
        assert reopened.count_articles() == 2 * per_writer
        assert reopened.count_stories() == 2 * per_writer
        assert len(reopened.recent_failures(limit=1000)) == 2 * per_writer
        for name in ("alpha", "beta"):
            assert reopened.has_article(synthetic_article(per_writer - 1, name).id)
        assert reopened.check() == []
    finally:
        reopened.close()


def test_threads_read_while_another_writes(store: Store) -> None:
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                store.list_stories(limit=5)
                store.search("paragraph")
                store.candidate_stories("2024-03-05", 3)
        except BaseException as exc:  # any error fails the test below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for n in range(40):
            article = synthetic_article(n, published="2024-03-05")
            add_story_with(store, f"s{n}", [article])
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert errors == []
    assert store.count_articles() == 40


# -- SQLite specifics ---------------------------------------------------------------


def _hold_write_lock(path: Path, seconds: float, locked: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO ingest_errors(source, stage, reason, at) VALUES ('o', 'o', 'o', 'o')"
        )
        locked.set()
        time.sleep(seconds)
        other.execute("COMMIT")
    finally:
        other.close()


def test_sqlite_retries_past_a_long_lock(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(str(path), busy_timeout_ms=50, max_busy_retries=8)
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.6, locked))
    holder.start()
    try:
        locked.wait(5)
        # 0.6 s is far beyond busy_timeout (50 ms): only the back-off retries get us through.
        store.record_failure("mine", "test", "written after the lock")
        assert {f.source for f in store.recent_failures()} == {"o", "mine"}
    finally:
        holder.join()
        store.close()


def test_sqlite_gives_a_store_error_when_the_lock_never_comes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(str(path), busy_timeout_ms=10, max_busy_retries=2)
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 1.5, locked))
    holder.start()
    try:
        locked.wait(5)
        with pytest.raises(StoreError, match="stayed busy"):
            store.record_failure("mine", "test", "cannot get in")
        assert store.count_articles() == 0  # reads go on while another process writes
    finally:
        holder.join()
        store.close()



def test_sqlite_uses_wal_and_indexed_candidate_query(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    open_store(str(path)).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM stories WHERE last_seen >= ? "
                "AND first_seen <= ? ORDER BY last_seen DESC LIMIT 500",
                ("2024-01-01", "2024-01-09"),
            )
        )
        assert "stories_last_seen" in plan, plan
    finally:
        conn.close()


@pytest.mark.slow
def test_candidate_latency_at_10k_articles(tmp_path: Path) -> None:
    """Linking cost must not grow with the store: candidate look-up at 10k articles."""
    store = open_store(str(tmp_path / "big.db"))
    terms = {f"term{i}": 1.0 + (i % 5) / 10 for i in range(200)}  # a full-size feature dict
    try:
        started = time.perf_counter()
        with store.transaction():
            for n in range(10_000):
                day = n // 28  # ~28 articles a day over a year, 4 per story
                published = f"2023-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{n % 24:02d}:00:00"
                article = synthetic_article(n, published=published)
                sid = f"story-{n // 4}"
                if n % 4 == 0:
                    store.create_story(sid, article.title, "test")
                store.add_article(article, sid, {"terms": terms, "published": published})
        insert_s = time.perf_counter() - started
        timings = []
        for month in range(1, 13):
            t0 = time.perf_counter()
            found = store.candidate_stories(f"2023-{month:02d}-15", window_days=3)
            timings.append(time.perf_counter() - t0)
            assert found and all(len(c.features) == 4 for c in found)
        median = statistics.median(timings)
        print(f"\n10k articles inserted in {insert_s:.1f}s; candidate_stories median "
              f"{median * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms, "
              f"{len(found)} stories in the window")
        assert median < 0.5
    finally:
        store.close()
