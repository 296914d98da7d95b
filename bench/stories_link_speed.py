"""Linking throughput and how the cost of one decision grows with the store.

Embeddings are taken as given (computed once per article at ingest), so this
measures the link decision alone: candidate lookup, scoring, storing.  The
stored articles are synthetic variants of the ECB+ documents (their real
features with a perturbed embedding and a date), 100 a
day in stories of five articles; the measured articles are
fresh variants arriving at the end of that period.

    .venv/bin/python bench/stories_link_speed.py --sizes 1000,10000,100000 --measure 1000

CPU time (this process) is the figure to compare on a shared machine: the load average
before and after each size is printed with it.  `--dump FILE` writes every measured
decision (story, score and candidate scores, floats in full) as JSON lines, so two
versions of the linker can be checked for identical decisions on the same stream (run
both with the same PYTHONHASHSEED: set iteration order, and so the last bits of the
word-vector sums, depends on it).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from storyline.eval.stories import attach_features, load_ecbplus
from storyline.link.cluster import InMemoryStories, OnlineClusterer, decode_vector, encode_vector
from storyline.link.embed import load_embedder

START = date(2024, 1, 1)
ARTICLES_PER_DAY = 100  # the same news density at every store size, so windows hold alike


def variant(base: dict, rng: random.Random, day: float, serial: int) -> dict:
    features = dict(base)  # shallow: the stored term maps are shared, to keep 100k in memory
    vector = decode_vector(base["embedding"])
    noise = np.random.default_rng(serial).normal(scale=0.02, size=vector.shape).astype(np.float32)
    vector = vector + noise
    features["embedding"] = encode_vector(vector / np.linalg.norm(vector))
    features["published"] = (START + timedelta(days=day)).isoformat()
    return features


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--measure", type=int, default=1000, help="articles linked per size")
    parser.add_argument("--cache-dir", default="/tmp/storyline-emb")
    parser.add_argument("--dump", type=Path, help="write every measured decision here (JSONL)")
    args = parser.parse_args()
    docs = load_ecbplus()
    attach_features(docs, load_embedder("default"), Path(args.cache_dir))
    bases = [d.features for d in docs]
    print(
        "| stored articles | stories in store | candidates per decision (mean) | "
        "ms per article (mean) | p95 ms | articles/s | CPU ms per article | articles/s per CPU | "
        "load avg before -> after |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    dump = args.dump.open("w") if args.dump else None
    for size in (int(s) for s in args.sizes.split(",")):
        rng = random.Random(size)
        driver = InMemoryStories(OnlineClusterer(), window_days=7.0)
        span_days = size / ARTICLES_PER_DAY
        for i in range(size):
            day = span_days * i / size
            driver.restore(f"pre{i // 5}", variant(bases[rng.randrange(len(bases))], rng, day, i))
        stories = len(driver.stories)
        # In production the stored articles live in the database, not in this process;
        # keep the garbage collector from rescanning the synthetic store on every cycle.
        gc.collect()
        gc.freeze()
        fresh = [
            variant(bases[rng.randrange(len(bases))], rng, span_days + 0.001 * j, size + j)
            for j in range(args.measure)
        ]
        timings = []
        cpu = 0.0
        candidates = 0
        decisions = []
        load_before = os.getloadavg()[0]
        for features in fresh:
            candidates += len(driver.candidates(features))  # counted outside the timing
            started, cpu_started = time.perf_counter(), time.process_time()
            decision = driver.add(features)
            timings.append(time.perf_counter() - started)
            cpu += time.process_time() - cpu_started
            decisions.append(decision)
        total = sum(timings)
        print(
            f"| {size:,} | {stories:,} | {candidates / len(fresh):.0f} | "
            f"{1000 * total / len(fresh):.2f} | {1000 * float(np.percentile(timings, 95)):.2f} | "
            f"{len(fresh) / total:.0f} | {1000 * cpu / len(fresh):.2f} | {len(fresh) / cpu:.0f} | "
            f"{load_before:.1f} -> {os.getloadavg()[0]:.1f} |",
            flush=True,
        )
        if dump is not None:
            for decision in decisions:  # final stories (after later merges), exact floats
                row = {
                    "size": size,
                    "story": driver.resolve(decision.story_id or ""),
                    "score": repr(decision.score),
                    "scores": {k: repr(v) for k, v in sorted((decision.scores or {}).items())},
                }
                dump.write(json.dumps(row) + "\n")
    if dump is not None:
        dump.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
