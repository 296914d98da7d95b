"""JSON Lines (one article object per line) and JSON files holding article objects.

Field names differ between tools (news-please, NewsAPI, scrapers, exports),
so each field is looked up under its common aliases, case-insensitively.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

from storyline.config import Settings
from storyline.records import ContentKind, Failure, RawDocument
from storyline.sources.common import ReadError, human_size, to_iso8601
from storyline.sources.decode import decode_bytes, repair_text

TEXT_KEYS = (
    "text",
    "body",
    "content",
    "maintext",
    "article",
    "article_text",
    "full_text",
    "fulltext",
    "plain_text",
)
HTML_KEYS = ("html", "raw_html", "content_html", "body_html", "html_content")
TITLE_KEYS = ("title", "headline")
URL_KEYS = ("url", "link", "canonical_url", "source_url", "uri")
PUBLISHED_KEYS = (
    "published",
    "date",
    "published_at",
    "publishedat",
    "date_publish",
    "pubdate",
    "datepublished",
    "publish_date",
    "published_date",
    "pub_date",
)
OUTLET_KEYS = (
    "outlet",
    "source",
    "site_name",
    "source_name",
    "source_domain",
    "publisher",
    "site",
    "domain",
)
LANGUAGE_KEYS = ("language", "lang")
AUTHOR_KEYS = ("authors", "author", "byline", "creator", "creators")
# Keys under which a JSON document keeps its list of articles (NewsAPI: "articles").
LIST_KEYS = ("articles", "items", "data", "results", "entries", "documents", "records", "docs")

_HTML_BLOCK = re.compile(
    r"<(?:p|div|br|article|section|html|body|h[1-6]|ul|li|figure)[\s>/]", re.IGNORECASE
)
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\||\s&\s|\band\b)\s*")


class NoArticles(ReadError):
    pass


def _lookup(fields: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = fields.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n\n".join(v for v in value if v.strip())  # a list of paragraphs
    return None


def _as_name(value: Any) -> str | None:
    if isinstance(value, dict):  # NewsAPI: "source": {"id": ..., "name": ...}
        value = value.get("name") or value.get("title")
    if isinstance(value, str) and value.strip():
        return repair_text(value).strip()
    return None


def _authors(value: Any) -> list[str]:
    raw: list[Any] = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in raw:
        name = _as_name(item)
        if name is None:
            continue
        parts = _AUTHOR_SPLIT.split(name)
        if "," in name and all(len(p.split()) >= 2 for p in name.split(",")):
            parts = [q for p in name.split(",") for q in _AUTHOR_SPLIT.split(p)]  # "A B, C D"
        for part in parts:
            part = part.strip(" ,")
            if part and part not in names:
                names.append(part)
    return names


def looks_like_html(text: str) -> bool:
    return len(_HTML_BLOCK.findall(text[:5000])) >= 2


def record_to_document(record: Any, source: str) -> RawDocument:
    """A JSON object to a RawDocument; ReadError saying what is missing otherwise."""
    if not isinstance(record, dict):
        raise ReadError(f"expected a JSON object, found {_json_type(record)}")
    fields = {str(k).lower(): v for k, v in record.items()}
    text = _as_text(_lookup(fields, TEXT_KEYS))
    markup = _as_text(_lookup(fields, HTML_KEYS))
    # Prefer the producer's text: it is the article already cut out of the page.
    kind: ContentKind
    if text and text.strip():
        content, kind = text, "html" if looks_like_html(text) else "text"
    elif markup and markup.strip():
        content, kind = markup, "html"
    else:
        shown = ", ".join(sorted(fields)[:12]) or "none"
        raise ReadError(f"record has neither text nor html (fields: {shown})")
    url = _lookup(fields, URL_KEYS)
    title = _as_text(_lookup(fields, TITLE_KEYS))
    language = _lookup(fields, LANGUAGE_KEYS)
    return RawDocument(
        source=source,
        content=repair_text(content),
        kind=kind,
        url=url.strip() if isinstance(url, str) and url.strip() else None,
        title=repair_text(title).strip() or None if title else None,
        published=to_iso8601(_lookup(fields, PUBLISHED_KEYS)),
        outlet=_as_name(_lookup(fields, OUTLET_KEYS)),
        language=language.strip() if isinstance(language, str) and language.strip() else None,
        authors=_authors(_lookup(fields, AUTHOR_KEYS)),
    )


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return "an object"


def _json_error(err: json.JSONDecodeError) -> str:
    # json ends some messages in " at" (it appends the position): "Unterminated string starting at".
    return f"invalid JSON at column {err.colno}: {err.msg.removesuffix(' at')}"


def _line_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(raw)  # a line in a legacy encoding still has a chance


def read_jsonl(
    stream: IO[bytes], source: str, settings: Settings
) -> Iterator[RawDocument | Failure]:
    """One document per non-blank line of `stream`, named `source:LINE`."""
    limit = settings.limits.max_jsonl_line_bytes
    line_number = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        line_number += 1
        item_source = f"{source}:{line_number}"
        if len(raw) > limit and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line, bounded reads
                raw = stream.readline(1 << 20)
            yield Failure(
                item_source,
                "read",
                f"line is longer than the {human_size(limit)} limit "
                "(STORYLINE_MAX_JSONL_LINE_BYTES)",
            )
            continue
        if line_number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if not raw.strip():
            continue
        try:
            # Without its line ending: a line cut short then reads "Unterminated string",
            # not "Invalid control character" (the newline inside the open string).
            record = json.loads(_line_text(raw.rstrip(b"\r\n")))
            yield record_to_document(record, item_source)
        except json.JSONDecodeError as err:
            yield Failure(item_source, "read", _json_error(err))
        except ReadError as err:
            yield err.failure(item_source)


def first_line_is_json(head: bytes) -> bool:
    """Whether the first line of `head` is a complete JSON value (JSON Lines, not pretty JSON)."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    if b"\n" not in head:
        return True  # one line longer than the sniffed prefix reads the same either way
    line = head.split(b"\n", 1)[0]
    try:
        json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return True


def read_json(data: bytes, source: str, settings: Settings) -> Iterator[RawDocument | Failure]:
    """A JSON file with one article object, an array of them, or {"articles": [...]}."""
    text = decode_bytes(data)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        if err.msg == "Extra data":  # several values: it is JSON Lines under a .json name
            import io

            yield from read_jsonl(io.BytesIO(text.encode("utf-8")), source, settings)
            return
        yield Failure(
            source, "read", f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        )
        return
    if isinstance(value, dict):
        fields = {str(k).lower(): v for k, v in value.items()}
        if _lookup(fields, TEXT_KEYS) is not None or _lookup(fields, HTML_KEYS) is not None:
            try:
                yield record_to_document(value, source)
            except ReadError as err:
                yield err.failure(source)
            return
        nested = _lookup(fields, LIST_KEYS)
        if not isinstance(nested, list):
            shown = ", ".join(sorted(fields)[:12]) or "none"
            yield Failure(
                source, "read", f"no article records (a JSON object with fields: {shown})"
            )
            return
        value = nested
    if not isinstance(value, list) or not any(isinstance(v, dict) for v in value):
        what = (
            f"an array of {len(value)} non-objects"
            if isinstance(value, list)
            else _json_type(value)
        )
        yield Failure(source, "read", f"no article records (the JSON holds {what})")
        return
    for index, item in enumerate(value):
        item_source = f"{source}#{index}"
        try:
            yield record_to_document(item, item_source)
        except ReadError as err:
            yield err.failure(item_source)
