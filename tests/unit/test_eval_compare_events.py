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
