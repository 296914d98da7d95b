"""Syndicated copy at ingest time: near-duplicates among candidate stories, shared passages.

Pure functions over what the pipeline already holds: the new article's MinHash
signature and the candidate stories' stored features (which carry each
article's id, outlet and signature), and the bodies of a story's articles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from storyline.link.dedup import estimated_jaccard, is_near_duplicate
from storyline.link.passages import PreparedText, prepare, shared_passages
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


def _passage_item(
    text: str, start: int, end: int, with_id: str, with_start: int, with_end: int, similarity: float
) -> dict[str, Any]:
    # `asdict(ArticlePassage(...))`, without dataclasses' recursive copy.
    return {
        "text": text,
        "start": start,
        "end": end,
        "with_article_id": with_id,
        "with_start": with_start,
        "with_end": with_end,
        "similarity": similarity,
    }


def passages_against(
    article: Article,
    partners: Sequence[Article],
    prepared: Callable[[Article], PreparedText] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Passages `article` shares with each partner, as export items, for both sides.

    Returns article id -> new passage items: the new article's full list and,
    for each partner that shares something, the items to add to its list.
    `prepared` gives an article's tokenised body (a caller's cache: a story's
    articles are partners again and again); by default each is tokenised here.
    """
    tokenised = prepared or (lambda a: prepare(a.body))
    mine = tokenised(article)
    found: dict[str, list[dict[str, Any]]] = {article.id: []}
    for other in partners[-MAX_PASSAGE_PARTNERS:]:
        if other.id == article.id or other.duplicate_of:
            continue
        for p in shared_passages(mine, tokenised(other)):
            found[article.id].append(
                _passage_item(
                    p.a_text, p.a_start, p.a_end, other.id, p.b_start, p.b_end, p.similarity
                )
            )
            found.setdefault(other.id, []).append(
                _passage_item(
                    p.b_text, p.b_start, p.b_end, article.id, p.a_start, p.a_end, p.similarity
                )
            )
    return found
