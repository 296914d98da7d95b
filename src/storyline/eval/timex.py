"""Evaluation of the temporal tagger, TempEval-3 style, beside dateparser.

Data: `timeml/timex.jsonl` (TimeBank + AQUAINT, the development set) and
`meantime/timex.jsonl` (MEANTIME English).  Each line holds a document's text,
its creation time (DCT) and its gold TIMEX3 spans.

Scores, as in the TempEval-3 scorer:
- extent P/R/F1, strict (same span) and relaxed (any overlap, one-to-one);
- type accuracy over the relaxed matches;
- value P/R/F1: a relaxed match whose value equals the gold value counts as
  correct; precision divides by the system's expressions, recall by gold's.

`python -m storyline.eval.timex [tbaq|meantime|all] [--no-peer] [--errors N] [--by-part]`

`--by-part` also scores each part of a data set on its own (TimeBank and
AQUAINT for tbaq): the rules were developed on TimeBank, so AQUAINT and
MEANTIME show how they carry over to text they were not tuned on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from storyline.analyse.timex import TimeExpression, parse_reference, tag_times
from storyline.eval import DataUnavailable, dataset_path

__all__ = [
    "GoldDocument",
    "Scores",
    "TimexReport",
    "load_documents",
    "main",
    "run",
    "run_by_part",
    "score",
]

DATASETS = {"tbaq": ("timeml", "timex.jsonl"), "meantime": ("meantime", "timex.jsonl")}
# MEANTIME annotates the headline and the first five sentences of each article
# (one sentence per line in our text), so system output beyond them is not scored.
_ANNOTATED_LINES = {"meantime": 6}


@dataclass(frozen=True, slots=True)
class GoldTimex:
    start: int
    end: int
    text: str
    type: str
    value: str


@dataclass(frozen=True, slots=True)
class GoldDocument:
    doc_id: str
    dct: str | None
    text: str
    timexes: tuple[GoldTimex, ...]
    scored_until: int | None = None  # annotation covers text[:scored_until] only
    part: str | None = None  # sub-corpus ("TimeBank", "AQUAINT") where the data set has parts


@dataclass(slots=True)
class Scores:
    """Counts and figures for one system on one data set."""

    system: str
    documents: int = 0
    gold: int = 0
    predicted: int = 0
    strict: int = 0
    relaxed: int = 0
    type_correct: int = 0
    value_correct: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (category, gold/system text, detail)

    @staticmethod
    def _f1(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
        precision = correct / predicted if predicted else 0.0
        recall = correct / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    @property
    def strict_prf(self) -> tuple[float, float, float]:
        return self._f1(self.strict, self.predicted, self.gold)

    @property
    def relaxed_prf(self) -> tuple[float, float, float]:
        return self._f1(self.relaxed, self.predicted, self.gold)

    @property
    def value_prf(self) -> tuple[float, float, float]:
        return self._f1(self.value_correct, self.predicted, self.gold)

    @property
    def type_accuracy(self) -> float:
        return self.type_correct / self.relaxed if self.relaxed else 0.0

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


@dataclass(slots=True)
class TimexReport:
    dataset: str
    systems: list[Scores]

    def by_name(self, name: str) -> Scores:
        return next(s for s in self.systems if s.system == name)


@dataclass(frozen=True, slots=True)
class Predicted:
    start: int
    end: int
    type: str
    value: str


def load_documents(dataset: str) -> list[GoldDocument]:
    """The documents of one data set ("tbaq" or "meantime"); raises DataUnavailable."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown timex data set {dataset!r}; choose from {sorted(DATASETS)}")
    folder, name = DATASETS[dataset]
    path = Path(dataset_path(folder)) / name
    if not path.exists():
        raise DataUnavailable(f"timex annotations not found at {path}")
    documents = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            raw = json.loads(line)
            timexes = tuple(
                GoldTimex(t["start"], t["end"], t["text"], t["type"], str(t["value"]))
                for t in raw["timexes"]
            )
            scored_until = None
            if dataset in _ANNOTATED_LINES:
                lines = raw["text"].split("\n")
                scored_until = sum(len(line) + 1 for line in lines[: _ANNOTATED_LINES[dataset]])
            documents.append(
                GoldDocument(
                    str(raw["doc_id"]),
                    raw.get("dct"),
                    raw["text"],
                    timexes,
                    scored_until,
                    raw.get("corpus"),
                )
            )
    return documents


def _align(
    gold: Iterable[GoldTimex], predicted: list[Predicted]
) -> list[tuple[GoldTimex, Predicted | None]]:
    """One-to-one pairing of gold and system spans by largest overlap."""
    taken: set[int] = set()
    pairs: list[tuple[GoldTimex, Predicted | None]] = []
    for g in gold:
        best, best_overlap = None, 0
        for i, p in enumerate(predicted):
            if i in taken or p.end <= g.start or p.start >= g.end:
                continue
            overlap = min(p.end, g.end) - max(p.start, g.start)
            if overlap > best_overlap:
                best, best_overlap = i, overlap
        if best is None:
            pairs.append((g, None))
        else:
            taken.add(best)
            pairs.append((g, predicted[best]))
    return pairs


def score(
    system: str, documents: list[GoldDocument], tagger: Callable[[str, str | None], list[Predicted]]
) -> Scores:
    scores = Scores(system)
    for doc in documents:
        began = time.process_time()  # CPU time: one core, whatever else runs
        predicted = tagger(doc.text, doc.dct)
        scores.seconds += time.process_time() - began
        if doc.scored_until is not None:
            predicted = [p for p in predicted if p.start < doc.scored_until]
        scores.documents += 1
        scores.gold += len(doc.timexes)
        scores.predicted += len(predicted)
        matched: set[tuple[int, int]] = set()
        for g, p in _align(doc.timexes, predicted):
            if p is None:
                scores.errors.append(("missed", g.text, f"{g.type} {g.value} dct={doc.dct}"))
                continue
            matched.add((p.start, p.end))
            scores.relaxed += 1
            if (p.start, p.end) == (g.start, g.end):
                scores.strict += 1
            else:
                scores.errors.append(("extent", g.text, doc.text[p.start : p.end]))
            if p.type == g.type:
                scores.type_correct += 1
            else:
                scores.errors.append(("type", g.text, f"{g.type} -> {p.type}"))
            if p.value == g.value:
                scores.value_correct += 1
            else:
                scores.errors.append(("value", g.text, f"{g.value} -> {p.value} dct={doc.dct}"))
        for p in predicted:
            if (p.start, p.end) not in matched:
                context = doc.text[max(0, p.start - 30) : p.end + 20].replace("\n", " ")
                scores.errors.append(("spurious", doc.text[p.start : p.end], context))
    return scores


def ours(text: str, dct: str | None) -> list[Predicted]:
    return [Predicted(e.start, e.end, e.type, e.value) for e in _tag(text, dct)]


def _tag(text: str, dct: str | None) -> list[TimeExpression]:
    return tag_times(text, dct)


def _dateparser_tagger() -> Callable[[str, str | None], list[Predicted]]:
    """dateparser's `search_dates` with the DCT as the relative base (a benchmark peer)."""
    from datetime import datetime

    from dateparser.date import DateDataParser
    from dateparser.search import search_dates

    period_parser = DateDataParser(languages=["en"])

    def tag(text: str, dct: str | None) -> list[Predicted]:
        reference = parse_reference(dct)
        settings: dict[str, object] = {}
        if reference is not None:
            settings["RELATIVE_BASE"] = datetime(reference.year, reference.month, reference.day)
        try:
            found = search_dates(text, languages=["en"], settings=settings) or []
        except Exception:
            return []
        out: list[Predicted] = []
        cursor = 0
        for surface, moment in found:
            start = text.find(surface, cursor)
            if start < 0:
                start = text.find(surface)
                if start < 0:
                    continue
            end = start + len(surface)
            cursor = end
            period = "day"
            try:
                data = period_parser.get_date_data(surface)
                period = data.period or "day"
            except Exception:
                pass
            if period == "year":
                value, kind = f"{moment.year:04d}", "DATE"
            elif period == "month":
                value, kind = f"{moment.year:04d}-{moment.month:02d}", "DATE"
            elif period == "time":
                value, kind = moment.strftime("%Y-%m-%dT%H:%M"), "TIME"
            else:
                value, kind = moment.date().isoformat(), "DATE"
            out.append(Predicted(start, end, kind, value))
        return out

    return tag


def run(dataset: str = "tbaq", peer: bool = True) -> TimexReport:
    """Score our tagger (and dateparser when `peer`) on one data set; raises DataUnavailable."""
    documents = load_documents(dataset)
    systems = [score("storyline", documents, ours)]
    if peer:
        # dateparser is a dev dependency; without it only our figures are shown.
        with contextlib.suppress(ImportError):
            systems.append(score("dateparser", documents, _dateparser_tagger()))
    return TimexReport(dataset, systems)


def run_by_part(dataset: str = "tbaq") -> list[TimexReport]:
    """Our tagger's scores on each part of a data set (e.g. TimeBank, AQUAINT) on its own."""
    documents = load_documents(dataset)
    parts = sorted({d.part for d in documents if d.part})
    return [
        TimexReport(
            f"{dataset}/{part}",
            [score("storyline", [d for d in documents if d.part == part], ours)],
        )
        for part in parts
    ]


def format_report(report: TimexReport) -> str:
    header = (
        f"{'system':<12} {'strict P/R/F1':>20} {'relaxed P/R/F1':>20} "
        f"{'type acc':>8} {'value P/R/F1':>20} {'docs/cpu-s':>11}"
    )
    lines = [
        f"TIMEX3 evaluation on {report.dataset} "
        f"({report.systems[0].documents} documents, {report.systems[0].gold} gold expressions)",
        header,
        "-" * len(header),
    ]
    for s in report.systems:

        def triple(prf: tuple[float, float, float]) -> str:
            return "/".join(f"{x:.3f}" for x in prf)

        lines.append(
            f"{s.system:<12} {triple(s.strict_prf):>20} {triple(s.relaxed_prf):>20} "
            f"{s.type_accuracy:>8.3f} {triple(s.value_prf):>20} {s.docs_per_second:>11.1f}"
        )
    return "\n".join(lines)


def format_errors(scores: Scores, limit: int) -> str:
    by_category = Counter(category for category, _, _ in scores.errors)
    lines = [
        f"errors of {scores.system}: " + ", ".join(f"{k} {v}" for k, v in by_category.most_common())
    ]
    for category, _ in by_category.most_common():
        examples = Counter(
            (text.lower(), detail) for c, text, detail in scores.errors if c == category
        )
        lines.append(f"  [{category}]")
        for (text, detail), count in examples.most_common(limit):
            lines.append(f"    {count:>3}  {text!r}  {detail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="storyline eval timex", description=__doc__.splitlines()[0]
    )
    parser.add_argument("dataset", nargs="?", default="all", choices=["tbaq", "meantime", "all"])
    parser.add_argument("--no-peer", action="store_true", help="skip dateparser (slow)")
    parser.add_argument(
        "--errors",
        type=int,
        default=0,
        metavar="N",
        help="print the N most frequent errors of each category",
    )
    parser.add_argument(
        "--by-part", action="store_true", help="also score each part (TimeBank, AQUAINT) alone"
    )
    args = parser.parse_args(argv)
    names = ["tbaq", "meantime"] if args.dataset == "all" else [args.dataset]
    shown = 0
    for name in names:
        try:
            report = run(name, peer=not args.no_peer)
        except DataUnavailable as missing:
            print(f"skipped {name}: {missing}", file=sys.stderr)
            continue
        print(format_report(report))
        if args.by_part:
            for part in run_by_part(name):
                print(format_report(part))
        if args.errors:
            print(format_errors(report.systems[0], args.errors))
        print()
        shown += 1
    return 0 if shown else 2


if __name__ == "__main__":
    raise SystemExit(main())
