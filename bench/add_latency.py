"""Latency of adding one article to a store that already holds N articles.

    .venv/bin/python bench/add_latency.py --stored 10000 100000 [--probes 60] [--keep DIR [--reuse]]

The store (SQLite, in a temporary folder) is filled by bulk load: generated
articles (storyline.corpus, seed 0) written straight through the storage
interface with their gold story, link features and MinHash, in transactions
of 2,000; features are computed once per source article and reused for its
copies, which only makes the fill faster (the copies' texts differ by light
edits).  Then the next `--probes` articles of the same stream (dated at the
end of the filled range, so their linking window is full) are added one at a
time through the real global stage (`Pipeline.ingest_processed`), timing each
call; the per-document stage (extract, analyse, features) is timed apart,
since it does not depend on the store.  The pipeline is warmed up first (it
reads the linker's statistics once, as a long-running ingest does); the first
probe, which loads the story window around its date, is reported apart.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from storyline import ids
from storyline.batch import DocumentStage
from storyline.config import Settings
from storyline.corpus import CorpusArticle, generate_articles, load_source_articles, news_outlets
from storyline.extract.outlets import OutletRegistry
from storyline.link.dedup import band_keys, lsh_params, minhash_signature
from storyline.link.stories import EmbeddingLinker, default_linker
from storyline.pipeline import Pipeline
from storyline.records import Article, RawDocument
from storyline.store import open_store

FILL_TRANSACTION = 2_000


def _article(c: CorpusArticle) -> Article:
    body = c.text
    return Article(
        id=ids.article_id(c.url, body),
        source=c.url,
        url=c.url,
        title=c.title,
        body=body,
        outlet=c.outlet,
        published=c.published,
        language="en",
        content_hash=ids.content_hash(body),
    )


def bulk_fill(store_url: str, stream: Iterator[CorpusArticle], n: int) -> float:
    """Store `n` articles with their gold stories; returns seconds taken.

    Also what the global stage keeps per article: the MinHash band keys and the
    linker's document frequencies (summed in memory, written once at the end).
    """
    linker = EmbeddingLinker()
    store = open_store(store_url)
    cache: dict[str, tuple[dict, list[int]]] = {}
    stories: set[str] = set()
    counts: dict[str, dict[str, int]] = {}
    bands = lsh_params()
    started = time.perf_counter()
    done = 0
    try:
        while done < n:
            with store.transaction():
                for _ in range(min(FILL_TRANSACTION, n - done)):
                    c = next(stream)
                    article = _article(c)
                    if c.source_doc not in cache:
                        cache[c.source_doc] = (
                            linker.features(article),
                            [int(v) for v in minhash_signature(article.body)],
                        )
                    base, signature = cache[c.source_doc]
                    features = dict(base, published=c.published, article_id=article.id,
                                    outlet=c.outlet, minhash=signature)
                    story_id = ids.story_id(c.story)
                    if story_id not in stories:
                        store.create_story(story_id, c.title, linker.similarity_method)
                        stories.add(story_id)
                    store.add_article(article, story_id, features)
                    store.add_band_keys(article.id, signature, band_keys(signature, *bands))
                    for kind, terms in linker.term_updates(features).items():
                        into = counts.setdefault(kind, {})
                        for term, k in terms.items():
                            into[term] = into.get(term, 0) + k
                    done += 1
            if done % 50_000 == 0:
                print(f"  filled {done}", flush=True)
        with store.transaction():
            store.add_link_terms(counts, documents=done)
            store.checkpoint_link_terms()
    finally:
        store.close()
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def measure(stored: int, probes: int, keep: Path | None, reuse: bool = False) -> dict[str, object]:
    sources = load_source_articles()
    outlets = news_outlets(OutletRegistry.load())
    folder = keep or Path(tempfile.mkdtemp(prefix="storyline-latency-"))
    db = folder / f"stored-{stored}.db"
    if reuse and db.exists():
        # A store kept by an earlier run: its probes are stored too, the next ones follow.
        store = open_store(str(db))
        have = store.count_articles()
        store.close()
        stream = itertools.islice(
            generate_articles(sources, outlets, have + probes, seed=0), have, None
        )
        fill_s = 0.0
    else:
        stream = generate_articles(sources, outlets, stored + probes, seed=0)
        db.unlink(missing_ok=True)
        fill_s = bulk_fill(str(db), stream, stored)
    settings = Settings.from_env()
    stage = DocumentStage(settings, default_linker(), analyse=True).warm_up()
    fast_stage = DocumentStage(settings, default_linker(), analyse=False)
    store = open_store(str(db))
    pipeline = Pipeline(store, settings)
    t0 = time.perf_counter()
    pipeline.warm_up()  # reads the linker's statistics once, as a long-running ingest does
    warm_up_s = time.perf_counter() - t0
    rss_after_warm_up = psutil.Process().memory_info().rss
    add_ms: list[float] = []
    add_cpu_ms: list[float] = []  # this process's CPU: not inflated by the machine's load
    stage_ms: list[float] = []
    stage_fast_ms: list[float] = []
    load = os.getloadavg()[0]
    cpu0 = time.process_time()
    try:
        for c in stream:
            raw = RawDocument(c.url, c.text, "text", url=c.url, title=c.title,
                              published=c.published, outlet=c.outlet, language="en")
            t0 = time.perf_counter()
            fast_stage(raw)
            stage_fast_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            item = stage(raw)
            stage_ms.append((time.perf_counter() - t0) * 1000)
            t0, c0 = time.perf_counter(), time.process_time()
            report = pipeline.ingest_processed([item])
            add_ms.append((time.perf_counter() - t0) * 1000)
            add_cpu_ms.append((time.process_time() - c0) * 1000)
            assert report.count("failed") == 0, report.failures
        stored_now = store.count_articles()
    finally:
        store.close()
    result = {
        "stored": stored,
        "stored_after": stored_now,
        "fill_s": round(fill_s, 1),
        "db_mb": round(db.stat().st_size / 2**20),
        "probes": len(add_ms),
        "warm_up_s": round(warm_up_s, 2),
        # The first article loads the story window around its date.
        "global_add_ms_first": round(add_ms[0], 1),
        "global_add_ms_p50": round(statistics.median(add_ms[1:]), 1),
        "global_add_ms_p95": round(percentile(add_ms[1:], 0.95), 1),
        "global_add_ms_max": round(max(add_ms[1:]), 1),
        "global_add_cpu_ms_p50": round(statistics.median(add_cpu_ms[1:]), 1),
        "global_add_cpu_ms_p95": round(percentile(add_cpu_ms[1:], 0.95), 1),
        "rss_mb_after_warm_up": round(rss_after_warm_up / 2**20),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "per_doc_stage_ms_p50_with_analysis": round(statistics.median(stage_ms), 1),
        "per_doc_stage_ms_p50_without_analysis": round(statistics.median(stage_fast_ms), 1),
        "cpu_s_probes": round(time.process_time() - cpu0, 1),
        "load_avg": round(load, 2),
    }
    if keep is None:
        db.unlink(missing_ok=True)
        for extra in folder.glob("*"):
            extra.unlink()
        folder.rmdir()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--keep", type=Path, help="keep the filled stores in this folder")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: measure on a store kept by an earlier run (no fill)")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    for n in args.stored:
        print(json.dumps(measure(n, args.probes, args.keep, args.reuse)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
