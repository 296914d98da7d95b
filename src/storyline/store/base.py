"""The storage interface. SQLite implements it now; PostgreSQL will implement it too.

Everything the pipeline and the interfaces need from storage goes through
`Store`; nothing else touches the database.  Writes happen inside
`transaction()`, one per ingested document, so a crash leaves every document
either fully stored or absent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any, Literal

from storyline.records import Article, SearchHit, Story, StorySummary, as_datetime


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
    features: list[Mapping[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class LinkTermStats:
    """The story linker's stored document frequencies (see link/stories.py `CheckpointStats`).

    `df[kind][term]` is (document frequency now, document frequency at the last
    checkpoint); `documents` / `checkpoint_documents` count the articles behind them.
    """

    documents: int = 0
    checkpoint_documents: int = 0
    df: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)


def window_bounds(around: str | None, window_days: float) -> tuple[str, str] | None:
    """The `sort_key` range (low, high) of stories active within `window_days` of `around`.

    Whole days, widened on both sides: a story known only by its date
    ("2021-12-28") overlaps any time on that day.  None when `around` has no date.
    """
    centre = as_datetime(around)
    if centre is None:
        return None
    naive = centre.astimezone(UTC).replace(tzinfo=None) if centre.tzinfo else centre
    span = timedelta(days=max(window_days, 0.0))
    return (naive - span).date().isoformat(), (naive + span).date().isoformat() + "T99"


# Full-text ranking is bounded: `search` and relevance-ordered `find_stories` rank
# (bm25 / ts_rank) only the newest this-many matching articles (by ingest order),
# so a query matching nearly everything costs what a selective one does.  Queries
# with fewer matches are ranked exactly.
SEARCH_CANDIDATES = 2_000


@dataclass(frozen=True, slots=True)
class StoryQuery:
    """Filters for `Store.find_stories`; every field left None matches everything."""

    text: str | None = None  # full-text query over article titles and bodies
    phrase: str | None = None  # an exact phrase some article of the story must contain
    # an actor of the story: a name that some article's "people" analysis found (as an
    # entity's canonical name or its text), compared case-insensitively, as a whole name
    entity: str | None = None
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

    # -- the global stage's memory (story linking and near-duplicates) ----------
    @abstractmethod
    def stories_between(self, low: str, high: str) -> list[StoryCandidate]:
        """Every story with last_seen >= low and first_seen <= high (no features)."""

    @abstractmethod
    def recent_stories(self, limit: int) -> list[StoryCandidate]:
        """The most recently updated stories, newest first (no features)."""

    @abstractmethod
    def stories_by_id(self, story_ids: Sequence[str]) -> list[StoryCandidate]:
        """These stories as they are stored now (no features); unknown ids are left out."""

    @abstractmethod
    def story_features(self, story_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The link features of each story's articles, in the order they were stored."""

    @abstractmethod
    def link_state(self, name: str) -> int | None:
        """A counter of the global stage ('changes', 'documents', 'ready', ...), None if unset."""

    @abstractmethod
    def set_link_state(self, name: str, value: int) -> None: ...

    @abstractmethod
    def add_band_keys(self, article_id: str, signature: Sequence[int], keys: Sequence[str]) -> None:
        """Index an article's MinHash and its LSH band keys (near-duplicate candidates)."""

    @abstractmethod
    def band_key_matches(
        self, keys: Sequence[str], limit: int = 100, within: tuple[str, str] | None = None
    ) -> list[tuple[str, str, str | None, list[int]]]:
        """(article id, story id, outlet, MinHash) of stored articles in a story sharing a key.

        At most `limit`, those sharing the most keys first (then the earliest stored).
        `within`: a `sort_key` range (`window_bounds`): only articles of stories active in
        it, as `candidate_stories` reads them.
        """

    @abstractmethod
    def add_link_terms(
        self, terms: dict[str, dict[str, int]], documents: int = 1
    ) -> tuple[int, int]:
        """Add to the linker's document frequencies (kind -> term -> count) and documents.

        Returns (documents, checkpoint_documents) after the update.
        """

    @abstractmethod
    def checkpoint_link_terms(self) -> int:
        """Make the current frequencies the checkpoint; returns its document count."""

    @abstractmethod
    def load_link_terms(self) -> LinkTermStats: ...

    @abstractmethod
    def iter_link_features(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(article id, story id, features) of every article in a story, in stored order."""

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

    @abstractmethod
    def split_story(
        self, story_id: str, article_ids: Sequence[str], new_story_id: str, reason: str
    ) -> None:
        """Move `article_ids` (some, not all, of `story_id`'s articles) to a new story
        `new_story_id`, recount both, and record the split (`Story.splits` of both).

        Both ids stay valid: `story_id` keeps the other articles, and articles are
        addressed by their own ids wherever their story is.  The new story takes the title
        of its earliest article; so does the old one if its title came from a moved one.
        """

    # -- search --------------------------------------------------------------
    @abstractmethod
    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Full-text search over titles and bodies; bad query syntax is treated as words.

        The best `limit` hits among the newest `SEARCH_CANDIDATES` matching articles.
        """

    # -- corpus-level cleaner memory -----------------------------------------
    @abstractmethod
    def boilerplate_counts(self, outlet: str, line_hashes: Sequence[str]) -> dict[str, int]:
        """How many stored articles of `outlet` contained each line hash."""

    @abstractmethod
    def add_boilerplate_lines(self, outlet: str, line_hashes: Sequence[str]) -> dict[str, int]:
        """Count one more article of `outlet` for each distinct line hash; the new counts."""

    @abstractmethod
    def known_boilerplate_lines(self, outlet: str, min_articles: int) -> frozenset[str]:
        """The line hashes seen in at least `min_articles` stored articles of `outlet`."""

    # -- failures ------------------------------------------------------------
    @abstractmethod
    def record_failure(self, source: str, stage: str, reason: str) -> None: ...

    @abstractmethod
    def recent_failures(self, limit: int = 50) -> list[IngestError]: ...

    # -- integrity -----------------------------------------------------------
    @abstractmethod
    def check(self) -> list[str]:
        """Integrity problems found (empty when the store is consistent)."""
