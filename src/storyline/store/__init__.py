"""Storage: the `Store` interface and `open_store(url)` to get one.

`open_store` accepts "sqlite:///abs/path.db", "sqlite:///:memory:", a plain
file path or ":memory:"; "postgresql://..." names the PostgreSQL backend.
"""

from __future__ import annotations

from storyline.store.base import IngestError, Store, StoreError, StoryCandidate

__all__ = ["IngestError", "Store", "StoreError", "StoryCandidate", "open_store"]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+")


def open_store(url: str) -> Store:
    """Open (creating it and its directory if needed) and migrate the store at `url`."""
    url = (url or "").strip()
    if not url:
        raise StoreError("no store given: pass a SQLite path or URL")
    if url.lower().startswith(_POSTGRES_SCHEMES):
        raise StoreError(
            "PostgreSQL backend not available yet; use a SQLite path or sqlite:/// URL"
        )
    scheme, sep, _ = url.partition("://")
    if sep and scheme.lower() != "sqlite" and len(scheme) > 1:  # "C://" is a Windows path
        raise StoreError(f"unknown store URL scheme {scheme!r}: use a path or sqlite:///path")

    from storyline.store.sqlite import SQLiteStore, parse_sqlite_url

    path = parse_sqlite_url(url)
    return SQLiteStore(path, url=url if url.startswith("sqlite:") else None)
