"""Files, directories, globs and stdin: kinds, limits and per-item failures."""

from __future__ import annotations

import io
import json
import os
import time
from importlib import resources
from pathlib import Path

import pytest

from storyline.config import Limits, Settings
from storyline.records import Failure, RawDocument
from storyline.sources import read_inputs

SETTINGS = Settings(db=":memory:")
EXAMPLES = Path(str(resources.files("storyline") / "examples"))


def sample_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.txt"))


def read(inputs: list[str], settings: Settings = SETTINGS, **kwargs: object) -> list:
    return list(read_inputs(inputs, settings, follow_links=False, **kwargs))  # type: ignore[arg-type]


def only(items: list) -> RawDocument | Failure:
    assert len(items) == 1, items
    return items[0]


def test_text_file_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("Headline\r\n\r\nFirst paragraph.\rSecond line.\n", encoding="utf-8")
    doc = only(read([str(path)]))
    assert isinstance(doc, RawDocument)
    assert doc.kind == "text"
    assert doc.source == str(path)
    assert doc.content == "Headline\n\nFirst paragraph.\nSecond line.\n"


def test_html_file_by_extension_and_by_sniffing(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>Hello</p>", encoding="utf-8")
    (tmp_path / "b").write_text("<!DOCTYPE html><html><body>x</body></html>", encoding="utf-8")
    (tmp_path / "c.dat").write_text("<!-- saved --><html><body>y</body></html>", encoding="utf-8")
    (tmp_path / "d.dat").write_text("Plain text that mentions <html> later.", encoding="utf-8")
    docs = read([str(tmp_path)])
    assert [(Path(d.source).name, d.kind) for d in docs] == [
        ("a.html", "html"),
        ("b", "html"),
        ("c.dat", "html"),
        ("d.dat", "text"),
    ]


def test_latin1_file_decodes_right(tmp_path: Path) -> None:
    text = "Le président a annoncé mercredi que l'économie était forte. Déjà vu, façade, naïve."
    path = tmp_path / "latin.txt"
    path.write_bytes(text.encode("latin-1"))
    doc = only(read([str(path)]))
    assert isinstance(doc, RawDocument)
    assert doc.content == text


def test_html_meta_charset_is_used(tmp_path: Path) -> None:
    body = '<html><head><meta charset="windows-1251"></head><body>Привет, мир</body></html>'
    path = tmp_path / "ru.html"
    path.write_bytes(body.encode("cp1251"))
    doc = only(read([str(path)]))
    assert isinstance(doc, RawDocument)
    assert "Привет, мир" in doc.content


def test_mojibake_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "moji.txt"
    path.write_text("The cafÃ© reopened on Monday.", encoding="utf-8")
    doc = only(read([str(path)]))
    assert isinstance(doc, RawDocument)
    assert doc.content == "The café reopened on Monday."


def test_empty_and_whitespace_files_fail(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n\n ")
    empty, blank = read([str(tmp_path / "empty.txt"), str(tmp_path / "blank.txt")])
    assert isinstance(empty, Failure) and empty.reason == "empty file"
    assert isinstance(blank, Failure) and "only whitespace" in blank.reason


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "a PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"PK\x03\x04\x14\x00\x00\x00", "a ZIP archive"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "a gzip archive"),
        (b"text then \x00\x00 NUL bytes", "NUL bytes"),
        (bytes(range(1, 9)) * 20 + b"some text", "control characters"),
    ],
)
def test_binary_files_are_refused(tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(content)
    failure = only(read([str(path)]))
    assert isinstance(failure, Failure)
    assert failure.reason.startswith("binary content (looks like")
    assert what in failure.reason


def test_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 1500)
    small = Settings(db=":memory:", limits=Limits(max_document_bytes=1000))
    failure = only(read([str(path)], small))
    assert isinstance(failure, Failure)
    assert failure.reason == (
        "file is 1.5 kB, above the 1.0 kB limit (STORYLINE_MAX_DOCUMENT_BYTES)"
    )


def test_real_50mb_file_is_refused_by_stat_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    block = b"<p>" + b"news " * 200 + b"</p>\n"
    with path.open("wb") as handle:
        handle.write((block * 52_000)[:52_400_000])
    assert path.stat().st_size == 52_400_000
    started = time.monotonic()
    failure = only(read([str(path)]))
    elapsed = time.monotonic() - started
    assert isinstance(failure, Failure)
    assert failure.reason == (
        "file is 52.4 MB, above the 20.0 MB limit (STORYLINE_MAX_DOCUMENT_BYTES)"
    )
    assert elapsed < 0.5


def test_directory_is_recursed_sorted_without_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("two")
    (tmp_path / "b" / "1.txt").write_text("one")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden.txt").write_text("secret")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config.txt").write_text("nope")
    docs = read([str(tmp_path)])
    assert [Path(d.source).relative_to(tmp_path).as_posix() for d in docs] == [
        "a.txt",
        "b/1.txt",
        "b/2.txt",
    ]


def test_empty_directory_is_a_failure(tmp_path: Path) -> None:
    failure = only(read([str(tmp_path)]))
    assert isinstance(failure, Failure)
    assert failure.reason.startswith("directory holds no files")


def test_glob_with_double_star(tmp_path: Path) -> None:
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "y" / "deep.txt").write_text("deep")
    (tmp_path / "top.txt").write_text("top")
    (tmp_path / "skip.html").write_text("<p>skip</p>")
    docs = read([str(tmp_path / "**" / "*.txt")])
    assert sorted(Path(d.source).name for d in docs) == ["deep.txt", "top.txt"]


def test_inputs_that_match_nothing_fail_and_the_rest_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("fine")
    items = read([str(tmp_path / "missing.txt"), str(tmp_path / "*.nothing"), str(good)])
    assert isinstance(items[0], Failure)
    assert items[0].reason == f"no such file or directory: {tmp_path / 'missing.txt'}"
    assert isinstance(items[1], Failure)
    assert items[1].reason == f"glob matched no files: {tmp_path / '*.nothing'}"
    assert isinstance(items[2], RawDocument) and items[2].content == "fine"


def test_unreadable_file_is_a_failure(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    path = tmp_path / "locked.txt"
    path.write_text("x")
    path.chmod(0)
    failure = only(read([str(path)]))
    assert isinstance(failure, Failure) and "permission denied" in failure.reason


def test_stdin_text_html_and_jsonl() -> None:
    text = only(read(["-"], stdin=io.BytesIO(b"Just a story.\n")))
    assert isinstance(text, RawDocument) and text.kind == "text" and text.source == "<stdin>"
    page = only(read(["-"], stdin=io.BytesIO(b"<html><body><p>Hi</p></body></html>")))
    assert isinstance(page, RawDocument) and page.kind == "html"
    lines = b'{"title": "A", "text": "one"}\n{"title": "B", "text": "two"}\n'
    docs = read(["-"], stdin=io.BytesIO(lines))
    assert [(d.source, d.title) for d in docs] == [("<stdin>:1", "A"), ("<stdin>:2", "B")]


def test_stdin_is_bounded() -> None:
    small = Settings(db=":memory:", limits=Limits(max_document_bytes=100))
    failure = only(read(["-"], small, stdin=io.BytesIO(b"y" * 10_000)))
    assert isinstance(failure, Failure)
    assert "larger than the 100 bytes limit" in failure.reason
    empty = only(read(["-"], stdin=io.BytesIO(b"")))
    assert isinstance(empty, Failure) and "empty" in empty.reason


def test_json_file_with_an_array_and_with_other_json(tmp_path: Path) -> None:
    articles = tmp_path / "articles.json"
    articles.write_text(json.dumps([{"title": "A", "text": "a"}, {"title": "B", "body": "b"}, 3]))
    other = tmp_path / "config.json"
    other.write_text(json.dumps({"debug": True, "level": 3}))
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"headline": "One", "content": "only"}, indent=2))
    nested = tmp_path / "newsapi.json"
    nested.write_text(
        json.dumps(
            {
                "status": "ok",
                "articles": [{"title": "N", "content": "x", "source": {"name": "Wire"}}],
            }
        )
    )
    items = read([str(articles), str(other), str(single), str(nested)])
    assert [(i.source, type(i).__name__) for i in items] == [
        (f"{articles}#0", "RawDocument"),
        (f"{articles}#1", "RawDocument"),
        (f"{articles}#2", "Failure"),
        (str(other), "Failure"),
        (str(single), "RawDocument"),
        (f"{nested}#0", "RawDocument"),
    ]
    assert "expected a JSON object, found a number" in items[2].reason
    assert items[3].reason.startswith("no article records")
    assert items[4].title == "One" and items[4].content == "only"
    assert items[5].outlet == "Wire"


def test_xml_that_is_not_a_feed(tmp_path: Path) -> None:
    path = tmp_path / "sitemap.xml"
    path.write_text('<?xml version="1.0"?><urlset><url><loc>http://x/</loc></url></urlset>')
    failure = only(read([str(path)]))
    assert isinstance(failure, Failure)
    assert "feed" in failure.reason


def test_sample_articles_are_read_as_text() -> None:
    docs = read([str(p) for p in sample_paths()])
    assert len(docs) == 2
    for doc, path in zip(docs, sample_paths(), strict=True):
        assert isinstance(doc, RawDocument)
        assert doc.kind == "text"
        assert doc.content == path.read_text(encoding="utf-8").replace("\r\n", "\n")


def test_iteration_is_lazy(tmp_path: Path) -> None:
    (tmp_path / "1.txt").write_text("one")
    stream = read_inputs([str(tmp_path / "1.txt"), "-"], SETTINGS, stdin=None)
    first = next(stream)  # stdin (None -> sys.stdin) is not touched until asked for
    assert isinstance(first, RawDocument) and first.content == "one"
    stream.close()
