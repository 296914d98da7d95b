"""Readers: turn paths, globs, directories, stdin, URLs and feeds into RawDocuments.

`read_inputs` is the one entry point. It streams: each item is yielded as
soon as it is read, containers (WARC, JSON Lines, feeds) one record at a
time. A bad item becomes a `Failure` naming it precisely (`path`,
`path:LINE`, `path#offset`, `feed#entry`, the URL) and the iteration goes on.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

import httpx

from storyline.config import Settings
from storyline.records import Failure, RawDocument
from storyline.sources.common import ReadError, human_size
from storyline.sources.decode import DecodeError, decode_bytes
from storyline.sources.feeds import LinkFollower
from storyline.sources.files import expand_path, read_document, read_path
from storyline.sources.http import FetchedPage, FetchError, fetch, make_client
from storyline.sources.sniff import ContainerKind, sniff_kind

__all__ = [
    "DecodeError",
    "FetchError",
    "FetchedPage",
    "ReadError",
    "decode_bytes",
    "fetch",
    "make_client",
    "read_inputs",
]

STDIN = "-"
STDIN_SOURCE = "<stdin>"
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+json",
    }
)


def read_inputs(
    inputs: Iterable[str],
    settings: Settings,
    *,
    stdin: BinaryIO | None = None,
    client: httpx.Client | None = None,
    allow_private_addresses: bool = True,
    follow_links: bool = True,
) -> Iterator[RawDocument | Failure]:
    """Every document the inputs name, in order, lazily; Failures for what cannot be read.

    `follow_links`: for feed entries that carry only a summary, fetch the
    linked page and yield it instead.
    """
    reader = _Reader(settings, stdin, client, allow_private_addresses, follow_links)
    try:
        for spec in inputs:
            spec = os.fspath(spec)  # Path objects work too
            yield from _guarded(reader.read(spec), spec)
    finally:
        reader.close()


def _guarded(
    items: Iterator[RawDocument | Failure], source: str
) -> Iterator[RawDocument | Failure]:
    """Turn an unexpected error in one input into a Failure, so the batch goes on."""
    try:
        yield from items
    except Exception as err:  # a reader bug must not end the whole batch
        yield Failure(source, "read", f"unexpected error: {type(err).__name__}: {err}")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _kind_from_content_type(media_type: str | None, body: bytes) -> ContainerKind | None:
    """The reader for an HTTP body; None when it is not a document at all."""
    sniffed = sniff_kind(body[:4096])
    if media_type is None or media_type in ("text/plain", "application/octet-stream"):
        return sniffed
    if media_type in _HTML_TYPES:
        return "feed" if sniffed == "feed" else "html"
    if media_type in _FEED_TYPES or media_type.endswith(("+xml", "/xml")):
        return "html" if sniffed == "html" else "feed"
    if media_type in ("application/json", "application/x-ndjson", "application/jsonl"):
        return "jsonl" if media_type != "application/json" else "json"
    if media_type.startswith("text/"):
        return sniffed
    return None


class _Reader:
    def __init__(
        self,
        settings: Settings,
        stdin: BinaryIO | None,
        client: httpx.Client | None,
        allow_private_addresses: bool,
        follow_links: bool,
    ) -> None:
        self.settings = settings
        self.stdin = stdin
        self.allow_private_addresses = allow_private_addresses
        self.follow_links = follow_links
        self._client = client
        self._own_client = False

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:  # made on first use: most runs never touch the network
            self._client = make_client(
                self.settings, allow_private_addresses=self.allow_private_addresses
            )
            self._own_client = True
        return self._client

    def read(self, spec: str) -> Iterator[RawDocument | Failure]:
        if spec == STDIN:
            yield from self._read_stdin()
            return
        scheme = _URL_SCHEME.match(spec)
        if scheme:
            yield from self._read_url(spec)
            return
        for item in expand_path(spec):
            if isinstance(item, Failure):
                yield item
            else:
                yield from _guarded(
                    read_path(item, self.settings, follow_link=self._follower()), str(item)
                )

    def _follower(self) -> LinkFollower | None:
        return self._follow_link if self.follow_links else None

    def _fetch(self, url: str) -> FetchedPage:
        return fetch(
            url,
            self.settings,
            client=self.client,
            allow_private_addresses=self.allow_private_addresses,
        )

    def _follow_link(self, url: str) -> RawDocument:
        """The page a feed entry links to, as one document."""
        page = self._fetch(url)
        kind = _kind_from_content_type(page.content_type, page.body)
        if kind not in ("html", "text"):
            raise ReadError(
                f"linked page is not an article page (content type {page.content_type})"
            )
        return RawDocument(
            source=url,
            content=decode_bytes(page.body, page.charset),
            kind=kind,
            url=page.final_url,
            fetched_at=_now(),
        )

    def _read_url(self, url: str) -> Iterator[RawDocument | Failure]:
        try:
            page = self._fetch(url)
        except ReadError as err:
            yield err.failure(url)
            return
        kind = _kind_from_content_type(page.content_type, page.body)
        if kind is None:
            yield Failure(url, "read", f"not a document (content type {page.content_type})")
            return
        yield from read_document(
            page.body,
            url,
            self.settings,
            kind=kind,
            charset=page.charset,
            url=page.final_url,
            fetched_at=_now(),
            follow_link=self._follower(),
        )

    def _read_stdin(self) -> Iterator[RawDocument | Failure]:
        stream = self.stdin if self.stdin is not None else sys.stdin.buffer
        limit = self.settings.limits.max_document_bytes
        try:
            data = stream.read(limit + 1)
        except OSError as err:
            yield Failure(STDIN_SOURCE, "read", f"cannot read standard input: {err}")
            return
        if len(data) > limit:
            yield Failure(
                STDIN_SOURCE,
                "read",
                f"standard input is larger than the {human_size(limit)} limit "
                "(STORYLINE_MAX_DOCUMENT_BYTES)",
            )
            return
        if not data:
            yield Failure(STDIN_SOURCE, "read", "standard input is empty")
            return
        yield from read_document(data, STDIN_SOURCE, self.settings, follow_link=self._follower())
