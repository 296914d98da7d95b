"""The ingest job: sources -> extract -> (analyse) -> link -> store, one document at a time.

Per-document stages that need no shared state (extraction) run in an
executor; everything that depends on what is already stored (duplicates,
per-outlet boilerplate, story linking) runs here, in arrival order, and each
document is written in one transaction so a crash leaves it fully in or out.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from storyline import ids
from storyline.analyse import analyse_article
from storyline.config import Settings
from storyline.executors import Executor, InProcessExecutor
from storyline.extract import ExtractionError, extract, line_fingerprints
from storyline.extract.outlets import OutletRegistry
from storyline.link.dedup import minhash_signature
from storyline.link.stories import LinkDecision, StoryLinker, default_linker
from storyline.link.syndication import find_near_duplicate, passages_against
from storyline.records import Article, Failure, IngestOutcome, IngestReport, RawDocument
from storyline.store.base import Store, StoreError

# A line seen in this many earlier articles of the same outlet is page furniture.
BOILERPLATE_MIN_ARTICLES = 3


@dataclass(frozen=True, slots=True)
class ExtractJob:
    raw: RawDocument
    registry_paths: tuple[str, ...]
    max_html_depth: int
    analyse: bool = True  # False: extraction only (measuring, bulk loads)


@dataclass(slots=True)
class ProcessedDocument:
    """The per-document stages' output: the clean article and its analyses by kind.

    `link_features` and `signature` are the linker's features and the MinHash
    of the body when the per-document stage computed them already (the batch
    path does, so that embedding and fingerprinting run in parallel workers);
    otherwise the global stage computes them.
    """

    article: Article
    analyses: dict[str, Any]
    link_features: dict[str, Any] | None = None
    signature: list[int] | None = None


def with_link_inputs(processed: ProcessedDocument, linker: StoryLinker) -> ProcessedDocument:
    """Add the linker's features and the MinHash signature: pure, per document."""
    return replace(
        processed,
        link_features=linker.features(processed.article),
        signature=[int(v) for v in minhash_signature(processed.article.body)],
    )


@functools.lru_cache(maxsize=8)
def load_registry(paths: tuple[str, ...] = ()) -> OutletRegistry:
    """One registry per process and set of user files (workers load it once)."""
    return OutletRegistry.load(paths)


def extract_job(job: ExtractJob) -> ProcessedDocument | Failure:
    """The executor-side stages: never raises, a bad document becomes a Failure."""
    try:
        article = extract(
            job.raw, load_registry(job.registry_paths), max_html_depth=job.max_html_depth
        )
        return ProcessedDocument(article, analyse_article(article) if job.analyse else {})
    except ExtractionError as exc:
        return Failure(job.raw.source, "extract", str(exc))
    except RecursionError:
        return Failure(job.raw.source, "extract", "document structure too deeply nested")
    except Exception as exc:  # a bug must cost one document, not the batch
        return Failure(job.raw.source, "extract", f"unexpected {type(exc).__name__}: {exc}")


def _extract_or_pass(
    entry: IngestOutcome | ExtractJob,
) -> IngestOutcome | tuple[ExtractJob, ProcessedDocument | Failure]:
    if isinstance(entry, IngestOutcome):
        return entry
    return entry, extract_job(entry)


@dataclass
class Pipeline:
    store: Store
    settings: Settings = field(default_factory=Settings.from_env)
    linker: StoryLinker = field(default_factory=default_linker)
    executor: Executor = field(default_factory=InProcessExecutor)

    def ingest(
        self,
        items: Iterable[RawDocument | Failure],
        on_outcome: Callable[[IngestOutcome], None] | None = None,
    ) -> IngestReport:
        return self._report(self._outcomes(items), on_outcome)

    def ingest_processed(
        self,
        items: Iterable[tuple[RawDocument, ProcessedDocument | Failure] | Failure],
        on_outcome: Callable[[IngestOutcome], None] | None = None,
    ) -> IngestReport:
        """The global stage alone, for documents whose per-document stages ran elsewhere.

        Items are taken in the order given (that order decides which copy is
        the original and which story an article starts or joins); a bare
        Failure is a document that could not be read.
        """
        seen_now: set[str] = set()

        def outcomes() -> Iterator[IngestOutcome]:
            for item in items:
                if isinstance(item, Failure):
                    yield self._failed(item)
                    continue
                raw, result = item
                known = self._already_stored(raw, seen_now)
                yield known if known is not None else self._global_stage(raw, result)

        return self._report(outcomes(), on_outcome)

    @staticmethod
    def _report(
        outcomes: Iterable[IngestOutcome], on_outcome: Callable[[IngestOutcome], None] | None
    ) -> IngestReport:
        report = IngestReport()
        for outcome in outcomes:
            report.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return report

    # -- internals -----------------------------------------------------------
    def _outcomes(self, items: Iterable[RawDocument | Failure]) -> Iterator[IngestOutcome]:
        # Documents already stored are answered before extraction: re-ingesting
        # a corpus costs one lookup per document.
        seen_now: set[str] = set()

        def prepared() -> Iterator[IngestOutcome | ExtractJob]:
            for item in items:
                if isinstance(item, Failure):
                    yield self._failed(item)
                    continue
                known = self._already_stored(item, seen_now)
                if known is not None:
                    yield known
                    continue
                yield ExtractJob(
                    item, self.settings.outlet_registry_paths, self.settings.limits.html_max_depth
                )

        for result in self._map_jobs(prepared()):
            if isinstance(result, IngestOutcome):
                yield result
            else:
                yield self._global_stage(result[0].raw, result[1])

    def _already_stored(self, raw: RawDocument, seen_now: set[str]) -> IngestOutcome | None:
        """The outcome for a document stored before (or earlier in this run), else None."""
        doc_id = ids.article_id(raw.url, raw.content)
        if doc_id in seen_now or self.store.has_article(doc_id):
            return self._stored_outcome(raw, doc_id)
        seen_now.add(doc_id)
        return None

    def _global_stage(
        self, raw: RawDocument, result: ProcessedDocument | Failure
    ) -> IngestOutcome:
        if isinstance(result, Failure):
            return self._failed(result)
        return self._store_article(raw, result)

    def _map_jobs(
        self, stream: Iterator[IngestOutcome | ExtractJob]
    ) -> Iterator[IngestOutcome | tuple[ExtractJob, ProcessedDocument | Failure]]:
        """Run extraction in the executor; outcomes decided earlier pass through in place."""
        return self.executor.map(_extract_or_pass, stream)

    def _failed(self, failure: Failure) -> IngestOutcome:
        try:
            with self.store.transaction():
                self.store.record_failure(failure.source, failure.stage, failure.reason)
        except StoreError:
            pass  # the failure is still reported to the caller
        return IngestOutcome(failure.source, "failed", reason=f"{failure.stage}: {failure.reason}")

    def _store_article(self, raw: RawDocument, processed: ProcessedDocument) -> IngestOutcome:
        try:
            try:
                article, analyses = self._reclean_with_outlet_memory(raw, processed)
            except ExtractionError as exc:  # nothing but the outlet's repeated lines
                return self._failed(Failure(raw.source, "extract", str(exc)))
            duplicate_of = self._exact_duplicate(article)
            if duplicate_of is not None:
                return self._store_duplicate(
                    raw, article, duplicate_of, "same text as a stored article"
                )
            precomputed = article is processed.article
            if precomputed and processed.link_features is not None:
                features = dict(processed.link_features)
            else:
                features = self.linker.features(article)
            if precomputed and processed.signature is not None:
                signature = processed.signature
            else:
                signature = [int(v) for v in minhash_signature(article.body)]
            # Carried in the stored features so later articles can recognise a copy.
            features.update(article_id=article.id, outlet=article.outlet, minhash=signature)
            candidates = self.store.candidate_stories(article.published, self.linker.window_days)
            near = find_near_duplicate(signature, candidates)
            if near is not None and near.outlet == article.outlet and article.outlet:
                # The same outlet's text again (a re-publication, an edited headline).
                return self._store_duplicate(
                    raw,
                    article,
                    near.article_id,
                    "near-copy of a stored article of the same outlet",
                )
            if near is not None:
                # Another outlet running the same copy: syndication, so the same story.
                decision = LinkDecision(
                    near.story_id, near.similarity, {"near_duplicate": near.similarity}
                )
            else:
                decision = self.linker.decide(features, candidates)
            with self.store.transaction():
                if self.store.has_article(article.id):
                    return self._stored_outcome(raw, article.id)
                story_id = decision.story_id
                if story_id is None:
                    story_id = ids.story_id(article.id)
                    self.store.create_story(story_id, article.title, self.linker.similarity_method)
                    partners: list[Article] = []
                else:
                    story = self.store.get_story(story_id)
                    partners = story.articles if story is not None else []
                self.store.add_article(article, story_id, features)
                for kind, data in analyses.items():
                    self.store.put_analysis(article.id, kind, data)
                self._store_passages(article, partners)
                if article.outlet:
                    self.store.add_boilerplate_lines(article.outlet, line_fingerprints(raw))
            return IngestOutcome(
                raw.source, "new", article_id=article.id, story_id=story_id, title=article.title
            )
        except Exception as exc:  # the transaction rolled back; nothing stored changed
            detail = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, StoreError):
                detail += " | " + traceback.format_exc(limit=2).splitlines()[-1]
            return self._failed(Failure(raw.source, "store", detail))

    def _store_duplicate(
        self, raw: RawDocument, article: Article, original: str, reason: str
    ) -> IngestOutcome:
        """Keep the copy for provenance, outside every story, so it is never counted."""
        article = replace(article, duplicate_of=original)
        with self.store.transaction():
            if self.store.has_article(article.id):
                return self._stored_outcome(raw, article.id)
            self.store.add_article(article, None)
        return IngestOutcome(
            raw.source,
            "duplicate",
            article_id=article.id,
            duplicate_of=original,
            story_id=self.store.article_story_id(original),
            title=article.title,
            reason=reason,
        )

    def _stored_outcome(self, raw: RawDocument, article_id: str) -> IngestOutcome:
        """This document is in the store (ingested before, or meanwhile by another process)."""
        return IngestOutcome(
            raw.source,
            "duplicate",
            article_id=article_id,
            duplicate_of=article_id,
            story_id=self.store.article_story_id(article_id),
            reason="already stored",
        )

    def _store_passages(self, article: Article, partners: list[Article]) -> None:
        """Record, on both sides, the passages the new article shares with its story."""
        found = passages_against(article, partners)
        for article_id, items in found.items():
            if article_id == article.id:
                self.store.put_analysis(article_id, "shared_passages", items)
            elif items:
                existing = self.store.get_analysis(article_id, "shared_passages") or []
                self.store.put_analysis(article_id, "shared_passages", existing + items)

    def _reclean_with_outlet_memory(
        self, raw: RawDocument, processed: ProcessedDocument
    ) -> tuple[Article, dict[str, Any]]:
        """Drop lines this outlet repeats across its articles (menus, promos, footers)."""
        article = processed.article
        if not article.outlet:
            return article, processed.analyses
        counts = self.store.boilerplate_counts(article.outlet, line_fingerprints(raw))
        known = frozenset(h for h, n in counts.items() if n >= BOILERPLATE_MIN_ARTICLES)
        if not known:
            return article, processed.analyses
        recleaned = extract(
            raw,
            load_registry(self.settings.outlet_registry_paths),
            known_boilerplate=known,
            max_html_depth=self.settings.limits.html_max_depth,
        )
        if recleaned.body == article.body:
            return article, processed.analyses
        return recleaned, analyse_article(recleaned)

    def _exact_duplicate(self, article: Article) -> str | None:
        if article.canonical_url:
            found = self.store.find_by_canonical_url(article.canonical_url)
            if found:
                return found
        return self.store.find_by_content_hash(article.content_hash)
