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
