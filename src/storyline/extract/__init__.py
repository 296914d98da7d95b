"""Extraction: a RawDocument (plain text or HTML) becomes a clean Article.

    extract(raw, registry, known_boilerplate=..., max_html_depth=...) -> Article
    extract_document(raw, registry, ...) -> Extraction (the article and the lines
        the outlet's memory could still remove from it)
    line_fingerprints(raw) -> list[str]

Pure functions: no I/O. Hints carried by the RawDocument (title, date,
outlet, language, authors from JSON Lines or feeds) win over what is
inferred from the content.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storyline import ids
from storyline.extract import textmeta
from storyline.extract.html import extract_html, nesting_depth_exceeds, page_lines, parse_page
from storyline.extract.language import detect_language
from storyline.extract.text import (
    CleanText,
    _strip_outlet_suffix,
    clean_text,
    fingerprint_candidates,
    line_fingerprint,
)
from storyline.records import Article, RawDocument, RemovedBlock

if TYPE_CHECKING:
    from storyline.extract.outlets import Outlet, OutletRegistry

__all__ = ["Extraction", "ExtractionError", "extract", "extract_document", "line_fingerprints"]

DEFAULT_MAX_HTML_DEPTH = 2_000
# Fewer words than this is a fragment (a truncated page, a bare headline), not an article.
MIN_BODY_WORDS = 12
_TITLE_MAX = 120


class ExtractionError(Exception):
    """This document yields no article; the message says why."""


@dataclass(frozen=True, slots=True)
class Extraction:
    """An extracted article and the fingerprints of its text's lines that known boilerplate
    of the outlet could remove: extracting again with known lines none of which is among
    `removable_lines` gives the same article, so the page needs no second parse."""

    article: Article
    removable_lines: frozenset[str]


def extract(
    raw: RawDocument,
    registry: OutletRegistry,
    *,
    known_boilerplate: Collection[str] = frozenset(),
    max_html_depth: int = DEFAULT_MAX_HTML_DEPTH,
) -> Article:
    """Clean article and metadata of one document; raises ExtractionError with the reason."""
    return extract_document(
        raw, registry, known_boilerplate=known_boilerplate, max_html_depth=max_html_depth
    ).article


def extract_document(
    raw: RawDocument,
    registry: OutletRegistry,
    *,
    known_boilerplate: Collection[str] = frozenset(),
    max_html_depth: int = DEFAULT_MAX_HTML_DEPTH,
) -> Extraction:
    """`extract`, with the lines the outlet's memory could still remove (`Extraction`)."""
    if not raw.content or not raw.content.strip():
        raise ExtractionError("content is empty")
    hint_outlet = registry.by_name(raw.outlet) if raw.outlet else None
    url_outlet = registry.by_url(raw.url) if raw.url else None
    context_outlet = hint_outlet or url_outlet
    title_hint = _clean_hint(raw.title)

    page_title = page_date = sitename = None
    page_authors: list[str] = []
    removed: list[RemovedBlock] = []
    if raw.kind == "html":
        depth = nesting_depth_exceeds(raw.content, max_html_depth)
        if depth is not None:
            raise ExtractionError(
                f"HTML nests deeper than {max_html_depth} levels (reached {depth}); refused"
            )
        page = extract_html(raw.content, raw.url)
        if page is None:
            raise ExtractionError("no article text found in the HTML page")
        _remember_page_lines(raw.content, page.page_lines)
        # an extractor's "title" longer than a headline is page text picked up by mistake
        if page.title and len(page.title) <= _TITLE_MAX * 3:
            page_title = _strip_outlet_suffix(page.title, registry)
        page_date, sitename, page_authors = page.published, page.sitename, page.authors
        cleaned = clean_text(
            page.text,
            registry,
            known_boilerplate=known_boilerplate,
            title_hint=title_hint or page_title,
            context_outlet=context_outlet,
            extracted=True,
        )
        removed = cleaned.removed + _left_out(page.page_lines, page.text, page.title)
    elif raw.kind == "text":
        cleaned = clean_text(
            raw.content,
            registry,
            known_boilerplate=known_boilerplate,
            title_hint=title_hint,
            context_outlet=context_outlet,
        )
        removed = cleaned.removed
    else:
        raise ExtractionError(f"unsupported content kind {raw.kind!r}")

    body = cleaned.body
    if not body.strip():
        raise ExtractionError("no article text found (everything looked like page furniture)")
    n_words = len(body.split())
    if n_words < MIN_BODY_WORDS:
        raise ExtractionError(
            f"no article text found (only {n_words} words after cleaning; "
            f"at least {MIN_BODY_WORDS} expected)"
        )

    outlet = _choose_outlet(raw.outlet, hint_outlet, url_outlet, cleaned, sitename, registry)
    outlet_record = (
        hint_outlet
        or url_outlet
        or cleaned.outlet
        or (registry.by_name(sitename) if sitename else None)
    )
    agencies = list(cleaned.wire_agencies)
    if (
        outlet_record is not None
        and outlet_record.kind == "wire"
        and outlet_record.name not in agencies
    ):
        agencies.append(outlet_record.name)  # an agency's own story is its wire copy
    title = title_hint or cleaned.title or page_title or _title_from_body(body)
    published = textmeta.to_iso8601(raw.published) or page_date or cleaned.published
    authors = [a for a in (raw.authors or []) if a.strip()] or page_authors or cleaned.authors
    article = Article(
        id=ids.article_id(raw.url, raw.content),
        source=raw.source,
        url=raw.url,
        title=title,
        body=body,
        outlet=outlet,
        published=published,
        authors=authors,
        wire_agencies=agencies,
        language=detect_language(body, raw.language),
        canonical_url=ids.canonical_url(raw.url),
        content_hash=ids.content_hash(body),
        removed=removed,
    )
    return Extraction(article, cleaned.removable_lines)


def line_fingerprints(
    raw: RawDocument, *, max_html_depth: int = DEFAULT_MAX_HTML_DEPTH
) -> list[str]:
    """Fingerprints of the document's short lines, the candidates for per-outlet boilerplate.

    The pipeline counts them per outlet; those seen in enough earlier articles
    come back to `extract` as `known_boilerplate`. Unreadable documents give [].
    """
    if not raw.content:
        return []
    if raw.kind == "html":
        if nesting_depth_exceeds(raw.content, max_html_depth) is not None:
            return []
        all_lines = _recent_page_lines(raw.content)
        if all_lines is None:
            tree = parse_page(raw.content)
            all_lines = page_lines(tree) if tree is not None else []
        lines = [line for line in all_lines if len(line.split()) <= 30]
    else:
        lines = fingerprint_candidates(raw.content)
    return list(dict.fromkeys(line_fingerprint(line) for line in lines))


# The page lines of the HTML document extracted last, keyed by the identity of its
# content: the per-document stage asks for `line_fingerprints` of the document it
# has just extracted, and parsing the page again cost ~6% of HTML extraction.
# Identity (not equality) keeps the check O(1); holding the string keeps its id
# from being reused.  One tuple, replaced whole, so threads never see half of it.
_last_page: tuple[str, list[str]] | None = None


def _remember_page_lines(content: str, lines: list[str]) -> None:
    global _last_page
    _last_page = (content, lines)


def _recent_page_lines(content: str) -> list[str] | None:
    last = _last_page
    return last[1] if last is not None and last[0] is content else None


def _clean_hint(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _choose_outlet(
    hint: str | None,
    hint_outlet: Outlet | None,
    url_outlet: Outlet | None,
    cleaned: CleanText,
    sitename: str | None,
    registry: OutletRegistry,
) -> str | None:
    if hint and hint.strip():
        return hint_outlet.name if hint_outlet else hint.strip()
    if url_outlet:
        return url_outlet.name
    if cleaned.outlet:
        return cleaned.outlet.name
    if sitename:
        known = registry.by_name(sitename)
        return known.name if known else sitename.strip()
    return None


def _title_from_body(body: str) -> str:
    """No title anywhere: the first sentence of the body, cut at a word boundary."""
    first = body.split("\n\n", 1)[0]
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    if len(sentence) <= _TITLE_MAX:
        return sentence
    return sentence[:_TITLE_MAX].rsplit(" ", 1)[0] + "…"


def _left_out(lines: list[str], kept_text: str, title: str | None) -> list[RemovedBlock]:
    """Page lines the HTML extractor did not keep (navigation, footers, teasers...)."""
    kept = " ".join(kept_text.split())
    title_key = " ".join((title or "").split())
    removed = []
    for line in lines[:5_000]:
        if line not in kept and line != title_key:
            removed.append(RemovedBlock(line, "not part of the article (HTML extraction)"))
    return removed
