"""Cited sources: whom an article relies on, and through whom.

Built from the attributions found by `storyline.analyse.quotes`:

- a relayed quote ("TASS news agency quoted the Foreign Ministry as saying")
  cites the quoted source via the relaying one;
- an attribution whose cue lies inside the content of another ("The Foreign
  Ministry confirmed the talks, the RIA news agency reported") cites the inner
  source via the outer one(s), outermost first;
- every other attribution with a speaker cites that speaker directly.

Wire credits (who supplied the copy, e.g. "(AFP, Reuters)") are metadata of
the article found by the extractor and are deliberately not cited sources
here: a wire agency is a cited source only when the text attributes
something to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from storyline.analyse.entities import EntityMention, canonicalise_story, doc_entities
from storyline.analyse.nlp import load_nlp, parse_selectively
from storyline.analyse.quotes import (
    Quote,
    extract_quotes,
    may_hold_attribution,
    merge_story_quotes,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


# Attributions that rely on a source's words; stances ("X wants Y") do not.
CITING_KINDS = frozenset({"speech", "thought", "report", "according_to"})


@dataclass(slots=True)
class Citation:
    """A source the text relies on; `via` lists the intermediaries, outermost first."""

    source: str
    via: list[str] | None
    cue: str | None
    start: int  # the attributed content in the article text
    end: int


@dataclass(slots=True)
class StoryCitation:
    source: str
    via: list[str] | None
    article_ids: list[str] = field(default_factory=list)


def extract_citations(quotes: Sequence[Quote]) -> list[Citation]:
    """Cited sources of one article, with source chains, from its attributions."""
    citations: list[Citation] = []
    for quote in quotes:
        if not quote.speaker or quote.kind not in CITING_KINDS:
            continue
        chain: list[str] = []
        if quote.cue_start is not None:
            # Outer attributions whose content holds this one's cue, outermost first.
            outers = [
                other
                for other in quotes
                if other is not quote
                and other.speaker
                and other.kind in CITING_KINDS
                and other.start <= quote.cue_start < other.end
                and other.speaker != quote.speaker
            ]
            outers.sort(key=lambda o: o.end - o.start, reverse=True)
            chain = [o.speaker for o in outers if o.speaker]
        if quote.via and quote.via != quote.speaker:
            chain.append(quote.via)
        citations.append(
            Citation(
                source=quote.speaker,
                via=_unique(chain) or None,
                cue=quote.cue,
                start=quote.start,
                end=quote.end,
            )
        )
    return citations


def _unique(names: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def merge_story_citations(
    citations_by_article: Mapping[str, Sequence[Citation]],
) -> list[StoryCitation]:
    """One entry per (source, via chain) of a story, with the articles citing it.

    A source cited directly by some articles and through an intermediary by
    others gets one entry per chain: the chain is what a reader checks.
    """
    merged: dict[tuple[str, tuple[str, ...]], StoryCitation] = {}
    for article_id, citations in citations_by_article.items():
        for citation in citations:
            key = (citation.source.casefold(), tuple(v.casefold() for v in citation.via or ()))
            entry = merged.setdefault(key, StoryCitation(citation.source, citation.via, []))
            if article_id not in entry.article_ids:
                entry.article_ids.append(article_id)
    return sorted(merged.values(), key=lambda c: (-len(c.article_ids), c.source))


# --------------------------------------------------------------------------- entry points

# Attribution kinds that are someone's words or views, exported as quotes;
# stance attributions ("X called for Y") stay in the per-article analysis only.
QUOTE_KINDS = frozenset({"speech", "thought", "according_to", "continuation"})


@dataclass(slots=True)
class PeopleAnalysis:
    """Entities, quotes and cited sources of one article (JSON-serialisable)."""

    entities: list[EntityMention] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    error: str | None = None  # why this article could not be analysed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PeopleAnalysis:
        return cls(
            entities=[EntityMention(**m) for m in data.get("entities", [])],
            quotes=[Quote(**q) for q in data.get("quotes", [])],
            citations=[Citation(**c) for c in data.get("citations", [])],
            error=data.get("error"),
        )


def parse_for_people(
    texts: Iterable[str],
    nlp: Language,
    full_parse: bool = False,
    batch_size: int = 32,
    n_process: int = 1,
) -> Iterator[Doc]:
    """Docs for `analyse_people`: NER over every sentence; the tagger and parser
    only over sentences that can hold an attribution (a cue word, a quotation
    mark, "according to"), unless `full_parse`. Measured on PolNeAR dev and
    MEANTIME, the selective parse gives the same figures at less cost (see
    docs/benchmarks.md)."""
    if full_parse or not {"parser", "ner"} <= set(nlp.pipe_names):
        return nlp.pipe(texts, batch_size=batch_size, n_process=n_process)
    if n_process > 1:
        # spaCy's own multiprocessing runs the whole pipeline; chunks of
        # articles go to worker processes instead.
        return _parse_in_processes(list(texts), nlp, batch_size, n_process)
    return parse_selectively(texts, nlp, may_hold_attribution, batch_size=batch_size)


def _parse_in_processes(
    texts: list[str], nlp: Language, batch_size: int, n_process: int
) -> Iterator[Doc]:
    import multiprocessing

    from spacy.tokens import DocBin

    size = max(1, -(-len(texts) // n_process))
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with context.Pool(len(chunks)) as pool:
        for data in pool.imap(_parse_chunk, [(chunk, batch_size) for chunk in chunks]):
            yield from DocBin().from_bytes(data).get_docs(nlp.vocab)


def _parse_chunk(job: tuple[list[str], int]) -> bytes:
    from spacy.tokens import DocBin

    from storyline.analyse.nlp import load_nlp

    chunk, batch_size = job
    nlp = load_nlp()
    store = DocBin(attrs=["ORTH", "TAG", "POS", "HEAD", "DEP", "ENT_IOB", "ENT_TYPE"])
    for doc in parse_selectively(chunk, nlp, may_hold_attribution, batch_size=batch_size):
        store.add(doc)
    return store.to_bytes()


def analyse_people(
    texts: Sequence[str],
    nlp: Language | None = None,
    batch_size: int = 32,
    n_process: int = 1,
    full_parse: bool = False,
) -> list[PeopleAnalysis]:
    """Entities, quotes and citations per text, parsed in batches by
    `parse_for_people` (selectively unless `full_parse`).

    A text that fails (too long for the pipeline, a parser error) gets an
    analysis with `error` set; the rest of the batch goes on.
    """
    if nlp is None:
        nlp = load_nlp()
    results: list[PeopleAnalysis] = []
    safe = [t if isinstance(t, str) and len(t) <= nlp.max_length else "" for t in texts]
    # The parse and NER dominate the cost (the rules take about 10 ms an
    # article), so `n_process` > 1 is the lever for throughput on several cores.
    parsed = parse_for_people(
        safe, nlp, full_parse=full_parse, batch_size=batch_size, n_process=n_process
    )
    for text, doc in zip(texts, parsed, strict=True):
        if not isinstance(text, str) or len(text) > nlp.max_length:
            results.append(
                PeopleAnalysis(
                    error=f"text not analysable (type {type(text).__name__}, "
                    f"{len(text) if isinstance(text, str) else 0} chars)"
                )
            )
            continue
        try:
            entities = doc_entities(doc)
            quotes = extract_quotes(doc, entities)
            results.append(PeopleAnalysis(entities, quotes, extract_citations(quotes)))
        except Exception as exc:  # one odd parse must not sink the batch
            results.append(PeopleAnalysis(error=f"{type(exc).__name__}: {exc}"))
    return results


def story_people(
    analyses: Sequence[PeopleAnalysis],
    outlets: Sequence[str | None],
    article_ids: Sequence[str],
) -> dict[str, list[dict[str, Any]]]:
    """The story export: "actors", "quotes" and "cited_sources" across its articles."""
    outlet_by_article = dict(zip(article_ids, outlets, strict=True))
    by_article = dict(zip(article_ids, analyses, strict=True))
    actors = canonicalise_story({a: x.entities for a, x in by_article.items()}, outlet_by_article)
    quotes = merge_story_quotes(
        {a: [q for q in x.quotes if q.kind in QUOTE_KINDS] for a, x in by_article.items()},
        outlet_by_article,
    )
    citations = merge_story_citations({a: x.citations for a, x in by_article.items()})
    return {
        "actors": [asdict(actor) for actor in actors],
        "quotes": [
            {
                "text": q.text,
                "speaker": q.speaker,
                "speaker_type": q.speaker_type,
                "cue": q.cue,
                "direct": q.direct,
                "outlets": q.outlets,
                "article_ids": q.article_ids,
            }
            for q in quotes
        ],
        "cited_sources": [asdict(c) for c in citations],
    }
