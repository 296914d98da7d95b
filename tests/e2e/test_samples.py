"""End to end on the two sample articles, checked against expected.json."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from storyline.interfaces.export import story_to_dict
from storyline.service import Storyline


@pytest.fixture()
def loaded(tmp_path: Path, sample_paths: list[Path]) -> Storyline:
    sl = Storyline(str(tmp_path / "s.db"))
    report = sl.ingest([str(p) for p in sample_paths])
    assert report.count("new") == 2, [o.reason for o in report.outcomes]
    yield sl
    sl.close()


def _articles_by_file(sl: Storyline) -> dict[str, Any]:
    found = {}
    for row in sl.stories():
        story = sl.story(row.id)
        assert story is not None
        for a in story.articles:
            found[Path(a.source).name] = a
    return found


def test_metadata_matches_expected(loaded: Storyline, expected: dict[str, Any]) -> None:
    articles = _articles_by_file(loaded)
    for name, want in expected["articles"].items():
        a = articles[name]
        assert a.outlet == want["outlet"]
        assert a.published is not None and a.published.startswith(want["published"])
        assert a.title == want["title"]
        assert sorted(a.wire_agencies) == sorted(want["wire_agencies"])
        assert a.language == "en"


def test_bodies_are_clean(loaded: Storyline, expected: dict[str, Any]) -> None:
    articles = _articles_by_file(loaded)
    for name, want in expected["articles"].items():
        body = articles[name].body
        for bad in want["body_must_not_contain"]:
            assert bad not in body, f"{name}: furniture {bad!r} left in the body"
        for good in want["body_must_contain"]:
            assert good in body, f"{name}: sentence {good!r} lost"
        if "body_once" in want:
            assert body.count(want["body_once"]) == 1
        assert articles[name].removed, "the cleaner records what it removed"


def test_one_story_holds_both(loaded: Storyline, expected: dict[str, Any]) -> None:
    rows = loaded.stories()
    assert len(rows) == len(expected["stories"]) == 1
    story = loaded.story(rows[0].id)
    assert story is not None
    names = sorted(Path(a.source).name for a in story.articles)
    assert names == sorted(expected["stories"][0]["articles"])
    assert sorted(rows[0].outlets) == ["DW", "Euractiv"]
    assert story.first_seen is not None and story.first_seen.startswith("2021-12-28")


def test_reingest_adds_nothing(loaded: Storyline, sample_paths: list[Path]) -> None:
    before = io.StringIO()
    loaded.export(before, "json")
    report = loaded.ingest([str(p) for p in sample_paths])
    assert report.count("new") == 0 and report.count("duplicate") == 2
    after = io.StringIO()
    loaded.export(after, "json")
    assert before.getvalue() == after.getvalue()
    assert loaded.check() == []


def test_export_contract(loaded: Storyline) -> None:
    out = io.StringIO()
    loaded.export(out, "json")
    data = json.loads(out.getvalue())
    story = data["stories"][0]
    assert {"id", "title", "first_seen", "last_seen", "articles"} <= story.keys()
    article_keys = {
        "id",
        "source",
        "url",
        "outlet",
        "title",
        "published",
        "authors",
        "wire_agencies",
        "language",
        "body",
    }
    for a in story["articles"]:
        assert article_keys <= a.keys()
    direct = story_to_dict(loaded.story(story["id"]))  # type: ignore[arg-type]
    assert direct["articles"][0]["id"] == story["articles"][0]["id"]


def test_search_finds_the_story(loaded: Storyline) -> None:
    hits = loaded.search("Strategic Security Dialogue")
    assert len(hits) == 2
    assert {h.outlet for h in hits} == {"Euractiv", "DW"}
    # Query syntax errors are searched as plain words, never raised.
    assert isinstance(loaded.search('"unbalanced AND( Geneva*'), list)


def _matches(text: str, pattern: str) -> bool:
    """expected.json's keyword rule: 'a|b' matches if either alternative does."""
    return any(alt.lower() in text.lower() for alt in pattern.split("|"))


def test_quotes_speakers_and_actors(loaded: Storyline, expected: dict[str, Any]) -> None:
    story = loaded.story_json(loaded.stories()[0].id)
    assert story is not None
    by_file = {a["id"]: Path(a["source"]).name for a in story["articles"]}
    outlet_of = {name: want["outlet"] for name, want in expected["articles"].items()}
    for want in expected["quotes"]:
        found = [q for q in story["quotes"] if want["text"].lower() in q["text"].lower()]
        assert len(found) == 1, f"quote {want['text']!r} should be one entry, got {found}"
        quote = found[0]
        assert quote["speaker"] and all(_matches(quote["speaker"], s) for s in want["speaker"])
        assert sorted(quote["outlets"]) == sorted(want["outlets"])
        assert sorted(outlet_of[by_file[i]] for i in quote["article_ids"]) == sorted(
            want["outlets"]
        )
    names = [" ".join([a["name"], *a["aliases"]]) for a in story["actors"]]
    for actor in expected["actors"]:
        assert any(_matches(n, actor) for n in names), f"actor {actor!r} missing"
    sources = {c["source"]: c["via"] for c in story["cited_sources"]}
    assert any("Foreign Ministry" in s and via and "TASS" in via[0] for s, via in sources.items())


def test_time_expressions_in_export(loaded: Storyline) -> None:
    story = loaded.story_json(loaded.stories()[0].id)
    assert story is not None
    values = {t["value"] for a in story["articles"] for t in a["time_expressions"]}
    assert {"2022-01-10", "2022-01-12", "2022-01-13", "2021-12-27", "2021-06"} <= values


def test_shared_wire_passages(loaded: Storyline, expected: dict[str, Any]) -> None:
    story = loaded.story_json(loaded.stories()[0].id)
    assert story is not None
    bodies = {a["id"]: a["body"] for a in story["articles"]}
    for article in story["articles"]:
        for p in article["shared_passages"]:
            assert article["body"][p["start"] : p["end"]] == p["text"]
            assert p["with_article_id"] in bodies and p["with_article_id"] != article["id"]
    for passage in expected["shared_wire_passages"]:
        for article in story["articles"]:
            assert any(passage in p["text"] for p in article["shared_passages"]), (
                f"{passage!r} not found as shared in {article['outlet']}"
            )


def test_same_outlet_near_copy_is_a_duplicate(tmp_path: Path, sample_paths: list[Path]) -> None:
    with Storyline(str(tmp_path / "s.db")) as sl:
        sl.ingest([str(sample_paths[0])])
        text = sample_paths[0].read_text(encoding="utf-8")
        # The same page re-published with a corrected sentence.
        edited = tmp_path / "edited.txt"
        edited.write_text(text.replace("much-anticipated", "long-awaited"), encoding="utf-8")
        report = sl.ingest([str(edited)])
        assert report.count("duplicate") == 1
        assert report.outcomes[0].duplicate_of is not None
        assert sl.store.count_stories() == 1
        story = sl.story(sl.stories()[0].id)
        assert story is not None and len(story.articles) == 1


def test_timeline_matches_expected(loaded: Storyline, expected: dict[str, Any]) -> None:
    story = loaded.story_json(loaded.stories()[0].id)
    assert story is not None
    timeline = story["timeline"]
    dates = [e["date"] for e in timeline]
    assert [d[:7] for d in dates] == sorted(d[:7] for d in dates)  # in date order
    for want in (w for w in expected["timeline"] if w["required"]):
        matching = [
            e
            for e in timeline
            if e["date"] == want["date"]
            and e["status"] == want["status"]
            and all(_matches(e["description"], k) for k in want["keywords"])
            and set(want["outlets"]) <= set(e["outlets"])
        ]
        assert matching, f"no timeline entry for {want}"


def test_ics_export_holds_the_scheduled_talks(loaded: Storyline) -> None:
    out = io.StringIO()
    loaded.export(out, "ics")
    ics = out.getvalue()
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.rstrip().endswith("END:VCALENDAR")
    for day in ("20220110", "20220112", "20220113"):
        assert f"DTSTART;VALUE=DATE:{day}" in ics
    assert "DTSTART;VALUE=DATE:20211227" not in ics  # past events are not in the calendar


def test_claims_are_embedded_at_ingest(
    loaded: Storyline, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storyline.compare as compare

    story = loaded.story(loaded.stories()[0].id)
    assert story is not None
    for article in story.articles:
        claims = loaded.store.get_analysis(article.id, "claims")
        assert claims and claims["spans"] and claims["dim"] > 0 and claims["vectors"]

    def no_model(texts: Any) -> Any:
        raise AssertionError(f"the story view embedded {len(texts)} texts at read time")

    # Every claim vector comes from the store: the read-time embedder is never asked.
    monkeypatch.setattr(compare, "cached_embed", no_model)
    facts = loaded.story_json(story.id)["facts"]  # type: ignore[index]
    assert any(f["status"] == "corroborated" for f in facts)
