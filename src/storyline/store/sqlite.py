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
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from storyline.records import Article, SearchHit, StorySummary
from storyline.store import migrations
from storyline.store.base import (
    SEARCH_CANDIDATES,
    StoreError,
    StoryFacets,
    StoryQuery,
)
from storyline.store.sql import (
    ARTICLE_COLUMNS,
    ARTICLE_INSERT_COLUMNS,
    BACKOFF_START_S,
    SQLStore,
    article_values,
    backoff,
    name_variants,
    now_utc,
    query_words,
    search_hit,
    signature_bytes,
    sort_key,
)
from storyline.store.sql import dumps as _dumps

__all__ = ["SQLiteStore", "name_variants", "now_utc", "parse_sqlite_url", "sort_key"]

T = TypeVar("T")

DIALECT = "sqlite"
BUSY_TIMEOUT_MS = 5_000
MAX_BUSY_RETRIES = 8  # after the busy_timeout wait; back-off 0.05 s doubling to 2 s


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


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


class SQLiteStore(SQLStore):
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
        delay = BACKOFF_START_S
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
                delay = backoff(delay)
        raise AssertionError("unreachable")

    def _read(self, operation: Callable[[sqlite3.Connection], T], *, snapshot: bool = False) -> T:
        """Run a read under the lock; outside a transaction, retry it while busy.

        `snapshot` changes nothing here: nobody else writes through this
        connection while the lock is held.
        """
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

    def _write(self, operation: Callable[[sqlite3.Connection], T], doing: str) -> T:
        """`operation` inside `_writing()` (BEGIN IMMEDIATE already waits out busy writers)."""
        with self._writing() as conn:
            return operation(conn)

    # -- the dialect surface of SQLStore ----------------------------------------
    _DIALECT = DIALECT
    _IN_LIST = "IN (SELECT value FROM json_each(?))"
    _NULL_SAFE_NE = "IS NOT"
    _JSON = "?"
    _ARTICLE_SELECT = ", ".join(f"a.{col.strip()}" for col in ARTICLE_COLUMNS.split(","))

    @staticmethod
    def _sql(text: str) -> str:
        return text  # sqlite3 takes `?` itself

    @staticmethod
    def _list(values: Sequence[str]) -> str:
        return _dumps(list(values))

    @staticmethod
    def _from_json(value: str) -> Any:
        return json.loads(value)

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

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

        def run_script(script: str) -> None:
            for statement in migrations.statements(script):
                conn.execute(statement)

        with self.transaction():
            self._apply_migrations(conn, self.path, run_script)

    # -- documents -----------------------------------------------------------
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
                f"INSERT INTO articles ({ARTICLE_INSERT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                article_values(article, key, ingested_at),
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

    # -- analysis --------------------------------------------------------------
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

    # -- the global stage's memory ---------------------------------------------
    def add_band_keys(self, article_id: str, signature: Sequence[int], keys: Sequence[str]) -> None:
        if not keys:
            return
        with self._writing() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO article_signatures(article_id, signature) VALUES (?, ?)",
                (article_id, signature_bytes(signature)),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO lsh_bands(band_key, article_id) VALUES (?, ?)",
                [(k, article_id) for k in keys],
            )

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
                    words = query_words(text)
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

    @staticmethod
    def _lock_stories(c: sqlite3.Connection, story_ids: list[str]) -> set[str]:
        # Inside BEGIN IMMEDIATE no other writer runs: being there is enough.
        return {
            sid
            for sid in story_ids
            if c.execute("SELECT 1 FROM stories WHERE id = ?", (sid,)).fetchone()
        }

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
                words = query_words(query)
                if not words:
                    return []
                rows = execute(c, _fts_quoted(words, "AND"))
                if not rows and len(words) > 1:
                    rows = execute(c, _fts_quoted(words, "OR"))
                return rows

        rows = self._read(run)
        return [
            search_hit(r, " ".join((r["body_snippet"] or r["title_snippet"] or "").split()))
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

    def add_boilerplate_lines(self, outlet: str, line_hashes: Sequence[str]) -> dict[str, int]:
        # One article counts once per line, however often the line repeats in it.
        distinct = list(dict.fromkeys(line_hashes))
        if not distinct:
            return {}
        with self._writing() as conn:
            # "WHERE true": an upsert's SELECT needs a WHERE clause to parse unambiguously.
            rows = conn.execute(
                "INSERT INTO boilerplate_lines(outlet, line_hash, article_count) "
                "SELECT ?, value, 1 FROM json_each(?) WHERE true "
                "ON CONFLICT(outlet, line_hash) DO UPDATE SET article_count = article_count + 1 "
                "RETURNING line_hash, article_count",
                (outlet, _dumps(distinct)),
            ).fetchall()
        return {r["line_hash"]: r["article_count"] for r in rows}

    def known_boilerplate_lines(self, outlet: str, min_articles: int) -> frozenset[str]:
        indexed = migrations.known_lines_condition(min_articles)
        rows = self._read(
            lambda c: c.execute(
                "SELECT line_hash FROM boilerplate_lines "
                f"WHERE outlet = ? AND article_count >= ? {indexed}",
                (outlet, min_articles),
            ).fetchall()
        )
        return frozenset(r["line_hash"] for r in rows)

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
            problems.extend(self._link_problems(c))
            return problems

        # FTS5's integrity-check is written as an INSERT, so it needs the write
        # lock: take it (waiting politely for an ingest) for one consistent view.
        with self._writing() as conn:
            return run(conn)
