"""Clustering metrics: BCubed, pairwise (as in Miranda et al. 2018) and ARI.

Each takes two label sequences over the same items, gold first; labels are
any hashable values (only equality matters).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PRF:
    precision: float
    recall: float
    f1: float


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _check(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} items, predicted {len(predicted)}")


def bcubed(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> PRF:
    """BCubed precision/recall/F1 (Bagga & Baldwin 1998), averaged over items."""
    _check(gold, predicted)
    if not gold:
        return PRF(0.0, 0.0, 0.0)
    joint = Counter(zip(gold, predicted, strict=True))
    gold_sizes = Counter(gold)
    predicted_sizes = Counter(predicted)
    # Every item of a (gold, predicted) cell has the same per-item scores.
    precision = sum(n * n / predicted_sizes[p] for (_, p), n in joint.items()) / len(gold)
    recall = sum(n * n / gold_sizes[g] for (g, _), n in joint.items()) / len(gold)
    return PRF(precision, recall, _f1(precision, recall))


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> PRF:
    """Precision/recall/F1 over item pairs put in the same cluster."""
    _check(gold, predicted)
    together_both = sum(_pairs(n) for n in Counter(zip(gold, predicted, strict=True)).values())
    together_predicted = sum(_pairs(n) for n in Counter(predicted).values())
    together_gold = sum(_pairs(n) for n in Counter(gold).values())
    precision = together_both / together_predicted if together_predicted else 1.0
    recall = together_both / together_gold if together_gold else 1.0
    return PRF(precision, recall, _f1(precision, recall))


def adjusted_rand_index(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Hubert & Arabie's adjusted Rand index (1.0 = identical partitions)."""
    _check(gold, predicted)
    n = len(gold)
    if n < 2:
        return 1.0
    index = sum(_pairs(c) for c in Counter(zip(gold, predicted, strict=True)).values())
    sum_gold = sum(_pairs(c) for c in Counter(gold).values())
    sum_predicted = sum(_pairs(c) for c in Counter(predicted).values())
    expected = sum_gold * sum_predicted / _pairs(n)
    maximum = (sum_gold + sum_predicted) / 2
    if math.isclose(maximum, expected):
        return 1.0 if math.isclose(index, expected) else 0.0
    return (index - expected) / (maximum - expected)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) != len(ys) or len(xs) < 2:
        raise ValueError("pearson needs two sequences of the same length >= 2")
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    return cov / math.sqrt(var_x * var_y) if var_x and var_y else 0.0
