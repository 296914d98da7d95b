"""Shared passages: wire copy two articles both ran, verbatim or lightly edited."""

from __future__ import annotations

import json
import random
import re
from importlib import resources

import pytest

from storyline.eval import data_dir
from storyline.link.passages import (
    SharedPassage,
    passages_by_article,
    prepare,
    shared_passages,
)

EURACTIV = "000_587596cb32f485fd.txt"
DW = "004_e50a90458ed870a9.txt"

WIRE_PARAGRAPH = (
    "The foreign ministry said the delegation would arrive in the capital on Thursday for "
    "three days of talks on grain exports, shipping routes through the strait and the "
    "release of detained sailors, adding that no agreement was expected before the weekend."
)
OWN_OPENING = (
    "Our correspondent in the region reports that markets reacted calmly to the news, with "
    "traders saying prices had already priced in a long stalemate between the two capitals."
)
OTHER_OPENING = (
    "Farmers in the south have been waiting for months for the harbours to reopen, and many "
    "have stored last year's harvest in schools and warehouses rented from the municipality."
)
SECOND_WIRE_PARAGRAPH = (
    "A spokesman for the port authority told reporters that at least forty vessels were still "
    "waiting at anchor and that inspections would resume as soon as the weather improved."
)


def _example(name: str) -> str:
    return (resources.files("storyline") / "examples" / name).read_text(encoding="utf-8")


def _squash(text: str) -> str:
    # Outlets differ in spacing (a no-break space in one copy): compare words, not spaces.
    return re.sub(r"\s+", " ", text)


def _assert_offsets(a: str, b: str, passages: list[SharedPassage]) -> None:
    for p in passages:
        assert a[p.a_start : p.a_end] == p.a_text
        assert b[p.b_start : p.b_end] == p.b_text
        assert 0.0 < p.similarity <= 1.0


def test_sample_articles_share_the_three_wire_passages() -> None:
    euractiv, dw = _example(EURACTIV), _example(DW)
    expected = [
        "The United States looks forward to engaging with Russia",
        "When we sit down to talk, Russia can put its concerns on the table and we will put "
        "our concerns on the table with Russia's activities as well",
        "saying the troop movements are to defend Russia against an encroaching Western military",
    ]
    found = shared_passages(euractiv, dw)
    _assert_offsets(euractiv, dw, found)
    for quote in expected:
        assert any(quote in _squash(p.a_text) and quote in _squash(p.b_text) for p in found), quote
    # The rewritten lede ("will hold much-anticipated talks" / "are set to hold dialogue")
    # shares only short phrases, so it is not reported as a shared passage.
    assert not any("much-anticipated" in p.a_text for p in found)


def test_sample_expected_json_agrees_when_present() -> None:
    seeds = data_dir().parent / "seeds" / "expected.json"
    if not seeds.exists():
        pytest.skip(f"{seeds} not found (set STORYLINE_DATA to the shared data folder)")
    expected = json.loads(seeds.read_text(encoding="utf-8"))["shared_wire_passages"]
    found = shared_passages(_example(EURACTIV), _example(DW))
    for quote in expected:
        assert any(quote in _squash(p.a_text) and quote in _squash(p.b_text) for p in found), quote


def test_verbatim_paragraph_is_found_with_exact_offsets() -> None:
    a = f"{OWN_OPENING}\n\n{WIRE_PARAGRAPH}\n\nEnd of our report."
    b = f"{OTHER_OPENING}\n\n{WIRE_PARAGRAPH}"
    [p] = shared_passages(a, b)
    assert p.a_text == WIRE_PARAGRAPH
    assert p.b_text == WIRE_PARAGRAPH
    assert (p.a_start, p.b_start) == (a.index(WIRE_PARAGRAPH), b.index(WIRE_PARAGRAPH))
    assert p.similarity == 1.0


def test_lightly_edited_paragraph_is_one_passage() -> None:
    edited = (
        WIRE_PARAGRAPH.replace("capital", "city")  # one word changed
        .replace(", shipping routes through the strait", "")  # a clause dropped
    )
    a = f"{OWN_OPENING}\n\n{WIRE_PARAGRAPH}"
    b = f"{OTHER_OPENING}\n\n{edited}"
    [p] = shared_passages(a, b)
    _assert_offsets(a, b, [p])
    assert p.a_text.startswith("The foreign ministry said")
    assert p.a_text.endswith("before the weekend.")
    assert p.b_text == edited
    assert 0.8 < p.similarity < 1.0


def test_reworded_attribution_is_bridged() -> None:
    a = ('"We are ready to talk," a spokesperson for the ministry said, on condition of '
         'anonymity. "But we will not accept conditions set in advance by the other side '
         'before any meeting has even been scheduled."')
    b = ('"We are ready to talk," a spokesman for the ministry told the media. "But we will '
         'not accept conditions set in advance by the other side before any meeting has even '
         'been scheduled," the spokesperson said.')
    [p] = shared_passages(a, b)
    assert "ready to talk" in p.a_text and "been scheduled" in p.a_text
    assert "ready to talk" in p.b_text and "been scheduled" in p.b_text


def test_larger_divergence_ends_the_passage() -> None:
    inserted = ("In a long aside that no other outlet carried, the newspaper recalled the "
                "history of the dispute going back to the nineteen nineties and the failed "
                "accords signed in two different cities.")
    a = f"{WIRE_PARAGRAPH} {SECOND_WIRE_PARAGRAPH}"
    b = f"{WIRE_PARAGRAPH} {inserted} {SECOND_WIRE_PARAGRAPH}"
    found = shared_passages(a, b)
    assert [p.b_text for p in found] == [WIRE_PARAGRAPH, SECOND_WIRE_PARAGRAPH]


def test_unrelated_texts_with_common_phrases_share_nothing() -> None:
    a = ("The United States said on Monday it would send more aid to the region. Officials "
         "in Washington said on Monday that the package was worth two billion dollars and "
         "would be delivered by the end of the year.")
    b = ("Heavy rain flooded parts of the United States said on Monday the weather service, "
         "which warned of more storms. Rescuers said on Monday that dozens of homes were "
         "evacuated by the end of the day in three counties.")
    assert shared_passages(a, b) == []


def test_reordered_paragraphs_are_each_found() -> None:
    a = f"{WIRE_PARAGRAPH}\n\n{SECOND_WIRE_PARAGRAPH}"
    b = f"{SECOND_WIRE_PARAGRAPH}\n\n{OTHER_OPENING}\n\n{WIRE_PARAGRAPH}"
    found = shared_passages(a, b)
    assert [p.a_text for p in found] == [WIRE_PARAGRAPH, SECOND_WIRE_PARAGRAPH]
    assert found[0].b_start > found[1].b_start  # the order differs in b
    _assert_offsets(a, b, found)


def test_unicode_and_ascii_quotes_match_verbatim() -> None:
    ascii_text = ('"We will not leave," the mayor said. "The town\'s people deserve to know '
                  "what happened to the money that was meant for the new bridge.\"")
    curly_text = ("\u201cWe will not leave,\u201d the mayor said. \u201cThe town\u2019s people "
                  "deserve to know what happened to the money that was meant for the new "
                  "bridge.\u201d")
    [p] = shared_passages(ascii_text, curly_text)
    assert p.similarity == 1.0
    assert p.a_text == ascii_text
    assert p.b_text == curly_text
    # Case and line breaks do not matter either.
    [q] = shared_passages(ascii_text, ascii_text.upper().replace(" ", "\n"))
    assert q.similarity == 1.0


def test_min_words_drops_short_matches() -> None:
    a = "Nothing here. Talks will resume in Geneva next week. Something else entirely."
    b = "Other words. Talks will resume in Geneva next week. Not at all the same."
    assert len(shared_passages(a, b, min_words=8)) == 0
    [p] = shared_passages(a, b, min_words=5)
    assert p.a_text == "Talks will resume in Geneva next week."


def test_empty_and_tiny_texts() -> None:
    assert shared_passages("", WIRE_PARAGRAPH) == []
    assert shared_passages("Hello.", "Hello.") == []
    with pytest.raises(ValueError):
        shared_passages("a", "b", min_words=0)


def test_swapped_is_the_other_side() -> None:
    a = f"{OWN_OPENING} {WIRE_PARAGRAPH}"
    b = f"{WIRE_PARAGRAPH} {OTHER_OPENING}"
    [p] = shared_passages(a, b)
    [q] = shared_passages(b, a)
    assert p.swapped() == q


def test_passages_by_article_exports_both_sides() -> None:
    texts = {
        "x": f"{OWN_OPENING}\n\n{WIRE_PARAGRAPH}",
        "y": f"{WIRE_PARAGRAPH}\n\n{OTHER_OPENING}",
        "z": OTHER_OPENING.replace("south", "north"),
    }
    found = passages_by_article(texts)
    [x_shares] = found["x"]
    assert x_shares.with_article_id == "y"
    assert texts["x"][x_shares.start : x_shares.end] == x_shares.text == WIRE_PARAGRAPH
    assert texts["y"][x_shares.with_start : x_shares.with_end] == WIRE_PARAGRAPH
    assert {p.with_article_id for p in found["y"]} == {"x", "z"}
    assert [p.with_article_id for p in found["z"]] == ["y"]


def test_prepared_texts_give_the_same_result() -> None:
    a, b = _example(EURACTIV), _example(DW)
    assert shared_passages(prepare(a), prepare(b)) == shared_passages(a, b)


def test_two_long_mostly_shared_articles_align_as_long_passages() -> None:
    # ~1,500 words each, one word edited in two sentences of three: light edits are bridged,
    # so the shared copy comes out as a few long passages, not hundreds of fragments.
    # (Speed is measured in bench/passages_speed.py, not here.)
    rng = random.Random(5)
    vocabulary = sorted(set(re.findall(r"\w+", " ".join(
        [WIRE_PARAGRAPH, SECOND_WIRE_PARAGRAPH, OWN_OPENING, OTHER_OPENING]).lower())))
    sentences = [" ".join(rng.choices(vocabulary, k=20)) + "." for _ in range(75)]
    a = " ".join(sentences)
    b = " ".join(s.replace(" the ", " a ", 1) if n % 3 else s for n, s in enumerate(sentences))
    assert 1400 < len(a.split()) < 1600
    found = shared_passages(a, b)
    covered = sum(p.a_end - p.a_start for p in found)
    assert covered > 0.8 * len(a)
    assert len(found) < 20
