"""Quotes and reported speech: constructions from the issue, on our own sentences."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from storyline.analyse.quotes import Quote, merge_story_quotes, quote_spans, same_quote

SEEDS = Path(__file__).resolve().parents[2] / "src" / "storyline" / "examples"
EXPECTED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "expected.json"


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


# ------------------------------------------------------------------ PolNeAR-driven rules


def test_quote_spans_read_ascii_double_apostrophes_as_quotation_marks():
    text = "He said ''we are ready,'' and left. Then ``it is over'' came."
    spans = quote_spans(text)
    assert [text[s:e] for s, e in spans] == ["''we are ready,''", "``it is over''"]


def test_quote_in_ascii_marks_is_attributed(nlp):
    quotes = analyse(nlp, "''The bridge will reopen in the spring,'' said Mayor Ann Lee.")
    quote = find(quotes, "bridge will reopen")
    assert quote.direct and quote.speaker == "Ann Lee"
    assert not quote.text.startswith("'") and not quote.text.endswith("'")


def test_quote_credited_after_a_dash(nlp):
    text = (
        "Readers told us what they thought.\n\n"
        "“The new law will hurt small farms across the valley.” ― Maria Gomez\n"
        "“Nobody asked the people who live here.” ― Tom Baker"
    )
    quotes = analyse(nlp, text)
    assert find(quotes, "hurt small farms").speaker_mention == "Maria Gomez"
    assert find(quotes, "Nobody asked").speaker_mention == "Tom Baker"


def test_transcript_speaker_label_inside_an_opening_quote(nlp):
    text = '"HARRIS: We have to fund the schools before anything else this year.'
    quote = find(analyse(nlp, text), "fund the schools")
    assert quote.speaker_mention == "HARRIS"


def test_colon_cue_takes_the_next_paragraph(nlp):
    text = (
        "The mayor spoke at length.\n\nThe Daily Courier reports:\n\n"
        '"Only a third of the money reached the districts that needed it most."\n\nOther news.'
    )
    quote = find(analyse(nlp, text), "Only a third")
    assert quote.speaker_mention == "The Daily Courier" and quote.direct
    text = "It went badly.\n\nLee added:\n\nAnd from a front-runner, this smells of panic.\n\nEnd."
    quote = find(analyse(nlp, text), "smells of panic")
    assert quote.speaker_mention == "Lee"


def test_inverted_cue_followed_by_a_subordinate_clause(nlp):
    text = (
        "The drought has badly hurt the farmers in the north, Smith said, "
        "since most of them depend on the river."
    )
    quote = find(analyse(nlp, text), "drought has badly hurt")
    assert quote.speaker_mention == "Smith"
    assert "since" not in quote.text


def test_second_quote_after_a_long_cue_clause_continues_the_speaker(nlp):
    text = (
        "“I thought she was the most capable person in the room,” he said, as he traced "
        "her career from the law school in the city to her early work on behalf of "
        "children and the poor in the rural counties. “She had not been elected to "
        "anything, but everything she touched became better.”"
    )
    quotes = analyse(nlp, text)
    assert find(quotes, "everything she touched").kind == "continuation"


def test_clause_hanging_in_a_statement_phrase(nlp):
    text = "The chief strategist says in a statement that the race will now be a contest of four."
    quote = find(analyse(nlp, text), "the race will now be")
    assert quote.speaker_mention == "The chief strategist"


def test_speech_verb_with_an_infinitive_and_prepositional_cues(nlp):
    quotes = analyse(nlp, "The governor vowed to veto the budget bill.")
    assert find(quotes, "veto the budget bill").speaker_mention == "The governor"
    quotes = analyse(nlp, "The senator talked about the cost of the new hospital.")
    assert find(quotes, "the cost of the new hospital").speaker_mention == "The senator"


def test_cognition_verb_object_is_not_content(nlp):
    quotes = analyse(nlp, "The police found the money in a locker.")
    assert not [q for q in quotes if "money" in q.text]


def test_cue_noun_with_possessor_source(nlp):
    quotes = analyse(nlp, "The union's criticism of the new contract was harsh.")
    quote = find(quotes, "the new contract")
    assert quote.speaker_mention == "The union's" or quote.speaker_mention == "The union"
    quotes = analyse(nlp, "Critics dismissed the claim that the plant is safe.")
    assert any(q.cue == "claim" and q.text == "that the plant is safe" for q in quotes)


def test_seems_to_is_an_unsourced_judgement(nlp):
    quotes = analyse(nlp, "The minister seemed to have a different set of rules for his friends.")
    quote = find(quotes, "a different set of rules")
    assert quote.speaker is None and quote.kind == "stance"


def test_source_span_keeps_age_and_relative_clause(nlp):
    text = "Ann Ramos, 58, who lives in Miami, said the storm was the worst she had seen."
    quote = find(analyse(nlp, text), "the worst she had seen")
    assert quote.speaker_mention == "Ann Ramos, 58, who lives in Miami"
    assert quote.speaker == "Ann Ramos"


def test_source_span_stops_at_a_line_break(nlp):
    text = "Live updates\n\n11:05 a.m.\n\nSenator Ann Lee says the vote will be delayed."
    quote = find(analyse(nlp, text), "the vote will be delayed")
    assert quote.speaker_mention == "Senator Ann Lee"


def test_coarse_pos_matches_the_attribute_ruler(nlp):
    import spacy

    from storyline.analyse.nlp import UNUSED_COMPONENTS, model_name

    reference = spacy.load(model_name(), exclude=list(UNUSED_COMPONENTS))
    text = (
        "There is a plan that he did not like, but he has said that those who knew "
        "something would have told us. That was it; they do what they say."
    )
    assert "storyline_coarse_pos" not in reference.pipe_names
    ours, theirs = nlp(text), reference(text)
    assert [t.pos_ for t in ours] == [t.pos_ for t in theirs]


# ---------------------------------------------------------- general fixes (PolNeAR error analysis)


def test_nearest_subject_wins_over_a_timestamp_line(nlp):
    text = "Live updates\n\n12:15 p.m.\n\nDonald Trump says political correctness has run amok."
    quote = find(analyse(nlp, text), "political correctness")
    assert quote.speaker_mention == "Donald Trump"


def test_source_stops_before_a_set_off_participle(nlp):
    text = "Trump, speaking to a veterans group in Virginia, said the plan was dead."
    quote = find(analyse(nlp, text), "the plan was dead")
    assert quote.speaker_mention == "Trump"


def test_source_starts_after_a_dateline_dash(nlp):
    text = "NEW YORK (AFP) - Vice President Joe Biden said the talks would resume on Monday."
    quote = find(analyse(nlp, text), "the talks would resume")
    assert quote.speaker_mention == "Vice President Joe Biden"
    assert quote.speaker == "Joe Biden"


def test_cue_forms_double_the_final_consonant():
    from storyline.analyse.quotes import CUE_LEMMAS

    assert CUE_LEMMAS["referring"] == "refer"
    assert CUE_LEMMAS["planned"] == "plan"
    assert CUE_LEMMAS["agreeing"] == "agree"
    assert CUE_LEMMAS["sought"] == "seek"
    assert "refering" not in CUE_LEMMAS


def test_referring_to_is_a_cue(nlp):
    quotes = analyse(nlp, "The senator was referring to the budget plan of the governor.")
    quote = find(quotes, "the budget plan")
    assert quote.cue is not None and quote.cue.endswith("referring to")


def test_mined_stance_verb_takes_its_object(nlp):
    quotes = analyse(nlp, "Governor Ann Lee denounced the court ruling as a betrayal of voters.")
    quote = find(quotes, "the court ruling")
    assert quote.cue == "denounced" and quote.speaker == "Ann Lee"


def test_reportedly_marks_an_unsourced_clause(nlp):
    quotes = analyse(nlp, "The company is reportedly planning to cut 500 jobs in Ohio.")
    quote = find(quotes, "planning to cut 500 jobs")
    assert quote.cue == "reportedly" and quote.speaker is None
    assert quote.text.startswith("The company")


def test_seemed_with_an_adjective_after_a_headline_line(nlp):
    text = "Market report\n\nThe investors seemed unperturbed by the news."
    quote = find(analyse(nlp, text), "unperturbed")
    assert quote.cue == "seemed" and quote.text.startswith("The investors")


def test_agentless_passive_of_thinking_is_a_judgement(nlp):
    quotes = analyse(nlp, "The senator is widely seen as the favourite to win the primary.")
    quote = find(quotes, "the favourite")
    assert quote.cue == "seen" and quote.speaker is None


def test_speaker_inherited_through_by_saying(nlp):
    quotes = analyse(nlp, "The mayor responded by saying that the budget was balanced.")
    quote = find(quotes, "the budget was balanced")
    assert quote.speaker_mention == "The mayor"


# ------------------------------------------------------------------ selective parsing


def test_rough_sentences_split_at_end_marks_and_line_breaks(nlp):
    from storyline.analyse.nlp import rough_sentences

    doc = nlp.make_doc('Mr. Lee left. "We won," she said!\n\nNext part')
    spans = [doc[s:e].text for s, e in rough_sentences(doc)]
    assert spans == ["Mr. Lee left.", '"We won," she said!', "\n\n", "Next part"]


def test_may_hold_attribution_needs_a_cue_or_a_quotation_mark(nlp):
    from storyline.analyse.quotes import may_hold_attribution

    doc = nlp.make_doc('The bridge opened in 1932. Officials said it was safe. "Wow."')
    first, second, third = doc[0:6], doc[6:12], doc[12:]
    assert not may_hold_attribution(first)
    assert may_hold_attribution(second)
    assert may_hold_attribution(third)


def test_selective_parse_keeps_ner_everywhere_and_parses_cue_sentences(nlp):
    from storyline.analyse.nlp import parse_selectively
    from storyline.analyse.quotes import may_hold_attribution

    text = (
        "Angela Merkel visited Paris on Monday. "
        "The chancellor said the talks with Emmanuel Macron were useful."
    )
    (doc,) = parse_selectively([text], nlp, may_hold_attribution)
    assert {"Angela Merkel", "Paris", "Emmanuel Macron"} <= {e.text for e in doc.ents}
    # The first sentence has no cue: a flat tree, no tags; the second is parsed.
    assert [t.dep_ for t in doc[:7]] == ["ROOT"] + ["dep"] * 6
    assert all(t.tag_ == "" for t in doc[:7])
    said = next(t for t in doc if t.text == "said")
    assert said.tag_ == "VBD" and any(c.dep_ == "ccomp" for c in said.children)
    assert len(list(doc.sents)) == 2


def test_selective_and_full_parse_find_the_same_quotes(nlp):
    from storyline.analyse.citations import analyse_people

    text = (
        "The storm hit the coast overnight.\n\n"
        '"We have never seen anything like it," said Mayor Ann Lee.\n\n'
        "Power was restored by noon. According to the utility, 3,000 homes lost power."
    )
    selective, full = (
        analyse_people([text, text], nlp)[0],
        analyse_people([text], nlp, full_parse=True)[0],
    )
    assert [(q.text, q.speaker) for q in selective.quotes] == [
        (q.text, q.speaker) for q in full.quotes
    ]
    assert find(selective.quotes, "never seen anything").speaker == "Ann Lee"
