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
import math
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from storyline.link.base import LinkDecision
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
# The newest articles of a story that stand for it (bounded work per story).
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
    term_idf: dict[str, float] = field(default_factory=dict)
    entity_idf: dict[str, float] = field(default_factory=dict)
    idf_version: int = -1

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


def _years(names: Iterable[str]) -> list[int]:
    return [int(n) for n in names if len(n) == 4 and n.isdigit() and 1900 <= int(n) <= 2099]


@dataclass(slots=True)
class _StorySummary:
    """What one comparison needs of a story, updated as articles join it."""

    size: int = 0
    embeddings: np.ndarray | None = None  # (n, dim) of the newest STORY_MEMORY articles
    embedding_sum: np.ndarray | None = None
    centroid: np.ndarray | None = None
    terms: dict[str, float] = field(default_factory=dict)
    entities: set[str] = field(default_factory=set)
    shingles: set[int] = field(default_factory=set)
    days: list[float] = field(default_factory=list)
    years: set[int] = field(default_factory=set)
    members: list[_Article] = field(default_factory=list)  # aligned with `embeddings`
    seen: set[str] = field(default_factory=set)  # embeddings (base64) absorbed so far
    norm_cache: tuple[int, float] = (-1, 0.0)

    @classmethod
    def build(cls, articles: Iterable[_Article]) -> _StorySummary:
        summary = cls()
        for article in articles:
            summary.absorb(article)
        return summary

    def absorb(self, article: _Article, idf: Callable[[str], float] | None = None) -> None:
        """Add a member; with `idf`, the cached norm of the word vector is updated in place."""
        seen_at, norm = self.norm_cache
        if idf is not None and seen_at >= 0:
            squared = norm * norm
            for term, weight in article.terms.items():
                old = self.terms.get(term, 0.0)
                squared += ((old + weight) ** 2 - old * old) * idf(term) ** 2
            self.norm_cache = (seen_at, math.sqrt(max(squared, 0.0)) or 1.0)
        else:
            self.norm_cache = (-1, 0.0)
        vector = article.embedding[None, :]
        if self.embeddings is None or self.embedding_sum is None:
            self.embeddings = vector.copy()
            self.embedding_sum = article.embedding.astype(np.float32).copy()
        else:
            self.embeddings = np.vstack([self.embeddings[-(STORY_MEMORY - 1) :], vector])
            self.embedding_sum = self.embedding_sum + article.embedding
        self.members = [*self.members[-(STORY_MEMORY - 1) :], article]
        self.years.update(article.years)
        self.centroid = _unit(self.embedding_sum)
        for term, weight in article.terms.items():
            self.terms[term] = self.terms.get(term, 0.0) + weight
        self.entities.update(article.entities)
        self.shingles.update(article.shingles)
        if article.day is not None:
            self.days.append(article.day)
        self.size += 1


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
    ) -> None:
        self.merge_threshold = (
            DEFAULT_MERGE_THRESHOLD if merge_threshold is None else merge_threshold
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

    @property
    def similarity_method(self) -> str:
        return "online-logit-v1(embedding+idf-terms+names+passages+time)"

    # -- stream statistics ---------------------------------------------------
    def observe(self, features: Mapping[str, Any]) -> None:
        """Count a stored article in the stream statistics (call once per stored article)."""
        self.stats.observe((features.get("terms") or {}).keys())
        self.entity_stats.observe(features.get("entities") or [])

    def forget_story(self, story_id: str) -> None:
        self._summaries.pop(story_id, None)

    # -- decision ------------------------------------------------------------
    def decide(
        self, features: Mapping[str, Any], candidates: Sequence[StoryCandidate]
    ) -> LinkDecision:
        article = _Article.from_features(features)
        scored = self.score_candidates(article, candidates)
        if not scored:
            return LinkDecision(story_id=None, score=0.0, scores={})
        best_id, best = max(scored.items(), key=lambda item: item[1])
        if best < self.threshold:
            return LinkDecision(story_id=None, score=best, scores=scored)
        merged = self._merges(article, best_id, scored)
        if not merged:
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

    def score_candidates(
        self, article: _Article, candidates: Sequence[StoryCandidate]
    ) -> dict[str, float]:
        # Only articles linked by this method carry comparable features (a store may
        # hold articles linked by an earlier method or embedding model).
        usable = []
        for c in candidates:
            comparable = [f for f in c.features if "embedding" in f]
            if comparable:
                usable.append(
                    replace(c, features=comparable) if len(comparable) < len(c.features) else c
                )
        summaries = [self._summary(c) for c in usable]
        # Stories embedded by another model (after a model change) cannot be compared.
        kept = [
            (c, s)
            for c, s in zip(usable, summaries, strict=True)
            if s.centroid is not None and s.centroid.shape == article.embedding.shape
        ]
        if not kept:
            return {}
        usable = [c for c, _ in kept]
        summaries = [s for _, s in kept]
        centroids = np.stack([_centroid(s) for s in summaries])
        coarse = centroids @ article.embedding
        order = np.argsort(-coarse)[: self.shortlist]
        result: dict[str, float] = {}
        for index in order:
            vector = self.pair_vector(article, summaries[index])
            result[usable[index].id] = self.probability(vector)
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
        if article.idf_version != self.stats.documents:
            # IDF of the article's own terms and names, once per decision.
            article.term_idf = {t: self.stats.idf(t) for t in article.terms}
            article.entity_idf = {e: self.entity_stats.idf(e) for e in article.entities}
            article.idf_version = self.stats.documents
        assert story.embeddings is not None and story.centroid is not None
        cosines = story.embeddings @ article.embedding
        cos_max = float(cosines.max())
        cos_centroid = float(story.centroid @ article.embedding)
        terms = self._term_cosine(article, story)
        entities = _idf_share(article.entity_idf, story.entities)
        passages = (
            len(article.shingles & story.shingles) / len(article.shingles)
            if article.shingles
            else 0.0
        )
        if article.day is not None and story.days:
            gap = min(abs(article.day - d) for d in story.days)
            time_gap, time_known = math.log1p(gap), 1.0
        else:
            time_gap, time_known = 0.0, 0.0
        nearest = np.argsort(-cosines)[:NEAREST_MEMBERS]
        terms_nn = entities_nn = lead_nn = lead_nn_back = lead_terms_nn = 0.0
        for index in nearest:
            member = story.members[int(index)]
            terms_nn = max(terms_nn, self._article_cosine(article, member))
            entities_nn = max(entities_nn, _idf_share(article.entity_idf, member.entity_set))
            lead_nn = max(lead_nn, self._lead_share(article.lead, member.entity_set))
            lead_nn_back = max(lead_nn_back, self._lead_share(member.lead, article.entity_set))
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

    def _lead_cosine(self, article: _Article, member: _Article) -> float:
        mine, others, idf = article.lead_terms, member.lead_terms, self.stats.idf
        dot = sum(mine[t] * others[t] * idf(t) ** 2 for t in mine.keys() & others.keys())
        if dot == 0.0:
            return 0.0
        return dot / (self._lead_norm(article) * self._lead_norm(member))

    def _lead_norm(self, article: _Article) -> float:
        seen_at, norm = article.lead_norm_cache
        documents = self.stats.documents
        if seen_at < 0 or documents > seen_at * 1.1 + 10:
            idf = self.stats.idf
            norm = math.sqrt(sum((w * idf(t)) ** 2 for t, w in article.lead_terms.items())) or 1.0
            article.lead_norm_cache = (documents, norm)
        return norm

    def _lead_share(self, lead: frozenset[str], names: frozenset[str]) -> float:
        if not lead:
            return 0.0
        idf = self.entity_stats.idf
        total = shared = 0.0
        for name in lead:
            weight = idf(name)
            total += weight
            if name in names:
                shared += weight
        return shared / total

    def _article_norm(self, article: _Article) -> float:
        seen_at, norm = article.norm_cache
        documents = self.stats.documents
        if seen_at < 0 or documents > seen_at * 1.1 + 10:
            idf = self.stats.idf
            norm = math.sqrt(sum((w * idf(t)) ** 2 for t, w in article.terms.items())) or 1.0
            article.norm_cache = (documents, norm)
        return norm

    def _article_cosine(self, article: _Article, member: _Article) -> float:
        """IDF-weighted cosine of two articles' words (`article` has its IDF map ready)."""
        mine, others, idf = article.terms, member.terms, article.term_idf
        # The key intersection runs in C; only shared words reach the Python loop.
        dot = sum(mine[t] * others[t] * idf[t] * idf[t] for t in mine.keys() & others.keys())
        if dot == 0.0:
            return 0.0
        return dot / (self._article_norm(article) * self._article_norm(member))

    def _term_cosine(self, article: _Article, story: _StorySummary) -> float:
        if not article.terms or not story.terms:
            return 0.0
        mine, others, idf = article.terms, story.terms, article.term_idf
        dot = sum(mine[t] * others[t] * idf[t] * idf[t] for t in mine.keys() & others.keys())
        if dot == 0.0:
            return 0.0
        return dot / (self._article_norm(article) * self._story_norm(story))

    def _story_norm(self, story: _StorySummary) -> float:
        # IDF drifts slowly as the stream grows; recompute the norm only when
        # the stream has grown by a tenth since it was last computed.
        seen_at, norm = story.norm_cache
        documents = self.stats.documents
        if seen_at < 0 or documents > seen_at * 1.1 + 10:
            idf = self.stats.idf
            norm = math.sqrt(sum((w * idf(t)) ** 2 for t, w in story.terms.items())) or 1.0
            story.norm_cache = (documents, norm)
        return norm

    def _summary(self, candidate: StoryCandidate) -> _StorySummary:
        count = len(candidate.features)
        summary = self._summaries.get(candidate.id)
        if summary is not None and summary.size == count:
            return summary
        if summary is None or summary.size > count:
            summary = _StorySummary()
            self._summaries[candidate.id] = summary
        # Absorb only the articles not seen yet, wherever the store lists them.
        for features in candidate.features:
            key = features["embedding"]
            if key not in summary.seen:
                summary.seen.add(key)
                summary.absorb(_Article.from_features(features), self.stats.idf)
        summary.size = count
        return summary


def _conflict(mine: Set[Any], theirs: Set[Any]) -> float:
    """1 when both sides state something of a kind (years) and nothing in common."""
    return 1.0 if mine and theirs and mine.isdisjoint(theirs) else 0.0


def _idf_share(mine: Mapping[str, float], theirs: set[str] | frozenset[str]) -> float:
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

    def candidates(self, features: Mapping[str, Any]) -> list[StoryCandidate]:
        """Stories active within the window around the article, most recently active first.

        The scan stops after `limit` stories, or after a run of stories outside
        the window (activity follows time, so older ones are outside too), so
        its cost does not grow with the number of stored stories.
        """
        day = _day_number(features.get("published"))
        chosen: list[StoryCandidate] = []
        skipped = 0  # consecutive stories outside the window
        for story_id in reversed(self._activity):
            span = self._span.get(story_id)
            if (
                day is not None
                and span
                and (day < span[0] - self.window_days or day > span[1] + self.window_days)
            ):
                skipped += 1
                if skipped > MAX_SKIPPED:
                    break
                continue
            skipped = 0
            chosen.append(self.stories[story_id])
            if len(chosen) >= self.limit:
                break
        return chosen

    def add(self, features: Mapping[str, Any], title: str = "") -> LinkDecision:
        """Link one article (decide, then store it in the chosen or a new story)."""
        decision = self.clusterer.decide(features, self.candidates(features))
        story_id = decision.story_id or f"s{len(self.stories) + len(self.merged) + 1:06d}"
        for other in getattr(decision, "merge_from", ()):
            self.merge(other, story_id)
        self.restore(story_id, features, title)
        return LinkDecision(story_id=story_id, score=decision.score, scores=decision.scores)

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
