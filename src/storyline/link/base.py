"""What every story linker is: two pure functions and the decision they return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from storyline.records import Article
from storyline.store.base import LinkTermStats, StoryCandidate


class FrozenFeatures(Mapping[str, Any]):
    """Link features whose values never change once made: a linker may take the same
    object for the same values, without comparing them (which would decode them)."""

    __slots__ = ()


@dataclass(slots=True)
class LinkDecision:
    """The linker's choice: `story_id` None means "start a new story"."""

    story_id: str | None
    score: float
    scores: dict[str, float] = field(default_factory=dict)


class StoryLinker(Protocol):
    @property
    def similarity_method(self) -> str: ...

    window_days: float

    def features(self, article: Article) -> dict[str, Any]: ...

    def decide(
        self, features: Mapping[str, Any], candidates: Sequence[StoryCandidate]
    ) -> LinkDecision: ...


@runtime_checkable
class StatefulLinker(StoryLinker, Protocol):
    """A linker that learns stream statistics (word rarity) from the articles it stores.

    The pipeline persists what `term_updates` returns in the article's
    transaction, calls `observe` once it committed, and restores the
    statistics from the store when it starts, so a restarted process decides
    exactly as one that never stopped.
    """

    def term_updates(self, features: Mapping[str, Any]) -> dict[str, dict[str, int]]:
        """kind -> term -> count to add to the stored document frequencies for one article."""
        ...

    def observe(self, features: Mapping[str, Any]) -> None: ...

    def restore_stats(self, stats: LinkTermStats) -> None: ...

    def stats_position(self) -> tuple[int, int]:
        """(documents observed, documents at the statistics' last checkpoint)."""
        ...

    def forget_story(self, story_id: str) -> None:
        """Drop what is cached about a story (it left the window, or changed elsewhere)."""
        ...
