"""Storage backends for the backend-agnostic store tests (tests/unit/test_store.py).

Each backend provides: a fresh store URL, and a way to damage a store behind
its back (to prove that `check()` notices).  Add PostgreSQL here when its
backend exists: its URL would come from an environment variable, and the
tests skip when it is unset.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from storyline.records import Article
from storyline.store import open_store
from storyline.store.sqlite import parse_sqlite_url

BACKENDS: list[str] = ["sqlite"]


def fresh_url(backend: str, directory: Path) -> str:
    """A URL naming a new, empty store of `backend` (files go under `directory`)."""
    if backend == "sqlite":
        return f"sqlite:///{directory / 'store' / 'storyline.db'}"
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
