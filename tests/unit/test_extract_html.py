"""HTML extraction: trafilatura + htmldate, credits over the extracted text,
the depth limit, and the Zyte benchmark (when the data set is present)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from storyline.eval import DataUnavailable, dataset_path
from storyline.eval.extraction import load_pages, score_system, storyline_system, zyte_scores
from storyline.extract import ExtractionError, extract, line_fingerprints
from storyline.extract.html import nesting_depth_exceeds
from storyline.records import RawDocument

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures" / "extract"
_spec = importlib.util.spec_from_file_location("extract_fixture_registry", FIXTURES / "registry.py")
assert _spec and _spec.loader
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
REGISTRY = _fixture.load_registry()


def _html(content: str, **hints: object) -> RawDocument:
    return RawDocument(source="test.html", content=content, kind="html", **hints)  # type: ignore[arg-type]


def test_article_page() -> None:
    article = extract(_html((FIXTURES / "article.html").read_text()), REGISTRY)
    assert article.title == "Ministers agree on new river clean-up plan"
    assert article.published == "2022-03-03"
    assert article.authors == ["Jane Doe"]
    assert article.outlet == "Example Daily"  # the site name: not in the registry
    assert article.language == "en"
    assert article.body.startswith("BRUSSELS (Reuters) - Environment ministers agreed")
    assert "Farmers object" in article.paragraphs
    assert "abc/xyz" not in article.body  # sign-off removed from extracted text...
    assert sorted(article.wire_agencies) == ["AFP", "Reuters"]  # ...and read as credits
    assert "Most read" not in article.body and "Privacy policy" not in article.body
    removed = {b.text for b in article.removed}
    assert "Privacy policy" in removed and "abc/xyz (Reuters, AFP)" in removed
    assert article.title not in removed


def test_url_maps_outlet_through_registry() -> None:
    raw = _html((FIXTURES / "article.html").read_text(), url="https://www.dw.com/en/story/a-1")
    assert extract(raw, REGISTRY).outlet == "DW"


def test_fragment_is_extracted() -> None:
    fragment = (
        "<p>"
        + "The council approved the new budget for schools and roads on Monday evening. " * 4
        + "</p>"
    )
    article = extract(_html(fragment), REGISTRY)
    assert "council approved the new budget" in article.body


def test_page_without_text_is_an_error() -> None:
    with pytest.raises(ExtractionError, match="no article text"):
        extract(_html("<html><body><nav><a href='/'>Home</a></nav></body></html>"), REGISTRY)


def test_too_deep_html_is_refused_before_parsing() -> None:
    deep = "<html><body>" + "<div>" * 3000 + "text" + "</div>" * 3000 + "</body></html>"
    with pytest.raises(ExtractionError, match="nests deeper than 2000"):
        extract(_html(deep), REGISTRY)
    with pytest.raises(ExtractionError, match="deeper than 100"):
        extract(_html("<div>" * 150), REGISTRY, max_html_depth=100)
    assert line_fingerprints(_html(deep)) == []


def test_depth_scan_ignores_void_implicit_and_hidden_markup() -> None:
    assert nesting_depth_exceeds("<div>" * 11, 10) == 11
    assert nesting_depth_exceeds("<div></div>" * 50, 10) is None
    assert nesting_depth_exceeds("<p>para" * 50 + "<br><img src=x>" * 50, 10) is None
    assert nesting_depth_exceeds("<script>" + "<div>" * 50 + "</script>", 10) is None
    assert nesting_depth_exceeds("<!--" + "<div>" * 50 + "-->", 10) is None
    assert nesting_depth_exceeds("<div/>" * 50, 10) is None


def test_html_fingerprints_cover_short_page_lines() -> None:
    from storyline.extract.text import line_fingerprint

    fingerprints = line_fingerprints(_html((FIXTURES / "article.html").read_text()))
    assert line_fingerprint("Privacy policy") in fingerprints
    assert line_fingerprint("Most read") in fingerprints


# --------------------------------------------------------------------------- benchmark


def zyte_f1(truth: dict[str, str], predicted: dict[str, str]) -> float:
    return zyte_scores(truth, predicted)[2]


def test_metric_on_known_cases() -> None:
    assert zyte_f1({"a": "one two three four five"}, {"a": "one two three four five"}) == 1.0
    assert zyte_f1({"a": "one two three four five"}, {"a": "six seven eight nine"}) == 0.0


@pytest.mark.data
@pytest.mark.slow
def test_zyte_benchmark_quality() -> None:
    try:
        dataset_path("zyte_extraction")
    except DataUnavailable as exc:
        pytest.skip(str(exc))
    truth, pages = load_pages()
    score = score_system("storyline", storyline_system(REGISTRY), truth, pages)
    # trafilatura alone scores 0.960 here; the cleaner on top must not lose quality
    assert score.f1 >= 0.955
