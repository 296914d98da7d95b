"""Feeding workers: batches that grow, results in input order, a bounded number in flight."""

from __future__ import annotations

from typing import Any

import pytest

from storyline.batch import (
    BATCHES_PER_WORKER,
    DocumentStage,
    PoolStageWorkers,
    _StageFactory,
    growing_batches,
    ordered_map,
)
from storyline.config import Settings
from storyline.link.stories import default_linker
from storyline.records import Failure, RawDocument


def test_batches_double_up_to_the_largest_and_keep_every_item_in_order() -> None:
    batches = list(growing_batches(range(100), largest=16))
    assert [len(b) for b in batches] == [1, 2, 4, 8, 16, 16, 16, 16, 16, 5]
    assert [x for b in batches for x in b] == list(range(100))
    assert list(growing_batches([], largest=16)) == []


class _RecordingWorkers:
    """Workers that finish batches in reverse order of submission and record the queue."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.in_flight = 0
        self.most_in_flight = 0
        self.submitted: list[list[int]] = []

    def submit(self, method: str, batch: list[int]) -> tuple[str, list[int]]:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.submitted.append(batch)
        return method, batch

    def result(self, handle: tuple[str, list[int]]) -> list[Any]:
        self.in_flight -= 1
        method, batch = handle
        return [(method, x) for x in batch]

    def close(self) -> None:
        pass


def test_ordered_map_returns_results_in_input_order_with_bounded_batches_in_flight() -> None:
    workers = _RecordingWorkers(workers=2)
    consumed: list[Any] = []
    for result in ordered_map(workers, "complete", iter(range(500)), largest=8):
        consumed.append(result)
        assert workers.in_flight <= BATCHES_PER_WORKER * 2
    assert consumed == [("complete", x) for x in range(500)]
    assert workers.most_in_flight == BATCHES_PER_WORKER * 2  # the queue was kept full
    assert max(len(b) for b in workers.submitted) == 8


def test_ordered_map_refills_the_queue_before_handing_out_results() -> None:
    workers = _RecordingWorkers(workers=1)
    results = ordered_map(workers, "extracted", iter(range(1000)), largest=4)
    next(results)
    # The first batch was taken; the queue behind it is full again.
    assert workers.in_flight == BATCHES_PER_WORKER - 1
    assert len(workers.submitted) == BATCHES_PER_WORKER


class _Doubling:
    """A picklable stand-in for DocumentStage: only the two halves and warm_up."""

    def warm_up(self) -> _Doubling:
        return self

    def extracted(self, item: int) -> int:
        return item * 2

    def complete(self, item: int) -> int:
        return item + 1


def test_process_pool_workers_apply_the_named_half_of_the_stage() -> None:
    workers = PoolStageWorkers(_Doubling(), 2)  # type: ignore[arg-type]
    try:
        doubled = list(ordered_map(workers, "extracted", range(70)))
        assert doubled == [x * 2 for x in range(70)]
        assert list(ordered_map(workers, "complete", doubled)) == [x * 2 + 1 for x in range(70)]
    finally:
        workers.close()


def test_ray_workers_give_what_the_stage_gives_in_process() -> None:
    pytest.importorskip("ray", reason="Ray is not installed (extra 'scale')")
    from storyline.executors.ray import RayStageWorkers

    stage = DocumentStage(Settings.from_env(), default_linker(), analyse=False)
    body = (
        "The river burst its banks north of the city overnight, flooding farmland and "
        "forcing hundreds of residents from their homes, the regional authority said."
    )
    docs: list[RawDocument | Failure] = [
        RawDocument(f"doc-{i}", f"Flood {i}\n\n{body} Update number {i}.", "text")
        for i in range(5)
    ]
    docs.append(RawDocument("empty", "   ", "text"))  # fails alone
    docs.append(Failure("unreadable", "read", "bad gzip"))
    expected = [stage.warm_up()(d) for d in docs]
    workers = RayStageWorkers(_StageFactory(stage), workers=2).start()
    try:
        extracted = list(ordered_map(workers, "extracted", docs))
        completed = list(ordered_map(workers, "complete", extracted))
    finally:
        workers.close()
    assert len(completed) == len(expected)
    for got, want in zip(completed, expected, strict=True):
        if isinstance(want, Failure):
            assert got == want
            continue
        (_, got_doc), (_, want_doc) = got, want
        if isinstance(want_doc, Failure):
            assert got_doc == want_doc
        else:
            assert got_doc.article == want_doc.article
            assert got_doc.link_features == want_doc.link_features
            assert got_doc.signature == want_doc.signature
    assert isinstance(completed[-2][1], Failure)
    assert isinstance(completed[-1], Failure)
