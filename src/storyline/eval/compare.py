"""Evaluation of outlet comparison: claim alignment on ECB+ and a conflict set.

ECB+ alignment: each line of a document is a sentence; within a sub-topic (one
real-world event, i.e. a story), two sentences of different documents are truly
aligned when they hold mentions of the same event chain (non-singleton chains).
Only sentences carrying event mentions (those ECB+ validated) take part.
Our claim groups (compare.facts.align_claims) give the predicted pairs; the
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

    python -m storyline.eval.compare [--topics 1,2,...] [--threshold 0.66]
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from storyline.analyse.timex import tag_times
from storyline.compare.facts import (
    ALIGN_THRESHOLD,
    PLACE_LABELS,
    Claim,
    _stem,
    align_claims,
    claim_conflicts,
    content_words,
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


def evaluate_alignment(
    sentences: Sequence[Sentence], threshold: float = ALIGN_THRESHOLD, lemmas: bool = True
) -> dict[str, dict[str, Any]]:
    """P/R/F1 over cross-document sentence pairs of our groups and of the baselines.

    With `lemmas`, also the spaCy-lemma baseline and the trigger-agreement variant
    of event groups (they need the full spaCy pipeline).
    """
    from storyline.link.embed import load_embedder

    embed = load_embedder().embed
    lemma_of = dict(zip(sentences, sentence_lemmas(sentences), strict=True)) if lemmas else {}
    by_story: dict[str, list[Sentence]] = defaultdict(list)
    for s in sentences:
        by_story[s.subtopic].append(s)
    gold: set[Pair] = set()
    found: dict[str, set[Pair]] = defaultdict(set)
    for group in by_story.values():
        for a, b in combinations(group, 2):
            if a.doc_id == b.doc_id:
                continue
            pair = _pair(a, b)
            found["one group per sub-topic (trivial)"].add(pair)
            if a.chains & b.chains:
                gold.add(pair)
            if a.heads & b.heads:
                found["same-lemma baseline"].add(pair)
            if lemma_of and lemma_of[a].mention_heads & lemma_of[b].mention_heads:
                found["same-lemma baseline, spaCy lemma"].add(pair)
        claims = [sentence_claim(s) for s in group]
        vectors = embed([c.text for c in claims])
        runs: list[tuple[str, str, float, np.ndarray | None]] = [
            (f"claim groups ({threshold:g})", "per_article", threshold, None),
            (f"event groups ({EVENT_THRESHOLD:g})", "single", EVENT_THRESHOLD, None),
        ]
        if lemma_of:
            bonus = np.array(
                [[TRIGGER_WEIGHT * _overlap(lemma_of[x].triggers, lemma_of[y].triggers)
                  for y in group] for x in group]
            )  # fmt: skip
            runs.append((f"event groups + triggers ({TRIGGER_THRESHOLD:g})", "single",
                         TRIGGER_THRESHOLD, bonus))  # fmt: skip
        for name, linkage, cut, extra in runs:
            for members in align_claims(claims, _fixed(vectors), cut, linkage, bonus=extra):
                for i, j in combinations(members, 2):
                    if group[i].doc_id != group[j].doc_id:
                        found[name].add(_pair(group[i], group[j]))
    order = [f"claim groups ({threshold:g})", f"event groups ({EVENT_THRESHOLD:g})",
             f"event groups + triggers ({TRIGGER_THRESHOLD:g})",
             "one group per sub-topic (trivial)", "same-lemma baseline",
             "same-lemma baseline, spaCy lemma"]  # fmt: skip
    return {
        name: {**prf(found[name], gold), "errors": errors_by_kind(found[name], gold)}
        for name in order
        if name in found or name.startswith(("claim", "event groups ("))
    }


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
        "--topics", help="comma-separated ECB+ topics, 'dev' or 'test' (default: test = non-dev)"
    )
    parser.add_argument("--threshold", type=float, default=ALIGN_THRESHOLD)
    parser.add_argument("--per-kind", type=int, default=100, help="conflict cases per edit kind")
    args = parser.parse_args(argv)
    topics: set[str] | None
    if args.topics in (None, "test"):
        topics = {str(n) for n in range(1, 36)} - DEV_TOPICS
    elif args.topics == "dev":
        topics = set(DEV_TOPICS)
    else:
        topics = set(args.topics.split(","))
    try:
        sentences = load_sentences(topics)
    except DataUnavailable as exc:
        print(f"evaluation data unavailable: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    conflicts = evaluate_conflicts(make_conflict_set([s.text for s in sentences], args.per_kind))
    print("Conflict set (ECB+ sentences, edited):", json.dumps(conflicts))
    alignment = evaluate_alignment(sentences, args.threshold)
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
