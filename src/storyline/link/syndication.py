"""Syndicated copy at ingest time: near-duplicates among candidate stories, shared passages.

Pure functions over what the pipeline already holds: the new article's MinHash
signature and the candidate stories' stored features (which carry each
article's id, outlet and signature), and the bodies of a story's articles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from storyline.link.dedup import (
    estimated_jaccard,
    is_empty_signature,
    is_near_duplicate,
    lsh_params,
)
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
        if other is None or not len(other) or not is_near_duplicate(signature, other):
            continue
        similarity = estimated_jaccard(signature, other)
        if best is None or similarity > best.similarity:
            best = NearDuplicate(story_id, article_id, outlet, similarity)
    return best


@dataclass(frozen=True, slots=True, eq=False)  # one entry per article: identity is equality
class _Copy:
    article_id: str
    story_id: str
    outlet: str | None
    signature: np.ndarray  # uint32


def _band_hashes(signature: np.ndarray) -> list[int]:
    """One hash per LSH band, for in-process lookups: equal bands give equal hashes, as
    equal `band_keys` do (a collision only adds a candidate, which Jaccard then rejects)."""
    bands, rows = lsh_params()
    if bands * rows > signature.shape[0] or is_empty_signature(signature):
        return []  # too short to band, or an empty text: nobody's near duplicate
    data = signature.astype("<u4").tobytes()
    width = rows * 4
    return [hash((band, data[band * width : (band + 1) * width])) for band in range(bands)]


class CopyIndex:
    """The articles of a set of stories by LSH band, in memory: `Store.band_key_matches`
    over the stories a caller holds anyway (the pipeline's story window), without a
    store query per article.

    The store's lookup visits every stored copy of a text however old (a text stored
    hundreds of times costs hundreds of row reads before the window filter discards
    most); this index holds only the stories held, and a story leaves it whole.
    Compact: a band held by one article maps to it directly, not to a list.
    """

    def __init__(self) -> None:
        self._by_band: dict[int, _Copy | list[_Copy]] = {}
        self._by_story: dict[str, list[_Copy]] = {}

    def add(
        self, story_id: str, article_id: str, outlet: str | None, signature: Sequence[int]
    ) -> None:
        copy = _Copy(article_id, story_id, outlet, np.asarray(signature, dtype=np.uint32))
        self._by_story.setdefault(story_id, []).append(copy)
        by_band = self._by_band
        for band in _band_hashes(copy.signature):
            held = by_band.get(band)
            if held is None:
                by_band[band] = copy
            elif isinstance(held, list):
                held.append(copy)
            else:
                by_band[band] = [held, copy]

    def drop_story(self, story_id: str) -> None:
        by_band = self._by_band
        for copy in self._by_story.pop(story_id, ()):
            for band in _band_hashes(copy.signature):
                held = by_band.get(band)
                if held is copy:
                    del by_band[band]
                elif isinstance(held, list):
                    held.remove(copy)
                    if len(held) == 1:
                        by_band[band] = held[0]

    def clear(self) -> None:
        self._by_band.clear()
        self._by_story.clear()

    def matches(
        self, signature: Sequence[int], keep: Callable[[str], bool] | None = None
    ) -> list[tuple[str, str, str | None, np.ndarray]]:
        """(article id, story id, outlet, MinHash) of the articles sharing an LSH band with
        `signature`, in stories `keep` accepts: most shared bands first, then by article
        id (a function of the stories held, so every process ranks them alike)."""
        shared: dict[str, int] = {}
        found: dict[str, _Copy] = {}
        for band in _band_hashes(np.asarray(signature, dtype=np.uint32)):
            held = self._by_band.get(band)
            if held is None:
                continue
            for copy in held if isinstance(held, list) else (held,):
                if keep is not None and not keep(copy.story_id):
                    continue
                shared[copy.article_id] = shared.get(copy.article_id, 0) + 1
                found[copy.article_id] = copy
        ranked = sorted(found, key=lambda a: (-shared[a], a))
        return [(a, found[a].story_id, found[a].outlet, found[a].signature) for a in ranked]


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
