"""PostgreSQL specifics: concurrent ingest, migrations racing, retries, search syntax, pooling.

The shared interface tests (tests/unit/test_store.py) also run on PostgreSQL;
these cover what only a server backend has.  They use the throw-away server
of tests/pg_server.py and skip, saying why, only without PostgreSQL binaries.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the helpers

import pg_server
from store_backends import fresh_opener, shared_story_writer, synthetic_article
from storyline.records import Article
from storyline.store import Store, StoreError, open_store
from storyline.store.base import StoryQuery
from storyline.store.migrations import LATEST_VERSION
from storyline.store.postgres import PostgresStore, TransientStoreError

psycopg = pytest.importorskip("psycopg")
make_conninfo = psycopg.conninfo.make_conninfo


@pytest.fixture
def pg_url() -> str:
    try:
        server = pg_server.shared_server()
    except pg_server.NoPostgres as exc:
        pytest.skip(str(exc))
    return server.new_database_url()


@pytest.fixture
def store(pg_url: str) -> Iterator[PostgresStore]:
    opened = open_store(pg_url)
    assert isinstance(opened, PostgresStore)
    yield opened
    opened.close()


def article(article_id: str, title: str, body: str, **extra: object) -> Article:
    return Article(id=article_id, source="test", url=None, title=title, body=body,
                   content_hash=article_id, **extra)  # type: ignore[arg-type]


def add_story(store: PostgresStore, story_id: str, articles: list[Article]) -> None:
    with store.transaction():
        store.create_story(story_id, articles[0].title, "test")
        for item in articles:
            store.add_article(item, story_id)


# -- concurrent ingest ----------------------------------------------------------------


def test_two_processes_adding_to_the_same_stories_lose_no_update(pg_url: str) -> None:
    store = open_store(pg_url)
    story_ids = [f"shared-{i}" for i in range(5)]
    with store.transaction():
        for sid in story_ids:
            store.create_story(sid, sid, "test")
    store.close()
    per_story = 30
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=shared_story_writer, args=(pg_url, name, story_ids, per_story,
                                                          start))
        for name in ("alpha", "beta")
    ]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # both children import and connect, then write at once
    started = time.perf_counter()
    start.set()
    for worker in workers:
        worker.join(timeout=180)
    elapsed = time.perf_counter() - started
    assert [w.exitcode for w in workers] == [0, 0]
    total = 2 * per_story * len(story_ids)
    print(f"\n{total} articles into {len(story_ids)} shared stories by 2 processes "
          f"in {elapsed:.1f}s")
    reopened = open_store(pg_url)
    try:
        assert reopened.count_articles() == total
        summaries = {s.id: s for s in reopened.list_stories(limit=100)}
        for sid in story_ids:
            story = reopened.get_story(sid)
            assert story is not None
            keys = sorted(a.published or "" for a in story.articles)
            assert summaries[sid].article_count == len(story.articles) == 2 * per_story
            assert (story.first_seen, story.last_seen) == (keys[0], keys[-1])
        counts = reopened.boilerplate_counts("shared outlet", ["line-a", "line-b", "alpha"])
        assert counts == {"line-a": total, "line-b": total, "alpha": total // 2}
        assert reopened.check() == []
    finally:
        reopened.close()


def test_two_processes_migrate_a_fresh_database_once(pg_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    openers = [context.Process(target=fresh_opener, args=(pg_url, start)) for _ in range(3)]
    for opener in openers:
        opener.start()
    time.sleep(1.0)
    start.set()
    for opener in openers:
        opener.join(timeout=120)
    assert [o.exitcode for o in openers] == [0, 0, 0]
    with psycopg.connect(pg_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, LATEST_VERSION + 1))
    store = open_store(pg_url)
    try:
        assert len(store.recent_failures()) == 3
    finally:
        store.close()


def test_same_article_from_two_threads_is_stored_once(store: PostgresStore) -> None:
    store.create_story("s", "t", "test")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def add() -> None:
        barrier.wait()
        try:
            store.add_article(article("same", "Same", "Body."), "s")
            outcomes.append("stored")
        except StoreError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("stored") == 1
    assert sum("already stored" in o for o in outcomes) == 3
    assert store.list_stories()[0].article_count == 1
    assert store.check() == []


# -- retries -------------------------------------------------------------------------


def _hold_story_lock(url: str, story_id: str, seconds: float, locked: threading.Event) -> None:
    with psycopg.connect(url) as other:
        other.execute("SELECT 1 FROM stories WHERE id = %s FOR UPDATE", (story_id,))
        locked.set()
        time.sleep(seconds)
        other.commit()


def test_lock_timeouts_are_retried_with_back_off(pg_url: str) -> None:
    # lock_timeout 50 ms: the 0.6 s lock can only be waited out by the retries.
    url = make_conninfo(pg_url, options="-c lock_timeout=50ms")
    store = PostgresStore(url, max_retries=8)
    store.create_story("s", "t", "test")
    locked = threading.Event()
    holder = threading.Thread(target=_hold_story_lock, args=(pg_url, "s", 0.6, locked))
    holder.start()
    try:
        locked.wait(5)
        store.add_article(article("a", "A", "Body."), "s")
        assert store.list_stories()[0].article_count == 1
    finally:
        holder.join()
        store.close()


def test_a_lock_that_never_comes_is_a_transient_store_error(pg_url: str) -> None:
    url = make_conninfo(pg_url, options="-c lock_timeout=20ms")
    store = PostgresStore(url, max_retries=1)
    store.create_story("s", "t", "test")
    locked = threading.Event()
    holder = threading.Thread(target=_hold_story_lock, args=(pg_url, "s", 1.5, locked))
    holder.start()
    try:
        locked.wait(5)
        with store.transaction():  # inside a document's transaction: only the step is undone
            store.record_failure("kept", "test", "written before the conflict")
            with pytest.raises(TransientStoreError, match="conflicted with another writer"):
                store.add_article(article("a", "A", "Body."), "s")
        assert store.count_articles() == 0
        assert [f.source for f in store.recent_failures()] == ["kept"]
    finally:
        holder.join()
        store.close()


# -- threads and the pool ------------------------------------------------------------------


def test_other_threads_read_committed_data_without_waiting(store: PostgresStore) -> None:
    seen: dict[str, object] = {}
    in_transaction = threading.Event()
    read_done = threading.Event()

    def read() -> None:
        in_transaction.wait(5)
        started = time.perf_counter()
        seen["count"] = store.count_articles()
        seen["seconds"] = time.perf_counter() - started
        read_done.set()

    reader = threading.Thread(target=read)
    reader.start()
    with store.transaction():
        store.create_story("s", "t", "test")
        store.add_article(article("a", "A", "Body."), "s")
        assert store.count_articles() == 1  # this thread sees its own write
        in_transaction.set()
        assert read_done.wait(5), "a reader waited behind another thread's transaction"
    reader.join()
    assert seen["count"] == 0  # the other thread saw only committed data
    assert float(seen["seconds"]) < 1.0  # type: ignore[arg-type]
    assert store.count_articles() == 1


def test_a_failed_read_inside_a_transaction_does_not_abort_it(store: PostgresStore) -> None:
    with store.transaction():
        store.create_story("s", "t", "test")
        with pytest.raises(StoreError):
            store._read(lambda c: c.execute("SELECT 1/0"))
        store.add_article(article("a", "A", "Body."), "s")
    assert store.count_articles() == 1


# -- search ------------------------------------------------------------------------------


def test_websearch_syntax_phrases_exclusions_and_or(store: PostgresStore) -> None:
    add_story(store, "s1", [article("harbour", "Fire at the harbour", "The old harbour burned.")])
    add_story(store, "s2", [article("market", "Fire at the market", "Stalls burned at dawn.")])
    add_story(store, "s3", [article("flood", "Flood in the valley", "Water rose overnight.")])
    assert {h.article_id for h in store.search("fire")} == {"harbour", "market"}
    assert [h.article_id for h in store.search("fire -market")] == ["harbour"]
    assert [h.article_id for h in store.search('"old harbour"')] == ["harbour"]
    assert store.search('"harbour old"') == []  # a phrase keeps its order
    assert {h.article_id for h in store.search("valley or market")} == {"flood", "market"}
    assert store.search("fire valley") == []  # clean syntax matching nothing stays empty
    # Negation alone would scan every article: read as words, as SQLite does.
    assert [h.article_id for h in store.search("-flood")] == ["flood"]


def test_search_folds_accents_both_ways_and_snippets_are_plain(store: PostgresStore) -> None:
    body = ("Background paragraph. " * 40) + "Crowds gathered in São Paulo and Zürich. " + (
        "Closing paragraph. " * 40)
    add_story(store, "s", [article("a", "Protests <b>spread</b>", body)])
    for query in ("sao paulo", "São Paulo", "zurich", "ZÜRICH"):
        hits = store.search(query)
        assert [h.article_id for h in hits] == ["a"], query
    snippet = store.search("zurich")[0].snippet
    assert "Zürich" in snippet and snippet.startswith("…") and snippet.endswith("…")
    assert "<" not in snippet and len(snippet) < len(body) / 4


def test_search_uses_the_gin_index(store: PostgresStore) -> None:
    with psycopg.connect(store._conninfo) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0] for r in conn.execute(
                "EXPLAIN SELECT id FROM articles "
                "WHERE search_vector @@ websearch_to_tsquery('storyline_text', 'fire')"
            )
        )
        assert "articles_search" in plan, plan
        plan = "\n".join(
            r[0] for r in conn.execute(
                "EXPLAIN SELECT id FROM stories WHERE last_seen >= '2024-01-01' "
                "AND first_seen <= '2024-01-09' ORDER BY last_seen DESC LIMIT 500"
            )
        )
        assert "stories_last_seen" in plan, plan


# -- input PostgreSQL cannot hold, URLs ----------------------------------------------------


def test_nul_characters_are_a_clear_error_for_that_article_only(store: PostgresStore) -> None:
    store.create_story("s", "t", "test")
    with pytest.raises(StoreError, match="NUL"):
        store.add_article(article("bad", "Bad", "Text with a \x00 inside."), "s")
    store.add_article(article("good", "Good", "Clean text."), "s")
    store.record_failure("src\x00name", "read", "reason")
    assert store.count_articles() == 1
    assert store.search("\x00clean")[0].article_id == "good"
    assert store.check() == []


def test_sqlalchemy_style_url_and_missing_database(pg_url: str) -> None:
    store = open_store(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        assert store.schema_version() == LATEST_VERSION
    finally:
        store.close()
    with pytest.raises(StoreError, match="no_such_db"):
        PostgresStore(make_conninfo(pg_url, dbname="no_such_db"))


def test_store_used_after_fork_is_refused(store: PostgresStore, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setattr(store, "_pid", -1)
    with pytest.raises(StoreError, match="another process"):
        store.count_articles()


# -- scale ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_candidate_latency_at_10k_articles(pg_url: str) -> None:
    """Linking cost must not grow with the store: candidate look-up at 10k articles."""
    store = open_store(pg_url)
    terms = {f"term{i}": 1.0 + (i % 5) / 10 for i in range(200)}  # a full-size feature dict
    try:
        started = time.perf_counter()
        with store.transaction():
            for n in range(10_000):
                day = n // 28  # ~28 articles a day over a year, 4 per story
                published = f"2023-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{n % 24:02d}:00:00"
                item = synthetic_article(n, published=published)
                sid = f"story-{n // 4}"
                if n % 4 == 0:
                    store.create_story(sid, item.title, "test")
                store.add_article(item, sid, {"terms": terms, "published": published})
        insert_s = time.perf_counter() - started
        with psycopg.connect(store._conninfo, autocommit=True) as conn:
            conn.execute("ANALYZE")
        timings = []
        for month in range(1, 13):
            t0 = time.perf_counter()
            found = store.candidate_stories(f"2023-{month:02d}-15", window_days=3)
            timings.append(time.perf_counter() - t0)
            assert found and all(len(c.features) == 4 for c in found)
        median = statistics.median(timings)
        t0 = time.perf_counter()
        hits = store.search("harbour")
        search_ms = (time.perf_counter() - t0) * 1000
        assert len(hits) == 20
        print(f"\nPostgreSQL: 10k articles inserted in {insert_s:.1f}s; candidate_stories "
              f"median {median * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms, "
              f"{len(found)} stories in the window; search {search_ms:.1f} ms")
        assert median < 0.5
    finally:
        store.close()


# -- the same answers as SQLite -----------------------------------------------------------


def _fill_for_filters(target: Store) -> None:
    rows = [
        ("s-port", "Dock strike at the harbour", "Dock workers walked out at the harbour.",
         "Daily Ledger", "en", "2024-03-02"),
        ("s-port", "Harbour strike enters day two", "The strike at the port went on.",
         "Morning Post", "en", "2024-03-03T08:00:00Z"),
        ("s-vote", "Parliament votes on the budget", "The harbour budget passed narrowly.",
         "Morning Post", "en", "2024-03-10"),
        ("s-vote", "Le parlement vote le budget", "Le budget du port a été adopté.",
         "Le Quotidien", "fr", "2024-03-11"),
        ("s-quake", "Earthquake shakes Zürich", "Buildings swayed in Zürich overnight.",
         "Metro Wire", "de", "2024-04-01"),
        ("s-empty-outlet", "Market day", "Stalls at the harbour market.", None, None,
         "2024-02-20"),
    ]
    created: set[str] = set()
    for n, (sid, title, body, outlet, language, published) in enumerate(rows):
        with target.transaction():
            if sid not in created:
                target.create_story(sid, title, "test")
                created.add(sid)
            target.add_article(
                Article(id=f"a{n}", source="t", url=None, title=title, body=body, outlet=outlet,
                        language=language, published=published, content_hash=f"h{n}"),
                sid,
            )
        time.sleep(0.002)  # distinct updated_at on both stores


@pytest.mark.parametrize(
    "query",
    [
        StoryQuery(),
        StoryQuery(text="harbour"),
        StoryQuery(text="harbour", order="relevance"),
        StoryQuery(text="zurich"),
        StoryQuery(phrase="strike at the"),
        StoryQuery(text="harbour", phrase="the port"),
        StoryQuery(outlet="Morning Post"),
        StoryQuery(language="fr"),
        StoryQuery(since="2024-03-05"),
        StoryQuery(until="2024-03-03"),
        StoryQuery(since="2024-03-03", until="2024-03-10"),
        StoryQuery(text="budget", outlet="Le Quotidien"),
        StoryQuery(text='harbour" AND( market:'),
        StoryQuery(text="nothing matches this"),
        StoryQuery(text="-harbour"),
        StoryQuery(text="?!", phrase="the port"),
    ],
)
def test_find_stories_answers_as_sqlite_does(
    store: PostgresStore, tmp_path: Path, query: StoryQuery
) -> None:
    reference = open_store(str(tmp_path / "reference.db"))
    try:
        _fill_for_filters(reference)
        _fill_for_filters(store)
        expected = reference.find_stories(query)
        found = store.find_stories(query)
        assert [s.id for s in found] == [s.id for s in expected]
        assert [(s.title, s.article_count, s.first_seen, s.last_seen, s.outlets)
                for s in found] == [(s.title, s.article_count, s.first_seen, s.last_seen,
                                     s.outlets) for s in expected]
        assert [s.id for s in store.find_stories(query, limit=1, offset=1)] == [
            s.id for s in reference.find_stories(query, limit=1, offset=1)]
        assert store.story_facets() == reference.story_facets()
        ids = ["s-port", "s-quake", "missing"]
        assert set(store.story_updated_at(ids)) == set(reference.story_updated_at(ids)) == {
            "s-port", "s-quake"}
    finally:
        reference.close()


def test_without_unaccent_the_store_still_opens_and_searches(pg_url: str) -> None:
    """A role that may not create extensions gets a working store without accent folding."""
    role = f"plain_{abs(hash(pg_url)) % 10**8}"
    dbname = psycopg.conninfo.conninfo_to_dict(pg_url)["dbname"]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f'REVOKE CREATE ON DATABASE "{dbname}" FROM PUBLIC')
        admin.execute(f"GRANT CONNECT ON DATABASE \"{dbname}\" TO {role}")
        admin.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
    store = PostgresStore(make_conninfo(pg_url, user=role))
    try:
        add_story(store, "s", [article("a", "Flood in Zürich", "Water rose overnight.")])
        assert [h.article_id for h in store.search("Zürich")] == ["a"]
        assert store.search("Zurich") == []  # documented: no folding without unaccent
        assert store.check() == []
    finally:
        store.close()


def test_libpq_keyword_strings_are_refused_not_made_into_files(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="postgresql://"):
        open_store("host=/tmp dbname=news user=me")
    assert list(tmp_path.iterdir()) == []


def test_check_reports_analysis_and_features_of_missing_articles(store: PostgresStore) -> None:
    add_story(store, "s", [article("a", "A", "Body.")])
    store.put_analysis("a", "quotes", [])
    with psycopg.connect(store._conninfo, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # foreign keys off
        conn.execute("INSERT INTO analysis(article_id, kind, data) VALUES ('ghost', 'q', '[]')")
        conn.execute("INSERT INTO article_features(article_id, data) VALUES ('ghost', '{}')")
    problems = store.check()
    assert "foreign key broken: analysis row -> missing article ghost" in problems
    assert "foreign key broken: article_features row -> missing article ghost" in problems
    assert len(problems) == 2
