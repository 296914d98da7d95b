"""Embedding speed of the candidate models (one thread), on ECB+ sentences and documents.

.venv/bin/python bench/stories_embed_speed.py --sentences 500 --documents 100
"""

from __future__ import annotations

import argparse
import time

from storyline.eval.stories import load_ecbplus
from storyline.link.cluster import embedding_text
from storyline.link.embed import available_models, load_embedder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--documents", type=int, default=100)
    args = parser.parse_args()
    docs = load_ecbplus()
    sentences = [s for d in docs for s in d.body.split("\n\n") if s.strip()][: args.sentences]
    texts = [embedding_text(d.title, d.body) for d in docs[: args.documents]]
    print("| model | dim | load s | sentences/s | documents/s (title + body, <= 2000 chars) |")
    print("|---|---|---|---|---|")
    for name in available_models():
        started = time.perf_counter()
        embedder = load_embedder(name)
        embedder.embed(["warm up"])
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        embedder.embed(sentences)
        per_sentence = len(sentences) / (time.perf_counter() - started)
        started = time.perf_counter()
        embedder.embed(texts)
        per_document = len(texts) / (time.perf_counter() - started)
        print(
            f"| {name} | {embedder.dim} | {loaded:.1f} | {per_sentence:.0f} | {per_document:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
