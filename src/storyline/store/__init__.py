"""Storage: the `Store` interface and `open_store(url)` to get one.

`open_store` accepts "sqlite:///abs/path.db", "sqlite:///:memory:", a plain
file path or ":memory:"; "postgresql://…" / "postgres://…" (also "postgresql+psycopg://…") open the
PostgreSQL backend (needs the `postgres` extra: psycopg 3 and psycopg_pool).
"""

from __future__ import annotations

import re

from storyline.store.base import IngestError, Store, StoreError, StoryCandidate

__all__ = ["IngestError", "Store", "StoreError", "StoryCandidate", "open_store"]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+")
_LIBPQ_KEYWORDS = re.compile(r"^(?:(?:host|hostaddr|port|dbname|user|password)=\S*\s*)+$")


def open_store(url: str) -> Store:
    """Open (creating it and its directory if needed) and migrate the store at `url`."""
    url = (url or "").strip()
    if not url:
        raise StoreError("no store given: pass a SQLite path or URL")
    if url.lower().startswith(_POSTGRES_SCHEMES):
        from storyline.store.postgres import PostgresStore

        return PostgresStore(url)
    if _LIBPQ_KEYWORDS.match(url):
        # Would otherwise become a SQLite file named "host=… dbname=…".
        raise StoreError(
            "that looks like a libpq keyword connection string; write it as a URL: "
            "postgresql://user@host:port/dbname"
        )
    scheme, sep, _ = url.partition("://")
    if sep and scheme.lower() != "sqlite" and len(scheme) > 1:  # "C://" is a Windows path
        raise StoreError(
            f"unknown store URL scheme {scheme!r}: use a path, sqlite:///path or "
            "postgresql://user@host/db"
        )

    from storyline.store.sqlite import SQLiteStore, parse_sqlite_url

    path = parse_sqlite_url(url)
    return SQLiteStore(path, url=url if url.startswith("sqlite:") else None)
