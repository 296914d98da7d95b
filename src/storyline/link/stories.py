"""Online story linking: each new article joins an existing story or starts one.

The linker is two pure functions behind the `StoryLinker` protocol:
`features(article)` (computed once, stored with the article) and
`decide(features, candidates)` (which candidate story, if any, it joins).
The pipeline asks the store for the candidate stories active around the
article's date, so the cost of one decision does not grow with the store.

`TermLinker` is the first, deliberately simple method: cosine similarity of
sublinear term-frequency vectors over content words, blended with the
overlap of capitalised names (people, places and organisations are what
tells two look-alike events apart).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from storyline.link.base import LinkDecision, StatefulLinker, StoryLinker
from storyline.link.cluster import OnlineClusterer, article_features
from storyline.link.embed import load_embedder
from storyline.link.features import TermStats
from storyline.records import Article, as_datetime
from storyline.store.base import LinkTermStats, StoryCandidate

__all__ = [
    "CheckpointStats",
    "EmbeddingLinker",
    "LinkDecision",
    "StatefulLinker",
    "StoryLinker",
    "TermLinker",
    "default_linker",
    "next_checkpoint",
]


# A compact English stop list: function words carry no story signal.
_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each
few for from further had has have having he her here hers herself him himself his how
i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves said says say told according new one two
three mr mrs ms would could may might must shall also however since still yet us
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_NAME = re.compile(r"\b(?:[A-Z][\w’'-]+)(?:\s+[A-Z][\w’'-]+)*")
_MAX_TERMS = 200


def _terms(text: str) -> Counter[str]:
    return Counter(
        w
        for w in (m.group(0).lower() for m in _WORD.finditer(text))
        if len(w) > 2 and w not in _STOPWORDS
    )


def _names(text: str) -> set[str]:
    """Capitalised words not at a sentence start: a cheap proxy for named entities."""
    names: set[str] = set()
    for m in _NAME.finditer(text):
        start = m.start()
        before = text[max(0, start - 2) : start]
        if start == 0 or before.strip() in {".", "!", "?", "\n", '"', "“"} or before.endswith("\n"):
            continue
        for word in m.group(0).split():
            lowered = word.lower()
            if lowered not in _STOPWORDS and len(lowered) > 1:
                names.add(lowered)
    return names


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass(slots=True)
class TermLinker:
    """Term-vector cosine + name overlap, best match over a story's articles."""

    threshold: float = 0.27  # BCubed-F1 sweet spot on NewsWCL50 + ECB+ (first linker)
    name_weight: float = 0.4
    window_days: float = 7.0
    similarity_method: str = "terms+names-v1"

    def features(self, article: Article) -> dict[str, Any]:
        text = f"{article.title}\n\n{article.body}"
        counts = _terms(text)
        # Title words count double: the headline states what the story is about.
        for term, n in _terms(article.title).items():
            counts[term] += n
        top = dict(counts.most_common(_MAX_TERMS))
        weights = {t: 1.0 + math.log(n) for t, n in top.items()}
        return {
            "method": self.similarity_method,
            "terms": weights,
            "names": sorted(_names(text)),
            "published": article.published,
        }

    def similarity(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, float]:
        cosine = _cosine(a.get("terms", {}), b.get("terms", {}))
        names = _jaccard(set(a.get("names", ())), set(b.get("names", ())))
        days = _days_apart(a.get("published"), b.get("published"))
        # Articles far apart in time are less likely to be the same story.
        time_factor = 1.0 if days is None else max(0.0, 1.0 - days / (2 * self.window_days))
        score = ((1 - self.name_weight) * cosine + self.name_weight * names) * time_factor
        return {"score": score, "cosine": cosine, "names": names, "time": time_factor}

    def decide(
        self, features: Mapping[str, Any], candidates: Sequence[StoryCandidate]
    ) -> LinkDecision:
        best = LinkDecision(story_id=None, score=0.0)
        for candidate in candidates:
            for other in candidate.features:
                if other.get("method") != self.similarity_method:
                    continue
                scores = self.similarity(features, other)
                if scores["score"] > best.score:
                    best = LinkDecision(candidate.id, scores["score"], scores)
        if best.score < self.threshold:
            return LinkDecision(story_id=None, score=best.score, scores=best.scores)
        return best


def _days_apart(a: str | None, b: str | None) -> float | None:
    da, db = as_datetime(a), as_datetime(b)
    if da is None or db is None:
        return None
    if (da.tzinfo is None) != (db.tzinfo is None):
        da, db = da.replace(tzinfo=None), db.replace(tzinfo=None)
    return abs((da - db).total_seconds()) / 86400.0


def next_checkpoint(documents: int) -> int:
    """The document count of the statistics' checkpoint after the one at `documents`.

    Every document while the stream is small (IDF changes fast then), then at
    every 5% of growth, as often as `TermStats` refreshes its IDF cache.
    """
    return max(documents + 1, math.floor(documents * 1.05))


class CheckpointStats(TermStats):
    """`TermStats` whose IDF moves in steps: computed from the last checkpoint only.

    `documents` and `doc_freq` are the checkpoint (what the IDF and the clusterer's
    caches use); `live_documents` and `pending` what was observed since.  Unlike
    the lazily refreshed cache of `TermStats`, every IDF value is then a function of
    the stored statistics alone, not of when a term was first asked for.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live_documents = 0
        self.pending: Counter[str] = Counter()

    def observe(self, terms: Iterable[str]) -> None:
        self.live_documents += 1
        self.pending.update(set(terms))
        if self.live_documents >= next_checkpoint(self.documents):
            self.checkpoint()

    def checkpoint(self) -> None:
        self.doc_freq.update(self.pending)
        self.pending.clear()
        self.documents = self.live_documents
        self._idf_cache.clear()
        self._cached_at = self.documents
        self.generation += 1

    def idf(self, term: str) -> float:
        value = self._idf_cache.get(term)
        if value is None:
            value = math.log((self.documents + 1) / (self.doc_freq.get(term, 0) + 1)) + 1.0
            self._idf_cache[term] = value
        return value

    def idf_map(self, terms: Collection[str]) -> dict[str, float]:
        return self._cached_values(terms) if terms else {}

    def cache_holds(self, generation: int) -> bool:
        return generation == self.generation

    @classmethod
    def restored(
        cls, documents: int, checkpoint_documents: int, df: Mapping[str, tuple[int, int]]
    ) -> CheckpointStats:
        """Statistics as stored: (df now, df at the checkpoint) per term."""
        stats = cls()
        stats.documents = checkpoint_documents
        stats.live_documents = documents
        stats.doc_freq = Counter({t: c for t, (_, c) in df.items() if c})
        stats.pending = Counter({t: n - c for t, (n, c) in df.items() if n != c})
        stats._cached_at = checkpoint_documents
        return stats


# The statistics the clusterer keeps, by the kind they are stored under.
STATS_KINDS = ("terms", "entities")


@dataclass
class EmbeddingLinker:
    """The production linker: `OnlineClusterer` (link/cluster.py) over stored features.

    The clusterer weighs words by their rarity in the stream (document
    frequencies).  The pipeline stores them with every article and restores them
    when a process starts (`StatefulLinker`), so the decisions depend on the
    stored articles only, not on the process history.
    """

    embedder_name: str = "default"
    window_days: float = 7.0
    clusterer: OnlineClusterer = field(
        default_factory=lambda: OnlineClusterer(
            stats=CheckpointStats(), entity_stats=CheckpointStats()
        )
    )

    def __getstate__(self) -> dict[str, Any]:
        # Workers only compute features: ship the settings, not the statistics.
        return {"embedder_name": self.embedder_name, "window_days": self.window_days}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["embedder_name"], state["window_days"])  # type: ignore[misc]

    @property
    def similarity_method(self) -> str:
        return self.clusterer.similarity_method

    def features(self, article: Article) -> dict[str, Any]:
        return article_features(
            article.title,
            article.body,
            article.published,
            article.language,
            load_embedder(self.embedder_name),
        )

    def decide(
        self, features: Mapping[str, Any], candidates: Sequence[StoryCandidate]
    ) -> LinkDecision:
        return self.clusterer.decide(features, candidates)

    # -- StatefulLinker ------------------------------------------------------------
    def term_updates(self, features: Mapping[str, Any]) -> dict[str, dict[str, int]]:
        return {
            "terms": dict.fromkeys((features.get("terms") or {}).keys(), 1),
            "entities": dict.fromkeys(features.get("entities") or [], 1),
        }

    def observe(self, features: Mapping[str, Any]) -> None:
        checkpoint = self.clusterer.stats.documents
        self.clusterer.observe(features)
        if self.clusterer.stats.documents != checkpoint:
            # Values cached under the old IDF are computed again under the new one, so
            # every cached value is a function of the stored articles, as in a freshly
            # started process.
            self.clusterer.idf_moved()

    def _forget_summaries(self) -> None:
        for story_id in list(self.clusterer._summaries):
            self.clusterer.forget_story(story_id)

    def restore_stats(self, stats: LinkTermStats) -> None:
        self.clusterer.stats, self.clusterer.entity_stats = (
            CheckpointStats.restored(stats.documents, stats.checkpoint_documents,
                                     stats.df.get(kind, {}))
            for kind in STATS_KINDS
        )
        self._forget_summaries()

    def stats_position(self) -> tuple[int, int]:
        stats = self.clusterer.stats
        live = stats.live_documents if isinstance(stats, CheckpointStats) else stats.documents
        return live, stats.documents

    def forget_story(self, story_id: str) -> None:
        self.clusterer.forget_story(story_id)


def default_linker() -> StoryLinker:
    return EmbeddingLinker()
