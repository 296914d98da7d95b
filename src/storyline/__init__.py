"""Storyline: follow one news story across many outlets.

    from storyline import Storyline
    with Storyline("news.db") as sl:
        sl.ingest(["articles/"])
        for story in sl.stories():
            ...
"""

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

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Failure",
    "IngestOutcome",
    "IngestReport",
    "RawDocument",
    "SearchHit",
    "Story",
    "StorySummary",
    "Storyline",
    "__version__",
]


def __getattr__(name: str) -> object:
    # Imported lazily so that `import storyline.records` in a worker stays light.
    if name == "Storyline":
        from storyline.service import Storyline

        return Storyline
    raise AttributeError(name)
