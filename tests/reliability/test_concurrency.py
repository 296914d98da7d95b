"""Concurrency on one store, SQLite and PostgreSQL: two ingest processes, readers during an ingest.

- Two `storyline ingest` processes start together on overlapping inputs (the
  shared part in the same order, so they race for the same documents): no
  "database is locked" (or deadlock, or serialization failure) reaches either
  user, every document is stored once, each run accounts for all of its
  inputs, every story's counters match its articles (no lost update), and the
  store checks clean.
- Readers hammer list / search / get through `Storyline` and through the REST
  API while an ingest writes: no read fails, and what a reader sees never goes
  backwards (a committed article never disappears from view).
- A document that another process stores between our "is it new?" check and
  our insert is reported as a duplicate, not a failure.

PostgreSQL runs on a throw-away server (tests/pg_server.py); those cases skip,
saying why, only when there are no PostgreSQL binaries.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from reliability_helpers import (
    cli_env,
    run_cli,
    storyline_command,
    synthetic_corpus,
    write_jsonl,
)

from storyline import ids
from storyline.pipeline import Pipeline
from storyline.records import RawDocument
from storyline.service import Storyline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds store_backends
from store_backends import BACKENDS, fresh_url

_COUNTS = re.compile(r"new: (\d+)\s+duplicate: (\d+)\s+failed: (\d+)")
# What a user must never see from a concurrent writer, on either backend.
_BUSY = re.compile(
    r"database is locked|database is busy|stayed busy|deadlock detected|could not serialize"
    r"|conflicted with another writer|lock timeout|lock_not_available",
    re.IGNORECASE,
)


def _counts(output: str) -> tuple[int, int, int]:
    found = _COUNTS.search(output)
    assert found, output
    new, duplicate, failed = (int(x) for x in found.groups())
    return new, duplicate, failed


def _assert_stored_once(url: str, expected: set[str]) -> None:
    """Exactly the `expected` documents are stored, each once, each linked once or a copy.

    Through the storage interface, so it reads both backends alike.
    """
    with Storyline(url) as sl:
        store = sl.store
        assert store.count_articles() == len(expected)  # nothing stray, nothing twice
        missing = [a for a in expected if not store.has_article(a)]
        assert missing == []  # no document lost
        partition = {s.id: [a.id for a in s.articles] for s in store.iter_stories()}
        linked = [a for group in partition.values() for a in group]
        assert len(linked) == len(set(linked))  # each article in one story only
        assert all(partition.values())  # no empty story
        for article_id in expected - set(linked):  # near-copies are kept outside every story
            article = sl.article(article_id)
            assert article is not None and article.duplicate_of in linked, article_id
        # No lost update: each story's stored counters agree with its articles.
        for summary in _all_summaries(sl):
            story = sl.story(summary.id)
            assert story is not None
            originals = [a for a in story.articles if not a.duplicate_of]
            assert summary.article_count == len(originals), summary.id
            keys = sorted(a.published or "" for a in story.articles if a.published)
            if keys:
                assert (summary.first_seen or "")[:10] == keys[0][:10], summary.id
                assert (summary.last_seen or "")[:10] == keys[-1][:10], summary.id


def _all_summaries(sl: Storyline) -> Iterable:
    offset = 0
    while rows := sl.stories(limit=200, offset=offset):
        yield from rows
        offset += len(rows)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_ingest_processes_on_one_store(backend: str, tmp_path: Path) -> None:
    records = synthetic_corpus(200, 10, seed=11)
    shared, only_a, only_b = records[:100], records[100:150], records[150:]
    input_a = write_jsonl(tmp_path / "a.jsonl", shared + only_a)
    input_b = write_jsonl(tmp_path / "b.jsonl", shared + only_b)
    expected = {ids.article_id(r["url"], r["text"]) for r in records}
    url = fresh_url(backend, tmp_path)
    # Create the store first so both processes race on documents, not on the schema.
    with Storyline(url):
        pass

    started = time.monotonic()
    procs = [
        subprocess.Popen(
            storyline_command("ingest", "--db", url, "-q", str(path)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=cli_env(),
        )
        for path in (input_a, input_b)
    ]
    outputs = [p.communicate(timeout=600)[0].decode("utf-8", "replace") for p in procs]
    elapsed = time.monotonic() - started
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output
        assert not _BUSY.search(output), output
        assert "Traceback" not in output, output

    (new_a, dup_a, failed_a), (new_b, dup_b, failed_b) = (_counts(o) for o in outputs)
    print(
        f"{backend}: two writers, {len(records)} documents ({len(shared)} raced for) in "
        f"{elapsed:.1f} s; a: new {new_a} dup {dup_a} failed {failed_a}; "
        f"b: new {new_b} dup {dup_b} failed {failed_b}"
    )
    assert new_a + dup_a + failed_a == len(shared) + len(only_a)
    assert new_b + dup_b + failed_b == len(shared) + len(only_b)
    # A document both raced for is stored by one of them; the other reports it as a
    # duplicate (never a failure: see the last test).
    assert failed_a == failed_b == 0, outputs
    assert new_a + new_b <= len(records)
    _assert_stored_once(url, expected)
    check = run_cli(["check", "--db", url])
    assert check.code == 0, check.output


def _hammer(url: str, stop: threading.Event, seen: dict[str, list[int]], errors: list[str]) -> None:
    """Read continuously through the Python API; record counts and any error."""
    with Storyline(url) as sl:
        while not stop.is_set():
            try:
                rows = sl.stories(limit=20)
                total = sl.store.count_articles()
                hits = sl.search("said review", limit=10)
                for row in rows[:3]:
                    story = sl.story(row.id)
                    assert story is not None and story.articles, f"story {row.id} came back empty"
                for hit in hits[:3]:
                    assert sl.article(hit.article_id) is not None
                seen["articles"].append(total)
                seen["hits"].append(len(hits))
                time.sleep(0.002)  # a busy web app, not a spin loop starving the writer's CPU
            except Exception as exc:  # any failure reaching a reader is a finding
                errors.append(f"{type(exc).__name__}: {exc}")


def _api_hammer(
    url: str, stop: threading.Event, seen: dict[str, list[int]], errors: list[str]
) -> None:
    from fastapi.testclient import TestClient

    from storyline.interfaces.api import create_app

    # The default client re-raises an exception that escaped the app: counted below.
    with TestClient(create_app(db=url)) as client:
        while not stop.is_set():
            try:
                for path in (
                    "/api/v1/stories?limit=20",
                    "/api/v1/search?q=said",
                    "/api/v1/stories?q=review&limit=10",
                    "/",
                ):
                    response = client.get(path)
                    if response.status_code != 200:
                        errors.append(f"GET {path}: {response.status_code} {response.text[:200]}")
                listed = client.get("/api/v1/stories?limit=5").json()["stories"]
                for row in listed[:2]:
                    response = client.get(f"/api/v1/stories/{row['id']}")
                    if response.status_code != 200 or not response.json()["articles"]:
                        errors.append(f"GET story {row['id']}: {response.status_code}")
                    page = client.get(f"/stories/{row['id']}")
                    if page.status_code != 200:
                        errors.append(f"GET page {row['id']}: {page.status_code}")
                seen["api_reads"].append(len(listed))
            except Exception as exc:
                errors.append(f"API {type(exc).__name__}: {exc}")


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_readers_never_fail_or_go_backwards_while_ingest_writes(
    backend: str, tmp_path: Path
) -> None:
    url = fresh_url(backend, tmp_path)
    corpus = write_jsonl(tmp_path / "corpus.jsonl", synthetic_corpus(150, 10, seed=5))
    with Storyline(url):
        pass
    stop = threading.Event()
    seen: dict[str, list[int]] = {"articles": [], "hits": [], "api_reads": []}
    errors: list[str] = []
    readers = [
        threading.Thread(target=_hammer, args=(url, stop, seen, errors)),
        threading.Thread(target=_api_hammer, args=(url, stop, seen, errors)),
    ]
    for reader in readers:
        reader.start()
    try:
        ingest = run_cli(["ingest", "--db", url, "-q", str(corpus)], timeout_s=600)
        time.sleep(0.3)  # a few reads after the last commit
    finally:
        stop.set()
        for reader in readers:
            reader.join(60)
    assert ingest.code == 0, ingest.output
    assert not _BUSY.search(ingest.output), ingest.output
    assert errors == [], errors[:5]
    counts = seen["articles"]
    print(
        f"{backend}: reads during a {ingest.elapsed_s:.1f} s ingest: {len(counts)} Python-API "
        f"rounds, {len(seen['api_reads'])} REST rounds"
    )
    assert len(counts) >= 20  # the reader really ran alongside the writer
    assert counts == sorted(counts)  # a committed article never disappears from view
    assert counts[-1] == 150
    assert len(set(counts)) > 2  # it saw the store grow, not just before and after
    assert seen["api_reads"], "the API reader made no successful round"


class _StoreThatLosesTheRace:
    """A store proxy: right after the pipeline checks `has_article`, another process
    (here: another connection) stores the same document, the window two ingest
    processes hit in practice."""

    def __init__(self, store: object, rival: Storyline, document: RawDocument) -> None:
        self._store = store
        self._rival = rival
        self._document = document
        self._raced = False

    def has_article(self, article_id: str) -> bool:
        answer = self._store.has_article(article_id)  # type: ignore[attr-defined]
        if not self._raced:
            self._raced = True
            report = self._rival.ingest_documents([self._document])
            assert report.count("new") == 1
        return answer

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_document_lost_to_a_concurrent_ingest_is_a_duplicate_not_a_failure(
    backend: str, tmp_path: Path
) -> None:
    url = fresh_url(backend, tmp_path)
    record = synthetic_corpus(1, 1, seed=3)[0]
    document = RawDocument(
        source="race.jsonl:1",
        content=record["text"],
        kind="text",
        url=record["url"],
        title=record["title"],
        published=record["published"],
        outlet=record["outlet"],
    )
    with Storyline(url) as mine, Storyline(url) as rival:
        pipeline = Pipeline(
            _StoreThatLosesTheRace(mine.store, rival, document),  # type: ignore[arg-type]
            mine.settings,
        )
        report = pipeline.ingest([document])
        assert mine.failures() == []
        assert mine.check() == []
        assert mine.store.count_articles() == 1
    (outcome,) = report.outcomes
    assert outcome.status == "duplicate", outcome
    assert outcome.article_id == ids.article_id(record["url"], record["text"])
