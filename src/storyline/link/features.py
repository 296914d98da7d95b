"""Cheap lexical signals for story linking: terms, entity-like names, numbers, passages.

All functions are pure and language-agnostic (Unicode word tokens, no
stopword lists): how much a shared term counts is decided later by its
rarity in the stream (IDF), so common words of any language weigh little.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence

_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;\"“”«»]\s*$")
# At most this many distinct terms per article are kept (the most frequent):
# it bounds the stored features and the cost of one comparison.
MAX_TERMS = 300
MAX_ENTITIES = 80
# A shingle is kept when its hash falls in this residue class, so two
# articles that share a passage keep the same shingles of it (unlike bottom-k).
SHINGLE_WORDS = 6
SHINGLE_SAMPLE = 8
MAX_SHINGLES = 256


def tokens(text: str) -> list[str]:
    return _WORD.findall(text)


def is_number(token: str) -> bool:
    return any(map(str.isdigit, token))  # the same test as a generator, without its overhead


def term_counts(text: str, max_terms: int = MAX_TERMS) -> dict[str, int]:
    """Lower-cased word counts, single characters dropped, capped to the most frequent."""
    counts = Counter(t.lower() for t in tokens(text) if len(t) > 1 or t.isdigit())
    if len(counts) > max_terms:
        counts = Counter(dict(counts.most_common(max_terms)))
    return dict(counts)


def entity_names(text: str, max_entities: int = MAX_ENTITIES) -> list[str]:
    """Entity-like names: runs of capitalised words, plus numbers (years, counts, scores).

    A proxy for named entities until a tagger provides them.  A single
    capitalised word that opens a sentence counts only if the text also
    capitalises it in mid-sentence (else it is an ordinary word: "However").
    """
    runs: list[tuple[list[str], bool]] = []  # (words, starts a sentence)
    mid_sentence_capitals: set[str] = set()
    numbers: Counter[str] = Counter()
    for line in text.splitlines():
        run: list[str] = []
        run_at_start = False
        previous_end = 0
        for match in _WORD.finditer(line):
            token = match.group(0)
            gap = line[previous_end : match.start()]
            sentence_start = previous_end == 0 or bool(_SENTENCE_END.search(gap))
            previous_end = match.end()
            joined = gap.strip() in ("", "-", "&")
            if token[:1].isupper():
                if run and joined:
                    run.append(token)
                else:
                    if run:
                        runs.append((run, run_at_start))
                    run, run_at_start = [token], sentence_start
                if not sentence_start:
                    mid_sentence_capitals.add(token.lower())
                continue
            if run:
                runs.append((run, run_at_start))
                run = []
            if is_number(token) and len(token) > 1:
                numbers[token.lower()] += 1
        if run:
            runs.append((run, run_at_start))
    names: Counter[str] = Counter()
    for words, at_start in runs:
        # A lone capitalised word opening a sentence is usually an ordinary word.
        if at_start and len(words) == 1 and words[0].lower() not in mid_sentence_capitals:
            continue
        if words:
            names[" ".join(words).lower()] += 1
    ranked = [n for n, _ in names.most_common() if len(n) > 1]
    ranked += [n for n, _ in numbers.most_common()]
    return ranked[:max_entities]


def mentioned_years(text: str) -> list[int]:
    """Years (1900-2099) written in the text: when an undated article says what year it is about."""
    return sorted(
        {int(t) for t in tokens(text) if len(t) == 4 and t.isdigit() and 1900 <= int(t) <= 2099}
    )


def shingle_sample(
    text: str, words: int = SHINGLE_WORDS, sample: int = SHINGLE_SAMPLE, cap: int = MAX_SHINGLES
) -> list[int]:
    """Hashes of a fixed sample of word n-grams: shared passages share these values."""
    words_list = [t.lower() for t in tokens(text)]
    kept: set[int] = set()
    for i in range(len(words_list) - words + 1):
        gram = " ".join(words_list[i : i + words]).encode("utf-8")
        value = int.from_bytes(hashlib.blake2b(gram, digest_size=6).digest(), "big")
        if value % sample == 0:
            kept.add(value)
    return sorted(kept)[:cap]


class TermStats:
    """Document frequencies of the stream seen so far, for IDF weights."""

    def __init__(self) -> None:
        self.documents = 0
        self.doc_freq: Counter[str] = Counter()
        self._idf_cache: dict[str, float] = {}
        self._cached_at = 0
        # Bumped whenever the IDF cache is emptied: a map of IDF values taken at one
        # generation is still what `idf` returns while `cache_holds` says so.
        self.generation = 0

    def observe(self, terms: Iterable[str]) -> None:
        self.documents += 1
        self.doc_freq.update(set(terms))

    def idf(self, term: str) -> float:
        """Smoothed IDF (an unseen term is the rarest possible, never infinite).

        Values are cached and recomputed once the stream has grown by 5%:
        IDF moves slowly, and a logarithm per term per comparison is the
        largest cost of a link decision otherwise.
        """
        if self.documents > self._cached_at * 1.05 + 5:
            self._idf_cache.clear()
            self._cached_at = self.documents
            self.generation += 1
        value = self._idf_cache.get(term)
        if value is None:
            value = math.log((self.documents + 1) / (self.doc_freq.get(term, 0) + 1)) + 1.0
            self._idf_cache[term] = value
        return value

    def idf_map(self, terms: Collection[str]) -> dict[str, float]:
        """`{t: self.idf(t) for t in terms}` at a fraction of the cost: the same values and
        the same effect on the cache (which terms are cached, and when it is emptied)."""
        if not terms:
            return {}
        if self.documents > self._cached_at * 1.05 + 5:
            self._idf_cache.clear()
            self._cached_at = self.documents
            self.generation += 1
        return self._cached_values(terms)

    def _cached_values(self, terms: Collection[str]) -> dict[str, float]:
        cache = self._idf_cache
        try:
            return {t: cache[t] for t in terms}  # usually every term is cached already
        except KeyError:
            pass
        documents, doc_freq, log = self.documents + 1, self.doc_freq, math.log
        for term in terms:
            if term not in cache:
                cache[term] = log(documents / (doc_freq.get(term, 0) + 1)) + 1.0
        return {t: cache[t] for t in terms}

    def cache_holds(self, generation: int) -> bool:
        """Whether IDF values read at `generation` are what `idf` would return now
        (the cache has not been emptied since, and the next call would not empty it)."""
        return generation == self.generation and not (
            self.documents > self._cached_at * 1.05 + 5
        )

    def stamp(self) -> tuple[TermStats, int]:
        """What to keep beside IDF values read now, for `holds`."""
        return (self, self.generation)

    def holds(self, stamp: tuple[TermStats, int] | None) -> bool:
        """Whether IDF values read at `stamp` (from these statistics) are still current."""
        return stamp is not None and stamp[0] is self and self.cache_holds(stamp[1])

    def to_json(self) -> dict:
        return {"documents": self.documents, "doc_freq": dict(self.doc_freq)}

    @classmethod
    def from_json(cls, data: Mapping) -> TermStats:
        stats = cls()
        stats.documents = int(data.get("documents", 0))
        stats.doc_freq = Counter({str(k): int(v) for k, v in data.get("doc_freq", {}).items()})
        return stats


# 1 + log(count) of the small counts nearly every word has, computed once (same values).
_SUBLINEAR = {count: 1.0 + math.log(count) for count in range(1, 64)}


def sublinear(counts: Mapping[str, int]) -> dict[str, float]:
    table, log = _SUBLINEAR, math.log
    return {t: table.get(c) or 1.0 + log(c) for t, c in counts.items() if c > 0}


def weighted_cosine(a: Mapping[str, float], b: Mapping[str, float], stats: TermStats) -> float:
    """Cosine of two term-weight maps after IDF weighting."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    dot = 0.0
    for term, weight in small.items():
        other = large.get(term)
        if other:
            idf = stats.idf(term)
            dot += weight * other * idf * idf
    if dot == 0.0:
        return 0.0
    norm_a = math.sqrt(sum((w * stats.idf(t)) ** 2 for t, w in a.items()))
    norm_b = math.sqrt(sum((w * stats.idf(t)) ** 2 for t, w in b.items()))
    return dot / (norm_a * norm_b) if norm_a and norm_b else 0.0


def weighted_overlap(
    mine: Sequence[str], theirs: Mapping[str, int] | set[str], stats: TermStats
) -> float:
    """Share of my items' IDF mass found in theirs (rare shared names count most)."""
    if not mine:
        return 0.0
    total = 0.0
    shared = 0.0
    for item in mine:
        weight = stats.idf(item)
        total += weight
        if item in theirs:
            shared += weight
    return shared / total if total else 0.0
