"""Versioned schema migrations, shared by every backend.

A migration is a version number, a name, and one SQL script per dialect.
Versions are global: version 3 means the same logical schema on SQLite and
on PostgreSQL, each written in its own SQL.  A backend records what it has
applied in `schema_migrations(version, name, applied_at)` and applies the
pending ones, in order, inside one transaction when a store is opened.

Never edit a migration that has shipped: add a new one.

Schema notes (version 1):

* `articles.num` is an INTEGER PRIMARY KEY (the rowid) and `articles.id`
  the stable text id, UNIQUE.  The full-text index is an FTS5
  external-content table keyed on that rowid; an explicit INTEGER PRIMARY
  KEY keeps rowids stable across VACUUM, which an implicit rowid does not.
* `articles.sort_key` is the article's time for ordering and windows: its
  `published` date normalised to UTC ("YYYY-MM-DD" or
  "YYYY-MM-DDTHH:MM:SS"), falling back to the ingest time.  Stories'
  `first_seen` / `last_seen` are the min / max `sort_key` of their articles,
  so plain string comparison orders them.
* JSON columns hold `json.dumps(..., ensure_ascii=False)` text.
* `story_articles` has no ON DELETE CASCADE on purpose: deleting a story
  or an article that is still linked is an error, not a silent loss.
* `story_redirects` maps a story id that no longer exists (merged, split)
  to the story that now holds its articles, so old links keep working.

PostgreSQL (same version numbers, same logical schema):

* A script runs as one `execute` (PL/pgSQL bodies contain ";"), inside the
  migration transaction; `statements()` is for SQLite only.
* Text columns that are compared or ordered are `COLLATE "C"`: byte order
  of UTF-8, which is what SQLite's BINARY collation does, so ids, prefixes
  and ISO timestamps sort identically on both backends whatever the
  database's locale.
* Times stay ISO 8601 text (not timestamptz): the interface returns the
  very strings it was given, as SQLite does.
* JSON columns are JSONB (arrays keep their order; object keys do not keep
  theirs, which Python's dict equality ignores).
* Full text: a stored generated `tsvector` (title weight A, body weight B)
  with a GIN index, built with the `storyline_text` configuration: the
  `simple` parser and dictionary (no stemming, no stop words, like FTS5's
  unicode61) with `unaccent` in front when the extension can be created,
  so "Zurich" finds "Zürich".  Without it search still works but does not
  fold accents (the migration notes it and goes on).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    # dialect ("sqlite", "postgresql") -> SQL script (statements separated by ";")
    sql: dict[str, str] = field(default_factory=dict)


_V1_SQLITE = """
CREATE TABLE articles (
    num            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    source         TEXT NOT NULL,
    url            TEXT,
    canonical_url  TEXT,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    outlet         TEXT,
    published      TEXT,
    sort_key       TEXT NOT NULL,
    authors        TEXT NOT NULL DEFAULT '[]',
    wire_agencies  TEXT NOT NULL DEFAULT '[]',
    language       TEXT,
    content_hash   TEXT NOT NULL DEFAULT '',
    duplicate_of   TEXT,
    removed        TEXT NOT NULL DEFAULT '[]',
    ingested_at    TEXT NOT NULL
);
CREATE INDEX articles_canonical_url ON articles(canonical_url);
CREATE INDEX articles_content_hash ON articles(content_hash);
CREATE INDEX articles_published ON articles(published);
CREATE INDEX articles_sort_key ON articles(sort_key);

CREATE TABLE stories (
    id                 TEXT PRIMARY KEY,
    title              TEXT NOT NULL,
    similarity_method  TEXT NOT NULL DEFAULT '',
    first_seen         TEXT,
    last_seen          TEXT,
    article_count      INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
-- last_seen leads (candidate windows walk it); first_seen makes the scan index-only.
CREATE INDEX stories_last_seen ON stories(last_seen, first_seen);
CREATE INDEX stories_updated_at ON stories(updated_at);

CREATE TABLE story_articles (
    article_id  TEXT PRIMARY KEY REFERENCES articles(id),
    story_id    TEXT NOT NULL REFERENCES stories(id)
);
CREATE INDEX story_articles_story ON story_articles(story_id);

CREATE TABLE story_redirects (
    old_id  TEXT PRIMARY KEY,
    new_id  TEXT NOT NULL,
    reason  TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX story_redirects_new ON story_redirects(new_id);

CREATE TABLE article_features (
    article_id  TEXT PRIMARY KEY REFERENCES articles(id),
    data        TEXT NOT NULL
);

CREATE TABLE analysis (
    article_id  TEXT NOT NULL REFERENCES articles(id),
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (article_id, kind)
);

CREATE TABLE boilerplate_lines (
    outlet         TEXT NOT NULL,
    line_hash      TEXT NOT NULL,
    article_count  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (outlet, line_hash)
);

CREATE TABLE ingest_errors (
    id      INTEGER PRIMARY KEY,
    source  TEXT NOT NULL,
    stage   TEXT NOT NULL,
    reason  TEXT NOT NULL,
    at      TEXT NOT NULL
);

-- Title and body, diacritics folded so "Zürich" finds "Zurich".
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, body,
    content='articles', content_rowid='num',
    tokenize='unicode61 remove_diacritics 2'
);
-- Triggers keep the external-content index in the writer's transaction.
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, body) VALUES (new.num, new.title, new.body);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, body)
    VALUES ('delete', old.num, old.title, old.body);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, body)
    VALUES ('delete', old.num, old.title, old.body);
    INSERT INTO articles_fts(rowid, title, body) VALUES (new.num, new.title, new.body);
END;
"""

_V1_POSTGRESQL = """
-- unaccent is a trusted extension (PostgreSQL 13+): a database owner may create it.
-- When it is missing or refused, search works without accent folding.
DO $do$
BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'storyline: no unaccent extension (%); search will not fold accents', SQLERRM;
END
$do$;

CREATE TEXT SEARCH CONFIGURATION storyline_text (COPY = pg_catalog.simple);
DO $do$
DECLARE
    ext_schema name;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_extension e
    JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format(
            'ALTER TEXT SEARCH CONFIGURATION storyline_text ALTER MAPPING FOR '
            'word, hword, hword_part, numword, numhword, hword_numpart '
            'WITH %I.unaccent, pg_catalog.simple', ext_schema);
    END IF;
END
$do$;

CREATE TABLE articles (
    num            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT COLLATE "C" NOT NULL UNIQUE,
    source         TEXT NOT NULL,
    url            TEXT,
    canonical_url  TEXT COLLATE "C",
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    outlet         TEXT COLLATE "C",
    published      TEXT COLLATE "C",
    sort_key       TEXT COLLATE "C" NOT NULL,
    authors        JSONB NOT NULL DEFAULT '[]',
    wire_agencies  JSONB NOT NULL DEFAULT '[]',
    language       TEXT,
    content_hash   TEXT COLLATE "C" NOT NULL DEFAULT '',
    duplicate_of   TEXT COLLATE "C",
    removed        JSONB NOT NULL DEFAULT '[]',
    ingested_at    TEXT COLLATE "C" NOT NULL,
    search_vector  tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('storyline_text', title), 'A')
        || setweight(to_tsvector('storyline_text', body), 'B')
    ) STORED
);
CREATE INDEX articles_canonical_url ON articles(canonical_url);
CREATE INDEX articles_content_hash ON articles(content_hash);
CREATE INDEX articles_published ON articles(published);
CREATE INDEX articles_sort_key ON articles(sort_key);
CREATE INDEX articles_search ON articles USING GIN (search_vector);

CREATE TABLE stories (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    title              TEXT NOT NULL,
    similarity_method  TEXT NOT NULL DEFAULT '',
    first_seen         TEXT COLLATE "C",
    last_seen          TEXT COLLATE "C",
    article_count      INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT COLLATE "C" NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL
);
CREATE INDEX stories_last_seen ON stories(last_seen, first_seen);
CREATE INDEX stories_updated_at ON stories(updated_at);

CREATE TABLE story_articles (
    article_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES articles(id),
    story_id    TEXT COLLATE "C" NOT NULL REFERENCES stories(id)
);
CREATE INDEX story_articles_story ON story_articles(story_id);

CREATE TABLE story_redirects (
    old_id  TEXT COLLATE "C" PRIMARY KEY,
    new_id  TEXT COLLATE "C" NOT NULL,
    reason  TEXT NOT NULL,
    at      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX story_redirects_new ON story_redirects(new_id);

CREATE TABLE article_features (
    article_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES articles(id),
    data        JSONB NOT NULL
);

CREATE TABLE analysis (
    article_id  TEXT COLLATE "C" NOT NULL REFERENCES articles(id),
    kind        TEXT COLLATE "C" NOT NULL,
    data        JSONB NOT NULL,
    PRIMARY KEY (article_id, kind)
);

CREATE TABLE boilerplate_lines (
    outlet         TEXT COLLATE "C" NOT NULL,
    line_hash      TEXT COLLATE "C" NOT NULL,
    article_count  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (outlet, line_hash)
);

CREATE TABLE ingest_errors (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source  TEXT NOT NULL,
    stage   TEXT NOT NULL,
    reason  TEXT NOT NULL,
    at      TEXT COLLATE "C" NOT NULL
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", {"sqlite": _V1_SQLITE, "postgresql": _V1_POSTGRESQL}),
)

LATEST_VERSION: int = MIGRATIONS[-1].version


def pending(applied: int) -> list[Migration]:
    """Migrations newer than `applied`, in order."""
    return [m for m in MIGRATIONS if m.version > applied]


def statements(script: str) -> list[str]:
    """Split a SQLite script into statements, keeping trigger bodies whole.

    `executescript` would commit the open transaction first, so migrations
    run statement by statement instead.
    """
    result: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            stmt = buffer.strip()
            if stmt.strip(";").strip():
                result.append(stmt)
            buffer = ""
    if buffer.strip(";").strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:80]!r}")
    return result


def _check_versions() -> None:
    versions = [m.version for m in MIGRATIONS]
    if versions != sorted(set(versions)) or versions[0] < 1:
        raise RuntimeError("migration versions must be unique, positive and ascending")


_check_versions()
