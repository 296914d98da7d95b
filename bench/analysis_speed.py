"""CPU cost of the per-article analysis stage, split by component, and its output.

    .venv/bin/python bench/analysis_speed.py [--corpus FILE.jsonl] [--articles 100]
        [--dump /tmp/analysis.json] [--profile 25] [--repeat 1] [--floor] [--skip-claims]

Runs what `storyline.analyse.analyse_article` runs, one article at a time as the
per-document stage calls it, over a fixed corpus (by default 100 articles of
`storyline corpus --size 100 --seed 0`, generated into /tmp when absent), in one
process, with every model loaded and warmed before timing. Prints CPU ms per
article for each step:

- time expressions (`tag_times`), events (`extract_events`), claims
  (`article_claims`: claim spans and their embeddings);
- people: the spaCy parse (`parse_for_people`, selective), entities
  (`doc_entities`), quotes (`extract_quotes`) and citations (`extract_citations`);
- the total through `analyse_article` itself (its output is what gets dumped).

`--dump` writes every article's analyses (`analyse_article`, as stored) as JSON, so
two code versions can be compared byte for byte. `--profile N` prints the N
functions with the most own CPU time (cProfile over one pass of the steps).
`--floor` prints the cost of the spaCy pipeline alone over the same texts: the
tokenizer, NER over whole articles, and the selective parse's tok2vec/tagger/parser.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pickle
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyline.analyse import analyse_article
from storyline.analyse.citations import extract_citations, parse_for_people
from storyline.analyse.entities import doc_entities
from storyline.analyse.events import extract_events
from storyline.analyse.nlp import load_nlp, rough_sentences
from storyline.analyse.quotes import extract_quotes, may_hold_attribution
from storyline.analyse.timex import tag_times
from storyline.records import Article

DEFAULT_CORPUS = Path("/tmp/storyline-analysis-corpus/articles/articles-000.jsonl")


def load_articles(corpus: Path, limit: int) -> list[Article]:
    """The corpus's clean articles (extracted once, cached beside the corpus)."""
    if not corpus.exists():
        from storyline.corpus import write_corpus

        write_corpus(corpus.parents[1], max(limit, 100), seed=0)
    cache = corpus.with_suffix(f".articles-{limit}.pickle")
    if cache.exists() and cache.stat().st_mtime >= corpus.stat().st_mtime:
        return pickle.loads(cache.read_bytes())
    from storyline.batch import read_file
    from storyline.config import Settings
    from storyline.extract import ExtractionError, extract
    from storyline.pipeline import load_registry

    settings = Settings.from_env()
    registry = load_registry(())
    articles = []
    for raw in read_file(str(corpus), settings):
        if len(articles) >= limit:
            break
        try:
            articles.append(extract(raw, registry))
        except (ExtractionError, AttributeError, TypeError):
            continue  # a Failure from the reader, or an article with no body
    cache.write_bytes(pickle.dumps(articles))
    return articles


def steps_of(article: Article) -> dict[str, Callable[[], Any]]:
    """The steps of `analyse_article` for one article, in its order, each reading
    the results of the earlier ones through `state`."""
    from storyline.compare.claims import article_claims

    nlp = load_nlp()
    state: dict[str, Any] = {}

    def parse() -> None:
        state["doc"] = next(iter(parse_for_people([article.body], nlp)))

    def entities() -> None:
        state["entities"] = doc_entities(state["doc"])

    def quotes() -> None:
        state["quotes"] = extract_quotes(state["doc"], state["entities"])

    def citations() -> None:
        extract_citations(state["quotes"])

    def timex() -> None:
        state["times"] = tag_times(article.body, article.published)

    def events() -> None:
        mentions = [(m.text, m.label) for m in state["entities"]]
        extract_events(article.body, article.published, state["times"], mentions)

    return {
        "time expressions": timex,
        "people: spaCy parse + NER": parse,
        "people: entities": entities,
        "people: quotes": quotes,
        "people: citations": citations,
        "events": events,
        CLAIMS: lambda: article_claims(article.body),
    }


CLAIMS = "claims (compare.claims)"


def time_steps(articles: list[Article], skip: frozenset[str] = frozenset()) -> dict[str, float]:
    """CPU seconds per step over all articles (steps named in `skip` not run)."""
    spent: dict[str, float] = {}
    for article in articles:
        for name, step in steps_of(article).items():
            if name in skip:
                continue
            started = time.process_time()
            step()
            spent[name] = spent.get(name, 0.0) + time.process_time() - started
    return spent


def floor(articles: list[Article]) -> dict[str, float]:
    """CPU seconds of the spaCy pipeline alone, by part, over all articles."""
    nlp = load_nlp()
    texts = [a.body for a in articles]
    out: dict[str, float] = {}
    started = time.process_time()
    docs = [nlp.make_doc(t) for t in texts]
    out["tokenizer"] = time.process_time() - started
    ner = nlp.get_pipe("ner")
    started = time.process_time()
    list(ner.pipe(docs, batch_size=32))
    out["NER, whole articles"] = time.process_time() - started
    from spacy.tokens import Doc

    sentences = []
    for doc in docs:
        for start, end in rough_sentences(doc):
            if may_hold_attribution(doc[start:end]):
                span = doc[start:end]
                sentences.append(
                    Doc(nlp.vocab, words=[t.text for t in span],
                        spaces=[bool(t.whitespace_) for t in span])
                )
    parse_names = [n for n in nlp.pipe_names if n != "ner"]
    for name in parse_names:
        component = nlp.get_pipe(name)
        started = time.process_time()
        if hasattr(component, "pipe"):
            sentences = list(component.pipe(sentences, batch_size=256))
        else:
            sentences = [component(s) for s in sentences]
        out[f"{name}, sentences to parse"] = time.process_time() - started
    kept = sum(len(s) for s in sentences) / max(1, sum(len(d) for d in docs))
    print(f"  (selective parse: {kept:.0%} of the tokens)")
    return out


def print_table(title: str, spent: dict[str, float], n: int) -> None:
    total = sum(spent.values())
    print(f"\n{title} (CPU ms per article, {n} articles):")
    for name, seconds in spent.items():
        print(f"  {name:<36} {seconds / n * 1000:8.2f}  ({seconds / total:5.1%})")
    print(f"  {'sum':<36} {total / n * 1000:8.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--dump", type=Path, help="write analyse_article's output here (JSON)")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes (best is kept)")
    parser.add_argument("--floor", action="store_true", help="also time the spaCy pipeline alone")
    parser.add_argument("--skip-claims", action="store_true",
                        help="leave out the claims embedding (not an analyse/ module)")
    args = parser.parse_args(argv)

    articles = load_articles(args.corpus, args.articles)
    words = sum(len(a.body.split()) for a in articles) / len(articles)
    print(f"{len(articles)} articles, {words:.0f} words each on average; "
          f"load {os.getloadavg()[0]:.2f}")
    for article in articles[:2]:  # load and warm every model before timing
        analyse_article(article)

    skip = frozenset({CLAIMS}) if args.skip_claims else frozenset()
    best: dict[str, float] | None = None
    for _ in range(args.repeat):
        spent = time_steps(articles, skip)
        if best is None or sum(spent.values()) < sum(best.values()):
            best = spent
    assert best is not None
    print_table("steps of analyse_article", best, len(articles))

    started = time.process_time()
    outputs = [analyse_article(a) for a in articles]
    total = time.process_time() - started
    ms = total / len(articles) * 1000
    print(f"\nanalyse_article end to end: {ms:.1f} CPU ms per article "
          f"-> {2000 / ms:.1f} articles/s bound on 2 cores")

    if args.dump:
        data = [{"url": a.url, **{k: v for k, v in out.items()
                                  if not (args.skip_claims and k == "claims")}}
                for a, out in zip(articles, outputs, strict=True)]
        args.dump.write_text(json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False))
        print(f"analyses written to {args.dump}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        time_steps(articles, skip)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(args.profile)

    if args.floor:
        print_table("spaCy pipeline alone", floor(articles), len(articles))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
