"""Online story clustering: each new article joins the best existing story or starts one.

The decision combines several signals between the new article and one
candidate story, each a number in a comparable range:

- ``cos_max`` / ``cos_centroid``: dense-embedding cosine (title + body, first
  2000 characters) to the story's closest article and to its centroid;
- ``terms``: TF-IDF cosine of the article's words with the story's words, IDF
  from the stream seen so far (rare shared words - names, places, numbers -
  are what separates two look-alike events of the same kind);
- ``entities``: share of the article's entity-like names (IDF-weighted) that
  the story also mentions;
- ``passages``: share of the article's sampled word 6-grams found in the story
  (shared wire passages, quotes);
- ``terms_nn``, ``entities_nn``, ``lead_nn``, ``lead_nn_back``, ``lead_terms_nn``:
  the same comparisons one to one with the story's nearest members, and for the
  names and words of the lead (title + first sentences: who, where, when);
- ``years_conflict``: both mention years, none in common;
- ``time_gap``: log of days to the story's nearest article, when both have dates.

A logistic model turns them into the probability that the article belongs to
the story; its weights and the join threshold were learned on development data
(see `bench/stories_train.py` and docs/benchmarks.md), not set by hand.  The
rule is pure given the stream statistics it keeps (document frequencies),
which the caller updates with `observe` once an article is stored.
"""

from __future__ import annotations

import base64
import bisect
import math
from collections.abc import Callable, Container, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

import numpy as np

from storyline.link.base import FrozenFeatures, LinkDecision
from storyline.link.embed import Embedder
from storyline.link.features import (
    TermStats,
    entity_names,
    shingle_sample,
    sublinear,
    term_counts,
)
from storyline.records import as_datetime
from storyline.store.base import StoryCandidate

FEATURES_VERSION = 1
FEATURE_NAMES: tuple[str, ...] = (
    "cos_max",
    "cos_centroid",
    "terms",
    "entities",
    "passages",
    "time_gap",
    "time_known",
    "terms_nn",
    "entities_nn",
    "years_conflict",
    "lead_nn",
    "lead_nn_back",
    "lead_terms_nn",
)
# The lead (title and first sentences) says who, where and when; names there
# separate look-alike events better than names anywhere in the text.
LEAD_CHARS = 400
# The story members (closest by embedding) that the new article is compared
# with one to one: a story that absorbed a look-alike event must not attract
# more of it through the union of its words.
NEAREST_MEMBERS = 3
# How many candidates (best by centroid cosine) get the full comparison: the
# rest cannot win, and this keeps the cost of one decision flat however many
# stories the window holds.
SHORTLIST = 3
# Training compares each article with this many nearest stories only: the hard
# negatives (look-alike events) are what the weights must separate.
TRAIN_SHORTLIST = 3
# The newest articles of a story that stand for it: its embeddings, centroid, words,
# names and passages (bounded work per story).  A story that never goes quiet is
# compared by what it reports now, not by everything it ever absorbed: on the 100k
# generated corpus, all-time profiles let long stories absorb any article on their
# topic (BCubed 0.776 -> 0.832 with the newest members only; ECB+ and NewsWCL50
# stories are smaller, so unchanged).
STORY_MEMORY = 50

# Learned by bench/stories_train.py (use-multilingual-v3): logistic weights from online gold
# replays of ECB+ topics 1-35, threshold maximising ECB+ BCubed F1 (see docs/benchmarks.md).
# ECB+ has no dates, so the time weights stay 0: time acts through the candidate window.
DEFAULT_WEIGHTS: dict[str, float] = {
    "cos_max": 0.151,
    "cos_centroid": 0.194,
    "terms": 2.023,
    "entities": 1.602,
    "passages": 1.706,
    "time_gap": 0.000,
    "time_known": 0.000,
    "terms_nn": 4.776,
    "entities_nn": 1.938,
    "years_conflict": -1.595,
    "lead_nn": 0.741,
    "lead_nn_back": 3.196,
    "lead_terms_nn": 5.661,
}
DEFAULT_BIAS = -6.343
DEFAULT_THRESHOLD = 0.2
# Two stories merge when an article joins one of them while scoring above the join
# threshold with the other too, and the stories' members then match each other with at
# least this mean probability (average linkage; tuned on ECB+ by bench/stories_train.py).
DEFAULT_MERGE_THRESHOLD = 0.6
# A story splits when its members (the joining article included) fall into two groups of
# at least SPLIT_MIN_GROUP whose mean pairwise probability across is below this, each
# group holding together at least as well (average linkage; 0 = never split).  Off: the
# thresholds bench/stories_train.py learns (0.1-0.2 per fold) did not raise held-out ECB+
# BCubed F1 (0.892 with, 0.894 without; docs/benchmarks.md) and double the cost of a decision.
DEFAULT_SPLIT_THRESHOLD = 0.0
SPLIT_MIN_GROUP = 2
# Only stories up to this size are checked: the pairwise probabilities are kept per story
# (one row per new member), and a story that absorbed another event is split while it is
# young, before the second event's articles are many.
SPLIT_MAX_MEMBERS = 24
# Learned by bench/stories_train.py: ridge regression of ECB+ graded relatedness (same event
# 1, the topic's look-alike event 0.5, another topic 0) on the symmetric pair vector; the
# SemEval-2022 Task 8 ratings are only a check (docs/benchmarks.md).
DEFAULT_SIMILARITY_WEIGHTS: dict[str, float] = {
    "cos_max": 0.4004,
    "cos_centroid": 0.4007,
    "terms": 0.1159,
    "entities": 0.1543,
    "passages": -1.0713,
    "time_gap": 0.0000,
    "time_known": 0.0000,
    "terms_nn": 0.1159,
    "entities_nn": 0.1543,
    "years_conflict": -0.0526,
    "lead_nn": 0.0764,
    "lead_nn_back": 0.0764,
    "lead_terms_nn": 0.7533,
}
DEFAULT_SIMILARITY_BIAS = -0.1351


# -- per-article features (computed once, stored as JSON) ---------------------
def encode_vector(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def decode_vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)


def embedding_text(title: str, body: str) -> str:
    return f"{title.strip()}\n{body.strip()}".strip()


def article_features(
    title: str,
    body: str,
    published: str | None,
    language: str | None,
    embedder: Embedder,
    entities: Sequence[str] | None = None,
    embedding: np.ndarray | None = None,
) -> dict[str, Any]:
    """The JSON-serialisable link features of one article.

    `entities` (names from an entity tagger) replace the capitalised-word proxy
    when given; `embedding` skips the model when the vector is already known.
    """
    text = embedding_text(title, body)
    if embedding is None:
        embedding = embedder.embed([text])[0]
    names = [e.lower() for e in entities] if entities is not None else entity_names(text)
    return {
        "version": FEATURES_VERSION,
        "model": embedder.name,
        "embedding": encode_vector(embedding),
        "terms": term_counts(text),
        "entities": sorted(set(names)),
        "lead_terms": term_counts(text[:LEAD_CHARS]),
        "lead_entities": sorted({n for n in entity_names(text[:LEAD_CHARS]) if n in set(names)}),
        "shingles": shingle_sample(text),
        "published": published,
        "language": language,
    }


def _day_number(published: str | None) -> float | None:
    moment = as_datetime(published)
    if moment is None:
        return None
    return (
        moment.timestamp() / 86400.0
        if moment.tzinfo
        else (
            moment.toordinal() + (moment.hour * 3600 + moment.minute * 60 + moment.second) / 86400.0
        )
        - 719163.0
    )


@dataclass(slots=True)
class _Article:
    """Decoded features of one article (decoded once, reused)."""

    embedding: np.ndarray
    terms: dict[str, float]
    entities: list[str]
    shingles: frozenset[int]
    day: float | None
    years: frozenset[int] = frozenset()
    norm_cache: tuple[int, float] = (-1, 0.0)
    entity_set: frozenset[str] = frozenset()
    lead: frozenset[str] = frozenset()
    lead_terms: dict[str, float] = field(default_factory=dict)
    lead_norm_cache: tuple[int, float] = (-1, 0.0)
    # IDF of the article's words, names and lead names, each with the statistics object
    # and cache generation it was read at: reused while that cache still holds them
    # (see `TermStats.cache_holds`), so the values are exactly what `idf` would return.
    term_idf: dict[str, float] = field(default_factory=dict)
    term_idf_stamp: tuple[TermStats, int] | None = None
    entity_idf: dict[str, float] = field(default_factory=dict)
    entity_idf_stamp: tuple[TermStats, int] | None = None
    lead_idf: list[tuple[str, float]] = field(default_factory=list)  # in `lead` order
    lead_idf_total: float = 0.0
    lead_idf_stamp: tuple[TermStats, int] | None = None
    source: tuple[Any, ...] = ()  # the feature values it was decoded from (`_decoded_from`)
    origin: FrozenFeatures | None = None  # the frozen features object it was decoded from

    @classmethod
    def from_features(cls, features: Mapping[str, Any]) -> _Article:
        return cls(
            embedding=decode_vector(features["embedding"]),
            terms=sublinear(features.get("terms") or {}),
            entities=list(features.get("entities") or []),
            shingles=frozenset(features.get("shingles") or []),
            day=_day_number(features.get("published")),
            years=frozenset(_years(features.get("entities") or [])),
            entity_set=frozenset(features.get("entities") or []),
            lead=frozenset(features.get("lead_entities") or []),
            lead_terms=sublinear(features.get("lead_terms") or {}),
        )

    def as_new_member(self) -> _Article:
        """The same decoded article with fresh norm caches, as `from_features` would give.

        A story member's cached norms are taken when it is first compared as a member;
        reusing the article decoded for its own decision must not change that.  The IDF
        maps carry over: they are valid exactly while their stamps say so.
        """
        return _Article(
            embedding=self.embedding,
            terms=self.terms,
            entities=self.entities,
            shingles=self.shingles,
            day=self.day,
            years=self.years,
            entity_set=self.entity_set,
            lead=self.lead,
            lead_terms=self.lead_terms,
            term_idf=self.term_idf,
            term_idf_stamp=self.term_idf_stamp,
            entity_idf=self.entity_idf,
            entity_idf_stamp=self.entity_idf_stamp,
            lead_idf=self.lead_idf,
            lead_idf_total=self.lead_idf_total,
            lead_idf_stamp=self.lead_idf_stamp,
            source=self.source,
            origin=self.origin,
        )


def _years(names: Iterable[str]) -> list[int]:
    return [int(n) for n in names if len(n) == 4 and n.isdigit() and 1900 <= int(n) <= 2099]


@dataclass(slots=True)
class _StorySummary:
    """What one comparison needs of a story, updated as articles join it."""

    size: int = 0
    embeddings: np.ndarray | None = None  # (n, dim) of the newest STORY_MEMORY articles
    embedding_sum: np.ndarray | None = None
    centroid: np.ndarray | None = None
    # The newest STORY_MEMORY members' words (summed weights), names and sampled word
    # 6-grams (members holding each), kept as counts so a member leaving is subtracted.
    terms: dict[str, float] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)
    shingles: dict[int, int] = field(default_factory=dict)
    days: list[float] = field(default_factory=list)  # sorted, for the nearest date by bisection
    years: set[int] = field(default_factory=set)
    members: list[_Article] = field(default_factory=list)  # aligned with `embeddings`
    seen: set[str] = field(default_factory=set)  # embeddings (base64) absorbed so far
    norm_cache: tuple[int, float] = (-1, 0.0)
    centroid_row: int = -1  # the centroid's row in the clusterer's `_CentroidTable`
    centroid_dim: int = 0
    # The candidate's feature list as last seen whole and comparable, and its length:
    # the same list at the same length is the same story (lists only grow by appending).
    checked_features: list[Any] | None = None
    checked_length: int = -1
    # For the split check: each member as a one-article story (aligned with `members`) and
    # the symmetric probabilities between the first len(links) members.
    singles: list[_StorySummary] = field(default_factory=list)
    links: np.ndarray | None = None
    # The last checked article's links to the members (by its embedding): its row once it
    # is a member, computed from the same values (the summary is dropped when IDF moves).
    pending_row: tuple[str, np.ndarray] | None = None

    @classmethod
    def build(cls, articles: Iterable[_Article]) -> _StorySummary:
        summary = cls()
        for article in articles:
            summary.absorb(article)
        return summary

    def absorb(
        self,
        article: _Article,
        idf: Callable[[_Article], Mapping[str, float]] | None = None,
    ) -> None:
        """Add a member (the oldest of STORY_MEMORY leaves the profile); with `idf` (the
        IDF of an article's words), the cached norm of the word vector is updated in place."""
        leaving = self.members[0] if len(self.members) >= STORY_MEMORY else None
        seen_at, norm = self.norm_cache
        terms = self.terms
        if idf is not None and seen_at >= 0 and leaving is None:
            # (A member leaving invalidates the norm anyway: no update to keep then.)
            weights = idf(article)
            squared = norm * norm
            # One pass: each word occurs once in `article.terms`, so `old` is the value
            # before this article, as in two separate passes.
            for term, weight in article.terms.items():
                old = terms.get(term, 0.0)
                squared += ((old + weight) ** 2 - old * old) * weights[term] ** 2
                terms[term] = old + weight
            self.norm_cache = (seen_at, math.sqrt(max(squared, 0.0)) or 1.0)
        else:
            self.norm_cache = (-1, 0.0)
            if not terms:  # the first member: 0.0 + weight is weight (weights are >= 1)
                terms.update(article.terms)
            else:
                for term, weight in article.terms.items():
                    terms[term] = terms.get(term, 0.0) + weight
        vector = article.embedding[None, :]
        if self.embeddings is None or self.embedding_sum is None:
            self.embeddings = vector.copy()
            self.embedding_sum = article.embedding.astype(np.float32).copy()
        else:
            self.embeddings = np.vstack([self.embeddings[-(STORY_MEMORY - 1) :], vector])
            self.embedding_sum = self.embedding_sum + article.embedding
        self.members = [*self.members[-(STORY_MEMORY - 1) :], article]
        self.years.update(article.years)
        _count(self.entities, article.entities, 1)
        _count(self.shingles, article.shingles, 1)
        if leaving is not None:
            self.embedding_sum = self.embedding_sum - leaving.embedding
            _count(self.entities, leaving.entities, -1)
            _count(self.shingles, leaving.shingles, -1)
            for term, weight in leaving.terms.items():
                left = terms[term] - weight
                if left > 1e-6:  # weights are >= 1: what is left below is rounding
                    terms[term] = left
                else:
                    del terms[term]
        self.centroid = _unit(self.embedding_sum)
        if article.day is not None:
            bisect.insort(self.days, article.day)
        self.size += 1

    def nearest_day_gap(self, day: float) -> float:
        """min |day - d| over the story's dates (subtraction is monotonic, so the dates
        either side of `day` give the exact minimum)."""
        days = self.days
        at = bisect.bisect_left(days, day)
        gaps = [abs(day - days[i]) for i in (at - 1, at) if 0 <= i < len(days)]
        return min(gaps)


class _CentroidTable:
    """The centroids of the cached story summaries as rows of one matrix per dimension,
    written as stories change: scoring a window takes its rows in one indexing operation
    instead of stacking a hundred arrays per decision."""

    def __init__(self) -> None:
        self._matrices: dict[int, np.ndarray] = {}
        self._used: dict[int, int] = {}
        self._free: dict[int, list[int]] = {}

    def put(self, summary: _StorySummary) -> None:
        centroid = summary.centroid
        if centroid is None or centroid.ndim != 1:
            return
        dim = centroid.shape[0]
        if summary.centroid_row >= 0 and summary.centroid_dim != dim:
            self.release(summary)
        if summary.centroid_row < 0:
            summary.centroid_row, summary.centroid_dim = self._allocate(dim), dim
        self._matrices[dim][summary.centroid_row] = centroid

    def release(self, summary: _StorySummary) -> None:
        if summary.centroid_row >= 0:
            self._free[summary.centroid_dim].append(summary.centroid_row)
            summary.centroid_row = -1

    def rows(self, dim: int, rows: list[int]) -> np.ndarray:
        """The given rows as a new (len(rows), dim) array, in that order."""
        return self._matrices[dim][rows]

    def _allocate(self, dim: int) -> int:
        free = self._free.setdefault(dim, [])
        if free:
            return free.pop()
        used = self._used.get(dim, 0)
        matrix = self._matrices.get(dim)
        if matrix is None or used == len(matrix):
            grown = np.zeros((max(256, 2 * used), dim), dtype=np.float32)
            if matrix is not None:
                grown[:used] = matrix[:used]
            self._matrices[dim] = grown
        self._used[dim] = used + 1
        return used


# The features `_Article.from_features` reads: a remembered decoded article stands for
# stored features only when all of them are the same.
_DECODED_KEYS = (
    "embedding",
    "terms",
    "entities",
    "shingles",
    "published",
    "lead_entities",
    "lead_terms",
)
# How many decided articles are kept decoded until a story absorbs them, and how many
# members of forgotten story summaries (bounded memory, a few tens of MB at most).
DECODED_MEMORY = 256
RETIRED_MEMORY = 1024


def _decoded_from(features: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(features.get(key) for key in _DECODED_KEYS)


def _centroid(story: _StorySummary) -> np.ndarray:
    if story.centroid is None:
        raise ValueError("a story without articles has no centroid")
    return story.centroid


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm else vector.astype(np.float32)


@dataclass(slots=True)
class MergingDecision(LinkDecision):
    """A link decision that also merges stories.

    The article joins `story_id`; every story in `merge_from` then moves into
    `story_id` (its id redirects there): the article showed that they report
    one story.  `story_id` is the largest of the merged stories, so the id most
    links point to stays the story's id.
    """

    merge_from: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SplittingDecision(LinkDecision):
    """A link decision that also splits the story the article joins.

    `story_id` is the story the article joined; its members showed two events.  The
    members at `split_off` (positions in that candidate's `features`) move to a new story,
    and the article goes with them when `article_moves` (else it stays in `story_id`).
    The larger group keeps the old id (ties: the group holding the story's first member).
    """

    split_off: list[int] = field(default_factory=list)
    article_moves: bool = False


class OnlineClusterer:
    """The link decision rule: join the most probable story above a threshold, else start one."""

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        bias: float | None = None,
        threshold: float | None = None,
        stats: TermStats | None = None,
        entity_stats: TermStats | None = None,
        shortlist: int = SHORTLIST,
        similarity_weights: Mapping[str, float] | None = None,
        similarity_bias: float | None = None,
        merge_threshold: float | None = None,
        split_threshold: float | None = None,
    ) -> None:
        self.merge_threshold = (
            DEFAULT_MERGE_THRESHOLD if merge_threshold is None else merge_threshold
        )
        self.split_threshold = (
            DEFAULT_SPLIT_THRESHOLD if split_threshold is None else split_threshold
        )
        chosen = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self.weights = np.array([chosen.get(n, 0.0) for n in FEATURE_NAMES], dtype=np.float64)
        self.bias = DEFAULT_BIAS if bias is None else bias
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.stats = stats or TermStats()
        self.entity_stats = entity_stats or TermStats()
        self.shortlist = shortlist
        chosen_similarity = dict(
            DEFAULT_SIMILARITY_WEIGHTS if similarity_weights is None else similarity_weights
        )
        self.similarity_weights = np.array([chosen_similarity.get(n, 0.0) for n in FEATURE_NAMES])
        self.similarity_bias = (
            DEFAULT_SIMILARITY_BIAS if similarity_bias is None else similarity_bias
        )
        self._summaries: dict[str, _StorySummary] = {}
        self._centroids = _CentroidTable()
        # Articles decoded for their own decision, by embedding, until a story absorbs them.
        self._decoded: dict[str, _Article] = {}
        # Members of forgotten summaries (merged away, or dropped to be rebuilt), likewise.
        self._retired: dict[str, _Article] = {}

    @property
    def similarity_method(self) -> str:
        return "online-logit-v1(embedding+idf-terms+names+passages+time)"

    # -- stream statistics ---------------------------------------------------
    def observe(self, features: Mapping[str, Any]) -> None:
        """Count a stored article in the stream statistics (call once per stored article)."""
        self.stats.observe((features.get("terms") or {}).keys())
        self.entity_stats.observe(features.get("entities") or [])

    def idf_moved(self) -> None:
        """The statistics took a checkpoint: drop what was computed with the old IDF.

        A story's words, names, passages and embeddings are counts, independent of
        the IDF, and stay; the word-vector norms (the story's and its members') and the
        split check's member probabilities are computed again when next needed, as a
        summary rebuilt from the stored features would compute them.  Rebuilding every
        summary instead cost most of the global stage of a batch: checkpoints come every
        5% of growth, and each rebuild decodes and absorbs up to STORY_MEMORY members.
        """
        for summary in self._summaries.values():
            summary.norm_cache = (-1, 0.0)
            summary.links = None
            summary.pending_row = None
            summary.singles = []
            for member in summary.members:
                member.norm_cache = member.lead_norm_cache = (-1, 0.0)

    def forget_story(self, story_id: str) -> None:
        summary = self._summaries.pop(story_id, None)
        if summary is not None:
            self._centroids.release(summary)
            for member in summary.members:
                _keep(self._retired, member, RETIRED_MEMORY)

    # -- decision ------------------------------------------------------------
    def decide(
        self, features: Mapping[str, Any], candidates: Sequence[StoryCandidate]
    ) -> LinkDecision:
        article = _Article.from_features(features)
        scored = self.score_candidates(article, candidates)
        self._remember_decoded(features, article)
        if not scored:
            return LinkDecision(story_id=None, score=0.0, scores={})
        best_id, best = max(scored.items(), key=lambda item: item[1])
        if best < self.threshold:
            return LinkDecision(story_id=None, score=best, scores=scored)
        merged = self._merges(article, best_id, scored)
        if not merged:
            split = self._split(article, best_id, candidates)
            if split is not None:
                split_off, article_moves = split
                return SplittingDecision(
                    story_id=best_id,
                    score=best,
                    scores=scored,
                    split_off=split_off,
                    article_moves=article_moves,
                )
            return LinkDecision(story_id=best_id, score=best, scores=scored)
        group = [best_id, *merged]
        survivor = max(group, key=lambda story_id: self._summaries[story_id].size)
        return MergingDecision(
            story_id=survivor,
            score=best,
            scores=scored,
            merge_from=[story_id for story_id in group if story_id != survivor],
        )

    def _merges(self, article: _Article, joined: str, scored: Mapping[str, float]) -> list[str]:
        """Other scored stories that the article bridges to `joined` and that match it as a whole.

        Only the runner-up story, and only when the article scores at least
        `merge_threshold` with it too, is checked (so most decisions cost
        nothing more, and none more than a few comparisons); it merges when the members
        of both stories nearest each other match across with mean probability
        >= `merge_threshold` (average linkage, so one article alone cannot
        chain two stories together).
        """
        if self.merge_threshold > 1.0:
            return []
        story = self._summaries[joined]
        merged = []
        runners_up = sorted(
            ((p, i) for i, p in scored.items() if i != joined and p >= self.merge_threshold),
            reverse=True,
        )
        for probability, other_id in runners_up[:1]:
            other = self._summaries[other_id]
            linkage = [probability]
            for first, second in ((story, other), (other, story)):
                assert first.embeddings is not None
                nearest = np.argsort(-(first.embeddings @ _centroid(second)))[:NEAREST_MEMBERS]
                linkage += [
                    self.probability(self.pair_vector(first.members[int(i)], second))
                    for i in nearest
                ]
            if sum(linkage) / len(linkage) >= self.merge_threshold:
                merged.append(other_id)
        return merged

    # -- splitting -------------------------------------------------------------
    def _split(
        self, article: _Article, joined: str, candidates: Sequence[StoryCandidate]
    ) -> tuple[list[int], bool] | None:
        """Whether the joined story, with the article, holds two events: the positions of
        the members that move to a new story and whether the article goes with them.

        Checked only for stories of 2 * SPLIT_MIN_GROUP - 1 to SPLIT_MAX_MEMBERS members
        whose features are all comparable; the members' pairwise probabilities are kept with
        the story summary, so a check scores the article against each member (both ways)
        and partitions at most SPLIT_MAX_MEMBERS + 1 articles.
        """
        if self.split_threshold <= 0.0:
            return None
        summary = self._summaries.get(joined)
        candidate = next((c for c in candidates if c.id == joined), None)
        if summary is None or candidate is None:
            return None
        features = candidate.features
        members = summary.members
        if not (
            2 * SPLIT_MIN_GROUP - 1 <= len(members) <= SPLIT_MAX_MEMBERS
            and summary.size == len(features)
            and len(members) == summary.size
        ):
            return None
        links = self._member_links(summary)
        alone = _StorySummary.build([article])
        row = np.array(
            [
                (
                    self.probability(self.pair_vector(article, single))
                    + self.probability(self.pair_vector(member, alone))
                )
                / 2
                for member, single in zip(members, summary.singles, strict=True)
            ]
        )
        if article.source:
            summary.pending_row = (article.source[0], row)
        size = len(members) + 1
        full = np.zeros((size, size))
        full[:-1, :-1] = links
        full[-1, :-1] = full[:-1, -1] = row
        groups = two_groups(full, self.split_threshold, SPLIT_MIN_GROUP)
        if groups is None:
            return None
        first, second = groups
        # The larger group keeps the story's id; on a tie, the one with its first member.
        move = second if (len(first), 0 in first) >= (len(second), 0 in second) else first
        moving_keys = {members[i].source[0] for i in move if i < len(members)}
        split_off = [i for i, f in enumerate(features) if f.get("embedding") in moving_keys]
        if not split_off or len(split_off) == len(features) or None in moving_keys:
            return None
        return split_off, (size - 1) in move

    def _member_links(self, summary: _StorySummary) -> np.ndarray:
        """Symmetric probabilities between the summary's members (mean of both directions),
        extended by the members absorbed since the last check."""
        members = summary.members
        while len(summary.singles) < len(members):
            summary.singles.append(_StorySummary.build([members[len(summary.singles)]]))
        known = summary.links
        done = 0 if known is None else known.shape[0]
        if done == len(members) and known is not None:
            return known
        links = np.zeros((len(members), len(members)))
        if known is not None:
            links[:done, :done] = known
        singles, pending = summary.singles, summary.pending_row
        summary.pending_row = None
        for i in range(done, len(members)):
            if (
                pending is not None
                and members[i].source
                and members[i].source[0] == pending[0]
                and len(pending[1]) == i
            ):
                links[i, :i] = links[:i, i] = pending[1]
                continue
            for j in range(i):
                links[i, j] = links[j, i] = (
                    self.probability(self.pair_vector(members[i], singles[j]))
                    + self.probability(self.pair_vector(members[j], singles[i]))
                ) / 2
        summary.links = links
        return links

    def score_candidates(
        self, article: _Article, candidates: Sequence[StoryCandidate]
    ) -> dict[str, float]:
        shape = article.embedding.shape
        cached = self._summaries
        ids: list[str] = []
        summaries: list[_StorySummary] = []
        for candidate in candidates:
            features = candidate.features
            summary = cached.get(candidate.id)
            if (
                summary is not None
                and summary.checked_features is features
                and summary.checked_length == summary.size == len(features)
            ):
                # Unchanged since the last decision (the common case): no scan, no rebuild.
                if summary.centroid is not None and summary.centroid.shape == shape:
                    ids.append(candidate.id)
                    summaries.append(summary)
                continue
            for stored in features:
                if "embedding" not in stored:
                    # Only articles linked by this method carry comparable features (a store
                    # may hold articles linked by an earlier method or embedding model).
                    features = [f for f in features if "embedding" in f]
                    break
            if not features:
                continue
            whole = features is candidate.features
            if not whole:
                candidate = replace(candidate, features=features)
            if summary is None or summary.size != len(features):
                summary = self._summary(candidate)
            if whole:
                summary.checked_features, summary.checked_length = features, len(features)
            # Stories embedded by another model (after a model change) cannot be compared.
            if summary.centroid is not None and summary.centroid.shape == shape:
                ids.append(candidate.id)
                summaries.append(summary)
        if not summaries:
            return {}
        # The rows of the centroid matrix, in candidate order (as stacking them would give).
        centroids = self._centroids.rows(shape[0], [s.centroid_row for s in summaries])
        coarse = centroids @ article.embedding
        order = np.argsort(-coarse)[: self.shortlist]
        result: dict[str, float] = {}
        for index in order.tolist():
            vector = self.pair_vector(article, summaries[index])
            result[ids[index]] = self.probability(vector)
        return result

    def probability(self, vector: np.ndarray) -> float:
        z = float(vector @ self.weights) + self.bias
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def pair_score(self, first: Mapping[str, Any], second: Mapping[str, Any]) -> float:
        """Probability that two articles report the same story (a one-article story each)."""
        a = _Article.from_features(first)
        b = _StorySummary.build([_Article.from_features(second)])
        return self.probability(self.pair_vector(a, b))

    def pair_features(self, first: Mapping[str, Any], second: Mapping[str, Any]) -> np.ndarray:
        """Symmetric pair vector of two articles (mean of both directions)."""
        a, b = _Article.from_features(first), _Article.from_features(second)
        forward = self.pair_vector(a, _StorySummary.build([b]))
        backward = self.pair_vector(b, _StorySummary.build([a]))
        return (forward + backward) / 2

    def similarity(self, first: Mapping[str, Any], second: Mapping[str, Any]) -> float:
        """Graded story similarity of two articles (higher = closer), a linear model of the
        pair vector fitted to human similarity ratings (SemEval-2022 Task 8)."""
        return float(
            self.pair_features(first, second) @ self.similarity_weights + self.similarity_bias
        )

    def pair_vector(self, article: _Article, story: _StorySummary) -> np.ndarray:
        # IDF of the article's own terms and names (read once while the IDF cache holds).
        self._term_idf(article)
        entity_idf = self._entity_idf(article)
        assert story.embeddings is not None and story.centroid is not None
        cosines = story.embeddings @ article.embedding
        cos_max = float(cosines.max())
        cos_centroid = float(story.centroid @ article.embedding)
        terms = self._term_cosine(article, story)
        entities = _idf_share(entity_idf, story.entities)
        passages = (
            len(article.shingles & story.shingles.keys()) / len(article.shingles)
            if article.shingles
            else 0.0
        )
        if article.day is not None and story.days:
            time_gap, time_known = math.log1p(story.nearest_day_gap(article.day)), 1.0
        else:
            time_gap, time_known = 0.0, 0.0
        nearest = np.argsort(-cosines)[:NEAREST_MEMBERS]
        terms_nn = entities_nn = lead_nn = lead_nn_back = lead_terms_nn = 0.0
        members = story.members
        for index in nearest.tolist():
            member = members[index]
            terms_nn = max(terms_nn, self._article_cosine(article, member))
            entities_nn = max(entities_nn, _idf_share(entity_idf, member.entity_set))
            lead_nn = max(lead_nn, self._lead_share(article, member.entity_set))
            lead_nn_back = max(lead_nn_back, self._lead_share(member, article.entity_set))
            lead_terms_nn = max(lead_terms_nn, self._lead_cosine(article, member))
        years_conflict = _conflict(article.years, story.years)
        return np.array(
            [
                cos_max,
                cos_centroid,
                terms,
                entities,
                passages,
                time_gap,
                time_known,
                terms_nn,
                entities_nn,
                years_conflict,
                lead_nn,
                lead_nn_back,
                lead_terms_nn,
            ],
            dtype=np.float64,
        )

    # -- IDF maps, read through the statistics' cache ---------------------------
    # Each returns exactly what calling `idf` term by term would (values and cache
    # effects), but skips the calls while the cache provably still holds the values
    # read before: a member's words are weighed in many decisions.
    def _term_idf(self, article: _Article) -> dict[str, float]:
        stats = self.stats
        if not stats.holds(article.term_idf_stamp):
            article.term_idf = stats.idf_map(article.terms)
            article.term_idf_stamp = stats.stamp()
        return article.term_idf

    def _entity_idf(self, article: _Article) -> dict[str, float]:
        stats = self.entity_stats
        if not stats.holds(article.entity_idf_stamp):
            article.entity_idf = stats.idf_map(article.entities)
            article.entity_idf_stamp = stats.stamp()
        return article.entity_idf

    def _lead_share(self, owner: _Article, names: frozenset[str]) -> float:
        """Share of the IDF mass of `owner`'s lead names that `names` has."""
        if not owner.lead:
            return 0.0
        stats = self.entity_stats
        if not stats.holds(owner.lead_idf_stamp):
            owner.lead_idf = list(stats.idf_map(owner.lead).items())
            total = 0.0
            for _, weight in owner.lead_idf:
                total += weight
            owner.lead_idf_total = total
            owner.lead_idf_stamp = stats.stamp()
        shared = 0.0
        for name, weight in owner.lead_idf:
            if name in names:
                shared += weight
        return shared / owner.lead_idf_total

    def _lead_cosine(self, article: _Article, member: _Article) -> float:
        mine, others, idf = article.lead_terms, member.lead_terms, self.stats.idf
        # The lead's words are nearly all among the article's words, whose IDF map is
        # current here (`pair_vector` refreshed it): the same values without the calls.
        known = article.term_idf
        dot = sum(
            [
                mine[t] * others[t] * (known[t] if t in known else idf(t)) ** 2
                for t in mine.keys() & others.keys()
            ]
        )
        if dot == 0.0:
            return 0.0
        return dot / (self._lead_norm(article) * self._lead_norm(member))

    def _lead_norm(self, article: _Article) -> float:
        seen_at, norm = article.lead_norm_cache
        documents = self.stats.documents
        if seen_at < 0 or documents > seen_at * 1.1 + 10:
            idf = self.stats.idf_map(article.lead_terms)
            norm = math.sqrt(sum([(w * idf[t]) ** 2 for t, w in article.lead_terms.items()])) or 1.0
            article.lead_norm_cache = (documents, norm)
        return norm

    def _article_norm(self, article: _Article) -> float:
        seen_at, norm = article.norm_cache
        documents = self.stats.documents
        if seen_at < 0 or documents > seen_at * 1.1 + 10:
            idf = self._term_idf(article)
            norm = math.sqrt(sum([(w * idf[t]) ** 2 for t, w in article.terms.items()])) or 1.0
            article.norm_cache = (documents, norm)
        return norm

    def _article_cosine(self, article: _Article, member: _Article) -> float:
        """IDF-weighted cosine of two articles' words (`article` has its IDF map ready)."""
        mine, others, idf = article.terms, member.terms, article.term_idf
        # The key intersection runs in C; only shared words reach the Python loop.
        dot = sum([mine[t] * others[t] * idf[t] * idf[t] for t in mine.keys() & others.keys()])
        if dot == 0.0:
            return 0.0
        return dot / (self._article_norm(article) * self._article_norm(member))

    def _term_cosine(self, article: _Article, story: _StorySummary) -> float:
        if not article.terms or not story.terms:
            return 0.0
        mine, others, idf = article.terms, story.terms, article.term_idf
        dot = sum([mine[t] * others[t] * idf[t] * idf[t] for t in mine.keys() & others.keys()])
        if dot == 0.0:
            return 0.0
        return dot / (self._article_norm(article) * self._story_norm(story))

    def _story_norm(self, story: _StorySummary) -> float:
        # IDF drifts slowly as the stream grows; recompute the norm only when
        # the stream has grown by a tenth since it was last computed.
        seen_at, norm = story.norm_cache
        documents = self.stats.documents
        if seen_at < 0 or documents > seen_at * 1.1 + 10:
            idf = self.stats.idf_map(story.terms)
            norm = math.sqrt(sum([(w * idf[t]) ** 2 for t, w in story.terms.items()])) or 1.0
            story.norm_cache = (documents, norm)
        return norm

    # -- story summaries, cached across decisions --------------------------------
    def _summary(self, candidate: StoryCandidate) -> _StorySummary:
        count = len(candidate.features)
        summary = self._summaries.get(candidate.id)
        if summary is not None and summary.size == count:
            return summary
        if summary is None or summary.size > count:
            if summary is not None:
                self._centroids.release(summary)
            summary = _StorySummary()
            self._summaries[candidate.id] = summary
        # Absorb only the articles not seen yet, wherever the store lists them.
        for features in candidate.features:
            key = features["embedding"]
            if key not in summary.seen:
                summary.seen.add(key)
                summary.absorb(self._decoded_member(features), self._term_idf)
        summary.size = count
        self._centroids.put(summary)
        return summary

    def _decoded_member(self, features: Mapping[str, Any]) -> _Article:
        """A stored article as a story member, decoded from `features`: the article decoded
        for its own decision or held by a forgotten summary when it was decoded from these
        very values (saves decoding it again), else decoded now."""
        key = features["embedding"]
        frozen = features if isinstance(features, FrozenFeatures) else None
        source: tuple[Any, ...] | None = None
        for kept in (self._decoded, self._retired):
            article = kept.pop(key, None)
            if article is None:
                continue
            # The very frozen object it came from holds the same values: no decoding
            # to compare them (a summary rebuilt after a checkpoint reads the window's).
            if frozen is not None and article.origin is frozen:
                return article.as_new_member()
            if source is None:
                source = _decoded_from(features)
            if all(
                mine is theirs or mine == theirs
                for mine, theirs in zip(article.source, source, strict=True)
            ):
                member = article.as_new_member()
                member.origin = frozen
                return member
        article = _Article.from_features(features)
        article.source = _decoded_from(features) if source is None else source
        article.origin = frozen
        return article

    def _remember_decoded(self, features: Mapping[str, Any], article: _Article) -> None:
        if features.get("embedding") is not None:
            article.source = _decoded_from(features)
            _keep(self._decoded, article, DECODED_MEMORY)


def _keep(memory: dict[str, _Article], article: _Article, limit: int) -> None:
    """Hold a decoded article by its embedding, dropping the oldest beyond `limit`."""
    if not article.source:
        return
    if len(memory) >= limit:
        del memory[next(iter(memory))]
    memory[article.source[0]] = article


def two_groups(
    links: np.ndarray, threshold: float, min_group: int
) -> tuple[list[int], list[int]] | None:
    """Two groups of items, each of at least `min_group`, whose mean link across is below
    `threshold` while each group's mean link within is at least `threshold`; else None.

    Average-linkage agglomeration over the symmetric `links` stops when no two clusters
    link at `threshold` or more; the two largest clusters found are the groups, and every
    smaller cluster (an outlier, a stray) joins the one it links to most on average.
    """
    size = len(links)
    if size < 2 * min_group:
        return None
    similarity = links.astype(np.float64).copy()
    np.fill_diagonal(similarity, -np.inf)
    clusters: dict[int, list[int]] = {i: [i] for i in range(size)}
    while len(clusters) > 1:
        flat = int(np.argmax(similarity))
        i, j = divmod(flat, size)
        if similarity[i, j] < threshold:
            break
        ni, nj = len(clusters[i]), len(clusters[j])
        # Lance-Williams update of average linkage.
        merged = (ni * similarity[i] + nj * similarity[j]) / (ni + nj)
        similarity[i], similarity[:, i] = merged, merged
        similarity[j], similarity[:, j] = -np.inf, -np.inf
        similarity[i, i] = -np.inf
        clusters[i] += clusters.pop(j)
    ranked = sorted(clusters.values(), key=lambda c: (-len(c), min(c)))
    if len(ranked) < 2 or len(ranked[1]) < min_group:
        return None
    first, second = list(ranked[0]), list(ranked[1])
    for stray in ranked[2:]:
        to_first = float(links[np.ix_(stray, first)].mean())
        to_second = float(links[np.ix_(stray, second)].mean())
        (first if to_first >= to_second else second).extend(stray)
    across = float(links[np.ix_(first, second)].mean())
    within = min(_mean_within(links, first), _mean_within(links, second))
    if across >= threshold or within < threshold:
        return None
    return sorted(first), sorted(second)


def _mean_within(links: np.ndarray, group: list[int]) -> float:
    block = links[np.ix_(group, group)]
    n = len(group)
    return float((block.sum() - np.trace(block)) / (n * (n - 1))) if n > 1 else 1.0


def _conflict(mine: Set[Any], theirs: Set[Any]) -> float:
    """1 when both sides state something of a kind (years) and nothing in common."""
    return 1.0 if mine and theirs and mine.isdisjoint(theirs) else 0.0


def _count(counts: dict[Any, int], keys: Iterable[Any], step: int) -> None:
    """Add `step` to each key's count; a key whose count reaches 0 is removed."""
    for key in keys:
        count = counts.get(key, 0) + step
        if count > 0:
            counts[key] = count
        else:
            counts.pop(key, None)


def _idf_share(mine: Mapping[str, float], theirs: Container[str]) -> float:
    """Share of my names' IDF mass that the other side also has (rare shared names count most)."""
    total = shared = 0.0
    for item, weight in mine.items():
        total += weight
        if item in theirs:
            shared += weight
    return shared / total if total else 0.0


# -- learning the weights -------------------------------------------------------
def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method; returns (weights, bias)."""
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        z = np.clip(design @ beta, -40, 40)
        p = 1.0 / (1.0 + np.exp(-z))
        gradient = design.T @ (p - y) + penalty * beta
        hessian = (
            (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        )
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def fit_ridge(x: np.ndarray, y: np.ndarray, l2: float = 0.1) -> tuple[np.ndarray, float]:
    """Least squares with an L2 penalty (the intercept is not shrunk); returns (weights, bias)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    beta = np.linalg.solve(design.T @ design + np.diag(penalty), design.T @ y)
    return beta[:-1], float(beta[-1])


# -- in-memory driver (evaluation, tests): the same decide() as production ----------
@dataclass(slots=True)
class StreamResult:
    story_ids: list[str]  # per input article, in input order
    decisions: list[LinkDecision]


MAX_SKIPPED = 200


class InMemoryStories:
    """Stories held in memory, fed in arrival order through `OnlineClusterer.decide`."""

    def __init__(
        self, clusterer: OnlineClusterer, window_days: float = 7.0, limit: int = 500
    ) -> None:
        self.clusterer = clusterer
        self.window_days = window_days
        self.limit = limit
        self.stories: dict[str, StoryCandidate] = {}
        # Story ids in order of last activity (a dict keeps insertion order).
        self._activity: dict[str, None] = {}
        self._span: dict[str, tuple[float, float]] = {}  # first and last day of a story
        self._arrivals = 0
        self.merged: dict[str, str] = {}  # merged-away story id -> the story it is now part of
        self.splits: list[tuple[str, str, int]] = []  # (from, into, articles moved)

    def candidates(self, features: Mapping[str, Any]) -> list[StoryCandidate]:
        """Stories active within the window around the article, most recently active first.

        The scan stops after `limit` stories, or after a run of stories outside
        the window (activity follows time, so older ones are outside too), so
        its cost does not grow with the number of stored stories.
        """
        day = _day_number(features.get("published"))
        stories, spans, window, limit = self.stories, self._span, self.window_days, self.limit
        if day is None:  # undated: the most recently active stories
            return [stories[story_id] for story_id in islice(reversed(self._activity), limit)]
        chosen: list[StoryCandidate] = []
        skipped = 0  # consecutive stories outside the window
        for story_id in reversed(self._activity):
            span = spans.get(story_id)
            if span and (day < span[0] - window or day > span[1] + window):
                skipped += 1
                if skipped > MAX_SKIPPED:
                    break
                continue
            skipped = 0
            chosen.append(stories[story_id])
            if len(chosen) >= limit:
                break
        return chosen

    def add(self, features: Mapping[str, Any], title: str = "") -> LinkDecision:
        """Link one article (decide, then store it in the chosen or a new story)."""
        decision = self.clusterer.decide(features, self.candidates(features))
        story_id = decision.story_id or self._new_id()
        for other in getattr(decision, "merge_from", ()):
            self.merge(other, story_id)
        if isinstance(decision, SplittingDecision) and decision.story_id is not None:
            new_id = self._new_id()
            self.split(decision.story_id, decision.split_off, new_id)
            if decision.article_moves:
                story_id = new_id
        self.restore(story_id, features, title)
        return LinkDecision(story_id=story_id, score=decision.score, scores=decision.scores)

    def _new_id(self) -> str:
        # Every new story (started or split off) adds one to stories + merged; a merge
        # moves one from the first to the second.
        return f"s{len(self.stories) + len(self.merged) + 1:06d}"

    def split(self, story_id: str, positions: Sequence[int], new_id: str) -> None:
        """Move the story's members at `positions` to a new story `new_id`."""
        story = self.stories[story_id]
        chosen = set(positions)
        moved = [f for i, f in enumerate(story.features) if i in chosen]
        story.features[:] = [f for i, f in enumerate(story.features) if i not in chosen]
        story.article_count = len(story.features)
        self.stories[new_id] = StoryCandidate(
            id=new_id,
            title="",
            first_seen=None,
            last_seen=None,
            article_count=len(moved),
            features=moved,
        )
        self._activity[new_id] = None
        for sid in (story_id, new_id):
            days = [
                d
                for d in (_day_number(f.get("published")) for f in self.stories[sid].features)
                if d is not None
            ]
            if days:
                self._span[sid] = (min(days), max(days))
            else:
                self._span.pop(sid, None)
        self.splits.append((story_id, new_id, len(moved)))
        # The story's cached summary (and its pairwise links) is rebuilt on its next use.
        self.clusterer.forget_story(story_id)

    def merge(self, from_id: str, into_id: str) -> None:
        """Move a story's articles into another; `from_id` then redirects to `into_id`."""
        moved = self.stories.pop(from_id)
        into = self.stories[into_id]
        into.features.extend(moved.features)
        into.article_count += moved.article_count
        self._activity.pop(from_id, None)
        old, new = self._span.pop(from_id, None), self._span.get(into_id)
        if old and new:
            self._span[into_id] = (min(old[0], new[0]), max(old[1], new[1]))
        elif old:
            self._span[into_id] = old
        self.merged[from_id] = into_id
        for story_id, target in self.merged.items():
            if target == from_id:
                self.merged[story_id] = into_id
        # The survivor's cached summary absorbs the moved articles on its next use.
        self.clusterer.forget_story(from_id)

    def resolve(self, story_id: str) -> str:
        """The story an id stands for now (after merges)."""
        return self.merged.get(story_id, story_id)

    def restore(self, story_id: str, features: Mapping[str, Any], title: str = "") -> None:
        """Put an article in a story without deciding (as when reloading stored stories)."""
        story = self.stories.get(story_id)
        if story is None:
            story = StoryCandidate(
                id=story_id,
                title=title,
                first_seen=features.get("published"),
                last_seen=features.get("published"),
                article_count=0,
                features=[],
            )
            self.stories[story_id] = story
        story.features.append(dict(features))
        story.article_count += 1
        self._arrivals += 1
        self._activity.pop(story_id, None)
        self._activity[story_id] = None
        day = _day_number(features.get("published"))
        if day is not None:
            first, last = self._span.get(story_id, (day, day))
            self._span[story_id] = (min(first, day), max(last, day))
        self.clusterer.observe(features)

    def run(self, stream: Iterable[Mapping[str, Any]]) -> StreamResult:
        """Link every article; `story_ids` are the final stories (after later merges)."""
        decisions = [self.add(features) for features in stream]
        return StreamResult(
            story_ids=[self.resolve(d.story_id or "") for d in decisions], decisions=decisions
        )


def gold_training_pairs(
    stream: Sequence[Mapping[str, Any]],
    gold: Sequence[str],
    clusterer: OnlineClusterer | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair vectors (article, story so far) with 1 = same gold story, from an online replay.

    Articles arrive in the given order and join their gold story, so every
    article is compared, as `decide` would compare it, with the shortlist of
    stories formed before it; the rows are what the logistic model learns from.
    """
    model = clusterer or OnlineClusterer()
    stories: dict[str, _StorySummary] = {}
    rows: list[np.ndarray] = []
    labels: list[float] = []
    for features, label in zip(stream, gold, strict=True):
        article = _Article.from_features(features)
        if stories:
            ids = list(stories)
            centroids = np.stack([_centroid(stories[i]) for i in ids])
            coarse = centroids @ article.embedding
            shortlist = [ids[i] for i in np.argsort(-coarse)[:TRAIN_SHORTLIST]]
            if label in stories and label not in shortlist:
                shortlist.append(label)  # learn from the true story even when it ranks low
            for story_id in shortlist:
                rows.append(model.pair_vector(article, stories[story_id]))
                labels.append(1.0 if story_id == label else 0.0)
        stories.setdefault(label, _StorySummary()).absorb(article)
        model.observe(features)
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES))), np.zeros(0)
    return np.vstack(rows), np.array(labels)
