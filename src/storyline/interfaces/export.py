"""Story exports: the JSON contract, JSON Lines and CSV.

`story_to_dict` is the one place that defines the exported shape; the REST
API returns the same JSON.  Later analyses add fields; existing names stay.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from storyline.compare import StoryAnalyses, compare_story, story_lineage, story_timeline
from storyline.interfaces.ics import scheduled_events_to_ics
from storyline.records import Article, Story, StorySplit

EXPORT_FORMATS = ("json", "jsonl", "csv", "ics")

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


# Per-article analysis kinds that the export carries as article fields.
ARTICLE_ANALYSIS_FIELDS = ("time_expressions", "shared_passages")



def article_to_dict(article: Article, analyses: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
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
    for kind in ARTICLE_ANALYSIS_FIELDS:
        data = (analyses or {}).get(kind)
        if data is not None:
            out[kind] = [_export_item(kind, item) for item in data]
    return out


def _export_item(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "time_expressions":
        return {k: item.get(k) for k in ("text", "start", "end", "type", "value")}
    return dict(item)


def _split_item(story_id: str, split: StorySplit) -> dict[str, Any]:
    return {
        "story_id": story_id,
        "article_ids": list(split.article_ids),
        "reason": split.reason,
        "at": split.at,
    }


def story_to_dict(story: Story, analyses: StoryAnalyses | None = None) -> dict[str, Any]:
    """The export shape of one story; `analyses` adds what the analysis stages found."""
    analyses = analyses or {}
    out: dict[str, Any] = {
        "id": story.id,
        "title": story.title,
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "similarity_method": story.similarity_method,
        # Where articles went when a story was split (both ids stay valid): the story
        # this one was split from, and the stories split off from this one.
        "split_from": [
            _split_item(split.from_id, split) for split in story.splits
            if split.into_id == story.id
        ],
        "split_into": [
            _split_item(split.into_id, split) for split in story.splits
            if split.from_id == story.id
        ],
    }
    out.update(compare_story(story, analyses))
    out["articles"] = [article_to_dict(a, analyses.get(a.id)) for a in story.articles]
    lineage = story_lineage(story, analyses)
    for article in out["articles"]:
        if article["id"] in lineage:
            article["lineage"] = lineage[article["id"]]
    return out


def write_export(
    stories: Iterable[tuple[Story, StoryAnalyses]] | Iterable[Story], fmt: str, out: TextIO
) -> int:
    """Write stories in `fmt` to `out`; returns the number of stories written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    n = 0
    pairs = (item if isinstance(item, tuple) else (item, {}) for item in stories)
    if fmt == "json":
        # Streamed so that a large store is not held in memory twice.
        out.write('{"stories": [')
        for story, analyses in pairs:
            out.write(",\n" if n else "\n")
            out.write(json.dumps(story_to_dict(story, analyses), ensure_ascii=False))
            n += 1
        out.write("\n]}\n")
    elif fmt == "ics":
        # The scheduled events of the stories, for calendar apps (RFC 5545).
        timelines = []
        for story, analyses in pairs:
            timelines.append((story.id, story.title, story_timeline(story, analyses)))
            n += 1
        out.write(scheduled_events_to_ics(timelines))
    elif fmt == "jsonl":
        for story, analyses in pairs:
            out.write(json.dumps(story_to_dict(story, analyses), ensure_ascii=False) + "\n")
            n += 1
    else:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for story, _ in pairs:
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
