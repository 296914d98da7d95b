"""Cited sources and source chains."""

from __future__ import annotations

from storyline.analyse.citations import (
    Citation,
    PeopleAnalysis,
    analyse_people,
    merge_story_citations,
    story_people,
)


def citations_of(nlp, text: str) -> list[Citation]:
    return analyse_people([text], nlp)[0].citations


def test_agency_reporting_a_ministry_gives_a_chain(nlp):
    text = (
        "The Interior Ministry on Monday confirmed the arrests, the Interfax news agency reported."
    )
    chains = [(c.source, c.via) for c in citations_of(nlp, text)]
    assert ("Interior Ministry", ["Interfax news agency"]) in chains or (
        "Interior Ministry",
        ["Interfax"],
    ) in chains, chains


def test_quoted_as_saying_gives_a_chain(nlp):
    text = (
        "The border will stay closed until Friday, the Xinhua news agency quoted "
        "the Foreign Ministry as saying."
    )
    chains = [(c.source, c.via) for c in citations_of(nlp, text)]
    assert any(
        source == "Foreign Ministry" and via and "Xinhua" in via[0] for source, via in chains
    ), chains


def test_direct_source_has_no_chain(nlp):
    text = "The bridge will reopen next week, the city council said."
    citations = citations_of(nlp, text)
    assert [(c.source, c.via) for c in citations] == [("city council", None)]


def test_wire_credit_is_not_a_cited_source(nlp):
    text = "The storm damaged hundreds of homes along the coast.\n\n(AFP, Reuters)"
    assert citations_of(nlp, text) == []


def test_bad_input_is_an_error_for_that_item_only(nlp):
    results = analyse_people(["The mayor said the roads were open.", None], nlp)  # type: ignore[list-item]
    assert results[0].error is None and results[0].quotes
    assert results[1].error is not None


def test_analysis_round_trips_through_a_dict(nlp):
    analysis = analyse_people(["Senator Ann Lee said the vote would be close."], nlp)[0]
    again = PeopleAnalysis.from_dict(analysis.to_dict())
    assert again == analysis


def test_story_export_fields():
    a = Citation("Foreign Ministry", ["TASS"], "quoted", 0, 10)
    b = Citation("Foreign Ministry", ["TASS"], "quoted", 5, 20)
    merged = merge_story_citations({"x": [a], "y": [b]})
    assert [(c.source, c.via, c.article_ids) for c in merged] == [
        ("Foreign Ministry", ["TASS"], ["x", "y"])
    ]
    story = story_people(
        [PeopleAnalysis(citations=[a]), PeopleAnalysis(citations=[b])], ["A", "B"], ["x", "y"]
    )
    assert set(story) == {"actors", "quotes", "cited_sources"}
    assert story["cited_sources"] == [
        {"source": "Foreign Ministry", "via": ["TASS"], "article_ids": ["x", "y"]}
    ]
