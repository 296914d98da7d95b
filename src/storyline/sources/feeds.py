"""RSS and Atom feeds: one RawDocument per entry.

An entry that carries the full article (content:encoded, Atom content) is
used as it is. One that carries only a teaser is replaced, when a page
fetcher is given, by the page its link points to, with the entry's title,
date and authors kept as hints.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser

from storyline.config import Settings
from storyline.records import ContentKind, Failure, RawDocument
from storyline.sources.common import ReadError, to_iso8601

FULL_TEXT_CHARS = 500  # an entry with less text than this is a teaser, not the article

# Fetches a link and turns the page into a document; raises ReadError.
LinkFollower = Callable[[str], RawDocument]

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_EMAIL_WITH_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>[^)]+)\)\s*$")
_EMAIL = re.compile(r"^\s*\S+@\S+\.\S+\s*$")


def plain_text(markup: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def parse_feed(data: bytes) -> Any:
    """feedparser's result; ReadError when the bytes hold no feed at all."""
    # Bytes, never a string: given a string that looks like a URL, feedparser fetches it.
    try:
        parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=True)
    except (ValueError, LookupError) as err:  # UnicodeDecodeError is a ValueError
        # feedparser decodes the XML declaration's encoding name itself and lets a
        # malformed one escape (found by fuzzing): that is a broken feed, not a crash.
        raise ReadError(
            f"not a valid RSS/Atom feed: unreadable encoding declaration ({err})"
        ) from None
    if not parsed.entries:
        if parsed.bozo and not parsed.get("version"):
            raise ReadError(f"not a valid RSS/Atom feed: {parsed.get('bozo_exception')}")
        raise ReadError("feed has no entries")
    return parsed


def read_feed(
    data: bytes,
    source: str,
    settings: Settings,
    *,
    follow_link: LinkFollower | None = None,
) -> Iterator[RawDocument | Failure]:
    """Entries of the feed in `data`, each named `source#<index>`.

    `follow_link` is used for entries that hold only a teaser; without it
    the teaser itself is yielded.
    """
    try:
        parsed = parse_feed(data)
    except ReadError as err:
        yield err.failure(source)
        return
    feed_info = parsed.feed
    feed_title = plain_text(feed_info.get("title", "")) or None
    feed_language = feed_info.get("language") or None
    limit = settings.limits.max_feed_items
    entries = parsed.entries
    for index, entry in enumerate(entries[:limit]):
        entry_source = f"{source}#{index}"
        try:
            yield _entry_document(entry, entry_source, feed_title, feed_language, follow_link)
        except ReadError as err:
            yield err.failure(entry_source)
    if len(entries) > limit:
        yield Failure(
            source=source,
            stage="read",
            reason=(
                f"feed has {len(entries)} entries; read the first {limit} and skipped "
                f"{len(entries) - limit} (STORYLINE_MAX_FEED_ITEMS)"
            ),
        )


def _entry_document(
    entry: Any,
    source: str,
    feed_title: str | None,
    feed_language: str | None,
    follow_link: LinkFollower | None,
) -> RawDocument:
    title = plain_text(entry.get("title", "")) or None
    link = entry.get("link") or None
    published = _published(entry)
    authors = _authors(entry)
    entry_source = entry.get("source") or {}
    outlet = plain_text(entry_source.get("title", "")) or feed_title
    content, kind, language = _best_content(entry)
    language = language or feed_language
    if len(plain_text(content)) < FULL_TEXT_CHARS and link and follow_link:
        try:
            document = follow_link(link)
        except ReadError as err:
            raise ReadError(
                f"entry holds only a summary and its link failed: {err.reason}", err.stage
            ) from None
        document.source = source
        document.title = title or document.title
        document.published = published or document.published
        document.authors = authors or document.authors
        document.outlet = outlet or document.outlet
        document.language = document.language or language
        return document
    if not content.strip():
        raise ReadError("feed entry has no content and no link to follow")
    return RawDocument(
        source=source,
        content=content,
        kind=kind,
        url=link,
        title=title,
        published=published,
        outlet=outlet,
        language=language,
        authors=authors,
    )


def _best_content(entry: Any) -> tuple[str, ContentKind, str | None]:
    """(content, kind, language) of the fullest body the entry carries."""
    options: list[dict[str, Any]] = list(entry.get("content") or [])
    if entry.get("summary"):
        detail = dict(entry.get("summary_detail") or {})
        detail["value"] = entry["summary"]
        options.append(detail)
    if not options:
        return "", "html", None
    best = max(options, key=lambda o: len(plain_text(o.get("value") or "")))
    kind: ContentKind = "text" if best.get("type") == "text/plain" else "html"
    return best.get("value") or "", kind, best.get("language") or None


def _published(entry: Any) -> str | None:
    for key in ("published", "updated", "created"):
        iso = to_iso8601(entry.get(key))
        if iso:
            return iso
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            year, month, day, hour, minute, second = parsed[:6]
            try:
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC).isoformat()
            except (ValueError, OverflowError):  # parsed, but no calendar date (year -1)
                continue
    return None


def _authors(entry: Any) -> list[str]:
    names: list[str] = []
    single = entry.get("author") or ""
    if "@" in single:
        # RSS <author> is "email (Name)"; feedparser's split of it can cut the name.
        raw = [single]
    else:
        raw = [a.get("name", "") for a in entry.get("authors") or [] if isinstance(a, dict)]
        raw = raw or ([single] if single else [])
    for value in raw:
        value = plain_text(value)
        with_name = _EMAIL_WITH_NAME.match(value)
        if with_name:
            value = with_name.group("name").strip()
        elif _EMAIL.match(value):
            continue  # an address is not a byline
        if value and value not in names:
            names.append(value)
    return names
