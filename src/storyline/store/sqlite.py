"""The SQLite backend: one file (or memory), WAL, FTS5, versioned migrations.

Concurrency
-----------
* Between processes: WAL lets readers run while one writer writes.  Writers
  take the write lock up front (`BEGIN IMMEDIATE`), wait up to
  `busy_timeout`, and on "database is locked"/"busy" retry with bounded
  exponential back-off, so two ingest processes on one store both succeed.
* Between threads: one connection (`check_same_thread=False`) guarded by a
  re-entrant lock.  A transaction holds the lock from BEGIN to COMMIT, so a
  reader thread never sees (or joins) another thread's open transaction.
  We chose this over one connection per thread because it also works for
  `:memory:` stores, keeps the number of connections bounded, and SQLite
  reads of a page of stories take milliseconds, so serialising them in one
  process costs little.  Another process (the ingest) is not blocked by it.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from storyline.records import Article, RemovedBlock, SearchHit, Story, StorySummary, as_datetime
from storyline.store import migrations
from storyline.store.base import (
    SEARCH_CANDIDATES,
    IngestError,
    LinkTermStats,
    Store,
    StoreError,
    StoryCandidate,
    StoryFacets,
    StoryQuery,
)

T = TypeVar("T")

DIALECT = "sqlite"
BUSY_TIMEOUT_MS = 5_000
MAX_BUSY_RETRIES = 8  # after the busy_timeout wait; back-off 0.05 s doubling to 2 s
_BACKOFF_START_S = 0.05
_BACKOFF_MAX_S = 2.0
_MAX_REDIRECT_HOPS = 32
_BATCH = 200  # stories loaded per query by iter_stories

_ARTICLE_COLUMNS = (
    "id, source, url, canonical_url, title, body, outlet, published, authors, "
    "wire_agencies, language, content_hash, duplicate_of, removed"
)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def sort_key(published: str | None, fallback: str) -> str:
    """A string that orders article times: the date alone, or the UTC time to the second."""
    parsed = as_datetime(published)
    if parsed is None:
        parsed = as_datetime(fallback)
        if parsed is None:  # the fallback is always our own timestamp; be safe anyway
            return fallback
    elif len(published or "") <= 10:  # a bare date keeps its day precision
        return parsed.date().isoformat()
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.isoformat(timespec="seconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _signature_bytes(signature: Sequence[int]) -> bytes:
    """A MinHash as stored: little-endian uint32 values."""
    return struct.pack(f"<{len(signature)}I", *(int(v) for v in signature))


def _signature_values(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


# FTS5 operators, meaningless as search words when the query failed to parse.
_FTS_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


def _words(query: str) -> list[str]:
    """The query's words, split the way the unicode61 tokenizer splits text."""
    words: list[str] = []
    word: list[str] = []
    for ch in query:
        if ch.isalnum():
            word.append(ch)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    plain = [w for w in words if w not in _FTS_OPERATORS]
    return plain or words


def _fts_quoted(words: list[str], operator: str) -> str:
    """Words as quoted FTS5 strings: no syntax left to fail."""
    return f" {operator} ".join('"' + w.replace('"', '""') + '"' for w in words)


# The matches of ?1 (rowid as num, bm25 score as score) among the newest ?2 (best
# first, then newest first; at most ?3 of them, -1 for all).  The subquery finds the
# rowid just below the newest ?2 matches by walking the index backwards (no
# ranking), so bm25() runs on at most ?2 rows; FTS5 uses the rowid bound.
_RANKED_MATCHES = (
    "SELECT rowid AS num, bm25(articles_fts, 10.0, 1.0) AS score FROM articles_fts "
    "WHERE articles_fts MATCH ?1 AND rowid > COALESCE((SELECT rowid FROM articles_fts "
    " WHERE articles_fts MATCH ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2), 0) "
    "ORDER BY score, rowid DESC LIMIT ?3"
)


def name_variants(name: str) -> list[str]:
    """An entity name as asked and cased the ways names are written.

    The stored name keys fold case with SQL lower(), which on SQLite (and on
    PostgreSQL in the C locale) folds ASCII letters only: "émile zola" must
    also be tried as "Émile Zola" to meet the key of a name written that way.
    """
    name = " ".join(name.split())
    return list(dict.fromkeys([name, name.title(), name.capitalize(), name.upper(), name.lower()]))


def _article_from_row(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"],
        source=row["source"],
        url=row["url"],
        title=row["title"],
        body=row["body"],
        outlet=row["outlet"],
        published=row["published"],
        authors=json.loads(row["authors"]),
        wire_agencies=json.loads(row["wire_agencies"]),
        language=row["language"],
        canonical_url=row["canonical_url"],
        content_hash=row["content_hash"],
        removed=[RemovedBlock(**block) for block in json.loads(row["removed"])],
        duplicate_of=row["duplicate_of"],
    )


def parse_sqlite_url(url: str) -> str:
    """The database path (or ":memory:") named by a sqlite URL or a plain path."""
    target = url
    if url.startswith("sqlite:"):
        target = url[len("sqlite:") :]
        if target.startswith("//"):
            target = target[2:]  # "sqlite:///abs/x.db" -> "/abs/x.db"
        if target in ("", "/"):
            return ":memory:"
        if target == "/:memory:":
            return ":memory:"
        if target.startswith("//"):  # "sqlite:////abs/x.db" (SQLAlchemy's absolute form)
            target = target[1:]
    if target == ":memory:":
        return target
    return str(Path(target).expanduser())


class SQLiteStore(Store):
    """`Store` on SQLite.  Open it with `open_store(url)` or `SQLiteStore(path)`."""

    def __init__(
        self,
        path: str,
        url: str | None = None,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        max_busy_retries: int = MAX_BUSY_RETRIES,
    ) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.max_busy_retries = max_busy_retries
        self.url = url or (path if path == ":memory:" else f"sqlite:///{Path(path).resolve()}")
        self._lock = threading.RLock()
        self._depth = 0  # nesting depth of transaction(); only the lock holder touches it
        self._closed = False
        self._pid = os.getpid()
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory for {path}: {exc}") from exc
        try:
            self._conn = sqlite3.connect(
                path,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        try:
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"cannot open SQLite store {path}: {exc}") from exc
        except BaseException:
            self._conn.close()
            raise

    # -- connection plumbing --------------------------------------------------
    def _configure(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            mode = self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot switch {self.path} to WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = NORMAL")

    def _retry(self, operation: Callable[[], T]) -> T:
        """Run `operation`, retrying with back-off while the database is locked or busy."""
        delay = _BACKOFF_START_S
        for attempt in range(self.max_busy_retries + 1):
            try:
                return operation()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if attempt == self.max_busy_retries:
                    raise StoreError(
                        f"the store {self.path} stayed busy (another process is writing) "
                        f"after {self.max_busy_retries} retries: {exc}"
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))  # jitter: writers do not collide again
                delay = min(delay * 2, _BACKOFF_MAX_S)
        raise AssertionError("unreachable")

    def _read(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read under the lock; outside a transaction, retry it while busy."""
        with self._lock:
            conn = self._connection()
            try:
                if self._depth:
                    return operation(conn)
                return self._retry(lambda: operation(conn))
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite read failed: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the store is closed")
        if os.getpid() != self._pid:
            # A connection inherited through fork() would corrupt the database.
            raise StoreError("this store was opened in another process: open it again here")
        return self._conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A write inside `transaction()`, with SQLite errors turned into StoreError."""
        with self.transaction():
            try:
                yield self._conn
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"constraint violated: {exc}") from exc
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite write failed: {exc}") from exc

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def schema_version(self) -> int:
        return self._read(
            lambda c: int(
                c.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0
            )
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT; a nested call is a savepoint inside the outer one.

        The savepoint means a failed inner block rolls back only its own
        writes when the caller handles the error; the outer block still
        commits (or rolls back) everything at once.
        """
        with self._lock:
            conn = self._connection()
            if self._depth:
                name = f"sp{self._depth}"
                conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                    raise
                else:
                    conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1
                return

            try:
                self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start a write transaction: {exc}") from exc
            self._depth = 1
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    self._retry(lambda: conn.execute("COMMIT"))
                except BaseException as exc:
                    self._rollback()
                    if isinstance(exc, sqlite3.Error):
                        raise StoreError(f"commit failed: {exc}") from exc
                    raise
            finally:
                self._depth = 0

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            # The transaction may already be gone (SQLite rolled it back); nothing to undo.
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _migrate(self) -> None:
        conn = self._conn
        with self.transaction():
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            applied = int(
                conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0
            )
            if applied > migrations.LATEST_VERSION:
                raise StoreError(
                    f"the store {self.path} has schema version {applied}, newer than this "
                    f"Storyline understands ({migrations.LATEST_VERSION}); upgrade Storyline "
                    "to open it"
                )
            for migration in migrations.pending(applied):
                script = migration.sql.get(DIALECT)
                if script is None:
                    raise StoreError(f"migration {migration.version} has no {DIALECT} SQL")
                for statement in migrations.statements(script):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, now_utc()),
                )

    # -- documents -----------------------------------------------------------
    def has_article(self, article_id: str) -> bool:
        return self._read(
            lambda c: (
                c.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone()
                is not None
            )
        )

    def find_by_content_hash(self, content_hash: str) -> str | None:
        if not content_hash:
            return None
        row = self._read(
            lambda c: c.execute(
                "SELECT id FROM articles WHERE content_hash = ? AND duplicate_of IS NULL "
                "ORDER BY num LIMIT 1",
                (content_hash,),
            ).fetchone()
        )
        return row["id"] if row else None

    def find_by_canonical_url(self, canonical_url: str) -> str | None:
        if not canonical_url:
            return None
        row = self._read(
            lambda c: c.execute(
                "SELECT id FROM articles WHERE canonical_url = ? "
                "ORDER BY duplicate_of IS NOT NULL, num LIMIT 1",
                (canonical_url,),
            ).fetchone()
        )
        return row["id"] if row else None

    def add_article(
        self,
        article: Article,
        story_id: str | None,
        features: dict[str, Any] | None = None,
    ) -> None:
        ingested_at = now_utc()
        key = sort_key(article.published, ingested_at)
        with self._writing() as conn:
            if conn.execute("SELECT 1 FROM articles WHERE id = ?", (article.id,)).fetchone():
                raise StoreError(f"article {article.id} is already stored")
            conn.execute(
                "INSERT INTO articles (id, source, url, canonical_url, title, body, outlet, "
                "published, sort_key, authors, wire_agencies, language, content_hash, "
                "duplicate_of, removed, ingested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article.id,
                    article.source,
                    article.url,
                    article.canonical_url,
                    article.title,
                    article.body,
                    article.outlet,
                    article.published,
                    key,
                    _dumps(list(article.authors)),
                    _dumps(list(article.wire_agencies)),
                    article.language,
                    article.content_hash,
                    article.duplicate_of,
                    _dumps([{"text": b.text, "reason": b.reason} for b in article.removed]),
                    ingested_at,
                ),
            )
            if features is not None:
                conn.execute(
                    "INSERT INTO article_features(article_id, data) VALUES (?, ?)",
                    (article.id, _dumps(features)),
                )
            if story_id is not None:
                if not conn.execute("SELECT 1 FROM stories WHERE id = ?", (story_id,)).fetchone():
                    raise StoreError(f"cannot link article {article.id}: no story {story_id}")
                conn.execute(
                    "INSERT INTO story_articles(article_id, story_id) VALUES (?, ?)",
                    (article.id, story_id),
                )
                counts = 0 if article.duplicate_of else 1
                # Incremental: O(1) per article however large the story grows;
                # check() verifies it against a full recount.
                conn.execute(
                    "UPDATE stories SET "
                    " first_seen = CASE WHEN first_seen IS NULL OR ?1 < first_seen"
                    "              THEN ?1 ELSE first_seen END,"
                    " last_seen = CASE WHEN last_seen IS NULL OR ?1 > last_seen"
                    "             THEN ?1 ELSE last_seen END,"
                    " article_count = article_count + ?2,"
                    " updated_at = ?3 "
                    "WHERE id = ?4",
                    (key, counts, ingested_at, story_id),
                )

    def get_article(self, article_id: str) -> Article | None:
        row = self._read(
            lambda c: c.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
        )
        return _article_from_row(row) if row else None

    def article_story_id(self, article_id: str) -> str | None:
        row = self._read(
            lambda c: c.execute(
                "SELECT story_id FROM story_articles WHERE article_id = ?", (article_id,)
            ).fetchone()
        )
        return row["story_id"] if row else None

    def count_articles(self) -> int:
        return self._read(lambda c: int(c.execute("SELECT COUNT(*) FROM articles").fetchone()[0]))

    def get_features(self, article_id: str) -> dict[str, Any] | None:
        """The link features stored with an article, if any."""
        row = self._read(
            lambda c: c.execute(
                "SELECT data FROM article_features WHERE article_id = ?", (article_id,)
            ).fetchone()
        )
        return json.loads(row["data"]) if row else None

    # -- analysis --------------------------------------------------------------
    def put_analysis(self, article_id: str, kind: str, data: Any) -> None:
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO analysis(article_id, kind, data) VALUES (?, ?, ?) "
                "ON CONFLICT(article_id, kind) DO UPDATE SET data = excluded.data",
                (article_id, kind, _dumps(data)),
            )

    def get_analysis(self, article_id: str, kind: str) -> Any | None:
        row = self._read(
            lambda c: c.execute(
                "SELECT data FROM analysis WHERE article_id = ? AND kind = ?", (article_id, kind)
            ).fetchone()
        )
        return json.loads(row["data"]) if row else None

    # -- stories ---------------------------------------------------------------
    def create_story(self, story_id: str, title: str, method: str) -> None:
        at = now_utc()
        with self._writing() as conn:
            if conn.execute("SELECT 1 FROM stories WHERE id = ?", (story_id,)).fetchone():
                raise StoreError(f"story {story_id} already exists")
            conn.execute(
                "INSERT INTO stories(id, title, similarity_method, first_seen, last_seen, "
                "article_count, created_at, updated_at) VALUES (?, ?, ?, NULL, NULL, 0, ?, ?)",
                (story_id, title, method, at, at),
            )

    def candidate_stories(
        self, around: str | None, window_days: float, limit: int = 500
    ) -> list[StoryCandidate]:
        centre = as_datetime(around)

        def load(c: sqlite3.Connection) -> list[StoryCandidate]:
            if centre is None:
                rows = c.execute(
                    "SELECT id, title, first_seen, last_seen, article_count FROM stories "
                    "ORDER BY updated_at DESC LIMIT ?",
                    (limit,),
                ).fetchall()
            else:
                if centre.tzinfo is not None:
                    naive = centre.astimezone(UTC).replace(tzinfo=None)
                else:
                    naive = centre
                span = timedelta(days=max(window_days, 0.0))
                # Day-granular bounds, widened to whole days: a story known only
                # by its date ("2021-12-28") overlaps any time on that day.
                low = (naive - span).date().isoformat()
                high = (naive + span).date().isoformat() + "T99"
                # The range on last_seen walks the stories_last_seen index.
                rows = c.execute(
                    "SELECT id, title, first_seen, last_seen, article_count FROM stories "
                    "WHERE last_seen >= ? AND first_seen <= ? "
                    "ORDER BY last_seen DESC LIMIT ?",
                    (low, high, limit),
                ).fetchall()
            candidates = {
                r["id"]: StoryCandidate(
                    id=r["id"],
                    title=r["title"],
                    first_seen=r["first_seen"],
                    last_seen=r["last_seen"],
                    article_count=r["article_count"],
                )
                for r in rows
            }
            if candidates:
                feature_rows = c.execute(
                    "SELECT sa.story_id, f.data FROM story_articles sa "
                    "JOIN article_features f ON f.article_id = sa.article_id "
                    "JOIN articles a ON a.id = sa.article_id "
                    "WHERE sa.story_id IN (SELECT value FROM json_each(?)) "
                    "ORDER BY a.sort_key, a.num",
                    (_dumps(list(candidates)),),
                ).fetchall()
                for fr in feature_rows:
                    candidates[fr["story_id"]].features.append(json.loads(fr["data"]))
            return list(candidates.values())

        return self._read(load)

    # -- the global stage's memory ---------------------------------------------
    @staticmethod
    def _candidates(rows: list[sqlite3.Row]) -> list[StoryCandidate]:
        return [
            StoryCandidate(
                id=r["id"],
                title=r["title"],
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
                article_count=r["article_count"],
            )
            for r in rows
        ]

    def stories_between(self, low: str, high: str) -> list[StoryCandidate]:
        return self._read(
            lambda c: self._candidates(
                c.execute(
                    "SELECT id, title, first_seen, last_seen, article_count FROM stories "
                    "WHERE last_seen >= ? AND first_seen <= ?",
                    (low, high),
                ).fetchall()
            )
        )

    def recent_stories(self, limit: int) -> list[StoryCandidate]:
        return self._read(
            lambda c: self._candidates(
                c.execute(
                    "SELECT id, title, first_seen, last_seen, article_count FROM stories "
                    "ORDER BY updated_at DESC, id LIMIT ?",
                    (limit,),
                ).fetchall()
            )
        )

    def stories_by_id(self, story_ids: Sequence[str]) -> list[StoryCandidate]:
        if not story_ids:
            return []
        return self._read(
            lambda c: self._candidates(
                c.execute(
                    "SELECT id, title, first_seen, last_seen, article_count FROM stories "
                    "WHERE id IN (SELECT value FROM json_each(?))",
                    (_dumps(list(story_ids)),),
                ).fetchall()
            )
        )

    def story_features(self, story_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {s: [] for s in story_ids}
        if not story_ids:
            return found
        rows = self._read(
            lambda c: c.execute(
                "SELECT sa.story_id, f.data FROM story_articles sa "
                "JOIN article_features f ON f.article_id = sa.article_id "
                "JOIN articles a ON a.id = sa.article_id "
                "WHERE sa.story_id IN (SELECT value FROM json_each(?)) ORDER BY a.num",
                (_dumps(list(story_ids)),),
            ).fetchall()
        )
        for r in rows:
            found[r["story_id"]].append(json.loads(r["data"]))
        return found

    def link_state(self, name: str) -> int | None:
        row = self._read(
            lambda c: c.execute("SELECT value FROM link_state WHERE name = ?", (name,)).fetchone()
        )
        return int(row["value"]) if row else None

    def set_link_state(self, name: str, value: int) -> None:
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO link_state(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, int(value)),
            )

    def add_band_keys(self, article_id: str, signature: Sequence[int], keys: Sequence[str]) -> None:
        if not keys:
            return
        with self._writing() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO article_signatures(article_id, signature) VALUES (?, ?)",
                (article_id, _signature_bytes(signature)),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO lsh_bands(band_key, article_id) VALUES (?, ?)",
                [(k, article_id) for k in keys],
            )

    def band_key_matches(
        self, keys: Sequence[str], limit: int = 100
    ) -> list[tuple[str, str, str | None, list[int]]]:
        if not keys:
            return []
        rows = self._read(
            lambda c: c.execute(
                "SELECT a.id, sa.story_id, a.outlet, s.signature FROM "
                " (SELECT article_id, COUNT(*) AS shared FROM lsh_bands"
                "  WHERE band_key IN (SELECT value FROM json_each(?)) GROUP BY article_id) m "
                "JOIN articles a ON a.id = m.article_id "
                "JOIN story_articles sa ON sa.article_id = a.id "
                "JOIN article_signatures s ON s.article_id = a.id "
                "ORDER BY m.shared DESC, a.num LIMIT ?",
                (_dumps(list(keys)), limit),
            ).fetchall()
        )
        return [
            (r["id"], r["story_id"], r["outlet"], _signature_values(r["signature"])) for r in rows
        ]

    def add_link_terms(
        self, terms: dict[str, dict[str, int]], documents: int = 1
    ) -> tuple[int, int]:
        with self._writing() as conn:
            for kind in sorted(terms):
                conn.executemany(
                    "INSERT INTO link_terms(kind, term, df) VALUES (?, ?, ?) "
                    "ON CONFLICT(kind, term) DO UPDATE SET df = df + excluded.df",
                    [(kind, t, n) for t, n in sorted(terms[kind].items())],
                )
            conn.execute(
                "INSERT INTO link_state(name, value) VALUES ('documents', ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (documents,),
            )
            rows = dict(
                conn.execute(
                    "SELECT name, value FROM link_state "
                    "WHERE name IN ('documents', 'checkpoint_documents')"
                ).fetchall()
            )
        return int(rows.get("documents", 0)), int(rows.get("checkpoint_documents", 0))

    def checkpoint_link_terms(self) -> int:
        with self._writing() as conn:
            conn.execute("UPDATE link_terms SET df_checkpoint = df WHERE df_checkpoint <> df")
            conn.execute(
                "INSERT INTO link_state(name, value) SELECT 'checkpoint_documents', "
                "COALESCE((SELECT value FROM link_state WHERE name = 'documents'), 0) "
                "WHERE true ON CONFLICT(name) DO UPDATE SET value = excluded.value"
            )
            row = conn.execute(
                "SELECT value FROM link_state WHERE name = 'checkpoint_documents'"
            ).fetchone()
        return int(row[0]) if row else 0

    def load_link_terms(self) -> LinkTermStats:
        def load(c: sqlite3.Connection) -> LinkTermStats:
            state = dict(c.execute("SELECT name, value FROM link_state").fetchall())
            stats = LinkTermStats(
                int(state.get("documents", 0)), int(state.get("checkpoint_documents", 0))
            )
            for kind, term, df, df_checkpoint in c.execute(
                "SELECT kind, term, df, df_checkpoint FROM link_terms"
            ):
                stats.df.setdefault(kind, {})[term] = (df, df_checkpoint)
            return stats

        return self._read(load)

    def iter_link_features(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        last = -1
        while True:
            rows = self._read(
                lambda c, after=last: c.execute(
                    "SELECT a.num, a.id, sa.story_id, f.data FROM articles a "
                    "JOIN story_articles sa ON sa.article_id = a.id "
                    "JOIN article_features f ON f.article_id = a.id "
                    "WHERE a.num > ? ORDER BY a.num LIMIT 2000",
                    (after,),
                ).fetchall()
            )
            if not rows:
                return
            for r in rows:
                yield r["id"], r["story_id"], json.loads(r["data"])
            last = rows[-1]["num"]

    def list_stories(self, limit: int = 50, offset: int = 0) -> list[StorySummary]:
        def load(c: sqlite3.Connection) -> list[StorySummary]:
            rows = c.execute(
                "SELECT id, title, first_seen, last_seen, article_count FROM stories "
                "ORDER BY updated_at DESC, id LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
            return self._summaries(c, rows)

        return self._read(load)

    def _summaries(
        self, c: sqlite3.Connection, rows: Sequence[sqlite3.Row]
    ) -> list[StorySummary]:
        """Story-list rows (id, title, first_seen, last_seen, article_count) with outlets."""
        outlets = self._outlets_by_story(c, [r["id"] for r in rows])
        return [
            StorySummary(
                id=r["id"],
                title=r["title"],
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
                article_count=r["article_count"],
                outlets=outlets.get(r["id"], []),
            )
            for r in rows
        ]

    @staticmethod
    def _outlets_by_story(c: sqlite3.Connection, story_ids: list[str]) -> dict[str, list[str]]:
        """Each story's outlets, the most frequent first."""
        if not story_ids:
            return {}
        counts: dict[str, Counter[str]] = {}
        for row in c.execute(
            "SELECT sa.story_id, a.outlet FROM story_articles sa "
            "JOIN articles a ON a.id = sa.article_id "
            "WHERE sa.story_id IN (SELECT value FROM json_each(?)) AND a.outlet IS NOT NULL",
            (_dumps(story_ids),),
        ):
            counts.setdefault(row["story_id"], Counter())[row["outlet"]] += 1
        return {
            sid: [o for o, _ in sorted(cnt.items(), key=lambda item: (-item[1], item[0]))]
            for sid, cnt in counts.items()
        }

    def count_stories(self) -> int:
        return self._read(lambda c: int(c.execute("SELECT COUNT(*) FROM stories").fetchone()[0]))

    def find_stories(
        self, query: StoryQuery, limit: int = 50, offset: int = 0
    ) -> list[StorySummary]:
        text = (query.text or "").strip()
        phrase = " ".join((query.phrase or "").split())
        where: list[str] = []
        params: list[Any] = []
        if query.entity and query.entity.strip():
            # The names the articles' "people" analyses found (migration 2), compared
            # through the very expression that made the stored keys.
            key = migrations.SQLITE_NAME_KEY.format("value")
            where.append(
                "s.id IN (SELECT sa.story_id FROM article_names n "
                "JOIN story_articles sa ON sa.article_id = n.article_id "
                f"WHERE n.name_key IN (SELECT {key} FROM json_each(?)))"
            )
            params.append(_dumps(name_variants(query.entity)))
        if query.outlet:
            where.append(
                "EXISTS (SELECT 1 FROM story_articles sa JOIN articles a ON a.id = sa.article_id "
                "WHERE sa.story_id = s.id AND a.outlet = ?)"
            )
            params.append(query.outlet)
        if query.language:
            where.append(
                "EXISTS (SELECT 1 FROM story_articles sa JOIN articles a ON a.id = sa.article_id "
                "WHERE sa.story_id = s.id AND a.language = ?)"
            )
            params.append(query.language)
        if query.since:
            where.append("s.last_seen >= ?")
            params.append(query.since[:10])
        if query.until:
            where.append("s.first_seen <= ?")
            params.append(query.until[:10] + "T99")  # the whole day: times sort after the date
        filters = (" AND " + " AND ".join(where)) if where else ""

        def fts_expression(text_part: str) -> str:
            parts = [f"({text_part})"] if text_part else []
            if phrase:
                parts.append('"' + phrase.replace('"', '""') + '"')
            return " AND ".join(parts)

        def select(c: sqlite3.Connection, match: str | None) -> list[sqlite3.Row]:
            if match is None:
                return c.execute(
                    "SELECT s.id, s.title, s.first_seen, s.last_seen, s.article_count "
                    f"FROM stories s WHERE 1 = 1{filters} "
                    "ORDER BY s.updated_at DESC, s.id LIMIT ? OFFSET ?",
                    (*params, limit, offset),
                ).fetchall()
            if query.order != "relevance":
                return c.execute(
                    "WITH hits AS (SELECT DISTINCT sa.story_id FROM articles_fts f "
                    " JOIN articles a ON a.num = f.rowid "
                    " JOIN story_articles sa ON sa.article_id = a.id "
                    " WHERE articles_fts MATCH ?) "
                    "SELECT s.id, s.title, s.first_seen, s.last_seen, s.article_count "
                    f"FROM hits JOIN stories s ON s.id = hits.story_id WHERE 1 = 1{filters} "
                    "ORDER BY s.updated_at DESC, s.id LIMIT ? OFFSET ?",
                    (match, *params, limit, offset),
                ).fetchall()

            def ranked(cap: int) -> list[sqlite3.Row]:
                # A story ranks by its best article (bm25 is lower-is-better; titles
                # weigh 10x) among the newest SEARCH_CANDIDATES matching articles:
                # bm25() costs per match, so a query matching everything stays bounded.
                return c.execute(
                    f"WITH matches AS MATERIALIZED ({_RANKED_MATCHES}), "
                    "hits AS (SELECT sa.story_id, MIN(m.score) AS score FROM matches m "
                    " JOIN articles a ON a.num = m.num "
                    " JOIN story_articles sa ON sa.article_id = a.id GROUP BY sa.story_id) "
                    "SELECT s.id, s.title, s.first_seen, s.last_seen, s.article_count "
                    f"FROM hits JOIN stories s ON s.id = hits.story_id WHERE 1 = 1{filters} "
                    "ORDER BY hits.score, s.updated_at DESC, s.id LIMIT ? OFFSET ?",
                    (match, SEARCH_CANDIDATES, cap, *params, limit, offset),
                ).fetchall()

            # Only the best articles need joining: the first `offset + limit` stories
            # among the top-ranked articles are the overall first ones (each story
            # ranks by its best article).  A short page means the cap cut stories
            # off (or filters dropped them): then join every ranked match.
            if not where:
                rows = ranked((offset + limit) * 8)
                if len(rows) == limit:
                    return rows
            return ranked(-1)  # LIMIT -1: no cap

        def load(c: sqlite3.Connection) -> list[StorySummary]:
            if not text and not phrase:
                rows = select(c, None)
            else:
                try:
                    rows = select(c, fts_expression(text))
                except sqlite3.OperationalError as exc:
                    if _is_busy(exc):
                        raise
                    # FTS syntax error: the query's words, all of them, else any.
                    words = _words(text)
                    rows = []
                    if words or phrase:
                        rows = select(c, fts_expression(_fts_quoted(words, "AND")))
                        if not rows and len(words) > 1:
                            rows = select(c, fts_expression(_fts_quoted(words, "OR")))
            return self._summaries(c, rows)

        if limit <= 0:
            return []
        return self._read(load)

    def story_facets(self) -> StoryFacets:
        def load(c: sqlite3.Connection) -> StoryFacets:
            facets = StoryFacets()
            for column, target in (("outlet", facets.outlets), ("language", facets.languages)):
                target.extend(
                    (r[0], int(r[1]))
                    for r in c.execute(
                        f"SELECT {column}, COUNT(*) AS n FROM articles "
                        f"WHERE {column} IS NOT NULL AND {column} != '' "
                        f"AND duplicate_of IS NULL GROUP BY {column} ORDER BY n DESC, {column}"
                    )
                )
            span = c.execute("SELECT MIN(first_seen), MAX(last_seen) FROM stories").fetchone()
            facets.first_seen, facets.last_seen = span[0], span[1]
            return facets

        return self._read(load)

    def story_updated_at(self, story_ids: Sequence[str]) -> dict[str, str]:
        if not story_ids:
            return {}
        rows = self._read(
            lambda c: c.execute(
                "SELECT id, updated_at FROM stories WHERE id IN (SELECT value FROM json_each(?))",
                (_dumps(list(story_ids)),),
            ).fetchall()
        )
        return {r["id"]: r["updated_at"] for r in rows}

    def _resolve_story_id(self, c: sqlite3.Connection, story_id: str) -> str | None:
        """The live story id for an id, a redirected id, or a unique prefix of either."""
        if not story_id:
            return None
        if c.execute("SELECT 1 FROM stories WHERE id = ?", (story_id,)).fetchone():
            return story_id
        target = self._follow_redirects(c, story_id)
        if target is not None:
            return target
        # A prefix: a range scan on the primary keys (no LIKE: its wildcards and
        # case folding would defeat the index and misread "_" and "%").
        high = story_id + "\U0010ffff"
        matches = {
            r[0]
            for r in c.execute(
                "SELECT id FROM stories WHERE id >= ? AND id < ? LIMIT 50", (story_id, high)
            )
        }
        for r in c.execute(
            "SELECT old_id FROM story_redirects WHERE old_id >= ? AND old_id < ? LIMIT 50",
            (story_id, high),
        ):
            resolved = self._follow_redirects(c, r[0])
            if resolved is not None:
                matches.add(resolved)
        if len(matches) > 1:
            shown = ", ".join(sorted(matches)[:5])
            raise StoreError(
                f"story id prefix {story_id!r} is ambiguous: it matches {shown}"
                + (" …" if len(matches) > 5 else "")
            )
        return next(iter(matches), None)

    @staticmethod
    def _follow_redirects(c: sqlite3.Connection, story_id: str) -> str | None:
        current = story_id
        for _ in range(_MAX_REDIRECT_HOPS):
            row = c.execute(
                "SELECT new_id FROM story_redirects WHERE old_id = ?", (current,)
            ).fetchone()
            if row is None:
                break
            current = row[0]
        else:
            raise StoreError(f"story redirects from {story_id} form a loop")
        if current == story_id:
            return None
        if c.execute("SELECT 1 FROM stories WHERE id = ?", (current,)).fetchone():
            return current
        return None

    def get_story(self, story_id: str) -> Story | None:
        def load(c: sqlite3.Connection) -> Story | None:
            resolved = self._resolve_story_id(c, story_id)
            if resolved is None:
                return None
            return self._load_stories(c, [resolved])[0]

        return self._read(load)

    def _load_stories(self, c: sqlite3.Connection, ids: list[str]) -> list[Story]:
        ids_json = _dumps(ids)
        stories = {
            r["id"]: Story(
                id=r["id"],
                title=r["title"],
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
                similarity_method=r["similarity_method"],
            )
            for r in c.execute(
                "SELECT id, title, first_seen, last_seen, similarity_method FROM stories "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (ids_json,),
            )
        }
        columns = ", ".join(f"a.{col.strip()}" for col in _ARTICLE_COLUMNS.split(","))
        for row in c.execute(
            f"SELECT sa.story_id, {columns} FROM story_articles sa "
            "JOIN articles a ON a.id = sa.article_id "
            "WHERE sa.story_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY a.sort_key, a.ingested_at, a.num",
            (ids_json,),
        ):
            stories[row["story_id"]].articles.append(_article_from_row(row))
        return [stories[sid] for sid in ids if sid in stories]

    def iter_stories(self) -> Iterator[Story]:
        # Ids first, then batches: the lock is never held while the caller
        # consumes the iterator.
        story_ids: list[str] = self._read(
            lambda c: [r[0] for r in c.execute("SELECT id FROM stories ORDER BY first_seen, id")]
        )
        for start in range(0, len(story_ids), _BATCH):
            batch = story_ids[start : start + _BATCH]
            yield from self._read(partial(self._load_stories, ids=batch))

    def merge_stories(self, from_id: str, into_id: str, reason: str) -> None:
        """Move every article of `from_id` into `into_id`, delete `from_id`, redirect it."""
        if from_id == into_id:
            raise StoreError("cannot merge a story into itself")
        at = now_utc()
        with self._writing() as conn:
            for sid in (from_id, into_id):
                if not conn.execute("SELECT 1 FROM stories WHERE id = ?", (sid,)).fetchone():
                    raise StoreError(f"cannot merge: no story {sid}")
            conn.execute(
                "UPDATE story_articles SET story_id = ? WHERE story_id = ?", (into_id, from_id)
            )
            conn.execute("DELETE FROM stories WHERE id = ?", (from_id,))
            # Old ids that led to `from_id` now lead straight to `into_id`.
            conn.execute(
                "UPDATE story_redirects SET new_id = ? WHERE new_id = ?", (into_id, from_id)
            )
            conn.execute(
                "INSERT INTO story_redirects(old_id, new_id, reason, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(old_id) DO UPDATE SET new_id = excluded.new_id, "
                "reason = excluded.reason, at = excluded.at",
                (from_id, into_id, reason, at),
            )
            self._recount_story(conn, into_id, at)

    @staticmethod
    def _recount_story(conn: sqlite3.Connection, story_id: str, at: str) -> None:
        conn.execute(
            "UPDATE stories SET "
            " first_seen = (SELECT MIN(a.sort_key) FROM story_articles sa"
            "               JOIN articles a ON a.id = sa.article_id WHERE sa.story_id = ?1),"
            " last_seen = (SELECT MAX(a.sort_key) FROM story_articles sa"
            "              JOIN articles a ON a.id = sa.article_id WHERE sa.story_id = ?1),"
            " article_count = (SELECT COUNT(*) FROM story_articles sa"
            "                  JOIN articles a ON a.id = sa.article_id"
            "                  WHERE sa.story_id = ?1 AND a.duplicate_of IS NULL),"
            " updated_at = ?2 "
            "WHERE id = ?1",
            (story_id, at),
        )

    # -- search ------------------------------------------------------------------
    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        query = (query or "").strip()
        if not query or limit <= 0:
            return []
        # Title matches weigh 10x body matches; bm25() is lower-is-better.  Rank
        # first (bounded, see _RANKED_MATCHES), then make snippets for the page of
        # hits only: the sorter would otherwise build one for every match.
        sql = (
            f"WITH top AS MATERIALIZED ({_RANKED_MATCHES}) "
            "SELECT a.id, a.title, a.outlet, a.published, sa.story_id, "
            " snippet(articles_fts, 1, '', '', '…', 24) AS body_snippet, "
            " snippet(articles_fts, 0, '', '', '…', 24) AS title_snippet "
            "FROM top CROSS JOIN articles_fts ON articles_fts.rowid = top.num "
            "JOIN articles a ON a.num = top.num "
            "LEFT JOIN story_articles sa ON sa.article_id = a.id "
            "WHERE articles_fts MATCH ?1 "
            "ORDER BY top.score, top.num DESC"
        )

        def execute(c: sqlite3.Connection, match: str) -> list[sqlite3.Row]:
            return c.execute(sql, (match, SEARCH_CANDIDATES, limit)).fetchall()

        def run(c: sqlite3.Connection) -> list[sqlite3.Row]:
            try:
                return execute(c, query)
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    raise
                # FTS syntax error ("AND(", unbalanced quotes, "col:" ...):
                # search for the words themselves, all of them, else any.
                words = _words(query)
                if not words:
                    return []
                rows = execute(c, _fts_quoted(words, "AND"))
                if not rows and len(words) > 1:
                    rows = execute(c, _fts_quoted(words, "OR"))
                return rows

        rows = self._read(run)
        return [
            SearchHit(
                article_id=r["id"],
                story_id=r["story_id"],
                title=r["title"],
                outlet=r["outlet"],
                published=r["published"],
                snippet=" ".join((r["body_snippet"] or r["title_snippet"] or "").split()),
            )
            for r in rows
        ]

    # -- boilerplate memory --------------------------------------------------------
    def boilerplate_counts(self, outlet: str, line_hashes: Sequence[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(line_hashes))
        counts = dict.fromkeys(wanted, 0)
        if not wanted:
            return counts
        rows = self._read(
            lambda c: c.execute(
                "SELECT line_hash, article_count FROM boilerplate_lines "
                "WHERE outlet = ? AND line_hash IN (SELECT value FROM json_each(?))",
                (outlet, _dumps(wanted)),
            ).fetchall()
        )
        for r in rows:
            counts[r["line_hash"]] = r["article_count"]
        return counts

    def add_boilerplate_lines(self, outlet: str, line_hashes: Sequence[str]) -> None:
        # One article counts once per line, however often the line repeats in it.
        distinct = list(dict.fromkeys(line_hashes))
        if not distinct:
            return
        with self._writing() as conn:
            conn.executemany(
                "INSERT INTO boilerplate_lines(outlet, line_hash, article_count) VALUES (?, ?, 1) "
                "ON CONFLICT(outlet, line_hash) DO UPDATE SET article_count = article_count + 1",
                [(outlet, h) for h in distinct],
            )

    # -- failures ------------------------------------------------------------------
    def record_failure(self, source: str, stage: str, reason: str) -> None:
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO ingest_errors(source, stage, reason, at) VALUES (?, ?, ?, ?)",
                (source, stage, reason, now_utc()),
            )

    def recent_failures(self, limit: int = 50) -> list[IngestError]:
        rows = self._read(
            lambda c: c.execute(
                "SELECT source, stage, reason, at FROM ingest_errors ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [IngestError(r["source"], r["stage"], r["reason"], r["at"]) for r in rows]

    # -- integrity -------------------------------------------------------------------
    def check(self) -> list[str]:
        def run(c: sqlite3.Connection) -> list[str]:
            problems: list[str] = []
            integrity = [r[0] for r in c.execute("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                problems.extend(f"SQLite integrity: {line}" for line in integrity[:20])
            try:
                # rank 1: also compare the index with the external content table.
                c.execute(
                    "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"
                )
            except sqlite3.DatabaseError as exc:
                problems.append(f"full-text index out of sync with articles: {exc}")
            for r in c.execute("PRAGMA foreign_key_check"):
                problems.append(f"foreign key broken: {r[0]} row {r[1]} -> {r[2]}")

            def report(sql: str, message: Callable[[sqlite3.Row], str]) -> None:
                problems.extend(message(r) for r in c.execute(sql + " LIMIT 100"))

            report(
                "SELECT sa.article_id, sa.story_id FROM story_articles sa "
                "LEFT JOIN stories s ON s.id = sa.story_id WHERE s.id IS NULL",
                lambda r: f"orphaned story link: article {r[0]} -> missing story {r[1]}",
            )
            report(
                "SELECT sa.article_id, sa.story_id FROM story_articles sa "
                "LEFT JOIN articles a ON a.id = sa.article_id WHERE a.id IS NULL",
                lambda r: f"orphaned story link: missing article {r[0]} in story {r[1]}",
            )
            report(
                "SELECT s.id FROM stories s WHERE NOT EXISTS "
                "(SELECT 1 FROM story_articles sa WHERE sa.story_id = s.id)",
                lambda r: f"story {r[0]} has no articles",
            )
            report(
                "SELECT a.id FROM articles a WHERE a.duplicate_of IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM story_articles sa WHERE sa.article_id = a.id)",
                lambda r: f"article {r[0]} is not a duplicate but belongs to no story",
            )
            report(
                "SELECT a.id, a.duplicate_of FROM articles a WHERE a.duplicate_of IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM articles o WHERE o.id = a.duplicate_of)",
                lambda r: f"article {r[0]} is a duplicate of a missing article {r[1]}",
            )
            report(
                "SELECT s.id, s.article_count, s.first_seen, s.last_seen, "
                " COUNT(a.id) FILTER (WHERE a.duplicate_of IS NULL) AS n, "
                " MIN(a.sort_key) AS lo, MAX(a.sort_key) AS hi "
                "FROM stories s JOIN story_articles sa ON sa.story_id = s.id "
                "JOIN articles a ON a.id = sa.article_id GROUP BY s.id "
                "HAVING n != s.article_count OR lo IS NOT s.first_seen OR hi IS NOT s.last_seen",
                lambda r: (
                    f"story {r['id']} records {r['article_count']} articles, "
                    f"{r['first_seen']}..{r['last_seen']}; its links give {r['n']}, "
                    f"{r['lo']}..{r['hi']}"
                ),
            )
            report(
                "SELECT r.old_id, r.new_id FROM story_redirects r "
                "LEFT JOIN stories s ON s.id = r.new_id WHERE s.id IS NULL",
                lambda r: f"story redirect {r[0]} -> {r[1]} points to no story",
            )
            report(
                "SELECT r.old_id FROM story_redirects r JOIN stories s ON s.id = r.old_id",
                lambda r: f"story {r[0]} exists but is also redirected away",
            )
            # The near-duplicate index must only name stored articles (same transaction).
            for table in ("lsh_bands", "article_signatures"):
                report(
                    f"SELECT DISTINCT t.article_id FROM {table} t "
                    "LEFT JOIN articles a ON a.id = t.article_id WHERE a.id IS NULL",
                    lambda r, table=table: f"{table} names a missing article {r[0]}",
                )
            return problems

        # FTS5's integrity-check is written as an INSERT, so it needs the write
        # lock: take it (waiting politely for an ingest) for one consistent view.
        with self._writing() as conn:
            return run(conn)
