"""What the SQL backends share: one implementation of every `Store` method whose logic
is the same on SQLite and PostgreSQL, written once over a small dialect surface.

The split follows how SQLAlchemy and Django keep dialect differences small: the
shared code writes SQL with `?` placeholders and a few spelled-out dialect
fragments (class attributes), and each backend supplies

* `_read(operation, snapshot=)` / `_write(operation, doing)`: run `operation(conn)`
  on a connection (locking, pooling, transactions, retries and error wrapping
  stay in the backend);
* `_sql(text)`: the statement in the driver's placeholder style;
* `_IN_LIST` + `_list(values)`: "column is one of these values";
* `_JSON` + `_from_json(value)`: a JSON parameter and a JSON column's value;
* `_ARTICLE_SELECT`: the article columns as `article_from_row` reads them;
* `_NULL_SAFE_NE`, `_DIALECT`: "differs, NULL included", the migrations' key;
* `_lock_stories` / `_recount_story`: the two steps of `merge_stories` that
  each backend spells its own way.

What the server refuses (NUL in text, a negative LIMIT on PostgreSQL) the
backend cleans in a thin override before calling the shared method.

What truly differs stays in the backends: full-text search (FTS5 / tsvector)
and the story filters built on it, connection handling, transactions and
when to retry, how a migration script runs (statement by statement, or whole
under an advisory lock), and writes whose concurrency strategy differs
(SQLite's `BEGIN IMMEDIATE` serialises writers; PostgreSQL relies on unique
constraints, `ON CONFLICT`, row locks and advisory locks).

Rows are read by column name only: sqlite3.Row and psycopg's dict_row both
support that.
"""

from __future__ import annotations

import json
import random
import struct
import time
from abc import abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar, Protocol, TypeVar

from storyline.records import (
    Article,
    RemovedBlock,
    SearchHit,
    Story,
    StorySplit,
    StorySummary,
    as_datetime,
)
from storyline.store import migrations
from storyline.store.base import (
    IngestError,
    LinkTermStats,
    Store,
    StoreError,
    StoryCandidate,
    window_bounds,
)

T = TypeVar("T")


class Connection(Protocol):
    """The part of a DB-API connection the shared code uses (sqlite3 and psycopg 3 both)."""

    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...


ARTICLE_COLUMNS = (
    "id, source, url, canonical_url, title, body, outlet, published, authors, "
    "wire_agencies, language, content_hash, duplicate_of, removed"
)
# Retries of a write that met another writer: back-off from BACKOFF_START_S, doubling
# up to BACKOFF_MAX_S (each backend bounds the number of retries).
BACKOFF_START_S = 0.05
BACKOFF_MAX_S = 2.0

# The columns `add_article` fills, in the order of `article_values`.
ARTICLE_INSERT_COLUMNS = (
    "id, source, url, canonical_url, title, body, outlet, published, sort_key, authors, "
    "wire_agencies, language, content_hash, duplicate_of, removed, ingested_at"
)
# A story as the linker and the story list see it (StoryCandidate, StorySummary).
STORY_COLUMNS = "id, title, first_seen, last_seen, article_count"
# A story active in a `sort_key` range (`window_bounds`): its span overlaps the range.
ACTIVE_IN_RANGE = "last_seen >= ? AND first_seen <= ?"
MAX_REDIRECT_HOPS = 32
STORY_BATCH = 200  # stories loaded per query by iter_stories

# FTS operators (FTS5's; PostgreSQL's fallback reads queries the same way),
# meaningless as search words when the query failed to parse.
FTS_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})


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


def backoff(delay: float) -> float:
    """Wait about `delay` seconds before a retry; the delay before the next one."""
    time.sleep(delay * (0.5 + random.random()))  # jitter: writers do not collide again
    return min(delay * 2, BACKOFF_MAX_S)


def dumps(value: Any) -> str:
    """JSON as stored: UTF-8 text, not \\u escapes."""
    return json.dumps(value, ensure_ascii=False)


def signature_bytes(signature: Sequence[int]) -> bytes:
    """A MinHash as stored: little-endian uint32 values."""
    return struct.pack(f"<{len(signature)}I", *(int(v) for v in signature))


def signature_values(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def query_words(query: str) -> list[str]:
    """The query's words (split the way FTS5's unicode61 tokenizer splits text),
    without FTS operators unless there is nothing else."""
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
    plain = [w for w in words if w not in FTS_OPERATORS]
    return plain or words


def name_variants(name: str) -> list[str]:
    """An entity name as asked and cased the ways names are written.

    The stored name keys fold case with SQL lower(), which on SQLite (and on
    PostgreSQL in the C locale) folds ASCII letters only: "émile zola" must
    also be tried as "Émile Zola" to meet the key of a name written that way.
    """
    name = " ".join(name.split())
    return list(dict.fromkeys([name, name.title(), name.capitalize(), name.upper(), name.lower()]))


def article_values(article: Article, key: str, ingested_at: str) -> tuple[Any, ...]:
    """An article's `ARTICLE_INSERT_COLUMNS` values (`key`: its `sort_key`), JSON as text."""
    return (
        article.id,
        article.source,
        article.url,
        article.canonical_url,
        article.title,
        article.body,
        article.outlet,
        article.published,
        key,
        dumps(list(article.authors)),
        dumps(list(article.wire_agencies)),
        article.language,
        article.content_hash,
        article.duplicate_of,
        dumps([{"text": b.text, "reason": b.reason} for b in article.removed]),
        ingested_at,
    )


def article_from_row(row: Any) -> Article:
    """An article from a row of `ARTICLE_COLUMNS`, its JSON columns as text."""
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


def search_hit(row: Any, snippet: str) -> SearchHit:
    """A search hit from a row of id, story_id, title, outlet, published."""
    return SearchHit(
        article_id=row["id"],
        story_id=row["story_id"],
        title=row["title"],
        outlet=row["outlet"],
        published=row["published"],
        snippet=snippet,
    )


class SQLStore(Store):
    """`Store` methods shared by the SQL backends, over the dialect surface they provide."""

    # -- the dialect surface --------------------------------------------------------
    # "<column> <_IN_LIST>" is true when the column is one of `_list(values)`.
    _IN_LIST: ClassVar[str]
    # The placeholder of a JSON parameter (the value passed is `dumps(...)` text).
    _JSON: ClassVar[str]
    # The article columns of `ARTICLE_COLUMNS`, from `articles a`, JSON ones as text.
    _ARTICLE_SELECT: ClassVar[str]

    @abstractmethod
    def _read(self, operation: Callable[[Any], T], *, snapshot: bool = False) -> T:
        """Run a read; `snapshot`: its queries see one snapshot where the backend can."""

    @abstractmethod
    def _write(self, operation: Callable[[Any], T], doing: str) -> T:
        """Run a write inside `transaction()`; `doing` names it in error messages."""

    @staticmethod
    @abstractmethod
    def _sql(text: str) -> str:
        """`text`, written with `?` placeholders, in the driver's placeholder style.

        A statement without parameters is executed as written (no `?`, no `%`).
        """

    @staticmethod
    @abstractmethod
    def _list(values: Sequence[str]) -> Any:
        """The parameter that `_IN_LIST` takes for these values."""

    @staticmethod
    @abstractmethod
    def _from_json(value: Any) -> Any:
        """The Python value of a JSON column as the driver returns it."""

    # -- lifecycle ------------------------------------------------------------------
    # The key of this backend's scripts in `migrations.MIGRATIONS`.
    _DIALECT: ClassVar[str]

    def _apply_migrations(self, c: Any, where: str, run_script: Callable[[str], object]) -> None:
        """Bring the schema up to date on `c`, inside the caller's transaction.

        `run_script` runs one migration's script (the backend knows how: by
        statement, or whole); `where` names the store in messages.
        """
        c.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        row = c.execute("SELECT MAX(version) AS version FROM schema_migrations").fetchone()
        applied = int(row["version"] or 0)
        if applied > migrations.LATEST_VERSION:
            raise StoreError(
                f"the store {where} has schema version {applied}, newer than this Storyline "
                f"understands ({migrations.LATEST_VERSION}); upgrade Storyline to open it"
            )
        record = self._sql(
            "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)"
        )
        for migration in migrations.pending(applied):
            script = migration.sql.get(self._DIALECT)
            if script is None:
                raise StoreError(f"migration {migration.version} has no {self._DIALECT} SQL")
            run_script(script)
            c.execute(record, (migration.version, migration.name, now_utc()))

    def schema_version(self) -> int:
        row = self._read(
            lambda c: c.execute("SELECT MAX(version) AS version FROM schema_migrations").fetchone()
        )
        return int(row["version"] or 0)

    # -- documents ------------------------------------------------------------------
    def has_article(self, article_id: str) -> bool:
        return self._read(lambda c: self._article_exists(c, article_id))

    def _article_exists(self, c: Connection, article_id: str) -> bool:
        sql = self._sql("SELECT 1 FROM articles WHERE id = ?")
        return c.execute(sql, (article_id,)).fetchone() is not None

    def find_by_content_hash(self, content_hash: str) -> str | None:
        if not content_hash:
            return None
        sql = self._sql(
            "SELECT id FROM articles WHERE content_hash = ? AND duplicate_of IS NULL "
            "ORDER BY num LIMIT 1"
        )
        row = self._read(lambda c: c.execute(sql, (content_hash,)).fetchone())
        return row["id"] if row else None

    def find_by_canonical_url(self, canonical_url: str) -> str | None:
        if not canonical_url:
            return None
        sql = self._sql(
            "SELECT id FROM articles WHERE canonical_url = ? "
            "ORDER BY duplicate_of IS NOT NULL, num LIMIT 1"
        )
        row = self._read(lambda c: c.execute(sql, (canonical_url,)).fetchone())
        return row["id"] if row else None

    def get_article(self, article_id: str) -> Article | None:
        sql = self._sql(f"SELECT {self._ARTICLE_SELECT} FROM articles a WHERE a.id = ?")
        row = self._read(lambda c: c.execute(sql, (article_id,)).fetchone())
        return article_from_row(row) if row else None

    def article_story_id(self, article_id: str) -> str | None:
        sql = self._sql("SELECT story_id FROM story_articles WHERE article_id = ?")
        row = self._read(lambda c: c.execute(sql, (article_id,)).fetchone())
        return row["story_id"] if row else None

    def count_articles(self) -> int:
        return self._count("articles")

    def count_stories(self) -> int:
        return self._count("stories")

    def _count(self, table: str) -> int:
        row = self._read(lambda c: c.execute(f"SELECT COUNT(*) AS n FROM {table}").fetchone())
        return int(row["n"])

    def get_features(self, article_id: str) -> dict[str, Any] | None:
        """The link features stored with an article, if any."""
        sql = self._sql("SELECT data FROM article_features WHERE article_id = ?")
        row = self._read(lambda c: c.execute(sql, (article_id,)).fetchone())
        return self._from_json(row["data"]) if row else None

    # -- analysis -------------------------------------------------------------------
    def get_analysis(self, article_id: str, kind: str) -> Any | None:
        sql = self._sql("SELECT data FROM analysis WHERE article_id = ? AND kind = ?")
        row = self._read(lambda c: c.execute(sql, (article_id, kind)).fetchone())
        return self._from_json(row["data"]) if row else None

    # -- stories --------------------------------------------------------------------
    @staticmethod
    def _candidates(rows: Sequence[Any]) -> list[StoryCandidate]:
        """StoryCandidates (no features) from rows of `STORY_COLUMNS`."""
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

    def candidate_stories(
        self, around: str | None, window_days: float, limit: int = 500
    ) -> list[StoryCandidate]:
        bounds = window_bounds(around, window_days)
        if bounds is None:
            stories_sql = self._sql(
                f"SELECT {STORY_COLUMNS} FROM stories ORDER BY updated_at DESC LIMIT ?"
            )
            params: tuple[Any, ...] = (limit,)
        else:
            # The range on last_seen walks the stories_last_seen index.
            stories_sql = self._sql(
                f"SELECT {STORY_COLUMNS} FROM stories "
                f"WHERE {ACTIVE_IN_RANGE} ORDER BY last_seen DESC LIMIT ?"
            )
            params = (*bounds, limit)
        features_sql = self._sql(
            "SELECT sa.story_id, f.data FROM story_articles sa "
            "JOIN article_features f ON f.article_id = sa.article_id "
            "JOIN articles a ON a.id = sa.article_id "
            f"WHERE sa.story_id {self._IN_LIST} ORDER BY a.sort_key, a.num"
        )

        def load(c: Connection) -> list[StoryCandidate]:
            rows = c.execute(stories_sql, params).fetchall()
            candidates = {candidate.id: candidate for candidate in self._candidates(rows)}
            if candidates:
                for r in c.execute(features_sql, (self._list(list(candidates)),)).fetchall():
                    candidates[r["story_id"]].features.append(self._from_json(r["data"]))
            return list(candidates.values())

        return self._read(load, snapshot=True)

    def list_stories(self, limit: int = 50, offset: int = 0) -> list[StorySummary]:
        sql = self._sql(
            f"SELECT {STORY_COLUMNS} FROM stories ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
        )
        return self._read(
            lambda c: self._summaries(c, c.execute(sql, (limit, offset)).fetchall()),
            snapshot=True,
        )

    def _summaries(self, c: Connection, rows: Sequence[Any]) -> list[StorySummary]:
        """Story-list rows (`STORY_COLUMNS`) with their outlets."""
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

    def _outlets_by_story(self, c: Connection, story_ids: list[str]) -> dict[str, list[str]]:
        """Each story's outlets, the most frequent first."""
        if not story_ids:
            return {}
        sql = self._sql(
            "SELECT sa.story_id, a.outlet FROM story_articles sa "
            "JOIN articles a ON a.id = sa.article_id "
            f"WHERE sa.story_id {self._IN_LIST} AND a.outlet IS NOT NULL"
        )
        counts: dict[str, Counter[str]] = {}
        for row in c.execute(sql, (self._list(story_ids),)):
            counts.setdefault(row["story_id"], Counter())[row["outlet"]] += 1
        return {
            sid: [o for o, _ in sorted(cnt.items(), key=lambda item: (-item[1], item[0]))]
            for sid, cnt in counts.items()
        }

    def get_story(self, story_id: str) -> Story | None:
        def load(c: Connection) -> Story | None:
            resolved = self._resolve_story_id(c, story_id)
            if resolved is None:
                return None
            found = self._load_stories(c, [resolved])
            return found[0] if found else None

        return self._read(load, snapshot=True)

    def _resolve_story_id(self, c: Connection, story_id: str) -> str | None:
        """The live story id for an id, a redirected id, or a unique prefix of either."""
        if not story_id:
            return None
        if c.execute(self._sql("SELECT 1 FROM stories WHERE id = ?"), (story_id,)).fetchone():
            return story_id
        target = self._follow_redirects(c, story_id)
        if target is not None:
            return target
        # A prefix: a range scan on the primary key (code point order: SQLite's
        # binary collation, PostgreSQL's "C"); no LIKE: its wildcards and case
        # folding would defeat the index and misread "_" and "%".
        high = story_id + "\U0010ffff"
        matches = {
            r["id"]
            for r in c.execute(
                self._sql("SELECT id FROM stories WHERE id >= ? AND id < ? LIMIT 50"),
                (story_id, high),
            ).fetchall()
        }
        for r in c.execute(
            self._sql(
                "SELECT old_id FROM story_redirects WHERE old_id >= ? AND old_id < ? LIMIT 50"
            ),
            (story_id, high),
        ).fetchall():
            resolved = self._follow_redirects(c, r["old_id"])
            if resolved is not None:
                matches.add(resolved)
        if len(matches) > 1:
            shown = ", ".join(sorted(matches)[:5])
            raise StoreError(
                f"story id prefix {story_id!r} is ambiguous: it matches {shown}"
                + (" …" if len(matches) > 5 else "")
            )
        return next(iter(matches), None)

    def _follow_redirects(self, c: Connection, story_id: str) -> str | None:
        current = story_id
        redirect_sql = self._sql("SELECT new_id FROM story_redirects WHERE old_id = ?")
        for _ in range(MAX_REDIRECT_HOPS):
            row = c.execute(redirect_sql, (current,)).fetchone()
            if row is None:
                break
            current = row["new_id"]
        else:
            raise StoreError(f"story redirects from {story_id} form a loop")
        if current == story_id:
            return None
        if c.execute(self._sql("SELECT 1 FROM stories WHERE id = ?"), (current,)).fetchone():
            return current
        return None

    def _load_stories(self, c: Connection, ids: list[str]) -> list[Story]:
        """These stories with their articles in publication order (unknown ids left out)."""
        ids_param = self._list(ids)
        stories = {
            r["id"]: Story(
                id=r["id"],
                title=r["title"],
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
                similarity_method=r["similarity_method"],
            )
            for r in c.execute(
                self._sql(
                    "SELECT id, title, first_seen, last_seen, similarity_method FROM stories "
                    f"WHERE id {self._IN_LIST}"
                ),
                (ids_param,),
            )
        }
        for row in c.execute(
            self._sql(
                f"SELECT sa.story_id, {self._ARTICLE_SELECT} FROM story_articles sa "
                f"JOIN articles a ON a.id = sa.article_id WHERE sa.story_id {self._IN_LIST} "
                "ORDER BY a.sort_key, a.ingested_at, a.num"
            ),
            (ids_param,),
        ):
            stories[row["story_id"]].articles.append(article_from_row(row))
        for row in c.execute(
            self._sql(
                "SELECT from_id, into_id, article_ids, reason, at FROM story_splits "
                f"WHERE from_id {self._IN_LIST} OR into_id {self._IN_LIST} "
                "ORDER BY at, from_id, into_id"
            ),
            (ids_param, ids_param),
        ):
            split = StorySplit(
                from_id=row["from_id"],
                into_id=row["into_id"],
                article_ids=list(self._from_json(row["article_ids"])),
                reason=row["reason"],
                at=row["at"],
            )
            for sid in {split.from_id, split.into_id}:
                if sid in stories:
                    stories[sid].splits.append(split)
        return [stories[sid] for sid in ids if sid in stories]

    def iter_stories(self) -> Iterator[Story]:
        # Ids first, then batches: no lock or connection is held while the
        # caller consumes the iterator.  NULLS FIRST is SQLite's default; said
        # here so that PostgreSQL iterates alike.
        story_ids: list[str] = self._read(
            lambda c: [
                r["id"]
                for r in c.execute("SELECT id FROM stories ORDER BY first_seen NULLS FIRST, id")
            ]
        )
        for start in range(0, len(story_ids), STORY_BATCH):
            batch = story_ids[start : start + STORY_BATCH]
            yield from self._read(partial(self._load_stories, ids=batch), snapshot=True)

    # -- the global stage's memory --------------------------------------------------
    def stories_between(self, low: str, high: str) -> list[StoryCandidate]:
        sql = self._sql(
            f"SELECT {STORY_COLUMNS} FROM stories WHERE {ACTIVE_IN_RANGE}"
        )
        return self._read(lambda c: self._candidates(c.execute(sql, (low, high)).fetchall()))

    def recent_stories(self, limit: int) -> list[StoryCandidate]:
        sql = self._sql(
            f"SELECT {STORY_COLUMNS} FROM stories ORDER BY updated_at DESC, id LIMIT ?"
        )
        return self._read(lambda c: self._candidates(c.execute(sql, (limit,)).fetchall()))

    def stories_by_id(self, story_ids: Sequence[str]) -> list[StoryCandidate]:
        if not story_ids:
            return []
        sql = self._sql(f"SELECT {STORY_COLUMNS} FROM stories WHERE id {self._IN_LIST}")
        ids = self._list(story_ids)
        return self._read(lambda c: self._candidates(c.execute(sql, (ids,)).fetchall()))

    def story_features(self, story_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {s: [] for s in story_ids}
        if not story_ids:
            return found
        sql = self._sql(
            "SELECT sa.story_id, f.data FROM story_articles sa "
            "JOIN article_features f ON f.article_id = sa.article_id "
            "JOIN articles a ON a.id = sa.article_id "
            f"WHERE sa.story_id {self._IN_LIST} ORDER BY a.num"
        )
        ids = self._list(story_ids)
        rows = self._read(lambda c: c.execute(sql, (ids,)).fetchall(), snapshot=True)
        for r in rows:
            found[r["story_id"]].append(self._from_json(r["data"]))
        return found

    def band_key_matches(
        self, keys: Sequence[str], limit: int = 100, within: tuple[str, str] | None = None
    ) -> list[tuple[str, str, str | None, list[int]]]:
        if not keys:
            return []
        # The window filter reads the small stories table, not each copy's article row
        # (cold article pages cost 2-3x the query at 1M stored articles).
        in_window = (
            f"  JOIN stories ON stories.id = sa.story_id WHERE {ACTIVE_IN_RANGE}" if within else ""
        )
        sql = self._sql(
            # Ranked on what the indexes hold (the id index carries `num`), then only the
            # chosen rows are read from the large tables: a text stored in hundreds of
            # copies would otherwise cost a table row read per copy.
            "SELECT a.id, r.story_id, a.outlet, s.signature FROM "
            " (SELECT m.article_id, m.shared, sa.story_id, ra.num FROM"
            "  (SELECT article_id, COUNT(*) AS shared FROM lsh_bands"
            f"   WHERE band_key {self._IN_LIST} GROUP BY article_id) m"
            "  JOIN articles ra ON ra.id = m.article_id"
            "  JOIN story_articles sa ON sa.article_id = m.article_id"
            + in_window
            + "  ORDER BY m.shared DESC, ra.num LIMIT ?) r "
            "JOIN articles a ON a.num = r.num "
            "JOIN article_signatures s ON s.article_id = r.article_id "
            "ORDER BY r.shared DESC, r.num"
        )
        params = (self._list(keys), *(within or ()), limit)
        rows = self._read(lambda c: c.execute(sql, params).fetchall())
        return [
            (r["id"], r["story_id"], r["outlet"], signature_values(bytes(r["signature"])))
            for r in rows
        ]

    def load_link_terms(self) -> LinkTermStats:
        def load(c: Connection) -> LinkTermStats:
            state = {
                r["name"]: int(r["value"])
                for r in c.execute("SELECT name, value FROM link_state").fetchall()
            }
            stats = LinkTermStats(state.get("documents", 0), state.get("checkpoint_documents", 0))
            for r in c.execute("SELECT kind, term, df, df_checkpoint FROM link_terms"):
                stats.df.setdefault(r["kind"], {})[r["term"]] = (r["df"], r["df_checkpoint"])
            return stats

        return self._read(load, snapshot=True)

    def iter_link_features(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        sql = self._sql(
            "SELECT a.num, a.id, sa.story_id, f.data FROM articles a "
            "JOIN story_articles sa ON sa.article_id = a.id "
            "JOIN article_features f ON f.article_id = a.id "
            "WHERE a.num > ? ORDER BY a.num LIMIT 2000"
        )

        def page(c: Connection, after: int) -> list[Any]:
            return c.execute(sql, (after,)).fetchall()

        last = -1
        while True:
            rows = self._read(partial(page, after=last))
            if not rows:
                return
            for r in rows:
                yield r["id"], r["story_id"], self._from_json(r["data"])
            last = rows[-1]["num"]

    def link_state(self, name: str) -> int | None:
        sql = self._sql("SELECT value FROM link_state WHERE name = ?")
        row = self._read(lambda c: c.execute(sql, (name,)).fetchone())
        return int(row["value"]) if row else None

    def story_updated_at(self, story_ids: Sequence[str]) -> dict[str, str]:
        if not story_ids:
            return {}
        sql = self._sql(f"SELECT id, updated_at FROM stories WHERE id {self._IN_LIST}")
        rows = self._read(lambda c: c.execute(sql, (self._list(story_ids),)).fetchall())
        return {r["id"]: r["updated_at"] for r in rows}

    # -- failures -------------------------------------------------------------------
    def recent_failures(self, limit: int = 50) -> list[IngestError]:
        sql = self._sql(
            "SELECT source, stage, reason, at FROM ingest_errors ORDER BY id DESC LIMIT ?"
        )
        rows = self._read(lambda c: c.execute(sql, (limit,)).fetchall())
        return [IngestError(r["source"], r["stage"], r["reason"], r["at"]) for r in rows]

    # -- writes whose SQL is the same --------------------------------------------------
    def put_analysis(self, article_id: str, kind: str, data: Any) -> None:
        sql = self._sql(
            f"INSERT INTO analysis(article_id, kind, data) VALUES (?, ?, {self._JSON}) "
            "ON CONFLICT(article_id, kind) DO UPDATE SET data = excluded.data"
        )
        self._write(
            lambda c: c.execute(sql, (article_id, kind, dumps(data))), "storing an analysis"
        )

    def set_link_state(self, name: str, value: int) -> None:
        sql = self._sql(
            "INSERT INTO link_state(name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value"
        )
        self._write(lambda c: c.execute(sql, (name, int(value))), "setting a link counter")

    def record_failure(self, source: str, stage: str, reason: str) -> None:
        sql = self._sql("INSERT INTO ingest_errors(source, stage, reason, at) VALUES (?, ?, ?, ?)")
        params = (source, stage, reason, now_utc())
        self._write(lambda c: c.execute(sql, params), "recording a failure")

    def merge_stories(self, from_id: str, into_id: str, reason: str) -> None:
        """Move every article of `from_id` into `into_id`, delete `from_id`, redirect it."""
        if from_id == into_id:
            raise StoreError("cannot merge a story into itself")
        at = now_utc()

        def write(c: Connection) -> None:
            present = self._lock_stories(c, [from_id, into_id])
            for sid in (from_id, into_id):
                if sid not in present:
                    raise StoreError(f"cannot merge: no story {sid}")
            c.execute(
                self._sql("UPDATE story_articles SET story_id = ? WHERE story_id = ?"),
                (into_id, from_id),
            )
            c.execute(self._sql("DELETE FROM stories WHERE id = ?"), (from_id,))
            # Old ids that led to `from_id` now lead straight to `into_id`.
            c.execute(
                self._sql("UPDATE story_redirects SET new_id = ? WHERE new_id = ?"),
                (into_id, from_id),
            )
            c.execute(
                self._sql(
                    "INSERT INTO story_redirects(old_id, new_id, reason, at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(old_id) DO UPDATE SET new_id = excluded.new_id, "
                    "reason = excluded.reason, at = excluded.at"
                ),
                (from_id, into_id, reason, at),
            )
            self._recount_story(c, into_id, at)

        self._write(write, "merging stories")

    def split_story(
        self, story_id: str, article_ids: Sequence[str], new_story_id: str, reason: str
    ) -> None:
        """Move some of `story_id`'s articles to a new story `new_story_id`; record the split."""
        moving = list(dict.fromkeys(article_ids))
        if not moving:
            raise StoreError(f"cannot split story {story_id}: no articles to move")
        if new_story_id == story_id:
            raise StoreError("cannot split a story into itself")
        at = now_utc()

        def write(c: Connection) -> None:
            if story_id not in self._lock_stories(c, [story_id]):
                raise StoreError(f"cannot split: no story {story_id}")
            taken = c.execute(
                self._sql(
                    "SELECT 1 FROM stories WHERE id = ? UNION ALL "
                    "SELECT 1 FROM story_redirects WHERE old_id = ?"
                ),
                (new_story_id, new_story_id),
            ).fetchone()
            if taken:
                raise StoreError(f"cannot split into {new_story_id}: the id is already used")
            # Members in publication order (as `get_story` lists them), with their titles.
            members = c.execute(
                self._sql(
                    "SELECT a.id, a.title FROM story_articles sa "
                    "JOIN articles a ON a.id = sa.article_id WHERE sa.story_id = ? "
                    "ORDER BY a.sort_key, a.ingested_at, a.num"
                ),
                (story_id,),
            ).fetchall()
            titles = {r["id"]: r["title"] for r in members}
            missing = [a for a in moving if a not in titles]
            if missing:
                raise StoreError(
                    f"cannot split story {story_id}: article {missing[0]} is not in it"
                )
            if len(moving) >= len(members):
                raise StoreError(f"cannot split story {story_id}: every article would move")
            moved = set(moving)
            first_moved = next(r["title"] for r in members if r["id"] in moved)
            first_kept = next(r["title"] for r in members if r["id"] not in moved)
            row = c.execute(
                self._sql("SELECT title, similarity_method FROM stories WHERE id = ?"),
                (story_id,),
            ).fetchone()
            c.execute(
                self._sql(
                    "INSERT INTO stories(id, title, similarity_method, first_seen, last_seen, "
                    "article_count, created_at, updated_at) VALUES (?, ?, ?, NULL, NULL, 0, ?, ?)"
                ),
                (new_story_id, first_moved, row["similarity_method"], at, at),
            )
            c.execute(
                self._sql(
                    "UPDATE story_articles SET story_id = ? "
                    f"WHERE story_id = ? AND article_id {self._IN_LIST}"
                ),
                (new_story_id, story_id, self._list(moving)),
            )
            kept_titles = {t for i, t in titles.items() if i not in moved}
            if row["title"] not in kept_titles and row["title"] in set(titles.values()):
                # The old title named an article that left: name the story after what stays.
                c.execute(
                    self._sql("UPDATE stories SET title = ? WHERE id = ?"),
                    (first_kept, story_id),
                )
            c.execute(
                self._sql(
                    "INSERT INTO story_splits(from_id, into_id, article_ids, reason, at) "
                    f"VALUES (?, ?, {self._JSON}, ?, ?)"
                ),
                (story_id, new_story_id, dumps(moving), reason, at),
            )
            self._recount_story(c, story_id, at)
            self._recount_story(c, new_story_id, at)

        self._write(write, "splitting a story")

    # The two hooks take the backend's own connection type (hence Any).
    @abstractmethod
    def _lock_stories(self, c: Any, story_ids: list[str]) -> set[str]:
        """Those of `story_ids` that are stored, safe from other writers until the transaction
        ends (so that a concurrent add cannot leave an article in a deleted story)."""

    @abstractmethod
    def _recount_story(self, c: Any, story_id: str, at: str) -> None:
        """Set a story's first/last seen and article count from its articles (at `at`)."""

    # -- integrity --------------------------------------------------------------------
    # "Differs, NULL counting as a value": IS NOT on SQLite, IS DISTINCT FROM on PostgreSQL.
    _NULL_SAFE_NE: ClassVar[str]

    def _link_problems(self, c: Connection) -> list[str]:
        """What `check` finds wrong between stories, links, articles, redirects and the
        near-duplicate index (at most 100 of each kind)."""
        problems: list[str] = []

        def report(sql: str, message: Callable[[Any], str]) -> None:
            problems.extend(message(r) for r in c.execute(sql + " LIMIT 100"))

        report(
            "SELECT sa.article_id, sa.story_id FROM story_articles sa "
            "LEFT JOIN stories s ON s.id = sa.story_id WHERE s.id IS NULL",
            lambda r: (
                f"orphaned story link: article {r['article_id']} -> missing story "
                f"{r['story_id']}"
            ),
        )
        report(
            "SELECT sa.article_id, sa.story_id FROM story_articles sa "
            "LEFT JOIN articles a ON a.id = sa.article_id WHERE a.id IS NULL",
            lambda r: (
                f"orphaned story link: missing article {r['article_id']} in story "
                f"{r['story_id']}"
            ),
        )
        report(
            "SELECT s.id FROM stories s WHERE NOT EXISTS "
            "(SELECT 1 FROM story_articles sa WHERE sa.story_id = s.id)",
            lambda r: f"story {r['id']} has no articles",
        )
        report(
            "SELECT a.id FROM articles a WHERE a.duplicate_of IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM story_articles sa WHERE sa.article_id = a.id)",
            lambda r: f"article {r['id']} is not a duplicate but belongs to no story",
        )
        report(
            "SELECT a.id, a.duplicate_of FROM articles a WHERE a.duplicate_of IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM articles o WHERE o.id = a.duplicate_of)",
            lambda r: f"article {r['id']} is a duplicate of a missing article {r['duplicate_of']}",
        )
        ne = self._NULL_SAFE_NE
        report(
            "SELECT * FROM (SELECT s.id, s.article_count, s.first_seen, s.last_seen, "
            " COUNT(a.id) FILTER (WHERE a.duplicate_of IS NULL) AS n, "
            " MIN(a.sort_key) AS lo, MAX(a.sort_key) AS hi "
            " FROM stories s JOIN story_articles sa ON sa.story_id = s.id "
            " JOIN articles a ON a.id = sa.article_id GROUP BY s.id) t "
            f"WHERE n <> article_count OR lo {ne} first_seen OR hi {ne} last_seen",
            lambda r: (
                f"story {r['id']} records {r['article_count']} articles, "
                f"{r['first_seen']}..{r['last_seen']}; its links give {r['n']}, "
                f"{r['lo']}..{r['hi']}"
            ),
        )
        report(
            "SELECT r.old_id, r.new_id FROM story_redirects r "
            "LEFT JOIN stories s ON s.id = r.new_id WHERE s.id IS NULL",
            lambda r: f"story redirect {r['old_id']} -> {r['new_id']} points to no story",
        )
        report(
            "SELECT r.old_id FROM story_redirects r JOIN stories s ON s.id = r.old_id",
            lambda r: f"story {r['old_id']} exists but is also redirected away",
        )
        # A split names stories that exist or were merged on (their ids redirect).
        for column in ("from_id", "into_id"):
            report(
                f"SELECT p.{column} AS story_id FROM story_splits p WHERE NOT EXISTS "
                f"(SELECT 1 FROM stories s WHERE s.id = p.{column}) AND NOT EXISTS "
                f"(SELECT 1 FROM story_redirects r WHERE r.old_id = p.{column})",
                lambda r: f"story split names an unknown story {r['story_id']}",
            )
        # The near-duplicate index must only name stored articles (same transaction).
        for table in ("lsh_bands", "article_signatures"):
            problems.extend(
                f"{table} names a missing article {r['article_id']}"
                for r in c.execute(
                    f"SELECT DISTINCT t.article_id FROM {table} t "
                    "LEFT JOIN articles a ON a.id = t.article_id WHERE a.id IS NULL LIMIT 100"
                )
            )
        return problems
