"""The batch job: same stories as the local ingest, on every executor; inputs, order, sinks."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyline.batch import (
    BatchJob,
    DocumentStage,
    OutcomeParquetWriter,
    SpillSorter,
    expand_inputs,
    order_key,
    write_parquet,
)
from storyline.config import Settings
from storyline.corpus import SourceArticle, write_corpus
from storyline.link.stories import default_linker
from storyline.pipeline import Pipeline, ProcessedDocument
from storyline.records import Failure, RawDocument
from storyline.sources import read_inputs
from storyline.store import open_store
from storyline.store.base import Store

TEXTS = {
    "flood": (
        "Dresden flood: Elbe breaks levee, thousands evacuated",
        "The Elbe burst a levee north of Dresden overnight, flooding farmland and forcing "
        "thousands of residents from their homes. Firefighters stacked sandbags until dawn.",
        "Saxony's interior ministry said water levels would peak on Wednesday. Rail traffic "
        "between Dresden and Meissen was suspended.",
        "Farmers counted drowned livestock while volunteers ferried pensioners to shelters.",
    ),
    "strike": (
        "Lufthansa pilots walk out over pensions and pay",
        "Lufthansa cancelled eight hundred flights as pilots of the Vereinigung Cockpit union "
        "began a two-day strike over pensions and pay. Frankfurt and Munich were worst hit.",
        "The airline called the walkout irresponsible and offered arbitration. Union leaders "
        "said salaries had lagged inflation for three years.",
        "Stranded travellers queued at rebooking desks; rail operators added extra trains.",
    ),
    "vaccine": (
        "Moderna reports late-stage malaria vaccine results",
        "Moderna said its experimental malaria vaccine prevented severe disease in most "
        "children in a phase three trial in Kenya and Ghana. Regulators will review the data.",
        "Researchers cautioned that protection waned after eighteen months and a booster dose "
        "may be needed. Shares in the Massachusetts company rose sharply.",
        "The World Health Organization welcomed the findings but urged independent scrutiny.",
    ),
    "summit": (
        "Geneva summit ends with arms treaty framework",
        "Negotiators in Geneva agreed a framework for a new nuclear arms treaty after three "
        "days of talks between American and Russian delegations at the Intercontinental hotel.",
        "Warhead ceilings and inspection rules remain unresolved, diplomats said. A second "
        "round is planned in Vienna before the summer recess.",
        "Arms control experts called the outcome modest but the first progress in years.",
    ),
}


def _source(topic: str, n: int) -> SourceArticle:
    title, *paragraphs = TEXTS[topic]
    # The second source article of a story reports it with its own last paragraph.
    if n:
        paragraphs = [*paragraphs[:2], f"Updates on the {topic} will follow, editors said."]
    return SourceArticle("fixture", f"{topic}-{n}", f"fixture:{topic}", title, tuple(paragraphs))


SOURCES = [_source(topic, n) for topic in TEXTS for n in range(2)]


def _partition(store: Store) -> set[frozenset[str]]:
    """The stories as sets of article URLs (ids differ by nothing but are compared by url)."""
    return {frozenset(a.url or a.id for a in s.articles) for s in store.iter_stories()}


def _sorted_raws(path: Path, settings: Settings) -> list[RawDocument]:
    raws = [d for d in read_inputs([str(path)], settings) if isinstance(d, RawDocument)]
    return sorted(raws, key=lambda r: (r.published is None, r.published or "", r.source))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    write_corpus(out, 40, "jsonl", seed=5, sources=SOURCES)
    return out / "articles"


@pytest.fixture(scope="module")
def local_partition(corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    """The local ingest path over the documents in (published, source) order."""
    settings = Settings.from_env()
    store = open_store(str(tmp_path_factory.mktemp("local") / "local.db"))
    try:
        report = Pipeline(store, settings).ingest(_sorted_raws(corpus, settings))
        assert report.count("failed") == 0
        partition = _partition(store)
    finally:
        store.close()
    assert 1 < len(partition) < 40  # stories formed, and not one per article
    return partition


def _batch_partition(corpus: Path, tmp_path: Path, **job: object) -> set[frozenset[str]]:
    store = open_store(str(tmp_path / "batch.db"))
    try:
        result = BatchJob(store, Settings.from_env(), **job).run([str(corpus)])  # type: ignore[arg-type]
        assert result.documents == 40
        assert result.counts["failed"] == 0
        return _partition(store)
    finally:
        store.close()


def test_local_batch_gives_the_local_stories(corpus, local_partition, tmp_path) -> None:
    assert _batch_partition(corpus, tmp_path, executor="local") == local_partition


def test_process_pool_batch_gives_the_local_stories(corpus, local_partition, tmp_path) -> None:
    assert (
        _batch_partition(corpus, tmp_path, executor="process", workers=2) == local_partition
    )


def test_ray_batch_gives_the_local_stories(corpus, local_partition, tmp_path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (extra 'scale')")
    assert _batch_partition(corpus, tmp_path, executor="ray", workers=2) == local_partition


def test_order_key_puts_dated_documents_first_in_date_order() -> None:
    def item(source: str, published: str | None) -> tuple[RawDocument, Failure]:
        return RawDocument(source, "x", "text", published=published), Failure(source, "x", "")

    items = [
        item("b", "2024-01-02"),
        item("a", None),
        item("c", "2024-01-01"),
        item("d", "2024-01-02"),
    ]
    failure = Failure("z", "read", "bad")
    ordered = sorted([*items, failure], key=order_key)
    assert [
        (x.source if isinstance(x, Failure) else x[0].source) for x in ordered
    ] == ["c", "b", "d", "a", "z"]


def test_spill_sorter_returns_items_in_key_order() -> None:
    sorter = SpillSorter()
    try:
        for n in [5, 3, 9, 1, 7]:
            sorter.add(n, {"n": n, "payload": "x" * n * 100})
        assert len(sorter) == 5
        assert [item["n"] for item in sorter.sorted_items()] == [1, 3, 5, 7, 9]
    finally:
        sorter.close()


def test_document_stage_precomputes_link_inputs_and_never_raises() -> None:
    stage = DocumentStage(Settings.from_env(), default_linker(), analyse=False)
    raw = RawDocument("a.txt", "Headline here\n\n" + "Some body text about a river. " * 20, "text")
    _, result = stage(raw)
    assert isinstance(result, ProcessedDocument)
    assert result.link_features and result.signature and len(result.signature) == 128
    assert result.analyses == {}
    _, bad = stage(RawDocument("b.html", "<html></html>", "html"))
    assert isinstance(bad, Failure) and bad.source == "b.html"


def test_bad_inputs_fail_alone(corpus, tmp_path) -> None:
    files, failures = expand_inputs(
        [str(corpus), str(tmp_path / "missing.jsonl"), "https://example.org/a"]
    )
    assert len(files) == 1
    assert {f.source for f in failures} == {str(tmp_path / "missing.jsonl"), "https://example.org/a"}
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"title": "no text"}\nnot json\n')
    store = open_store(str(tmp_path / "b.db"))
    try:
        result = BatchJob(store, analyse=False).run([str(corpus), str(broken)])
        assert result.counts["failed"] == 2
        assert result.counts["new"] + result.counts["duplicate"] == 40
    finally:
        store.close()


def test_ingest_processed_answers_documents_already_stored(tmp_path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    try:
        stage = DocumentStage(Settings.from_env(), default_linker(), analyse=False)
        raw = RawDocument("a.txt", "Title\n\n" + "The river rose again in the city. " * 20, "text")
        pipeline = Pipeline(store)
        first = pipeline.ingest_processed([stage(raw), Failure("x", "read", "unreadable")])
        assert [o.status for o in first.outcomes] == ["new", "failed"]
        again = pipeline.ingest_processed([stage(raw)])
        assert again.outcomes[0].status == "duplicate"
        assert again.outcomes[0].story_id == first.outcomes[0].story_id
    finally:
        store.close()


def test_parquet_sink_holds_every_stored_article_with_its_story(corpus, tmp_path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    store = open_store(str(tmp_path / "p.db"))
    try:
        outcomes = OutcomeParquetWriter(tmp_path / "out" / "outcomes.parquet", rows_per_group=7)
        BatchJob(store, analyse=False).run([str(corpus)], on_outcome=outcomes)
        outcomes.close()
        path = write_parquet(store, tmp_path / "out", rows_per_group=7)
        table = pq.read_table(path).to_pylist()
        stored = {(a.id, s.id) for s in store.iter_stories() for a in s.articles}
        assert {(r["article_id"], r["story_id"]) for r in table} == stored
        assert pq.read_table(tmp_path / "out" / "outcomes.parquet").num_rows == 40
    finally:
        store.close()
