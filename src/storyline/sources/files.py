"""Inputs on disk (and in memory): path expansion and the choice of reader.

The kind of a file comes from its name, then from its first bytes. Only
containers that stream (WARC, JSON Lines) may be larger than
`max_document_bytes`; any other file above it is refused from its size
alone, before a byte is read.
"""

from __future__ import annotations

import glob
import io
import os
from collections.abc import Iterator
from pathlib import Path

from storyline.config import Settings
from storyline.records import Failure, RawDocument
from storyline.sources.common import ReadError, over_limit
from storyline.sources.decode import decode_bytes
from storyline.sources.feeds import LinkFollower, read_feed
from storyline.sources.jsonl import first_line_is_json, read_json, read_jsonl
from storyline.sources.sniff import (
    SNIFF_BYTES,
    ContainerKind,
    binary_description,
    is_warc,
    sniff_kind,
)
from storyline.sources.warc import read_warc

Item = RawDocument | Failure

EXTENSION_KINDS: dict[str, ContainerKind] = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".warc": "warc",
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
}
_STREAMED: frozenset[ContainerKind] = frozenset({"warc", "jsonl"})
_GLOB_CHARS = frozenset("*?[")


def kind_from_name(path: Path) -> ContainerKind | None:
    name = path.name.lower()
    if name.endswith(".warc.gz"):
        return "warc"
    return EXTENSION_KINDS.get(path.suffix.lower())


# --------------------------------------------------------------------------- expansion


def _walk(directory: Path) -> Iterator[Path | Failure]:
    """Files under `directory`, sorted, depth first, hidden files and folders skipped."""
    errors: list[OSError] = []
    for root, dirs, files in os.walk(directory, onerror=errors.append):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name
    for err in errors:
        yield Failure(
            str(err.filename or directory), "read", f"cannot list directory: {err.strerror}"
        )


def expand_path(spec: str) -> Iterator[Path | Failure]:
    """The files a path, directory or glob names; a Failure when it names none."""
    path = Path(spec).expanduser()
    if path.is_dir():
        found = False
        for item in _walk(path):
            found = found or isinstance(item, Path)
            yield item
        if not found:
            yield Failure(spec, "read", f"directory holds no files: {spec}")
        return
    if path.exists():
        yield path
        return
    if _GLOB_CHARS & set(spec):
        matches = sorted(glob.glob(str(path), recursive=True))
        if not matches:
            yield Failure(spec, "read", f"glob matched no files: {spec}")
        for match in matches:
            matched = Path(match)
            if matched.is_dir():
                yield from _walk(matched)
            else:
                yield matched
        return
    yield Failure(spec, "read", f"no such file or directory: {spec}")


# --------------------------------------------------------------------------- reading


def read_path(
    path: Path, settings: Settings, *, follow_link: LinkFollower | None = None
) -> Iterator[Item]:
    source = str(path)
    try:
        size = path.stat().st_size
        if size == 0:
            yield Failure(source, "read", "empty file")
            return
        kind = kind_from_name(path)
        limit = settings.limits.max_document_bytes
        too_big = over_limit("file", size, limit, "max_document_bytes")
        if kind is not None and kind not in _STREAMED and size > limit:
            yield Failure(source, "read", too_big)  # refused from stat alone, nothing read
            return
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
            if kind is None or (kind == "feed" and path.suffix.lower() == ".xml"):
                kind = _sniffed_kind(head, kind)
            if kind == "warc":
                yield from read_warc(source, source, settings)  # fastwarc reads paths fastest
                return
            if kind not in _STREAMED and size > limit:
                yield Failure(source, "read", too_big)
                return
            what = binary_description(head)
            if what is not None:
                yield Failure(source, "read", f"binary content (looks like {what})")
                return
            if kind == "jsonl":
                handle.seek(0)
                yield from read_jsonl(handle, source, settings)
                return
            data = head + handle.read(limit + 1 - len(head))  # bounded even if the file grew
        if len(data) > limit:
            yield Failure(
                source, "read", over_limit("file", len(data), limit, "max_document_bytes")
            )
            return
        yield from read_document(data, source, settings, kind=kind, follow_link=follow_link)
    except PermissionError:
        yield Failure(source, "read", f"permission denied: {source}")
    except IsADirectoryError:
        yield Failure(source, "read", f"is a directory: {source}")
    except FileNotFoundError:
        yield Failure(source, "read", f"no such file or directory: {source}")
    except OSError as err:
        yield Failure(source, "read", f"cannot read file: {err.strerror or err}")


def _sniffed_kind(head: bytes, by_name: ContainerKind | None) -> ContainerKind:
    if is_warc(head):
        return "warc"
    kind = sniff_kind(head)
    if kind == "jsonl" and not first_line_is_json(head):
        return "json"  # pretty-printed JSON starts with "{" too
    if by_name == "feed" and kind not in ("feed", "html"):
        return "feed"  # an .xml that is neither: the feed reader says what is wrong
    return kind


def read_document(
    data: bytes,
    source: str,
    settings: Settings,
    *,
    kind: ContainerKind | None = None,
    charset: str | None = None,
    url: str | None = None,
    fetched_at: str | None = None,
    follow_link: LinkFollower | None = None,
) -> Iterator[Item]:
    """Read a document held in memory (a file, stdin, an HTTP body) as `kind` (sniffed if None)."""
    if not data.strip():
        yield Failure(source, "read", "empty file" if data == b"" else "holds only whitespace")
        return
    if kind is None:
        kind = _sniffed_kind(data[:SNIFF_BYTES], None)
    if kind == "warc":
        yield from read_warc(io.BytesIO(data), source, settings)
        return
    what = binary_description(data[:SNIFF_BYTES])
    if what is not None:
        yield Failure(source, "read", f"binary content (looks like {what})")
        return
    try:
        if kind == "jsonl":
            yield from read_jsonl(io.BytesIO(data), source, settings)
        elif kind == "json":
            yield from read_json(data, source, settings)
        elif kind == "feed":
            yield from read_feed(data, source, settings, follow_link=follow_link)
        else:
            text = decode_bytes(data, charset)
            if not text.strip():
                yield Failure(source, "read", "holds only whitespace")
                return
            yield RawDocument(
                source=source,
                content=text,
                kind="html" if kind == "html" else "text",
                url=url,
                fetched_at=fetched_at,
            )
    except ReadError as err:
        yield err.failure(source)
