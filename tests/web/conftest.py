"""Fixtures for the web tests: a store holding the sample articles and a hostile one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storyline.interfaces.api import create_app
from storyline.records import RawDocument
from storyline.service import Storyline

API_TOKEN = "test-ingest-token"

# Script and event-handler payloads in every field a page shows.
HOSTILE_TITLE = (
    '<img src=x onerror="window.__pwned=1">Harbour strike <script>window.__pwned=2</script>'
)
HOSTILE_BODY = (
    "Dock workers in the northern harbour walked out on Tuesday. "
    '<script>window.__pwned = 3; document.title = "pwned"</script>\n\n'
    "The union said the strike would last a week. "
    '<img src="x" onerror="window.__pwned = 4"> '
    '<a href="javascript:window.__pwned=5">click</a>\n\n'
    "Port authorities said ferries to the islands would run as normal."
)


def hostile_document() -> RawDocument:
    return RawDocument(
        source="hostile.txt",
        content=HOSTILE_BODY,
        kind="text",
        url="https://hostile.example/strike",
        title=HOSTILE_TITLE,
        published="2022-03-01",
        outlet='Evil <b onmouseover="window.__pwned=6">Outlet</b>',
        language="en",
    )


@pytest.fixture(scope="session")
def samples_only_db(tmp_path_factory: pytest.TempPathFactory, sample_paths: list[Path]) -> str:
    """A store with the two sample articles alone (built once)."""
    db = str(tmp_path_factory.mktemp("web-samples") / "samples.db")
    with Storyline(db) as sl:
        report = sl.ingest([str(p) for p in sample_paths])
        assert report.count("new") == 2, [o.reason for o in report.failures]
    return db


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory, samples_only_db: str) -> str:
    """The sample articles and one hostile article (built once)."""
    db = str(tmp_path_factory.mktemp("web") / "web.db")
    shutil.copyfile(samples_only_db, db)
    with Storyline(db) as sl:
        hostile = sl.ingest_documents([hostile_document()])
        assert hostile.count("new") == 1, [o.reason for o in hostile.failures]
    return db


@pytest.fixture()
def client(sample_db: str) -> Iterator[TestClient]:
    app = create_app(db=sample_db, api_token=API_TOKEN)
    with TestClient(app) as c:
        yield c


@pytest.fixture()
def sample_story(client: TestClient) -> dict[str, Any]:
    """The story the two sample articles form (found by its outlets, not its title)."""
    rows = client.get("/api/v1/stories").json()["stories"]
    story = next(r for r in rows if {"DW", "Euractiv"} <= set(r["outlets"]))
    return client.get(f"/api/v1/stories/{story['id']}").json()
