"""Typed records that flow through the pipeline.

sources -> RawDocument -> extract -> Article -> link -> Story

Every stage is a function over these records; none of them does I/O.
Dates are kept as ISO 8601 strings so that their precision survives
("2021-12-28" is a day, "2021-12-28T07:19:00" a minute); `as_datetime`
turns one into a `datetime` where arithmetic is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ContentKind = Literal["text", "html"]


@dataclass(slots=True)
class RawDocument:
    """One document as a reader found it, before extraction.

    `source` says where it came from (a path, `path:line`, `warc#offset`,
    a feed entry, a URL) so that an error can be traced to one item.
    Fields other than `content` are hints from the container (JSON Lines
    fields, feed entries, HTTP headers); extraction prefers them over what
    it infers from the content.
    """

    source: str
    content: str
    kind: ContentKind
    url: str | None = None
    title: str | None = None
    published: str | None = None
    outlet: str | None = None
    language: str | None = None
    authors: list[str] = field(default_factory=list)
    fetched_at: str | None = None


@dataclass(slots=True)
class Failure:
    """A document that could not be read or processed, and why."""

    source: str
    stage: str  # "read", "decode", "extract", "store", ...
    reason: str


@dataclass(slots=True)
class RemovedBlock:
    """A piece of the input the cleaner dropped, with the signal that fired."""

    text: str
    reason: str


@dataclass(slots=True)
class Article:
    """A clean article with its metadata."""

    id: str
    source: str
    url: str | None
    title: str
    body: str  # paragraphs separated by a blank line
    outlet: str | None = None
    published: str | None = None  # ISO 8601 date or datetime
    authors: list[str] = field(default_factory=list)
    wire_agencies: list[str] = field(default_factory=list)
    language: str | None = None
    canonical_url: str | None = None
    content_hash: str = ""  # of the normalised body, for exact duplicates
    removed: list[RemovedBlock] = field(default_factory=list)
    duplicate_of: str | None = None

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.body.split("\n\n") if p.strip()]


@dataclass(slots=True)
class StorySplit:
    """Articles that left story `from_id` for a new story `into_id`: the linker found that
    the story had absorbed two events.  Both ids stay valid (`from_id` keeps the rest)."""

    from_id: str
    into_id: str
    article_ids: list[str]
    reason: str
    at: str


@dataclass(slots=True)
class Story:
    """A group of articles that report the same real-world story."""

    id: str
    title: str
    first_seen: str | None
    last_seen: str | None
    articles: list[Article] = field(default_factory=list)
    similarity_method: str = ""
    # Splits this story took part in (as the story split from, or the one split into),
    # oldest first.
    splits: list[StorySplit] = field(default_factory=list)


@dataclass(slots=True)
class StorySummary:
    """A row of the story list: what a table or a feed needs, without bodies."""

    id: str
    title: str
    first_seen: str | None
    last_seen: str | None
    article_count: int
    outlets: list[str]


@dataclass(slots=True)
class SearchHit:
    article_id: str
    story_id: str | None
    title: str
    outlet: str | None
    published: str | None
    snippet: str


IngestStatus = Literal["new", "duplicate", "failed"]


@dataclass(slots=True)
class IngestOutcome:
    """What happened to one input document."""

    source: str
    status: IngestStatus
    article_id: str | None = None
    story_id: str | None = None
    duplicate_of: str | None = None
    reason: str | None = None
    title: str | None = None


@dataclass(slots=True)
class IngestReport:
    outcomes: list[IngestOutcome] = field(default_factory=list)

    def count(self, status: IngestStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> list[IngestOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def as_datetime(value: str | None) -> datetime | None:
    """Parse an ISO 8601 date or datetime string; None when absent or invalid."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        try:
            return datetime.combine(date.fromisoformat(value[:10]), datetime.min.time())
        except ValueError:
            return None
