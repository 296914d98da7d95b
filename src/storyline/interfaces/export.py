"""Story exports: the JSON contract, JSON Lines and CSV.

`story_to_dict` is the one place that defines the exported shape; the REST
API returns the same JSON.  Later analyses add fields; existing names stay.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any, TextIO

from storyline.records import Article, Story

EXPORT_FORMATS = ("json", "jsonl", "csv")

CSV_COLUMNS = (
    "story_id",
    "story_title",
    "article_id",
    "source",
    "url",
    "outlet",
    "title",
    "published",
    "authors",
    "wire_agencies",
    "language",
    "duplicate_of",
    "body",
)


def article_to_dict(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "source": article.source,
        "url": article.url,
        "outlet": article.outlet,
        "title": article.title,
        "published": article.published,
        "authors": list(article.authors),
        "wire_agencies": list(article.wire_agencies),
        "language": article.language,
        "body": article.body,
        "duplicate_of": article.duplicate_of,
    }


def story_to_dict(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "similarity_method": story.similarity_method,
        "articles": [article_to_dict(a) for a in story.articles],
    }


def write_export(stories: Iterable[Story], fmt: str, out: TextIO) -> int:
    """Write stories in `fmt` to `out`; returns the number of stories written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    n = 0
    if fmt == "json":
        # Streamed so that a large store is not held in memory twice.
        out.write('{"stories": [')
        for story in stories:
            out.write(",\n" if n else "\n")
            out.write(json.dumps(story_to_dict(story), ensure_ascii=False))
            n += 1
        out.write("\n]}\n")
    elif fmt == "jsonl":
        for story in stories:
            out.write(json.dumps(story_to_dict(story), ensure_ascii=False) + "\n")
            n += 1
    else:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for story in stories:
            for a in story.articles:
                writer.writerow(
                    {
                        "story_id": story.id,
                        "story_title": story.title,
                        "article_id": a.id,
                        "source": a.source,
                        "url": a.url or "",
                        "outlet": a.outlet or "",
                        "title": a.title,
                        "published": a.published or "",
                        "authors": "; ".join(a.authors),
                        "wire_agencies": "; ".join(a.wire_agencies),
                        "language": a.language or "",
                        "duplicate_of": a.duplicate_of or "",
                        "body": a.body,
                    }
                )
            n += 1
    return n


def export_string(stories: Iterable[Story], fmt: str) -> str:
    buf = io.StringIO()
    write_export(stories, fmt, buf)
    return buf.getvalue()
