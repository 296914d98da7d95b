"""Story quality of a batch store against a generated corpus's labels (BCubed F1).

    .venv/bin/python bench/store_quality.py STORE.db CORPUS/labels.jsonl [--replay] [--limit N]

Without `--replay`: the store's own story assignments (final, so later merges count)
over the first N stored articles by date.  With `--replay`: the stored link features fed
again, in date order, through the in-memory linker (`InMemoryStories`, default
parameters, no near-copy joins), to measure a linker change without re-running a batch.
Duplicates are left out either way.  SQLite stores only.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from throughput import bcubed_f1

from storyline.link.cluster import InMemoryStories, OnlineClusterer

PREFIXES = (600, 2_000, 5_000, 15_000, 40_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store")
    parser.add_argument("labels", help="labels.jsonl of `storyline corpus` (url, story)")
    parser.add_argument("--replay", action="store_true")
    parser.add_argument("--limit", type=int, default=None, help="first N articles by date")
    args = parser.parse_args()
    with open(args.labels, encoding="utf-8") as handle:
        labels = {row["url"]: row["story"] for row in map(json.loads, handle)}
    con = sqlite3.connect(args.store)
    if args.replay:
        sql = (
            "SELECT a.url, f.data FROM articles a JOIN article_features f ON f.article_id = a.id"
            " WHERE a.duplicate_of IS NULL ORDER BY a.sort_key, a.num"
        )
        rows = [(url, json.loads(data)) for url, data in con.execute(sql) if url in labels]
        rows = rows[: args.limit]
        started = time.process_time()
        result = InMemoryStories(OnlineClusterer(), window_days=7.0).run([f for _, f in rows])
        print(f"replayed {len(rows)} decisions in {time.process_time() - started:.1f} CPU s")
        urls, predicted = [url for url, _ in rows], list(result.story_ids)
    else:
        sql = (
            "SELECT a.url, sa.story_id FROM articles a"
            " JOIN story_articles sa ON sa.article_id = a.id"
            " WHERE a.duplicate_of IS NULL ORDER BY a.sort_key, a.num"
        )
        pairs = [(url, story) for url, story in con.execute(sql) if url in labels]
        pairs = pairs[: args.limit]
        urls, predicted = [url for url, _ in pairs], [story for _, story in pairs]
    gold = [labels[url] for url in urls]
    print("| articles | gold stories | ours | BCubed F1 |\n|---|---|---|---|")
    for n in [p for p in PREFIXES if p < len(gold)] + [len(gold)]:
        f1 = bcubed_f1(gold[:n], predicted[:n])
        print(f"| {n:,} | {len(set(gold[:n])):,} | {len(set(predicted[:n])):,} | {f1:.3f} |")
    sizes = Counter(predicted)
    if sizes:
        largest, size = sizes.most_common(1)[0]
        named = {g for g, p in zip(gold, predicted, strict=True) if p == largest}
        print(f"largest story: {size} articles of {len(named)} gold stories")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
