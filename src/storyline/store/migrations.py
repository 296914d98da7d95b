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

# Version 2: the names each article's "people" analysis found, for the story
# list's entity filter.  One row per (name key, article): the entities'
# canonical names and their surface texts, compared as "name keys" (lower
# case; dashes, dots and curly apostrophes neutralised; runs of spaces
# folded), like `analyse.entities.name_key`.  Triggers on `analysis` keep it
# in the writer's transaction whichever code writes the analysis; the
# migration fills it from what is stored already.  SQLite's lower() folds
# ASCII letters only, so queries compare through the same SQL expression
# (`SQLITE_NAME_KEY`) and try a few case variants of the name asked for.

# `{}` is the name; frozen with the migration that uses it.
SQLITE_NAME_KEY = (
    "trim(replace(replace(replace(replace(replace(replace(replace(replace("
    "lower({}), char(9), ' '), char(10), ' '), char(13), ' '), '’', ''''), '-', ' '), "
    "'.', ''), '  ', ' '), '  ', ' '))"
)


def _sqlite_names_of(data: str, article_id: str) -> str:
    """SELECT (name key, article id) rows for the entities of the people analysis `data`."""
    entities = f"json_each(CASE WHEN json_valid({data}) THEN {data} ELSE '{{}}' END, '$.entities')"
    names = " UNION ".join(
        f"SELECT {SQLITE_NAME_KEY.format(f'json_extract(e.value, {path!r})')} AS k "
        f"FROM {entities} AS e WHERE e.type = 'object'"
        for path in ("$.canonical", "$.text")
    )
    return f"SELECT k, {article_id} FROM ({names}) WHERE k IS NOT NULL AND k != ''"


_V2_SQLITE = f"""
CREATE TABLE article_names (
    name_key    TEXT NOT NULL,
    article_id  TEXT NOT NULL REFERENCES articles(id),
    PRIMARY KEY (name_key, article_id)
) WITHOUT ROWID;
CREATE INDEX article_names_article ON article_names(article_id);

INSERT OR IGNORE INTO article_names(name_key, article_id)
SELECT k, article_id FROM (
    SELECT {SQLITE_NAME_KEY.format("json_extract(e.value, '$.canonical')")} AS k, an.article_id
    FROM analysis AS an,
         json_each(CASE WHEN json_valid(an.data) THEN an.data ELSE '{{}}' END, '$.entities') AS e
    WHERE an.kind = 'people' AND e.type = 'object'
    UNION
    SELECT {SQLITE_NAME_KEY.format("json_extract(e.value, '$.text')")}, an.article_id
    FROM analysis AS an,
         json_each(CASE WHEN json_valid(an.data) THEN an.data ELSE '{{}}' END, '$.entities') AS e
    WHERE an.kind = 'people' AND e.type = 'object'
) WHERE k IS NOT NULL AND k != '';

CREATE TRIGGER analysis_names_insert AFTER INSERT ON analysis
WHEN new.kind = 'people' BEGIN
    INSERT OR IGNORE INTO article_names(name_key, article_id)
    {_sqlite_names_of("new.data", "new.article_id")};
END;
CREATE TRIGGER analysis_names_update AFTER UPDATE OF kind, data ON analysis
WHEN old.kind = 'people' OR new.kind = 'people' BEGIN
    DELETE FROM article_names WHERE article_id = old.article_id;
    INSERT OR IGNORE INTO article_names(name_key, article_id)
    {_sqlite_names_of("new.data", "new.article_id")}
    AND new.kind = 'people';
END;
CREATE TRIGGER analysis_names_delete AFTER DELETE ON analysis
WHEN old.kind = 'people' BEGIN
    DELETE FROM article_names WHERE article_id = old.article_id;
END;
"""

_V2_POSTGRESQL = r"""
CREATE FUNCTION storyline_name_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $f$
    SELECT btrim(regexp_replace(
        replace(replace(replace(lower(name), '’', ''''), '-', ' '), '.', ''), '\s+', ' ', 'g'))
$f$;

CREATE TABLE article_names (
    name_key    TEXT COLLATE "C" NOT NULL,
    article_id  TEXT COLLATE "C" NOT NULL REFERENCES articles(id),
    PRIMARY KEY (name_key, article_id)
);
CREATE INDEX article_names_article ON article_names(article_id);

CREATE FUNCTION storyline_article_names(data jsonb) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $f$
    SELECT DISTINCT k FROM (
        SELECT storyline_name_key(e ->> 'canonical') AS k
        FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(data -> 'entities') = 'array' THEN data -> 'entities'
                 ELSE '[]'::jsonb END) AS e
        WHERE jsonb_typeof(e) = 'object'
        UNION
        SELECT storyline_name_key(e ->> 'text')
        FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(data -> 'entities') = 'array' THEN data -> 'entities'
                 ELSE '[]'::jsonb END) AS e
        WHERE jsonb_typeof(e) = 'object'
    ) names WHERE k IS NOT NULL AND k <> ''
$f$;

INSERT INTO article_names(name_key, article_id)
SELECT n, an.article_id FROM analysis an, storyline_article_names(an.data) AS n
WHERE an.kind = 'people'
ON CONFLICT DO NOTHING;

CREATE FUNCTION storyline_index_article_names() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.kind = 'people' THEN
        DELETE FROM article_names WHERE article_id = OLD.article_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.kind = 'people' THEN
        INSERT INTO article_names(name_key, article_id)
        SELECT n, NEW.article_id FROM storyline_article_names(NEW.data) AS n
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$f$;
CREATE TRIGGER analysis_article_names AFTER INSERT OR UPDATE OR DELETE ON analysis
FOR EACH ROW EXECUTE FUNCTION storyline_index_article_names();
"""

# Version 3: the global stage's own indexes, so its cost stays flat in the store size.
# * `lsh_bands`: MinHash LSH band keys (link/dedup.py `band_keys`) of every article in a
#   story; equal key = near-duplicate candidate, found by index instead of a scan;
#   `article_signatures` the MinHash that confirms a candidate.
# * `link_terms` / `link_state`: the story linker's document frequencies (IDF), written
#   in the article's transaction, so a restart reads exactly what an uninterrupted run
#   holds in memory.  `df_checkpoint` / 'checkpoint_documents' are the statistics as of
#   the last checkpoint, which is what the linker's IDF uses (link/stories.py).
# * 'changes' counts every change to story membership (triggers on story_articles),
#   so a process holding stories in memory sees cheaply that another one wrote.
# * 'ready' marks a store whose band keys and statistics are complete; the migration
#   sets it on an empty store, and the pipeline back-fills an older store once.
_V3_SQLITE = """
CREATE TABLE lsh_bands (
    band_key    TEXT NOT NULL,
    article_id  TEXT NOT NULL,
    PRIMARY KEY (band_key, article_id)
) WITHOUT ROWID;
CREATE INDEX lsh_bands_article ON lsh_bands(article_id);
-- The MinHash itself (little-endian uint32), to confirm a band-key match cheaply.
CREATE TABLE article_signatures (
    article_id  TEXT PRIMARY KEY,
    signature   BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE link_terms (
    kind           TEXT NOT NULL,
    term           TEXT NOT NULL,
    df             INTEGER NOT NULL DEFAULT 0,
    df_checkpoint  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, term)
) WITHOUT ROWID;

CREATE TABLE link_state (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO link_state(name, value)
VALUES ('changes', 0), ('documents', 0), ('checkpoint_documents', 0);
INSERT INTO link_state(name, value) SELECT 'ready', 1 WHERE NOT EXISTS (SELECT 1 FROM articles);

CREATE TRIGGER story_articles_changes_insert AFTER INSERT ON story_articles BEGIN
    UPDATE link_state SET value = value + 1 WHERE name = 'changes';
END;
CREATE TRIGGER story_articles_changes_update AFTER UPDATE ON story_articles BEGIN
    UPDATE link_state SET value = value + 1 WHERE name = 'changes';
END;
CREATE TRIGGER story_articles_changes_delete AFTER DELETE ON story_articles BEGIN
    UPDATE link_state SET value = value + 1 WHERE name = 'changes';
END;
"""

_V3_POSTGRESQL = """
CREATE TABLE lsh_bands (
    band_key    TEXT COLLATE "C" NOT NULL,
    article_id  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (band_key, article_id)
);
CREATE INDEX lsh_bands_article ON lsh_bands(article_id);
CREATE TABLE article_signatures (
    article_id  TEXT COLLATE "C" PRIMARY KEY,
    signature   BYTEA NOT NULL
);

CREATE TABLE link_terms (
    kind           TEXT COLLATE "C" NOT NULL,
    term           TEXT COLLATE "C" NOT NULL,
    df             BIGINT NOT NULL DEFAULT 0,
    df_checkpoint  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, term)
);

CREATE TABLE link_state (
    name   TEXT COLLATE "C" PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO link_state(name, value)
VALUES ('changes', 0), ('documents', 0), ('checkpoint_documents', 0);
INSERT INTO link_state(name, value) SELECT 'ready', 1 WHERE NOT EXISTS (SELECT 1 FROM articles);

-- Once per statement: a merge moving many articles counts as one change.
CREATE FUNCTION storyline_link_changed() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
    UPDATE link_state SET value = value + 1 WHERE name = 'changes';
    RETURN NULL;
END
$f$;
CREATE TRIGGER story_articles_link_changed AFTER INSERT OR UPDATE OR DELETE ON story_articles
FOR EACH STATEMENT EXECUTE FUNCTION storyline_link_changed();
"""

# Version 4: the outlets' known boilerplate lines by index.  The pipeline reads an
# outlet's known lines (`article_count` at least `KNOWN_LINE_MIN_ARTICLES`, its
# threshold) in one query; through the primary key that query visits every line the
# outlet ever printed (a few thousand table rows per outlet at 1M articles, ~50 ms),
# through this partial, covering index only the known ones.  Queries with a lower
# threshold still work, without it.  (An index on the count of every line would serve
# any threshold, but would move an entry for each line of each stored article.)
KNOWN_LINE_MIN_ARTICLES = 3



def known_lines_condition(min_articles: int) -> str:
    """The extra WHERE term that lets a query of known lines use the version 4 index.

    A partial index serves only queries whose WHERE spells its condition out, with
    the constant (a bound parameter cannot prove it).
    """
    if min_articles >= KNOWN_LINE_MIN_ARTICLES:
        return f"AND article_count >= {KNOWN_LINE_MIN_ARTICLES}"
    return ""


_V4 = f"""
CREATE INDEX boilerplate_lines_known ON boilerplate_lines(outlet, line_hash, article_count)
WHERE article_count >= {KNOWN_LINE_MIN_ARTICLES};
"""

# Version 5: story splits.  A story that absorbed two events is split (the linker's
# `SplittingDecision`): some of its articles move to a new story.  The split is recorded
# (from which story, into which, which articles, why, when) so that an analyst or the
# API can see where the articles went; the old story keeps its id and the rest.
_V5_SQLITE = """
CREATE TABLE story_splits (
    from_id      TEXT NOT NULL,
    into_id      TEXT NOT NULL,
    article_ids  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (from_id, into_id)
);
CREATE INDEX story_splits_into ON story_splits(into_id);
"""

_V5_POSTGRESQL = """
CREATE TABLE story_splits (
    from_id      TEXT COLLATE "C" NOT NULL,
    into_id      TEXT COLLATE "C" NOT NULL,
    article_ids  JSONB NOT NULL,
    reason       TEXT NOT NULL,
    at           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (from_id, into_id)
);
CREATE INDEX story_splits_into ON story_splits(into_id);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", {"sqlite": _V1_SQLITE, "postgresql": _V1_POSTGRESQL}),
    Migration(2, "article names for the entity filter",
              {"sqlite": _V2_SQLITE, "postgresql": _V2_POSTGRESQL}),
    Migration(3, "near-duplicate band keys and linker statistics",
              {"sqlite": _V3_SQLITE, "postgresql": _V3_POSTGRESQL}),
    Migration(4, "index of the outlets' known boilerplate lines",
              {"sqlite": _V4, "postgresql": _V4}),
    Migration(5, "story splits", {"sqlite": _V5_SQLITE, "postgresql": _V5_POSTGRESQL}),
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
