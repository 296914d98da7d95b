"""`Extraction.removable_lines`: known boilerplate outside it leaves the article unchanged.

The global stage relies on this to skip a second extraction (for HTML, a second page
parse) when an outlet's known lines are not in the article's text.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from storyline.extract import extract, extract_document, line_fingerprints
from storyline.extract.outlets import OutletRegistry
from storyline.records import RawDocument

TESTS = Path(__file__).resolve().parents[1]
EXTRACT = TESTS / "fixtures" / "extract"
SEEDS = TESTS / "fixtures" / "seeds"


def _documents() -> list[RawDocument]:
    docs = [
        RawDocument(p.name, p.read_text(encoding="utf-8"), "text")
        for p in sorted(EXTRACT.glob("*.txt")) + sorted(SEEDS.glob("*.txt"))
    ]
    html = (EXTRACT / "article.html").read_text(encoding="utf-8")
    docs.append(RawDocument("article.html", html, "html", url="https://example.org/a"))
    return docs


DOCUMENTS = _documents()


@pytest.fixture(scope="module")
def registry() -> OutletRegistry:
    return OutletRegistry.load()


@pytest.mark.parametrize("raw", DOCUMENTS, ids=[d.source for d in DOCUMENTS])
def test_known_lines_outside_the_removable_ones_change_nothing(
    raw: RawDocument, registry: OutletRegistry
) -> None:
    first = extract_document(raw, registry)
    candidates = set(line_fingerprints(raw))
    outside = frozenset(candidates - first.removable_lines)
    inside = sorted(candidates & first.removable_lines)
    assert first.article == extract(raw, registry, known_boilerplate=outside)
    # The rule is exact, not lucky: some line of the text is removable, and knowing it
    # (with everything outside) does change the article.
    assert inside, "every fixture has short lines the memory could remove"
    line = random.Random(raw.source).choice(inside)
    again = extract(raw, registry, known_boilerplate=outside | {line})
    assert again.body != first.article.body or again.removed != first.article.removed


def test_removable_lines_do_not_depend_on_the_memory(registry: OutletRegistry) -> None:
    for raw in DOCUMENTS:
        first = extract_document(raw, registry)
        known = frozenset(sorted(first.removable_lines & set(line_fingerprints(raw)))[:1])
        assert extract_document(raw, registry, known_boilerplate=known).removable_lines == (
            first.removable_lines
        )
