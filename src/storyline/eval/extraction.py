"""HTML article extraction on the Zyte article-extraction benchmark.

Prints precision, recall and F1 of the benchmark's own metric (word 4-gram
shingles per page, means over pages, then F1; see the data set's README) and
pages/s for Storyline's `extract()` and, on the same pages, trafilatura alone
and the whole page text (html2txt) as the floor.

    storyline eval extraction [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from storyline.eval import dataset_path
from storyline.extract import ExtractionError, extract
from storyline.extract.outlets import OutletRegistry
from storyline.records import RawDocument


@dataclass(frozen=True, slots=True)
class ExtractionScore:
    system: str
    precision: float
    recall: float
    f1: float
    failures: int
    pages: int
    pages_per_s: float


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text)
    if len(tokens) < 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def zyte_scores(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float, float]:
    """The benchmark's metric: shingle P/R per page, their means, then F1 of the means."""
    precisions, recalls = [], []
    for key, true_text in truth.items():
        t, p = _shingles(true_text), _shingles(predicted.get(key, ""))
        tp, fp, fn = sum((t & p).values()), sum((p - t).values()), sum((t - p).values())
        if tp + fp + fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp:
            precisions.append(tp / (tp + fp))
        if tp + fn:
            recalls.append(tp / (tp + fn))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def load_pages(limit: int | None = None) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(gold bodies, {id: (url, html)}) from the data set."""
    root = dataset_path("zyte_extraction")
    gold = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(gold)[:limit] if limit else sorted(gold)
    truth = {k: gold[k]["articleBody"] for k in keys}
    pages = {
        k: (
            gold[k]["url"],
            gzip.decompress((root / "html" / f"{k}.html.gz").read_bytes()).decode(
                "utf-8", "replace"
            ),
        )
        for k in keys
    }
    return truth, pages


def score_system(
    name: str,
    system: Callable[[str, str], str],
    truth: dict[str, str],
    pages: dict[str, tuple[str, str]],
) -> ExtractionScore:
    predicted: dict[str, str] = {}
    failures = 0
    started = time.perf_counter()
    for key, (url, html) in pages.items():
        try:
            predicted[key] = system(url, html)
        except ExtractionError:
            failures += 1
            predicted[key] = ""
    elapsed = time.perf_counter() - started
    p, r, f = zyte_scores(truth, predicted)
    return ExtractionScore(name, p, r, f, failures, len(pages), len(pages) / elapsed)


def storyline_system(registry: OutletRegistry) -> Callable[[str, str], str]:
    def run(url: str, html: str) -> str:
        return extract(RawDocument(source=url, content=html, kind="html", url=url), registry).body

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storyline eval extraction", description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    args = parser.parse_args(argv)

    import trafilatura

    truth, pages = load_pages(args.limit)
    systems: list[tuple[str, Callable[[str, str], str]]] = [
        ("storyline extract()", storyline_system(OutletRegistry.load())),
        (
            "trafilatura.extract",
            lambda url, html: trafilatura.extract(html, url=url, include_comments=False) or "",
        ),
        ("whole page text (html2txt)", lambda url, html: trafilatura.html2txt(html) or ""),
    ]
    print(f"Zyte article-extraction benchmark: {len(pages)} pages")
    print(f"{'system':<28} {'P':>6} {'R':>6} {'F1':>6} {'fail':>5} {'pages/s':>8}")
    for name, system in systems:
        s = score_system(name, system, truth, pages)
        print(
            f"{s.system:<28} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} "
            f"{s.failures:5d} {s.pages_per_s:8.1f}"
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
