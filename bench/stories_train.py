"""Learn the linker's default parameters and print them as the constants of link/cluster.py.

- link weights + bias: logistic regression on online gold replays of all ECB+ topics 1-35
  (two arrival orders); join threshold, then merge threshold, then split threshold (0 =
  never split): the ones that maximise ECB+ BCubed F1;
- similarity weights + bias: ridge regression of ECB+ graded relatedness (same event 1,
  the topic's look-alike event 0.5, another topic 0) on the symmetric pair vector.
  SemEval-2022 and NewsWCL50 are never trained on: they are checks.

Held-out figures for the same procedure come from `storyline eval stories`.

    .venv/bin/python bench/stories_train.py --cache-dir /tmp/storyline-emb
"""

from __future__ import annotations

import argparse
from pathlib import Path

from storyline.eval.stories import (
    attach_features,
    learn_params,
    learn_similarity,
    load_ecbplus,
)
from storyline.link.embed import load_embedder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    cache = Path(args.cache_dir) if args.cache_dir else None
    embedder = load_embedder(args.model)
    ecb = load_ecbplus()
    attach_features(ecb, embedder, cache)
    params = learn_params(ecb)
    similarity, similarity_bias = learn_similarity(ecb)
    print(f"# Learned by bench/stories_train.py ({embedder.name}).")
    print("DEFAULT_WEIGHTS: dict[str, float] = {")
    for name, value in params.weights.items():
        print(f'    "{name}": {value:.3f},')
    print("}")
    print(f"DEFAULT_BIAS = {params.bias:.3f}")
    print(f"DEFAULT_THRESHOLD = {params.threshold}")
    print(f"DEFAULT_MERGE_THRESHOLD = {params.merge_threshold}")
    print(f"DEFAULT_SPLIT_THRESHOLD = {params.split_threshold}")
    print("DEFAULT_SIMILARITY_WEIGHTS: dict[str, float] = {")
    for name, value in similarity.items():
        print(f'    "{name}": {value:.4f},')
    print("}")
    print(f"DEFAULT_SIMILARITY_BIAS = {similarity_bias:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
