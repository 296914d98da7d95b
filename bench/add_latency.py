"""Latency of adding one article to a store that already holds N articles.

    .venv/bin/python bench/add_latency.py --stored 10000 100000 [--probes 60] [--keep DIR [--reuse]]

The store (SQLite) is filled by bulk load, in a child process (so the measured
process's peak memory is the ingest's alone): the generated articles of
`storyline.corpus` (seed 0) with their gold stories, written straight through
the store's schema (migrations 1-3) the way `Pipeline` writes them: the
article row, its link features (with the MinHash), its story link, the
story's first/last seen and count, the MinHash and its LSH band keys, the
outlet's line fingerprints (boilerplate memory) and the linker's document
frequencies, checkpointed.  Rows go in with `executemany` in large
transactions, `PRAGMA synchronous = OFF` and no journal; the full-text index
is rebuilt once at the end instead of row by row, and `Store.check()` must
find the result clean.  The per-document work (link features, MinHash, line
fingerprints) is done once per source article and reused for its copies (the
copies' texts differ by light edits), and cached in the `--keep` folder
between runs.  Not filled: the analyses (entities, events, quotes, shared
passages), which need spaCy per article; their tables only grow by keyed
inserts.

Then the next `--probes` articles of the same stream (dated at the end of the
filled range, so their linking window is full) are added one at a time through
the real add path, `Pipeline.ingest([document])`: the per-document stage
(extract with the outlet's known lines, analyse with spaCy, embed) and then the
global stage (duplicates, linking, the writes), which depends on the store's
size.  Both are reported, wall and this process's CPU (the machine is shared:
CPU time is not inflated by other processes), with the load average:
`add_*` is the whole add, `global_*` the global stage alone, `per_doc_stage_*`
the difference.  The pipeline is warmed up first (it reads the linker's
statistics, the story window around the first probe's date and its models
once, as a long-running ingest does); the first probe is reported apart.
Per-probe counters: the store's calls by method (count, total ms), probes that
loaded stories into the window, re-cleans the global stage had to do with the
outlet memory.  `--profile FILE` writes a cProfile of the probe adds.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import multiprocessing
import os
import pickle
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from storyline import ids
from storyline.batch import DocumentStage
from storyline.config import Settings
from storyline.corpus import CorpusArticle, generate_articles, load_source_articles, news_outlets
from storyline.extract import line_fingerprints
from storyline.extract.outlets import OutletRegistry
from storyline.link.dedup import band_keys, lsh_params, minhash_signature
from storyline.link.stories import EmbeddingLinker
from storyline.pipeline import BOILERPLATE_MIN_ARTICLES, Pipeline
from storyline.records import Article, IngestOutcome, RawDocument
from storyline.store import Store, open_store
from storyline.store.sqlite import now_utc, sort_key

FILL_TRANSACTION = 20_000
FILL_PAGE_CACHE_KIB = 2_000_000  # SQLite page cache of the fill (KiB): the indexes stay in memory
# Articles of the stream kept after the fill, so `--reuse` needs not regenerate the filled ones.
NEXT_ARTICLES = 2_000
# Triggers the fill drops while it writes and restores after, doing their work once:
# the full-text index (one FTS5 rebuild) and the story-membership change counter.
_DEFERRED_TRIGGERS = frozenset({"articles_fts_insert", "story_articles_changes_insert"})
# Tables the fill writes into: any other trigger on them would be skipped silently.
_FILLED_TABLES = ("articles", "article_features", "stories", "story_articles", "lsh_bands",
                  "article_signatures", "boilerplate_lines")


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


def _raw(c: CorpusArticle) -> RawDocument:
    return RawDocument(c.url, c.text, "text", url=c.url, title=c.title,
                       published=c.published, outlet=c.outlet, language="en")


@dataclass(slots=True)
class SourceRows:
    """What the global stage stores per article that depends only on its source article."""

    features_json: str  # link features as JSON, without the per-copy keys, no closing brace
    signature: list[int]
    signature_blob: bytes
    band_keys: list[str]
    fingerprints: list[str]
    terms: dict[str, dict[str, int]]  # the linker's document-frequency update
    copies: int = 0


_PER_COPY_KEYS = ("published", "article_id", "outlet", "minhash")


def _source_rows(linker: EmbeddingLinker, c: CorpusArticle) -> SourceRows:
    article = _article(c)
    features = linker.features(article)
    signature = [int(v) for v in minhash_signature(article.body)]
    common = {k: v for k, v in features.items() if k not in _PER_COPY_KEYS}
    return SourceRows(
        features_json=json.dumps(common, ensure_ascii=False)[:-1],
        signature=signature,
        signature_blob=b"".join(v.to_bytes(4, "little") for v in signature),
        band_keys=band_keys(signature, *lsh_params()),
        fingerprints=line_fingerprints(_raw(c)),
        terms=linker.term_updates(features),
    )


def _features_json(rows: SourceRows, c: CorpusArticle, article_id: str) -> str:
    # The same keys and values as `dict(features, article_id=..., outlet=..., minhash=...)`.
    extra = json.dumps({"published": c.published, "article_id": article_id, "outlet": c.outlet,
                        "minhash": rows.signature}, ensure_ascii=False)
    return rows.features_json + ("," if rows.features_json != "{" else "") + extra[1:]


def _load_cache(path: Path | None, method: str) -> dict[str, SourceRows]:
    if path is None or not path.exists():
        return {}
    with path.open("rb") as handle:
        cached = pickle.load(handle)
    if cached.get("method") != method or cached.get("lsh") != lsh_params():
        return {}
    return {k: SourceRows(*v) for k, v in cached["sources"].items()}


def _save_cache(path: Path | None, method: str, cache: dict[str, SourceRows]) -> None:
    if path is None:
        return
    # Plain tuples: fast to pickle, and readable whichever module name this file ran as.
    sources = {k: (*(getattr(v, f) for f in SourceRows.__slots__[:-1]), 0)
               for k, v in cache.items()}
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        pickle.dump({"method": method, "lsh": lsh_params(), "sources": sources}, handle)
    tmp.replace(path)


def _deferred_triggers(conn: sqlite3.Connection) -> dict[str, str]:
    """The triggers to drop during the fill (name -> SQL); refuses unknown ones."""
    marks = ",".join("?" * len(_FILLED_TABLES))
    found = dict(conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})",
        _FILLED_TABLES,
    ).fetchall())
    unknown = {
        name for name, sql in found.items()
        if name not in _DEFERRED_TRIGGERS and " INSERT ON " in " ".join(sql.upper().split())
    }
    if unknown:
        raise RuntimeError(f"the bulk fill does not know what these triggers do: {sorted(unknown)}")
    return {name: sql for name, sql in found.items() if name in _DEFERRED_TRIGGERS}


GENERATE_CHUNK = 1_000


def _generate(total: int, chunks: Any) -> None:
    """Producer process: the stream, in chunks.

    The generator's edits are about half of the fill's CPU: in their own process
    they run beside the writes instead of between them.
    """
    sources = load_source_articles()
    outlets = news_outlets(OutletRegistry.load())
    chunk: list[CorpusArticle] = []
    for c in generate_articles(sources, outlets, total, seed=0):
        chunk.append(c)
        if len(chunk) == GENERATE_CHUNK:
            chunks.put(chunk)
            chunk = []
    chunks.put(chunk)
    chunks.put(None)


def _generated(total: int) -> Iterator[CorpusArticle]:
    """The first `total` articles of the stream (seed 0), made in a producer process."""
    context = multiprocessing.get_context("spawn")
    chunks = context.Queue(maxsize=16)
    producer = context.Process(target=_generate, args=(total, chunks))
    producer.start()
    try:
        while (chunk := chunks.get()) is not None:
            yield from chunk
        producer.join()
    finally:
        if producer.is_alive():
            producer.terminate()


def bulk_fill(db: Path, n: int, probes: int, cache_path: Path | None) -> dict[str, Any]:
    """Fill a new store at `db` with the first `n` articles of the stream.

    Returns timings and the next articles of the stream (`NEXT_ARTICLES` or
    `probes`, whichever is more), which the caller adds as probes.
    """
    started = time.perf_counter()
    cpu0 = time.process_time()
    stream = _generated(n + max(probes, NEXT_ARTICLES))
    linker = EmbeddingLinker()
    cache = _load_cache(cache_path, linker.similarity_method)
    cached_sources = len(cache)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    open_store(str(db)).close()  # the schema, by the migrations

    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # a crash during the fill loses the bench store only
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA cache_size = -{FILL_PAGE_CACHE_KIB}")
    triggers = _deferred_triggers(conn)
    for name in triggers:
        conn.execute(f"DROP TRIGGER {name}")

    # story id -> [title, first_seen, last_seen, article_count, created_at, updated_at]
    stories: dict[str, list[Any]] = {}
    done = 0
    features_s = 0.0
    while done < n:
        articles, features, links, signatures, bands = [], [], [], [], []
        lines: dict[tuple[str, str], int] = {}
        for c in itertools.islice(stream, min(FILL_TRANSACTION, n - done)):
            rows = cache.get(c.source_doc)
            if rows is None:
                t0 = time.perf_counter()
                rows = cache[c.source_doc] = _source_rows(linker, c)
                features_s += time.perf_counter() - t0
            rows.copies += 1
            body = c.text
            article_id = ids.article_id(c.url, body)
            at = now_utc()
            key = sort_key(c.published, at)
            articles.append((article_id, c.url, c.url, None, c.title, body, c.outlet,
                             c.published, key, "[]", "[]", "en", ids.content_hash(body), None,
                             "[]", at))
            features.append((article_id, _features_json(rows, c, article_id)))
            story_id = ids.story_id(c.story)
            links.append((article_id, story_id))
            story = stories.get(story_id)
            if story is None:
                stories[story_id] = [c.title, key, key, 1, at, at]
            else:
                story[1], story[2] = min(story[1], key), max(story[2], key)
                story[3] += 1
                story[5] = at
            signatures.append((article_id, rows.signature_blob))
            bands.extend((k, article_id) for k in rows.band_keys)
            for h in rows.fingerprints:
                lines[(c.outlet, h)] = lines.get((c.outlet, h), 0) + 1
            done += 1
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO articles (id, source, url, canonical_url, title, body, outlet, "
            "published, sort_key, authors, wire_agencies, language, content_hash, "
            "duplicate_of, removed, ingested_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            articles,
        )
        conn.executemany("INSERT INTO article_features(article_id, data) VALUES (?, ?)", features)
        conn.executemany("INSERT INTO story_articles(article_id, story_id) VALUES (?, ?)", links)
        conn.executemany(
            "INSERT INTO article_signatures(article_id, signature) VALUES (?, ?)", signatures
        )
        conn.executemany("INSERT OR IGNORE INTO lsh_bands(band_key, article_id) VALUES (?, ?)",
                         bands)
        conn.executemany(
            "INSERT INTO boilerplate_lines(outlet, line_hash, article_count) VALUES (?, ?, ?) "
            "ON CONFLICT(outlet, line_hash) DO UPDATE SET "
            "article_count = article_count + excluded.article_count",
            [(o, h, k) for (o, h), k in lines.items()],
        )
        conn.execute("COMMIT")
        if done % 100_000 == 0 or done == n:
            rate = done / (time.perf_counter() - started)
            print(f"  filled {done} ({rate:.0f} articles/s)", flush=True)
    rows_s = time.perf_counter() - started

    method = linker.similarity_method
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO stories(id, title, similarity_method, first_seen, last_seen, "
        "article_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(sid, s[0], method, s[1], s[2], s[3], s[4], s[5]) for sid, s in stories.items()],
    )
    conn.execute("UPDATE link_state SET value = value + ? WHERE name = 'changes'", (done,))
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    for sql in triggers.values():
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")  # as the store runs
    conn.close()
    fts_s = time.perf_counter() - started - rows_s

    counts: dict[str, dict[str, int]] = {}
    for rows in cache.values():
        for kind, terms in rows.terms.items():
            into = counts.setdefault(kind, {})
            for term, k in terms.items():
                into[term] = into.get(term, 0) + k * rows.copies
    store = open_store(str(db))
    try:
        with store.transaction():
            store.add_link_terms(counts, documents=done)
            store.checkpoint_link_terms()
    finally:
        store.close()
    _save_cache(cache_path, method, cache)
    return {
        "fill_s": round(time.perf_counter() - started, 1),
        "fill_rows_s": round(rows_s, 1),
        "fill_fts_rebuild_s": round(fts_s, 1),
        "fill_features_s": round(features_s, 1),
        "fill_sources_computed": len(cache) - cached_sources,
        "fill_cpu_s": round(time.process_time() - cpu0, 1),
        "fill_articles_per_s": round(n / (time.perf_counter() - started)),
        "next": list(stream),
    }


def _fill_in_child(db: Path, n: int, probes: int, cache_path: Path | None) -> dict[str, Any]:
    """The fill in a fresh process: its memory does not count in the measured process."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(bulk_fill, db, n, probes, cache_path).result()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def _p50_p95(values: list[float]) -> list[float] | None:
    if not values:
        return None
    return [round(statistics.median(values), 1), round(percentile(values, 0.95), 1)]


def _next_path(db: Path) -> Path:
    return db.with_suffix(".next.jsonl")


def _probe_stream(db: Path, stored: int, have: int, probes: int) -> Iterator[CorpusArticle]:
    """The `probes` articles of the stream after the `have` stored ones."""
    saved: list[CorpusArticle] = []
    if _next_path(db).exists():
        with _next_path(db).open(encoding="utf-8") as handle:
            saved = [CorpusArticle(**{**row, "paragraphs": tuple(row["paragraphs"])})
                     for row in map(json.loads, handle)]
    offset = have - stored
    if offset >= 0 and offset + probes <= len(saved):
        return iter(saved[offset : offset + probes])
    sources = load_source_articles()
    outlets = news_outlets(OutletRegistry.load())
    return itertools.islice(generate_articles(sources, outlets, have + probes, seed=0), have, None)


@dataclass
class _TimedPipeline(Pipeline):
    """The real pipeline, timing its global stage per document (wall, and this process's CPU)."""

    global_ms: list[float] = field(default_factory=list, init=False)
    global_cpu_ms: list[float] = field(default_factory=list, init=False)

    def _global_stage(self, raw: RawDocument, result: Any) -> IngestOutcome:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return super()._global_stage(raw, result)
        finally:
            self.global_ms.append((time.perf_counter() - t0) * 1000)
            self.global_cpu_ms.append((time.process_time() - c0) * 1000)


class _StoreMeter:
    """Counts and times the store's calls, per probe (the store's own methods, in place)."""

    def __init__(self, store: Store) -> None:
        self.calls: dict[str, list[float]] = {}
        self.window_loads: list[tuple[int, float]] = []  # (stories, ms) of `story_features`
        for name in Store.__abstractmethods__:
            if name not in ("transaction", "close"):
                setattr(store, name, self._timed(name, getattr(store, name)))

    def _timed(self, name: str, method: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                ms = (time.perf_counter() - t0) * 1000
                self.calls.setdefault(name, []).append(ms)
                if name == "story_features":
                    self.window_loads.append((len(args[0]), round(ms, 1)))

        return timed

    def take(self) -> dict[str, list[float]]:
        calls, self.calls = self.calls, {}
        return calls


def _pairs(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 1),
            "p95": round(percentile(values, 0.95), 1)}


def measure(
    stored: int, probes: int, keep: Path | None, reuse: bool = False,
    profile: Path | None = None, check: bool = True,
) -> dict[str, object]:
    folder = keep or Path(tempfile.mkdtemp(prefix="storyline-latency-"))
    db = folder / f"stored-{stored}.db"
    fill: dict[str, Any] = {}
    if reuse and db.exists():
        # A store kept by an earlier run: its probes are stored too, the next ones follow.
        store = open_store(str(db))
        have = store.count_articles()
        store.close()
    else:
        fill = _fill_in_child(db, stored, probes, keep / "source-rows.pkl" if keep else None)
        with _next_path(db).open("w", encoding="utf-8") as handle:
            for c in fill.pop("next"):
                handle.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
        have = stored
    stream = list(_probe_stream(db, stored, have, probes))
    settings = Settings.from_env()
    store = open_store(str(db))
    meter = _StoreMeter(store)
    pipeline = _TimedPipeline(store, settings)
    t0 = time.perf_counter()
    # The linker's statistics and the story window around the first probe's date, read
    # once, as a long-running ingest holds them.
    pipeline.warm_up(around=stream[0].published)
    # The models a long-running ingest holds: spaCy, the outlet registry, the embedder.
    DocumentStage(settings, pipeline.linker, analyse=True).warm_up()
    pipeline.linker.features(_article(stream[0]))
    warm_up_s = time.perf_counter() - t0
    meter.take()
    rss_after_warm_up = psutil.Process().memory_info().rss
    add_ms: list[float] = []  # the whole add: per-document stage + global stage
    add_cpu_ms: list[float] = []  # this process's CPU: not inflated by the machine's load
    # Probes whose outlet memory knows some of their lines (before the add).
    known_lines: list[bool] = []
    per_probe_store: list[dict[str, list[float]]] = []
    outcomes: dict[str, int] = {}
    profiler = cProfile.Profile() if profile else None
    load = os.getloadavg()
    load_max = load[0]
    cpu0 = time.process_time()
    try:
        for c in stream:
            raw = _raw(c)
            counts = store.boilerplate_counts(c.outlet, line_fingerprints(raw))
            known_lines.append(any(k >= BOILERPLATE_MIN_ARTICLES for k in counts.values()))
            meter.take()
            if profiler is not None:
                profiler.enable()
            t0, c0 = time.perf_counter(), time.process_time()
            report = pipeline.ingest([raw])
            add_ms.append((time.perf_counter() - t0) * 1000)
            add_cpu_ms.append((time.process_time() - c0) * 1000)
            if profiler is not None:
                profiler.disable()
            per_probe_store.append(meter.take())
            load_max = max(load_max, os.getloadavg()[0])
            assert report.count("failed") == 0, report.failures
            for outcome in report.outcomes:
                outcomes[outcome.status] = outcomes.get(outcome.status, 0) + 1
            assert len(pipeline.global_ms) == len(add_ms), "one global stage per probe"
        stored_now = store.count_articles()
    finally:
        store.close()
    if profiler is not None and profile is not None:
        profiler.dump_stats(str(profile))
    load_after = os.getloadavg()
    # The first probe is reported apart (first use of some caches and code paths).
    glob, glob_cpu = pipeline.global_ms[1:], pipeline.global_cpu_ms[1:]
    whole, whole_cpu = add_ms[1:], add_cpu_ms[1:]
    stage_ms = [a - g for a, g in zip(add_ms[1:], glob, strict=True)]
    stage_cpu_ms = [a - g for a, g in zip(add_cpu_ms[1:], glob_cpu, strict=True)]
    store_ms: dict[str, float] = {}
    store_calls: dict[str, int] = {}
    for calls in per_probe_store[1:]:
        for name, times in calls.items():
            store_ms[name] = store_ms.get(name, 0.0) + sum(times)
            store_calls[name] = store_calls.get(name, 0) + len(times)
    slowest = sorted(store_ms, key=store_ms.__getitem__, reverse=True)[:6]
    window_loads = [len(calls.get("story_features", [])) for calls in per_probe_store[1:]]
    result = {
        "stored": stored,
        "stored_after": stored_now,
        **fill,
        "db_mb": round(sum(p.stat().st_size for p in folder.glob(f"{db.name}*")) / 2**20),
        "probes": len(add_ms),
        "outcomes": outcomes,
        "warm_up_s": round(warm_up_s, 2),
        "first_probe_ms": {"add": round(add_ms[0], 1), "global": round(pipeline.global_ms[0], 1)},
        # The add as a caller sees it (extract, analyse, embed, then the global stage).
        "add_ms": _pairs(whole),
        "add_cpu_ms": _pairs(whole_cpu),
        # Its store-size dependent part: duplicates, outlet memory, linking, the writes.
        "global_ms": _pairs(glob),
        "global_cpu_ms": _pairs(glob_cpu),
        "global_ms_max": round(max(glob), 1),
        "per_doc_stage_ms": _pairs(stage_ms),
        "per_doc_stage_cpu_ms": _pairs(stage_cpu_ms),
        "probes_with_known_outlet_lines": sum(known_lines[1:]),
        "global_cpu_ms_plain": _p50_p95(
            [ms for ms, k in zip(glob_cpu, known_lines[1:], strict=True) if not k]),
        "global_cpu_ms_known_lines": _p50_p95(
            [ms for ms, k in zip(glob_cpu, known_lines[1:], strict=True) if k]),
        "outlet_recleans_in_global_stage": pipeline.outlet_recleans,
        "outlet_memory_loads": pipeline.outlet_memory.loads,
        "probes_with_window_loads": sum(1 for n in window_loads if n),
        "window_loads_stories_ms": meter.window_loads,
        "store_ms_by_method": {n: [store_calls[n], round(store_ms[n], 1)] for n in slowest},
        "rss_mb_after_warm_up": round(rss_after_warm_up / 2**20),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpu_s_probes": round(time.process_time() - cpu0, 1),
        "load_avg_1m_before_max_after": [round(load[0], 2), round(load_max, 2),
                                         round(load_after[0], 2)],
    }
    # The integrity check runs after the probes (on the filled store plus what they
    # added), so a long check at 1M does not hold up the latency figures.
    print(json.dumps(result), flush=True)
    t0 = time.perf_counter()
    problems: list[str] = []
    if check:
        store = open_store(str(db))
        try:
            problems = store.check()
        finally:
            store.close()
    result = {"stored": stored, "check_s": round(time.perf_counter() - t0, 1),
              "check_problems": problems}
    if keep is None:
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
    parser.add_argument("--profile", type=Path,
                        help="write a cProfile of the probe adds (global stage) to this file")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the integrity check after the probes (long at 1M)")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    clean = True
    for n in args.stored:
        profile = args.profile.with_suffix(f".{n}.prof") if args.profile else None
        checked = measure(n, args.probes, args.keep, args.reuse, profile,
                          check=not args.no_check)
        print(json.dumps(checked), flush=True)
        clean = clean and not checked["check_problems"]
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
