"""What every story linker is: two pure functions and the decision they return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from storyline.records import Article
from storyline.store.base import StoryCandidate


@dataclass(slots=True)
class LinkDecision:
    """The linker's choice: `story_id` None means "start a new story"."""

    story_id: str | None
    score: float
    scores: dict[str, float] = field(default_factory=dict)


class StoryLinker(Protocol):
    similarity_method: str
    window_days: float

    def features(self, article: Article) -> dict[str, Any]: ...

    def decide(
        self, features: Mapping[str, Any], candidates: Sequence[StoryCandidate]
    ) -> LinkDecision: ...
