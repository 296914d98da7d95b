"""Storage backends for the backend-agnostic store tests (tests/unit/test_store.py).

Each backend provides: a fresh store URL, and a way to damage a store behind
its back (to prove that `check()` notices).

PostgreSQL: every fresh URL is a new database on a throw-away server that
tests/pg_server.py starts on first use (or on STORYLINE_TEST_PG_URL); the
PostgreSQL cases skip, saying why, only when there are no PostgreSQL binaries.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from storyline.records import Article
from storyline.store import open_store
from storyline.store.sqlite import parse_sqlite_url

BACKENDS: list[str] = ["sqlite", "postgresql"]


def fresh_url(backend: str, directory: Path) -> str:
    """A URL naming a new, empty store of `backend` (files go under `directory`)."""
    if backend == "sqlite":
        return f"sqlite:///{directory / 'store' / 'storyline.db'}"
    if backend == "postgresql":
        import pytest

        import pg_server

        try:
            server = pg_server.shared_server()
        except pg_server.NoPostgres as exc:
            pytest.skip(str(exc))
        return server.new_database_url()
    raise ValueError(f"unknown backend {backend}")


def execute_behind_back(backend: str, url: str, sql: str, params: tuple[object, ...] = ()) -> None:
    """Run raw SQL on the store without its checks (foreign keys off): corruption on purpose."""
    if backend == "sqlite":
        conn = sqlite3.connect(parse_sqlite_url(url), isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute(sql, params)
        finally:
            conn.close()
        return
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg:
            # Triggers off, foreign-key checks included (superuser only: the test server's).
            pg.execute("SET session_replication_role = replica")
            pg.execute(sql.replace("?", "%s"), params or None)
        return
    raise ValueError(f"unknown backend {backend}")


def synthetic_article(n: int, writer: str = "w", published: str | None = None) -> Article:
    return Article(
        id=f"{writer}-{n:06d}",
        source=f"{writer}.jsonl:{n}",
        url=f"https://example.org/{writer}/{n}",
        title=f"Report {n} from {writer}",
        body=f"Paragraph one of article {n}.\n\nParagraph two mentions harbour {n % 7}.",
        outlet=f"outlet{n % 3}",
        published=published,
        content_hash=f"hash-{writer}-{n}",
    )


def concurrent_writer(url: str, writer: str, count: int, start: Any = None) -> None:
    """Child-process body: open the store and add `count` articles, one transaction each.

    Every article starts its own story, as the pipeline does for a first
    article, so both processes write stories, links and articles.  `start`
    (a multiprocessing Event) lines the writers up so that they overlap.
    """
    store = open_store(url)
    if start is not None:
        start.wait(60)
    try:
        for n in range(count):
            article = synthetic_article(n, writer, published=f"2024-03-{1 + n % 28:02d}")
            story_id = f"story-{article.id}"
            with store.transaction():
                store.create_story(story_id, article.title, "test")
                store.add_article(article, story_id, {"n": n})
                store.record_failure(article.source, "test", "writer heartbeat")
    finally:
        store.close()


def shared_story_writer(
    url: str, writer: str, story_ids: list[str], per_story: int, start: Any = None
) -> None:
    """Child-process body: add `per_story` articles to each of the (existing) `story_ids`.

    Two of these on the same stories race on every story's counters and
    dates and on the outlets' boilerplate counts: the parent checks that no
    update was lost.  Articles alternate between stories so that both
    writers touch the same rows at the same time.
    """
    store = open_store(url)
    if start is not None:
        start.wait(60)
    try:
        n = 0
        for round_no in range(per_story):
            for story_index, story_id in enumerate(story_ids):
                # Dates spread over March so that first_seen/last_seen move both ways.
                day = 1 + (round_no * 7 + story_index * 3 + (0 if writer == "alpha" else 11)) % 28
                article = synthetic_article(n, writer, published=f"2024-03-{day:02d}T12:00:00")
                n += 1
                with store.transaction():
                    store.add_article(article, story_id, {"writer": writer, "n": n})
                    store.add_boilerplate_lines("shared outlet", ["line-a", "line-b", writer])
    finally:
        store.close()


def fresh_opener(url: str, start: Any = None) -> None:
    """Child-process body: open (and so migrate) a store, write one failure, close."""
    if start is not None:
        start.wait(60)
    store = open_store(url)
    try:
        store.record_failure(f"opener-{os.getpid()}", "test", "opened")
    finally:
        store.close()
