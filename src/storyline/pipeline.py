"""The ingest job: sources -> extract -> (analyse) -> link -> store, one document at a time.

Per-document stages that need no shared state (extraction) run in an
executor; everything that depends on what is already stored (duplicates,
per-outlet boilerplate, story linking) runs here, in arrival order, and each
document is written in one transaction so a crash leaves it fully in or out.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from storyline import ids
from storyline.analyse import analyse_article
from storyline.config import Settings
from storyline.executors import Executor, InProcessExecutor
from storyline.extract import ExtractionError, extract, extract_document, line_fingerprints
from storyline.extract.outlets import OutletLines, OutletRegistry
from storyline.link.base import FrozenFeatures
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
    CopyIndex,
    NearDuplicate,
    nearest_copy,
    passages_against,
)
from storyline.records import Article, Failure, IngestOutcome, IngestReport, RawDocument
from storyline.store.base import Store, StoreError, StoryCandidate, window_bounds

# A line seen in this many earlier articles of the same outlet is page furniture.
BOILERPLATE_MIN_ARTICLES = 3
# Outlets whose known lines a pipeline holds (a few thousand fingerprints each at 1M
# stored articles); the least recently used one is read again when next needed.
OUTLET_MEMORY_SIZE = 256
# Tokenised article bodies kept for passage alignment (a few days of a busy stream's
# story members; ~150 kB each as Python objects, so ~75 MB when full).
PREPARED_CACHE_SIZE = 500


@dataclass(frozen=True, slots=True)
class ExtractJob:
    raw: RawDocument
    registry_paths: tuple[str, ...]
    max_html_depth: int
    analyse: bool = True  # False: extraction only (measuring, bulk loads)
    # The known lines of the outlet the document declares (`OutletRegistry.declared_outlet`),
    # applied before analysis when extraction confirms the outlet; None: the global stage
    # applies the outlet's memory.
    outlet_lines: OutletLines | None = None
    # The linker whose features (embedding) and the MinHash to compute here, so the
    # global stage does not; None leaves them to the global stage.
    linker: StoryLinker | None = None


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
    # The outlet's known lines among `fingerprints` that `article` was cleaned with
    # (`reclean_with_known_lines`); None when no memory reached this stage.  The global
    # stage re-cleans only if the memory differs from this by then.
    boilerplate_applied: frozenset[str] | None = None
    # The lines of the article's text that known boilerplate could remove
    # (`Extraction.removable_lines`); None when not known (then a memory re-cleans).
    removable_lines: frozenset[str] | None = None


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


def reclean_with_known_lines(
    raw: RawDocument,
    article: Article,
    known: frozenset[str],
    registry: OutletRegistry,
    max_html_depth: int,
    removable: frozenset[str] | None = None,
) -> Article:
    """`article` (extracted without memory) cleaned again without the outlet's `known` lines.

    The same article when nothing changes in its body (its other fields stay as the
    first pass found them), at once when none of `known` is among the `removable` lines
    of the first pass.  Raises ExtractionError when nothing but furniture is left.
    """
    if not known or (removable is not None and known.isdisjoint(removable)):
        return article
    recleaned = extract(raw, registry, known_boilerplate=known, max_html_depth=max_html_depth)
    return article if recleaned.body == article.body else recleaned


def apply_outlet_lines(
    raw: RawDocument,
    processed: ProcessedDocument,
    outlet_lines: OutletLines,
    registry: OutletRegistry,
    max_html_depth: int,
) -> ProcessedDocument:
    """The outlet's line memory applied to a document extracted without it; pure.

    Leaves the document as it was (memory not applied) when the memory is another
    outlet's or when the re-clean leaves no article: the global stage then decides.
    Analyses and link inputs computed before are dropped if the article changed.
    """
    article = processed.article
    if not article.outlet or article.outlet != outlet_lines.outlet:
        return processed
    fingerprints = processed.fingerprints
    if fingerprints is None:
        fingerprints = line_fingerprints(raw)  # as the global stage computes them
    known = outlet_lines.among(fingerprints)
    try:
        cleaned = reclean_with_known_lines(
            raw, article, known, registry, max_html_depth, processed.removable_lines
        )
    except ExtractionError:
        return processed  # the global stage reports it, with the memory as it is then
    if cleaned is article:
        return replace(processed, fingerprints=fingerprints, boilerplate_applied=known)
    return ProcessedDocument(
        cleaned,
        {},
        fingerprints=fingerprints,
        boilerplate_applied=known,
        removable_lines=processed.removable_lines,
    )


def extract_job(job: ExtractJob) -> ProcessedDocument | Failure:
    """The executor-side stages: never raises, a bad document becomes a Failure."""
    try:
        registry = load_registry(job.registry_paths)
        extraction = extract_document(job.raw, registry, max_html_depth=job.max_html_depth)
        article = extraction.article
        fingerprints = line_fingerprints(job.raw) if article.outlet else None
        processed = ProcessedDocument(
            article,
            {},
            fingerprints=fingerprints,
            # Known lines are always among the fingerprints: the rest need not travel.
            removable_lines=(
                extraction.removable_lines.intersection(fingerprints)
                if fingerprints is not None
                else None
            ),
        )
        if job.outlet_lines is not None:
            processed = apply_outlet_lines(
                job.raw, processed, job.outlet_lines, registry, job.max_html_depth
            )
        if job.analyse:
            processed.analyses = analyse_article(processed.article)
        if job.linker is not None:
            try:
                processed = with_link_inputs(processed, job.linker)
            except Exception as exc:  # as in DocumentStage: one document, not the batch
                return Failure(job.raw.source, "link", f"{type(exc).__name__}: {exc}")
        return processed
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


class OutletMemory:
    """The outlets' known boilerplate lines, read from the store once per outlet.

    One keyed read per outlet (`Store.known_boilerplate_lines`), then kept in step
    with what this process stores (`learned`, after each commit); `clear` drops it
    all when another process may have written.  Least recently used outlets are
    dropped beyond `max_outlets`.
    """

    def __init__(
        self,
        store: Store,
        min_articles: int = BOILERPLATE_MIN_ARTICLES,
        max_outlets: int = OUTLET_MEMORY_SIZE,
    ) -> None:
        self.store = store
        self.min_articles = min_articles
        self.max_outlets = max_outlets
        self._lines: OrderedDict[str, OutletLines] = OrderedDict()
        self.loads = 0  # store reads, for tests and benchmarks

    def lines(self, outlet: str) -> OutletLines:
        held = self._lines.get(outlet)
        if held is None:
            lines = self.store.known_boilerplate_lines(outlet, self.min_articles)
            held = OutletLines(outlet, lines)
            self.loads += 1
            self._lines[outlet] = held
            if len(self._lines) > self.max_outlets:
                self._lines.popitem(last=False)
        else:
            self._lines.move_to_end(outlet)
        return held

    def learned(self, outlet: str, counts: dict[str, int]) -> None:
        """Committed line counts of `outlet` (`Store.add_boilerplate_lines`'s answer)."""
        held = self._lines.get(outlet)
        if held is None:
            return
        new = {h for h, n in counts.items() if n >= self.min_articles and h not in held.lines}
        if new:  # a line just became furniture: the snapshot handed out stays as it was
            self._lines[outlet] = OutletLines(outlet, held.lines | new)

    def clear(self) -> None:
        self._lines.clear()


# Most candidate stories one decision compares (the store's default, most recent first).
CANDIDATE_LIMIT = 500
# Stories kept in memory beyond the linking window on each side (days); a window that
# moves further loads the new stretch and drops what fell out.
WINDOW_MARGIN_DAYS = 2.0


# Feature values every link decision or passage lookup reads of every member: kept as they
# are; a member's other values are read only when a story summary is (re)built.
PLAIN_FEATURES = ("embedding", "article_id")


def shared_strings(features: Mapping[str, Any]) -> dict[str, Any]:
    """`features` with the words of its maps and lists as one shared object per word.

    The linker keeps the values of the articles it compares with (up to 50 per story in
    the window, link/cluster.py); each decoded from its own JSON, the same words were
    new strings in every article (~300 terms, ~60 names).  Equal values in the same
    order: no decision changes.
    """
    intern = sys.intern
    shared: dict[str, Any] = {}
    for key, value in features.items():
        if isinstance(value, dict) and all(type(k) is str for k in value):
            value = {intern(k): v for k, v in value.items()}
        elif isinstance(value, list) and value and all(type(v) is str for v in value):
            value = [intern(v) for v in value]
        shared[intern(key)] = value
    return shared


class PackedFeatures(FrozenFeatures):
    """One story member's link features as the window holds them: compressed JSON.

    The window keeps the features of every member of every story still active (a
    rebuilt story summary reads them all), and a long-running story never leaves
    it: as decoded dicts (~35 kB each: 300 term strings, the shingle integers) its
    members piled up without bound.  Packed they take ~4-6 kB; `PLAIN_FEATURES`
    stay plain.  The other values are decoded when read, with
    JSON's types, so they equal what the store gives back for the same article.
    """

    __slots__ = ("_keys", "_packed", "_plain")
    # The last member decoded and its values: a summary reads several keys of one
    # member in a row (one decode for all of them, no unbounded cache).
    _last: tuple[PackedFeatures, dict[str, Any]] | None = None

    def __init__(self, features: Mapping[str, Any]) -> None:
        self._keys = tuple(sys.intern(k) for k in features)
        self._plain = {k: features[k] for k in PLAIN_FEATURES if k in features}
        rest = {k: v for k, v in features.items() if k not in self._plain}
        text = json.dumps(rest, ensure_ascii=False, separators=(",", ":"))
        self._packed = zlib.compress(text.encode("utf-8"))

    def _unpacked(self) -> dict[str, Any]:
        last = PackedFeatures._last
        if last is not None and last[0] is self:
            return last[1]
        values = shared_strings(json.loads(zlib.decompress(self._packed)))
        PackedFeatures._last = (self, values)
        return values

    def __getitem__(self, key: str) -> Any:
        if key in self._plain:
            return self._plain[key]
        if key not in self._keys:
            raise KeyError(key)
        return self._unpacked()[key]

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._plain:
            return self._plain[key]
        return self._unpacked()[key] if key in self._keys else default

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"PackedFeatures({dict(self)!r})"


def _memory_features(features: Mapping[str, Any]) -> PackedFeatures:
    # The MinHash is looked up through the store's band keys; not kept twice.
    return PackedFeatures({k: v for k, v in features.items() if k != "minhash"})


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
        # The held stories' articles by LSH band: near-copies found without a store query.
        self.copies = CopyIndex()

    def clear(self) -> None:
        for story_id in self.stories:
            self._forget(story_id)
        self.stories.clear()
        self.copies.clear()
        self.covered = None

    def _drop(self, story_id: str) -> None:
        self.stories.pop(story_id, None)
        self.copies.drop_story(story_id)
        self._forget(story_id)

    def copy_matches(
        self, signature: Sequence[int], low: str, high: str
    ) -> list[tuple[str, str, str | None, Any]]:
        """`Store.band_key_matches(keys, within=(low, high))` over the held stories: the
        window holds every story active in its range (`cover`), so they are the same
        copies, ranked by shared bands then article id."""
        def active(story_id: str) -> bool:
            c = self.stories.get(story_id)
            return (
                c is not None and c.last_seen is not None and c.first_seen is not None
                and c.last_seen >= low and c.first_seen <= high
            )

        return self.copies.matches(signature, active)

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
                    self._drop(story_id)

    def _load(self, stories: list[StoryCandidate]) -> None:
        if not stories:
            return
        features = self.store.story_features([c.id for c in stories])
        for c in stories:
            stored = features.get(c.id, [])
            c.features = [_memory_features(f) for f in stored]
            self.stories[c.id] = c
            self.copies.drop_story(c.id)
            for f in stored:
                self._index_copy(c.id, f)

    def _index_copy(self, story_id: str, features: Mapping[str, Any]) -> None:
        if features.get("minhash") and features.get("article_id"):
            self.copies.add(
                story_id, str(features["article_id"]), features.get("outlet"), features["minhash"]
            )

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
            self._index_copy(story.id, features)
        elif story.article_count <= 1:  # a story this article started
            story.features = [_memory_features(features)]
            self.stories[story.id] = story
            self._index_copy(story.id, features)
        elif self.overlaps(story):  # a story from outside the window grew into it
            self._load([story])

    def reread(self, gone: Sequence[str], changed: Sequence[str]) -> None:
        """Stories this process restructured (merges, a split), committed: those emptied
        (`gone`) are dropped, the `changed` ones read again whole, their members in stored
        order, exactly what a reload of the whole window would give them."""
        for story_id in (*gone, *changed):
            self._drop(story_id)  # the linker's summary predates the change
        if changed:
            parts = self.store.stories_by_id(list(changed))
            self._load([c for c in parts if self.covered is None or self.overlaps(c)])

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
    _outlet_memory: OutletMemory | None = field(default=None, init=False, repr=False)
    # Articles the global stage cleaned again with the outlet memory (it changed since
    # their per-document stage, or none reached it): the costly path, counted.
    outlet_recleans: int = field(default=0, init=False)

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
        keep_outcomes: bool = True,
    ) -> IngestReport:
        """The global stage alone, for documents whose per-document stages ran elsewhere.

        Items are taken in the order given (that order decides which copy is
        the original and which story an article starts or joins); a bare
        Failure is a document that could not be read.  `keep_outcomes=False`
        returns an empty report (the outcomes go to `on_outcome` only), so a
        corpus of any size costs no memory per document here.
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

        return self._report(outcomes(), on_outcome, keep_outcomes)

    @staticmethod
    def _report(
        outcomes: Iterable[IngestOutcome],
        on_outcome: Callable[[IngestOutcome], None] | None,
        keep_outcomes: bool = True,
    ) -> IngestReport:
        report = IngestReport()
        for outcome in outcomes:
            if keep_outcomes:
                report.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return report

    def warm_up(self, around: str | None = None) -> None:
        """Load the global stage's memory now rather than with the first article.

        Reads the linker's statistics (back-filling band keys and statistics of a
        store written before they existed); with `around` (an ISO date, e.g. today
        for a live feed), also the story window around it, which otherwise loads
        with the first article's date.
        """
        self._link_window().cover(around)

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
                self._link_window()  # in step with the store before reading its memory
                yield ExtractJob(
                    item,
                    self.settings.outlet_registry_paths,
                    self.settings.limits.html_max_depth,
                    outlet_lines=self.declared_outlet_lines(item),
                    linker=self.linker,
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
            # In step with the store first: the outlet memory depends on it too.
            window = self._link_window()
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
            features = shared_strings(features)
            window.cover(article.published)
            keys = band_keys(signature, *lsh_params())
            # The same text weeks apart is a story that recurred (a re-dated wire text,
            # an annual event), not syndication: only copies in the linking window count.
            within = window_bounds(article.published, self.linker.window_days)
            if within is not None:  # the window holds every story active in it (`cover`)
                matches = window.copy_matches(signature, *within)
            else:  # undated: no window to hold them; the store looks among all stories
                matches = self.store.band_key_matches(keys)
            near = nearest_copy(signature, matches)
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
            merged: tuple[str, ...] = ()
            split: tuple[str, str] | None = None  # (story split, new story)
            # Changes to story membership our merges and splits made (the counter moves per
            # moved row on SQLite, per statement on PostgreSQL); None when they cannot be
            # told apart from another process's.
            own_changes: int | None = 0
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
                    merged = tuple(getattr(decision, "merge_from", None) or ())
                    split_off = tuple(getattr(decision, "split_off", None) or ())
                    at_start = 0
                    if merged or split_off:  # read only when the story changes shape
                        at_start = self.store.link_state("changes") or 0
                    # A linker may find that the article bridges stories that report one
                    # story (link/cluster.py `MergingDecision`): they move into its story.
                    for other in merged:
                        self.store.merge_stories(
                            other, story_id, f"article {article.id} links both stories"
                        )
                    # Or that the story it joins holds two events (`SplittingDecision`): the
                    # members of the other one move to a new story, named after this article.
                    held = window.stories.get(story_id)
                    if split_off and held is not None and max(split_off) < len(held.features):
                        moving = [held.features[i].get("article_id") for i in split_off]
                        if all(moving):
                            split = (story_id, ids.story_id(article.id))
                            self.store.split_story(
                                split[0],
                                [str(m) for m in moving],
                                split[1],
                                f"article {article.id} showed two events in the story",
                            )
                            gone = set(moving)
                            if getattr(decision, "article_moves", False):
                                story_id = split[1]
                                partners = [p for p in partners if p.id in gone]
                            else:
                                partners = [p for p in partners if p.id not in gone]
                    if merged or split is not None:
                        own_changes = (
                            (self.store.link_state("changes") or 0) - at_start
                            if at_start == window.known_changes
                            else None  # another process wrote since the window's check
                        )
                self.store.add_article(article, story_id, features)
                for kind, data in analyses.items():
                    self.store.put_analysis(article.id, kind, data)
                self._store_passages(article, partners)
                learned: dict[str, int] = {}
                if article.outlet:
                    if fingerprints is None:
                        fingerprints = line_fingerprints(raw)
                    learned = self.store.add_boilerplate_lines(article.outlet, fingerprints)
                self.store.add_band_keys(article.id, signature, keys)
                position = None
                if stateful:
                    position = self._store_link_terms(features)
                stored = self.store.stories_by_id([story_id])
                changes = self.store.link_state("changes")
            if article.outlet:
                self.outlet_memory.learned(article.outlet, learned)
            self._after_commit(
                window, stored, features, changes, position, merged, own_changes, split
            )
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
        known_changes = self._window.known_changes
        if self._window.sync():
            self._stats_stale = True  # another process stored articles meanwhile
        if self._window.known_changes != known_changes:
            # Stored articles we did not count (another process, or ours out of step):
            # what the outlets' line memory holds may be behind.
            self.outlet_memory.clear()
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
        stateful = self.linker if isinstance(self.linker, StatefulLinker) else None
        for article_id, _, features in self.store.iter_link_features():
            if features.get("minhash"):
                signature = features["minhash"]
                self.store.add_band_keys(article_id, signature, band_keys(signature, *bands))
            if stateful is not None and "embedding" in features:
                documents += 1
                for kind, terms in stateful.term_updates(features).items():
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
        merged: tuple[str, ...] = (),
        own_changes: int | None = 0,
        split: tuple[str, str] | None = None,
    ) -> None:
        """Bring the in-memory window and statistics to what was just committed."""
        expected = (
            None
            if window.known_changes is None or own_changes is None
            else window.known_changes + own_changes + 1
        )
        if split is not None or merged:
            # Stories our merges emptied are gone; the one the article joined (and the
            # one split off) are read again whole.
            changed = list(split) if split is not None else [c.id for c in stored[:1]]
            window.reread(gone=merged, changed=changed)
        elif stored:
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

    @property
    def outlet_memory(self) -> OutletMemory:
        if self._outlet_memory is None:
            self._outlet_memory = OutletMemory(self.store)
        return self._outlet_memory

    def outlet_lines(self, outlet: str | None) -> OutletLines | None:
        """The known boilerplate lines of `outlet`, for a per-document stage (None: no outlet)."""
        return self.outlet_memory.lines(outlet) if outlet else None

    def declared_outlet_lines(self, raw: RawDocument) -> OutletLines | None:
        """`outlet_lines` of the outlet `raw` declares (its outlet field or URL), if any."""
        registry = load_registry(self.settings.outlet_registry_paths)
        return self.outlet_lines(registry.declared_outlet(raw.outlet, raw.url))

    def _reclean_with_outlet_memory(
        self, raw: RawDocument, processed: ProcessedDocument, fingerprints: list[str]
    ) -> tuple[Article, dict[str, Any]]:
        """Drop lines this outlet repeats across its articles (menus, promos, footers).

        Usually the per-document stage did it already with the same memory
        (`ProcessedDocument.boilerplate_applied`): then nothing is done here.
        Otherwise (no memory reached that stage, or lines became known since) the
        article is cleaned again from the document and re-analysed if it changed.
        """
        article = processed.article
        if not article.outlet:
            return article, processed.analyses
        known = self.outlet_memory.lines(article.outlet).among(fingerprints)
        applied = processed.boilerplate_applied
        removable = processed.removable_lines
        if applied == known or (
            removable is not None
            and known.isdisjoint(removable)
            and (not applied or applied.isdisjoint(removable))
        ):
            # The same lines, or none that is in the text: cleaning again changes nothing.
            return article, processed.analyses
        registry = load_registry(self.settings.outlet_registry_paths)
        depth = self.settings.limits.html_max_depth
        # The stage's article was cleaned with other lines: start again from the first pass.
        plain = extract(raw, registry, max_html_depth=depth) if applied else article
        cleaned = reclean_with_known_lines(raw, plain, known, registry, depth, removable)
        if cleaned == article:
            return article, processed.analyses
        self.outlet_recleans += 1
        # Analysed as the per-document stage would have (it may have been told not to).
        return cleaned, analyse_article(cleaned) if processed.analyses else {}

    def _exact_duplicate(self, article: Article) -> str | None:
        if article.canonical_url:
            found = self.store.find_by_canonical_url(article.canonical_url)
            if found:
                return found
        return self.store.find_by_content_hash(article.content_hash)
