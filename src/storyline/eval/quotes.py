"""Evaluation of quote / reported-speech extraction on PolNeAR (train + dev).

Every gold attribution has content spans, usually a source span and a cue. A
prediction is matched one-to-one to the gold attribution whose content shares
the most word tokens with it (greedy, largest overlap first). Scores, all over
word tokens (`\\w+`, so punctuation and quotation marks at the edges do not
count):

- content exact: matched and the same set of words. P = exact / predictions,
  R = exact / gold attributions.
- content overlap (token partial credit, as in Citron's PARC scoring):
  P = words shared by matched pairs / words of all predicted contents,
  R = words shared by matched pairs / words of all gold contents.
- source exact: a matched prediction whose source words equal the gold
  source's. P over predictions with a source, R over gold attributions with one.
- source overlap: the same, counting sources that share a word.

The same scores are printed for textacy's `direct_quotations` on the same
parsed documents, and for the subset of attributions whose content holds a
quotation mark (textacy's domain). Run: `storyline eval quotes [--split dev]
[--limit N] [--parsed-cache /tmp/polnear-dev.spacy]` or `python -m
storyline.eval.quotes`; the cache keeps the parse between runs, so changing the
rules is re-scored in seconds.

A predicted content is scored without the words of its own source and cue
("The plan, she said, is dead" -> "The plan" + "is dead"): PARC/PolNeAR
contents never hold them, and the extractor reports all three spans.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storyline.eval import DataUnavailable, dataset_path

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_QUOTE_MARKS = '"“”«»„'


@dataclass(slots=True)
class Attribution:
    """An attribution reduced to what is scored: word-token positions."""

    content: frozenset[int]
    source: frozenset[int]
    quoted: bool = False  # the content holds a quotation mark


@dataclass(slots=True)
class Counts:
    n_pred: int = 0
    n_gold: int = 0
    exact: int = 0
    overlap: int = 0
    pred_words: int = 0
    gold_words: int = 0
    n_pred_source: int = 0
    n_gold_source: int = 0
    source_exact: int = 0
    source_overlap: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class Scores:
    name: str
    figures: dict[str, float] = field(default_factory=dict)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def summarise(counts: Counts) -> dict[str, float]:
    def prf(tp_p: float, n_p: int, tp_r: float, n_r: int) -> tuple[float, float, float]:
        p = tp_p / n_p if n_p else 0.0
        r = tp_r / n_r if n_r else 0.0
        return p, r, _f1(p, r)

    out: dict[str, float] = {"pred": counts.n_pred, "gold": counts.n_gold}
    for label, values in (
        ("content_exact", prf(counts.exact, counts.n_pred, counts.exact, counts.n_gold)),
        (
            "content_overlap",
            prf(counts.overlap, counts.pred_words, counts.overlap, counts.gold_words),
        ),
        (
            "source_exact",
            prf(
                counts.source_exact, counts.n_pred_source, counts.source_exact, counts.n_gold_source
            ),
        ),
        (
            "source_overlap",
            prf(
                counts.source_overlap,
                counts.n_pred_source,
                counts.source_overlap,
                counts.n_gold_source,
            ),
        ),
    ):
        out[f"{label}_p"], out[f"{label}_r"], out[f"{label}_f1"] = values
    return out


def word_positions(text: str, spans: Iterable[tuple[int, int]]) -> frozenset[int]:
    """Start offsets of the word tokens that lie inside any of the spans."""
    positions = set()
    for start, end in spans:
        for match in _WORD_RE.finditer(text, start, end):
            positions.add(match.start())
    return frozenset(positions)


def score_document(pred: Sequence[Attribution], gold: Sequence[Attribution]) -> Counts:
    counts = Counts(n_pred=len(pred), n_gold=len(gold))
    counts.n_pred_source = sum(1 for a in pred if a.source)
    counts.n_gold_source = sum(1 for a in gold if a.source)
    counts.pred_words = sum(len(a.content) for a in pred)
    counts.gold_words = sum(len(a.content) for a in gold)
    pairs = []
    for i, p in enumerate(pred):
        for j, g in enumerate(gold):
            shared = len(p.content & g.content)
            if shared:
                pairs.append((shared, i, j))
    pairs.sort(reverse=True)
    used_p: set[int] = set()
    used_g: set[int] = set()
    for shared, i, j in pairs:
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        p, g = pred[i], gold[j]
        counts.overlap += shared
        if p.content == g.content:
            counts.exact += 1
        if p.source and g.source:
            if p.source == g.source:
                counts.source_exact += 1
            if p.source & g.source:
                counts.source_overlap += 1
    return counts


def load_polnear(split: str | None, limit: int | None = None) -> list[dict]:
    path = dataset_path("polnear") / "attributions.jsonl"
    if not path.exists():
        raise DataUnavailable(f"PolNeAR attributions not found at {path}")
    docs = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            if split in (None, "all") or doc["split"] == split:
                docs.append(doc)
    return docs[:limit] if limit else docs


def gold_attributions(doc: dict) -> list[Attribution]:
    text = doc["text"]
    out = []
    for attribution in doc["attributions"]:
        content = word_positions(text, [(c["start"], c["end"]) for c in attribution["content"]])
        if not content:
            continue
        source = attribution.get("source")
        source_spans = []
        if source:
            source_spans = [tuple(f) for f in source.get("fragments", [])] or [
                (source["start"], source["end"])
            ]
        quoted = any(
            ch in _QUOTE_MARKS or "''" in c["text"] or "``" in c["text"]
            for c in attribution["content"]
            for ch in c["text"]
        )
        out.append(Attribution(content, word_positions(text, source_spans), quoted))
    return out


def _in_quotes(text: str, span: tuple[int, int], marks: Sequence[tuple[int, int]]) -> bool:
    """Whether a predicted content span is (or holds) quoted text."""
    start, end = span
    return any(s < end and start < e for s, e in marks)


def storyline_predictions(
    doc, entities
) -> list[tuple[list[tuple[int, int]], tuple[int, int] | None]]:
    """(content fragments, source span) per attribution; a continuation quote is
    a further fragment of the attribution before it, as PolNeAR annotates it."""
    from storyline.analyse.quotes import extract_quotes

    found: list[tuple[list[tuple[int, int]], tuple[int, int] | None]] = []
    for quote in extract_quotes(doc, entities):
        if quote.kind == "continuation" and found:
            found[-1][0].append((quote.start, quote.end))
            continue
        source = (
            (quote.speaker_start, quote.speaker_end)
            if quote.speaker_start is not None and quote.speaker_end is not None
            else None
        )
        # A content span that encloses its own cue and source ("The plan, she
        # said, is dead") is two fragments around them, as PARC annotates it.
        cue = (
            (quote.cue_start, quote.cue_end)
            if quote.cue_start is not None and quote.cue_end is not None
            else None
        )
        holes = [h for h in (source, cue) if h is not None]
        found.append((_cut(quote.start, quote.end, holes), source))
    return found


def _cut(start: int, end: int, holes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The span [start, end) without the holes that lie inside it."""
    pieces = [(start, end)]
    for hole_start, hole_end in holes:
        next_pieces = []
        for s, e in pieces:
            if hole_end <= s or e <= hole_start:
                next_pieces.append((s, e))
                continue
            if s < hole_start:
                next_pieces.append((s, hole_start))
            if hole_end < e:
                next_pieces.append((hole_end, e))
        pieces = next_pieces
    return pieces or [(start, start)]


def textacy_predictions(doc) -> list[tuple[list[tuple[int, int]], tuple[int, int] | None]]:
    from textacy.extract.triples import direct_quotations

    found: list[tuple[list[tuple[int, int]], tuple[int, int] | None]] = []
    try:
        triples = list(direct_quotations(doc))
    except (ValueError, IndexError, RuntimeError):  # textacy fails on some quote layouts
        return []
    for triple in triples:
        content = (triple.content.start_char, triple.content.end_char)
        source = None
        if triple.speaker:
            source = (
                min(t.idx for t in triple.speaker),
                max(t.idx + len(t) for t in triple.speaker),
            )
        found.append(([content], source))
    return found


def _as_attributions(text: str, predictions, marks) -> list[Attribution]:
    out = []
    for fragments, source in predictions:
        words = word_positions(text, fragments)
        if words:
            out.append(
                Attribution(
                    words,
                    word_positions(text, [source]) if source else frozenset(),
                    any(_in_quotes(text, f, marks) for f in fragments),
                )
            )
    return out


@dataclass(slots=True)
class QuoteEvaluation:
    documents: int
    seconds: float
    systems: dict[str, dict[str, dict[str, float]]]  # system -> subset -> figures


def _parsed(nlp, texts: list[str], cache: Path | None, full_parse: bool = False) -> list:
    """The parsed documents, read from (or written to) a spaCy DocBin file so
    that iterating on the rules does not re-run the parser every time. The
    parse is the one the analysis stage uses (`parse_for_people`); a cache file
    holds one mode, so use one file per mode."""
    from spacy.tokens import DocBin

    from storyline.analyse.citations import parse_for_people

    if cache is not None and cache.exists():
        docs = list(DocBin().from_disk(cache).get_docs(nlp.vocab))
        if [d.text for d in docs] == texts:
            return docs
    docs = list(parse_for_people(texts, nlp, full_parse=full_parse, batch_size=16))
    if cache is not None:
        store = DocBin(attrs=["ORTH", "TAG", "POS", "HEAD", "DEP", "ENT_IOB", "ENT_TYPE"])
        for doc in docs:
            store.add(doc)
        cache.parent.mkdir(parents=True, exist_ok=True)
        store.to_disk(cache)
    return docs


def evaluate(
    split: str = "dev",
    limit: int | None = None,
    with_textacy: bool = True,
    nlp=None,
    parsed_cache: Path | None = None,
    full_parse: bool = False,
) -> QuoteEvaluation:
    """Score Storyline (and textacy when installed) on PolNeAR documents."""
    from storyline.analyse.entities import doc_entities
    from storyline.analyse.nlp import load_nlp
    from storyline.analyse.quotes import quote_spans

    docs = load_polnear(split, limit)
    nlp = nlp or load_nlp()
    if with_textacy:
        try:
            import textacy.extract.triples  # noqa: F401
        except ImportError:
            with_textacy = False
    lemmatize = None
    if with_textacy:
        # textacy finds speech verbs by lemma; Storyline's pipeline drops the
        # lemmatizer, so it is run for textacy alone, on the same parse.
        import spacy

        from storyline.analyse.nlp import model_name

        full = spacy.load(model_name())
        lemmatize = full.get_pipe("lemmatizer") if "lemmatizer" in full.pipe_names else None
    systems = ["storyline"] + (["textacy"] if with_textacy else [])
    totals = {name: {"all": Counts(), "quoted": Counts()} for name in systems}
    analysis_seconds = 0.0
    parsed = _parsed(nlp, [d["text"] for d in docs], parsed_cache, full_parse)
    # textacy reads tags on every sentence, so it gets a full parse of its own.
    textacy_parsed = (
        parsed
        if full_parse or not with_textacy
        else nlp.pipe([d["text"] for d in docs], batch_size=16)
    )
    for raw, doc, full_doc in zip(docs, parsed, textacy_parsed, strict=True):
        text = raw["text"]
        gold = gold_attributions(raw)
        marks = quote_spans(text)
        started = time.perf_counter()
        ours = storyline_predictions(doc, doc_entities(doc))
        analysis_seconds += time.perf_counter() - started
        predictions = {"storyline": ours}
        if with_textacy:
            if lemmatize is not None:
                full_doc = lemmatize(full_doc)
            predictions["textacy"] = textacy_predictions(full_doc)
        for name in systems:
            pred = _as_attributions(text, predictions[name], marks)
            totals[name]["all"].add(score_document(pred, gold))
            totals[name]["quoted"].add(
                score_document([a for a in pred if a.quoted], [a for a in gold if a.quoted])
            )
    return QuoteEvaluation(
        documents=len(docs),
        seconds=analysis_seconds,
        systems={
            name: {subset: summarise(c) for subset, c in subsets.items()}
            for name, subsets in totals.items()
        },
    )


def format_report(result: QuoteEvaluation) -> str:
    lines = [f"PolNeAR attributions: {result.documents} documents"]
    header = (
        f"{'system':<10} {'subset':<7} {'pred':>6} {'gold':>6}  "
        f"{'content exact P/R/F1':<22} {'content overlap P/R/F1':<22} "
        f"{'source exact P/R/F1':<22} {'source overlap P/R/F1':<22}"
    )
    lines.append(header)
    for name, subsets in result.systems.items():
        for subset, f in subsets.items():
            cells = []
            for label in ("content_exact", "content_overlap", "source_exact", "source_overlap"):
                cells.append(f"{f[label + '_p']:.3f}/{f[label + '_r']:.3f}/{f[label + '_f1']:.3f}")
            lines.append(
                f"{name:<10} {subset:<7} {int(f['pred']):>6} {int(f['gold']):>6}  "
                + " ".join(f"{c:<22}" for c in cells)
            )
    lines.append(
        "subset 'quoted': gold attributions whose content holds a quotation mark, "
        "predictions that overlap quoted text"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="storyline eval quotes", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--split", default="dev", choices=["dev", "train", "all"])
    parser.add_argument("--limit", type=int, default=None, help="first N documents only")
    parser.add_argument("--no-textacy", action="store_true", help="skip the textacy baseline")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--parsed-cache",
        type=Path,
        default=None,
        help="spaCy DocBin file of the parsed documents: read if it matches, else written",
    )
    parser.add_argument(
        "--full-parse",
        action="store_true",
        help="parse every sentence (default: only sentences that can hold an attribution)",
    )
    args = parser.parse_args(argv)
    try:
        result = evaluate(
            args.split,
            args.limit,
            with_textacy=not args.no_textacy,
            parsed_cache=args.parsed_cache,
            full_parse=args.full_parse,
        )
    except DataUnavailable as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 2
    print(format_report(result))
    if args.json:
        args.json.write_text(
            json.dumps({"documents": result.documents, "systems": result.systems}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
