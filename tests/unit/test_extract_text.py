"""The plain-text cleaner and `extract` on plain text: the two sample pages and
made-up pages in other outlets' styles, plus properties that must always hold."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyline.extract import ExtractionError, extract, line_fingerprints
from storyline.extract.text import clean_text, line_fingerprint
from storyline.records import RawDocument

TESTS = Path(__file__).resolve().parents[1]
EXAMPLES = TESTS.parent / "src" / "storyline" / "examples"
FIXTURES = TESTS / "fixtures" / "extract"
EXPECTED = json.loads((TESTS / "fixtures" / "seeds" / "expected.json").read_text())

_spec = importlib.util.spec_from_file_location(
    "extract_fixture_registry", TESTS / "fixtures" / "extract" / "registry.py"
)
assert _spec and _spec.loader
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
REGISTRY = _fixture.load_registry()


def _text(content: str, **hints: object) -> RawDocument:
    return RawDocument(source="test", content=content, kind="text", **hints)  # type: ignore[arg-type]


def _matches(item: str, text: str) -> bool:
    return any(alt.lower() in text.lower() for alt in item.split("|"))


# --------------------------------------------------------------------------- the samples


@pytest.mark.parametrize("name", sorted(EXPECTED["articles"]))
def test_sample_articles_match_what_a_careful_reader_gets(name: str) -> None:
    expected = EXPECTED["articles"][name]
    article = extract(
        RawDocument(source=name, content=(EXAMPLES / name).read_text(), kind="text"), REGISTRY
    )

    for item in expected["body_must_not_contain"]:
        assert not _matches(item, article.body), f"{item!r} left in the body"
    for item in expected["body_must_contain"]:
        assert _matches(item, article.body), f"{item!r} missing from the body"
    if "body_once" in expected:
        assert article.body.count(expected["body_once"]) == 1
    assert article.title == expected["title"]
    assert article.title not in article.body
    assert article.published is not None and article.published[:10] == expected["published"]
    names = {expected["outlet"], *expected.get("outlet_aliases", [])}
    assert article.outlet in names
    assert sorted(article.wire_agencies) == sorted(expected["wire_agencies"])
    assert article.language == "en"
    # every dropped block is listed with its reason
    assert article.removed and all(block.reason for block in article.removed)


def test_sample_keeps_crossheads_and_related_paragraphs() -> None:
    article = extract(_text((EXAMPLES / "004_e50a90458ed870a9.txt").read_text()), REGISTRY)
    assert "Moscow-NATO talks on Ukraine also planned" in article.paragraphs
    assert article.authors == ["dvv", "fb"]


def test_sample_byline_gives_minute_precision() -> None:
    article = extract(_text((EXAMPLES / "000_587596cb32f485fd.txt").read_text()), REGISTRY)
    assert article.published == "2021-12-28T07:19:00"
    reasons = {b.reason for b in article.removed}
    assert {
        "byline",
        "photo caption",
        "newsletter prompt",
        "repeat of an earlier paragraph",
    } <= reasons


# --------------------------------------------------------------------------- other styles

REUTERS_STYLE = (FIXTURES / "reuters_style.txt").read_text()


def test_reuters_style_dateline_and_reporting_credits() -> None:
    article = extract(_text(REUTERS_STYLE), REGISTRY)
    assert article.title == "Kremlin says it is ready for security talks with Washington"
    assert article.wire_agencies == ["Reuters"]
    assert article.body.startswith("MOSCOW (Reuters) - The Kremlin said")  # the dateline stays
    assert "Reporting by" not in article.body
    assert "Jane Roe" in article.authors
    assert "Interfax news agency quoted" in article.body
    assert not any(line in article.paragraphs for line in ("Home", "World", "Business"))


AP_STYLE = (FIXTURES / "ap_style.txt").read_text()


def test_ap_style_with_photo_line_and_us_dates() -> None:
    article = extract(_text(AP_STYLE), REGISTRY)
    assert article.title == "Storm knocks out power to thousands across the Midwest"
    assert article.published == "2021-12-28"
    assert article.wire_agencies == ["AP"]
    assert "Photo:" not in article.body
    assert "Share" not in article.paragraphs and "Advertisement" not in article.paragraphs
    assert "Copyright" not in article.body
    assert len(article.paragraphs) == 3


GERMAN_STYLE = (FIXTURES / "german_dpa.txt").read_text()


def test_german_article_with_photo_credit_and_dpa_signoff() -> None:
    article = extract(_text(GERMAN_STYLE), REGISTRY)
    assert article.title == "USA und Russland verhandeln im Januar über Sicherheit"
    assert article.published == "2021-12-28T07:19:00"
    assert article.wire_agencies == ["dpa"]  # "wie ... Reuters berichtete" is a citation
    assert "Foto:" not in article.body and "Startseite" not in article.body
    assert "Newsletter" not in article.body
    assert (
        article.paragraphs[-1] == "Die Nato hat Russland zudem Gespräche am 12. Januar angeboten."
    )
    assert article.language == "de"


BLOG_STYLE = (FIXTURES / "blog_newsletter.txt").read_text()


def test_blog_with_newsletter_prompts_keeps_crosshead() -> None:
    article = extract(_text(BLOG_STYLE), REGISTRY)
    assert article.title == "Why local newsrooms are betting on newsletters"
    assert article.published == "2022-03-03"
    assert "What the numbers say" in article.paragraphs  # crosshead kept
    for furniture in (
        "Skip to",
        "Subscribe",
        "Enter your email",
        "cookies",
        "Leave a comment",
        "Tags:",
    ):
        assert furniture not in article.body, furniture
    assert len(article.paragraphs) == 3
    assert article.wire_agencies == []


def test_citations_of_agencies_are_not_credits() -> None:
    text = (
        "Talks planned for January\n\n"
        "A White House official told AFP on Monday that the talks would go ahead as planned.\n\n"
        "TASS news agency quoted the Foreign Ministry as saying it was considering the offer.\n\n"
        "The RIA news agency reported that the meeting would be held in Geneva next month.\n"
    )
    article = extract(_text(text), REGISTRY)
    assert article.wire_agencies == []
    assert len(article.paragraphs) == 3


# ------------------------------------------------------------- hints, boilerplate, errors


def test_hints_win_over_inferred_values() -> None:
    raw = _text(
        (EXAMPLES / "004_e50a90458ed870a9.txt").read_text(),
        title="US and Russia to hold talks on January 10, official says",
        published="2021-12-29T10:00:00+00:00",
        outlet="deutsche welle",
        language="en-GB",
        authors=["Some Author"],
    )
    article = extract(raw, REGISTRY)
    assert article.published == "2021-12-29T10:00:00+00:00"
    assert article.outlet == "DW"  # the hint, made canonical
    assert article.language == "en"
    assert article.authors == ["Some Author"]
    assert "US and Russia to hold talks on January 10" not in article.body


def test_url_gives_outlet_ids_and_canonical_url() -> None:
    from storyline import ids

    content = (
        "A headline for the test\n\n"
        + "This paragraph is real article text with enough words to count. " * 3
    )
    raw = _text(content, url="https://www.dw.com/en/some-story/a-1?utm_source=x")
    article = extract(raw, REGISTRY)
    assert article.outlet == "DW"
    assert article.id == ids.article_id(raw.url, content)
    assert article.canonical_url == ids.canonical_url(raw.url)
    assert article.content_hash == ids.content_hash(article.body)


def test_known_boilerplate_lines_are_removed() -> None:
    promo = "Listen to our daily podcast on your favourite app"
    content = (
        "A headline for the test\n\n"
        "This paragraph is real article text with enough words to count as prose.\n\n"
        f"{promo}\n\n"
        "And a second paragraph that is also real article text and stays in place.\n"
    )
    raw = _text(content)
    assert promo in extract(raw, REGISTRY).body
    fingerprints = line_fingerprints(raw)
    assert line_fingerprint(promo) in fingerprints
    article = extract(raw, REGISTRY, known_boilerplate={line_fingerprint(promo)})
    assert promo not in article.body
    assert any(b.text == promo and "boilerplate" in b.reason for b in article.removed)


def test_fingerprints_ignore_numbers_and_case() -> None:
    assert line_fingerprint("Updated 28-12-2021 07:19") == line_fingerprint(
        "updated 01-01-2022 10:45"
    )
    assert line_fingerprint("Read more") != line_fingerprint("Read less")


@pytest.mark.parametrize("content", ["", "   \n\n  "])
def test_empty_content_is_an_error(content: str) -> None:
    with pytest.raises(ExtractionError, match="empty"):
        extract(_text(content), REGISTRY)


def test_page_of_only_furniture_is_an_error() -> None:
    with pytest.raises(ExtractionError, match="no article text"):
        extract(_text("Skip to content\nShare\nPrint\nSubscribe to our newsletter\n"), REGISTRY)


def test_hard_wrapped_lines_are_joined() -> None:
    text = (
        "A headline for a wrapped text\n\n"
        "The committee met on Tuesday to discuss the budget for the coming\n"
        "year, and members agreed that spending on schools would rise by\n"
        "five percent while other items stayed the same as last year.\n"
    )
    article = extract(_text(text), REGISTRY)
    assert len(article.paragraphs) == 1
    assert "coming year, and members" in article.body


# --------------------------------------------------------------------------- properties

_WORDS = st.sampled_from(
    [
        "the",
        "a",
        "council",
        "river",
        "budget",
        "school",
        "road",
        "water",
        "plan",
        "city",
        "week",
        "report",
        "people",
        "office",
        "money",
        "market",
        "farmer",
        "teacher",
        "doctor",
        "station",
        "bridge",
        "energy",
        "price",
        "court",
        "vote",
    ]
)
_PARAGRAPH = st.lists(_WORDS, min_size=13, max_size=40).map(
    lambda ws: " ".join(ws).capitalize() + "."
)
_FURNITURE = st.sampled_from(
    [
        "Skip to content",
        "Share",
        "Advertisement",
        "Read more",
        "Subscribe to our newsletter",
        "Photo: Jane Doe/AFP",
        "3 min read",
        "We use cookies. Accept all cookies to continue.",
        "Home > News > World",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paragraphs=st.lists(_PARAGRAPH, min_size=1, max_size=8, unique=True),
    furniture=st.lists(_FURNITURE, max_size=6),
    seed=st.randoms(use_true_random=False),
)
def test_real_paragraphs_survive_and_furniture_goes(paragraphs, furniture, seed) -> None:  # type: ignore[no-untyped-def]
    blocks = paragraphs + furniture
    seed.shuffle(blocks)
    text = "\n\n".join(blocks)
    result = clean_text(text, REGISTRY)
    for paragraph in paragraphs:
        assert paragraph in result.paragraphs
    for line in furniture:
        assert line not in result.paragraphs
    assert len(result.body) <= len(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400))
def test_cleaner_never_adds_text(text: str) -> None:
    result = clean_text(text, REGISTRY)
    visible = lambda s: re.sub(r"\s", "", s)  # noqa: E731
    assert len(visible(result.body)) <= len(visible(text))
    for paragraph in result.paragraphs:
        # every paragraph is made of the input's own lines
        assert all(part in " ".join(text.split()) for part in paragraph.split(" ") if part)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Zl", "Zp", "Cc")),
            max_size=80,
        ),
        max_size=12,
    )
)
def test_blank_line_separated_text_never_grows(lines: list[str]) -> None:
    text = "\n\n".join(lines)
    assert len(clean_text(text, REGISTRY).body) <= len(text)
