"""What a byte string is: binary formats we refuse, and the container kind of text input."""

from __future__ import annotations

import re
import zlib
from typing import Literal

ContainerKind = Literal["text", "html", "jsonl", "json", "warc", "feed"]

SNIFF_BYTES = 64 * 1024  # enough to see past a long <head> or an XML prolog

# Magic numbers of formats people drop into a folder of articles by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"(\xb5/\xfd", "a zstd archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"OggS", "an Ogg audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"\x00\x00\x00\x18ftyp", "an MP4 video"),
    (b"\x00\x00\x00\x20ftyp", "an MP4 video"),
)

# BOMs: text in UTF-16/32 legitimately holds NUL bytes.
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_CONTROL = bytes(set(range(32)) - {9, 10, 12, 13} | {127})
_CONTROL_SHARE = 0.10


def is_gzip(head: bytes) -> bool:
    return head[:2] == b"\x1f\x8b"


def gunzip_head(head: bytes, size: int = 64) -> bytes:
    """The first bytes inside a gzip stream, or b'' when they cannot be read."""
    try:
        return zlib.decompressobj(wbits=31).decompress(head, size)
    except zlib.error:
        return b""


def is_warc(head: bytes) -> bool:
    """WARC, plain or as gzip members (the usual .warc.gz)."""
    if head.startswith(b"WARC/1."):
        return True
    return is_gzip(head) and gunzip_head(head).startswith(b"WARC/1.")


def binary_description(head: bytes) -> str | None:
    """'a PNG image', 'binary data', ... when `head` is not text; None when it may be text."""
    if not head or is_warc(head):
        return None
    # RIFF and friends carry the format after a size field.
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[:4] == b"RIFF":
        return "a RIFF media file"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith(_BOMS):
        return None
    sample = head[:SNIFF_BYTES]
    if b"\x00" in sample:
        return "binary data (holds NUL bytes)"
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if controls / len(sample) > _CONTROL_SHARE:
        return "binary data (many control characters)"
    return None


_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)[\s>/]", re.IGNORECASE)
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_HTML_TAG = re.compile(
    rb"<(?:p|div|article|section|main|header|h[1-6]|title|meta|link|span|a|ul|ol|table|br|"
    rb"figure|img|script|style)[\s>/]",
    re.IGNORECASE,
)
_XML_NOISE = re.compile(rb"\s*(?:<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>|\s)*", re.DOTALL)


def sniff_kind(head: bytes) -> ContainerKind:
    """The container kind of text input from its first bytes (a prefix is enough).

    Markup is recognised by its first element, after any XML prolog,
    comments and doctype, so an article that merely quotes "<html>" stays text.
    """
    if is_warc(head):
        return "warc"
    if head.startswith(b"\xef\xbb\xbf"):
        start = head[3:4096]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        start = head[2:8192].replace(b"\x00", b"")  # UTF-16: good enough to sniff markup
    else:
        start = head[:4096]
    body = start[_XML_NOISE.match(start).end() :]  # type: ignore[union-attr]
    if _FEED_ROOT.match(body):
        return "feed"
    # A fragment ("<article><h1>...") counts as HTML too.
    if _HTML_START.match(body) or _HTML_TAG.match(body):
        return "html"
    stripped = start.lstrip()
    if stripped.startswith(b"{"):
        return "jsonl"
    if stripped.startswith(b"["):
        return "json"
    return "text"
