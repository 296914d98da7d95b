"""Terminal rendering of stories, story lists, search hits and ingest summaries (Rich)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from storyline.records import IngestReport, SearchHit, Story, StorySummary


def _date(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def stories_table(rows: Sequence[StorySummary]) -> Table:
    table = Table(title="Stories", show_lines=False, expand=True)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("title", ratio=3)
    table.add_column("articles", justify="right")
    table.add_column("outlets", ratio=2)
    table.add_column("first seen", no_wrap=True)
    table.add_column("last seen", no_wrap=True)
    for row in rows:
        table.add_row(
            row.id[:10],
            escape(row.title),
            str(row.article_count),
            escape(", ".join(row.outlets)),
            _date(row.first_seen),
            _date(row.last_seen),
        )
    return table


def story_report(
    story: Story, *, full: bool = False, view: Mapping[str, Any] | None = None
) -> RenderableType:
    """A readable report of one story: header, articles, then what the analyses found.

    `view` is the story's export JSON (summary, timeline, facts, quotes), when available.
    """
    originals = [a for a in story.articles if not a.duplicate_of]
    outlets = Counter(a.outlet or "unknown outlet" for a in originals)
    header = Text()
    header.append(story.title + "\n", style="bold")
    header.append(
        f"{len(originals)} articles from {len(outlets)} outlets · "
        f"{_date(story.first_seen)} → {_date(story.last_seen)} · story {story.id}",
        style="dim",
    )

    table = Table(expand=True, show_edge=False)
    table.add_column("outlet", style="green", no_wrap=True)
    table.add_column("published", no_wrap=True)
    table.add_column("title", ratio=3)
    table.add_column("credits / authors", ratio=1)
    table.add_column("article", style="cyan", no_wrap=True)
    for a in story.articles:
        credits = ", ".join(a.wire_agencies)
        if a.authors:
            credits += (" · " if credits else "") + ", ".join(a.authors)
        table.add_row(
            escape(a.outlet or "?"),
            _date(a.published),
            escape(a.title),
            escape(credits),
            a.id[:10] + (" (dup)" if a.duplicate_of else ""),
        )

    parts: list[RenderableType] = [header, table, *_analysis_sections(view or {})]
    for a in originals:
        paragraphs = a.paragraphs
        shown = paragraphs if full else paragraphs[:2]
        body = "\n\n".join(shown)
        if not full and len(paragraphs) > len(shown):
            body += f"\n\n[… {len(paragraphs) - len(shown)} more paragraphs; --full shows them]"
        title = f"{a.outlet or '?'} · {a.title}"
        parts.append(Panel(Text(body), title=escape(title), title_align="left", expand=True))
    return Group(*parts)


def _badges(outlets: Sequence[str]) -> str:
    return escape(", ".join(outlets))


def _analysis_sections(view: Mapping[str, Any]) -> list[RenderableType]:
    """Summary, timeline, facts and quotes, each only when the story JSON has it."""
    sections: list[RenderableType] = []
    if view.get("summary"):
        lines = Text()
        for item in view["summary"]:
            lines.append(f"• {item['text']} ")
            lines.append(f"[{', '.join(item['outlets'])}]\n", style="green")
        sections.append(Panel(lines, title="Summary", title_align="left"))
    if view.get("timeline"):
        timeline = Table(title="Timeline", expand=True, show_edge=False, title_justify="left")
        timeline.add_column("date", no_wrap=True)
        timeline.add_column("status", no_wrap=True)
        timeline.add_column("what", ratio=3)
        timeline.add_column("outlets", style="green")
        for entry in view["timeline"]:
            timeline.add_row(
                entry["date"],
                entry["status"],
                escape(entry["description"]),
                _badges(entry["outlets"]),
            )
        sections.append(timeline)
    if view.get("facts"):
        facts = Table(
            title="Facts across outlets", expand=True, show_edge=False, title_justify="left"
        )
        facts.add_column("status", no_wrap=True)
        facts.add_column("fact", ratio=3)
        facts.add_column("outlets", style="green")
        for fact in view["facts"]:
            facts.add_row(fact["status"], escape(fact["text"]), _badges(fact["outlets"]))
        sections.append(facts)
    if view.get("quotes"):
        quotes = Table(title="Quotes", expand=True, show_edge=False, title_justify="left")
        quotes.add_column("speaker", ratio=1)
        quotes.add_column("quote", ratio=3)
        quotes.add_column("outlets", style="green")
        for quote in view["quotes"]:
            text = f"“{quote['text']}”" if quote.get("direct") else quote["text"]
            quotes.add_row(
                escape(quote.get("speaker") or "?"), escape(text), _badges(quote["outlets"])
            )
        sections.append(quotes)
    return sections


def search_table(hits: Sequence[SearchHit], query: str) -> Table:
    table = Table(title=f"Search: {query}", expand=True)
    table.add_column("story", style="cyan", no_wrap=True)
    table.add_column("outlet", style="green")
    table.add_column("published", no_wrap=True)
    table.add_column("title", ratio=2)
    table.add_column("snippet", ratio=3)
    for hit in hits:
        table.add_row(
            (hit.story_id or "")[:10],
            escape(hit.outlet or ""),
            _date(hit.published),
            escape(hit.title),
            escape(hit.snippet),
        )
    return table


def print_ingest_summary(console: Console, report: IngestReport) -> None:
    """Counts, then one line per failed document (soft-wrapped: paths stay greppable)."""
    console.print(
        f"[green]new: {report.count('new')}[/green]  "
        f"[yellow]duplicate: {report.count('duplicate')}[/yellow]  "
        f"[{'red' if report.failures else 'dim'}]failed: {report.count('failed')}[/]"
    )
    for o in report.failures:
        console.print(f"[red]✗[/red] {escape(o.source)} — {escape(o.reason or '')}", soft_wrap=True)
