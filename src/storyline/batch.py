"""The batch job: a corpus of files -> per-document stages in parallel -> global stages -> sink.

1. **Inputs**: paths, directories and globs of WARC, JSON Lines or HTML files;
   `s3://` and other fsspec URLs when fsspec and the file system's library are
   installed (each remote file is copied to a temporary file, then read like a
   local one).
2. **Per-document stages** (`DocumentStage`): extract, analyse (time
   expressions, spaCy entities/quotes, events), the linker's features
   (embedding) and the MinHash fingerprint.  Pure and independent, so they run
   on any executor: in process, a local process pool (`PoolStageWorkers`) or
   Ray (`RayStageWorkers`, one actor per worker holding the models); both
   are fed batches of documents in two phases (`BatchJob._run_overlapped`).
3. **Global stages** (`Pipeline.ingest_processed`): exact and near-duplicates,
   outlet boilerplate memory, story linking, shared passages, one transaction
   per document.  These depend on order, so every executor's results are put
   in one canonical order first - (published, source) - through a spill file
   on disk (only the sort keys are held in memory), and the local ingest of
   the same documents in that order gives the same stories.

   Time windows: documents are linked in date order and each one is compared
   only with the stories the store reports active within the linker's window
   around its date (`Store.candidate_stories`).  The window slides with the
   dates, so a story found in one stretch of days stays a candidate for the
   next while it keeps receiving articles: stories are linked across windows
   without ever comparing an article with the whole corpus, and the cost per
   document is bounded by the stories of one window.
4. **Sink**: the store (SQLite or PostgreSQL), or Parquet files
   (`articles.parquet`: one row per stored article with its story;
   `outcomes.parquet`: one row per input document) written from a store.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import pickle
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol, TypeVar

from storyline.analyse import analyse_article
from storyline.config import Settings
from storyline.executors import Executor, InProcessExecutor
from storyline.link.stories import StoryLinker, default_linker
from storyline.pipeline import (
    ExtractJob,
    Pipeline,
    ProcessedDocument,
    extract_job,
    load_registry,
    with_link_inputs,
)
from storyline.records import Failure, IngestOutcome, RawDocument
from storyline.sources import read_inputs
from storyline.sources.files import expand_path
from storyline.store.base import Store

ExecutorKind = Literal["local", "process", "ray"]
T = TypeVar("T")
Processed = tuple[RawDocument, ProcessedDocument | Failure]
_SCHEME_SEP = "://"


# -- inputs ----------------------------------------------------------------------------
def _is_remote(spec: str) -> bool:
    return _SCHEME_SEP in spec and not spec.startswith(("http://", "https://", "file://"))


def expand_inputs(specs: Iterable[str]) -> tuple[list[str], list[Failure]]:
    """The files the specs name (sorted within each spec), and Failures for those naming none."""
    files: list[str] = []
    failures: list[Failure] = []
    for spec in specs:
        if spec.startswith(("http://", "https://")):
            failures.append(Failure(spec, "read", "batch reads files; use `ingest` for URLs"))
        elif _is_remote(spec):
            try:
                files.extend(_remote_files(spec))
            except Exception as exc:  # a missing library, bad credentials, no such bucket
                failures.append(Failure(spec, "read", f"cannot list {spec}: {exc}"))
        else:
            spec = spec.removeprefix("file://")
            for item in expand_path(spec):
                if isinstance(item, Failure):
                    failures.append(item)
                else:
                    files.append(str(item))
    return files, failures


def _remote_files(spec: str) -> list[str]:
    import fsspec  # optional: only for remote inputs

    fs, path = fsspec.core.url_to_fs(spec)
    protocol = spec.split(_SCHEME_SEP, 1)[0]
    if any(c in path for c in "*?["):
        found = fs.glob(path)
    elif fs.isdir(path):
        found = fs.find(path)
    else:
        found = [path]
    if not found:
        raise FileNotFoundError("no files")
    return sorted(f"{protocol}{_SCHEME_SEP}{p}" for p in found)


def read_file(path: str, settings: Settings) -> Iterator[RawDocument | Failure]:
    """The documents of one input file (local, or remote through fsspec), offline."""
    if not _is_remote(path):
        yield from read_inputs([path], settings, follow_links=False)
        return
    try:
        import fsspec

        with tempfile.TemporaryDirectory(prefix="storyline-batch-") as tmp:
            local = Path(tmp) / Path(path.split(_SCHEME_SEP, 1)[1]).name
            with fsspec.open(path, "rb") as remote, local.open("wb") as out:
                _copy(remote, out)
            for item in read_inputs([str(local)], settings, follow_links=False):
                item.source = path + item.source[len(str(local)) :]
                yield item
    except Exception as exc:
        yield Failure(path, "read", f"cannot read {path}: {exc}")


def _copy(src: BinaryIO, dst: BinaryIO) -> None:
    shutil.copyfileobj(src, dst, length=1 << 20)


# -- per-document stage ------------------------------------------------------------------
@dataclass
class DocumentStage:
    """extract -> analyse -> link features + fingerprint for one document; never raises.

    Picklable, so executors ship it to workers; `warm_up` loads the models once.
    """

    settings: Settings
    linker: StoryLinker
    analyse: bool = True  # False skips the spaCy/time analyses (extraction and linking only)

    def warm_up(self) -> DocumentStage:
        load_registry(self.settings.outlet_registry_paths)
        if not self.analyse:
            return self
        try:
            from storyline.analyse.nlp import ModelUnavailable, load_nlp

            load_nlp()
        except ModelUnavailable:
            pass  # analysis reports the missing model per article
        return self

    def __call__(self, item: RawDocument | Failure) -> Processed | Failure:
        return self.complete(self.extracted(item))

    # The two halves of the stage, for executors that run them apart: extraction
    # (cheap; it tells the document's date, hence its place in the canonical order)
    # and the rest (analysis, embedding, fingerprint), which can then run in that
    # order while the global stage consumes the results.
    def extracted(self, item: RawDocument | Failure) -> Processed | Failure:
        """Extraction alone; never raises."""
        if isinstance(item, Failure):
            return item
        job = ExtractJob(
            item,
            self.settings.outlet_registry_paths,
            self.settings.limits.html_max_depth,
            analyse=False,
        )
        return item, extract_job(job)

    def complete(self, item: Processed | Failure) -> Processed | Failure:
        """Analysis (when enabled), link features and MinHash of an extracted document."""
        if isinstance(item, Failure):
            return item
        raw, result = item
        if not isinstance(result, ProcessedDocument):
            return item
        if self.analyse and not result.analyses:
            try:
                result = replace(result, analyses=analyse_article(result.article))
            except Exception as exc:  # as in extract_job: one document, not the batch
                reason = f"unexpected {type(exc).__name__}: {exc}"
                return raw, Failure(raw.source, "extract", reason)
        try:
            result = with_link_inputs(result, self.linker)
        except Exception as exc:  # a bug must cost one document, not the batch
            return raw, Failure(raw.source, "link", f"{type(exc).__name__}: {exc}")
        return raw, result


# -- workers holding the stage -----------------------------------------------------------
# The stage of a pool worker: set once per worker (`_init_worker`), so items are
# shipped alone instead of with the stage's settings and linker every time.
_WORKER_STAGE: DocumentStage | None = None


# Workers yield the CPU to the process running the global stage: that stage is
# serial, so every moment it waits for a core the whole batch waits, while the
# workers have documents queued ahead and lose nothing by running a little later.
WORKER_NICENESS = 5


def _lower_priority() -> None:
    with contextlib.suppress(OSError):  # not permitted here: run at the same priority
        os.nice(WORKER_NICENESS)


def _init_worker(stage: DocumentStage) -> None:
    global _WORKER_STAGE
    _lower_priority()
    _WORKER_STAGE = stage.warm_up()


def _worker_batch(method: str, batch: list[Any]) -> list[Any]:
    """`stage.<method>` over a batch, in a pool worker: one round trip for many documents."""
    assert _WORKER_STAGE is not None
    apply = getattr(_WORKER_STAGE, method)
    return [apply(item) for item in batch]


@dataclass
class _StageFactory:
    """What a Ray actor calls once to build its stage (and load its models)."""

    stage: DocumentStage

    def __call__(self) -> DocumentStage:
        _lower_priority()
        return self.stage.warm_up()


class StageWorkers(Protocol):
    """Worker processes each holding a warmed `DocumentStage`, fed whole batches.

    `submit(method, batch)` queues `[stage.<method>(item) for item in batch]`
    ("extracted" or "complete") and returns a handle; `result(handle)` waits
    for that batch's results.
    """

    workers: int

    def submit(self, method: str, batch: list[Any]) -> Any: ...

    def result(self, handle: Any) -> list[Any]: ...

    def close(self) -> None: ...


class PoolStageWorkers:
    """`StageWorkers` on a local process pool (the stage is sent once per worker)."""

    def __init__(self, stage: DocumentStage, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.workers, initializer=_init_worker, initargs=(stage,)
        )

    def submit(self, method: str, batch: list[Any]) -> cf.Future[list[Any]]:
        return self._pool.submit(_worker_batch, method, batch)

    def result(self, handle: cf.Future[list[Any]]) -> list[Any]:
        return handle.result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


# Batches start small so the first results (and the global stage) come quickly, then
# double up to this size, so a round trip to a worker is paid for many documents.
LARGEST_BATCH = 16
# Batches queued per worker: while the driver waits for the batch it needs next, the
# workers always have the following ones to work on.
BATCHES_PER_WORKER = 3


def growing_batches(items: Iterable[T], largest: int = LARGEST_BATCH) -> Iterator[list[T]]:
    """`items` in consecutive batches of 1, 2, 4, ... then `largest` items."""
    size, batch = 1, []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            size, batch = min(size * 2, largest), []
    if batch:
        yield batch


def ordered_map(
    workers: StageWorkers, method: str, items: Iterable[Any], largest: int = LARGEST_BATCH
) -> Iterator[Any]:
    """`stage.<method>(item)` for every item on the workers, lazily, in input order.

    At most `BATCHES_PER_WORKER` batches per worker are in flight (bounded memory
    on endless inputs); the queue is refilled before the caller gets a batch's
    results, so the workers keep busy while the caller consumes them.
    """
    pending: deque[Any] = deque()
    limit = BATCHES_PER_WORKER * max(1, workers.workers)
    batches = growing_batches(items, largest)
    exhausted = False
    while True:
        while not exhausted and len(pending) < limit:
            batch = next(batches, None)
            if batch is None:
                exhausted = True
            else:
                pending.append(workers.submit(method, batch))
        if not pending:
            return
        yield from workers.result(pending.popleft())


# -- canonical order -------------------------------------------------------------------
def order_key(item: Processed | Failure) -> tuple[bool, str, str]:
    """(undated last, published, source): the order the global stage sees documents in."""
    if isinstance(item, Failure):
        return (True, "", item.source)
    raw, result = item
    published = (
        result.article.published if isinstance(result, ProcessedDocument) else raw.published
    )
    return (published is None, published or "", raw.source)


class SpillSorter:
    """Sorts pickled items by key with only the keys in memory; the items wait on disk."""

    def __init__(self, directory: str | None = None) -> None:
        # Closed in close(); a context manager cannot span the write and read phases.
        self._file = tempfile.TemporaryFile(dir=directory, prefix="storyline-spill-")  # noqa: SIM115
        self._index: list[tuple[Any, int, int]] = []

    def add(self, key: Any, item: Any) -> None:
        data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        offset = self._file.seek(0, os.SEEK_END)
        self._file.write(data)
        self._index.append((key, offset, len(data)))

    def __len__(self) -> int:
        return len(self._index)

    def sorted_items(self) -> Iterator[Any]:
        self._index.sort(key=lambda entry: entry[0])
        for _, offset, size in self._index:
            self._file.seek(offset)
            yield pickle.loads(self._file.read(size))

    def close(self) -> None:
        self._file.close()


# -- the job ---------------------------------------------------------------------------
@dataclass
class BatchResult:
    documents: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"new": 0, "duplicate": 0, "failed": 0})
    # Wall seconds of the two phases.  Process pool: the first is reading and
    # extraction, the second the rest of the per-document stages in the workers
    # overlapped with the global stage; otherwise: all per-document stages, then
    # ordering + global stages + store.
    per_document_seconds: float = 0.0
    global_seconds: float = 0.0


@dataclass
class BatchJob:
    """Run the batch job over `inputs` into `store`; see the module docstring.

    `executor`: "local" (in process), "process" (local pool of `workers`), or
    "ray" (`workers` Ray actors; `address` for an existing cluster).
    """

    store: Store
    settings: Settings = field(default_factory=Settings.from_env)
    linker: StoryLinker = field(default_factory=default_linker)
    executor: ExecutorKind = "local"
    workers: int = 1
    address: str | None = None
    spill_dir: str | None = None
    analyse: bool = True

    def run(
        self,
        inputs: Iterable[str],
        on_outcome: Callable[[IngestOutcome], None] | None = None,
    ) -> BatchResult:
        result = BatchResult()
        files, failures = expand_inputs(inputs)
        stage = DocumentStage(self.settings, self.linker, self.analyse)

        def count(outcome: IngestOutcome) -> None:
            result.counts[outcome.status] += 1
            if on_outcome is not None:
                on_outcome(outcome)

        workers = self._stage_workers(stage)
        if workers is not None:
            try:
                self._run_overlapped(files, failures, workers, result, count)
            finally:
                workers.close()
            return result
        sorter = SpillSorter(self.spill_dir)
        try:
            started = time.perf_counter()
            for failure in failures:
                sorter.add(order_key(failure), failure)
            stage.warm_up()
            executor: Executor = InProcessExecutor()
            documents = (item for f in files for item in read_file(f, self.settings))
            for item in executor.map(stage, documents):
                sorter.add(order_key(item), item)
            result.documents = len(sorter)
            result.per_document_seconds = time.perf_counter() - started

            started = time.perf_counter()
            pipeline = Pipeline(self.store, self.settings, linker=self.linker)
            pipeline.ingest_processed(
                sorter.sorted_items(), on_outcome=count, keep_outcomes=False
            )
            result.global_seconds = time.perf_counter() - started
        finally:
            sorter.close()
        return result

    def _stage_workers(self, stage: DocumentStage) -> StageWorkers | None:
        """The workers of a pool or of Ray; None runs in process (a pool of one would
        only add the cost of shipping documents to a single worker)."""
        if self.executor == "ray":
            from storyline.executors.ray import RayStageWorkers

            return RayStageWorkers(
                _StageFactory(stage), workers=max(1, self.workers), address=self.address
            ).start()
        if self.executor == "process" and self.workers > 1:
            return PoolStageWorkers(stage, self.workers)
        return None

    def _run_overlapped(
        self,
        files: list[str],
        failures: list[Failure],
        workers: StageWorkers,
        result: BatchResult,
        count: Callable[[IngestOutcome], None],
    ) -> None:
        """Per-document stages on workers in two phases, so the global stage never waits
        for all of them.

        1. This process reads the inputs; the workers extract every document
           (cheap), which fixes each document's place in the canonical order.
        2. In that order, the workers analyse, embed and fingerprint while this
           process runs the global stage on the results as they come back: the
           embedding, the bulk of the per-document cost, runs beside the store's
           work instead of before it.
        Documents travel in batches (`ordered_map`), a few batches per worker in
        flight, so neither side waits on a round trip per document.
        """
        sorter = SpillSorter(self.spill_dir)
        try:
            started = time.perf_counter()
            for failure in failures:
                sorter.add(order_key(failure), failure)
            documents = (item for f in files for item in read_file(f, self.settings))
            for item in ordered_map(workers, "extracted", documents):
                sorter.add(order_key(item), item)
            result.documents = len(sorter)
            result.per_document_seconds = time.perf_counter() - started

            started = time.perf_counter()
            pipeline = Pipeline(self.store, self.settings, linker=self.linker)
            pipeline.ingest_processed(
                ordered_map(workers, "complete", sorter.sorted_items()),
                on_outcome=count,
                keep_outcomes=False,  # counted and handed to on_outcome as they come
            )
            result.global_seconds = time.perf_counter() - started
        finally:
            sorter.close()


# -- Parquet sink ------------------------------------------------------------------------
ARTICLE_COLUMNS = (
    "article_id",
    "story_id",
    "source",
    "url",
    "outlet",
    "published",
    "language",
    "title",
    "body",
)


def write_parquet(store: Store, out_dir: Path, rows_per_group: int = 10_000) -> Path:
    """Every article in a story, with its story id, to `out_dir/articles.parquet`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "articles.parquet"
    schema = pa.schema([(name, pa.string()) for name in ARTICLE_COLUMNS])
    buffer: dict[str, list[str | None]] = {name: [] for name in ARTICLE_COLUMNS}
    with pq.ParquetWriter(path, schema) as writer:

        def flush() -> None:
            if buffer["article_id"]:
                writer.write_table(pa.table(buffer, schema=schema))
                for values in buffer.values():
                    values.clear()

        for story in store.iter_stories():
            for a in story.articles:
                row = (a.id, story.id, a.source, a.url, a.outlet, a.published, a.language,
                       a.title, a.body)
                for name, value in zip(ARTICLE_COLUMNS, row, strict=True):
                    buffer[name].append(value)
                if len(buffer["article_id"]) >= rows_per_group:
                    flush()
        flush()
    return path


class OutcomeParquetWriter:
    """Streams IngestOutcomes to `outcomes.parquet` in row groups (bounded memory)."""

    COLUMNS = ("source", "status", "article_id", "story_id", "duplicate_of", "reason")

    def __init__(self, path: Path, rows_per_group: int = 10_000) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self._schema = pa.schema([(name, pa.string()) for name in self.COLUMNS])
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, self._schema)
        self._rows: list[IngestOutcome] = []
        self._group = rows_per_group

    def __call__(self, outcome: IngestOutcome) -> None:
        self._rows.append(outcome)
        if len(self._rows) >= self._group:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            columns = {name: [getattr(o, name) for o in self._rows] for name in self.COLUMNS}
            self._writer.write_table(self._pa.table(columns, schema=self._schema))
            self._rows.clear()

    def close(self) -> None:
        self._flush()
        self._writer.close()
