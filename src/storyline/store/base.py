"""The storage interface. SQLite implements it now; PostgreSQL will implement it too.

Everything the pipeline and the interfaces need from storage goes through
`Store`; nothing else touches the database.  Writes happen inside
`transaction()`, one per ingested document, so a crash leaves every document
either fully stored or absent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal

from storyline.records import Article, SearchHit, Story, StorySummary


class StoreError(Exception):
    """A storage operation failed (the message says which and why)."""


@dataclass(slots=True)
class StoryCandidate:
    """What the story linker sees of an existing story."""

    id: str
    title: str
    first_seen: str | None
    last_seen: str | None
    article_count: int
    # Per-article link features, as the linker stored them (see link/stories.py).
    features: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StoryQuery:
    """Filters for `Store.find_stories`; every field left None matches everything."""

    text: str | None = None  # full-text query over article titles and bodies
    phrase: str | None = None  # an exact phrase some article of the story must contain
    outlet: str | None = None  # some article of the story is from this outlet
    language: str | None = None  # some article of the story is in this language
    since: str | None = None  # ISO date: the story was still reported on or after it
    until: str | None = None  # ISO date: the story had begun on or before it
    # "updated": most recently changed first; "relevance": best full-text match first
    order: Literal["updated", "relevance"] = "updated"


@dataclass(slots=True)
class StoryFacets:
    """Values the story filters can take, with how many articles carry each."""

    outlets: list[tuple[str, int]] = field(default_factory=list)
    languages: list[tuple[str, int]] = field(default_factory=list)
    first_seen: str | None = None
    last_seen: str | None = None


@dataclass(slots=True)
class IngestError:
    source: str
    stage: str
    reason: str
    at: str


class Store(ABC):
    """One storage interface for every backend."""

    url: str

    # -- lifecycle -----------------------------------------------------------
    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction; nested use joins the outer one."""

    # -- documents -----------------------------------------------------------
    @abstractmethod
    def has_article(self, article_id: str) -> bool: ...

    @abstractmethod
    def find_by_content_hash(self, content_hash: str) -> str | None:
        """Id of a stored, non-duplicate article with this body hash, if any."""

    @abstractmethod
    def find_by_canonical_url(self, canonical_url: str) -> str | None: ...

    @abstractmethod
    def add_article(
        self,
        article: Article,
        story_id: str | None,
        features: dict[str, Any] | None = None,
    ) -> None:
        """Insert an article (raises StoreError if its id exists) and link it to a story."""

    @abstractmethod
    def get_article(self, article_id: str) -> Article | None: ...

    @abstractmethod
    def article_story_id(self, article_id: str) -> str | None: ...

    @abstractmethod
    def count_articles(self) -> int: ...

    # -- analysis results (per article, JSON, by kind) -----------------------
    @abstractmethod
    def put_analysis(self, article_id: str, kind: str, data: Any) -> None: ...

    @abstractmethod
    def get_analysis(self, article_id: str, kind: str) -> Any | None: ...

    # -- stories -------------------------------------------------------------
    @abstractmethod
    def create_story(self, story_id: str, title: str, method: str) -> None: ...

    @abstractmethod
    def candidate_stories(
        self, around: str | None, window_days: float, limit: int = 500
    ) -> list[StoryCandidate]:
        """Stories active within `window_days` of `around` (ISO date), most recent first.

        With `around` None, the most recently updated stories.
        """

    @abstractmethod
    def list_stories(self, limit: int = 50, offset: int = 0) -> list[StorySummary]: ...

    @abstractmethod
    def count_stories(self) -> int: ...

    @abstractmethod
    def find_stories(
        self, query: StoryQuery, limit: int = 50, offset: int = 0
    ) -> list[StorySummary]:
        """Stories matching every filter of `query`, in `query.order`.

        Bad full-text syntax is treated as words, as in `search`.
        """

    @abstractmethod
    def story_facets(self) -> StoryFacets:
        """The outlets and languages present (most articles first) and the stories' date span."""

    @abstractmethod
    def story_updated_at(self, story_ids: Sequence[str]) -> dict[str, str]:
        """When each story last changed (UTC ISO 8601), for feeds; unknown ids are left out."""

    @abstractmethod
    def get_story(self, story_id: str) -> Story | None:
        """The story with its articles in publication order; accepts a unique id prefix."""

    @abstractmethod
    def iter_stories(self) -> Iterator[Story]: ...

    @abstractmethod
    def merge_stories(self, from_id: str, into_id: str, reason: str) -> None:
        """Move `from_id`'s articles into `into_id`, delete `from_id`, and redirect it.

        `get_story(from_id)` then returns `into_id`; redirects that led to
        `from_id` are re-pointed so chains stay one hop long.
        """

    # -- search --------------------------------------------------------------
    @abstractmethod
    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Full-text search over titles and bodies; bad query syntax is treated as words."""

    # -- corpus-level cleaner memory -----------------------------------------
    @abstractmethod
    def boilerplate_counts(self, outlet: str, line_hashes: Sequence[str]) -> dict[str, int]:
        """How many stored articles of `outlet` contained each line hash."""

    @abstractmethod
    def add_boilerplate_lines(self, outlet: str, line_hashes: Sequence[str]) -> None: ...

    # -- failures ------------------------------------------------------------
    @abstractmethod
    def record_failure(self, source: str, stage: str, reason: str) -> None: ...

    @abstractmethod
    def recent_failures(self, limit: int = 50) -> list[IngestError]: ...

    # -- integrity -----------------------------------------------------------
    @abstractmethod
    def check(self) -> list[str]:
        """Integrity problems found (empty when the store is consistent)."""
