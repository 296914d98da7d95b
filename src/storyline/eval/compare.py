"""Evaluation of outlet comparison: claim alignment on ECB+ and a conflict set.

ECB+ alignment: each line of a document is a sentence; within a sub-topic (one
real-world event, i.e. a story), two sentences of different documents are truly
aligned when they hold mentions of the same event chain (non-singleton chains).
Only sentences carrying event mentions (those ECB+ validated) take part.
Ours is `compare.facts.event_groups`, the event grouping the story export uses,
run on whole articles (every sentence of each document of the sub-topic, so that
leads are the documents' first sentences); the production fact groups
(`align_claims`, one claim per article) are reported beside it.  The
same-lemma baseline aligns two sentences when they share the (stemmed) head word
of a gold event mention, as in the literature (gold mentions, no lemmatizer:
heads are the mention's last word, suffix-stripped); a second variant takes the
spaCy lemma of the mention's syntactic head ("checked into" -> "check"). Also
reported: event groups with an event-trigger agreement bonus (overlap of the
sentences' verb and common-noun lemmas), and the trivial grouping (one group per
sub-topic), which shows how much of the F1 a dense gold gives away for free.
False positives and negatives are split by sub-topic kind (ECB / ECB+ documents).

Conflict set: real ECB+ sentences edited to change a number, a date, a place or
the polarity (positives), and edited by wording only (negatives: role-noun and
synonym swaps, "told reporters" -> "told the media"). `claim_conflicts` must
flag the positives and not the negatives.

    python -m storyline.eval.compare [--topics dev|test|1,2,...] [--threshold 0.66]
    python -m storyline.eval.compare --fit-events   # the weights of event_groups (dev)
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from storyline.analyse.timex import tag_times
from storyline.compare.facts import (
    ALIGN_THRESHOLD,
    EVENT_FEATURES,
    EVENT_LINK_THRESHOLD,
    EVENT_PAIR_BIAS,
    EVENT_PAIR_WEIGHTS,
    PLACE_LABELS,
    Claim,
    Embed,
    _stem,
    align_claims,
    claim_conflicts,
    content_words,
    event_groups,
    event_pair_features,
    is_negated,
    numbers_in,
    place_kind,
    places_compatible,
)
from storyline.eval import DataUnavailable, dataset_path


@dataclass(frozen=True, slots=True)
class Sentence:
    doc_id: str
    subtopic: str
    index: int
    text: str
    chains: frozenset[str]
    heads: frozenset[str]
    mentions: tuple[tuple[int, int], ...] = ()  # gold event mentions, offsets in `text`


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def load_sentences(topics: set[str] | None = None) -> list[Sentence]:
    """ECB+ sentences that carry event mentions, with their chains and head words."""
    root = dataset_path("ecbplus")
    docs = {d["id"]: d for d in _read_jsonl(root / "docs.jsonl")
            if topics is None or d["topic"] in topics}  # fmt: skip
    chains: dict[tuple[str, int], set[str]] = defaultdict(set)
    heads: dict[tuple[str, int], set[str]] = defaultdict(set)
    spans: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for m in _read_jsonl(root / "event_mentions.jsonl"):
        doc = docs.get(m["doc_id"])
        if doc is None:
            continue
        line = doc["text"].count("\n", 0, m["start"])
        key = (m["doc_id"], line)
        words = re.findall(r"\w+", m["text"])
        if words:
            heads[key].add(_stem(words[-1]))
        spans[key].append((int(m["start"]), int(m["end"])))
        if not m.get("is_singleton"):
            chains[key].add(str(m["coref_chain"]))
        else:
            chains.setdefault(key, set())
    out = []
    for (doc_id, line), found in sorted(chains.items()):
        doc = docs[doc_id]
        lines = doc["text"].split("\n")
        raw = lines[line]
        text = raw.strip()
        # Mention offsets are document offsets; make them offsets in the stripped line.
        offset = sum(len(x) + 1 for x in lines[:line]) + len(raw) - len(raw.lstrip())
        if text:
            mentions = tuple((s - offset, e - offset) for s, e in spans[(doc_id, line)])
            out.append(Sentence(doc_id, doc["subtopic"], line, text, frozenset(found),
                                frozenset(heads[(doc_id, line)]), mentions))  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class Document:
    """An ECB+ document as an article body: its sentences (lines) in order."""

    id: str
    subtopic: str
    lines: tuple[tuple[int, str], ...]  # (line index, text); empty and URL lines left out


def load_documents(topics: set[str] | None = None) -> dict[str, Document]:
    """Every document of `topics` with all its sentences, not only those with mentions.

    The first line of most ECB+ (`ecbplus`) documents is the page URL, which no
    article body holds: it is left out, so that an article's lead is its first
    sentences, as in the pipeline.
    """
    out = {}
    for d in _read_jsonl(dataset_path("ecbplus") / "docs.jsonl"):
        if topics is not None and d["topic"] not in topics:
            continue
        lines = tuple(
            (n, line.strip())
            for n, line in enumerate(d["text"].split("\n"))
            if line.strip() and not line.strip().startswith(("http:", "https:"))
        )
        out[d["id"]] = Document(d["id"], d["subtopic"], lines)
    return out


def sentence_claim(s: Sentence) -> Claim:
    return Claim(
        article_id=s.doc_id, outlet=s.doc_id, text=s.text, start=0, end=len(s.text),
        numbers=tuple(numbers_in(s.text)), negated=is_negated(s.text), words=content_words(s.text),
    )  # fmt: skip


Pair = tuple[tuple[str, int], tuple[str, int]]


def _pair(a: Sentence, b: Sentence) -> Pair:
    x, y = (a.doc_id, a.index), (b.doc_id, b.index)
    return (x, y) if x < y else (y, x)


def prf(predicted: set[Pair], gold: set[Pair]) -> dict[str, float]:
    tp = len(predicted & gold)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(gold) if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
            "predicted": len(predicted), "gold": len(gold)}  # fmt: skip


def _fixed(vectors: Any) -> Any:
    """An embed function returning vectors already computed (one model call per sub-topic)."""
    return lambda _texts: vectors


# Event-level grouping threshold, chosen on the ECB+ dev topics (see docs/benchmarks.md).
EVENT_THRESHOLD = 0.6
DEV_TOPICS = frozenset({"2", "5", "12", "18", "21", "23", "34", "35"})


# Verbs that carry no event of their own (reporting, light and auxiliary-like verbs):
# left out of the trigger lemmas.
_LIGHT_VERBS = frozenset(
    ["be", "have", "do", "say", "tell", "make", "take", "get", "go", "come", "give", "know",
     "see", "add", "report", "state", "accord", "include", "use", "become", "seem", "want",
     "let", "put", "continue", "begin", "find", "show", "call", "try", "leave", "keep", "need"]
)  # fmt: skip
# Trigger-agreement experiment (weight of the overlap, single-link threshold): the
# best pair of the grid chosen on the dev topics (see docs/benchmarks.md).
TRIGGER_WEIGHT = 0.4
TRIGGER_THRESHOLD = 0.75


@dataclass(frozen=True, slots=True)
class SentenceLemmas:
    """What the spaCy lemmatiser gives of one sentence."""

    mention_heads: frozenset[str]  # lemma of each gold mention's syntactic head
    triggers: frozenset[str]  # lemmas of its event-like words (verbs, common nouns)


def sentence_lemmas(sentences: Sequence[Sentence]) -> list[SentenceLemmas]:
    """Mention-head and trigger lemmas (the full spaCy pipeline, with its lemmatiser)."""
    import spacy

    from storyline.analyse.nlp import model_name

    nlp = spacy.load(model_name())
    out = []
    for s, doc in zip(sentences, nlp.pipe([s.text for s in sentences], batch_size=64), strict=True):
        heads = set()
        for start, end in s.mentions:
            tokens = [t for t in doc if start <= t.idx < end]
            # "checked into": the head is the verb, not the particle.
            content = [t for t in tokens if t.pos_ not in ("ADP", "PART")] or tokens
            roots = [t for t in content if t.head not in tokens or t.head == t]
            if content:
                heads.add((roots or content)[0].lemma_.lower())
        triggers = {
            _stem(t.lemma_.lower())
            for t in doc
            if t.lemma_.isalpha()
            and len(t.lemma_) > 2
            and (
                (t.pos_ == "VERB" and t.lemma_.lower() not in _LIGHT_VERBS)
                or (t.pos_ == "NOUN" and not t.ent_type_)
            )
        }
        out.append(SentenceLemmas(frozenset(heads), frozenset(triggers)))
    return out


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def errors_by_kind(predicted: set[Pair], gold: set[Pair]) -> dict[str, dict[str, int]]:
    """False positives and negatives by sub-topic kind (ECB vs ECB+ documents)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"fp": 0, "fn": 0})
    for pairs, error in ((predicted - gold, "fp"), (gold - predicted, "fn")):
        for pair in pairs:
            out["ecbplus" if pair[0][0].endswith("ecbplus") else "ecb"][error] += 1
    return dict(out)


OURS = "event groups: learned pairs, average link (ours)"
CLAIM_GROUPS = "claim groups (production facts)"


def story_articles(
    group: Sequence[Sentence], documents: Mapping[str, Document] | None
) -> tuple[list[Claim], dict[tuple[str, int], int]]:
    """A sub-topic's articles as claims, every sentence of each document in text order.

    Also where each (document, line) is among them.  Without `documents`, the
    articles are made of the mention sentences alone.
    """
    doc_ids = list(dict.fromkeys(s.doc_id for s in group))
    if documents is not None:
        subtopic = group[0].subtopic
        doc_ids += [d for d, doc in documents.items() if doc.subtopic == subtopic]
        doc_ids = list(dict.fromkeys(doc_ids))
    claims: list[Claim] = []
    where: dict[tuple[str, int], int] = {}
    for doc_id in doc_ids:
        if documents is not None and doc_id in documents:
            lines = list(documents[doc_id].lines)
        else:
            lines = [(s.index, s.text) for s in group if s.doc_id == doc_id]
        offset = 0
        for index, text in lines:
            where[(doc_id, index)] = len(claims)
            claims.append(_line_claim(doc_id, text, offset))
            offset += len(text) + 1
    return claims, where


def _line_claim(doc_id: str, text: str, start: int) -> Claim:
    return Claim(
        article_id=doc_id, outlet=doc_id, text=text, start=start, end=start + len(text),
        numbers=tuple(numbers_in(text)), negated=is_negated(text), words=content_words(text),
    )  # fmt: skip


def _grouped_pairs(
    group: Sequence[Sentence], groups: Sequence[Sequence[int]], at: Mapping[int, int]
) -> set[Pair]:
    """Cross-document pairs of mention sentences put in one group (`at`: claim -> sentence)."""
    out = set()
    for members in groups:
        inside = [group[at[i]] for i in members if i in at]
        for x, y in combinations(inside, 2):
            if x.doc_id != y.doc_id:
                out.add(_pair(x, y))
    return out


@dataclass(frozen=True, slots=True)
class PreparedStory:
    """One ECB+ sub-topic as the event grouping sees it: its articles' claims, their
    vectors, every cross-article claim pair with its EVENT_FEATURES row, and the gold
    label of the pairs whose two claims are mention sentences."""

    topic: str
    group: tuple[Sentence, ...]  # the mention sentences
    claims: tuple[Claim, ...]  # every sentence of the sub-topic's documents
    where: Mapping[tuple[str, int], int]  # (document, line) -> claim index
    at: Mapping[int, int]  # claim index -> index in `group`, for mention sentences
    vectors: np.ndarray
    pairs: np.ndarray  # (i, j) claim indices, claims of different articles
    features: np.ndarray  # one EVENT_FEATURES row per pair
    labelled: np.ndarray  # bool per pair: both claims are mention sentences
    labels: np.ndarray  # per labelled pair: 1.0 when they share an event chain


def prepare_stories(
    sentences: Sequence[Sentence], documents: Mapping[str, Document] | None, embed: Embed
) -> list[PreparedStory]:
    """Every sub-topic of `sentences` prepared once (one model call per sub-topic)."""
    by_story: dict[str, list[Sentence]] = defaultdict(list)
    for s in sentences:
        by_story[s.subtopic].append(s)
    out = []
    for group in by_story.values():
        claims, where = story_articles(group, documents)
        vectors = np.asarray(embed([c.text for c in claims]), dtype=np.float64)
        at = {where[(s.doc_id, s.index)]: k for k, s in enumerate(group)}
        pairs, features = event_pair_features(claims, vectors)
        labelled = np.array([i in at and j in at for i, j in pairs.tolist()], dtype=bool)
        labels = np.array(
            [float(bool(group[at[i]].chains & group[at[j]].chains)) for i, j in pairs[labelled]]
        )
        topic = group[0].doc_id.split("_")[0]
        out.append(PreparedStory(topic, tuple(group), tuple(claims), where, at, vectors,
                                 pairs, features, labelled, labels))  # fmt: skip
    return out


def _gold_pairs(stories: Sequence[PreparedStory]) -> set[Pair]:
    return {
        _pair(a, b)
        for story in stories
        for a, b in combinations(story.group, 2)
        if a.doc_id != b.doc_id and a.chains & b.chains
    }


def _event_group_pairs(
    story: PreparedStory,
    weights: Sequence[float] = EVENT_PAIR_WEIGHTS,
    bias: float = EVENT_PAIR_BIAS,
    threshold: float = EVENT_LINK_THRESHOLD,
) -> set[Pair]:
    """Cross-document mention-sentence pairs that `event_groups` puts together."""
    main, others = event_groups(story.claims, _fixed(story.vectors), threshold, weights, bias)
    return _grouped_pairs(story.group, [main, *others], story.at)


def evaluate_alignment(
    sentences: Sequence[Sentence],
    threshold: float = ALIGN_THRESHOLD,
    lemmas: bool = True,
    documents: Mapping[str, Document] | None = None,
    embed: Embed | None = None,
    cross_validate: Sequence[int] = (),
) -> dict[str, dict[str, Any]]:
    """P/R/F1 over cross-document sentence pairs of our groups and of the baselines.

    Ours (`event_groups`) and the production fact groups (`align_claims`) run as in
    the pipeline, over whole articles (`documents`: every sentence of each document
    of the sub-topic, so leads are the documents' first sentences); only pairs of
    mention sentences are scored.  With `cross_validate` (fold seeds), ours is
    scored by `cross_validate_events` instead of with the shipped weights (which
    were fitted on these topics).  With `lemmas`, also the spaCy-lemma baseline and
    the trigger-agreement variant (they need the full spaCy pipeline).
    """
    if embed is None:
        from storyline.link.embed import load_embedder

        embed = load_embedder().embed
    lemma_of = dict(zip(sentences, sentence_lemmas(sentences), strict=True)) if lemmas else {}
    stories = prepare_stories(sentences, documents, embed)
    gold = _gold_pairs(stories)
    found: dict[str, set[Pair]] = defaultdict(set)
    for seed in cross_validate:
        found[f"{OURS}, 5-fold CV by topic (seed {seed})"] = cross_validate_events(
            stories, seed=seed
        )["predicted"]
    for story in stories:
        group, claims, vectors = story.group, story.claims, story.vectors
        for a, b in combinations(group, 2):
            if a.doc_id == b.doc_id:
                continue
            pair = _pair(a, b)
            found["one group per sub-topic (trivial)"].add(pair)
            if a.heads & b.heads:
                found["same-lemma baseline"].add(pair)
            if lemma_of and lemma_of[a].mention_heads & lemma_of[b].mention_heads:
                found["same-lemma baseline, spaCy lemma"].add(pair)
        if not cross_validate:
            found[OURS] |= _event_group_pairs(story)
        found[CLAIM_GROUPS] |= _grouped_pairs(
            group, align_claims(claims, _fixed(vectors), threshold), story.at
        )
        # Earlier variants: single link over the mention sentences alone.
        rows = [story.where[(s.doc_id, s.index)] for s in group]
        mention_claims, mention_vectors = [claims[i] for i in rows], vectors[rows]
        itself = {k: k for k in range(len(group))}
        found[f"event groups, single link ({EVENT_THRESHOLD:g})"] |= _grouped_pairs(
            group, align_claims(mention_claims, _fixed(mention_vectors), EVENT_THRESHOLD, "single"),
            itself)  # fmt: skip
        if lemma_of:
            bonus = np.array(
                [[TRIGGER_WEIGHT * _overlap(lemma_of[x].triggers, lemma_of[y].triggers)
                  for y in group] for x in group]
            )  # fmt: skip
            found[f"event groups + triggers ({TRIGGER_THRESHOLD:g})"] |= _grouped_pairs(
                group, align_claims(mention_claims, _fixed(mention_vectors), TRIGGER_THRESHOLD,
                                    "single", bonus=bonus), itself)  # fmt: skip
    ours = [name for name in found if name.startswith(OURS)] or [OURS]
    order = [*ours, CLAIM_GROUPS, f"event groups, single link ({EVENT_THRESHOLD:g})",
             f"event groups + triggers ({TRIGGER_THRESHOLD:g})",
             "one group per sub-topic (trivial)", "same-lemma baseline",
             "same-lemma baseline, spaCy lemma"]  # fmt: skip
    return {
        name: {**prf(found[name], gold), "errors": errors_by_kind(found[name], gold)}
        for name in order
        if name in found or name in (OURS, CLAIM_GROUPS)
    }


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights (one per column of `x`, in its own scale) and bias of a logistic regression.

    Newton steps on standardised columns with an L2 penalty `l2` on the weights.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(y), -1)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.diag([l2] * x.shape[1] + [0.0])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    weights = w[:-1] / scale
    return weights, float(w[-1] - weights @ mean)


# Link thresholds the fit chooses among.
EVENT_THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45)


def fit_events(
    stories: Sequence[PreparedStory], thresholds: Sequence[float] = EVENT_THRESHOLDS
) -> dict[str, Any]:
    """The pair weights and the link threshold of `event_groups`, fitted on `stories`.

    Weights: a logistic fit of "the two sentences share an event chain" on the
    EVENT_FEATURES of every cross-document pair of mention sentences.  Threshold:
    the best pair F1 of the grouping over the same stories (run over whole
    articles, as in the pipeline).  The one procedure both for the shipped
    constants and inside each fold of `cross_validate_events`.
    """
    weights, bias = fit_logistic(
        np.vstack([s.features[s.labelled] for s in stories]),
        np.concatenate([s.labels for s in stories]),
    )
    gold = _gold_pairs(stories)
    grid = {}
    for t in thresholds:
        predicted = set().union(
            *(_event_group_pairs(s, weights.tolist(), bias, t) for s in stories)
        )
        grid[float(t)] = prf(predicted, gold)
    best = max(grid, key=lambda t: (grid[t]["f1"], -t))
    return {
        "features": list(EVENT_FEATURES),
        "weights": [round(float(w), 4) for w in weights], "bias": round(bias, 4),
        "threshold": best, "in_sample": grid[best],
        "grid": {f"{t:g}": g["f1"] for t, g in grid.items()},
    }  # fmt: skip


def cross_validate_events(
    stories: Sequence[PreparedStory], folds: int = 5, seed: int = 0
) -> dict[str, Any]:
    """Our grouping scored on topics it was not fitted on.

    Topics (not sub-topics: a topic's two sub-topics are look-alike events) are
    shuffled with `seed` and dealt into `folds`; each fold is grouped with the
    weights and threshold `fit_events` gives on the other folds.
    """
    topics = sorted({s.topic for s in stories}, key=lambda t: (len(t), t))
    order = np.random.default_rng(seed).permutation(len(topics))
    fold_of = {topics[k]: n % folds for n, k in enumerate(order)}
    predicted: set[Pair] = set()
    thresholds = []
    for fold in range(folds):
        train = [s for s in stories if fold_of[s.topic] != fold]
        test = [s for s in stories if fold_of[s.topic] == fold]
        if not train or not test:
            continue
        fitted = fit_events(train)
        thresholds.append(fitted["threshold"])
        for story in test:
            predicted |= _event_group_pairs(
                story, fitted["weights"], fitted["bias"], fitted["threshold"]
            )
    return {"predicted": predicted, "scores": prf(predicted, _gold_pairs(stories)),
            "thresholds": thresholds}  # fmt: skip


# --------------------------------------------------------------------------- conflict set

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|would|could|can|did|does)\b")
_WORDING = [
    (r"\bspokesman\b", "spokesperson"), (r"\bspokeswoman\b", "spokesperson"),
    (r"\bspokesperson\b", "spokesman"), (r"\btold reporters\b", "told the media"),
    (r"\btroops\b", "soldiers"), (r"\bkilled\b", "left dead"), (r"\bsaid\b", "stated"),
    (r"\bpolice\b", "officers"), (r"\bannounced\b", "made public"),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConflictCase:
    original: str
    edited: str
    kind: str  # number | date | place | polarity | wording (a negative)


def _edit_number(text: str) -> str | None:
    m = re.search(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\w,])", text)
    if not m or re.fullmatch(r"(19|20)\d\d", m.group(1)):
        return None
    value = int(m.group(1).replace(",", ""))
    return text[: m.start()] + f"{value * 3 + 7:,}" + text[m.end() :]


def _edit_date(text: str) -> str | None:
    for names in (_MONTHS, _WEEKDAYS):
        for i, name in enumerate(names):
            m = re.search(rf"\b{name}\b", text)
            if m:
                other = names[(i + 3) % len(names)]
                return text[: m.start()] + other + text[m.end() :]
    return None


# Replacements of the same kind, so an edit names another place, not a region.
_REPLACEMENTS = {
    "country": ["France", "Brazil", "Japan", "Canada", "Kenya"],
    "state": ["Texas", "Ohio", "Oregon", "Florida"],
    "city": ["Chicago", "Madrid", "Nairobi", "Osaka"],
}


def _places(text: str) -> list[tuple[int, int, str]]:
    """Place mentions (GPE, LOC, FAC) found by the configured spaCy pipeline."""
    from storyline.analyse.nlp import load_nlp

    return [
        (e.start_char, e.end_char, e.text)
        for e in _parse(load_nlp(), text).ents
        if e.label_ in PLACE_LABELS
    ]


@functools.lru_cache(maxsize=4096)
def _parse(nlp: Any, text: str) -> Any:
    return nlp(text)


def _edit_place(text: str) -> str | None:
    for start, end, name in _places(text):
        kind = place_kind(name)
        if kind is None:
            continue
        for other in _REPLACEMENTS[kind]:
            if not places_compatible(other, name):
                return text[:start] + other + text[end:]
    return None


def _edit_polarity(text: str) -> str | None:
    if is_negated(text):
        return None
    m = _AUX.search(text)
    if not m:
        return None
    return text[: m.end()] + " not" + text[m.end() :]


def _edit_wording(text: str) -> str | None:
    for pattern, replacement in _WORDING:
        if re.search(pattern, text):
            return re.sub(pattern, replacement, text, count=1)
    return None


def make_conflict_set(texts: Sequence[str], per_kind: int = 100) -> list[ConflictCase]:
    """Positives (number, date, place, polarity edits) and wording-only negatives."""
    editors = {"number": _edit_number, "date": _edit_date, "place": _edit_place,
               "polarity": _edit_polarity, "wording": _edit_wording}  # fmt: skip
    cases: list[ConflictCase] = []
    for kind, edit in editors.items():
        count = 0
        for text in texts:
            if count >= per_kind * (2 if kind == "wording" else 1):
                break
            edited = edit(text)
            if edited and edited != text:
                cases.append(ConflictCase(text, edited, kind))
                count += 1
    return cases


def analysed_claim(text: str, reference: str = "2020-06-15") -> Claim:
    """A claim as the pipeline sees it: dates from the temporal tagger, places from spaCy."""
    times = [t for t in tag_times(text, reference) if t.type in ("DATE", "TIME")]
    dates = tuple(t.value[:10] for t in times if re.match(r"^\d{4}", t.value))
    spans = [(t.start, t.end) for t in times]
    return Claim(
        article_id="x", outlet="x", text=text, start=0, end=len(text),
        numbers=tuple(numbers_in(text, spans)), dates=dates,
        places=tuple(dict.fromkeys(name for _, _, name in _places(text))),
        negated=is_negated(text), words=content_words(text),
    )  # fmt: skip


def evaluate_conflicts(cases: Sequence[ConflictCase]) -> dict[str, Any]:
    tp = fp = fn = tn = 0
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        flagged = bool(claim_conflicts(analysed_claim(case.original), analysed_claim(case.edited)))
        positive = case.kind != "wording"
        by_kind[case.kind][0] += int(flagged == positive)
        by_kind[case.kind][1] += 1
        tp += flagged and positive
        fp += flagged and not positive
        fn += (not flagged) and positive
        tn += (not flagged) and not positive
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(precision, 3), "recall": round(recall, 3),
        "cases": len(cases), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "accuracy_by_kind": {k: round(ok / n, 3) for k, (ok, n) in sorted(by_kind.items())},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="storyline eval compare", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--topics", help="comma-separated ECB+ topics, 'dev', 'test' (non-dev) or 'all' (default)"
    )
    parser.add_argument("--threshold", type=float, default=ALIGN_THRESHOLD)
    parser.add_argument("--per-kind", type=int, default=100, help="conflict cases per edit kind")
    parser.add_argument(
        "--seeds",
        default="0,1,2",
        help="fold seeds of the cross-validation of ours; 'none': score the shipped weights",
    )
    parser.add_argument(
        "--fit-events",
        action="store_true",
        help="fit the pair weights and threshold of event_groups on the topics and exit",
    )
    args = parser.parse_args(argv)
    topics: set[str] | None
    if args.topics in (None, "all"):
        topics = None
    elif args.topics == "test":
        topics = {str(n) for n in range(1, 36)} - DEV_TOPICS
    elif args.topics == "dev":
        topics = set(DEV_TOPICS)
    else:
        topics = set(args.topics.split(","))
    try:
        sentences = load_sentences(topics)
        documents = load_documents(topics)
    except DataUnavailable as exc:
        print(f"evaluation data unavailable: {exc}", file=sys.stderr)
        return 2
    if args.fit_events:
        from storyline.link.embed import load_embedder

        stories = prepare_stories(sentences, documents, load_embedder().embed)
        print(json.dumps(fit_events(stories)))
        return 0
    seeds = [] if args.seeds == "none" else [int(x) for x in args.seeds.split(",")]
    started = time.perf_counter()
    conflicts = evaluate_conflicts(make_conflict_set([s.text for s in sentences], args.per_kind))
    print("Conflict set (ECB+ sentences, edited):", json.dumps(conflicts))
    alignment = evaluate_alignment(
        sentences, args.threshold, documents=documents, cross_validate=seeds
    )
    print(f"ECB+ cross-document claim alignment ({len(sentences)} sentences, "
          f"{len({s.subtopic for s in sentences})} sub-topics):")  # fmt: skip
    for method, scores in alignment.items():
        errors = ", ".join(
            f"{kind} fp {e['fp']} fn {e['fn']}" for kind, e in sorted(scores["errors"].items())
        )
        print(
            f"  {method:34s} P {scores['precision']:.3f} R {scores['recall']:.3f} "
            f"F1 {scores['f1']:.3f} (pairs predicted {scores['predicted']}, gold {scores['gold']}; "
            f"{errors})"
        )
    print(f"time {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
