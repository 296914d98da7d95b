"""JSON Lines: field aliases, per-line failures, bounded lines."""

from __future__ import annotations

import json
from pathlib import Path

from storyline.config import Limits, Settings
from storyline.records import Failure, RawDocument
from storyline.sources import read_inputs

SETTINGS = Settings(db=":memory:")


def read(path: Path, settings: Settings = SETTINGS) -> list:
    return list(read_inputs([str(path)], settings, follow_links=False))


def test_good_lines_survive_a_broken_one(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    lines = [
        json.dumps({"url": "https://a.example/1", "title": "One", "text": "First story."}),
        '{"title": "Broken" "text": "missing comma"}',
        "",
        "   ",
        json.dumps(["not", "an", "object"]),
        json.dumps({"title": "No body", "url": "https://a.example/3"}),
        json.dumps({"title": "Two", "html": "<p>Second story.</p>"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = read(path)
    assert [(i.source, type(i).__name__) for i in items] == [
        (f"{path}:1", "RawDocument"),
        (f"{path}:2", "Failure"),
        (f"{path}:5", "Failure"),
        (f"{path}:6", "Failure"),
        (f"{path}:7", "RawDocument"),
    ]
    assert items[0].kind == "text" and items[0].content == "First story."
    assert items[0].url == "https://a.example/1" and items[0].title == "One"
    assert items[1].reason == "invalid JSON at column 20: Expecting ',' delimiter"
    assert items[2].reason == "expected a JSON object, found an array"
    assert items[3].reason.startswith("record has neither text nor html (fields: title, url")
    assert items[4].kind == "html" and items[4].content == "<p>Second story.</p>"


def test_field_aliases_and_value_shapes(tmp_path: Path) -> None:
    path = tmp_path / "aliases.ndjson"
    record = {
        "Headline": "Talks set for January",
        "body": "Diplomats said on Monday...",
        "published_at": "2021-12-28T07:19:00Z",
        "source": {"id": "wire", "name": "Wire Service"},
        "author": "Jane Doe and John Smith",
        "lang": "en",
        "link": "https://news.example/talks",
    }
    other = {
        "content": ["Para one.", "Para two."],
        "date": "2021-12-28",
        "site_name": "Daily",
        "authors": [{"name": "Ann Lee"}, "Bo Chan"],
    }
    epoch = {"text": "x", "date": 1640676000}
    path.write_text("\n".join(json.dumps(r) for r in (record, other, epoch)), encoding="utf-8")
    first, second, third = read(path)
    assert isinstance(first, RawDocument)
    assert first.title == "Talks set for January"
    assert first.content == "Diplomats said on Monday..."
    assert first.published == "2021-12-28T07:19:00+00:00"
    assert first.outlet == "Wire Service"
    assert first.authors == ["Jane Doe", "John Smith"]
    assert first.language == "en"
    assert first.url == "https://news.example/talks"
    assert second.content == "Para one.\n\nPara two."
    assert second.published == "2021-12-28"
    assert second.outlet == "Daily"
    assert second.authors == ["Ann Lee", "Bo Chan"]
    assert third.published == "2021-12-28T07:20:00+00:00"


def test_text_field_holding_markup_is_html(tmp_path: Path) -> None:
    path = tmp_path / "wp.jsonl"
    path.write_text(json.dumps({"content": "<p>One.</p>\n<p>Two.</p>"}) + "\n")
    doc = read(path)[0]
    assert isinstance(doc, RawDocument) and doc.kind == "html"


def test_overlong_line_is_refused_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    long_line = json.dumps({"text": "z" * 5000})
    path.write_text("\n".join([long_line, json.dumps({"text": "short"})]) + "\n")
    small = Settings(db=":memory:", limits=Limits(max_jsonl_line_bytes=1000))
    failure, doc = read(path, small)
    assert isinstance(failure, Failure) and failure.source == f"{path}:1"
    assert "longer than the 1.0 kB limit (STORYLINE_MAX_JSONL_LINE_BYTES)" in failure.reason
    assert isinstance(doc, RawDocument) and doc.source == f"{path}:2" and doc.content == "short"


def test_jsonl_is_not_limited_by_the_document_size(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"text": f"story {i}"}) + "\n" for i in range(200)))
    small = Settings(db=":memory:", limits=Limits(max_document_bytes=1000))
    items = read(path, small)
    assert len(items) == 200 and all(isinstance(i, RawDocument) for i in items)


def test_sniffed_jsonl_without_extension_and_mojibake_in_fields(tmp_path: Path) -> None:
    path = tmp_path / "export"
    path.write_text(json.dumps({"title": "CafÃ© news", "text": "The cafÃ© opened."}) + "\n")
    doc = read(path)[0]
    assert isinstance(doc, RawDocument)
    assert doc.source == f"{path}:1"
    assert doc.title == "Café news" and doc.content == "The café opened."


def test_json_lines_stored_as_json(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text(json.dumps({"text": "a"}) + "\n" + json.dumps({"text": "b"}) + "\n")
    assert [d.content for d in read(path)] == ["a", "b"]
