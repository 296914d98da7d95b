"""Near-copies from the story window's in-memory band index (`CopyIndex`), the same as
the store's band-key lookup over the stories active in the linking window."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from storyline.config import Settings
from storyline.corpus import write_corpus
from storyline.link.dedup import band_keys, lsh_params, minhash_signature
from storyline.link.syndication import CopyIndex
from storyline.pipeline import Pipeline, StoryWindow
from storyline.sources import read_inputs
from storyline.store import open_store
from storyline.store.base import window_bounds

sys.path.insert(0, str(Path(__file__).parent))
from test_batch import SOURCES

TEXT = (
    "The council voted seven to two on Tuesday to close one lane of the harbour bridge "
    "for eighteen months while engineers replace corroded cables under the eastern span. "
    "Shop owners near the bridge asked for a parking plan before the work begins."
)


def _signature(text: str) -> np.ndarray:
    return np.asarray(minhash_signature(text), dtype=np.uint32)


def test_matches_rank_by_shared_bands_then_id_and_stories_leave_whole() -> None:
    index = CopyIndex()
    same = _signature(TEXT)
    edited = same.copy()
    bands, rows = lsh_params()
    edited[: rows * (bands // 2)] += 1  # half the bands differ: fewer shared
    other = _signature("An unrelated text about a museum reopening after a decade of work.")
    index.add("s1", "b", "Outlet B", same)
    index.add("s1", "a", "Outlet A", same)
    index.add("s2", "c", "Outlet C", edited)
    index.add("s3", "d", "Outlet D", other)
    found = index.matches(same)
    assert [m[0] for m in found] == ["a", "b", "c"]  # all bands shared (by id), then half
    assert found[0][1:3] == ("s1", "Outlet A")
    assert np.array_equal(found[0][3], same)
    assert [m[0] for m in index.matches(same, keep=lambda story: story != "s1")] == ["c"]
    index.drop_story("s1")
    assert [m[0] for m in index.matches(same)] == ["c"]
    index.drop_story("s2")
    assert index.matches(same) == []
    assert [m[0] for m in index.matches(other)] == ["d"]
    index.clear()
    assert index.matches(other) == []


def test_an_empty_text_matches_nothing() -> None:
    index = CopyIndex()
    empty = _signature("")
    index.add("s1", "a", None, empty)
    assert index.matches(empty) == []


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("copies")
    write_corpus(out, 40, "jsonl", seed=5, sources=SOURCES)
    settings = Settings.from_env()
    store = open_store(str(out / "store.db"))
    raws = sorted(read_inputs([str(out / "articles")], settings), key=lambda r: r.source)
    report = Pipeline(store, settings).ingest(raws)
    assert report.count("failed") == 0
    yield store
    store.close()


def test_window_copies_are_the_stores_band_key_matches_in_the_window(stored) -> None:
    """For every stored article, the window's near-copy candidates around its date are
    the store's band-key matches among stories active in the same range."""
    window_days = 7.0
    compared = with_copies = 0
    for story in stored.iter_stories():
        for article in story.articles:
            features = stored.get_features(article.id)
            if not features or not features.get("minhash") or not article.published:
                continue
            signature = features["minhash"]
            low, high = window_bounds(article.published, window_days)
            window = StoryWindow(stored, window_days)
            window.cover(article.published)
            mine = window.copy_matches(signature, low, high)
            theirs = stored.band_key_matches(band_keys(signature, *lsh_params()),
                                             limit=10_000, within=(low, high))
            assert {m[:3] for m in mine} == {m[:3] for m in theirs}
            compared += 1
            with_copies += sum(1 for m in mine if m[0] != article.id) > 0
    assert compared >= 15 and with_copies >= 8, (compared, with_copies)  # copies exist
