"""The CLI end to end: demo, ingest summaries, bad input, listing, export."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyline.interfaces.cli import app

runner = CliRunner()

GOOD_HTML = """<!doctype html><html><head>
<title>Harbour bridge reopens after repairs | Example Times</title>
<meta property="og:site_name" content="Example Times"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Harbour bridge reopens after repairs</h1>
<p>The harbour bridge in the northern port city reopened to traffic on Friday after eighteen months
of repairs that cost the regional government more than 40 million euros, officials said.</p>
<p>Engineers replaced corroded cables and resurfaced the deck, the transport ministry said in a
statement, adding that heavy lorries would be allowed back from next month.</p>
<p>Local businesses had complained that the closure cut footfall in the old town by a third.</p>
</article><footer>Subscribe to our newsletter</footer></body></html>"""


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_help_everywhere() -> None:
    for cmd in ["", "ingest", "stories", "show", "search", "export", "demo", "check", "failures"]:
        code, out = _invoke(*([cmd] if cmd else []), "--help")
        assert code == 0, out
        assert "Usage" in out


def test_demo_prints_the_story_report(tmp_path: Path) -> None:
    code, out = _invoke("demo", "--db", str(tmp_path / "demo.db"))
    assert code == 0, out
    assert "new: 2" in out
    assert "Euractiv" in out and "DW" in out
    assert "2 articles from 2 outlets" in out


def test_bad_input_is_reported_per_document_and_the_rest_goes_in(
    tmp_path: Path, sample_paths: list[Path]
) -> None:
    db = str(tmp_path / "s.db")
    code, _ = _invoke("ingest", "--db", db, "-q", str(sample_paths[0]))
    assert code == 0
    code, before = _invoke("export", "--db", db, "--format", "json")
    assert code == 0

    bad = tmp_path / "batch"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2048))
    (bad / "truncated.html").write_text("<html><head><title>Cut</title></head><body><div><p>Th")
    (bad / "latin1.txt").write_bytes(
        (
            "Café owners in Málaga protest new tourism tax\n\n"
            "Owners of cafés and bars in the Spanish city of Málaga protested on Tuesday against a "
            "new tourism tax that the regional government plans to introduce next year, saying it "
            "would drive visitors to cheaper resorts along the coast.\n\n"
            "The association of hoteliers said the levy of two euros a night was poorly designed.\n"
        ).encode("latin-1")
    )
    with open(bad / "huge.txt", "wb") as f:  # 50 MB, above the default per-document limit
        f.truncate(50 * 1024 * 1024)
    (bad / "lines.jsonl").write_text(
        json.dumps(
            {"url": "https://example.org/a", "title": "Harbour bridge reopens", "html": GOOD_HTML}
        )
        + "\n"
        + '{"url": "https://example.org/b", "title": broken\n'
        + json.dumps({"url": "https://example.org/c", "text": ""})
        + "\n",
        encoding="utf-8",
    )
    code, out = _invoke("ingest", "--db", db, "-q", str(bad))
    assert code == 0, out  # something could be read
    flat = " ".join(out.split())
    assert "new: 2" in flat  # the Latin-1 article and the good JSON line
    for name in [
        "empty.txt",
        "binary.txt",
        "truncated.html",
        "huge.txt",
        "lines.jsonl:2",
        "lines.jsonl:3",
    ]:
        assert name in flat, f"{name} missing from the failure summary:\n{out}"

    code, after = _invoke("export", "--db", db, "--format", "json")
    data_before = json.loads(before)
    data_after = json.loads(after)
    kept = {a["id"]: a for s in data_before["stories"] for a in s["articles"]}
    now = {a["id"]: a for s in data_after["stories"] for a in s["articles"]}
    for article_id, article in kept.items():
        assert now[article_id] == article  # nothing stored before changed
    latin = [a for a in now.values() if "Málaga" in a["title"]]
    assert latin and "cafés" in latin[0]["body"]

    code, out = _invoke("failures", "--db", db)
    assert "empty.txt" in out

    code, out = _invoke("check", "--db", db)
    assert code == 0, out


def test_nothing_readable_exits_non_zero(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, out = _invoke("ingest", "--db", str(tmp_path / "s.db"), "-q", str(empty))
    assert code == 1
    assert "empty" in out


def test_listing_search_show_export(tmp_path: Path, sample_paths: list[Path]) -> None:
    db = str(tmp_path / "s.db")
    _invoke("ingest", "--db", db, "-q", *map(str, sample_paths))
    code, out = _invoke("stories", "--db", db)
    assert code == 0 and "Russia" in out
    code, out = _invoke("search", "--db", db, "OSCE")
    assert code == 0 and "DW" in out
    story_id = json.loads(_invoke("export", "--db", db)[1])["stories"][0]["id"]
    code, out = _invoke("show", story_id[:8], "--db", db)
    assert code == 0 and "Euractiv" in out
    code, out = _invoke("show", "nonexistent", "--db", db)
    assert code == 2
    code, out = _invoke("export", "--db", db, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["outlet"] for r in rows} == {"Euractiv", "DW"}
    code, out = _invoke("export", "--db", db, "--format", "jsonl")
    assert len(out.strip().splitlines()) == 1
    code, out = _invoke("export", "--db", db, "--format", "xml")
    assert code == 2


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_export_to_file(tmp_path: Path, sample_paths: list[Path], fmt: str) -> None:
    db = str(tmp_path / "s.db")
    _invoke("ingest", "--db", db, "-q", *map(str, sample_paths))
    target = tmp_path / f"out.{fmt}"
    code, _ = _invoke("export", "--db", db, "--format", fmt, "--output", str(target))
    assert code == 0 and target.stat().st_size > 1000
