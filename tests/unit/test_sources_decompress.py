"""Bounded Content-Encoding decompression (shared by the WARC reader and HTTP)."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from storyline.sources.common import ReadError
from storyline.sources.decode import repair_text
from storyline.sources.decompress import BoundedDecoder, TooLarge, decode_all

BODY = b"<html><body>" + b"<p>Paragraph of news.</p>" * 200 + b"</body></html>"


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoded", "coding"),
    [
        (gzip.compress(BODY), "gzip"),
        (gzip.compress(BODY), "x-gzip"),
        (zlib.compress(BODY), "deflate"),  # as the RFC says: zlib-wrapped
        (raw_deflate(BODY), "deflate"),  # as many servers send it
        (brotli.compress(BODY), "br"),
        (brotli.compress(gzip.compress(BODY)), "gzip, br"),
        (BODY, "identity"),
        (BODY, None),
    ],
)
def test_codings_round_trip(encoded: bytes, coding: str | None) -> None:
    assert decode_all(encoded, coding, 1_000_000, "body") == BODY


def test_streamed_in_small_chunks() -> None:
    encoded = gzip.compress(BODY)
    decoder = BoundedDecoder("gzip", 1_000_000)
    out = b"".join(decoder.feed(encoded[i : i + 7]) for i in range(0, len(encoded), 7))
    decoder.finish()
    assert out == BODY


@pytest.mark.parametrize(
    ("bomb", "coding"),
    [
        (gzip.compress(b"\0" * 5_000_000), "gzip"),
        (zlib.compress(b"\0" * 5_000_000), "deflate"),
        (brotli.compress(b"\0" * 5_000_000, quality=5), "br"),
    ],
)
def test_bombs_stop_at_the_limit(bomb: bytes, coding: str) -> None:
    with pytest.raises(TooLarge, match=r"larger than the 1\.0 MB limit"):
        decode_all(bomb, coding, 1_000_000, "body")


def test_truncated_corrupt_and_unknown_codings() -> None:
    with pytest.raises(ReadError, match="truncated"):
        decode_all(gzip.compress(BODY)[:-20], "gzip", 1_000_000, "body")
    with pytest.raises(ReadError, match="corrupt"):
        decode_all(b"\x1f\x8b\x08\x00garbage-garbage", "gzip", 1_000_000, "body")
    with pytest.raises(ReadError, match="unsupported Content-Encoding: compress"):
        decode_all(BODY, "compress", 1_000_000, "body")


def test_repair_text_removes_invisible_controls_and_keeps_the_rest() -> None:
    assert repair_text("tab\there\x07 bell\x1b") == "tab\there bell"
    assert repair_text("e\u0301te\u0301") == "été"  # NFC
    assert repair_text("plain ascii\r\n") == "plain ascii\n"
