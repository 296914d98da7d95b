"""The batch job: a corpus of files -> per-document stages in parallel -> global stages -> sink.

1. **Inputs**: paths, directories and globs of WARC, JSON Lines or HTML files;
   `s3://` and other fsspec URLs when fsspec and the file system's library are
   installed (each remote file is copied to a temporary file, then read like a
   local one).
2. **Per-document stages** (`DocumentStage`): extract, analyse (time
   expressions, spaCy entities/quotes, events), the linker's features
   (embedding) and the MinHash fingerprint.  Pure and independent, so they run
   on any executor: in process, a local process pool, or Ray (`RayRunner`,
   one actor per worker holding the models).
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

import contextlib
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Literal

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


# The stage of a pool worker: set once per worker (`_init_worker`), so items are
# shipped alone instead of with the stage's settings and linker every time.
_WORKER_STAGE: DocumentStage | None = None


# Pool workers yield the CPU to the process running the global stage: that stage is
# serial, so every moment it waits for a core the whole batch waits, while the
# workers have documents queued ahead and lose nothing by running a little later.
WORKER_NICENESS = 5


def _init_worker(stage: DocumentStage) -> None:
    global _WORKER_STAGE
    with contextlib.suppress(OSError):  # not permitted here: run at the same priority
        os.nice(WORKER_NICENESS)
    _WORKER_STAGE = stage.warm_up()


def _worker_extracted(item: RawDocument | Failure) -> Processed | Failure:
    assert _WORKER_STAGE is not None
    return _WORKER_STAGE.extracted(item)


def _worker_complete(item: Processed | Failure) -> Processed | Failure:
    assert _WORKER_STAGE is not None
    return _WORKER_STAGE.complete(item)


@dataclass
class _StageFactory:
    """What a Ray actor calls once to build its stage (and load its models)."""

    stage: DocumentStage

    def __call__(self) -> DocumentStage:
        return self.stage.warm_up()


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

        if self.executor == "process" and self.workers > 1:
            self._run_overlapped(files, failures, stage, result, count)
            return result
        sorter = SpillSorter(self.spill_dir)
        try:
            started = time.perf_counter()
            for failure in failures:
                sorter.add(order_key(failure), failure)
            for item in self._per_document(files, stage):
                sorter.add(order_key(item), item)
            result.documents = len(sorter)
            result.per_document_seconds = time.perf_counter() - started

            started = time.perf_counter()
            pipeline = Pipeline(self.store, self.settings, linker=self.linker)
            pipeline.ingest_processed(sorter.sorted_items(), on_outcome=count)
            result.global_seconds = time.perf_counter() - started
        finally:
            sorter.close()
        return result

    def _run_overlapped(
        self,
        files: list[str],
        failures: list[Failure],
        stage: DocumentStage,
        result: BatchResult,
        count: Callable[[IngestOutcome], None],
    ) -> None:
        """Process pool in two phases, so the global stage does not wait for the slowest part.

        1. The workers extract every document (cheap), which fixes the canonical order.
        2. In that order, the workers analyse, embed and fingerprint while this
           process runs the global stage on the results as they come back (the
           pool keeps a few documents in flight): the embedding, the bulk of the
           per-document cost, overlaps the store's work instead of preceding it.
        """
        from storyline.executors import ProcessPoolExecutor

        executor = ProcessPoolExecutor(self.workers, initializer=_init_worker, initargs=(stage,))
        sorter = SpillSorter(self.spill_dir)
        try:
            started = time.perf_counter()
            for failure in failures:
                sorter.add(order_key(failure), failure)
            documents = (item for f in files for item in read_file(f, self.settings))
            for item in executor.map(_worker_extracted, documents):
                sorter.add(order_key(item), item)
            result.documents = len(sorter)
            result.per_document_seconds = time.perf_counter() - started

            started = time.perf_counter()
            pipeline = Pipeline(self.store, self.settings, linker=self.linker)
            pipeline.ingest_processed(
                executor.map(_worker_complete, sorter.sorted_items()), on_outcome=count
            )
            result.global_seconds = time.perf_counter() - started
        finally:
            sorter.close()
            executor.close()

    def _per_document(
        self, files: list[str], stage: DocumentStage
    ) -> Iterator[Processed | Failure]:
        if self.executor == "ray":
            from storyline.executors.ray import RayRunner

            runner = RayRunner(workers=max(1, self.workers), address=self.address)
            try:
                yield from runner.run(files, _FileReader(self.settings), _StageFactory(stage))
            finally:
                runner.close()
            return
        # In process (a pool of several workers runs in `_run_overlapped`).
        executor: Executor = InProcessExecutor()
        try:
            documents = (item for f in files for item in read_file(f, self.settings))
            yield from executor.map(stage.warm_up(), documents)
        finally:
            executor.close()


@dataclass
class _FileReader:
    """Picklable `read_file` bound to settings, for Ray reading tasks."""

    settings: Settings

    def __call__(self, path: str) -> Iterator[RawDocument | Failure]:
        return read_file(path, self.settings)


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
