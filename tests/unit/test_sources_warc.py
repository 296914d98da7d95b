"""WARC and WARC.gz, written by hand: records are text headers plus a block, gzip per record."""

from __future__ import annotations

import gzip
import io
import time
import tracemalloc
import uuid
from pathlib import Path

import brotli

from storyline.config import Limits, Settings
from storyline.records import Failure, RawDocument
from storyline.sources import read_inputs

SETTINGS = Settings(db=":memory:")


def http_response(
    body: bytes, headers: dict[str, str] | None = None, status: str = "200 OK"
) -> bytes:
    fields = {"Content-Type": "text/html; charset=utf-8"} if headers is None else headers
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


def warc_record(
    block: bytes,
    *,
    uri: str = "https://news.example/a",
    record_type: str = "response",
    content_type: str = "application/http; msgtype=response",
    date: str = "2024-01-02T03:04:05Z",
) -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: {record_type}\r\nWARC-Target-URI: {uri}\r\n"
        f"WARC-Date: {date}\r\nWARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(block)}\r\n\r\n"
    ).encode()
    return head + block + b"\r\n\r\n"


def page(text: str) -> bytes:
    return f"<html><head><title>{text}</title></head><body><p>{text}</p></body></html>".encode()


def gz(*records: bytes) -> bytes:
    return b"".join(gzip.compress(r) for r in records)


def read(path: Path, settings: Settings = SETTINGS) -> list:
    return list(read_inputs([str(path)], settings, follow_links=False))


def test_html_responses_are_read_and_the_rest_is_skipped(tmp_path: Path) -> None:
    latin = "<html><body><p>Café crème, señor.</p></body></html>".encode("latin-1")
    records = [
        warc_record(
            b"software: test\r\n", record_type="warcinfo", content_type="application/warc-fields"
        ),
        warc_record(
            b"GET /a HTTP/1.1\r\nHost: news.example\r\n\r\n",
            record_type="request",
            content_type="application/http; msgtype=request",
        ),
        warc_record(http_response(page("First"))),
        warc_record(
            http_response(b"\x89PNG\r\n\x1a\n", {"Content-Type": "image/png"}),
            uri="https://news.example/i.png",
        ),
        warc_record(http_response(b"", {"Location": "/b"}, status="301 Moved Permanently")),
        warc_record(
            http_response(latin, {"Content-Type": "text/html; charset=iso-8859-1"}),
            uri="https://news.example/latin",
        ),
        warc_record(
            page("Resource"),
            record_type="resource",
            content_type="text/html",
            uri="https://news.example/r",
        ),
    ]
    path = tmp_path / "crawl.warc"
    path.write_bytes(b"".join(records))
    docs = read(path)
    assert [d.url for d in docs] == [
        "https://news.example/a",
        "https://news.example/latin",
        "https://news.example/r",
    ]
    assert all(isinstance(d, RawDocument) and d.kind == "html" for d in docs)
    assert "<p>First</p>" in docs[0].content
    assert "Café crème, señor." in docs[1].content
    assert docs[0].fetched_at == "2024-01-02T03:04:05+00:00"
    offsets = [int(d.source.rsplit("#", 1)[1]) for d in docs]
    assert docs[0].source.startswith(f"{path}#")
    assert offsets == sorted(offsets) and len(set(offsets)) == 3
    # The offset points at the record's own "WARC/1.0" line.
    data = path.read_bytes()
    assert all(data[o : o + 8] == b"WARC/1.0" for o in offsets)


def test_warc_gz_with_chunked_and_compressed_payloads(tmp_path: Path) -> None:
    body = page("Chunked")
    chunked = (
        b"".join(
            f"{len(body[i : i + 20]):x}\r\n".encode() + body[i : i + 20] + b"\r\n"
            for i in range(0, len(body), 20)
        )
        + b"0\r\n\r\n"
    )
    records = [
        warc_record(
            http_response(chunked, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"})
        ),
        warc_record(
            http_response(
                gzip.compress(page("Gzipped")),
                {"Content-Type": "text/html", "Content-Encoding": "gzip"},
            )
        ),
        warc_record(
            http_response(
                brotli.compress(page("Brotli")),
                {"Content-Type": "text/html", "Content-Encoding": "br"},
            )
        ),
        # Crawlers often store the decoded body and keep the header.
        warc_record(
            http_response(
                page("Stored plain"), {"Content-Type": "text/html", "Content-Encoding": "gzip"}
            )
        ),
    ]
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(gz(*records))
    docs = read(path)
    assert [type(d) for d in docs] == [RawDocument] * 4
    for doc, word in zip(docs, ["Chunked", "Gzipped", "Brotli", "Stored plain"], strict=True):
        assert f"<p>{word}</p>" in doc.content


def test_gzip_bomb_record_fails_alone_with_bounded_memory(tmp_path: Path) -> None:
    member = gzip.compress(b"\0" * 10_000_000)  # ~10 kB
    bomb = member * 100  # 1 GB once inflated; multi-member gzip is legal
    records = [
        warc_record(http_response(page("Before"))),
        warc_record(
            http_response(bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"}),
            uri="https://news.example/bomb",
        ),
        warc_record(http_response(page("After"))),
    ]
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(gz(*records))
    settings = Settings(db=":memory:", limits=Limits(max_warc_record_bytes=2_000_000))
    tracemalloc.start()
    started = time.monotonic()
    try:
        items = read(path, settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert [type(i) for i in items] == [RawDocument, Failure, RawDocument]
    assert "larger than the 2.0 MB limit once decompressed" in items[1].reason
    assert peak < 30_000_000


def test_oversized_record_fails_and_iteration_continues(tmp_path: Path) -> None:
    big = page("Big" * 2000)
    records = [warc_record(http_response(big)), warc_record(http_response(page("Small")))]
    path = tmp_path / "big.warc"
    path.write_bytes(b"".join(records))
    settings = Settings(db=":memory:", limits=Limits(max_warc_record_bytes=1000))
    failure, doc = read(path, settings)
    assert isinstance(failure, Failure)
    assert "above the 1.0 kB limit (STORYLINE_MAX_WARC_RECORD_BYTES)" in failure.reason
    assert isinstance(doc, RawDocument) and "<p>Small</p>" in doc.content


def test_warc_files_are_not_limited_by_the_document_size(tmp_path: Path) -> None:
    path = tmp_path / "many.warc.gz"
    path.write_bytes(gz(*(warc_record(http_response(page(f"P{i}"))) for i in range(30))))
    settings = Settings(db=":memory:", limits=Limits(max_document_bytes=1000))
    assert len([d for d in read(path, settings) if isinstance(d, RawDocument)]) == 30


def test_truncated_warc_gz_keeps_the_records_before(tmp_path: Path) -> None:
    data = gz(warc_record(http_response(page("One"))), warc_record(http_response(page("Two" * 50))))
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[:-60])
    doc, failure = read(path)
    assert isinstance(doc, RawDocument) and "<p>One</p>" in doc.content
    assert isinstance(failure, Failure)
    assert "truncated" in failure.reason and "rest of the file was skipped" in failure.reason


def test_truncated_plain_warc(tmp_path: Path) -> None:
    data = warc_record(http_response(page("One"))) + warc_record(http_response(page("Two" * 50)))
    path = tmp_path / "cut.warc"
    path.write_bytes(data[:-100])
    doc, failure = read(path)
    assert isinstance(doc, RawDocument)
    assert isinstance(failure, Failure) and "truncated" in failure.reason


def test_corrupt_warc_keeps_the_records_before(tmp_path: Path) -> None:
    good = warc_record(http_response(page("Good")))
    path = tmp_path / "bad.warc.gz"
    path.write_bytes(gzip.compress(good) + b"this is not gzip at all" + gzip.compress(good))
    doc, failure = read(path)
    assert isinstance(doc, RawDocument)
    assert isinstance(failure, Failure) and "corrupt" in failure.reason


def test_file_named_warc_that_is_not_one(tmp_path: Path) -> None:
    path = tmp_path / "fake.warc"
    path.write_text("hello, I am plain text\n" * 5)
    failure = read(path)[0]
    assert isinstance(failure, Failure) and "WARC" in failure.reason


def test_warc_is_sniffed_without_extension_and_from_stdin(tmp_path: Path) -> None:
    data = gz(warc_record(http_response(page("Sniffed"))))
    path = tmp_path / "crawl-00001"
    path.write_bytes(data)
    assert "<p>Sniffed</p>" in read(path)[0].content
    from_stdin = list(read_inputs(["-"], SETTINGS, stdin=io.BytesIO(data)))
    assert len(from_stdin) == 1 and from_stdin[0].source == "<stdin>#0"
