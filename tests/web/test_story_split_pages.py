"""A split story: the JSON says where the articles went and both pages say so."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from storyline.interfaces.api import create_app
from storyline.store import open_store

from .conftest import API_TOKEN


def test_split_story_json_and_pages_name_each_other(sample_db: str, tmp_path: Path) -> None:
    db = str(tmp_path / "split.db")
    shutil.copyfile(sample_db, db)
    store = open_store(db)
    try:
        story = next(s for s in store.iter_stories() if len(s.articles) == 2)
        moved = story.articles[1].id
        store.split_story(story.id, [moved], "split0000000000001", "two events")
        assert store.check() == []
    finally:
        store.close()
    with TestClient(create_app(db=db, api_token=API_TOKEN)) as client:
        old = client.get(f"/api/v1/stories/{story.id}").json()
        new = client.get("/api/v1/stories/split0000000000001").json()
        assert [a["id"] for a in old["articles"]] == [story.articles[0].id]
        assert [a["id"] for a in new["articles"]] == [moved]
        assert old["split_from"] == [] and new["split_into"] == []
        assert [(s["story_id"], s["article_ids"], s["reason"]) for s in old["split_into"]] == [
            ("split0000000000001", [moved], "two events")
        ]
        assert [(s["story_id"], s["article_ids"]) for s in new["split_from"]] == [
            (story.id, [moved])
        ]
        # The moved article keeps its address, and names its new story.
        assert client.get(f"/api/v1/articles/{moved}").status_code == 200
        old_page = client.get(f"/stories/{story.id}", headers={"accept": "text/html"}).text
        new_page = client.get(
            "/stories/split0000000000001", headers={"accept": "text/html"}
        ).text
        assert "Split into story" in old_page and 'href="/stories/split0000000000001"' in old_page
        assert "Split from story" in new_page and f'href="/stories/{story.id}"' in new_page
