"""Crash safety: SIGKILL an ingest at random moments, restart it, and prove nothing is lost.

A corpus of a few hundred synthetic articles (JSON Lines plus plain-text files,
twelve stories) is ingested by `storyline ingest` in a subprocess that is
killed with SIGKILL again and again: mostly while it is writing (after the
article count moved, plus a random delay, so kills land inside and between
transactions), sometimes while it is still starting up or migrating the
store.  After each kill the store must pass `check()`; at the end,
`storyline check` is clean, every document is stored exactly once and the
store holds exactly the stories of a run that was never killed.  The same runs on
PostgreSQL (a throw-away server from tests/pg_server.py; skipped, saying why,
without PostgreSQL binaries), where a killed client's open transaction is
rolled back by the server.

The RNG seed is printed; set STORYLINE_CRASH_SEED to replay a run.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import (
    cli_env,
    pair_disagreement,
    run_cli,
    storyline_command,
    synthetic_corpus,
    write_jsonl,
)

from storyline import ids
from storyline.service import Storyline
from storyline.store import open_store
from storyline.store.base import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds store_backends
from store_backends import BACKENDS, fresh_url

MIN_KILLS = 20
JSONL_ARTICLES = 260
TEXT_ARTICLES = 40
STORIES = 12


def _sqlite_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # the schema is not there yet
        return 0


class _Target:
    """The store under test: a SQLite file, or a fresh PostgreSQL database."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.generation = 0
        self._poller: Store | None = None
        self.url = self._fresh()

    def _fresh(self) -> str:
        self.generation += 1
        if self.backend == "sqlite":
            return str(self.folder / f"killed{self.generation}.db")
        return fresh_url(self.backend, self.folder)

    def restart_from_scratch(self) -> None:
        self.close()
        self.url = self._fresh()

    def count(self) -> int:
        if self.backend == "sqlite":
            return _sqlite_count(Path(self.url))
        if self._poller is None:
            self._poller = open_store(self.url)
        return self._poller.count_articles()

    def exists(self) -> bool:
        return self.backend != "sqlite" or Path(self.url).exists()

    def close(self) -> None:
        if self._poller is not None:
            self._poller.close()
            self._poller = None


def _stories(url: str, expected: set[str]) -> tuple[int, dict[str, frozenset[str]], set[str]]:
    """(article count, story id -> its article ids, expected ids stored as duplicates).

    Through the storage interface.  A near-copy of an earlier article is stored
    outside every story (`duplicate_of` set), so it is looked up one by one.
    """
    with Storyline(url) as sl:
        partition = {s.id: frozenset(a.id for a in s.articles) for s in sl.store.iter_stories()}
        linked = {a for group in partition.values() for a in group}
        duplicates = set()
        for article_id in expected - linked:
            article = sl.article(article_id)
            if article is not None and article.duplicate_of in linked:
                duplicates.add(article_id)
        return sl.store.count_articles(), partition, duplicates


def _make_corpus(folder: Path, seed: int) -> tuple[list[str], set[str]]:
    """The inputs to ingest and the ids of the documents they hold."""
    folder.mkdir()
    records = synthetic_corpus(JSONL_ARTICLES + TEXT_ARTICLES, STORIES, seed)
    jsonl = write_jsonl(folder / "wire.jsonl", records[:JSONL_ARTICLES])
    texts = folder / "texts"
    texts.mkdir()
    expected = {ids.article_id(r["url"], r["text"]) for r in records[:JSONL_ARTICLES]}
    for n, record in enumerate(records[JSONL_ARTICLES:]):
        content = f"{record['title']}\n\n{record['text']}\n"
        (texts / f"{n:03d}.txt").write_text(content, encoding="utf-8")
        expected.add(ids.article_id(None, content))
    return [str(jsonl), str(texts)], expected


def _ingest_killed(target: _Target, inputs: list[str], rng: random.Random) -> tuple[str, int]:
    """Start an ingest and SIGKILL it at a random moment; (how it ended, articles it added)."""
    before = target.count()
    proc = subprocess.Popen(
        storyline_command("ingest", "--db", target.url, "-q", *inputs),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
    )
    try:
        if rng.random() < 0.15:
            time.sleep(rng.uniform(0.05, 2.5))  # during start-up, opening or migrating the store
        else:
            deadline = time.monotonic() + 120
            while target.count() == before and proc.poll() is None:
                if time.monotonic() > deadline:
                    raise AssertionError("ingest made no progress in 120 s")
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.25))  # inside or between document transactions
        if proc.poll() is not None:
            return "finished", target.count() - before
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return "killed", target.count() - before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    backend: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("STORYLINE_CRASH_SEED", random.SystemRandom().randrange(10**6)))
    print(f"crash-safety seed ({backend}): {seed} (replay with STORYLINE_CRASH_SEED={seed})")
    rng = random.Random(seed)
    inputs, expected_ids = _make_corpus(tmp_path / "corpus", seed)

    reference = _Target(backend, tmp_path)
    ref = run_cli(["ingest", "--db", reference.url, "-q", *inputs], timeout_s=600)
    assert ref.code == 0, ref.output
    # Read now: a fresh PostgreSQL test database drops the earlier, unused ones.
    ref_count, reference_partition, ref_duplicates = _stories(reference.url, expected_ids)

    target = _Target(backend, tmp_path)
    kills = 0
    killed_with_progress = 0
    runs = 0
    try:
        while True:
            runs += 1
            assert runs < 200, "the ingest never completed"
            if kills >= MIN_KILLS:
                final = run_cli(["ingest", "--db", target.url, "-q", *inputs], timeout_s=600)
                assert final.code == 0, final.output
                assert "database is locked" not in final.output
                break
            ended, added = _ingest_killed(target, inputs, rng)
            if ended == "killed":
                kills += 1
                killed_with_progress += added > 0
            # After every kill the store is consistent (checked in-process, cheaply).
            if target.exists():
                with Storyline(target.url) as sl:
                    assert sl.check() == [], f"after kill {kills} (seed {seed})"
            if ended == "finished" and target.count() == len(expected_ids):
                # The corpus went in before MIN_KILLS: go on with a fresh store.
                target.restart_from_scratch()
    finally:
        target.close()

    print(f"{backend}: kills {kills} ({killed_with_progress} after progress), runs {runs}")
    assert kills >= MIN_KILLS
    assert "failed: 0" in final.stdout, final.stdout

    check = run_cli(["check", "--db", target.url])
    assert check.code == 0, check.output  # no orphaned links, counts and index in sync
    assert f"ok: {len(expected_ids)} articles" in check.stdout

    count, partition, duplicates = _stories(target.url, expected_ids)
    linked = [a for group in partition.values() for a in group]
    assert all(partition.values())  # every story non-empty
    assert len(linked) == len(set(linked))  # each article in one story only
    assert count == len(linked) + len(duplicates)  # nothing stored twice or stray
    assert set(linked) | duplicates == expected_ids  # no document lost
    assert duplicates == ref_duplicates

    # The same stories as the run that was never killed: the linker's word statistics are
    # stored with every article and restored on start, so a restart decides as if the
    # process had never stopped.
    assert ref_count == count
    disagreement = pair_disagreement(partition.values(), reference_partition.values())
    print(f"{backend}: story pairs differing from the never-killed run: {disagreement:.4f}")
    assert set(partition.values()) == set(reference_partition.values())
    assert partition == reference_partition  # the same story ids, too
