"""Syndicated copy at ingest time: near-duplicates among candidate stories, shared passages.

Pure functions over what the pipeline already holds: the new article's MinHash
signature and the candidate stories' stored features (which carry each
article's id, outlet and signature), and the bodies of a story's articles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from storyline.link.dedup import estimated_jaccard, is_near_duplicate
from storyline.link.passages import ArticlePassage, prepare, shared_passages
from storyline.records import Article
from storyline.store.base import StoryCandidate

# Per-article data this stage stores beside the analysis stages' output.
LINK_ANALYSIS_KINDS = ("shared_passages",)

# A story's passages are computed against a few partners only (the pipeline picks
# the near-copy and the story's members closest by embedding), so the cost of adding
# one article stays bounded however large the story grows.
MAX_PASSAGE_PARTNERS = 30
PASSAGE_PARTNERS = 3


@dataclass(frozen=True, slots=True)
class NearDuplicate:
    story_id: str
    article_id: str
    outlet: str | None
    similarity: float


def find_near_duplicate(
    signature: Sequence[int], candidates: Sequence[StoryCandidate]
) -> NearDuplicate | None:
    """The most similar stored article whose text is a near-copy of this one, if any."""
    best: NearDuplicate | None = None
    for candidate in candidates:
        for features in candidate.features:
            other = features.get("minhash")
            if not other or not is_near_duplicate(signature, other):
                continue
            similarity = estimated_jaccard(signature, other)
            if best is None or similarity > best.similarity:
                best = NearDuplicate(
                    candidate.id, features.get("article_id", ""), features.get("outlet"), similarity
                )
    return best


def nearest_copy(
    signature: Sequence[int], matches: Iterable[tuple[str, str, str | None, Sequence[int]]]
) -> NearDuplicate | None:
    """The most similar near-copy among (article id, story id, outlet, MinHash) matches.

    The matches are what an LSH band-key lookup returned (they share at least one
    band); each is confirmed by its estimated Jaccard.  The first of equals wins.
    """
    best: NearDuplicate | None = None
    for article_id, story_id, outlet, other in matches:
        if not other or not is_near_duplicate(signature, other):
            continue
        similarity = estimated_jaccard(signature, other)
        if best is None or similarity > best.similarity:
            best = NearDuplicate(story_id, article_id, outlet, similarity)
    return best


def passages_against(
    article: Article, partners: Sequence[Article]
) -> dict[str, list[dict[str, Any]]]:
    """Passages `article` shares with each partner, as export items, for both sides.

    Returns article id -> new passage items: the new article's full list and,
    for each partner that shares something, the items to add to its list.
    """
    mine = prepare(article.body)
    found: dict[str, list[dict[str, Any]]] = {article.id: []}
    for other in partners[-MAX_PASSAGE_PARTNERS:]:
        if other.id == article.id or other.duplicate_of:
            continue
        for p in shared_passages(mine, prepare(other.body)):
            found[article.id].append(
                asdict(
                    ArticlePassage(
                        p.a_text, p.a_start, p.a_end, other.id, p.b_start, p.b_end, p.similarity
                    )
                )
            )
            found.setdefault(other.id, []).append(
                asdict(
                    ArticlePassage(
                        p.b_text, p.b_start, p.b_end, article.id, p.a_start, p.a_end, p.similarity
                    )
                )
            )
    return found
