"""Scheduled events of stories as an iCalendar file (RFC 5545).

One VEVENT per scheduled timeline entry, as an all-day event
(`DTSTART;VALUE=DATE` and the exclusive `DTEND` the next day), which every
common calendar app (Google Calendar, Apple Calendar, Outlook, Thunderbird)
imports as-is.

Entries dated only to a week, month or coarser are left out by default: an
all-month event would sit on every day of the month in a calendar and say
less than the story page does.  `include_imprecise=True` exports them too,
spanning their whole period, with the precision said in the summary.

UIDs are stable: they come from the story id and the timeline entry's id (its
date, precision and first mention), so re-exporting updates events in a
subscribed calendar instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from storyline.analyse.events import period_of
from storyline.compare.timeline import TimelineEntry

__all__ = ["PRODID", "escape_text", "fold_line", "scheduled_events_to_ics"]

PRODID = "-//Storyline//Story timeline//EN"
_MAX_OCTETS = 75
_IMPRECISE = ("week", "month", "quarter", "season", "year", "decade")

StoryTimeline = tuple[str, str, Sequence[TimelineEntry]]  # story id, title, entries


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, newline."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character."""
    encoded_length = len(line.encode("utf-8"))
    if encoded_length <= _MAX_OCTETS:
        return line
    parts: list[str] = []
    current = ""
    current_octets = 0
    limit = _MAX_OCTETS
    for char in line:
        size = len(char.encode("utf-8"))
        if current_octets + size > limit:
            parts.append(current)
            current, current_octets = "", 0
            limit = _MAX_OCTETS - 1  # continuation lines start with one space
        current += char
        current_octets += size
    parts.append(current)
    return "\r\n ".join(parts)


# Calendar apps show the summary in a day cell; the full clause goes in DESCRIPTION.
_SUMMARY_CHARS = 100


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= _SUMMARY_CHARS:
        return text
    cut = text[: _SUMMARY_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def _event_lines(
    story_id: str, story_title: str, entry: TimelineEntry, stamp: str, include_imprecise: bool
) -> list[str]:
    span = period_of(entry.date)
    if span is None:
        return []
    if entry.precision != "day" and not include_imprecise:
        return []
    first, last = span
    summary = _shorten(entry.description)
    if entry.precision in _IMPRECISE:
        summary = f"[{entry.precision} {entry.date}] {summary}"
    outlets = ", ".join(entry.outlets) if entry.outlets else "unknown outlet"
    description = (
        f"{entry.description}\n\nStory: {story_title}\nReported by: {outlets}\n"
        f"Articles: {', '.join(entry.article_ids)}\nStoryline story {story_id}"
    )
    return [
        "BEGIN:VEVENT",
        f"UID:{story_id}-{entry.id}@storyline",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{first.strftime('%Y%m%d')}",
        f"DTEND;VALUE=DATE:{(last + timedelta(days=1)).strftime('%Y%m%d')}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def scheduled_events_to_ics(
    stories: Iterable[tuple[str, str, Sequence[TimelineEntry]]],
    *,
    now: datetime | None = None,
    include_imprecise: bool = False,
    calendar_name: str = "Storyline: scheduled events",
) -> str:
    """An iCalendar document with the scheduled entries of the given stories' timelines.

    `stories` yields `(story_id, story_title, timeline entries)`; only entries
    with status "scheduled" are exported.  `now` (UTC when naive) is the
    DTSTAMP, for reproducible output.
    """
    moment = now or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(calendar_name)}",
    ]
    for story_id, story_title, entries in stories:
        for entry in entries:
            if entry.status == "scheduled":
                lines.extend(_event_lines(story_id, story_title, entry, stamp, include_imprecise))
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)
