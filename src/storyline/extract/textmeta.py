"""Metadata found in the text of a page: dates, bylines, wire credits, sign-offs.

Every parser here looks at one line (or the start of one paragraph) and
answers only when the line has the *shape* of metadata; a sentence that
merely mentions an agency ("a spokesman told AFP") is a citation and yields
nothing. Agency names are made canonical through the outlet registry
(kind == "wire").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storyline.extract.outlets import Outlet, OutletRegistry

# --------------------------------------------------------------------------- dates

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january jan januar jänner janvier janv enero ene",
        "february feb febr februar février fevrier févr fevr febrero",
        "march mar märz maerz mars marzo",
        "april apr avril avr abril abr",
        "may mai mayo",
        "june jun juni juin junio",
        "july jul juli juillet juil julio",
        "august aug août aout agosto ago",
        "september sep sept septembre septiembre setiembre",
        "october oct oktober okt octobre octubre",
        "november nov noviembre novembre",
        "december dec dezember dez décembre decembre déc diciembre dic",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_MONTH_RE = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_WEEKDAY_RE = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thurs|"
    r"fri|sat|sun|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|"
    r"mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|miercoles|jueves|viernes|"
    r"sábado|sabado|domingo)"
)

_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "iso",
        re.compile(
            r"(?<![\w-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
            r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?(?![\w-])"
        ),
    ),
    ("ymd", re.compile(r"(?<![\w/.])(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})(?![\w/])")),
    (
        "numeric",
        re.compile(
            r"(?<![\w/.-])(?P<a>\d{1,2})(?P<sep>[-./])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\w)"
        ),
    ),
    (
        "mdy",
        re.compile(
            rf"(?<!\w)(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})(?!\w)",
            re.IGNORECASE,
        ),
    ),
    (
        "dmy",
        re.compile(
            rf"(?<!\w)(?P<d>\d{{1,2}})(?:st|nd|rd|th|er|º|\.)?\s+(?:de\s+)?(?P<mon>{_MONTH_RE})\.?,?"
            rf"\s+(?:de\s+|del\s+)?(?P<y>\d{{4}})(?!\w)",
            re.IGNORECASE,
        ),
    ),
]

_TIME_AFTER = re.compile(
    r"\s*(?:,|\||-|–|—|at|um|à|a las|a la|@)?\s*"
    r"(?P<H>\d{1,2})(?:(?P<sep>[:h])(?P<M>\d{2})|\.(?P<M2>\d{2})(?=\s*Uhr))(?::(?P<S>\d{2}))?"
    r"(?:\s*(?P<ampm>[ap])\.?\s?m\b\.?)?(?:\s*Uhr)?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DateMatch:
    start: int
    end: int
    iso: str  # "2021-12-28" or "2021-12-28T07:19:00"


def _valid_date(year: int, month: int, day: int) -> date | None:
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str, *, month_first: bool = False) -> list[DateMatch]:
    """All calendar dates written in `text`, with a following clock time when there is one.

    Numeric dates like 05/06/2021 are read day-first unless `month_first`
    (US outlets); a part above 12 settles the order either way.
    """
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            year = int(m.group("y"))
            if kind in ("iso", "ymd"):
                month, day = int(m.group("m")), int(m.group("d"))
            elif kind == "numeric":
                a, b = int(m.group("a")), int(m.group("b"))
                if a > 12 >= b:
                    day, month = a, b
                elif b > 12 >= a:
                    month, day = a, b
                else:
                    month, day = (a, b) if month_first else (b, a)
            else:
                month, day = _MONTHS[m.group("mon").lower()], int(m.group("d"))
            parsed = _valid_date(year, month, day)
            if parsed is None:
                continue
            end = m.end()
            hour = minute = second = None
            if kind == "iso" and m.group("H") is not None:
                hour, minute, second = int(m.group("H")), int(m.group("M")), int(m.group("S") or 0)
            else:
                t = _TIME_AFTER.match(text, end)
                if t:
                    hour = int(t.group("H"))
                    minute = int(t.group("M") or t.group("M2"))
                    second = int(t.group("S") or 0)
                    ampm = (t.group("ampm") or "").lower()
                    if ampm == "p" and hour < 12:
                        hour += 12
                    elif ampm == "a" and hour == 12:
                        hour = 0
                    end = t.end()
            if (
                hour is not None
                and minute is not None
                and second is not None
                and hour < 24
                and minute < 60
                and second < 60
            ):
                iso = datetime(
                    parsed.year, parsed.month, parsed.day, hour, minute, second
                ).isoformat()
            else:
                iso, end = parsed.isoformat(), m.end()
            found.append(DateMatch(m.start(), end, iso))
            taken.append((m.start(), end))
    found.sort(key=lambda d: d.start)
    return found


def parse_date(text: str, *, month_first: bool = False) -> str | None:
    """The first date in `text` as an ISO string (date only when no time is given)."""
    dates = find_dates(text, month_first=month_first)
    return dates[0].iso if dates else None


_DATE_LINE_FILLER = re.compile(
    rf"(?:{_WEEKDAY_RE}\.?|updated|last updated|published|posted|first published|on|at|am|um|le|"
    r"el|à|a las|de|veröffentlicht|aktualisiert|stand|publié|publié le|mis à jour|mis à jour le|"
    r"publicado|actualizado|gmt|utc|cet|cest|est|edt|pst|pdt|bst|mez|mesz|uhr|[,.:|•·()\-–—/]+)",
    re.IGNORECASE,
)


def date_line(line: str, *, month_first: bool = False) -> str | None:
    """The date of a line that holds nothing but a date (and words like "Updated"), else None."""
    if len(line) > 120:
        return None
    dates = find_dates(line, month_first=month_first)
    if not dates:
        return None
    rest = line
    for d in reversed(dates):
        rest = rest[: d.start] + " " + rest[d.end :]
    leftover = [
        w
        for w in rest.split()
        if w.strip(",.:;|()") and not _DATE_LINE_FILLER.fullmatch(w.strip(",.:;|()"))
    ]
    return dates[0].iso if not leftover else None


# --------------------------------------------------------------------------- agencies


def wire_name(name: str, registry: OutletRegistry) -> str | None:
    """The registry's canonical name of a wire agency called `name`, else None."""
    outlet = registry.by_name(name.strip(" .,;:()[]"))
    if outlet is not None and outlet.kind == "wire":
        return outlet.name
    return None


_AGENCY_SPLIT = re.compile(r"\s*(?:,|/|;|&|\+|\band\b|\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)
_ACRONYM = re.compile(r"[A-Za-zÄÖÜäöü]{2,6}")


def _agency_list(text: str, registry: OutletRegistry, *, allow_unknown: bool) -> list[str] | None:
    """Canonical agencies of "AFP, Reuters" / "dpa/AP"; None unless every item is an agency.

    With `allow_unknown`, short acronym-like items not in the registry (a
    regional agency the registry lacks) are kept as written, provided at
    least one item is a known wire.
    """
    parts = [p for p in _AGENCY_SPLIT.split(text.strip()) if p]
    if not parts or len(parts) > 6:
        return None
    names: list[str] = []
    known = 0
    for part in parts:
        name = wire_name(part, registry)
        if name is not None:
            known += 1
            names.append(name)
        elif allow_unknown and _ACRONYM.fullmatch(part):
            names.append(part)
        else:
            return None
    return _unique(names) if known else None


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# --------------------------------------------------------------------------- sign-offs


@dataclass(slots=True)
class SignOff:
    """An end-of-article credit: agencies, and the authors' initials or names."""

    agencies: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    kind: str = "sign-off"


_INITIALS_SIGNOFF = re.compile(
    r"^\s*(?P<initials>[a-zäöüß]{1,5}(?:\s*/\s*[a-zäöüß]{1,5})*)?\s*\((?P<agencies>[^()]{2,60})\)\s*\.?\s*$"
)
_MATERIAL_SIGNOFF = re.compile(
    r"^\s*\(?\s*(?:mit material (?:von|der|des)|material von|quelle|quellen|sources?|avec|"
    r"avec l['’]|con información de|con informaci[oó]n de|fuente|fuentes|agencies|with)\s*:?\s*"
    r"(?P<agencies>[^()]{2,60}?)\s*\)?\s*\.?\s*$",
    re.IGNORECASE,
)
_DASH_SIGNOFF = re.compile(r"^\s*(?:[-–—]{1,2})\s*(?P<agencies>[^()]{2,40}?)\s*\.?\s*$")
_REPORTING_SIGNOFF = re.compile(
    r"^\s*\(?\s*(?:additional\s+)?(?:reporting|writing|editing|edited|compiled|reported|"
    r"additional reporting|research)\s+by\b.{0,400}$",
    re.IGNORECASE,
)
_ROLE_BY = re.compile(
    r"(?:additional\s+)?(?:reporting|writing|editing|edited|compiled|reported|research)\s+by\s+"
    r"(?P<names>[^;)]+)",
    re.IGNORECASE,
)
_CONTRIBUTED = re.compile(
    r"\bcontributed (?:to )?(?:this|the) (?:report|story|article)\b", re.IGNORECASE
)
_COPYRIGHT = re.compile(r"^\s*(?:©|\(c\)|copyright\b)", re.IGNORECASE)


def _names_in(text: str) -> list[str]:
    """Person names from "Jane Doe in Moscow and John Roe", dropping place phrases."""
    names = []
    for part in re.split(r"\s*(?:,|\band\b|&)\s*", text):
        part = re.split(r"\s+(?:in|from|at|for)\s+", part.strip(" .;()"), maxsplit=1)[0].strip()
        words = part.split()
        if 1 <= len(words) <= 4 and all(w[:1].isupper() for w in words):
            names.append(part)
    return names


def parse_signoff(line: str, registry: OutletRegistry) -> SignOff | None:
    """Read an end-of-article credit line, or None if `line` is not one.

    Shapes: "dvv/fb (AFP, Reuters)", "(dpa)", "Mit Material von dpa und AFP",
    "Source: Reuters", "— AP", "(Reporting by A; Editing by B)",
    "The Associated Press contributed to this report.", "© 2021 Reuters".
    """
    text = line.strip()
    if not text or len(text) > 500:
        return None
    m = _INITIALS_SIGNOFF.match(text)
    if m:
        initials = m.group("initials")
        agencies = _agency_list(m.group("agencies"), registry, allow_unknown=initials is not None)
        if agencies:
            authors = [i.strip() for i in initials.split("/")] if initials else []
            return SignOff(agencies, authors)
    for pattern in (_MATERIAL_SIGNOFF, _DASH_SIGNOFF):
        m = pattern.match(text)
        if m:
            agencies = _agency_list(m.group("agencies"), registry, allow_unknown=False)
            if agencies:
                return SignOff(agencies, [])
    if _REPORTING_SIGNOFF.match(text):
        reporters: list[str] = []
        role = _ROLE_BY.search(text)
        if role and role.group(0).lower().startswith(("reporting", "reported", "additional")):
            reporters = _names_in(role.group("names"))
        return SignOff(_wire_mentions(text, registry), reporters, "reporting credits")
    if len(text) < 200 and _CONTRIBUTED.search(text):
        return SignOff(_wire_mentions(text, registry), [], "contributor credit")
    if len(text) < 200 and _COPYRIGHT.match(text):
        return SignOff(_wire_mentions(text, registry), [], "copyright line")
    return None


def _wire_mentions(text: str, registry: OutletRegistry) -> list[str]:
    return _unique([m.outlet.name for m in registry.mentions(text) if m.outlet.kind == "wire"])


# --------------------------------------------------------------------------- datelines

_DATELINE = re.compile(
    r"^\s*(?:[A-ZÀ-Þ][\w'’.\-]*(?:\s+[A-ZÀ-Þ][\w'’.\-]*){0,3}\.?"  # place: MOSCOW, Berlin, New York
    r"(?:\s*,\s*[\w.'’ ]{1,25}?)?\s*)?"  # ", Dec 28" / ", Germany"
    r"\((?P<agencies>[^()]{2,40})\)\s*(?:[-–—:]|\.\s)"
)


def dateline_agencies(paragraph: str, registry: OutletRegistry) -> list[str]:
    """Agencies credited by a wire dateline that opens a paragraph: "MOSCOW (Reuters) -"."""
    m = _DATELINE.match(paragraph[:120])
    if not m:
        return []
    return _agency_list(m.group("agencies"), registry, allow_unknown=False) or []


# --------------------------------------------------------------------------- bylines

_READING_TIME = re.compile(
    r"(?:(?:reading time|lesezeit|temps de lecture|tiempo de lectura)\s*:?\s*)?"
    r"\b\d{1,3}\s*(?:-\s*\d{1,3}\s*)?(?:min(?:ute)?s?|min\.|minuten|minutes?|minutos?)\.?"
    r"(?:\s*(?:read|reading|lesezeit|lesen|de lecture|lectura|de lectura|listen))?\b\.?",
    re.IGNORECASE,
)
_READING_TIME_STRICT = re.compile(
    r"(?:\b\d{1,3}\s*(?:-\s*\d{1,3}\s*)?(?:min(?:ute)?s?|min\.|minuten|minutes?|minutos?)\.?\s*"
    r"(?:read|reading|lesezeit|lesen|de lecture|lectura|de lectura)\b"
    r"|(?:reading time|lesezeit|temps de lecture|tiempo de lectura)\s*:?\s*\d)",
    re.IGNORECASE,
)
_TRUST_LABEL = re.compile(
    r"(?:\b(?:is\s+)?(?:a\s+)?(?:part|member)\s+of\s+the\s+trust\s+project\b|\btrust\s+project\b|"
    r"\bjournalism\s+trust\s+initiative\b|\bour standards\s*:|\btrust principles\b|"
    r"\beditorial (?:standards|guidelines|policy)\b|\bcorrections policy\b)",
    re.IGNORECASE,
)
_CONTENT_TYPE = re.compile(
    r"\b(?:content type|article type|type of content|inhaltstyp|type de contenu|"
    r"tipo de contenido)\s*:"
    r"(?:\s*(?:news|opinion|analysis|interview|sponsored|partner content|press release|"
    r"promoted content|explainer|feature|review|fact check|nachricht|meinung|analyse)\b)?",
    re.IGNORECASE,
)
_BY = re.compile(
    r"\b(?i:by|von|par|por|door|di|av|przez)\s+(?P<names>[A-ZÀ-Þ][\w'’.\-]+(?:\s+[A-ZÀ-Þ][\w'’.\-]+){0,3}"
    r"(?:\s*(?:,|and|und|et|y|&)\s*[A-ZÀ-Þ][\w'’.\-]+(?:\s+[A-ZÀ-Þ][\w'’.\-]+){0,3})*)"
)
_WITH_BEFORE = re.compile(r"(?:\bwith|\bmit|\bavec|\bcon|\band|\bund|[|,/(;+&])\s*$", re.IGNORECASE)
_META_FILLER = re.compile(
    r"^(?:by|von|par|por|with|mit|avec|con|and|und|et|y|updated|last|published|posted|first|"
    r"on|at|am|um|le|el|veröffentlicht|aktualisiert|publié|publicado|actualizado|mis|à|jour|"
    r"read|gmt|utc|cet|cest|est|edt|bst|mez|mesz|uhr|staff|writer|correspondent|reporter|"
    r"news|desk|agencies|agency|and agencies|[,.:;|•·()\[\]\-–—/&+@]+)$",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Byline:
    """What a byline / dateline metadata line says."""

    outlet: Outlet | None = None
    agencies: list[str] = field(default_factory=list)
    published: str | None = None
    authors: list[str] = field(default_factory=list)


def parse_byline(
    line: str, registry: OutletRegistry, *, context_outlet: Outlet | None = None
) -> Byline | None:
    """Read a metadata line such as "Outlet.com with AFP 28-12-2021 07:19 3 min. read",
    "By Jane Doe | AP | Dec. 28, 2021" or "By Jane Doe, Reuters"; None if `line` is prose.

    The line counts as metadata when, once the recognised pieces (outlet and
    agency names, dates, reading time, author names, labels, connecting
    words) are taken out, almost nothing is left, and at least one piece is
    a real metadata signal.
    """
    text = line.strip()
    words = text.split()
    if not words or len(words) > 40 or len(text) > 300:
        return None
    spans: list[tuple[int, int]] = []
    result = Byline()
    signals = 0

    mentions = registry.mentions(text)
    for mention in mentions:
        spans.append((mention.start, mention.end))
        outlet = mention.outlet
        credited = bool(_WITH_BEFORE.search(text[: mention.start])) or text[
            mention.end : mention.end + 2
        ].startswith(")")
        if outlet.kind == "wire" and (credited or result.outlet is not None):
            result.agencies.append(outlet.name)
            signals += 1
        elif result.outlet is None:
            result.outlet = outlet
            signals += 1
        elif outlet.kind == "wire":
            result.agencies.append(outlet.name)
    home = result.outlet or context_outlet
    country = home.country if home is not None else None
    dates = find_dates(text, month_first=country == "US")
    if dates:
        result.published = dates[0].iso
        signals += 1
        spans.extend((d.start, d.end) for d in dates)
    for pattern in (_READING_TIME, _TRUST_LABEL, _CONTENT_TYPE):
        for m in pattern.finditer(text):
            spans.append(m.span())
            signals += 1
    by = _BY.search(text)
    if by and (by.start() == 0 or signals):
        names = by.group("names")
        mention_free = [
            n
            for n in re.split(r"\s*(?:,|\band\b|\bund\b|\bet\b|\by\b|&)\s*", names)
            if n and registry.by_name(n) is None
        ]
        result.authors = mention_free
        spans.append(by.span())
        signals += 1
    if not signals:
        return None
    chars = list(text)
    for start, end in spans:
        for i in range(start, min(end, len(chars))):
            chars[i] = " "
    leftover = [w for w in "".join(chars).split() if not _META_FILLER.match(w)]
    if len(leftover) > 2 or not all(w[:1].isupper() for w in leftover):
        return None
    if leftover and not (result.outlet or result.agencies or result.authors):
        return None  # "Talks on December 28, 2021" is a crosshead with a date
    if leftover and not result.authors:
        result.authors = [
            " ".join(w.strip(",;:|") for w in leftover)
        ]  # "Jane Doe, Reuters, 28 Dec"
    # A lone outlet name or lone name is not enough: it could be a crosshead.
    strong = (
        bool(dates)
        or bool(result.agencies)
        or any(p.search(text) for p in (_READING_TIME_STRICT, _TRUST_LABEL, _CONTENT_TYPE))
    )
    if not strong and not (by and by.start() == 0):
        return None
    result.agencies = _unique(result.agencies)
    return result


def has_reading_time(line: str) -> bool:
    return bool(_READING_TIME_STRICT.search(line))


def is_label_line(line: str) -> bool:
    """ "Content type: News" or "X is part of the Trust Project" and nothing else."""
    rest = _TRUST_LABEL.sub(" ", _CONTENT_TYPE.sub(" ", line))
    leftover = [w for w in rest.split() if not _META_FILLER.match(w)]
    return rest != line and len(leftover) <= 2


# -- dates given by a container (JSON field, feed entry, HTTP header) -------------

_EPOCH = re.compile(r"^\d{9,13}(?:\.\d+)?$")


def to_iso8601(value: object) -> str | None:
    """A date given by a container (JSON field, feed entry, header) as ISO 8601, else None.

    Accepts ISO 8601, RFC 2822 (feeds, HTTP), Unix epochs in seconds or
    milliseconds, and written dates ("28 December 2021"). A date-only value
    stays a date so that its precision survives.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _EPOCH.match(text):
        return _from_epoch(float(text))
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        pass
    else:
        if len(text) <= 10:  # a bare date: keep it a date
            return parsed.date().isoformat()
        return parsed.isoformat()
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):  # a year past C's int: no date
        pass
    return parse_date(text)  # written dates, many languages


def _from_epoch(seconds: float) -> str | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None
