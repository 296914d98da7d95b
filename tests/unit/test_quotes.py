"""Quotes and reported speech: constructions from the issue, on our own sentences."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from storyline.analyse.quotes import Quote, merge_story_quotes, quote_spans, same_quote

SEEDS = Path(__file__).resolve().parents[2] / "src" / "storyline" / "examples"
EXPECTED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "expected.json"


@pytest.fixture(scope="module")
def nlp():
    from storyline.analyse.nlp import ModelUnavailable, load_nlp

    try:
        return load_nlp()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))


def analyse(nlp, text: str) -> list[Quote]:
    from storyline.analyse.entities import doc_entities
    from storyline.analyse.quotes import extract_quotes

    doc = nlp(text)
    return extract_quotes(doc, doc_entities(doc))


def find(quotes: list[Quote], words: str) -> Quote:
    for quote in quotes:
        if words in quote.text:
            return quote
    raise AssertionError(f"no quote containing {words!r} in {[q.text for q in quotes]}")


# ------------------------------------------------------------------ quote marks (no model)


def test_quote_spans_pairs_curly_and_straight_marks():
    text = 'He said “one two” and then "three four" again.'
    spans = quote_spans(text)
    assert [text[s:e] for s, e in spans] == ["“one two”", '"three four"']


def test_quote_spans_run_over_paragraphs_when_the_next_one_reopens():
    text = "“First paragraph of the quote.\n\n“Second paragraph,” she said.\n\nNext."
    spans = quote_spans(text)
    assert len(spans) == 1
    s, e = spans[0]
    assert text[s:e].startswith("“First") and text[s:e].endswith("paragraph,”")


def test_quote_spans_close_an_unclosed_quote_at_the_paragraph_end():
    text = "“Never closed here\n\nPlain paragraph."
    spans = quote_spans(text)
    assert [text[s:e] for s, e in spans] == ["“Never closed here"]


def test_same_quote_tolerates_trimmed_copies_but_not_other_words():
    a = "The plan will be signed next week, and we look forward to it"
    assert same_quote(a, "the plan will be signed next week")
    assert not same_quote(a, "The budget will be cut next year by a third")


def test_merge_story_quotes_lists_every_outlet_once():
    q1 = Quote(
        "We look forward to engaging with our partners",
        0,
        10,
        "spokesperson",
        "unnamed",
        "said",
        True,
    )
    q2 = Quote(
        "We look forward to engaging with our partners.", 0, 10, "Jane Roe", "person", "told", True
    )
    q3 = Quote(
        "Something else entirely was said about the budget", 0, 10, None, "unknown", None, False
    )
    merged = merge_story_quotes({"a1": [q1, q3], "a2": [q2]}, {"a1": "Outlet A", "a2": "Outlet B"})
    assert len(merged) == 2
    shared = next(m for m in merged if "engaging" in m.text)
    assert shared.outlets == ["Outlet A", "Outlet B"]
    assert shared.article_ids == ["a1", "a2"]
    assert shared.speaker == "Jane Roe"  # the named speaker beats a description


# ------------------------------------------------------------------ constructions (model)


def test_direct_quote_with_inverted_cue_and_canonical_speaker(nlp):
    text = (
        "Finance Minister Maria Lopez spoke on Monday.\n\n"
        "“The budget is balanced and the deficit is shrinking,” Lopez said."
    )
    quote = find(analyse(nlp, text), "budget is balanced")
    assert quote.direct and quote.cue == "said"
    assert quote.speaker == "Maria Lopez" and quote.speaker_type == "person"


def test_quote_spanning_sentences_is_one_quote(nlp):
    text = "“We will not give up. The talks will go on until we agree,” the minister said."
    quotes = analyse(nlp, text)
    quote = find(quotes, "We will not give up")
    assert "until we agree" in quote.text and quote.direct
    assert quote.speaker == "minister" and quote.speaker_type == "unnamed"


def test_continuation_paragraph_keeps_the_speaker(nlp):
    text = (
        "“Our factories are running at full capacity,” said Anna Berg, the chief executive.\n\n"
        "“We expect to hire two hundred more workers before the summer.”\n\n"
        "Shares rose by three percent."
    )
    quotes = analyse(nlp, text)
    continued = find(quotes, "two hundred more workers")
    assert continued.direct and continued.speaker == "Anna Berg"
    assert not any("Shares rose" in q.text for q in quotes)


def test_partial_quote_inside_reported_speech(nlp):
    text = (
        "Mark Chen said the new rules were “a disaster for small farmers” and should be withdrawn."
    )
    quote = find(analyse(nlp, text), "disaster for small farmers")
    assert quote.partial and not quote.direct
    assert quote.speaker == "Mark Chen"


def test_indirect_speech_said_that(nlp):
    text = "Prime Minister Olaf Brandt said that the border would reopen on Friday."
    quote = find(analyse(nlp, text), "border would reopen")
    assert not quote.direct and quote.cue == "said" and quote.speaker == "Olaf Brandt"


def test_according_to(nlp):
    text = "The factory will close in March, according to the European Commission."
    quote = find(analyse(nlp, text), "factory will close")
    assert quote.cue == "according to"
    assert quote.speaker == "European Commission" and quote.speaker_type == "organisation"


def test_added_and_unnamed_source_carried_across_paragraphs(nlp):
    text = (
        "The talks will start in June, a spokesperson for the Ministry of Defence said.\n\n"
        "The meeting is scheduled for Geneva, the spokesperson added."
    )
    quotes = analyse(nlp, text)
    first = find(quotes, "talks will start")
    second = find(quotes, "meeting is scheduled")
    assert first.speaker == "spokesperson for the Ministry of Defence"
    assert first.speaker_type == "unnamed"
    assert second.cue == "added" and second.speaker == first.speaker


def test_senior_official_is_an_unnamed_source(nlp):
    text = "The deal is close, a senior government official said on condition of anonymity."
    quote = find(analyse(nlp, text), "deal is close")
    assert quote.speaker == "senior government official" and quote.speaker_type == "unnamed"


def test_pronoun_speaker_resolves_to_previous_person(nlp):
    text = (
        "Senator Laura Hayes criticised the plan on Tuesday.\n\n"
        "She said the measure would raise prices for families."
    )
    quote = find(analyse(nlp, text), "raise prices")
    assert quote.speaker == "Laura Hayes"


def test_colon_introduces_a_quote(nlp):
    text = "The mayor told reporters: “We are ready for the storm and the shelters are open.”"
    quote = find(analyse(nlp, text), "ready for the storm")
    assert quote.direct and quote.speaker == "mayor"


def test_text_without_attribution_gives_no_quotes(nlp):
    text = "The river rose by two metres overnight. Roads in the valley were closed."
    assert analyse(nlp, text) == []


# ------------------------------------------------------------------ sample articles


def _sample_bodies() -> dict[str, str]:
    """Sample article bodies with the page furniture expected.json names removed."""
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    bodies = {}
    for name, facts in expected["articles"].items():
        raw = (SEEDS / name).read_text(encoding="utf-8")
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", raw) if p.strip()]
        furniture = facts["body_must_not_contain"]
        kept = [p for p in paragraphs if not any(f in p for f in furniture)]
        bodies[name] = "\n\n".join(kept)
    return bodies


def _matches(item: str, value: str) -> bool:
    return any(alt.casefold() in value.casefold() for alt in item.split("|"))


def test_sample_articles_quotes_speakers_and_actors(nlp):
    from storyline.analyse.citations import analyse_people, story_people

    if not EXPECTED.exists():
        pytest.skip(f"sample expectations not found at {EXPECTED}")
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    bodies = _sample_bodies()
    names = list(bodies)
    outlets = [expected["articles"][n]["outlet"] for n in names]
    story = story_people(analyse_people([bodies[n] for n in names], nlp), outlets, names)
    json.dumps(story)  # the export is JSON-serialisable

    def norm(s: str) -> str:
        return " ".join(re.findall(r"\w+", s.casefold()))

    for wanted in expected["quotes"]:
        hits = [q for q in story["quotes"] if norm(wanted["text"]) in norm(q["text"])]
        assert len(hits) == 1, (wanted["text"], [q["text"] for q in story["quotes"]])
        quote = hits[0]
        for item in wanted["speaker"]:
            assert _matches(item, quote["speaker"] or ""), (item, quote)
        assert sorted(quote["outlets"]) == sorted(wanted["outlets"])
    actor_names = [" / ".join([a["name"], *a["aliases"]]) for a in story["actors"]]
    for wanted_actor in expected["actors"]:
        assert any(
            any(
                alt.casefold() in {n.casefold() for n in [a["name"], *a["aliases"]]}
                for alt in wanted_actor.split("|")
            )
            for a in story["actors"]
        ), (wanted_actor, actor_names)
