"""Per-document speed paths of extraction give what the slow paths gave.

- `line_fingerprints` of an HTML page just extracted reuses the page lines of
  that extraction instead of parsing the page again;
- language identification reads the first `SAMPLE_CHARS` of the body.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from storyline.extract import extract, line_fingerprints
from storyline.extract.language import SAMPLE_CHARS, detect_language
from storyline.records import RawDocument

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extract"
_spec = importlib.util.spec_from_file_location("extract_fixture_registry", FIXTURES / "registry.py")
assert _spec and _spec.loader
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
REGISTRY = _fixture.load_registry()

PAGE = (FIXTURES / "article.html").read_text()
OTHER_PAGE = """<html><head><title>Harbour strike ends</title></head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<article><h1>Harbour strike ends after nine days</h1>
<p>Dock workers in the northern harbour returned to work on Tuesday after the union and
the port authority agreed a new pay scale, ending a nine-day strike that stranded ships.</p>
<p>The agreement raises wages by four percent this year and three percent next year,
union officials said at a press conference outside the harbour gates.</p></article>
<footer>Copyright 2024 Harbour Gazette. All rights reserved.</footer></body></html>"""


def _copy(text: str) -> str:
    """An equal string that is a different object (slicing may return the same one)."""
    return (text + " ")[:-1]


def _html(content: str) -> RawDocument:
    return RawDocument(source="page.html", content=content, kind="html")


def test_fingerprints_after_extraction_equal_those_of_a_fresh_parse() -> None:
    fresh = line_fingerprints(_html(_copy(PAGE)))  # nothing extracted from this object
    raw = _html(PAGE)
    extract(raw, REGISTRY)
    assert line_fingerprints(raw) == fresh
    assert fresh  # the page has short lines (navigation, footer) to fingerprint


def test_fingerprints_are_never_those_of_another_page() -> None:
    other_fresh = line_fingerprints(_html(_copy(OTHER_PAGE)))
    extract(_html(PAGE), REGISTRY)  # remembers PAGE's lines
    assert line_fingerprints(_html(OTHER_PAGE)) == other_fresh
    assert other_fresh != line_fingerprints(_html(_copy(PAGE)))


def test_fingerprints_keep_the_depth_limit_after_extraction() -> None:
    raw = _html(PAGE)
    extract(raw, REGISTRY)
    assert line_fingerprints(raw, max_html_depth=1) == []


def test_language_is_decided_by_the_lead_of_the_body() -> None:
    german = (
        "Die Bundesregierung hat am Mittwoch ein neues Gesetz zur Förderung erneuerbarer "
        "Energien beschlossen, das den Ausbau von Wind- und Solarparks beschleunigen soll. "
    )
    english = (
        "The government approved a new law on Wednesday to promote renewable energy and "
        "speed up the construction of wind and solar farms across the country. "
    )
    lead = (german * (SAMPLE_CHARS // len(german) + 1))[:SAMPLE_CHARS]
    assert detect_language(lead) == "de"
    # What follows the sample does not change the answer, however long it is.
    assert detect_language(lead + english * 200) == "de"
    assert detect_language(english * 5) == "en"
