"""HTML pages: main text and metadata with trafilatura, the date with htmldate
as a fallback, and a cheap refusal of pathologically nested markup first."""

from __future__ import annotations

import copy
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

import htmldate
import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document
from trafilatura.utils import load_html

# Elements that never hold children, and elements whose end tag browsers infer
# from the next sibling: neither says anything about nesting depth.
_NO_DEPTH = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "colgroup",
        "rt",
        "rp",
        "optgroup",
    ]
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^>]*?(/?)>")
# comments and raw-text elements hold no markup; non-greedy, so each costs one pass
_SKIPPED = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|template|textarea)\b.*?(?:</\1\s*>|$)",
    re.DOTALL | re.IGNORECASE,
)


def nesting_depth_exceeds(html: str, max_depth: int) -> int | None:
    """The depth reached if the markup nests deeper than `max_depth`, else None.

    A linear scan over the tags; it builds no tree, so a hostile page costs
    no more than reading it.
    """
    if html.count("<") <= max_depth:
        return None
    stack: list[str] = []
    open_names: Counter[str] = Counter()
    for closing, name, self_closing in _TAG.findall(_SKIPPED.sub(" ", html)):
        name = name.lower()
        if name in _NO_DEPTH or self_closing:
            continue
        if not closing:
            stack.append(name)
            open_names[name] += 1
            if len(stack) > max_depth:
                return len(stack)
        elif open_names[name]:
            # close up to the matching open tag, as a lenient parser would
            while stack:
                top = stack.pop()
                open_names[top] -= 1
                if top == name:
                    break
    return None


_BLOCKS = [
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
    "button",
    "label",
    "option",
    "select",
]


def page_lines(tree: HtmlElement) -> list[str]:
    """Every visible text line of a page, one per block element (works on a copy)."""
    body = tree.find(".//body")
    root = copy.deepcopy(body if body is not None else tree)
    for bad in root.xpath(".//script|.//style|.//noscript|.//template|.//svg"):
        bad.drop_tree()
    for elem in root.iter(*_BLOCKS):
        elem.text = "\n" + (elem.text or "")
        elem.tail = "\n" + (elem.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return [line for line in lines if line]


def parse_page(html: str) -> HtmlElement | None:
    tree = load_html(html)
    if tree is None:
        # a bare fragment ("<p>text</p>") is refused as "not HTML" unless wrapped
        tree = load_html(f"<html><body><div>{html}</div></body></html>")
    return tree


@dataclass(slots=True)
class HtmlExtraction:
    text: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    sitename: str | None = None
    language: str | None = None
    page_lines: list[str] = field(default_factory=list)  # to list what extraction left out


_LOG_NAMES = ("trafilatura", "htmldate", "courlan")


def extract_html(
    html: str, url: str | None = None, *, with_page_text: bool = True
) -> HtmlExtraction | None:
    """Main text and metadata of a page; None when no article text is found."""
    for name in _LOG_NAMES:  # trafilatura logs "discarding data" at warning level for every miss
        logging.getLogger(name).setLevel(logging.ERROR)
    tree = parse_page(html)
    if tree is None:
        return None
    # trafilatura and html2txt each work on their own copy of the tree.
    # fast=True skips the second opinion of readability/jusText: on the Zyte
    # benchmark it costs ~28% of extraction time and changes 5 of 181 bodies,
    # with F1 0.964 -> 0.966 (docs/benchmarks.md, section Scale).
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=True,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
    )
    if not isinstance(document, Document) or not (document.text or "").strip():
        return None
    lines = page_lines(tree) if with_page_text else []
    published = document.date
    if not published:
        # trafilatura already asked htmldate; ask again without the restriction
        # to the original date, which finds "updated" dates it skipped
        published = htmldate.find_date(tree, extensive_search=True, original_date=False, url=url)
    authors = [a.strip() for a in re.split(r";", document.author or "") if a.strip()]
    lang = tree.get("lang") or None
    return HtmlExtraction(
        text=document.text or "",
        title=document.title or None,
        authors=authors,
        published=published or None,
        sitename=document.sitename or None,
        language=lang,
        page_lines=lines,
    )
