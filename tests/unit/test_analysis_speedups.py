"""The analysis stage's shortcuts (issue #5) give what the plain computation gives."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from storyline.analyse import events as events_module
from storyline.analyse import quotes as quotes_module
from storyline.analyse.citations import analyse_people, parse_for_people
from storyline.analyse.entities import doc_entities
from storyline.analyse.events import extract_events
from storyline.analyse.nlp import doc_text
from storyline.analyse.timex import tag_times

ARTICLE = (
    "Mayor Joan Ortiz said on Tuesday that the city would close two bridges in March.\n\n"
    "\u201cWe have no other choice,\u201d Ortiz told reporters at City Hall. "
    "The transport agency, according to a spokesman, expects delays of up to an hour.\n\n"
    "Critics seem unconvinced. Residents are widely seen as the losers, and the plan is "
    "reportedly under review. There is a fear that the repairs will take longer: "
    "an engineer warned that the steel was older than the records show.\n\n"
    "The council voted 7-2 on Monday to approve the budget, officials said."
)
OTHER = (
    "There is nothing to add, the minister told Reuters on Friday. Police in Lyon "
    "arrested three men, a prosecutor said, and charged them with fraud."
)


def test_doc_text_is_the_docs_text_joined_once(nlp):
    doc = nlp.make_doc(ARTICLE)
    first = doc_text(doc)
    assert first == doc.text == ARTICLE
    assert doc_text(doc) is first


def test_coarse_pos_from_the_memo_is_what_the_attribute_ruler_gives(nlp):
    import spacy

    from storyline.analyse.nlp import UNUSED_COMPONENTS, model_name

    reference = spacy.load(model_name(), exclude=list(UNUSED_COMPONENTS))
    # The second and third texts meet combinations the first one put in the memo.
    for text in (OTHER, ARTICLE, OTHER + " " + ARTICLE):
        ours, theirs = nlp(text), reference(text)
        assert [t.pos_ for t in ours] == [t.pos_ for t in theirs], text


def test_matrix_products_through_numpy_give_the_same_analyses(nlp):
    """Tags, trees and entities as with thinc's own BLIS products."""
    import spacy

    from storyline.analyse.nlp import UNUSED_COMPONENTS, model_name

    ner_ops = nlp.get_pipe("ner").model.ops
    if getattr(ner_ops, "use_blis", True):
        pytest.skip("threadpoolctl is not installed: products left to BLIS")
    reference = spacy.load(model_name(), exclude=list(UNUSED_COMPONENTS))
    assert reference.get_pipe("ner").model.ops.use_blis
    for text in (ARTICLE, OTHER):
        ours, theirs = nlp(text), reference(text)
        assert [(t.tag_, t.dep_, t.head.i) for t in ours] == [
            (t.tag_, t.dep_, t.head.i) for t in theirs
        ]
        assert [(e.start, e.end, e.label_) for e in ours.ents] == [
            (e.start, e.end, e.label_) for e in theirs.ents
        ]


def test_rule_prefilter_keeps_exactly_the_tokens_that_meet_the_condition(nlp):
    doc = next(iter(parse_for_people([ARTICLE], nlp)))
    words = quotes_module._CUE_WORDS
    assert quotes_module._tokens_with(doc, lowers=words) == [t for t in doc if t.lower_ in words]
    verbal = quotes_module._tokens_with(
        doc, pos=frozenset({"VERB", "AUX"}), texts=frozenset({":"}), parsed=True
    )
    expected = [t for t in doc if t.tag_ and (t.pos_ in {"VERB", "AUX"} or t.text == ":")]
    assert verbal == expected
    assert any(t.text == ":" for t in verbal)  # the colon of the fixture is in a parsed sentence


def test_quotes_with_the_prefilter_are_those_of_a_full_token_scan(nlp, monkeypatch):
    """The rules see only prefiltered tokens; scanning every token (what they did
    before) finds the same attributions."""
    texts = [ARTICLE, OTHER]
    fast = [a.to_dict() for a in analyse_people(texts, nlp)]
    assert any(q["speaker"] for a in fast for q in a["quotes"])
    monkeypatch.setattr(quotes_module, "_tokens_with", lambda doc, **_: list(doc))
    assert [a.to_dict() for a in analyse_people(texts, nlp)] == fast


def test_events_compute_participants_only_for_clauses_with_an_event(nlp, monkeypatch):
    published = "2024-05-07T10:00:00"
    doc = next(iter(parse_for_people([ARTICLE], nlp)))
    entities = [(m.text, m.label) for m in doc_entities(doc)]
    times = tag_times(ARTICLE, published)
    calls: list[str] = []
    participants = events_module._participants

    def counting(clause, found_entities, time_spans):
        calls.append(clause)
        return participants(clause, found_entities, time_spans)

    monkeypatch.setattr(events_module, "_participants", counting)
    found = extract_events(ARTICLE, published, times, entities)
    assert found, "the fixture has dated clauses"
    assert sorted(set(calls)) == sorted({e.text for e in found})
    for event in found:
        spans = [
            (t.start - event.start, t.end - event.start)
            for t in times
            if event.start <= t.start and t.end <= event.end
        ]
        assert (event.participants, event.place) == participants(event.text, entities, spans)
    assert any("Ortiz" in " ".join(e.participants) for e in found)
    assert all(asdict(e)["keywords"] for e in found)
