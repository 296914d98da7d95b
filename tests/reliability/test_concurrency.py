"""Concurrency on one SQLite store: two ingest processes, and readers during an ingest.

- Two `storyline ingest` processes start together on overlapping inputs (the
  shared part in the same order, so they race for the same documents): no
  "database is locked" reaches either user, every document is stored once,
  each run accounts for all of its inputs, and the store checks clean.
- A reader hammers list / search / get (through `Storyline`, and through the
  REST API when it exists) while an ingest writes: no read fails, and what a
  reader sees never goes backwards (no lost update is ever visible).
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from reliability_helpers import (
    article_ids,
    cli_env,
    run_cli,
    story_partition,
    storyline_command,
    synthetic_corpus,
    write_jsonl,
)

from storyline import ids
from storyline.pipeline import Pipeline
from storyline.records import RawDocument
from storyline.service import Storyline

_COUNTS = re.compile(r"new: (\d+)\s+duplicate: (\d+)\s+failed: (\d+)")
_BUSY = re.compile(r"database is locked|database is busy|stayed busy", re.IGNORECASE)


def _counts(output: str) -> tuple[int, int, int]:
    found = _COUNTS.search(output)
    assert found, output
    new, duplicate, failed = (int(x) for x in found.groups())
    return new, duplicate, failed


@pytest.mark.slow
def test_two_ingest_processes_on_one_store(tmp_path: Path) -> None:
    records = synthetic_corpus(200, 10, seed=11)
    shared, only_a, only_b = records[:100], records[100:150], records[150:]
    input_a = write_jsonl(tmp_path / "a.jsonl", shared + only_a)
    input_b = write_jsonl(tmp_path / "b.jsonl", shared + only_b)
    expected = {ids.article_id(r["url"], r["text"]) for r in records}
    db = tmp_path / "shared.db"
    # Create the store first so both processes race on documents, not on the schema.
    with Storyline(str(db)):
        pass

    procs = [
        subprocess.Popen(
            storyline_command("ingest", "--db", str(db), "-q", str(path)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=cli_env(),
        )
        for path in (input_a, input_b)
    ]
    outputs = [p.communicate(timeout=300)[0].decode("utf-8", "replace") for p in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output
        assert not _BUSY.search(output), output
        assert "Traceback" not in output, output

    (new_a, dup_a, failed_a), (new_b, dup_b, failed_b) = (_counts(o) for o in outputs)
    assert new_a + dup_a + failed_a == len(shared) + len(only_a)
    assert new_b + dup_b + failed_b == len(shared) + len(only_b)
    # Every document was stored by exactly one of them (as new, or as a near-copy the
    # pipeline files as a duplicate); the store holds each once (below).
    assert new_a + new_b <= len(records)
    # A document both processes raced for may be reported "failed: already stored" by
    # the loser (see the xfail test below); it is stored all the same, never lost.
    for output in outputs:
        for line in output.splitlines():
            if line.startswith("✗"):
                assert re.search(r"store: article \w+ is already stored$", line), line

    stored = article_ids(db)
    assert len(stored) == len(set(stored)) == len(records)
    assert set(stored) == expected
    linked = [a for group in story_partition(db).values() for a in group]
    assert len(linked) == len(set(linked))  # each article in one story only
    unlinked = set(stored) - set(linked)  # near-copies are kept outside every story
    with Storyline(str(db)) as sl:
        for article_id in unlinked:
            article = sl.article(article_id)
            assert article is not None and article.duplicate_of in linked, article_id
    check = run_cli(["check", "--db", str(db)])
    assert check.code == 0, check.output


def _hammer(db: Path, stop: threading.Event, seen: dict[str, list[int]], errors: list[str]) -> None:
    """Read continuously through the Python API; record counts and any error."""
    with Storyline(str(db)) as sl:
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
    db: Path, stop: threading.Event, seen: dict[str, list[int]], errors: list[str]
) -> None:
    from fastapi.testclient import TestClient

    from storyline.interfaces.api import create_app

    with TestClient(create_app(db=str(db))) as client:
        while not stop.is_set():
            for url in ("/api/v1/stories?limit=20", "/api/v1/search?q=said"):
                response = client.get(url)
                if response.status_code != 200:
                    errors.append(f"GET {url}: {response.status_code} {response.text[:200]}")
                    continue
            listed = client.get("/api/v1/stories?limit=5").json()["stories"]
            for row in listed[:2]:
                response = client.get(f"/api/v1/stories/{row['id']}")
                if response.status_code != 200 or not response.json()["articles"]:
                    errors.append(f"GET story {row['id']}: {response.status_code}")
            seen["api_reads"].append(len(listed))


def _has_api() -> bool:
    try:
        from storyline.interfaces.api import create_app  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.slow
def test_readers_never_fail_or_go_backwards_while_ingest_writes(tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    corpus = write_jsonl(tmp_path / "corpus.jsonl", synthetic_corpus(150, 10, seed=5))
    with Storyline(str(db)):
        pass
    stop = threading.Event()
    seen: dict[str, list[int]] = {"articles": [], "hits": [], "api_reads": []}
    errors: list[str] = []
    readers = [threading.Thread(target=_hammer, args=(db, stop, seen, errors))]
    if _has_api():
        readers.append(threading.Thread(target=_api_hammer, args=(db, stop, seen, errors)))
    for reader in readers:
        reader.start()
    try:
        ingest = run_cli(["ingest", "--db", str(db), "-q", str(corpus)], timeout_s=300)
        time.sleep(0.3)  # a few reads after the last commit
    finally:
        stop.set()
        for reader in readers:
            reader.join(60)
    assert ingest.code == 0, ingest.output
    assert not _BUSY.search(ingest.output), ingest.output
    assert errors == [], errors[:5]
    counts = seen["articles"]
    print(f"reads during ingest: {len(counts)} (API: {len(seen['api_reads'])})")
    assert len(counts) >= 20  # the reader really ran alongside the writer
    assert counts == sorted(counts)  # a committed article never disappears from view
    assert counts[-1] == 150
    assert len(set(counts)) > 2  # it saw the store grow, not just before and after
    if len(readers) > 1:
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


def test_a_document_lost_to_a_concurrent_ingest_is_a_duplicate_not_a_failure(
    tmp_path: Path,
) -> None:
    db = tmp_path / "race.db"
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
    with Storyline(str(db)) as mine, Storyline(str(db)) as rival:
        pipeline = Pipeline(
            _StoreThatLosesTheRace(mine.store, rival, document),  # type: ignore[arg-type]
            mine.settings,
        )
        report = pipeline.ingest([document])
        assert mine.failures() == []
        assert mine.check() == []
    (outcome,) = report.outcomes
    assert outcome.status == "duplicate", outcome
    assert outcome.article_id == ids.article_id(record["url"], record["text"])
