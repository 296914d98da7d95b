import pytest

from storyline.eval import DataUnavailable
from storyline.eval.compare import (
    evaluate_conflicts,
    load_sentences,
    make_conflict_set,
    prf,
)


def test_prf() -> None:
    a, b, c = (("d1", 0), ("d2", 0)), (("d1", 1), ("d2", 1)), (("d1", 2), ("d3", 0))
    assert prf({a, b}, {a, c}) == {
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "predicted": 2,
        "gold": 2,
    }


def test_conflict_set_on_real_sentences() -> None:
    try:
        sentences = load_sentences({"2", "5"})
    except DataUnavailable as exc:
        pytest.skip(f"ECB+ unavailable: {exc}")
    from storyline.analyse.nlp import ModelUnavailable, load_nlp

    try:
        load_nlp()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    cases = make_conflict_set([s.text for s in sentences], per_kind=30)
    kinds = {c.kind for c in cases}
    assert {"number", "date", "place", "polarity", "wording"} <= kinds
    result = evaluate_conflicts(cases)
    assert result["precision"] >= 0.9
    assert result["recall"] >= 0.9


def test_errors_split_by_subtopic_kind() -> None:
    from storyline.eval.compare import errors_by_kind

    ecb = (("1_1ecb", 0), ("1_2ecb", 0))
    plus = (("1_1ecbplus", 0), ("1_2ecbplus", 3))
    plus_missed = (("1_3ecbplus", 0), ("1_4ecbplus", 1))
    assert errors_by_kind({ecb, plus}, {ecb, plus_missed}) == {
        "ecbplus": {"fp": 1, "fn": 1},
    }
    assert errors_by_kind({ecb}, set()) == {"ecb": {"fp": 1, "fn": 0}}


def test_mention_head_lemma_skips_the_particle() -> None:
    from storyline.analyse.nlp import ModelUnavailable, load_nlp
    from storyline.eval.compare import Sentence, sentence_lemmas

    try:
        load_nlp()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    text = "The actress checked into a rehab clinic on Thursday, her lawyer said."
    start = text.index("checked into")
    sentence = Sentence("1_1ecb", "1ecb", 0, text, frozenset(), frozenset(), ((start, start + 12),))
    (lemmas,) = sentence_lemmas([sentence])
    assert lemmas.mention_heads == {"check"}
    assert "check" in lemmas.triggers  # an event verb
    assert "say" not in lemmas.triggers  # a reporting verb is no trigger


def test_alignment_rows_on_real_sentences() -> None:
    try:
        sentences = load_sentences({"2"})
    except DataUnavailable as exc:
        pytest.skip(f"ECB+ unavailable: {exc}")
    from storyline.analyse.nlp import ModelUnavailable, load_nlp
    from storyline.eval.compare import evaluate_alignment
    from storyline.link.embed import EmbedderUnavailable, load_embedder

    try:
        load_nlp()
        load_embedder()
    except (ModelUnavailable, EmbedderUnavailable) as exc:
        pytest.skip(str(exc))
    rows = evaluate_alignment(sentences)
    trivial = rows["one group per sub-topic (trivial)"]
    assert trivial["recall"] == 1.0
    for name in ("same-lemma baseline", "same-lemma baseline, spaCy lemma"):
        assert rows[name]["gold"] == trivial["gold"] > 0
        assert rows[name]["precision"] > trivial["precision"]  # heads are a real signal
    assert any(name.startswith("event groups + triggers") for name in rows)
