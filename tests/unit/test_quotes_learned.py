"""The learned attribution models: the linear scorer, loading, and how the
extractor uses them (cue veto, long-tail cues, source boundaries)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline.analyse import quotes as q
from storyline.analyse.quotes import LinearModel, load_attribution_model


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the extractor at a hand-made model file for one test."""

    def use(models: dict) -> Path:
        path = tmp_path / "model.json"
        path.write_text(json.dumps({"models": models}))
        monkeypatch.setattr(q, "ATTRIBUTION_MODEL_PATH", path)
        load_attribution_model.cache_clear()
        return path

    yield use
    load_attribution_model.cache_clear()


def analyse(nlp, text: str) -> list[q.Quote]:
    from storyline.analyse.entities import doc_entities

    doc = nlp(text)
    return q.extract_quotes(doc, doc_entities(doc))


# ------------------------------------------------------------------ no spaCy model needed


def test_linear_model_sums_weights_of_present_features_only():
    model = LinearModel(bias=-1.0, weights={"a": 2.0, "b": -3.0}, threshold=0.5)
    assert model.probability([]) == pytest.approx(1 / (1 + 2.718281828**1.0))
    assert model.probability(["a"]) == pytest.approx(1 / (1 + 2.718281828**-1.0))
    assert model.accepts(["a", "unknown"]) and not model.accepts(["a", "b"])


def test_missing_model_file_means_rules_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(q, "ATTRIBUTION_MODEL_PATH", tmp_path / "absent.json")
    load_attribution_model.cache_clear()
    try:
        assert load_attribution_model() == {}
    finally:
        load_attribution_model.cache_clear()


def test_a_model_can_share_weights_with_another_at_its_own_threshold(model_file):
    model_file(
        {
            "cue": {"bias": 0.0, "weights": {"w=said": 1.0}, "threshold": 0.9},
            "cue_keep": {"same_as": "cue", "threshold": 0.2},
        }
    )
    models = load_attribution_model()
    assert models["cue_keep"].weights == models["cue"].weights
    assert models["cue_keep"].accepts(["w=said"]) and not models["cue"].accepts(["w=said"])


def test_shipped_model_file_has_every_task():
    if not q.ATTRIBUTION_MODEL_PATH.exists():
        pytest.skip("no learned model file (run bench/quotes_train.py)")
    models = load_attribution_model()
    assert {"cue", "cue_keep", "content", "source_part", "content_part"} <= set(models)
    assert models["cue_keep"].threshold < models["cue"].threshold


# ------------------------------------------------------------------ with the parser


def test_veto_drops_a_rule_attribution_but_never_a_quotation(nlp, model_file):
    text = (
        "The mayor wants a new bridge over the river. “We will build it this year,” the mayor said."
    )
    before = analyse(nlp, text)
    assert any("bridge" in x.text for x in before)
    model_file({"cue_keep": {"bias": -10.0, "weights": {}, "threshold": 0.5}})
    after = analyse(nlp, text)
    assert not any("bridge" in x.text for x in after)
    assert any("We will build it this year" in x.text and x.direct for x in after)


def test_long_tail_cue_found_by_the_learned_model(nlp, model_file):
    text = "The senator glossed over the budget shortfall in his speech on Monday."
    assert not any("shortfall" in x.text for x in analyse(nlp, text))
    model_file(
        {
            "cue": {"bias": -5.0, "weights": {"w=glossed": 10.0}, "threshold": 0.5},
            "content": {"bias": -5.0, "weights": {"d=prep": 10.0}, "threshold": 0.5},
        }
    )
    found = [x for x in analyse(nlp, text) if "shortfall" in x.text]
    assert len(found) == 1
    assert found[0].text.startswith("the budget shortfall")
    assert found[0].speaker_mention == "The senator"
    assert found[0].cue == "glossed"


def test_source_part_model_cuts_a_relative_clause_off_the_source(nlp, model_file):
    text = "Ann Lee, who runs the clinic, said the wait times are too long."
    assert "who runs" in (analyse(nlp, text)[0].speaker_mention or "")
    model_file({"source_part": {"bias": 5.0, "weights": {"d=relclR": -10.0}, "threshold": 0.5}})
    quote = analyse(nlp, text)[0]
    assert quote.speaker_mention == "Ann Lee"
    assert "wait times are too long" in quote.text


def test_content_part_model_cuts_a_trailing_clause_but_never_a_quotation(nlp, model_file):
    reported = "The mayor said the bridge will open in May after the repairs are finished."
    quoted = "“The bridge will open in May after the repairs are finished,” the mayor said."
    assert analyse(nlp, reported)[0].text.endswith("after the repairs are finished")
    # Drops any adverbial clause at a content's right edge, keeps the rest.
    model_file({"content_part": {"bias": 5.0, "weights": {"d=advclR": -10.0}, "threshold": 0.5}})
    assert analyse(nlp, reported)[0].text == "the bridge will open in May"
    direct = analyse(nlp, quoted)[0]
    assert direct.direct and direct.text.endswith("after the repairs are finished")


def test_content_edges_walks_outermost_dependents_first(nlp):
    doc = nlp("The mayor said the bridge will open in May after the repairs are finished.")
    raws, _ = q.find_attributions(doc)
    raw = next(r for r in raws if "bridge" in doc.text[r.content[0] : r.content[1]])
    asked: list[str] = []

    def keep(node, child, side) -> bool:
        asked.append(child.text)
        return child.dep_ != "advcl"

    start, end = q.content_edges(doc, raw, keep)
    assert doc[start:end].text == "the bridge will open in May"
    # the advcl first (dropped), then "in May" (kept, so the walk goes into it)
    assert asked[:2] == ["finished", "in"]
    assert q.content_edges(doc, raw, lambda *_: True) == (doc[start].i, doc[-2].i + 1)


def test_shipped_model_finds_an_out_of_lexicon_cue(nlp):
    """A cue no hand list holds ("lashed out at" is listed, "glossed over" is
    not): the model learned on PolNeAR train finds it and its object."""
    if not q.ATTRIBUTION_MODEL_PATH.exists():
        pytest.skip("no learned model file (run bench/quotes_train.py)")
    load_attribution_model.cache_clear()
    assert "glossed" not in q.CUE_LEMMAS
    quotes = analyse(nlp, "The governor downplayed the risks of the new pipeline.")
    found = [x for x in quotes if "risks of the new pipeline" in x.text]
    assert found and found[0].speaker_mention == "The governor"
