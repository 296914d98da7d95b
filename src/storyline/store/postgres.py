"""The PostgreSQL backend (psycopg 3): same interface, same migrations, same answers as SQLite.

Open it with `open_store("postgresql://user@host/db")` (also `postgres://`,
`postgresql+psycopg://`, or any libpq URL/keyword string after the scheme).

Connections
-----------
A small `psycopg_pool.ConnectionPool` per store (1..`pool_size`
connections).  The web app reads from several threads: with a pool they
read in parallel, and a reader never waits behind another thread's open
write transaction (SQLite's single connection and lock would serialise
them; PostgreSQL has no reason to).  A `transaction()` belongs to the
thread that opened it: it holds one pooled connection until it ends, and
every call from that thread inside it, reads included, goes through that
connection and so sees its own uncommitted writes; other threads see only
committed data.  Reads outside a transaction run in autocommit, or, when
they take several queries, in one REPEATABLE READ READ ONLY transaction
so they see one snapshot.

Concurrent writers (several ingest processes)
---------------------------------------------
* Identity is guarded by unique constraints, never by check-then-insert:
  `INSERT … ON CONFLICT DO NOTHING RETURNING` tells "already stored" apart
  without aborting the transaction, and waits for a concurrent insert of
  the same key to commit or roll back first.  No duplicates.
* Counters are single atomic statements under READ COMMITTED
  (`article_count = article_count + 1`, `LEAST`/`GREATEST` for the
  dates, `ON CONFLICT DO UPDATE` for boilerplate counts): PostgreSQL
  row-locks the story and re-evaluates the expression on the newest
  committed row, so two processes adding to one story lose no update.
  SERIALIZABLE would add aborts and buys nothing here.
* `merge_stories` locks both stories (`FOR UPDATE`, in id order) first, so
  an article added concurrently lands before the merge (and is moved) or
  finds its story gone (a clear StoreError), never an orphan link.
* Deadlocks / serialization failures / lock timeouts: every store method
  runs in its own savepoint (or transaction), so the failed statement
  alone is rolled back and retried with bounded, jittered exponential
  back-off (`max_retries`); after that a `TransientStoreError`.
* Migrations run in one transaction under a transaction-level advisory
  lock, so two processes opening a fresh database at once apply them once.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any, TypeVar

from storyline.records import Article, SearchHit, Story, StorySummary
from storyline.store import migrations
from storyline.store.base import (
    SEARCH_CANDIDATES,
    IngestError,
    StoreError,
    StoryFacets,
    StoryQuery,
)

# Shared with SQLite so that both backends compute identical values.
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

try:
    import psycopg
    from psycopg import sql as pgsql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise StoreError(
        "the PostgreSQL backend needs psycopg 3 and psycopg_pool: pip install 'storyline[postgres]'"
    ) from exc

T = TypeVar("T")

DIALECT = "postgresql"
TEXT_SEARCH_CONFIG = "storyline_text"  # created by migration 1
POOL_SIZE = 4
MAX_RETRIES = 6  # back-off 0.05 s doubling to 2 s
CONNECT_TIMEOUT_S = 10
# pg_advisory_xact_lock key for migrations: "Storylin" in ASCII, fixed forever.
_MIGRATION_LOCK = 0x53746F72796C696E
# pg_advisory_xact_lock(int4, int4) key space of has_article's claims: "Stor", fixed forever.
_ARTICLE_CLAIM_LOCK = 0x53746F72
# SQLSTATEs worth retrying: serialization_failure, deadlock_detected, lock_not_available.
_TRANSIENT = frozenset({"40001", "40P01", "55P03"})
# Title weight A = 1.0, body weight B = 0.1: titles count 10x, as bm25(10, 1) on SQLite.
_RANK_WEIGHTS = "{0.1, 0.1, 0.1, 1.0}"
# A contiguous excerpt of ~24 words (as SQLite's snippet), no markup around the matches.
_HEADLINE_OPTIONS = 'StartSel="", StopSel="", MaxWords=24, MinWords=12, ShortWord=0'
# Queries made only of words, "quoted phrases" and -exclusions are websearch syntax
# that means what it says; anything else that matches nothing is retried as words.
_CLEAN_QUERY = re.compile(r'\s*(?:-?(?:"[^"]*"|\w+)\s*)+', re.UNICODE)


class TransientStoreError(StoreError):
    """A write lost a deadlock or lock wait to another writer, even after retries."""


def normalise_url(url: str) -> str:
    """A libpq URL from ours: "postgresql+psycopg://…" (SQLAlchemy style) -> "postgresql://…"."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower().startswith("postgresql+"):
        return f"postgresql://{rest}"
    return url


def describe(url: str) -> str:
    """Where a URL points, without its password, for messages."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the given PostgreSQL URL"
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    return f"{params.get('dbname') or params.get('user') or '?'} on {host}:{port}"


def _with_ellipses(excerpt: str, text: str) -> str:
    """`excerpt` on one line, with "…" where it cuts `text` short (as SQLite's snippet)."""
    excerpt = " ".join(excerpt.split())
    if not excerpt:
        return ""
    whole = " ".join(text.split())
    return (
        ("" if whole.startswith(excerpt) else "…")
        + excerpt
        + ("" if whole.endswith(excerpt) else "…")
    )


class PostgresStore(SQLStore):
    """`Store` on PostgreSQL.  Open it with `open_store(url)` or `PostgresStore(url)`."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = POOL_SIZE,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        self.url = url
        self.max_retries = max_retries
        self._where = describe(normalise_url(url))
        conninfo = normalise_url(url)
        try:
            params = conninfo_to_dict(conninfo)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"bad PostgreSQL URL: {exc}") from exc
        params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
        self._conninfo = make_conninfo("", **params)
        self._local = threading.local()
        self._closed = False
        self._pid = os.getpid()
        # Migrate on a direct connection first: it gives a clear error when the
        # server is unreachable (a pool would only time out).
        try:
            with psycopg.connect(self._conninfo, autocommit=True, row_factory=dict_row) as conn:
                encoding = conn.info.parameter_status("server_encoding")
                if encoding and encoding.upper() not in ("UTF8", "UTF-8"):
                    raise StoreError(
                        f"the database {self._where} uses encoding {encoding}; "
                        "Storyline needs UTF8 (CREATE DATABASE … ENCODING 'UTF8')"
                    )
                self._migrate(conn)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL ({self._where}): {exc}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the PostgreSQL store {self._where}: {exc}") from exc
        self._pool = ConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=False,
            name="storyline",
            num_workers=1,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(f"cannot connect to PostgreSQL ({self._where}): {exc}") from exc

    # -- connection plumbing ---------------------------------------------------
    def _state(self) -> threading.local:
        local = self._local
        if not hasattr(local, "conn"):
            local.conn = None
            local.depth = 0
        return local

    def _check_usable(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")
        if os.getpid() != self._pid:
            # Sockets inherited through fork() are shared with the parent: unusable.
            raise StoreError("this store was opened in another process: open it again here")

    def _getconn(self) -> psycopg.Connection[Any]:
        self._check_usable()
        try:
            return self._pool.getconn()
        except PoolTimeout as exc:
            raise StoreError(f"no PostgreSQL connection available ({self._where}): {exc}") from exc

    def _putconn(self, conn: psycopg.Connection[Any]) -> None:
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with suppress(psycopg.Error):
                conn.execute("ROLLBACK")
        self._pool.putconn(conn)

    def _error(self, exc: psycopg.Error, doing: str) -> StoreError:
        if exc.sqlstate in _TRANSIENT:
            return TransientStoreError(f"{doing} conflicted with another writer: {exc}")
        if isinstance(exc, psycopg.IntegrityError):
            return StoreError(f"constraint violated: {exc}")
        if isinstance(exc, psycopg.OperationalError):
            return StoreError(f"lost the PostgreSQL connection ({self._where}): {exc}")
        return StoreError(f"PostgreSQL {doing} failed: {exc}")

    def _read(
        self, operation: Callable[[psycopg.Connection[Any]], T], *, snapshot: bool = False
    ) -> T:
        """Run a read: in this thread's transaction if one is open, else on a pooled connection.

        `snapshot` runs a multi-query read in one REPEATABLE READ snapshot.
        """
        state = self._state()
        if state.conn is not None:
            # A savepoint, so that a failed read does not abort the caller's transaction.
            with self.transaction():
                try:
                    return operation(state.conn)
                except psycopg.Error as exc:
                    raise self._error(exc, "read") from exc
        for attempt in range(2):
            conn = self._getconn()
            try:
                if snapshot:
                    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                result = operation(conn)
                if snapshot:
                    conn.execute("COMMIT")
                return result
            except psycopg.OperationalError as exc:
                if attempt == 0 and conn.closed:  # a dropped connection: one more try
                    continue
                raise self._error(exc, "read") from exc
            except psycopg.Error as exc:
                raise self._error(exc, "read") from exc
            finally:
                self._putconn(conn)
        raise AssertionError("unreachable")

    def _write(self, operation: Callable[[psycopg.Connection[Any]], T], doing: str) -> T:
        """Run a write in its own savepoint (or transaction), retrying transient conflicts."""
        delay = BACKOFF_START_S
        for attempt in range(self.max_retries + 1):
            try:
                with self.transaction():
                    try:
                        return operation(self._state().conn)
                    except psycopg.Error as exc:
                        raise self._error(exc, doing) from exc
            except TransientStoreError:
                if attempt == self.max_retries:
                    raise
            delay = backoff(delay)
        raise AssertionError("unreachable")

    # -- the dialect surface of SQLStore ----------------------------------------------
    _DIALECT = DIALECT
    _IN_LIST = "= ANY(?)"
    _NULL_SAFE_NE = "IS DISTINCT FROM"
    _JSON = "?::jsonb"
    _ARTICLE_SELECT = ", ".join(  # JSON columns as text, as SQLite returns them
        f"a.{c}::text AS {c}" if c in ("authors", "wire_agencies", "removed") else f"a.{c}"
        for c in (col.strip() for col in ARTICLE_COLUMNS.split(","))
    )

    @staticmethod
    def _sql(text: str) -> str:
        return _pyformat(text)

    @staticmethod
    def _list(values: Sequence[str]) -> list[str]:
        return list(values)

    @staticmethod
    def _from_json(value: Any) -> Any:
        return value  # psycopg decodes jsonb itself

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if os.getpid() == self._pid:
                self._pool.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT on this thread's connection; nested calls are savepoints in it."""
        state = self._state()
        if state.conn is not None:
            conn = state.conn
            name = f"sp{state.depth}"
            try:
                conn.execute(f"SAVEPOINT {name}")
            except psycopg.Error as exc:
                raise self._error(exc, "savepoint") from exc
            state.depth += 1
            try:
                yield
            except BaseException:
                with suppress(psycopg.Error):
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            else:
                try:
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                except psycopg.Error as exc:
                    raise self._error(exc, "savepoint release") from exc
            finally:
                state.depth -= 1
            return

        conn = self._getconn()
        try:
            conn.execute("BEGIN")
        except psycopg.Error as exc:
            self._putconn(conn)
            raise self._error(exc, "BEGIN") from exc
        state.conn, state.depth = conn, 1
        try:
            yield
            try:
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                raise self._error(exc, "commit") from exc
        finally:
            state.conn, state.depth = None, 0
            self._putconn(conn)  # rolls back whatever did not commit

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                # No parameters: psycopg sends a whole script in one simple query.
                self._apply_migrations(
                    conn, self._where, lambda script: conn.execute(script.encode())
                )
        except psycopg.Error as exc:
            raise StoreError(f"migrating the PostgreSQL store {self._where} failed: {exc}") from exc

    # -- documents -----------------------------------------------------------------
    def has_article(self, article_id: str) -> bool:
        """Whether the article is stored; inside a write transaction it also claims the id.

        SQLite's BEGIN IMMEDIATE serialises writers, so "not stored yet" stays true
        until the writer commits.  Under READ COMMITTED another process may be
        storing the same document right now; its row is invisible until it commits,
        and our insert would then fail as "already stored".  A transaction-level
        advisory lock on the id makes the answer as final as on SQLite: a second
        writer of the same document waits here for the first to end, then sees it
        stored.  One id per transaction (the pipeline's), so no lock-order cycle.
        """

        def probe(c: psycopg.Connection[Any]) -> bool:
            if self._state().conn is not None:
                c.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    (_ARTICLE_CLAIM_LOCK, article_id),
                )
            return self._article_exists(c, article_id)

        return self._read(probe)

    def add_article(
        self,
        article: Article,
        story_id: str | None,
        features: dict[str, Any] | None = None,
    ) -> None:
        ingested_at = now_utc()
        key = sort_key(article.published, ingested_at)

        def write(conn: psycopg.Connection[Any]) -> None:
            inserted = conn.execute(
                f"INSERT INTO articles ({ARTICLE_INSERT_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, "
                "%s::jsonb, %s) ON CONFLICT (id) DO NOTHING RETURNING num",
                article_values(article, key, ingested_at),
            ).fetchone()
            if inserted is None:
                raise StoreError(f"article {article.id} is already stored")
            if features is not None:
                conn.execute(
                    "INSERT INTO article_features(article_id, data) VALUES (%s, %s::jsonb)",
                    (article.id, _dumps(features)),
                )
            if story_id is None:
                return
            # The UPDATE row-locks the story and adds to the newest committed
            # values: two writers on one story lose nothing.  Incremental, so
            # O(1) per article; check() verifies it against a full recount.
            updated = conn.execute(
                "UPDATE stories SET first_seen = LEAST(first_seen, %(key)s::text), "
                " last_seen = GREATEST(last_seen, %(key)s::text), "
                " article_count = article_count + %(counts)s, updated_at = %(at)s "
                "WHERE id = %(story)s RETURNING 1",
                {
                    "key": key,
                    "counts": 0 if article.duplicate_of else 1,
                    "at": ingested_at,
                    "story": story_id,
                },
            ).fetchone()
            if updated is None:
                raise StoreError(f"cannot link article {article.id}: no story {story_id}")
            conn.execute(
                "INSERT INTO story_articles(article_id, story_id) VALUES (%s, %s)",
                (article.id, story_id),
            )

        self._write(write, "adding an article")

    # -- analysis ----------------------------------------------------------------------
    # -- stories -----------------------------------------------------------------------
    def create_story(self, story_id: str, title: str, method: str) -> None:
        at = now_utc()

        def write(conn: psycopg.Connection[Any]) -> None:
            created = conn.execute(
                "INSERT INTO stories(id, title, similarity_method, first_seen, last_seen, "
                "article_count, created_at, updated_at) VALUES (%s, %s, %s, NULL, NULL, 0, %s, %s) "
                "ON CONFLICT (id) DO NOTHING RETURNING 1",
                (story_id, title, method, at, at),
            ).fetchone()
            if created is None:
                raise StoreError(f"story {story_id} already exists")

        self._write(write, "creating a story")

    # -- the global stage's memory -------------------------------------------------------
    def add_band_keys(self, article_id: str, signature: Sequence[int], keys: Sequence[str]) -> None:
        if not keys:
            return

        def write(c: psycopg.Connection[Any]) -> None:
            c.execute(
                "INSERT INTO article_signatures(article_id, signature) VALUES (%s, %s) "
                "ON CONFLICT (article_id) DO UPDATE SET signature = excluded.signature",
                (article_id, signature_bytes(signature)),
            )
            c.execute(
                "INSERT INTO lsh_bands(band_key, article_id) "
                "SELECT k, %s FROM unnest(%s::text[]) AS k ON CONFLICT DO NOTHING",
                (article_id, sorted(set(keys))),
            )

        self._write(write, "indexing band keys")

    def add_link_terms(
        self, terms: dict[str, dict[str, int]], documents: int = 1
    ) -> tuple[int, int]:
        def write(c: psycopg.Connection[Any]) -> tuple[int, int]:
            # The documents row first, then terms in key order: every writer takes
            # the locks in the same order, so two ingest processes never deadlock.
            c.execute(
                "INSERT INTO link_state(name, value) VALUES ('documents', %s) "
                "ON CONFLICT (name) DO UPDATE SET value = link_state.value + excluded.value",
                (documents,),
            )
            for kind in sorted(terms):
                items = sorted(terms[kind].items())
                if items:
                    c.execute(
                        "INSERT INTO link_terms(kind, term, df) "
                        "SELECT %s, t, n FROM unnest(%s::text[], %s::bigint[]) AS u(t, n) "
                        "ORDER BY t "
                        "ON CONFLICT (kind, term) DO UPDATE SET df = link_terms.df + excluded.df",
                        (kind, [_no_nul(t) for t, _ in items], [n for _, n in items]),
                    )
            rows = {
                r["name"]: int(r["value"])
                for r in c.execute(
                    "SELECT name, value FROM link_state "
                    "WHERE name IN ('documents', 'checkpoint_documents')"
                ).fetchall()
            }
            return rows.get("documents", 0), rows.get("checkpoint_documents", 0)

        return self._write(write, "counting link terms")

    def checkpoint_link_terms(self) -> int:
        def write(c: psycopg.Connection[Any]) -> int:
            c.execute("UPDATE link_terms SET df_checkpoint = df WHERE df_checkpoint <> df")
            row = c.execute(
                "INSERT INTO link_state(name, value) SELECT 'checkpoint_documents', "
                "COALESCE((SELECT value FROM link_state WHERE name = 'documents'), 0) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value RETURNING value"
            ).fetchone()
            return int(row["value"]) if row else 0

        return self._write(write, "checkpointing link terms")

    def find_stories(
        self, query: StoryQuery, limit: int = 50, offset: int = 0
    ) -> list[StorySummary]:
        if limit <= 0:
            return []
        text = (query.text or "").replace("\x00", "").strip()
        phrase = " ".join((query.phrase or "").replace("\x00", "").split())
        where: list[pgsql.Composable] = []
        params: dict[str, Any] = {"limit": limit, "offset": max(offset, 0)}
        if query.entity and query.entity.strip():
            # The names the articles' "people" analyses found (migration 2), compared
            # through the very function that made the stored keys.
            where.append(
                pgsql.SQL(
                    "s.id IN (SELECT sa.story_id FROM article_names n "
                    "JOIN story_articles sa ON sa.article_id = n.article_id WHERE n.name_key "
                    "IN (SELECT storyline_name_key(v) FROM unnest(%(names)s::text[]) AS v))"
                )
            )
            params["names"] = name_variants(query.entity.replace("\x00", ""))
        for column in ("outlet", "language"):
            value = getattr(query, column)
            if value:
                where.append(
                    pgsql.SQL(
                        "EXISTS (SELECT 1 FROM story_articles sa JOIN articles a "
                        "ON a.id = sa.article_id WHERE sa.story_id = s.id AND a.{} = %({})s)"
                    ).format(pgsql.Identifier(column), pgsql.SQL(column))
                )
                params[column] = value
        if query.since:
            where.append(pgsql.SQL("s.last_seen >= %(since)s"))
            params["since"] = query.since[:10]
        if query.until:
            where.append(pgsql.SQL("s.first_seen <= %(until)s"))
            params["until"] = query.until[:10] + "T99"  # the whole day: times sort after it
        filters = pgsql.SQL("").join(pgsql.SQL(" AND ") + w for w in where)
        config = pgsql.Literal(TEXT_SEARCH_CONFIG)

        def select(c: psycopg.Connection[Any], tsquery: pgsql.Composable | None) -> list[Any]:
            if tsquery is None:
                return c.execute(
                    pgsql.SQL(
                        "SELECT s.id, s.title, s.first_seen, s.last_seen, s.article_count "
                        "FROM stories s WHERE TRUE{} "
                        "ORDER BY s.updated_at DESC, s.id LIMIT %(limit)s OFFSET %(offset)s"
                    ).format(filters),
                    params,
                ).fetchall()
            if query.order != "relevance":
                return c.execute(
                    pgsql.SQL(
                        "WITH q AS (SELECT {} AS query), "
                        "hits AS (SELECT DISTINCT sa.story_id "
                        " FROM q JOIN articles a ON a.search_vector @@ q.query "
                        " JOIN story_articles sa ON sa.article_id = a.id) "
                        "SELECT s.id, s.title, s.first_seen, s.last_seen, s.article_count "
                        "FROM hits JOIN stories s ON s.id = hits.story_id WHERE TRUE{} "
                        "ORDER BY s.updated_at DESC, s.id LIMIT %(limit)s OFFSET %(offset)s"
                    ).format(tsquery, filters),
                    params,
                ).fetchall()
            # Best article per story among the newest SEARCH_CANDIDATES matching
            # articles (ts_rank_cd costs per match; see search()); titles weigh 10x.
            return c.execute(
                pgsql.SQL(
                    "WITH q AS (SELECT {} AS query), "
                    "matches AS MATERIALIZED (SELECT a.num FROM q JOIN articles a "
                    " ON a.search_vector @@ q.query ORDER BY a.num DESC LIMIT %(candidates)s), "
                    "hits AS (SELECT sa.story_id, "
                    " MAX(ts_rank_cd({}::float4[], a.search_vector, q.query)) AS score "
                    " FROM matches m JOIN articles a ON a.num = m.num CROSS JOIN q "
                    " JOIN story_articles sa ON sa.article_id = a.id GROUP BY sa.story_id) "
                    "SELECT s.id, s.title, s.first_seen, s.last_seen, s.article_count "
                    "FROM hits JOIN stories s ON s.id = hits.story_id WHERE TRUE{} "
                    "ORDER BY hits.score DESC, s.updated_at DESC, s.id "
                    "LIMIT %(limit)s OFFSET %(offset)s"
                ).format(tsquery, pgsql.Literal(_RANK_WEIGHTS), filters),
                {**params, "candidates": SEARCH_CANDIDATES},
            ).fetchall()

        def combined(words_query: pgsql.Composable | None) -> pgsql.Composable:
            parts = [words_query] if words_query is not None else []
            if phrase:
                parts.append(pgsql.SQL("phraseto_tsquery({}, %(phrase)s)").format(config))
            return pgsql.SQL(" && ").join(parts)

        def load(c: psycopg.Connection[Any]) -> list[StorySummary]:
            if phrase:
                params["phrase"] = phrase
            if not text and not phrase:
                rows = select(c, None)
            elif not text:
                rows = select(c, combined(None))
            else:
                params["text"] = text
                rows = []
                usable = _websearch_usable(c, text)
                if usable:
                    rows = select(
                        c,
                        combined(pgsql.SQL("websearch_to_tsquery({}, %(text)s)").format(config)),
                    )
                if not rows and not (usable and _CLEAN_QUERY.fullmatch(text)):
                    # The same fallback as search(): the words, all of them, else any.
                    words = query_words(text)
                    if words:
                        params["words"] = words
                        rows = select(c, combined(_words_tsquery(config, "&")))
                        if not rows and len(words) > 1:
                            rows = select(c, combined(_words_tsquery(config, "|")))
                    elif phrase:
                        rows = select(c, combined(None))
            return self._summaries(c, rows)

        return self._read(load, snapshot=True)

    def story_facets(self) -> StoryFacets:
        def load(c: psycopg.Connection[Any]) -> StoryFacets:
            facets = StoryFacets()
            for column, target in (("outlet", facets.outlets), ("language", facets.languages)):
                target.extend(
                    (r["value"], int(r["n"]))
                    for r in c.execute(
                        pgsql.SQL(
                            "SELECT {col} AS value, COUNT(*) AS n FROM articles "
                            "WHERE {col} IS NOT NULL AND {col} <> '' AND duplicate_of IS NULL "
                            'GROUP BY {col} ORDER BY n DESC, {col} COLLATE "C"'
                        ).format(col=pgsql.Identifier(column))
                    )
                )
            facets.first_seen = _scalar(c, "SELECT MIN(first_seen) FROM stories")
            facets.last_seen = _scalar(c, "SELECT MAX(last_seen) FROM stories")
            return facets

        return self._read(load, snapshot=True)

    # PostgreSQL refuses a negative LIMIT/OFFSET and NUL in text: clean what the
    # shared methods would pass on.
    def list_stories(self, limit: int = 50, offset: int = 0) -> list[StorySummary]:
        return super().list_stories(max(limit, 0), max(offset, 0))

    def get_story(self, story_id: str) -> Story | None:
        return super().get_story((story_id or "").replace("\x00", ""))

    @staticmethod
    def _lock_stories(c: psycopg.Connection[Any], story_ids: list[str]) -> set[str]:
        # FOR UPDATE, in a fixed order: concurrent merges/adds cannot deadlock on them.
        return {
            r["id"]
            for r in c.execute(
                "SELECT id FROM stories WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (story_ids,)
            )
        }

    @staticmethod
    def _recount_story(conn: psycopg.Connection[Any], story_id: str, at: str) -> None:
        conn.execute(
            "UPDATE stories s SET first_seen = agg.lo, last_seen = agg.hi, "
            " article_count = agg.n, updated_at = %(at)s "
            "FROM (SELECT MIN(a.sort_key) AS lo, MAX(a.sort_key) AS hi, "
            "      COUNT(*) FILTER (WHERE a.duplicate_of IS NULL) AS n "
            "      FROM story_articles sa JOIN articles a ON a.id = sa.article_id "
            "      WHERE sa.story_id = %(story)s) agg "
            "WHERE s.id = %(story)s",
            {"story": story_id, "at": at},
        )

    # -- search ------------------------------------------------------------------------
    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        # PostgreSQL text cannot hold NUL; nobody searches for one.
        query = (query or "").replace("\x00", "").strip()
        if not query or limit <= 0:
            return []
        config = pgsql.Literal(TEXT_SEARCH_CONFIG)

        def run(
            c: psycopg.Connection[Any], tsquery: pgsql.Composable, params: dict[str, Any]
        ) -> list[Any]:
            # Rank the newest SEARCH_CANDIDATES matches only (ts_rank_cd costs per
            # match: a query matching nearly everything stays bounded), and
            # headline only the page of hits (ts_headline re-parses the text).
            return c.execute(
                pgsql.SQL(
                    "WITH q AS (SELECT {tsq} AS query), "
                    "matches AS MATERIALIZED (SELECT a.num FROM q JOIN articles a "
                    " ON a.search_vector @@ q.query ORDER BY a.num DESC LIMIT %(candidates)s), "
                    "hits AS (SELECT a.num, a.id, a.title, a.body, a.outlet, a.published, "
                    " ts_rank_cd({w}::float4[], a.search_vector, q.query) AS rank "
                    " FROM matches m JOIN articles a ON a.num = m.num CROSS JOIN q "
                    " ORDER BY rank DESC, a.num DESC LIMIT %(limit)s) "
                    "SELECT h.id, h.title, h.body, h.outlet, h.published, sa.story_id, "
                    " ts_headline({cfg}, h.body, q.query, {opts}) AS body_snippet, "
                    " ts_headline({cfg}, h.title, q.query, {opts}) AS title_snippet "
                    "FROM hits h CROSS JOIN q LEFT JOIN story_articles sa ON sa.article_id = h.id "
                    "ORDER BY h.rank DESC, h.num DESC"
                ).format(
                    tsq=tsquery,
                    w=pgsql.Literal(_RANK_WEIGHTS),
                    cfg=config,
                    opts=pgsql.Literal(_HEADLINE_OPTIONS),
                ),
                {**params, "limit": limit, "candidates": SEARCH_CANDIDATES},
            ).fetchall()

        def load(c: psycopg.Connection[Any]) -> list[Any]:
            # websearch_to_tsquery never raises on syntax: "quoted phrases", -not, or.
            if _websearch_usable(c, query):
                websearch = pgsql.SQL("websearch_to_tsquery({}, %(q)s)").format(config)
                rows = run(c, websearch, {"q": query})
                if rows or _CLEAN_QUERY.fullmatch(query):
                    return rows
            # Stray syntax (FTS operators, "col:", brackets) that matched nothing: the
            # words themselves, all of them, else any, as the SQLite backend does.
            words = query_words(query)
            if not words:
                return []
            rows = run(c, _words_tsquery(config, "&"), {"words": words})
            if not rows and len(words) > 1:
                rows = run(c, _words_tsquery(config, "|"), {"words": words})
            return rows

        rows = self._read(load)
        return [
            search_hit(
                r,
                _with_ellipses(r["body_snippet"] or "", r["body"])
                or _with_ellipses(r["title_snippet"] or "", r["title"]),
            )
            for r in rows
        ]

    # -- boilerplate memory --------------------------------------------------------------
    def boilerplate_counts(self, outlet: str, line_hashes: Sequence[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(line_hashes))
        counts = dict.fromkeys(wanted, 0)
        if not wanted:
            return counts
        rows = self._read(
            lambda c: c.execute(
                "SELECT line_hash, article_count FROM boilerplate_lines "
                "WHERE outlet = %s AND line_hash = ANY(%s)",
                (outlet, wanted),
            ).fetchall()
        )
        for r in rows:
            counts[r["line_hash"]] = r["article_count"]
        return counts

    def add_boilerplate_lines(self, outlet: str, line_hashes: Sequence[str]) -> dict[str, int]:
        # One article counts once per line; sorted so that every writer locks the
        # rows in the same order (no deadlock between two articles of one outlet).
        distinct = sorted(set(line_hashes))
        if not distinct:
            return {}
        rows = self._write(
            lambda c: c.execute(
                "INSERT INTO boilerplate_lines(outlet, line_hash, article_count) "
                "SELECT %s, h, 1 FROM unnest(%s::text[]) AS h ORDER BY h "
                "ON CONFLICT (outlet, line_hash) "
                "DO UPDATE SET article_count = boilerplate_lines.article_count + 1 "
                "RETURNING line_hash, article_count",
                (outlet, distinct),
            ).fetchall(),
            "counting boilerplate lines",
        )
        return {r["line_hash"]: r["article_count"] for r in rows}

    def known_boilerplate_lines(self, outlet: str, min_articles: int) -> frozenset[str]:
        indexed = migrations.known_lines_condition(min_articles)
        rows = self._read(
            lambda c: c.execute(
                "SELECT line_hash FROM boilerplate_lines "
                f"WHERE outlet = %s AND article_count >= %s {indexed}",
                (outlet, min_articles),
            ).fetchall()
        )
        return frozenset(r["line_hash"] for r in rows)

    # -- failures --------------------------------------------------------------------------
    def record_failure(self, source: str, stage: str, reason: str) -> None:
        super().record_failure(_no_nul(source), _no_nul(stage), _no_nul(reason))

    def recent_failures(self, limit: int = 50) -> list[IngestError]:
        return super().recent_failures(max(limit, 0))  # PostgreSQL refuses LIMIT < 0

    # -- integrity ---------------------------------------------------------------------------
    def check(self) -> list[str]:
        """The same problems as SQLite's check, in the same words, from one snapshot.

        PostgreSQL keeps the search vector itself (a stored generated column)
        and enforces foreign keys, so the only way to break those is behind
        its back (triggers disabled); the orphan queries (`_link_problems`) still catch it.
        """

        def run(c: psycopg.Connection[Any]) -> list[str]:
            problems: list[str] = []
            for table in ("article_features", "analysis"):
                problems.extend(
                    f"foreign key broken: {table} row -> missing article {r['article_id']}"
                    for r in c.execute(
                        f"SELECT t.article_id FROM {table} t LEFT JOIN articles a "
                        "ON a.id = t.article_id WHERE a.id IS NULL LIMIT 100"
                    )
                )
            problems.extend(self._link_problems(c))
            return problems

        return self._read(run, snapshot=True)


def _no_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd")


@lru_cache(maxsize=1024)
def _pyformat(text: str) -> str:
    """Shared SQL (`?` placeholders) in psycopg's style: `%s`, a literal `%` doubled."""
    return text.replace("%", "%%").replace("?", "%s")


def _websearch_usable(c: psycopg.Connection[Any], text: str) -> bool:
    """Whether websearch syntax gives `text` a query the index can answer.

    Only negations ("-volcano", "a or -b") would match nearly every article
    by a full scan; SQLite reads those as a syntax error and searches for
    the words, and so do we.
    """
    row = c.execute(
        pgsql.SQL("SELECT querytree(websearch_to_tsquery({}, %s)) AS tree").format(
            pgsql.Literal(TEXT_SEARCH_CONFIG)
        ),
        (text,),
    ).fetchone()
    return row is not None and row["tree"] != "T"


def _scalar(c: psycopg.Connection[Any], query: str) -> Any:
    """The first column of the first row of a query that always returns one."""
    row = c.execute(query).fetchone()
    if row is None:
        raise StoreError(f"no row from {query!r}")
    return next(iter(row.values()))


def _words_tsquery(config: pgsql.Composable, operator: str) -> pgsql.Composable:
    """A tsquery of the words in %(words)s joined by `operator`, each parsed as plain text."""
    # plainto_tsquery per word: it folds and normalises the way the index does,
    # and cannot fail on any input.
    return pgsql.SQL(
        "(SELECT COALESCE(string_agg('(' || t.q || ')', {op}), '')::tsquery FROM "
        "(SELECT plainto_tsquery({cfg}, w)::text AS q FROM unnest(%(words)s::text[]) AS w) t "
        "WHERE t.q <> '')"
    ).format(cfg=config, op=pgsql.Literal(f" {operator} "))
