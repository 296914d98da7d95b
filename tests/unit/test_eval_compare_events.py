"""ECB+ evaluation pieces of the event grouping: documents, labels, the logistic fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from storyline.eval.compare import (
    OURS,
    Sentence,
    evaluate_alignment,
    fit_logistic,
    load_documents,
    story_articles,
)


def _sentence(doc: str, index: int, text: str, chains: set[str]) -> Sentence:
    return Sentence(doc, "1ecbplus", index, text, frozenset(chains), frozenset())


def test_documents_leave_out_the_url_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ecbplus"
    folder.mkdir()
    doc = {"id": "1_1ecbplus", "topic": "1", "subtopic": "1ecbplus",
           "text": "http: / / example. com / a\nTitle line\n\nFirst sentence."}  # fmt: skip
    (folder / "docs.jsonl").write_text(json.dumps(doc) + "\n", encoding="utf-8")
    monkeypatch.setenv("STORYLINE_DATA", str(tmp_path))
    documents = load_documents({"1"})
    assert documents["1_1ecbplus"].lines == ((1, "Title line"), (3, "First sentence."))
    assert load_documents({"2"}) == {}


def test_articles_hold_every_sentence_in_order() -> None:
    from storyline.eval.compare import Document

    group = [_sentence("d1", 3, "Mention.", {"c"})]
    documents = {"d1": Document("d1", "1ecbplus", ((1, "Lead."), (3, "Mention."))),
                 "d2": Document("d2", "1ecbplus", ((0, "Other lead."),)),
                 "d3": Document("d3", "2ecb", ((0, "Another story."),))}  # fmt: skip
    claims, where = story_articles(group, documents)
    assert [c.text for c in claims] == ["Lead.", "Mention.", "Other lead."]
    assert where[("d1", 3)] == 1 and claims[0].start < claims[1].start
    alone, _ = story_articles(group, None)
    assert [c.text for c in alone] == ["Mention."]


def test_logistic_fit_orders_the_feature() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 400)
    y = (rng.uniform(0, 1, 400) < 1 / (1 + np.exp(-(8 * x - 4)))).astype(float)
    weight, bias = fit_logistic(x, y, l2=0.0)
    assert 5 < weight < 11 and -6 < bias < -2.5
    assert fit_logistic(x, 1 - y, l2=0.0)[0] < 0


def test_ours_row_scores_the_event_groups() -> None:
    # Two documents leading with one event, a third about another: ours pairs the
    # first two only; gold says the same, so precision and recall are 1.
    group = [_sentence("d1", 0, "Quake hits the city.", {"q"}),
             _sentence("d2", 0, "Quake hits the city.", {"q"}),
             _sentence("d3", 0, "Floods in the north.", {"f"})]  # fmt: skip
    main, flood = np.array([1.0, 0.0]), np.array([0.0, 1.0])

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([main if t.startswith("Quake") else flood for t in texts])

    rows = evaluate_alignment(group, lemmas=False, embed=embed)
    assert rows[OURS]["precision"] == rows[OURS]["recall"] == 1.0
    assert rows["one group per sub-topic (trivial)"]["precision"] < 1.0


def _topic_sentences(topic: str) -> list[Sentence]:
    """One sub-topic: two documents leading with a quake, a third with floods."""
    texts = ["Quake hits the city.", "Quake hits the city.", "Floods in the north."]
    return [
        Sentence(f"{topic}_{n}ecb", f"{topic}ecb", 0, text, frozenset({text[0]}), frozenset())
        for n, text in enumerate(texts, start=1)
    ]


def _quake_or_flood(texts: list[str]) -> np.ndarray:
    main, flood = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    return np.stack([main if t.startswith("Quake") else flood for t in texts])


def test_cross_validation_scores_each_topic_with_a_fit_on_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from storyline.eval import compare

    sentences = [s for t in ("1", "2", "3", "4", "5", "6") for s in _topic_sentences(t)]
    stories = compare.prepare_stories(sentences, None, _quake_or_flood)
    fitted_on: list[set[str]] = []
    real_fit = compare.fit_events

    def recording_fit(train: list[compare.PreparedStory]) -> dict[str, object]:
        fitted_on.append({s.topic for s in train})
        return real_fit(train)

    monkeypatch.setattr(compare, "fit_events", recording_fit)
    result = compare.cross_validate_events(stories, folds=3, seed=1)
    # Three fits, each on four of the six topics; every topic left out exactly once.
    assert [len(t) for t in fitted_on] == [4, 4, 4]
    left_out = [{"1", "2", "3", "4", "5", "6"} - t for t in fitted_on]
    assert sorted(t for fold in left_out for t in fold) == ["1", "2", "3", "4", "5", "6"]
    # The cosine separates the events perfectly, so held-out grouping matches gold.
    assert result["scores"]["precision"] == result["scores"]["recall"] == 1.0
    assert result["scores"]["gold"] == 6


def test_fit_events_learns_a_positive_cosine_weight() -> None:
    from storyline.eval.compare import fit_events, prepare_stories

    sentences = [s for t in ("1", "2", "3") for s in _topic_sentences(t)]
    fitted = fit_events(prepare_stories(sentences, None, _quake_or_flood))
    assert fitted["weights"][0] > 0  # cosine
    assert fitted["in_sample"]["f1"] == 1.0
    assert fitted["threshold"] in (0.25, 0.3, 0.35, 0.4, 0.45)
