"""Makers of hostile and broken input files, written fast and (where it can be) sparsely."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from pathlib import Path

MB = 1_000_000

GOOD_PARAGRAPHS = (
    "The harbour bridge in the northern port city of Harbourg reopened to traffic on Friday "
    "after eighteen months of repairs that cost the regional government more than 40 million "
    "euros, officials said.",
    "Engineers replaced corroded cables and resurfaced the deck, the transport ministry said "
    "in a statement, adding that heavy lorries would be allowed back from next month.",
    "Local businesses had complained that the closure cut footfall in the old town by a third.",
)


def good_html(title: str = "Harbour bridge reopens after repairs") -> str:
    body = "".join(f"<p>{p}</p>\n" for p in GOOD_PARAGRAPHS)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>\n{body}</article>"
        "<footer>Subscribe to our newsletter</footer></body></html>"
    )


def deep_html(levels: int) -> str:
    """An article page whose body nests `levels` <div>s deep."""
    return (
        "<html><head><title>Deep</title></head><body>"
        + "<div>" * levels
        + "".join(f"<p>{p}</p>" for p in GOOD_PARAGRAPHS)
        + "</div>" * levels
        + "</body></html>"
    )


def sparse_file(path: Path, size: int) -> Path:
    """A file of `size` zero bytes that takes no disk space and no time to write."""
    with path.open("wb") as f:
        f.truncate(size)
    return path


def repeated_file(path: Path, block: bytes, size: int, *, prefix: bytes = b"") -> Path:
    """`prefix` then `block` repeated up to `size` bytes: a real (not sparse) large file."""
    chunk = block * max(1, (1 << 20) // len(block))
    with path.open("wb") as f:
        f.write(prefix)
        written = len(prefix)
        while written < size:
            piece = chunk[: size - written]
            f.write(piece)
            written += len(piece)
    return path


def gzip_bomb(decompressed_size: int) -> bytes:
    """A valid gzip member that inflates to `decompressed_size` zero bytes.

    Built from one deflate block repeated: after a full flush the compressor's
    output for the same 1 MiB of zeros is identical, so the bomb costs one
    compression of 1 MiB however large it claims to be.
    """
    block_size = 1 << 20
    zeros = bytes(block_size)
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = raw.compress(zeros) + raw.flush(zlib.Z_FULL_FLUSH)
    again = raw.compress(zeros) + raw.flush(zlib.Z_FULL_FLUSH)
    blocks = decompressed_size // block_size
    tail = raw.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    body = first + again * (blocks - 1) + tail
    trailer = struct.pack("<II", crc & 0xFFFFFFFF, (blocks * block_size) & 0xFFFFFFFF)
    return header + body + trailer


def warc_record(uri: str, http_headers: dict[str, str], payload: bytes, n: int) -> bytes:
    head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in http_headers.items())
    block = head.encode() + b"\r\n" + payload
    warc_head = (
        "WARC/1.0\r\n"
        "WARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{n:012d}>\r\n"
        "WARC-Date: 2024-03-01T10:00:00Z\r\n"
        f"WARC-Target-URI: {uri}\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(block)}\r\n\r\n"
    )
    return warc_head.encode() + block + b"\r\n\r\n"


def warc_with_bomb(path: Path, decompressed_size: int = 1_000 * (1 << 20)) -> Path:
    """A WARC: a gzip bomb response record, then a good, gzip-encoded article page."""
    bomb = gzip_bomb(decompressed_size)
    good = gzip.compress(good_html("Harbour bridge reopens, WARC copy").encode())
    records = [
        warc_record(
            "https://bomb.example.org/a",
            {
                "Content-Type": "text/html",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(bomb)),
            },
            bomb,
            1,
        ),
        warc_record(
            "https://good.example.org/bridge",
            {
                "Content-Type": "text/html; charset=utf-8",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(good)),
            },
            good,
            2,
        ),
    ]
    path.write_bytes(b"".join(records))
    return path


def feed_with_items(count: int) -> str:
    """An RSS feed of `count` distinct full-text items (synthetic reports of 12 stories)."""
    from xml.sax.saxutils import escape

    from reliability_helpers import synthetic_corpus

    items = "".join(
        f"<item><title>{escape(r['title'])}</title><link>https://feed.example.org/items/{i}</link>"
        f"<pubDate>Fri, 01 Mar 2024 10:{i % 60:02d}:00 GMT</pubDate>"
        f"<description>{escape(r['text'])}</description></item>"
        for i, r in enumerate(synthetic_corpus(count, 12, seed=3))
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Harbourg Herald</title><link>https://feed.example.org/</link>{items}"
        "</channel></rss>"
    )


def broken_jsonl() -> tuple[bytes, dict[int, str]]:
    """JSON Lines with good and broken lines; {line number: what is wrong} for the bad ones."""
    good = {
        "url": "https://jsonl.example.org/bridge",
        "title": "Harbour bridge reopens",
        "text": "\n\n".join(GOOD_PARAGRAPHS),
        "published": "2024-03-01",
    }
    good2 = dict(
        good,
        url="https://jsonl.example.org/bridge-2",
        text="\n\n".join(reversed(GOOD_PARAGRAPHS)) + "\n\nA second report.",
    )
    lines: list[bytes] = [
        json.dumps(good).encode(),
        b'{"url": "https://jsonl.example.org/cut", "text": "The harbour bri',  # truncated
        b"[1, 2, 3]",  # not an object
        b'{"url": "https://jsonl.example.org/empty"}',  # no text at all
        b'{"title": "\xff\xfe invalid utf-8 \xc3\x28"}',
        b"not json at all",
        b"",  # blank lines are skipped, not errors
        json.dumps(good2).encode(),
    ]
    bad = {2: "truncated", 3: "array", 4: "no text", 5: "invalid utf-8", 6: "not json"}
    return b"\n".join(lines) + b"\n", bad


def mojibake_text() -> bytes:
    """A plain-text article in UTF-8 with a latin-1 paragraph and double-encoded mojibake."""
    title = "Café owners in Málaga protest tourism tax"
    first = (
        "Owners of cafés and bars in the Spanish city of Málaga protested on Tuesday "
        "against a new tourism tax that the regional government plans to introduce."
    )
    second = (
        "The association of hoteliers said the levy of two euros a night was poorly "
        "designed and would drive visitors to cheaper resorts along the coast."
    )
    mojibake = "Le maire a déclaré que la taxe était « nécessaire » pour financer la propreté."
    return (
        title.encode("utf-8")
        + b"\n\n"
        + first.encode("utf-8")
        + b"\n\n"
        + second.encode("utf-8")
        + b"\n\n"
        + mojibake.encode("utf-8").decode("latin-1").encode("utf-8")
        + b"\n\n"
        + "Les cafés ferment à 22 heures, a précisé la mairie.".encode("latin-1")
        + b"\n"
    )
