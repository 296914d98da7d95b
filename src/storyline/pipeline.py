"""The ingest job: sources -> extract -> (analyse) -> link -> store, one document at a time.

Per-document stages that need no shared state (extraction) run in an
executor; everything that depends on what is already stored (duplicates,
per-outlet boilerplate, story linking) runs here, in arrival order, and each
document is written in one transaction so a crash leaves it fully in or out.
"""

from __future__ import annotations

import functools
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from storyline import ids
from storyline.analyse import analyse_article
from storyline.config import Settings
from storyline.executors import Executor, InProcessExecutor
from storyline.extract import ExtractionError, extract, line_fingerprints
from storyline.extract.outlets import OutletRegistry
from storyline.link.cluster import decode_vector
from storyline.link.dedup import band_keys, lsh_params, minhash_signature
from storyline.link.passages import PreparedText, prepare
from storyline.link.stories import (
    LinkDecision,
    StatefulLinker,
    StoryLinker,
    default_linker,
    next_checkpoint,
)
from storyline.link.syndication import (
    MAX_PASSAGE_PARTNERS,
    PASSAGE_PARTNERS,
    NearDuplicate,
    nearest_copy,
    passages_against,
)
from storyline.records import Article, Failure, IngestOutcome, IngestReport, RawDocument
from storyline.store.base import Store, StoreError, StoryCandidate, window_bounds

# A line seen in this many earlier articles of the same outlet is page furniture.
BOILERPLATE_MIN_ARTICLES = 3
# Tokenised article bodies kept for passage alignment (a few days of a busy stream's
# story members; ~20 kB each).
PREPARED_CACHE_SIZE = 500


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
    # `line_fingerprints(raw)`: the outlet-boilerplate candidates (HTML: a page parse).
    fingerprints: list[str] | None = None


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
        return ProcessedDocument(
            article,
            analyse_article(article) if job.analyse else {},
            fingerprints=line_fingerprints(job.raw) if article.outlet else None,
        )
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


# Most candidate stories one decision compares (the store's default, most recent first).
CANDIDATE_LIMIT = 500
# Stories kept in memory beyond the linking window on each side (days); a window that
# moves further loads the new stretch and drops what fell out.
WINDOW_MARGIN_DAYS = 2.0


def _memory_features(features: dict[str, Any]) -> dict[str, Any]:
    # The MinHash is looked up through the store's band keys; not kept twice.
    return {k: v for k, v in features.items() if k != "minhash"}


class StoryWindow:
    """The candidate stories of the articles being linked, held in memory between articles.

    Loaded from the store the first time a date range is needed, then kept up
    to date with every article this process stores, so one link decision costs
    no store reads or JSON decoding of the stories around it.  A counter the
    store keeps of every change to story membership (`link_state('changes')`)
    tells, in one cheap read per article, that another process wrote: the
    window is then dropped and reloaded.  Candidates are exactly what
    `Store.candidate_stories` would return (same bounds, same limit, ties by id).
    """

    def __init__(
        self,
        store: Store,
        window_days: float,
        forget: Callable[[str], None] = lambda story_id: None,
        limit: int = CANDIDATE_LIMIT,
    ) -> None:
        self.store = store
        self.window_days = window_days
        self.limit = limit
        self._forget = forget
        self.stories: dict[str, StoryCandidate] = {}
        self.covered: tuple[str, str] | None = None  # every story overlapping it is loaded
        self.known_changes: int | None = None

    def clear(self) -> None:
        for story_id in self.stories:
            self._forget(story_id)
        self.stories.clear()
        self.covered = None

    def sync(self) -> bool:
        """Drop the window if the store changed behind it; True when another process wrote."""
        changes = self.store.link_state("changes") or 0
        if changes == self.known_changes:
            return False
        external = self.known_changes is not None or bool(self.stories)
        self.clear()
        self.known_changes = changes
        return external

    def cover(self, published: str | None) -> None:
        """Hold every story active within the window around `published` (no-op if undated)."""
        bounds = window_bounds(published, self.window_days)
        if bounds is not None:
            self._cover(published, *bounds)

    def candidates(self, published: str | None) -> list[StoryCandidate]:
        bounds = window_bounds(published, self.window_days)
        if bounds is None:  # undated: the most recently updated stories, as the store orders them
            recent = self.store.recent_stories(self.limit)
            self._load([c for c in recent if c.id not in self.stories])
            return [self.stories[c.id] for c in recent if c.id in self.stories]
        low, high = bounds
        self._cover(published, low, high)
        chosen = [
            c
            for c in self.stories.values()
            if c.last_seen is not None and c.first_seen is not None
            and c.last_seen >= low and c.first_seen <= high
        ]
        chosen.sort(key=lambda c: (c.last_seen or "", c.id), reverse=True)
        return chosen[: self.limit]

    def _cover(self, published: str | None, low: str, high: str) -> None:
        covered = self.covered
        if covered is not None and covered[0] <= low and high <= covered[1]:
            return
        if covered is None or high < covered[0] or low > covered[1]:
            self.clear()
            self._load(self.store.stories_between(low, high))
            self.covered = (low, high)
        else:
            found: list[StoryCandidate] = []
            if low < covered[0]:
                found += self.store.stories_between(low, covered[0])
            if high > covered[1]:
                found += self.store.stories_between(covered[1], high)
            self._load([c for c in {c.id: c for c in found}.values() if c.id not in self.stories])
            self.covered = (min(low, covered[0]), max(high, covered[1]))
        # Keep memory flat: what lies beyond the margin on either side is dropped.
        outer = window_bounds(published, self.window_days + WINDOW_MARGIN_DAYS)
        if outer is not None and self.covered is not None:
            keep = (max(self.covered[0], outer[0]), min(self.covered[1], outer[1]))
            if keep != self.covered:
                self.covered = keep
                for story_id in [
                    c.id for c in self.stories.values()
                    if c.last_seen is None or c.first_seen is None
                    or c.last_seen < keep[0] or c.first_seen > keep[1]
                ]:
                    del self.stories[story_id]
                    self._forget(story_id)

    def _load(self, stories: list[StoryCandidate]) -> None:
        if not stories:
            return
        features = self.store.story_features([c.id for c in stories])
        for c in stories:
            c.features = [_memory_features(f) for f in features.get(c.id, [])]
            self.stories[c.id] = c

    def overlaps(self, story: StoryCandidate) -> bool:
        covered = self.covered
        return (
            covered is not None and story.last_seen is not None and story.first_seen is not None
            and story.last_seen >= covered[0] and story.first_seen <= covered[1]
        )

    def added(self, story: StoryCandidate, features: dict[str, Any]) -> None:
        """An article this process stored in `story` (its stored row, read back after the write)."""
        held = self.stories.get(story.id)
        if held is not None:
            held.features.append(_memory_features(features))
            held.first_seen, held.last_seen = story.first_seen, story.last_seen
            held.article_count, held.title = story.article_count, story.title
        elif story.article_count <= 1:  # a story this article started
            story.features = [_memory_features(features)]
            self.stories[story.id] = story
        elif self.overlaps(story):  # a story from outside the window grew into it
            self._load([story])

    def nearest_members(self, story_id: str, embedding: str | None, k: int) -> list[str]:
        """Ids of the story's `k` articles closest to `embedding` (among its newest 50)."""
        held = self.stories.get(story_id)
        if held is None:  # a story from outside the window (a near-copy of an old article)
            self._load(self.store.stories_by_id([story_id]))
            held = self.stories.get(story_id)
        members = (held.features if held is not None else [])[-MAX_PASSAGE_PARTNERS:]
        ids = [f.get("article_id") for f in members]
        if not members or embedding is None:
            return [i for i in ids if i][-k:]
        mine = decode_vector(embedding)
        scored = []
        for article_id, f in zip(ids, members, strict=True):
            other = f.get("embedding")
            if article_id and other:
                vector = decode_vector(other)
                if vector.shape == mine.shape:
                    scored.append((-float(vector @ mine), article_id))
        scored.sort()
        return [article_id for _, article_id in scored[:k]]


@dataclass
class Pipeline:
    store: Store
    settings: Settings = field(default_factory=Settings.from_env)
    linker: StoryLinker = field(default_factory=default_linker)
    executor: Executor = field(default_factory=InProcessExecutor)
    _window: StoryWindow | None = field(default=None, init=False, repr=False)
    _stats_stale: bool = field(default=False, init=False, repr=False)
    # Tokenised bodies of recent articles: a story's members are passage partners
    # of article after article, and tokenising them is half the cost of a comparison.
    _prepared: OrderedDict[str, PreparedText] = field(
        default_factory=OrderedDict, init=False, repr=False
    )

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

    def warm_up(self) -> None:
        """Load the global stage's memory now rather than with the first article.

        Reads the linker's statistics (back-filling band keys and statistics of a
        store written before they existed); the story window loads with the first
        article's date.
        """
        self._link_window()

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
            fingerprints = processed.fingerprints
            if fingerprints is None and processed.article.outlet:
                fingerprints = line_fingerprints(raw)
            try:
                article, analyses = self._reclean_with_outlet_memory(
                    raw, processed, fingerprints or []
                )
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
            window = self._link_window()
            window.cover(article.published)
            keys = band_keys(signature, *lsh_params())
            near = nearest_copy(signature, self.store.band_key_matches(keys))
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
                decision = self.linker.decide(features, window.candidates(article.published))
            stateful = isinstance(self.linker, StatefulLinker)
            with self.store.transaction():
                if self.store.has_article(article.id):
                    return self._stored_outcome(raw, article.id)
                story_id = decision.story_id
                if story_id is None:
                    story_id = ids.story_id(article.id)
                    self.store.create_story(story_id, article.title, self.linker.similarity_method)
                    partners: list[Article] = []
                else:
                    partners = self._passage_partners(window, story_id, features, near)
                    # A linker may find that the article bridges stories that report one
                    # story (link/cluster.py `MergingDecision`): they move into its story.
                    for other in getattr(decision, "merge_from", None) or ():
                        self.store.merge_stories(
                            other, story_id, f"article {article.id} links both stories"
                        )
                self.store.add_article(article, story_id, features)
                for kind, data in analyses.items():
                    self.store.put_analysis(article.id, kind, data)
                self._store_passages(article, partners)
                if article.outlet:
                    if fingerprints is None:
                        fingerprints = line_fingerprints(raw)
                    self.store.add_boilerplate_lines(article.outlet, fingerprints)
                self.store.add_band_keys(article.id, signature, keys)
                position = None
                if stateful:
                    position = self._store_link_terms(features)
                stored = self.store.stories_by_id([story_id])
                changes = self.store.link_state("changes")
            self._after_commit(window, stored, features, changes, position)
            return IngestOutcome(
                raw.source, "new", article_id=article.id, story_id=story_id, title=article.title
            )
        except Exception as exc:  # the transaction rolled back; nothing stored changed
            detail = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, StoreError):
                detail += " | " + traceback.format_exc(limit=2).splitlines()[-1]
            return self._failed(Failure(raw.source, "store", detail))

    # -- the global stage's memory ----------------------------------------------
    def _link_window(self) -> StoryWindow:
        """The window, in step with the store (prepared once, checked once per article)."""
        if self._window is None:
            self._prepare_link_state()
            self._window = StoryWindow(
                self.store, self.linker.window_days, forget=self._forget_story
            )
        if self._window.sync():
            self._stats_stale = True  # another process stored articles meanwhile
        return self._window

    def _forget_story(self, story_id: str) -> None:
        if isinstance(self.linker, StatefulLinker):
            self.linker.forget_story(story_id)

    def _prepare_link_state(self) -> None:
        """Back-fill band keys and statistics of a store made before they existed; load them."""
        if self.store.link_state("ready") is None:
            with self.store.transaction():
                if self.store.link_state("ready") is None:
                    self._backfill_link_state()
        if isinstance(self.linker, StatefulLinker):
            self.linker.restore_stats(self.store.load_link_terms())

    def _backfill_link_state(self) -> None:
        counts: dict[str, dict[str, int]] = {}
        documents = 0
        bands = lsh_params()
        stateful = isinstance(self.linker, StatefulLinker)
        for article_id, _, features in self.store.iter_link_features():
            if features.get("minhash"):
                signature = features["minhash"]
                self.store.add_band_keys(article_id, signature, band_keys(signature, *bands))
            if stateful and "embedding" in features:
                documents += 1
                for kind, terms in self.linker.term_updates(features).items():
                    into = counts.setdefault(kind, {})
                    for term, n in terms.items():
                        into[term] = into.get(term, 0) + n
        if documents:
            self.store.add_link_terms(counts, documents)
            self.store.checkpoint_link_terms()
        self.store.set_link_state("ready", 1)

    def _store_link_terms(self, features: dict[str, Any]) -> tuple[int, int]:
        """Count the article in the stored statistics (inside its transaction)."""
        assert isinstance(self.linker, StatefulLinker)
        documents, checkpoint = self.store.add_link_terms(self.linker.term_updates(features))
        if documents >= next_checkpoint(checkpoint):
            checkpoint = self.store.checkpoint_link_terms()
        return documents, checkpoint

    def _after_commit(
        self,
        window: StoryWindow,
        stored: list[StoryCandidate],
        features: dict[str, Any],
        changes: int | None,
        position: tuple[int, int] | None,
    ) -> None:
        """Bring the in-memory window and statistics to what was just committed."""
        expected = None if window.known_changes is None else window.known_changes + 1
        if stored:
            window.added(stored[0], features)
        # One change is ours; any other means another process wrote meanwhile.
        window.known_changes = changes if changes == expected else None
        if position is None or not isinstance(self.linker, StatefulLinker):
            return
        before = self.linker.stats_position()
        self.linker.observe(features)
        mine = self.linker.stats_position()
        took_checkpoint = mine[1] != before[1] or position[1] != before[1]
        if mine[1] != position[1] or (self._stats_stale and took_checkpoint):
            # Out of step at a checkpoint (another writer): read the statistics again.
            self.linker.restore_stats(self.store.load_link_terms())
            for story_id in window.stories:
                self.linker.forget_story(story_id)
            self._stats_stale = False
        elif mine != position:
            self._stats_stale = True

    def _passage_partners(
        self,
        window: StoryWindow,
        story_id: str,
        features: dict[str, Any],
        near: NearDuplicate | None,
    ) -> list[Article]:
        """The near-copy and the story's members closest to the article: who shares passages."""
        chosen = [near.article_id] if near is not None else []
        for article_id in window.nearest_members(
            story_id, features.get("embedding"), PASSAGE_PARTNERS
        ):
            if article_id not in chosen and len(chosen) < PASSAGE_PARTNERS:
                chosen.append(article_id)
        partners = [self.store.get_article(article_id) for article_id in chosen]
        return [p for p in partners if p is not None]

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

    def _prepared_body(self, article: Article) -> PreparedText:
        """`prepare(article.body)`, from the cache when this body was prepared recently."""
        held = self._prepared.get(article.id)
        if held is not None and held.text == article.body:
            self._prepared.move_to_end(article.id)
            return held
        held = prepare(article.body)
        self._prepared[article.id] = held
        if len(self._prepared) > PREPARED_CACHE_SIZE:
            self._prepared.popitem(last=False)
        return held

    def _store_passages(self, article: Article, partners: list[Article]) -> None:
        """Record, on both sides, the passages the new article shares with its story."""
        found = passages_against(article, partners, self._prepared_body)
        for article_id, items in found.items():
            if article_id == article.id:
                self.store.put_analysis(article_id, "shared_passages", items)
            elif items:
                existing = self.store.get_analysis(article_id, "shared_passages") or []
                self.store.put_analysis(article_id, "shared_passages", existing + items)

    def _reclean_with_outlet_memory(
        self, raw: RawDocument, processed: ProcessedDocument, fingerprints: list[str]
    ) -> tuple[Article, dict[str, Any]]:
        """Drop lines this outlet repeats across its articles (menus, promos, footers)."""
        article = processed.article
        if not article.outlet:
            return article, processed.analyses
        counts = self.store.boilerplate_counts(article.outlet, fingerprints)
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
