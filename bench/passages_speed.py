"""Speed of shared-passage alignment and quality of near-duplicate detection.

    .venv/bin/python bench/passages_speed.py            # both parts
    .venv/bin/python bench/passages_speed.py speed      # pairs/s by article length
    .venv/bin/python bench/passages_speed.py semeval    # MinHash flag rates on SemEval-2022 pairs

Articles of a given length are built from real news text (SemEval-2022 texts,
English; the bundled sample articles if the data set is absent).  A
"syndicated" pair is an article and a copy edited the way outlets edit wire copy
(new headline, changed words, dropped and added sentences); an "unrelated" pair
is two different articles.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from importlib import resources

from storyline.eval import DataUnavailable, dataset_path
from storyline.link.dedup import estimated_jaccard, minhash_signature
from storyline.link.passages import prepare, shared_passages

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _semeval_rows() -> list[dict]:
    path = dataset_path("semeval2022") / "pairs.jsonl"
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _source_sentences() -> list[str]:
    try:
        texts = [r[k] for r in _semeval_rows() if r["lang1"] == r["lang2"] == "en"
                 for k in ("text1", "text2")]
    except DataUnavailable as missing:
        print(f"({missing}; using the bundled sample articles)")
        examples = resources.files("storyline") / "examples"
        texts = [p.read_text(encoding="utf-8") for p in examples.iterdir()
                 if p.name.endswith(".txt")]
    # dict.fromkeys: the data set repeats texts across pairs; keep each sentence once.
    return list(dict.fromkeys(s for t in texts for s in _SENTENCE.split(t) if len(s.split()) >= 5))


def _article(sentences: list[str], words: int, rng: random.Random) -> str:
    start = rng.randrange(len(sentences))
    out: list[str] = []
    count = 0
    i = start
    while count < words:
        out.append(sentences[i % len(sentences)])
        count += len(out[-1].split())
        i += 1
    # Paragraphs of three sentences, as articles come.
    return "\n\n".join(" ".join(out[p : p + 3]) for p in range(0, len(out), 3))


def _syndicated_copy(text: str, sentences: list[str], rng: random.Random) -> str:
    """The copy another outlet runs: reworded words, dropped and added sentences."""
    out = ["A different headline for the same wire story"]
    for sentence in _SENTENCE.split(text):
        roll = rng.random()
        if roll < 0.1:
            continue  # dropped
        words = sentence.split()
        if roll < 0.4 and len(words) > 3:
            words[rng.randrange(len(words))] = "reworded"
        out.append(" ".join(words))
        if rng.random() < 0.1:
            out.append(rng.choice(sentences))  # the outlet's own addition
    return " ".join(out)


def _rate(fn: Callable[[], object], min_seconds: float = 0.5) -> float:
    """Calls per second."""
    calls = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        fn()
        calls += 1
    return calls / elapsed


def speed() -> None:
    rng = random.Random(7)
    sentences = _source_sentences()
    print("words/article  pair kind    passages  ms/pair  pairs/s  (prepared texts: pairs/s)")
    for words in (300, 800, 1500, 3000):
        a = _article(sentences, words, rng)
        pairs = {
            "syndicated": (a, _syndicated_copy(a, sentences, rng)),
            "unrelated": (a, _article(sentences, words, rng)),
        }
        for kind, (x, y) in pairs.items():
            found = len(shared_passages(x, y))
            per_second = _rate(lambda x=x, y=y: shared_passages(x, y))
            px, py = prepare(x), prepare(y)
            py.sorted_gram_keys()
            px.spans, py.spans  # noqa: B018 - built once, as for a story
            prepared_per_second = _rate(lambda px=px, py=py: shared_passages(px, py))
            print(f"{words:>13}  {kind:<11}  {found:>8}  {1000 / per_second:7.2f}  "
                  f"{per_second:7.0f}  {prepared_per_second:7.0f}")


def semeval() -> None:
    try:
        rows = [r for r in _semeval_rows() if r["lang1"] == r["lang2"]]
    except DataUnavailable as missing:
        print(f"skipped: {missing}")
        return
    thresholds = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)

    def flag_rates(label: str, similarities: list[float]) -> None:
        rates = "  ".join(f"{sum(s >= t for s in similarities) / len(similarities):6.1%}"
                          for t in thresholds)
        print(f"{label:<52} {len(similarities):>4}  {rates}")

    print(f"{'pairs (same language)':<52} {'n':>4}  "
          + "  ".join(f">={t:<4}" for t in thresholds))
    groups = {
        "overall 1.0 (very similar: same event, own text)": lambda o: o == 1.0,
        "overall 1-2": lambda o: 1.0 < o <= 2.0,
        "overall 2-3": lambda o: 2.0 < o <= 3.0,
        "overall >3 (dissimilar)": lambda o: o > 3.0,
    }
    for label, keep in groups.items():
        flag_rates(label, [estimated_jaccard(minhash_signature(r["text1"]),
                                             minhash_signature(r["text2"]))
                           for r in rows if keep(r["overall"])])

    # Copies of real texts, edited as republished copies are: the rate at which each
    # threshold recognises them.  Texts are the SemEval ones (~150 words) and
    # four of them joined (~600 words).
    rng = random.Random(11)
    texts = [r[k] for r in rows for k in ("text1", "text2") if len(r[k].split()) >= 60]
    longer = ["\n\n".join(rng.sample(texts, 4)) for _ in range(len(texts) // 4)]

    def new_headline(t: str) -> str:
        # The texts start with their headline; a copy replaces its first ten words.
        return "Completely new headline for this copy\n" + " ".join(t.split()[10:])

    def edit_sentence(t: str) -> str:
        parts = _SENTENCE.split(t)
        i = rng.randrange(len(parts))
        words = parts[i].split()
        for _ in range(min(2, len(words))):
            words[rng.randrange(len(words))] = "edited"
        parts[i] = " ".join(words)
        return " ".join(parts)

    def drop_sentence(t: str) -> str:
        parts = _SENTENCE.split(t)
        if len(parts) > 1:
            del parts[rng.randrange(len(parts))]
        return " ".join(parts)

    edits = {
        "whitespace and quotes only": lambda t: " ".join(t.split()).replace('"', "\u201c"),
        "new headline": new_headline,
        "new headline + one sentence edited (2 words)": lambda t: edit_sentence(new_headline(t)),
        "new headline + one sentence dropped": lambda t: drop_sentence(new_headline(t)),
    }
    for size, pool in (("~150 w", texts), ("~600 w", longer)):
        for label, edit in edits.items():
            flag_rates(f"copy {size}: {label}",
                       [estimated_jaccard(minhash_signature(t), minhash_signature(edit(t)))
                        for t in pool])

    # Shared passages on pairs annotators call dissimilar: what is found there.
    dissimilar = [r for r in rows if r["overall"] > 3.0]
    with_passage = [r for r in dissimilar if shared_passages(r["text1"], r["text2"])]
    print(f"\nshared passages found in {len(with_passage)}/{len(dissimilar)} dissimilar pairs")
    similar = [r for r in rows if r["overall"] == 1.0]
    coverage = []
    for r in similar:
        found = shared_passages(r["text1"], r["text2"])
        coverage.append(sum(p.a_end - p.a_start for p in found) / max(1, len(r["text1"])))
    with_shared = [c for c in coverage if c > 0]
    print(f"very similar pairs with a shared passage: {len(with_shared)}/{len(similar)}; "
          f"median share of text1 covered when found: {statistics.median(with_shared or [0]):.0%}")


if __name__ == "__main__":
    parts = sys.argv[1:] or ["speed", "semeval"]
    for part in parts:
        {"speed": speed, "semeval": semeval}[part]()
        print()
