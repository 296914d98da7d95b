"""Executors run a per-document stage over a stream of items; stages know nothing of them.

`InProcessExecutor` is the default; `ProcessPoolExecutor` spreads a CPU-bound
stage (extraction, analysis) over local cores while the caller consumes
results in input order, so online linking still sees arrival order.  The Ray
executor for corpora that outgrow one machine lives apart (issue "Scale").
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply `fn` to each item; results in input order, produced lazily."""
        ...

    def close(self) -> None: ...


class InProcessExecutor:
    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return map(fn, items)

    def close(self) -> None:
        pass


class ProcessPoolExecutor:
    """A local process pool with a bounded number of items in flight.

    Bounding keeps memory flat on endless inputs (a 10k-item feed, a large
    WARC): at most `workers * prefetch` documents are held at once.
    """

    def __init__(
        self,
        workers: int,
        prefetch: int = 4,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.workers = max(1, workers)
        self.window = self.workers * max(1, prefetch)
        # `initializer(*initargs)` runs once in each worker: state a stage needs there
        # (models, settings) is shipped once rather than pickled with every item.
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.workers, initializer=initializer, initargs=initargs
        )

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pending: deque[cf.Future[R]] = deque()
        for item in items:
            pending.append(self._pool.submit(fn, item))
            if len(pending) >= self.window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def make_executor(workers: int | None) -> Executor:
    """`workers` 0 or 1 runs in process; None uses every core."""
    n = (os.cpu_count() or 1) if workers is None else workers
    return InProcessExecutor() if n <= 1 else ProcessPoolExecutor(n)
