"""The Python API: one object that ingests inputs and reads stories back.

The CLI, the REST API and the web app are thin layers over `Storyline`.

    from storyline import Storyline
    with Storyline("news.db") as sl:
        report = sl.ingest(["articles/", "https://example.org/feed.xml"])
        for row in sl.stories():
            print(row.title, row.outlets)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from storyline.analyse import ANALYSIS_KINDS
from storyline.config import Settings
from storyline.executors import make_executor
from storyline.interfaces.export import StoryAnalyses, story_to_dict, write_export
from storyline.link.syndication import LINK_ANALYSIS_KINDS
from storyline.pipeline import Pipeline
from storyline.records import (
    Article,
    Failure,
    IngestOutcome,
    IngestReport,
    RawDocument,
    SearchHit,
    Story,
    StorySummary,
)
from storyline.sources import read_inputs
from storyline.store import open_store
from storyline.store.base import IngestError, Store


def sample_paths() -> list[Path]:
    """The sample articles shipped with the package (two reports of one story)."""
    folder = resources.files("storyline") / "examples"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".txt"))


class Storyline:
    def __init__(
        self,
        db: str | None = None,
        *,
        settings: Settings | None = None,
        workers: int = 1,
    ) -> None:
        if settings is None:
            settings = Settings.from_env(db=db)
        elif db is not None:
            settings = replace(settings, db=db)
        self.settings = settings
        self.store: Store = open_store(self.settings.db)
        self.workers = workers

    # -- writing -------------------------------------------------------------
    def ingest(
        self,
        inputs: Iterable[str] | str,
        *,
        on_outcome: Callable[[IngestOutcome], None] | None = None,
        stdin: BinaryIO | None = None,
        allow_private_addresses: bool = True,
    ) -> IngestReport:
        """Ingest paths, globs, directories, URLs, feeds or `-` (stdin)."""
        if isinstance(inputs, str):
            inputs = [inputs]
        items = read_inputs(
            inputs, self.settings, stdin=stdin, allow_private_addresses=allow_private_addresses
        )
        return self.ingest_documents(items, on_outcome=on_outcome)

    def ingest_documents(
        self,
        documents: Iterable[RawDocument | Failure],
        *,
        on_outcome: Callable[[IngestOutcome], None] | None = None,
    ) -> IngestReport:
        executor = make_executor(self.workers)
        try:
            pipeline = Pipeline(self.store, self.settings, executor=executor)
            return pipeline.ingest(documents, on_outcome=on_outcome)
        finally:
            executor.close()

    # -- reading -------------------------------------------------------------
    def stories(self, limit: int = 50, offset: int = 0) -> list[StorySummary]:
        return self.store.list_stories(limit=limit, offset=offset)

    def story(self, story_id: str) -> Story | None:
        return self.store.get_story(story_id)

    def article(self, article_id: str) -> Article | None:
        return self.store.get_article(article_id)

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        return self.store.search(query, limit=limit)

    def story_analyses(self, story: Story) -> StoryAnalyses:
        """What the analysis stages stored for each article of `story`, by kind."""
        return {
            a.id: {
                kind: data
                for kind in (*ANALYSIS_KINDS, *LINK_ANALYSIS_KINDS)
                if (data := self.store.get_analysis(a.id, kind)) is not None
            }
            for a in story.articles
        }

    def story_json(self, story_id: str) -> dict[str, Any] | None:
        """The export JSON of one story (what the REST API returns), or None."""
        story = self.store.get_story(story_id)
        return None if story is None else story_to_dict(story, self.story_analyses(story))

    def export(self, out: TextIO, fmt: str = "json", story_ids: Iterable[str] | None = None) -> int:
        if story_ids is None:
            stories: Iterable[Story] = self.store.iter_stories()
        else:
            stories = [s for s in (self.store.get_story(i) for i in story_ids) if s is not None]
        return write_export(((s, self.story_analyses(s)) for s in stories), fmt, out)

    def failures(self, limit: int = 50) -> list[IngestError]:
        return self.store.recent_failures(limit)

    def check(self) -> list[str]:
        return self.store.check()

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Storyline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
