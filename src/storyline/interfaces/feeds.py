"""Atom (RFC 4287) feed of new and updated stories, built with ElementTree.

An entry's id is a tag URI built from the story id, so it stays the same
whatever host serves the feed; its `updated` is when the store last changed
the story (a new article joined it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from storyline.records import StorySummary, as_datetime

ATOM_NS = "http://www.w3.org/2005/Atom"
ID_AUTHORITY = "storyline.invalid"  # tag URIs need an authority; ours names no real host
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(slots=True)
class FeedStory:
    summary: StorySummary
    updated: str | None  # when the store last changed the story (ISO 8601)


def rfc3339(value: str | None) -> str | None:
    """An ISO 8601 date/datetime as RFC 3339 in UTC (naive times are taken as UTC)."""
    parsed = as_datetime(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def story_entry_id(story_id: str) -> str:
    return f"tag:{ID_AUTHORITY},2024:story:{story_id}"


def stories_atom(
    stories: Sequence[FeedStory],
    *,
    base_url: str,
    self_url: str,
    query: str | None = None,
    now: datetime | None = None,
) -> str:
    """The feed document (UTF-8 XML text)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    title = f"Storyline: stories matching “{query}”" if query else "Storyline: latest stories"
    sub(feed, "id", f"tag:{ID_AUTHORITY},2024:stories" + (f":q={query}" if query else ""))
    sub(feed, "title", title)
    entry_times = [rfc3339(s.updated or s.summary.last_seen) for s in stories]
    feed_updated = max((t for t in entry_times if t), default=None)
    if feed_updated is None:
        feed_updated = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sub(feed, "updated", feed_updated)
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=base_url + "/")
    author = sub(feed, "author")
    sub(author, "name", "Storyline")
    sub(feed, "generator", "Storyline")

    for story, updated in zip(stories, entry_times, strict=True):
        s = story.summary
        entry = sub(feed, "entry")
        sub(entry, "id", story_entry_id(s.id))
        sub(entry, "title", s.title or "(untitled story)")
        sub(entry, "updated", updated or feed_updated)
        published = rfc3339(s.first_seen)
        if published:
            sub(entry, "published", published)
        sub(entry, "link", rel="alternate", type="text/html", href=f"{base_url}/stories/{s.id}")
        outlets = ", ".join(s.outlets) if s.outlets else "unknown outlets"
        span = s.first_seen or "?"
        if s.last_seen and s.last_seen != s.first_seen:
            span += f" → {s.last_seen}"
        articles = f"{s.article_count} article{'s' if s.article_count != 1 else ''}"
        sub(entry, "summary", f"{articles} from {outlets} ({span})", type="text")
        for outlet in s.outlets:
            sub(entry, "category", term=outlet)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True)
