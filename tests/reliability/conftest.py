"""Fixtures for the reliability tests: a populated store, and the memory bound of a run."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helper modules next to the tests

from hostile_inputs import good_html
from reliability_helpers import RSS_HEADROOM_MB, run_cli, synthetic_corpus, write_jsonl

from storyline.service import Storyline


@pytest.fixture(scope="session")
def populated_store_template(
    tmp_path_factory: pytest.TempPathFactory, sample_paths: list[Path]
) -> Path:
    """A store holding the two sample articles and 24 synthetic reports (3 stories)."""
    folder = tmp_path_factory.mktemp("template")
    corpus = write_jsonl(folder / "corpus.jsonl", synthetic_corpus(24, 3, seed=7))
    db = folder / "template.db"
    with Storyline(str(db)) as sl:
        report = sl.ingest([*map(str, sample_paths), str(corpus)])
        assert report.count("new") == 26, [o.reason for o in report.failures]
    # Closing the last connection folds the WAL into the main file: one file to copy.
    assert not Path(f"{db}-wal").exists()
    return db


@pytest.fixture
def populated_store(populated_store_template: Path, tmp_path: Path) -> Path:
    """A private copy of the populated store."""
    db = tmp_path / "store" / "storyline.db"
    db.parent.mkdir()
    shutil.copyfile(populated_store_template, db)
    return db


@pytest.fixture(scope="session")
def max_rss_mb(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Peak-RSS bound for one `ingest`: a run storing one good page, plus headroom."""
    folder = tmp_path_factory.mktemp("baseline")
    page = folder / "good.html"
    page.write_text(good_html(), encoding="utf-8")
    run = run_cli(["ingest", "--db", str(folder / "b.db"), "-q", str(page)])
    assert run.code == 0, run.output
    print(f"baseline ingest of one page: peak RSS {run.peak_rss_mb:.0f} MB")
    return run.peak_rss_mb + RSS_HEADROOM_MB
