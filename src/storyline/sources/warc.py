"""WARC and WARC.gz: one RawDocument per HTML response (or resource) record.

Records stream from fastwarc one at a time; only one record's payload is
in memory, and never more than `max_warc_record_bytes` of it, compressed
or not. A record that breaks a limit is a Failure for that record; a file
that is truncated or corrupt yields its good records, then one Failure
for the rest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from storyline.config import Settings
from storyline.records import Failure, RawDocument
from storyline.sources.common import ReadError, human_size, over_limit, to_iso8601
from storyline.sources.decode import decode_bytes
from storyline.sources.decompress import TooLarge, decode_all, parse_content_encoding
from storyline.sources.sniff import sniff_kind

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xhtml"})
# Media types that are certainly not an article page: skipped without a Failure.
_OTHER_PREFIXES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "application/json",
    "application/pdf",
    "application/zip",
    "application/octet-stream",
    "application/font",
    "application/x-font",
    "application/wasm",
)


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def _read_exactly(record: WarcRecord, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = record.reader.read(min(remaining, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def dechunk(body: bytes) -> bytes:
    """Undo HTTP chunked transfer coding; ValueError when `body` is not chunked."""
    out: list[bytes] = []
    pos = 0
    while True:
        line_end = body.index(b"\r\n", pos)
        size = int(body[pos:line_end].split(b";", 1)[0].strip(), 16)
        if size == 0:
            return b"".join(out)
        start = line_end + 2
        if start + size > len(body):
            raise ValueError("chunk runs past the end")
        out.append(body[start : start + size])
        pos = start + size + 2


class _Truncated(Exception):
    pass


def read_warc(
    stream: IO[bytes] | str, source: str, settings: Settings
) -> Iterator[RawDocument | Failure]:
    """HTML pages in the WARC `stream` (a path or a binary file), named `source#<offset>`."""
    record_limit = settings.limits.max_warc_record_bytes
    records = 0
    pages = 0
    last_offset = 0
    iterator = ArchiveIterator(
        stream,
        record_types=WarcRecordType.response | WarcRecordType.resource,
        parse_http=True,
        auto_decode="none",  # decoded here, with a bound on the output
    )
    try:
        for record in iterator:
            records += 1
            last_offset = record.stream_pos
            item_source = f"{source}#{record.stream_pos}"
            try:
                document = _record_document(record, item_source, record_limit)
            except _Truncated:
                yield Failure(
                    item_source,
                    "read",
                    "WARC file is truncated inside this record; the rest of the file was skipped",
                )
                return
            except ReadError as err:
                yield err.failure(item_source)
                continue
            if document is not None:
                pages += 1
                yield document
    except (OSError, ValueError) as err:  # fastwarc: "Invalid WARC header", gzip data errors
        yield Failure(
            f"{source}#{last_offset}" if records else source,
            "read",
            f"WARC file is corrupt after the record at this offset ({err}); "
            "the rest of the file was skipped"
            if records
            else f"not a readable WARC file: {err}",
        )
        return
    if records == 0:
        yield Failure(source, "read", "no WARC response or resource records found")
    elif pages == 0:
        yield Failure(source, "read", f"no HTML pages among the {records} WARC records")


def _record_document(record: WarcRecord, source: str, record_limit: int) -> RawDocument | None:
    """The page in one record; None for records that are not article pages (CSS, images, 404s)."""
    headers = record.headers
    http = record.is_http and record.record_type == WarcRecordType.response
    if http:
        status = record.http_headers.status_code
        if status is None or not 200 <= status < 300:
            return None  # redirects and errors are not pages
        media_type = _media_type(record.http_content_type)
        charset = record.http_charset
    else:
        media_type = _media_type(headers.get("Content-Type"))
        charset = None
        if media_type == "application/http":
            return None  # an HTTP message fastwarc could not parse, e.g. a request
    if media_type and media_type not in _HTML_TYPES and media_type.startswith(_OTHER_PREFIXES):
        return None
    size = record.content_length
    if size > record_limit:
        raise ReadError(over_limit("record", size, record_limit, "max_warc_record_bytes"))
    body = _read_exactly(record, size)
    if len(body) < size:
        raise _Truncated
    if http:
        body = _undo_http_codings(record, body, record_limit)
    if not body.strip():
        return None
    if media_type not in _HTML_TYPES and sniff_kind(body[:4096]) != "html":
        return None
    date = headers.get("WARC-Date")
    return RawDocument(
        source=source,
        content=decode_bytes(body, charset),
        kind="html",
        url=headers.get("WARC-Target-URI") or None,
        fetched_at=to_iso8601(date) if date else None,
    )


def _undo_http_codings(record: WarcRecord, body: bytes, limit: int) -> bytes:
    http_headers = record.http_headers
    if "chunked" in (http_headers.get("Transfer-Encoding") or "").lower():
        # Many crawlers store the body de-chunked but keep the header.
        with contextlib.suppress(ValueError):
            body = dechunk(body)
    encoding = http_headers.get("Content-Encoding")
    codings = parse_content_encoding(encoding)
    if not codings:
        return body
    if codings[-1] in ("gzip", "x-gzip") and not body.startswith(b"\x1f\x8b"):
        return body  # already decoded by the crawler, header kept
    try:
        return decode_all(body, encoding, limit, "record payload")
    except TooLarge:
        raise ReadError(
            f"record payload is larger than the {human_size(limit)} limit once decompressed "
            "(STORYLINE_MAX_WARC_RECORD_BYTES)"
        ) from None
    except ReadError:
        if sniff_kind(body[:4096]) == "html":
            return body  # the header lies: the body is plain HTML
        raise
