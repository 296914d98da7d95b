"""The outlets' boilerplate line memory: applied before the per-document stage, same result.

An outlet's furniture line (here "Harbour Ledger morning briefing") is only
recognised once the store has seen it in enough of the outlet's articles.  The
add path hands the outlet's known lines to the per-document stage, so the
global stage has nothing left to re-clean or re-analyse; the old route (the
global stage re-cleans and re-analyses) must store exactly the same article.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds store_backends

import storyline.pipeline as pipeline_module
from store_backends import BACKENDS, fresh_url
from storyline.config import Settings
from storyline.extract import extract
from storyline.extract.outlets import OutletLines, OutletRegistry
from storyline.extract.text import line_fingerprint
from storyline.pipeline import (
    BOILERPLATE_MIN_ARTICLES,
    ExtractJob,
    Pipeline,
    ProcessedDocument,
    extract_job,
)
from storyline.records import RawDocument
from storyline.store import Store, open_store

OUTLET = "Harbour Ledger"
FURNITURE = "Harbour Ledger morning briefing"

# Unrelated stories (no near-copies of each other), each with the outlet's furniture line.
STORIES = [
    ("Council approves harbour bridge repairs",
     ["Engineers found corroded cables under the eastern span during a spring inspection.",
      "The council voted seven to two on Tuesday to close one lane for eighteen months.",
      "Shop owners near the bridge asked for a parking plan before the work begins."]),
    ("New tram line opens to the university",
     ["Students queued before dawn to ride the first tram across the river on Monday.",
      "The line cost four hundred million euros and took six years to build.",
      "Drivers complained that the tracks narrowed two busy junctions near campus."]),
    ("Museum reopens after a decade of renovation",
     ["Curators rehung more than three thousand paintings in the restored galleries.",
      "A glass roof now covers the courtyard where visitors once waited in the rain.",
      "Tickets for the first weekend sold out within an hour of going on sale."]),
    ("Flood defences tested as river rises",
     ["Volunteers filled sandbags through the night as the water reached the quay wall.",
      "The new steel barriers held, although two cellars in the old town flooded.",
      "Forecasters expect the level to fall slowly once the rain stops on Friday."]),
    ("Airport noise study finds fewer night flights",
     ["Residents under the flight path recorded quieter nights than a year earlier.",
      "Airlines moved cargo departures to the morning after new fees took effect.",
      "Campaigners still want a full ban between midnight and five o'clock."]),
    ("School canteens switch to local suppliers",
     ["Farmers from the valley now deliver vegetables to forty schools each week.",
      "Parents welcomed fresher meals but worried that prices would climb in winter.",
      "The education office will review the contracts after the first school term."]),
]  # fmt: skip


def _document(i: int, furniture: str = FURNITURE) -> RawDocument:
    title, paragraphs = STORIES[i]
    body = "\n\n".join([title, furniture, *paragraphs])
    return RawDocument(
        f"ledger-{i}.txt", body, "text", url=f"https://ledger.example.org/news/{i}",
        title=title, published=f"2024-03-{i + 1:02d}", outlet=OUTLET, language="en",
    )


def _filled_store(tmp_path: Path, name: str, documents: int = BOILERPLATE_MIN_ARTICLES) -> Store:
    """A store holding `documents` articles of the outlet, so its furniture line is known."""
    store = open_store(str(tmp_path / f"{name}.db"))
    report = Pipeline(store, Settings.from_env(db=str(tmp_path / f"{name}.db"))).ingest(
        [_document(i) for i in range(documents)]
    )
    assert report.count("new") == documents
    return store


def _old_route(pipeline: Pipeline, raw: RawDocument) -> Any:
    """The per-document stage without memory; the global stage re-cleans (as before)."""
    job = ExtractJob(raw, (), pipeline.settings.limits.html_max_depth)
    return pipeline.ingest_processed([(raw, extract_job(job))])


class _Counter:
    def __init__(self, wrapped: Callable[..., Any]) -> None:
        self.wrapped = wrapped
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.wrapped(*args, **kwargs)


@pytest.fixture
def analyses_counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counter]:
    counter = _Counter(pipeline_module.analyse_article)
    monkeypatch.setattr(pipeline_module, "analyse_article", counter)
    yield counter


def _stored(store: Store, article_id: str) -> tuple[Any, ...]:
    article = store.get_article(article_id)
    assert article is not None
    analyses = {kind: store.get_analysis(article_id, kind)
                for kind in ("time_expressions", "people", "events", "claims")}
    return article, analyses


def test_known_lines_are_applied_before_the_global_stage_with_the_same_result(
    tmp_path: Path, analyses_counted: _Counter
) -> None:
    new = _filled_store(tmp_path, "new")
    old = _filled_store(tmp_path, "old")
    try:
        raw = _document(BOILERPLATE_MIN_ARTICLES)
        via_memory = Pipeline(new)
        analyses_counted.calls = 0
        report = via_memory.ingest([raw])
        assert report.count("new") == 1
        # Analysed once, in the per-document stage: the global stage had nothing to redo.
        assert analyses_counted.calls == 1
        assert via_memory.outlet_recleans == 0

        via_global = Pipeline(old)
        analyses_counted.calls = 0
        old_report = _old_route(via_global, raw)
        assert old_report.count("new") == 1
        assert analyses_counted.calls == 2  # the stage's, and the global stage's again
        assert via_global.outlet_recleans == 1

        article_id = report.outcomes[0].article_id
        assert old_report.outcomes[0].article_id == article_id
        article, analyses = _stored(new, article_id)
        assert FURNITURE not in article.body
        assert any(r.reason == "boilerplate of this outlet" for r in article.removed)
        assert (article, analyses) == _stored(old, article_id)
        assert analyses["people"] is not None
    finally:
        new.close()
        old.close()


def test_lines_learnt_after_the_stage_ran_are_applied_by_the_global_stage(
    tmp_path: Path, analyses_counted: _Counter
) -> None:
    """A stage whose memory is behind (a pool's in-flight documents): the global stage fixes it."""
    late = _filled_store(tmp_path, "late")
    reference = _filled_store(tmp_path, "reference")
    try:
        raw = _document(BOILERPLATE_MIN_ARTICLES)
        # The snapshot the stage got: the furniture line not yet known.
        behind = OutletLines(OUTLET, frozenset())
        pipeline = Pipeline(late)
        job = ExtractJob(raw, (), pipeline.settings.limits.html_max_depth, outlet_lines=behind)
        processed = extract_job(job)
        assert isinstance(processed, ProcessedDocument)
        assert processed.boilerplate_applied == frozenset()
        assert FURNITURE in processed.article.body
        analyses_counted.calls = 0
        report = pipeline.ingest_processed([(raw, processed)])
        assert pipeline.outlet_recleans == 1 and analyses_counted.calls == 1
        article_id = report.outcomes[0].article_id
        expected = Pipeline(reference).ingest([raw]).outcomes[0].article_id
        assert expected == article_id
        assert _stored(late, article_id) == _stored(reference, article_id)
        assert FURNITURE not in _stored(late, article_id)[0].body
    finally:
        late.close()
        reference.close()


def test_known_lines_not_in_the_text_cost_no_second_extraction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page is not extracted again when none of the outlet's known lines can be
    removed from the article's text (`ProcessedDocument.removable_lines`)."""
    store = _filled_store(tmp_path, "disjoint")
    reference = _filled_store(tmp_path, "reference")
    try:
        pipeline = Pipeline(store)
        # This article prints no furniture line: the known one is not in its text.
        raw = _document(BOILERPLATE_MIN_ARTICLES, furniture="")
        processed = extract_job(ExtractJob(raw, (), pipeline.settings.limits.html_max_depth))
        assert isinstance(processed, ProcessedDocument) and processed.removable_lines
        assert line_fingerprint(FURNITURE) not in processed.removable_lines
        # ... though the memory of its outlet names a line among its fingerprints.
        known = pipeline.outlet_lines(OUTLET)
        assert known is not None and line_fingerprint(FURNITURE) in known.lines
        fingerprints = [*(processed.fingerprints or []), line_fingerprint(FURNITURE)]
        processed = ProcessedDocument(
            processed.article, {}, fingerprints=fingerprints,
            removable_lines=processed.removable_lines,
        )
        extractions = _Counter(pipeline_module.extract)
        monkeypatch.setattr(pipeline_module, "extract", extractions)
        report = pipeline.ingest_processed([(raw, processed)])
        assert report.count("new") == 1 and extractions.calls == 0
        # Without the removable lines the global stage must extract again to know.
        unknown = ProcessedDocument(processed.article, {}, fingerprints=fingerprints)
        report = Pipeline(reference).ingest_processed([(raw, unknown)])
        assert report.count("new") == 1 and extractions.calls == 1
        article_id = report.outcomes[0].article_id
        assert _stored(store, article_id) == _stored(reference, article_id)
    finally:
        store.close()
        reference.close()


def test_memory_is_read_once_per_outlet_and_follows_what_is_stored(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "memory.db"))
    try:
        pipeline = Pipeline(store)
        furniture = line_fingerprint(FURNITURE)
        for i in range(BOILERPLATE_MIN_ARTICLES + 1):
            assert pipeline.ingest([_document(i)]).count("new") == 1
            known = pipeline.outlet_memory.lines(OUTLET).lines
            assert (furniture in known) == (i + 1 >= BOILERPLATE_MIN_ARTICLES)
            assert known == store.known_boilerplate_lines(OUTLET, BOILERPLATE_MIN_ARTICLES)
        assert pipeline.outlet_memory.loads == 1  # learnt from its own writes, not re-read
        assert pipeline.outlet_recleans == 0
        stored = store.get_article(pipeline.ingest([_document(4)]).outcomes[0].article_id)
        assert stored is not None and FURNITURE not in stored.body
    finally:
        store.close()


def test_lines_another_process_taught_are_seen(tmp_path: Path) -> None:
    """Another writer makes the line known: this pipeline's memory must not stay behind."""
    path = str(tmp_path / "shared.db")
    mine, theirs = open_store(path), open_store(path)
    try:
        pipeline = Pipeline(mine)
        assert pipeline.ingest([_document(0), _document(1)]).count("new") == 2
        assert line_fingerprint(FURNITURE) not in pipeline.outlet_memory.lines(OUTLET).lines
        assert Pipeline(theirs).ingest([_document(2)]).count("new") == 1  # the 3rd sighting
        report = pipeline.ingest([_document(3)])
        stored = mine.get_article(report.outcomes[0].article_id)
        assert stored is not None and FURNITURE not in stored.body
        assert pipeline.outlet_memory.loads == 2  # dropped when the other write was seen
        assert pipeline.outlet_recleans == 0  # ... before the document's stage ran
    finally:
        mine.close()
        theirs.close()


def test_memory_of_another_outlet_is_not_applied(tmp_path: Path) -> None:
    raw = _document(0)
    lines = OutletLines("Some Other Outlet", frozenset({line_fingerprint(FURNITURE)}))
    processed = extract_job(ExtractJob(raw, (), 2_000, analyse=False, outlet_lines=lines))
    assert isinstance(processed, ProcessedDocument)
    assert processed.boilerplate_applied is None
    assert FURNITURE in processed.article.body


def test_declared_outlet_is_the_name_extraction_gives() -> None:
    registry = OutletRegistry.load()
    known = next(iter(registry))
    assert registry.declared_outlet(f"  {known.name.upper()} ", None) == known.name
    assert registry.declared_outlet("Unheard-of Gazette ", "https://x.example") == (
        "Unheard-of Gazette"
    )
    domain = next(o for o in registry if o.domains)
    assert registry.declared_outlet(None, f"https://www.{domain.domains[0]}/a/b") == domain.name
    assert registry.declared_outlet("  ", "https://unknown.example/a") is None
    assert registry.declared_outlet(None, None) is None
    # ... and extraction names the outlet the same way.
    url = f"https://www.{domain.domains[0]}/news/1"
    for hint, link in ((f" {known.name.lower()}", None), ("Unheard-of Gazette", None),
                       (None, url), (known.name, url)):
        raw = RawDocument("x.txt", "\n\n".join(STORIES[0][1]), "text", url=link, outlet=hint)
        assert registry.declared_outlet(hint, link) == extract(raw, registry).outlet


@pytest.mark.parametrize("backend", BACKENDS)
def test_store_counts_lines_and_lists_the_known_ones(backend: str, tmp_path: Path) -> None:
    store = open_store(fresh_url(backend, tmp_path))
    try:
        with store.transaction():
            assert store.add_boilerplate_lines("A", ["h1", "h2", "h1"]) == {"h1": 1, "h2": 1}
        with store.transaction():
            assert store.add_boilerplate_lines("A", ["h1"]) == {"h1": 2}
            assert store.add_boilerplate_lines("B", ["h1"]) == {"h1": 1}
            assert store.add_boilerplate_lines("A", []) == {}
        assert store.known_boilerplate_lines("A", 2) == frozenset({"h1"})
        assert store.known_boilerplate_lines("A", 1) == frozenset({"h1", "h2"})
        assert store.known_boilerplate_lines("B", 2) == frozenset()
        assert store.known_boilerplate_lines("C", 1) == frozenset()
    finally:
        store.close()


def test_add_path_computes_link_inputs_before_the_global_stage(tmp_path: Path) -> None:
    """`Pipeline.ingest` embeds and fingerprints in the per-document stage, as the batch does."""
    seen: list[ProcessedDocument] = []

    class Recording(Pipeline):
        def _global_stage(self, raw: RawDocument, result: Any) -> Any:
            seen.append(result)
            return super()._global_stage(raw, result)

    store = open_store(str(tmp_path / "inputs.db"))
    try:
        assert Recording(store).ingest([_document(0)]).count("new") == 1
        assert len(seen) == 1 and isinstance(seen[0], ProcessedDocument)
        assert seen[0].link_features is not None and seen[0].signature is not None
        stored = store.story_features([store.article_story_id(seen[0].article.id) or ""])
        (features,) = next(iter(stored.values()))
        assert features["embedding"] == seen[0].link_features["embedding"]
    finally:
        store.close()
