"""Dated events: clauses that say something happened, is happening or is scheduled.

Input is plain text plus the time expressions of `storyline.analyse.timex`
(computed here when not given) and, optionally, named entities as
`(text, label)` pairs; no parser is needed, so the stage is fast and works
without spaCy.

How an event is found:
- the body is split into sentences (a light rule splitter; paragraphs without
  sentence-final punctuation are headlines or sub-heads and are skipped, as
  they restate the body), each sentence into clauses at strong boundaries
  ("; ", ", while", ", but", ", with", dashes) and at a trailing reporting clause
  (", a White House official said on Monday"), so that each date governs the
  words of its own clause;
- every resolvable DATE/TIME expression in a clause makes one event dated by
  that expression.  An anaphoric expression ("two days later") that the tagger
  could only anchor on the publication date is dropped: its real antecedent is
  unknown and the date would be wrong;
- a clause without a date makes no event by default.  Measured on
  TimeBank+AQUAINT (TimeML links of each event to the document creation
  time), undated clauses with an announcement-type verb in the past or
  present perfect ("confirmed", "has agreed", "announced") happened on the
  publication day in only 16 of 92 cases (17%; 6 of 23 for the present
  perfect, 8 of 37 in the lede): most are yesterday's news or background.
  `date_undated=True` still dates them by the publication date (marked
  `date_source="published"`) for callers that want the recall.

Status: a date wholly after the publication day is scheduled, wholly before it
past; a date containing the publication day (today, this month) takes the
tense of the words just before the date ("said Monday" is past even when the
clause goes on "that they will ..."), else of the clause ("will", "is set
to", "is expected to" -> scheduled; "is holding", "under way" -> ongoing;
otherwise past).  On TimeBank+AQUAINT, events anchored to their gold date
agree with the gold tense in 97-98% of cases (tests/unit/test_events.py).

`alt_dates` holds a second reading of an expression whose usage is loose in
news: "<month> last year" is often written for the most recent past <month>
(an article of late December 2021 calling June 2021 "June last year"), and
"last <weekday>" may mean this week's or last week's.  The story timeline uses
the alternative only when another outlet's report of the same event supports
it (see `storyline.compare.timeline`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal

from storyline.analyse.timex import TimeExpression, parse_reference, tag_times

__all__ = [
    "Event",
    "EventStatus",
    "event_class",
    "extract_events",
    "period_of",
    "precision_of",
    "split_sentences",
]

EventStatus = Literal["past", "ongoing", "scheduled"]


@dataclass(slots=True)
class Event:
    """One dated event in an article.

    `text` is the clause (or the sentence when it has one clause) with its
    character span in the body; `date` a TIMEX3 calendar value at the
    expression's precision; `date_source` says whether the date came from a
    time expression ("time") or from the publication date ("published").
    """

    text: str
    start: int
    end: int
    date: str
    precision: str  # day | week | month | quarter | season | year | decade
    status: EventStatus
    trigger: str
    participants: list[str] = field(default_factory=list)
    place: str | None = None
    time_text: str | None = None
    keywords: list[str] = field(default_factory=list)
    sentence: str = ""
    date_source: Literal["time", "published"] = "time"
    alt_dates: list[str] = field(default_factory=list)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --------------------------------------------------------------------------
# Dates and precision
# --------------------------------------------------------------------------

_CALENDAR_VALUE = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})(?:-(?P<day>\d{2}))?"
    r"|W(?P<week>\d{2})|Q(?P<quarter>[1-4])|(?P<season>SP|SU|FA|WI)))?(?:T.*)?$"
)
_DECADE_VALUE = re.compile(r"^(?P<decade>\d{3})X?$")
_SEASON_MONTHS = {"SP": (3, 5), "SU": (6, 8), "FA": (9, 11), "WI": (12, 14)}


def precision_of(value: str) -> str | None:
    """The granularity of a TIMEX3 calendar value, None for anything else."""
    if _DECADE_VALUE.match(value):
        return "decade"
    match = _CALENDAR_VALUE.match(value)
    if not match:
        return None
    if match["day"]:
        return "day"
    if match["week"]:
        return "week"
    if match["month"]:
        return "month"
    if match["quarter"]:
        return "quarter"
    if match["season"]:
        return "season"
    return "year"


def _month_end(year: int, month: int) -> date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def period_of(value: str) -> tuple[date, date] | None:
    """First and last day covered by a TIMEX3 calendar value (None if not one)."""
    decade = _DECADE_VALUE.match(value)
    if decade:
        first = int(decade["decade"]) * 10
        return date(first, 1, 1), date(first + 9, 12, 31)
    match = _CALENDAR_VALUE.match(value)
    if not match:
        return None
    try:
        year = int(match["year"])
        if match["day"]:
            day = date(year, int(match["month"]), int(match["day"]))
            return day, day
        if match["month"]:
            month = int(match["month"])
            return date(year, month, 1), _month_end(year, month)
        if match["week"]:
            monday = date.fromisocalendar(year, int(match["week"]), 1)
            return monday, monday + timedelta(days=6)
        if match["quarter"]:
            first_month = 3 * int(match["quarter"]) - 2
            return date(year, first_month, 1), _month_end(year, first_month + 2)
        if match["season"]:
            first_month, last_month = _SEASON_MONTHS[match["season"]]
            return date(year, first_month, 1), _month_end(year, last_month)
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None


def _calendar_value(expression: TimeExpression) -> str | None:
    """The date part of a DATE/TIME expression's value, if it is a calendar date."""
    if expression.type not in ("DATE", "TIME"):
        return None
    value = expression.value.split("T", 1)[0]
    return value if precision_of(value) and period_of(value) else None


# Anaphoric expressions need an antecedent; anchored on the publication date
# they usually mean the tagger found none ("Talks are expected two days later"
# after an undated sentence) and the value is not to be trusted.
_ANAPHORIC = re.compile(
    r"\b(?:later|earlier|before|after|afterwards|previous|prior|following|that\s+day|the\s+same\s+day)\b",
    re.IGNORECASE,
)
_MONTH_LAST_YEAR = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december)"
    r"\s+(?:of\s+)?last\s+year\b",
    re.IGNORECASE,
)
_LAST_WEEKDAY = re.compile(r"\blast\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE)
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
_MONTH_NUMBER = {
    name: number
    for number, name in enumerate(
        _MONTH_NAMES.split(),
        start=1,
    )
}


def _alternative_readings(
    expression: TimeExpression, value: str, reference: date | None
) -> list[str]:
    """Loose-usage readings of an expression besides the tagger's literal one."""
    if reference is None:
        return []
    month_last_year = _MONTH_LAST_YEAR.search(expression.text)
    if month_last_year:
        # The most recent past <month> before the reference month.
        month = _MONTH_NUMBER[month_last_year.group(1).lower()]
        year = reference.year if month < reference.month else reference.year - 1
        loose = f"{year:04d}-{month:02d}"
        return [loose] if loose != value[:7] else []
    if _LAST_WEEKDAY.search(expression.text) and precision_of(value) == "day":
        span = period_of(value)
        if span:
            # "last Friday" said on a Wednesday: five or twelve days before.
            later, earlier = span[0] + timedelta(days=7), span[0] - timedelta(days=7)
            return [d.isoformat() for d in (later, earlier) if d < reference]
    return []


# --------------------------------------------------------------------------
# Sentences and clauses
# --------------------------------------------------------------------------

_ABBREVIATIONS = _word_set(
    "mr mrs ms dr prof gen col lt sgt capt gov sen rep st jr sr inc corp co ltd "
    "jan feb mar apr jun jul aug sep sept oct nov dec no vs etc u.s u.k u.n e.u"
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_TERMINAL = re.compile(r"[.!?][\"'”’)\]]*\s*$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in `text`: paragraphs, then a rule splitter.

    Paragraphs (lines) without sentence-final punctuation (headlines,
    sub-heads, datelines, captions) are left out: they restate the body
    without a full clause.
    """
    spans: list[tuple[int, int]] = []
    # A line break ends a paragraph unless the next line goes on in lower case
    # (wrapped text); bodies separate paragraphs by blank lines, but headline and
    # dateline lines of less clean input come one a line.
    for paragraph in re.finditer(r"[^\n]+(?:\n[ \t]*(?=[a-z])[^\n]+)*", text):
        chunk = paragraph.group()
        if not _TERMINAL.search(chunk):
            continue
        offset = paragraph.start()
        start = 0
        for brk in _SENTENCE_BREAK.finditer(chunk):
            before = chunk[start : brk.start()].rstrip(".!?\"'”’)] ")
            last_word = before.rsplit(None, 1)[-1].lower() if before.split() else ""
            # "Mr. Smith", "U.S. officials", "Jan. 10": not a sentence end.
            if last_word in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)*[a-z]", last_word):
                continue
            spans.append(_strip_span(text, offset + start, offset + brk.start()))
            start = brk.end()
        spans.append(_strip_span(text, offset + start, offset + len(chunk)))
    return [span for span in spans if span[1] > span[0]]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_REPORTING_VERBS = (
    r"said|says|say|told|tells|added|adds|reported|reports|quoted|quoting|announced|"
    r"stated|noted|wrote|confirmed|explained|insisted|warned|according\s+to"
)
# A clause boundary inside a sentence; the boundary word opens the next clause.
_STRONG_BOUNDARY = re.compile(
    r";\s+|\s+[—–]\s+|\s+--\s+|,\s+(?=(?:while|whereas|but|with|although|though)\b)"
)
# ", a White House official said on Monday" / ", TASS quoted the ministry as saying on Sunday"
_REPORTING_TAIL = re.compile(
    rf",\s+(?=(?:[\w'’.-]+\s+){{0,8}}?(?:{_REPORTING_VERBS})\b[^,;]*(?:,|[.!?\"'”’]*$))",
    re.IGNORECASE,
)


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clause spans within one sentence span."""
    cuts = {start, end}
    sentence = text[start:end]
    for boundary in _STRONG_BOUNDARY.finditer(sentence):
        cuts.add(start + boundary.end())
    for boundary in _REPORTING_TAIL.finditer(sentence):
        cuts.add(start + boundary.end())
    ordered = sorted(cuts)
    spans = [_strip_span(text, a, b) for a, b in pairwise(ordered)]
    return [(a, b) for a, b in spans if b > a]


# --------------------------------------------------------------------------
# Tense, status, triggers
# --------------------------------------------------------------------------

_FUTURE = re.compile(
    r"\b(?:will|shall|won't|'ll|to\s+be\s+held|(?:is|are|was|were)\s+(?:set|scheduled|slated|due|"
    r"expected|planned|poised|going|about|likely)\s+to|(?:is|are)\s+to|plans?\s+to|planning\s+to|"
    r"intends?\s+to|(?:is|are)\s+scheduled\s+for|(?:is|are)\s+slated\s+for|upcoming|forthcoming)\b",
    re.IGNORECASE,
)
_ONGOING = re.compile(
    r"\b(?:(?:is|are)\s+(?:now\s+|currently\s+|still\s+)?\w+ing|under\s*way|ongoing|continues?\s+to|"
    r"remains?)\b",
    re.IGNORECASE,
)
# Going-to-future and "is expected"-type words are not progressive.
_NOT_PROGRESSIVE = frozenset(["going", "being", "nothing", "something", "during"])
_EXISTENTIAL_NEGATION = re.compile(
    r"\bthere\s+(?:is|was|were|are|has\s+been)\s+no\b", re.IGNORECASE
)

# Fresh announcement-type acts that a news report dates by its publication
# when it gives no other date (see the module docstring).
_ANNOUNCEMENT_PAST = re.compile(
    r"\b(?:(?:has|have)\s+(?:\w+ly\s+)?)?(announced|confirmed|unveiled|approved|agreed|signed|"
    r"launched|declared|rejected|ratified|resigned|appointed|nominated|elected|endorsed|"
    r"ordered|imposed|lifted|suspended|cancell?ed|postponed|released|published|denied|"
    r"accepted|vetoed|passed|adopted|withdrew|withdrawn|dismissed|fired|arrested|charged)\b",
    re.IGNORECASE,
)
_BACKGROUND = re.compile(
    r"\b(?:already|previously|earlier|since|had|once|formerly|ago|last\s+(?:year|month|week))\b",
    re.IGNORECASE,
)

_AUXILIARIES = _word_set(
    "is are was were be been being am has have had do does did will would shall should can could "
    "may might must to not"
)
_STOPWORDS = _word_set(
    """a an the and or but if of in on at to for from by with as into onto over under about after
    before between during through against among within without than then so that this these those
    there their they them his her its it he she we you i our your who whom whose which what when
    where while also just only very more most much many some such no not nor any all each other
    another both either neither one two three is are was were be been being am has have had do does
    did will would shall should can could may might must said says say told tell added adds
    according reported official officials spokesperson spokesman spokeswoman per cent percent
    mr mrs ms new set due expected scheduled slated planned held hold holding"""
)

# Words that name the same kind of event, so that "talks", "dialogue" and
# "meeting" in two reports of one event count as shared.
_EVENT_CLASSES = {
    "meet": "talks talk dialogue meeting meetings meet meets met summit negotiations negotiation "
    "negotiate negotiating discuss discussion discussions conference consultations session",
    "vote": "vote votes voted voting election elections elect elected ballot referendum poll polls",
    "attack": "attack attacks attacked strike strikes struck bombing bomb bombed shelling shelled "
    "raid raids assault invasion invade invaded",
    "agree": "agreement agreed agree deal treaty accord pact signed sign signing",
    "announce": "announced announce announcement confirmed confirm confirmation unveiled declared",
    "visit": "visit visits visited trip travel travelled traveled tour",
    "death": "killed kill dead died death deaths die",
    "arrest": "arrested arrest detained detention charged charges",
    "protest": "protest protests protested demonstration demonstrations rally rallies march",
    "sanction": "sanctions sanction sanctioned embargo",
    "demand": "demands demand demanded ultimatum",
    "propose": "proposal proposals proposed propose offer offered",
}
_CLASS_OF_WORD = {word: name for name, words in _EVENT_CLASSES.items() for word in words.split()}

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_CAPITALISED_RUN = re.compile(
    r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|for|and|the|de|von|al|bin|in)\s+)?[A-Z][\w'’.-]*)*"
)
_RUN_STOP = _word_set(
    "The A An In On At This That These Those It He She They We I But And Or If When While After "
    "Before As For With By From Both Also However Western Eastern Northern Southern"
)
_PLACE_LABELS = ("GPE", "LOC", "FAC")
_PARTICIPANT_LABELS = ("PERSON", "ORG", "GPE", "NORP", "LOC", "FAC")
_TIME_WORDS = _word_set(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday"
)


def event_class(word: str) -> str | None:
    """The event class of a word ("talks" -> "meet"), None when it has none."""
    return _CLASS_OF_WORD.get(word.lower())


def _tense_status(clause: str) -> EventStatus:
    if _FUTURE.search(clause):
        return "scheduled"
    for match in _ONGOING.finditer(clause):
        last = match.group().split()[-1].lower()
        if last not in _NOT_PROGRESSIVE:
            return "ongoing"
    return "past"


_PAST_VERB = re.compile(
    r"\b(?:[a-z]+ed|said|told|met|held|made|took|gave|came|went|saw|got|found|began|left|sent|"
    r"spoke|wrote|won|lost|fell|rose|paid|sold|bought|brought|struck|led|kept|ran|shot|hit)\b",
    re.IGNORECASE,
)
# How many words before a time expression make up its local tense context.
_LOCAL_WORDS = 6


def _local_tense(clause: str, time_offset: int | None) -> EventStatus | None:
    """Tense of the words right before a date: "said Monday" is past even when the
    clause goes on "that they will ...", "will meet on" is scheduled."""
    if time_offset is None:
        return None
    window = " ".join(clause[:time_offset].split()[-_LOCAL_WORDS:])
    future = [m.end() for m in _FUTURE.finditer(window)]
    past = [
        m.end()
        for m in _PAST_VERB.finditer(window)
        if m.group().lower() not in _NOT_VERBS
        and m.group().lower() not in _FUTURE_PARTICIPLES
        and not re.search(r"\bbe\s+$", window[: m.start()])  # "will be disclosed"
    ]
    if not future and not past:
        return None
    if future and (not past or max(future) > max(past)):
        return "scheduled"
    return "past"


# Participles that belong to a future construction ("is scheduled for", "planned").
_FUTURE_PARTICIPLES = frozenset(["scheduled", "slated", "planned", "expected", "set", "due"])


def _status(
    value: str, reference: date | None, clause: str, time_offset: int | None = None
) -> EventStatus:
    span = period_of(value)
    if reference is not None and span is not None:
        first, last = span
        if first > reference:
            return "scheduled"
        if last < reference:
            return "past"
    local = _local_tense(clause, time_offset)
    if local == "past" and _ONGOING.search(clause[: time_offset or 0]) is None:
        return "past"
    return local or _tense_status(clause)


_VERBISH = re.compile(
    r"\b(?:[a-z]+ed|[a-z]+ing|taken|given|seen|been|chosen|spoken|written|driven|broken|fallen|meet|meets|met|hold|holds|held|take|took|taken|begin|began|"
    r"begun|come|came|go|went|gone|make|made|give|gave|say|said|tell|told|see|saw|seen|win|won|"
    r"lose|lost|leave|left|run|ran|fall|fell|rise|rose|strike|struck|issue|issues|visit|visits|"
    r"sign|signs|vote|votes|open|opens|start|starts|deny|denies|deploy|deploys|discuss|focus|"
    r"cover|include|includes|launch|launches|occupy|occupies|accuse|accuses|talk|talks)\b"
)
_NOT_VERBS = _word_set(
    "united red bed need feed seed speed shed hundred kindred sacred naked wicked rugged "
    "breed greed during morning evening nothing something anything thing king spring ring "
    "bring string wing sibling building meeting briefing hearing ceiling wedding often "
    "citizen women men children garden golden kitchen eleven seven even heaven sudden chicken "
    "broken token alien open dozen"
)


def _trigger(clause: str, time_offset: int | None) -> str:
    """The main verb (or event noun) of a clause: the verb nearest the date, left first."""
    lowered = clause.lower()
    candidates = [
        match
        for match in _VERBISH.finditer(lowered)
        if match.group() not in _NOT_VERBS and match.group() not in _AUXILIARIES
    ]
    if not candidates:
        nouns = [w for w in _WORD.findall(clause) if event_class(w)]
        return nouns[0].lower() if nouns else ""
    if time_offset is None:
        return candidates[0].group()
    left = [m for m in candidates if m.start() < time_offset]
    if left:
        return left[-1].group()
    return candidates[0].group()


def _participants(
    clause: str, entities: Sequence[tuple[str, str]] | None, time_spans: list[tuple[int, int]]
) -> tuple[list[str], str | None]:
    """Named participants in a clause and the place, from entities or capitalisation."""
    participants: list[str] = []
    place: str | None = None
    if entities:
        for raw_text, label in entities:
            text = _LEADING_ARTICLE.sub("", raw_text.strip())
            # (A plain substring test first: most entities are not in the clause.)
            if label not in _PARTICIPANT_LABELS or not text or text == place or text not in clause:
                continue
            position = _find_word(clause, text)
            if position < 0:
                continue
            if label in _PLACE_LABELS and place is None and _after_locative(clause, position):
                place = text
            elif text not in participants:
                participants.append(text)
        return participants, place
    for run in _CAPITALISED_RUN.finditer(clause):
        for name, position in _names_in_run(run.group(), run.start(), time_spans):
            if place is None and _after_locative(clause, position):
                place = name
            elif name not in participants:
                participants.append(name)
    return participants, place


def _names_in_run(
    run: str, offset: int, time_spans: list[tuple[int, int]]
) -> list[tuple[str, int]]:
    """Names in a run of capitalised words: time words cut it, "X and Y" splits it
    unless an "of"/"for" makes it one name ("Organization for Security and ...")."""
    names: list[tuple[str, int]] = []
    pieces: list[tuple[str, int]] = []
    current: list[tuple[str, int]] = []
    for word in re.finditer(r"\S+", run):
        position = offset + word.start()
        if word.group().lower() in _TIME_WORDS or any(a <= position < b for a, b in time_spans):
            if current:
                pieces.append(_join(current))
            current = []
            continue
        current.append((word.group(), position))
    if current:
        pieces.append(_join(current))
    for text, position in pieces:
        parts = [text] if re.search(r"\b(?:of|for)\b", text) else text.split(" and ")
        for part in parts:
            words = part.split()
            while words and words[0] in _RUN_STOP:
                words.pop(0)
            while words and words[-1] in ("of", "for", "and", "the", "de", "in"):
                words.pop()
            if words:
                name = " ".join(words).rstrip(".,'’")
                names.append((name, position + max(0, text.find(name))))
    return names


def _join(words: list[tuple[str, int]]) -> tuple[str, int]:
    return " ".join(w for w, _ in words), words[0][1]


_LEADING_ARTICLE = re.compile(r"^(?:the|The)\s+")


def _find_word(text: str, needle: str) -> int:
    match = re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text)
    return match.start() if match else -1


def _after_locative(clause: str, position: int) -> bool:
    return bool(re.search(r"\b(?:in|at)\s+(?:the\s+)?$", clause[max(0, position - 12) : position]))


def _keywords(clause: str, time_spans: list[tuple[int, int]]) -> list[str]:
    """Content words of a clause (lower case, time expressions and stop words out)."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(clause):
        if any(a <= match.start() < b for a, b in time_spans):
            continue
        word = match.group().lower().strip("'’-")
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if len(word) < 3 or word in _STOPWORDS or word in _TIME_WORDS:
            continue
        seen.setdefault(word, None)
    return list(seen)


# --------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------


def _reference_date(published: str | None) -> date | None:
    if not published:
        return None
    reference = parse_reference(published)
    if reference is None:
        return None
    return reference.date() if hasattr(reference, "date") else reference


def extract_events(
    body: str,
    published: str | None,
    times: Sequence[TimeExpression] | None = None,
    entities: Sequence[tuple[str, str]] | None = None,
    *,
    date_undated: bool = False,
) -> list[Event]:
    """Dated events of one article body, in text order.

    `times` are the body's time expressions (tagged here against `published`
    when None); `entities` optional `(text, label)` pairs (spaCy labels) that
    give participants and place; without them capitalised names are used.
    `date_undated` dates undated announcement clauses by the publication day
    (off by default: mostly wrong on real news, see the module docstring).
    """
    reference = _reference_date(published)
    if times is None:
        times = tag_times(body, published)
    reference_value = reference.isoformat() if reference else None
    events: list[Event] = []
    for sentence_start, sentence_end in split_sentences(body):
        sentence = body[sentence_start:sentence_end]
        for clause_start, clause_end in _clauses(body, sentence_start, sentence_end):
            clause = body[clause_start:clause_end]
            if _EXISTENTIAL_NEGATION.search(clause):
                continue
            inside = [t for t in times if clause_start <= t.start and t.end <= clause_end]
            time_spans = [(t.start - clause_start, t.end - clause_start) for t in inside]
            # Participants and keywords only for a clause that yields an event
            # (most clauses hold no date): computed at its first event.
            found: tuple[list[str], str | None, list[str]] | None = None
            dated = False
            seen_values: set[str] = set()
            for expression in inside:
                value = _calendar_value(expression)
                if value is None:
                    continue
                dated = True  # a date is present, even if not usable: no fallback
                if _ANAPHORIC.search(expression.text) and expression.anchor == reference_value:
                    continue
                if value in seen_values:
                    continue
                seen_values.add(value)
                offset = expression.start - clause_start
                if found is None:
                    found = (*_participants(clause, entities, time_spans),
                             _keywords(clause, time_spans))
                participants, place, keywords = found
                events.append(
                    Event(
                        text=clause,
                        start=clause_start,
                        end=clause_end,
                        date=value,
                        precision=precision_of(value) or "day",
                        status=_status(value, reference, clause, offset),
                        trigger=_trigger(clause, offset),
                        participants=participants,
                        place=place,
                        time_text=expression.text,
                        keywords=keywords,
                        sentence=sentence,
                        alt_dates=_alternative_readings(expression, value, reference),
                    )
                )
            if dated or reference is None or not date_undated:
                continue
            announcement = _ANNOUNCEMENT_PAST.search(clause)
            if not announcement or _BACKGROUND.search(clause) or _FUTURE.search(clause):
                continue
            participants, place = _participants(clause, entities, time_spans)
            keywords = _keywords(clause, time_spans)
            events.append(
                Event(
                    text=clause,
                    start=clause_start,
                    end=clause_end,
                    date=reference.isoformat(),
                    precision="day",
                    status="past",
                    trigger=announcement.group(1).lower(),
                    participants=participants,
                    place=place,
                    time_text=None,
                    keywords=keywords,
                    sentence=sentence,
                    date_source="published",
                )
            )
    return events
