"""Exact and near-duplicate documents."""

from __future__ import annotations

import json

import numpy as np
import pytest

from storyline.eval import DataUnavailable, dataset_path
from storyline.ids import content_hash
from storyline.link.dedup import (
    DuplicateFinder,
    NearDuplicateIndex,
    band_keys,
    estimated_jaccard,
    is_near_duplicate,
    lsh_params,
    minhash_signature,
    shingles,
)

STORY = """Floods force thousands from their homes in northern Italy

Heavy rain caused rivers to burst their banks across the Emilia-Romagna region on Tuesday,
forcing more than ten thousand people to leave their homes, the regional civil protection
agency said. Rescue teams used boats and helicopters to reach families trapped on rooftops in
the towns of Faenza and Cesena, where water levels rose by more than two metres overnight.

The agency said at least eight people had died and several others were missing. Schools were
closed in the provincial capitals and dozens of roads were cut off by landslides, while train
services between Bologna and the Adriatic coast were suspended until further notice.

Prime Minister Giorgia Meloni said the government would declare a state of emergency and
release funds for the affected areas at a cabinet meeting on Wednesday. Farmers' associations
warned that thousands of hectares of orchards and vineyards had been flooded just weeks before
the harvest, and that losses could run into hundreds of millions of euros.

Meteorologists said more rain was expected over the weekend, raising fears that already
saturated ground could trigger new landslides in the hills south of Bologna."""

COPY = (
    STORY.replace("Floods force thousands from their homes in northern Italy",
                  "Italy floods: ten thousand evacuated as rivers burst their banks")
    .replace("at least eight people had died", "at least nine people had been killed")
)

OTHER_STORY_SAME_TOPIC = """Italy counts the cost of floods as clean-up begins

Residents of Faenza began shovelling mud out of shops and cellars on Friday as floodwaters
receded, while insurers estimated that damage in Emilia-Romagna would exceed one billion
euros. The regional president called on Rome to speed up compensation for businesses and said
the disaster showed the need for new investment in river defences and reservoirs. Volunteers
from across the country arrived with pumps and generators, and the army set up field kitchens
in Cesena, where many families are still unable to return home. Economists warned that the
losses to agriculture would weigh on the region's growth this year."""


def test_same_text_with_different_whitespace_has_same_content_hash() -> None:
    reflowed = " ".join(STORY.split())
    assert content_hash(reflowed) == content_hash(STORY)
    assert content_hash(STORY.upper()) == content_hash(STORY)
    assert content_hash(COPY) != content_hash(STORY)


def test_shingles_ignore_case_punctuation_and_quote_style() -> None:
    assert shingles("It’s the “same” text, isn't it?", k=3) == shingles(
        "IT'S THE \"SAME\" TEXT -- ISN'T IT", k=3)
    assert shingles("one two", k=5) == {"one two"}
    assert shingles("", k=5) == set()
    assert len(shingles("a b c d e f", k=5)) == 2


def test_signature_is_deterministic_and_fixed_size() -> None:
    sig = minhash_signature(STORY)
    assert sig.shape == (128,)
    assert np.array_equal(sig, minhash_signature(STORY))
    assert minhash_signature(STORY, num_perm=64).shape == (64,)


def test_edited_copy_is_near_duplicate_other_story_is_not() -> None:
    original, copy, other = (minhash_signature(t) for t in (STORY, COPY, OTHER_STORY_SAME_TOPIC))
    assert is_near_duplicate(original, copy)
    assert estimated_jaccard(original, copy) > 0.7
    assert not is_near_duplicate(original, other)
    assert estimated_jaccard(original, other) < 0.1


def test_empty_text_is_nobodys_duplicate() -> None:
    empty = minhash_signature("")
    assert not is_near_duplicate(empty, minhash_signature(""))
    assert band_keys(empty, *lsh_params()) == []


def test_index_finds_the_copy_with_its_similarity() -> None:
    index = NearDuplicateIndex()
    index.add("original", minhash_signature(STORY))
    index.add("other", minhash_signature(OTHER_STORY_SAME_TOPIC))
    found = index.query(minhash_signature(COPY))
    assert [doc_id for doc_id, _ in found] == ["original"]
    assert found[0][1] >= index.threshold
    # Re-adding an id replaces it instead of failing.
    index.add("original", minhash_signature(OTHER_STORY_SAME_TOPIC))
    assert index.query(minhash_signature(COPY)) == []
    assert len(index) == 2
    with pytest.raises(ValueError):
        index.add("short", minhash_signature(STORY, num_perm=64))


def test_band_keys_agree_with_the_index_parameters() -> None:
    bands, rows = lsh_params()
    index = NearDuplicateIndex()
    assert (index.bands, index.rows) == (bands, rows)
    original = band_keys(minhash_signature(STORY), bands, rows)
    copy = band_keys(minhash_signature(COPY), bands, rows)
    other = band_keys(minhash_signature(OTHER_STORY_SAME_TOPIC), bands, rows)
    assert len(original) == bands
    assert set(original) & set(copy)  # a candidate pair by key equality
    assert not set(original) & set(other)
    # Keys of a signature read back from a store as plain ints are the same.
    as_ints = [int(v) for v in minhash_signature(STORY)]
    assert band_keys(as_ints, bands, rows) == original
    with pytest.raises(ValueError):
        band_keys(as_ints, 20, 13)


def test_duplicate_finder_url_text_and_near() -> None:
    finder = DuplicateFinder()
    assert finder.check("a", STORY, "https://example.org/italy-floods?utm_source=x") is None
    by_url = finder.check("b", "different body", "https://example.org/italy-floods")
    assert by_url is not None and (by_url.of, by_url.kind) == ("a", "url")
    by_text = finder.check("c", " ".join(STORY.split()))
    assert by_text is not None and (by_text.of, by_text.kind) == ("a", "text")
    near = finder.check("d", COPY)
    assert near is not None and (near.of, near.kind) == ("a", "near")
    assert finder.check("e", OTHER_STORY_SAME_TOPIC) is None


@pytest.mark.data
def test_semeval_very_similar_pairs_are_not_flagged_as_copies() -> None:
    """Different articles about the same event are not near duplicates of each other."""
    try:
        path = dataset_path("semeval2022") / "pairs.jsonl"
    except DataUnavailable as missing:
        pytest.skip(str(missing))
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    similar = [r for r in rows if r["overall"] == 1.0 and r["lang1"] == r["lang2"]]
    flagged = [r["pair_id"] for r in similar
               if is_near_duplicate(minhash_signature(r["text1"]), minhash_signature(r["text2"]))]
    assert len(similar) > 50
    assert flagged == []
