"""iCalendar export of scheduled timeline entries (storyline.interfaces.ics)."""

from __future__ import annotations

from datetime import UTC, datetime

from storyline.compare.timeline import TimelineEntry
from storyline.interfaces.ics import escape_text, fold_line, scheduled_events_to_ics

NOW = datetime(2024, 5, 8, 12, 30, tzinfo=UTC)


def _entry(
    date: str,
    status: str = "scheduled",
    precision: str = "day",
    description: str = "Parliament will vote on the relief package",
    entry_id: str = "e1",
) -> TimelineEntry:
    return TimelineEntry(
        id=entry_id,
        date=date,
        precision=precision,
        description=description,
        status=status,
        outlets=["Daily Planet", "Evening Herald"],
        article_ids=["a1", "a2"],
    )


def _unfold(ics: str) -> list[str]:
    assert ics.endswith("\r\n")
    physical = ics[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in physical)
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def _events(lines: list[str]) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return events


def test_calendar_structure_and_all_day_events() -> None:
    stories = [
        ("story1", "Flood relief", [_entry("2024-05-14"), _entry("2024-05-05", status="past")])
    ]
    lines = _unfold(scheduled_events_to_ics(stories, now=NOW))
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    (event,) = _events(lines)  # the past entry is not exported
    assert event["DTSTART;VALUE=DATE"] == "20240514"
    assert event["DTEND;VALUE=DATE"] == "20240515"
    assert event["DTSTAMP"] == "20240508T123000Z"
    assert event["UID"] == "story1-e1@storyline"
    assert event["SUMMARY"] == "Parliament will vote on the relief package"
    assert "Reported by: Daily Planet\\, Evening Herald" in event["DESCRIPTION"]


def test_uid_is_stable_across_exports_and_distinct_per_entry() -> None:
    stories = [("s", "T", [_entry("2024-05-14"), _entry("2024-05-20", entry_id="e2")])]
    first = _events(_unfold(scheduled_events_to_ics(stories, now=NOW)))
    second = _events(
        _unfold(scheduled_events_to_ics(stories, now=datetime(2025, 1, 1, tzinfo=UTC)))
    )
    assert [e["UID"] for e in first] == [e["UID"] for e in second]
    assert len({e["UID"] for e in first}) == 2


def test_text_is_escaped() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    stories = [("s", "Talks; round 2", [_entry("2024-05-14", description="Talks, at last; maybe")])]
    (event,) = _events(_unfold(scheduled_events_to_ics(stories, now=NOW)))
    assert event["SUMMARY"] == "Talks\\, at last\\; maybe"
    assert "Story: Talks\\; round 2\\n" in event["DESCRIPTION"]


def test_long_lines_are_folded_at_75_octets_without_splitting_characters() -> None:
    description = "Gespräche über Sicherheit in Genf — " * 10
    stories = [("s", "T", [_entry("2024-05-14", description=description)])]
    ics = scheduled_events_to_ics(stories, now=NOW)
    for physical in ics.split("\r\n"):
        assert len(physical.encode("utf-8")) <= 75
    (event,) = _events(_unfold(ics))
    assert event["DESCRIPTION"].startswith(escape_text(description.strip()))
    # The summary is cut on a word boundary for the calendar's day cell.
    assert event["SUMMARY"].endswith("…")
    assert len(event["SUMMARY"]) <= 100
    assert escape_text(description).startswith(event["SUMMARY"][:-1])


def test_fold_line_round_trips() -> None:
    line = "DESCRIPTION:" + "x" * 200 + "é" * 50
    folded = fold_line(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))


def test_imprecise_entries_are_skipped_by_default_and_span_their_period_on_request() -> None:
    stories = [("s", "T", [_entry("2024-06", precision="month")])]
    assert _events(_unfold(scheduled_events_to_ics(stories, now=NOW))) == []
    (event,) = _events(_unfold(scheduled_events_to_ics(stories, now=NOW, include_imprecise=True)))
    assert event["DTSTART;VALUE=DATE"] == "20240601"
    assert event["DTEND;VALUE=DATE"] == "20240701"
    assert event["SUMMARY"].startswith("[month 2024-06] ")


def test_several_stories_and_empty_input() -> None:
    stories = [
        ("s1", "One", [_entry("2024-05-14")]),
        ("s2", "Two", [_entry("2024-05-14")]),  # same entry id in another story
    ]
    events = _events(_unfold(scheduled_events_to_ics(stories, now=NOW)))
    assert [e["UID"] for e in events] == ["s1-e1@storyline", "s2-e1@storyline"]
    empty = _unfold(scheduled_events_to_ics([], now=NOW))
    assert _events(empty) == []
    assert empty[0] == "BEGIN:VCALENDAR"


def test_naive_now_is_taken_as_utc() -> None:
    ics = scheduled_events_to_ics([("s", "T", [_entry("2024-05-14")])], now=datetime(2024, 5, 8))
    (event,) = _events(_unfold(ics))
    assert event["DTSTAMP"] == "20240508T000000Z"
