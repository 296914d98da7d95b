"""Throughput of the people analysis (entities, quotes, citations) and where its time goes.

    .venv/bin/python bench/people_speed.py [--articles 60] [--processes 2]

On PolNeAR dev articles (the sample articles when the data is absent) it prints:

1. CPU milliseconds per article for each step of a full parse (tokenizer,
   tok2vec, tagger, parser, coarse POS, NER) and for the rules;
2. articles per CPU second of `analyse_people` with the full parse and with the
   selective parse (tagger and parser only on sentences that can hold an
   attribution; the stage default);
3. articles per wall second of the selective analysis on `--processes` worker
   processes (the figure that counts on a 2-core machine; wall time also counts
   waiting for cores other jobs use).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from storyline.analyse.citations import analyse_people
from storyline.analyse.entities import doc_entities
from storyline.analyse.nlp import load_nlp
from storyline.analyse.quotes import extract_quotes
from storyline.eval import DataUnavailable


def _texts(limit: int) -> tuple[str, list[str]]:
    try:
        from storyline.eval.quotes import load_polnear

        return "PolNeAR dev", [d["text"] for d in load_polnear("dev", limit)]
    except DataUnavailable:
        examples = Path(__file__).resolve().parents[1] / "src" / "storyline" / "examples"
        texts = [p.read_text(encoding="utf-8") for p in sorted(examples.glob("*.txt"))]
        return "sample articles", (texts * limit)[:limit]


def _cpu(fn) -> tuple[float, object]:
    started = time.process_time()
    result = fn()
    return time.process_time() - started, result


def profile_steps(nlp, texts: list[str]) -> dict[str, float]:
    """CPU seconds per step of the full pipeline over all texts."""
    seconds: dict[str, float] = {}
    spent, docs = _cpu(lambda: [nlp.make_doc(t) for t in texts])
    seconds["tokenizer"] = spent
    for name, component in nlp.pipeline:
        if hasattr(component, "pipe"):
            spent, docs = _cpu(lambda c=component, d=docs: list(c.pipe(d, batch_size=64)))
        else:
            spent, docs = _cpu(lambda c=component, d=docs: [c(doc) for doc in d])
        seconds[name] = spent
    spent, _ = _cpu(lambda: [extract_quotes(d, doc_entities(d)) for d in docs])
    seconds["rules (entities + quotes)"] = spent
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    source, texts = _texts(args.articles)
    nlp = load_nlp()
    list(nlp.pipe(texts[:2]))  # warm up (lazy allocations)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"{len(texts)} {source} articles, {words:.0f} words each on average")

    steps = profile_steps(nlp, texts)
    total = sum(steps.values())
    print("\nfull parse, CPU ms per article by step:")
    for name, spent in steps.items():
        print(f"  {name:<26} {spent / len(texts) * 1000:7.1f}  ({spent / total:5.1%})")

    print("\nanalyse_people, one process:")
    for label, full in (("full parse", True), ("selective parse", False)):
        wall = time.perf_counter()
        spent, _ = _cpu(lambda f=full: analyse_people(texts, nlp, full_parse=f))
        wall = time.perf_counter() - wall
        print(
            f"  {label:<16} {len(texts) / spent:6.1f} articles per CPU second "
            f"({len(texts) / wall:.1f} per wall second)"
        )

    if args.processes > 1:
        wall = time.perf_counter()
        analyse_people(texts, nlp, n_process=args.processes)
        wall = time.perf_counter() - wall
        print(
            f"\nselective parse on {args.processes} processes: "
            f"{len(texts) / wall:.1f} articles per wall second (model loading included)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
