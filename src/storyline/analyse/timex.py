"""Temporal tagger for English news: find time expressions and normalise them to TIMEX3.

A rule grammar written for this project (in the spirit of SUTime / HeidelTime,
no resource files copied).  One master regex, built once at import, finds the
candidate expressions; each rule has a small handler that turns the matched
text into a TIMEX3 type and value, resolving relative expressions against the
publication date (the reference) with light tense cues from the surrounding
words ("will", "is scheduled", "said", "ago", past-tense verbs) and against
the previous dated expression for anaphoric ones ("two days later").

`tag_times` is pure and never raises on any text or reference: an expression
whose value cannot be computed falls back to a TIMEX3 value with "X"
placeholders.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

__all__ = ["TIMEX3_VALUE", "TimeExpression", "parse_reference", "tag_times"]


@dataclass(frozen=True, slots=True)
class TimeExpression:
    """One time expression: its span in the text and its TIMEX3 normalisation.

    `anchor` is the value a relative expression was resolved against (the
    reference date, or the previous expression for "two days later");
    `flag` notes a doubt, e.g. "weekday-mismatch" when an explicit weekday
    contradicts the explicit date beside it (the date wins).
    """

    text: str
    start: int
    end: int
    type: str  # DATE | TIME | DURATION | SET
    value: str
    anchor: str | None = None
    flag: str | None = None


# A TIMEX3 value as this tagger produces it (a subset of the TimeML grammar).
TIMEX3_VALUE = re.compile(
    r"""^(?:
        (?:PRESENT|PAST|FUTURE)_REF
      | P(?:T?(?:\d+(?:\.\d+)?|X)(?:Y|M|W|D|H|S|Q|DE|CE|WE))+
      | (?:\d{1,4}|X{1,4}|\d{2}X{2}|\d{3}X)
        (?:-(?:(?:\d{2}|XX)(?:-(?:\d{2}|XX))?|W(?:\d{2}|XX)(?:-(?:[1-7X]|WE))?|Q[1-4X]|H[12X]|SP|SU|FA|WI))?
        (?:T(?:\d{2}(?::\d{2}(?::\d{2})?)?|MO|AF|EV|NI|DT)Z?)?
    )$""",
    re.VERBOSE,
)

# --------------------------------------------------------------------------
# Lexicon
# --------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "dozen": 12,
    "couple": 2,
}
_VAGUE_NUMBERS = ("few", "several", "some", "many", "couple", "numerous", "dozens", "hundreds")
_SEASONS = {"spring": "SP", "summer": "SU", "fall": "FA", "autumn": "FA", "winter": "WI"}
_PARTS_OF_DAY = {
    "morning": "MO",
    "afternoon": "AF",
    "evening": "EV",
    "night": "NI",
    "tonight": "NI",
    "overnight": "NI",
}

# Unit name -> (granularity, TIMEX3 duration letter, multiplier, is a time unit)
_UNITS: dict[str, tuple[str, str, int, bool]] = {
    "second": ("second", "S", 1, True),
    "minute": ("minute", "M", 1, True),
    "hour": ("hour", "H", 1, True),
    "day": ("day", "D", 1, False),
    "night": ("day", "D", 1, False),
    "week": ("week", "W", 1, False),
    "weekend": ("week", "D", 2, False),
    "fortnight": ("week", "W", 2, False),
    "month": ("month", "M", 1, False),
    "quarter": ("quarter", "Q", 1, False),
    "year": ("year", "Y", 1, False),
    "decade": ("decade", "Y", 10, False),
    "century": ("century", "Y", 100, False),
    "centurie": ("century", "Y", 100, False),
}
_GRANULARITY_ORDER = [
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "quarter",
    "half",
    "season",
    "year",
    "decade",
    "century",
]
_RANK = {name: rank for rank, name in enumerate(_GRANULARITY_ORDER)}

# --------------------------------------------------------------------------
# Regex fragments
# --------------------------------------------------------------------------

_B = r"\b"
_MONTH_FULL = (
    r"(?:january|february|(?-i:March)|april|(?-i:May)|june|july|august"
    r"|september|october|november|december)"
)
_MONTH_ABBR = r"(?:jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
_MONTH = rf"(?:{_MONTH_FULL}\b|{_MONTH_ABBR}(?:\.|\b))"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b"
_YEAR = r"(?:1[0-9]\d\d|20\d\d)(?![\d,.]\d)"
_NUM_WORD = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    r"|a\s+hundred|hundreds\s+of|a\s+dozen|dozens\s+of|a\s+couple\s+of"
    r"|a\s+couple|couple\s+of|a\s+few|few|several|some|many|numerous)"
)
_NUM = rf"(?:\d+(?:\.\d+)?(?:\s+\d/\d)?|{_NUM_WORD}\b|an?\b)"
_UNIT_SG = (
    r"(?:second|minute|hour|day|night|week|weekend|fortnight|month|quarter|year|decade|century)"
)
_UNIT_PL = (
    r"(?:seconds|minutes|hours|days|nights|weeks|weekends|fortnights"
    r"|months|quarters|years|decades|centuries)"
)
_UNIT = rf"(?:{_UNIT_PL}|{_UNIT_SG})\b"
_PART_OF_DAY = r"(?:morning|afternoon|evening|night)\b"
_AMPM = r"(?:[ap]\.\s?m\.?|[ap]m\b)"
_ZONE = r"(?:\s+(?:[ECMP][SD]T|GMT|UTC|ET|BST|CET|local\s+time)\b)"
_DMY = rf"{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
_MDY = rf"{_MONTH}\s*{_DAY}(?!\d|:\d)(?:,?\s+{_YEAR})?"
_MOD = r"(?:early|late|mid|middle|earlier|later)"
_REL = r"(?:this|last|next|past|previous|coming|following|current|same|latest|recent)"

# Ordered rules: at one position the first alternative that matches wins, so
# longer, more specific rules come first.
_RULES: list[tuple[str, str]] = [
    ("iso", r"\d{4}-[01]\d-[0-3]\d(?:[T\s][0-2]?\d:[0-5]\d(?::[0-5]\d)?(?:Z|\s?UTC)?)?(?![\d-])"),
    (
        "numdate",
        (
            r"(?<![\d.,/-])(?:[0-3]?\d[/.-][0-3]?\d[/.-](?:1[0-9]|20)\d\d|[01]?\d/[0-3]?\d/\d\d)"
            r"(?:\s+[0-2]?\d:[0-5]\d)?(?![\d/.-]\d)"
        ),
    ),
    (
        "clock_date",
        (
            rf"(?:[01]?\d(?:[:.][0-5]\d)?\s*{_AMPM}|[0-2]?\d:[0-5]\d|noon|midnight){_ZONE}?,?\s+"
            rf"(?:on\s+)?(?:{_WEEKDAY}(?:,?\s+(?:{_DMY}|{_MDY}))?|{_DMY}|{_MDY}"
            rf"|today|yesterday|tomorrow|tonight)"
        ),
    ),
    (
        "date",
        rf"(?:{_WEEKDAY}\s*\(\s*(?:{_DMY}|{_MDY})\s*\)|(?:{_WEEKDAY},?\s+)?(?:{_DMY}|{_MDY}))",
    ),
    (
        "month_year",
        (
            rf"(?:(?:the\s+)?(?:{_MOD}|end|beginning|start)[- ]?(?:of\s+)?\s*)?{_MONTH}"
            rf"(?:\s+of)?,?\s+(?:{_YEAR}|(?:last|this|next)\s+year\b)"
        ),
    ),
    (
        "month",
        (
            rf"(?:(?:the\s+)?(?:{_MOD}|end|beginning|start)[- ]?(?:of\s+)?\s*)?"
            rf"(?:(?:this|last|next|coming|past|each|every)\s+)?{_MONTH}(?!\.?\s*\d)"
        ),
    ),
    (
        "clock",
        (
            rf"(?:[01]?\d(?:[:.][0-5]\d)?\s*{_AMPM}|[0-2]?\d:[0-5]\d(?::[0-5]\d)?"
            rf"(?![\d:])(?:\s*{_AMPM})?|\d{{1,2}}\s+(?:o'clock|in\s+the\s+(?:morning"
            rf"|afternoon|evening))|noon|midnight|midday){_ZONE}?"
        ),
    ),
    (
        "quarter",
        (
            rf"(?:(?:the|its|their|a|this|last|next)\s+)?(?:(?:{_YEAR}|fiscal"
            rf"|year-earlier|year-ago|comparable|latest|current|same|previous"
            rf"|flat|year's)[- ]+)*(?:(?:first|second|third|fourth|1st|2nd|3rd"
            rf"|4th|final|latest|current|previous|last)[- ]+)?(?:fiscal[- ]+)?quarter\b"
            rf"(?:\s+of\s+(?:fiscal\s+)?(?:{_YEAR}|this\s+year|last\s+year|next\s+year))?"
            rf"(?:\s+a\s+year\s+(?:ago|earlier))?"
        ),
    ),
    (
        "fiscal_code",
        (
            r"(?:q[1-4]|h[12])(?:\s*(?:of\s+)?(?:fy\s*)?(?:'|20)?\d\d\b)?"
            r"|fy\s*(?:'|20)?\d\d\b"
        ),
    ),
    (
        "half",
        (
            rf"(?:the\s+)?(?:first|second|last|latter)\s+half(?:\s+of\s+(?:"
            rf"(?:fiscal\s+)?{_YEAR}|this\s+year|last\s+year|next\s+year|the\s+year))?"
        ),
    ),
    (
        "decade",
        (
            r"(?:the\s+)?(?:(?:early|late|mid)[- ]?)?(?:(?:1[0-9]|20)\d0s|'?\d0s)\b"
            r"|(?:the\s+)?(?:(?:early|late|mid)[- ]?)?(?:twenties|thirties"
            r"|forties|fifties|sixties|seventies|eighties|nineties)\b"
        ),
    ),
    (
        "century",
        r"(?:the\s+)?(?:early\s+|late\s+|mid-)?(?:1\d|2[01]|[1-9])(?:st|nd|rd|th)\s+century\b",
    ),
    (
        "year",
        (
            rf"(?:(?:the\s+)?(?:(?:early|late|mid)[- ]?|(?:end|beginning|start"
            rf"|middle)\s+of\s+))?(?:(?:fiscal|calendar|model)(?:\s+year)?\s+)?"
            rf"(?<![$£€#\d.,])(?:{_YEAR})(?!\s*(?:%|percent|per\s+cent))\b"
        ),
    ),
    (
        "season",
        (
            rf"(?:(?:the\s+)?(?:(?:early|late|mid)[- ]?)?(?:(?:this|last|next"
            rf"|past|coming)\s+)?(?:spring|summer|autumn|winter|fall)(?:\s+of)?\s+{_YEAR}"
            rf"|(?:(?:the\s+)?(?:(?:early|late|mid)[- ]?)?(?:this|last|next"
            rf"|past|coming)\s+|the\s+(?:(?:early|late|mid)[- ]?)?|(?:early"
            rf"|late|mid)[- ]?)(?:spring|summer|autumn|winter|fall)\b|(?:summer"
            rf"|winter|autumn)\b)"
        ),
    ),
    (
        "relday",
        (
            rf"(?:(?:early|late|earlier|later)\s+)?(?:the\s+day\s+(?:before\s+yesterday"
            rf"|after\s+tomorrow)|today|yesterday|tomorrow|tonight|last\s+night"
            rf"|overnight)(?:\s+{_PART_OF_DAY})?"
        ),
    ),
    (
        "thispart",
        (
            r"(?:(?:early|late|earlier|later)\s+)?(?:this|the)\s+(?:morning"
            r"|afternoon|evening)\b|mid-?\s?(?:morning|afternoon)\b"
        ),
    ),
    (
        "weekday",
        (
            rf"(?:(?:last|next|this|coming|past|every|each)\s+)?(?:{_WEEKDAY})"
            rf"(?:s\b)?(?:\s+{_PART_OF_DAY}|\s+(?:nights|mornings|afternoons"
            rf"|evenings)\b)?"
        ),
    ),
    (
        "ago",
        (
            rf"(?:(?:almost|nearly|some|more\s+than|less\s+than|over)\s+)?{_NUM}[\s-]+"
            rf"(?:(?:and\s+a\s+half|or\s+so)\s+)?{_UNIT}(?:\s+or\s+so)?\s+(?:ago"
            rf"|earlier|later|from\s+now|before|after|previously|hence)\b(?!\s+"
            rf"(?:the|a|an|his|her|its|their|he|she|it|they|we|i)\b)"
        ),
    ),
    (
        "relunit",
        (
            rf"(?:(?:early|late|earlier|later)\s+(?:in\s+)?|(?:the\s+)?(?:end"
            rf"|beginning|start|middle)\s+of\s+)?(?:the\s+)?(?:{_REL}|the\s+{_REL}|that)\s+"
            rf"(?:fiscal\s+|calendar\s+)?(?:week|weekend|month|year|decade|century)\b"
        ),
    ),
    (
        "this_year_mod",
        (
            r"(?:earlier|later)\s+in\s+the\s+(?:year|month|week|day)\b|(?:the\s+)?"
            r"(?:end|beginning|start|middle)\s+of\s+the\s+(?:year|month|week)\b"
            r"|the\s+(?:full\s+|calendar\s+|fiscal\s+)?year\b(?!-|\s+(?:before"
            r"|earlier|ago|later|after|two|nineteen))|the\s+weekend\b"
        ),
    ),
    ("year_end", r"year(?:-|\s|'s\s+)end\b(?![-\s]+[a-z])"),
    (
        "fin_period",
        (
            rf"(?:the\s+)?(?:same|corresponding|comparable|year-earlier|year-ago)\s+"
            rf"(?:period|month|quarter|week)(?:\s+(?:of\s+)?(?:the\s+)?(?:last"
            rf"|previous|prior)\s+year|\s+a\s+year\s+(?:ago|earlier))\b|(?:the\s+)?"
            rf"(?:(?:year-earlier|year-ago|comparable|latest|same|{_YEAR})\s+)+period\b"
            rf"|year-(?:earlier|ago)\b"
        ),
    ),
    (
        "spelled_year",
        (
            r"(?:the\s+year\s+)?(?:(?:nineteen|eighteen)[\s-]+(?:(?:twenty"
            r"|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one"
            r"|two|three|four|five|six|seven|eight|nine))?|ten|eleven|twelve"
            r"|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
            r"|hundred)|two\s+thousand(?:\s+and\s+(?:one|two|three|four|five"
            r"|six|seven|eight|nine|ten))?)\b"
        ),
    ),
    (
        "set",
        (
            rf"(?:(?:every|each|per)\s+(?:other\s+|single\s+)?(?:{_NUM}\s+)?"
            rf"(?:{_UNIT}|{_PART_OF_DAY})|(?:once|twice|\d+\s+times|(?:three"
            rf"|four|five|six|several|many)\s+times)\s+(?:a|an|per|every|each)\s+{_UNIT_SG}\b"
            rf"|(?:daily|weekly|monthly|yearly|annually|hourly|nightly|biweekly)\b)"
        ),
    ),
    (
        "duration",
        (
            rf"(?:(?:the|a|an|its|their|his|her)\s+)?(?:(?:more|less|fewer)\s+than\s+"
            rf"|at\s+least\s+|no\s+more\s+than\s+|up\s+to\s+|nearly\s+|almost\s+"
            rf"|over\s+)?(?:(?:past|last|next|coming|first|final|previous|following"
            rf"|latest|additional|further|remaining|full|entire|initial|recent)\s+)?{_NUM}"
            rf"(?:\s+and\s+a\s+half)?"
            rf"(?:[\s-]+(?:more|additional|straight|consecutive|full|long|trading|business))?[\s-]+"
            rf"(?:{_UNIT})(?:[\s-]+(?:and\s+a\s+half|old|long))?(?!-)"
        ),
    ),
    (
        "vague_plural",
        (
            r"(?:(?:recent|coming|past|next|last|the\s+past|the\s+coming|the\s+next"
            r"|the\s+last|the\s+recent|the\s+following)\s+)(?:few\s+|several\s+)?"
            r"(?:days|weeks|months|years|decades|quarters)\b|(?<=\bfor\s)(?:days"
            r"|weeks|months|years|decades|centuries)\b|decades-long\b"
        ),
    ),
    (
        "holiday",
        (
            r"(?:(?:last|next|this)\s+)?(?:christmas(?:\s+(?:eve|day))?|new\s+year's\s+"
            r"(?:eve|day)|thanksgiving(?:\s+day)?|easter(?:\s+sunday)?|halloween"
            r"|valentine's\s+day|independence\s+day|election\s+day|labor\s+day"
            r"|memorial\s+day)\b"
        ),
    ),
    (
        "ref",
        (
            r"(?:right\s+)?now\b|currently\b|(?:more\s+|most\s+|until\s+|only\s+)?recently\b"
            r"|the\s+(?:distant\s+|near\s+|foreseeable\s+)?future\b(?!s)|the\s+past\b"
            r"|current\b(?=\s+[a-z])(?!\s+(?:account|assets|liabilities|affairs|flows?)\b)"
            r"|(?<!most\s)recent\b(?=\s+[a-z])"
            r"|soon\b(?!-|\s+(?:after|afterwards?|thereafter|as)\b)"
            r"|(?:the\s+)?time\s+being\b|nowadays\b|these\s+days\b"
            r"|at\s+present\b|to\s+date\b"
        ),
    ),
]

# Each rule runs on the lower-cased text, anchored at a candidate start:
# lower-casing once is several times faster than IGNORECASE matching.
_RULE_RES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern.lower()) for name, pattern in _RULES
}
_RULE_ORDER = {name: rank for rank, (name, _) in enumerate(_RULES)}

# Trigger words: an expression is looked for only around one of these (or a
# digit), which keeps the tagger fast on long texts.  Each trigger lists the
# rules that can contain it.
_R_MONTH = ("date", "month_year", "month")
_R_WEEKDAY = ("date", "weekday")
_R_UNIT = (
    "quarter",
    "half",
    "relunit",
    "this_year_mod",
    "ago",
    "set",
    "duration",
    "vague_plural",
    "fin_period",
)
# Expressions with a number and a unit or month are found from the unit or
# month word (the number is a lead word); digits alone start only these.
_R_YEAR_DIGITS = ("iso", "year", "decade", "clock")
_R_SHORT_DIGITS = ("numdate", "clock_date", "clock", "century", "decade")
_TRIGGERS: dict[str, tuple[str, ...]] = {}
for _word in _MONTHS:
    _TRIGGERS[_word] = _R_MONTH
for _word in _WEEKDAYS:
    _TRIGGERS[_word] = _R_WEEKDAY
    _TRIGGERS[_word + "s"] = _R_WEEKDAY
for _word in (
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "weekend",
    "fortnight",
    "month",
    "quarter",
    "year",
    "decade",
    "century",
    "night",
):
    _TRIGGERS[_word] = _R_UNIT + (("relday",) if _word == "night" else ())
    _TRIGGERS[_word + "s"] = _R_UNIT
_R_YEAR_UNIT = (*_R_UNIT, "year_end")  # "by year-end"
_TRIGGERS["year"] = _R_YEAR_UNIT
_TRIGGERS["centuries"] = _R_UNIT
_TRIGGERS["half"] = ("half",)
for _word in ("q1", "q2", "q3", "q4", "h1", "h2", "fy"):
    _TRIGGERS[_word] = ("fiscal_code",)
# Rules that can match starting at the trigger word itself (the others need a
# lead word before it: "the past three years", "a year ago", "last week").
_AT_TRIGGER: dict[tuple[str, ...], tuple[str, ...]] = {
    _R_UNIT: ("vague_plural", "fin_period"),
    _R_YEAR_UNIT: ("vague_plural", "fin_period", "year_end"),
    (*_R_UNIT, "relday"): ("vague_plural", "relday"),
}
for _word in ("today", "yesterday", "tomorrow", "tonight", "overnight"):
    _TRIGGERS[_word] = ("relday",)
for _word in ("morning", "afternoon", "evening", "noon", "midnight", "midday"):
    _TRIGGERS[_word] = ("clock_date", "clock", "thispart", "relday", "set")
for _word in (
    "now",
    "currently",
    "recently",
    "future",
    "past",
    "previously",
    "formerly",
    "soon",
    "current",
    "recent",
    "being",
    "nowadays",
    "these",
    "present",
    "date",
):
    _TRIGGERS[_word] = ("ref",)
for _word in (
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "annually",
    "hourly",
    "quarterly",
    "nightly",
    "biweekly",
    "semiannually",
):
    _TRIGGERS[_word] = ("set",)
_TRIGGERS["period"] = ("fin_period",)
for _word in ("same", "corresponding", "comparable"):
    _TRIGGERS[_word] = ("fin_period",)
for _word in ("nineteen", "eighteen", "thousand"):
    _TRIGGERS[_word] = ("spelled_year",)
for _word in ("spring", "summer", "fall", "autumn", "winter"):
    _TRIGGERS[_word] = ("season",)
for _word in (
    "twenties",
    "thirties",
    "forties",
    "fifties",
    "sixties",
    "seventies",
    "eighties",
    "nineties",
):
    _TRIGGERS[_word] = ("decade",)
for _word in (
    "christmas",
    "new",
    "thanksgiving",
    "easter",
    "halloween",
    "valentine",
    "independence",
    "election",
    "labor",
    "memorial",
):
    _TRIGGERS.setdefault(_word, ("holiday",))


_DOTTED_CLOCK = re.compile(r"\.[0-5]\d\s*[ap]\.?\s?m\b")


def _digit_rules(lowered: str, after: int, length: int) -> tuple[str, ...]:
    """The rules a run of digits can start, judged from the characters after it."""
    following = lowered[after : after + 12]
    if length == 4:
        if following[:1] == "-":
            return ("iso", "year")
        if following[:1] == "s":
            return ("decade",)
        return ("year",)
    if length > 2:
        return ()
    first = following[:1]
    if first in "/.-" and following[1:2].isdigit():
        if first == "." and _DOTTED_CLOCK.match(following):
            return ("clock_date", "clock")  # "7.19pm"
        return ("numdate",)
    if first == ":" or "m" in following[:5] or "o'clock" in following or "in the" in following:
        return ("clock_date", "clock")
    if length == 2 and lowered[after - 1] == "0" and first == "s":
        return ("decade",)  # "the '70s", "the 80s"
    if "century" in following or following[:2] in ("st", "nd", "rd", "th"):
        return ("century",)
    return ()


def _trie_pattern(words: list[str]) -> str:
    """A regex alternation factored as a trie: far faster than a flat list of words."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


# The look-behind makes the scan skip the inside of words quickly.
_TRIGGER_RE = re.compile(f"(?<![a-z])(?:{_trie_pattern(sorted(_TRIGGERS))})(?![a-z])")
_DIGITS_RE = re.compile(r"(?<![a-z0-9.,/:$£€#])\d+")  # not inside words, amounts, times

# Words that may precede a trigger inside an expression ("the past three
# years", "more than a decade", "the fiscal first quarter").
_LEAD_WORDS = _words(
    "the a an its their his her this last next past previous coming following current "
    "same latest recent early late mid middle end beginning start of earlier later "
    "more less fewer than at least no up to nearly almost about around over roughly "
    "approximately just only some few several many couple dozen dozens hundreds "
    "fiscal calendar model first second third fourth 1st 2nd 3rd 4th final full "
    "entire additional further remaining year-earlier year-ago comparable flat "
    "initial every each per other single once twice times in and year's right most "
    "until distant near foreseeable straight consecutive year half trading business that"
) | frozenset(_NUMBER_WORDS)


_FRACTION = re.compile(r"\d/\d$")


def _lead_starts(lowered: str, position: int) -> list[int]:
    """Start offsets of the lead words just before `position`, nearest first."""
    starts: list[int] = []
    cursor = position
    while len(starts) < 6 and cursor > 0 and lowered[cursor - 1] in " -\n\t":
        end = cursor - 1
        while end > 0 and lowered[end - 1] == " ":
            end -= 1
        window = max(0, end - 21)  # a lead word is short; never scan further back
        begin = (
            max(
                lowered.rfind(" ", window, end),
                lowered.rfind("\n", window, end),
                lowered.rfind("-", window, end),
                lowered.rfind("\t", window, end),
            )
            + 1
        )
        if begin == 0 and window > 0:
            break
        word = lowered[begin:end].strip(".")
        if not word or end - begin > 20:
            break
        if (
            word in _LEAD_WORDS
            or word.isdigit()
            or _FRACTION.match(word)
            or (word[-2:] in ("st", "nd", "rd", "th") and word[:-2].isdigit())
        ):
            starts.append(begin)
            cursor = begin
        else:
            break
    return starts


# TimeML leaves possessives out of the extent, and articles before an
# adjectival form ("a two-year contract", "the third-quarter loss").
_LEADING_DETERMINER = re.compile(
    rf"(?:its|their|his|her|our|my|your)\s+|(?:the|a|an)\s+(?=(?:\d+"
    rf"|{_NUM_WORD}|first|second|third|fourth|fiscal)-\S*?\b(?:{_UNIT_SG}"
    rf"|quarter)\b)"
    rf"|an?\s+(?!few|couple|dozen|hundred)(?=(?:\d+|{_NUM_WORD})[\s-]+{_UNIT})",
    re.IGNORECASE,
)

# Helper regexes used by the handlers on the matched text.
_MONTH_IN = re.compile(rf"\b(?:{_MONTH_FULL}|{_MONTH_ABBR})(?=\b|\.)", re.IGNORECASE)
_WEEKDAY_IN = re.compile(r"\b(mon|tues|wednes|thurs|fri|satur|sun)day", re.IGNORECASE)
_YEAR_IN = re.compile(r"(?<!\d)(1[0-9]\d\d|20\d\d)(?!\d)")
_DAY_IN = re.compile(r"(?<![\d:])(3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?![\d:])")
_CLOCK_IN = re.compile(
    (
        rf"(?P<h>[0-2]?\d)(?:[:.](?P<m>[0-5]\d))?(?::(?P<s>[0-5]\d))?\s*(?P<ampm>{_AMPM})?"
        rf"|(?P<word>noon|midnight|midday)"
    ),
    re.IGNORECASE,
)
_NUM_IN = re.compile(
    (
        rf"(?:(?P<digits>\d+(?:\.\d+)?)(?:\s+(?P<frac>\d)/(?P<den>\d))?"
        rf"|(?P<word>{_NUM_WORD})\b|\b(?P<a>an?)\b)"
    ),
    re.IGNORECASE,
)
_UNIT_IN = re.compile(rf"(?:{_UNIT_PL}|{_UNIT_SG})\b", re.IGNORECASE)
_PART_IN = re.compile(r"(morning|afternoon|evening|night|tonight|overnight)", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z'][A-Za-z'-]*")
_SENTENCE_END = re.compile(r"[.!?]\s+(?=[A-Z\"'])|\n")

# Words around an expression that tell whether it lies before or after the
# reference date.  The closest cue wins.
_FUTURE_CUES = _words(
    "will 'll wo shall would scheduled slated due expected plans plan planning "
    "upcoming tomorrow going intends intend hopes hope soon aims aim resume resumes "
    "begin begins start starts open opens"
)
_PAST_CUES = _words(
    "said says was were had did ago last earlier told met held made took gave came "
    "went saw got found began left sent spoke wrote won lost fell rose paid sold "
    "bought brought thought knew became ran struck led kept felt heard meant since "
    "yesterday previously already former died killed announced reported"
)
_PASSIVE_AUX = frozenset(["be", "been", "being", "is", "are"])


# --------------------------------------------------------------------------
# Calendar points
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Point:
    """A calendar point at some granularity (day, week, month, ...)."""

    day: date
    granularity: str

    def value(self) -> str:
        d, g = self.day, self.granularity
        if g == "day" or g in ("hour", "minute", "second"):
            return d.isoformat()
        if g == "week":
            iso_year, iso_week, _ = d.isocalendar()
            return f"{iso_year:04d}-W{iso_week:02d}"
        if g == "month":
            return f"{d.year:04d}-{d.month:02d}"
        if g == "quarter":
            return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
        if g == "half":
            return f"{d.year:04d}-H{1 if d.month <= 6 else 2}"
        if g == "decade":
            return f"{d.year // 10:03d}"
        if g == "century":
            return f"{d.year // 100:02d}"
        return f"{d.year:04d}"


def _unknown(granularity: str) -> str:
    return {
        "day": "XXXX-XX-XX",
        "week": "XXXX-WXX",
        "month": "XXXX-XX",
        "quarter": "XXXX-QX",
        "half": "XXXX-HX",
        "decade": "XXX",
        "century": "XX",
    }.get(granularity, "XXXX")


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    year, month = divmod(total, 12)
    year = min(max(year, 1), 9999)
    return date(year, month + 1, min(d.day, monthrange(year, month + 1)[1]))


def _shift(d: date, amount: int, granularity: str) -> date:
    try:
        if granularity in ("day", "hour", "minute", "second"):
            return d + timedelta(days=amount if granularity == "day" else 0)
        if granularity == "week":
            return d + timedelta(weeks=amount)
        if granularity == "month":
            return _add_months(d, amount)
        if granularity == "quarter":
            return _add_months(d, 3 * amount)
        if granularity == "half":
            return _add_months(d, 6 * amount)
        if granularity == "decade":
            return _add_months(d, 120 * amount)
        if granularity == "century":
            return _add_months(d, 1200 * amount)
        return _add_months(d, 12 * amount)
    except (OverflowError, ValueError):
        return d


def _point_from_value(value: str) -> _Point | None:
    """Parse a TIMEX3 calendar value back into a point (for anchoring)."""
    m = re.match(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?|-W(\d{2})|-Q([1-4])|-H([12]))?", value)
    if not m:
        return None
    year = int(m.group(1))
    try:
        if m.group(3):
            return _Point(date(year, int(m.group(2)), int(m.group(3))), "day")
        if m.group(2):
            return _Point(date(year, int(m.group(2)), 1), "month")
        if m.group(4):
            return _Point(date.fromisocalendar(year, int(m.group(4)), 1), "week")
        if m.group(5):
            return _Point(date(year, 3 * int(m.group(5)) - 2, 1), "quarter")
        if m.group(6):
            return _Point(date(year, 1 if m.group(6) == "1" else 7, 1), "half")
        return _Point(date(year, 1, 1), "year")
    except ValueError:
        return None


def parse_reference(reference: str | date | datetime | None) -> date | None:
    """The reference (publication) date as a `date`, or None if absent or unreadable."""
    if reference is None:
        return None
    if isinstance(reference, datetime):
        return reference.date()
    if isinstance(reference, date):
        return reference
    if not isinstance(reference, str):
        return None
    text = reference.strip()
    m = re.match(r"^(\d{4})-?(\d{2})-?(\d{2})", text)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.match(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text)
        if m:
            first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            day, month = (first, second) if second <= 12 else (second, first)
            return date(year, month, day)
        m = re.match(r"^(\d{4})-(\d{2})$", text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------
# Context: tense cues and anchors
# --------------------------------------------------------------------------


def _sentence_left(text: str, start: int) -> str:
    window = text[max(0, start - 160) : start]
    cut = 0
    for m in _SENTENCE_END.finditer(window):
        cut = m.end()
    return window[cut:]


def _sentence_right(text: str, end: int) -> str:
    window = text[end : end + 100]
    m = _SENTENCE_END.search(window)
    return window[: m.start()] if m else window


def _cue(word: str, before: str | None, weak: bool) -> int:
    if word in _FUTURE_CUES:
        return 1
    if word in _PAST_CUES:
        return -1
    # A regular past tense ("agreed"), unless a passive ("will be held") or an
    # adjective in a compound ("much-anticipated"); a weak cue, used only when
    # no auxiliary or reporting verb is found.
    if (
        weak
        and len(word) > 4
        and word.endswith("ed")
        and "-" not in word
        and before not in _PASSIVE_AUX
    ):
        return -1
    return 0


_REPORTING = frozenset(
    ["said", "says", "told", "added", "reported", "announced", "noted", "stated"]
)


# Verbs of intent: what follows "agreed to", "decided to", "plans to" lies ahead
# of the deciding ("agreed to buy the unit in February", said in October).
_INTENT = _words(
    "agreed decided planned promised pledged vowed intended offered threatened hoped "
    "proposed voted sought wanted expected scheduled supposed set due prepared"
)


def _first_cue(words: list[str], weak: bool, reporting: bool = True) -> int:
    for i, word in enumerate(words):
        if not reporting and i > 1 and word in _REPORTING:
            continue  # "officials said talks resume in January": the saying is past, not January
        before = words[i + 1] if i + 1 < len(words) else None
        if i > 0 and words[i - 1] == "to" and word in _INTENT:
            # "decided to admit them in March" looks ahead; "had been scheduled to
            # expire Friday", "was expected to close Monday" look back on it.
            earlier = before in ("had", "was", "were") or (
                before == "been" and i + 2 < len(words) and words[i + 2] == "had"
            )
            return -1 if earlier else 1
        if before in _PASSIVE_AUX and word not in _FUTURE_CUES:
            continue  # "will be held", "is heard", "be paid": the auxiliary further on decides
        cue = _cue(word, before, weak)
        if cue:
            return cue
    return 0


_FRONTING = _words("in on by since until during early late and but then also at so")


def _direction(text: str, start: int, end: int, reporting: bool = True) -> int:
    """+1 if the words around say the expression is after the reference, -1 before, 0 unknown.

    The closest strong cue (auxiliary, reporting verb, "ago", "scheduled") to
    the left in the same sentence decides, then one to the right, then a
    regular past tense on either side.
    """
    left = [w.lower() for w in _WORD.findall(_sentence_left(text, start))][-14:]
    left.reverse()  # nearest first; "before" of a word is the one after it in this list
    if left[:3] in (["as", "early", "as"], ["as", "soon", "as"]):
        return 1  # "as early as Tuesday": the earliest time something may still happen
    right = [w.lower() for w in _WORD.findall(_sentence_right(text, end))][:10]
    for weak in (False, True):
        cue = _first_cue(left, weak, reporting)
        if cue:
            return cue
    if not reporting and all(word in _FRONTING for word in left):
        # A fronted expression ("In September, it announced plans") belongs to the
        # verb of the clause that follows, reporting verb or not.
        reporting = True
    for weak in (False, True):
        for i, word in enumerate(right):
            if not reporting and word in _REPORTING:
                continue
            before = right[i - 1] if i > 0 else None
            if word.endswith("ed") and before in _PASSIVE_AUX:
                continue
            cue = _cue(word, before, weak)
            if cue:
                return cue
    return 0


@dataclass(slots=True)
class _Context:
    text: str
    reference: date | None
    last_point: _Point | None = None  # the latest resolved calendar expression
    last_day: _Point | None = None  # the latest one precise to the day
    reference_value: str | None = None  # the reference as an ISO date, for `anchor`
    dated_days: dict[tuple[int, int], date] = field(default_factory=dict)  # with explicit year

    def __post_init__(self) -> None:
        self.reference_value = self.reference.isoformat() if self.reference else None


# --------------------------------------------------------------------------
# Value helpers
# --------------------------------------------------------------------------


_VAGUE_RE = re.compile(r"\b(?:few|several|some|many|numerous|dozens|hundreds)\b")
_ORDINAL_QUARTER_RE = re.compile(
    r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|sixth|seventh|eighth|ninth|tenth)"
    r"[- ]+(?:fiscal[- ]+)?quarter"
)
_SEASON_RE = re.compile(r"\b(spring|summer|fall|autumn|winter)\b")


def _number(text: str) -> float | None:
    """The count in "three days", "2 1/2 hours", "a few weeks" (None when vague)."""
    lowered = text.lower()
    if _VAGUE_RE.search(lowered):
        return None
    m = _NUM_IN.search(text)
    if not m:
        return None
    if m.group("digits"):
        amount = float(m.group("digits"))
        if m.group("frac"):
            amount += int(m.group("frac")) / max(int(m.group("den")), 1)
        return amount
    if m.group("a"):
        return 1.0
    words = re.split(r"[\s-]+", m.group("word").lower())
    total = 0
    for word in words:
        if word in ("of", "a"):
            continue
        if word == "hundred":
            total = max(total, 1) * 100
        elif word in _NUMBER_WORDS:
            total += _NUMBER_WORDS[word]
    return float(total) if total else None


def _unit(text: str) -> tuple[str, str, int, bool] | None:
    found = _UNIT_IN.findall(text)
    if not found:
        return None
    name = found[-1].lower()
    if name.endswith("s") and name[:-1] in _UNITS:
        name = name[:-1]
    if name == "centuries":
        name = "century"
    return _UNITS.get(name)


def _duration_value(amount: float | None, unit: tuple[str, str, int, bool]) -> str:
    _, letter, multiplier, is_time = unit
    prefix = "PT" if is_time else "P"
    if amount is None:
        return f"{prefix}X{letter}"
    total = amount * multiplier
    if total != int(total):
        # TIMEX3 writes 2.5 years as P2Y6M and 5.5 hours as PT5H30M.
        smaller = {"Y": ("M", 12), "H": ("M", 60), "M": ("S", 60) if is_time else ("D", 30)}.get(
            letter
        )
        if smaller and total * smaller[1] == int(total * smaller[1]):
            whole, rest = int(total), round((total - int(total)) * smaller[1])
            return (
                f"{prefix}{whole}{letter}{rest}{smaller[0]}"
                if whole
                else f"{prefix}{rest}{smaller[0]}"
            )
    count = str(int(total)) if total == int(total) else f"{total:g}"
    return f"{prefix}{count}{letter}"


def _month_of(text: str) -> int | None:
    m = _MONTH_IN.search(text)
    return _MONTHS.get(m.group(0).lower()) if m else None


def _weekday_of(text: str) -> int | None:
    m = _WEEKDAY_IN.search(text)
    return _WEEKDAYS.get(m.group(0).lower()) if m else None


def _year_of(text: str) -> int | None:
    m = _YEAR_IN.search(text)
    return int(m.group(1)) if m else None


def _day_of(text: str) -> int | None:
    stripped = _YEAR_IN.sub(" ", text)
    m = _DAY_IN.search(stripped)
    return int(m.group(1)) if m else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve_month_day(
    ctx: _Context, month: int, day: int, direction: int, weekday: int | None
) -> date | None:
    """The year of a "10 January" without a year: by weekday, then tense, then closeness."""
    ref = ctx.reference
    if ref is None:
        return None
    candidates = [c for c in (_safe_date(ref.year + k, month, day) for k in (-1, 0, 1)) if c]
    if not candidates:
        return None
    if weekday is not None:
        agreeing = [c for c in candidates if c.weekday() == weekday]
        if agreeing:
            return min(agreeing, key=lambda c: abs((c - ref).days))
    if direction > 0:
        after = [c for c in candidates if c >= ref]
        if after and (after[0] - ref).days <= 300:
            return after[0]
    elif direction < 0:
        before = [c for c in candidates if c <= ref]
        if before and (ref - before[-1]).days <= 300:
            return before[-1]
    # No cue: the nearer one, with a tilt to the past as for a month alone.
    return min(candidates, key=lambda c: abs((c - ref).days) + (45 if c > ref else 0))


def _resolve_month(ctx: _Context, month: int, relation: str | None, direction: int) -> int | None:
    ref = ctx.reference
    if ref is None:
        return None
    if relation in ("last", "past"):
        return ref.year if month < ref.month else ref.year - 1
    if relation in ("next", "coming"):
        return ref.year if month > ref.month else ref.year + 1
    if relation == "this":
        return ref.year
    if month == ref.month:
        return ref.year
    before = ref.year if month < ref.month else ref.year - 1
    after = ref.year if month > ref.month else ref.year + 1
    if direction < 0:
        return before
    if direction > 0:
        return after
    # No cue: the nearer one, with a tilt to the past (news reports what happened):
    # a month five ahead is rarer in news than the same month seven back.
    distance_before = (ref.month - month) % 12
    distance_after = (month - ref.month) % 12
    return after if distance_after < distance_before - 2 else before


def _resolve_weekday(
    ctx: _Context, weekday: int, relation: str | None, direction: int
) -> date | None:
    ref = ctx.reference
    if ref is None:
        return None
    delta_back = (ref.weekday() - weekday) % 7
    delta_fwd = (weekday - ref.weekday()) % 7
    if relation == "last" or relation == "past":
        return ref - timedelta(days=delta_back or 7)
    if relation == "next":
        return ref + timedelta(days=delta_fwd or 7)
    if relation in ("coming", "this") and direction >= 0:
        return ref + timedelta(days=delta_fwd)
    if direction > 0:
        return ref + timedelta(days=delta_fwd)
    return ref - timedelta(days=delta_back)


def _relation(text: str) -> str | None:
    m = re.search(
        r"\b(this|last|next|past|previous|coming|following|current|same|latest|recent)\b",
        text,
        re.IGNORECASE,
    )
    return m.group(1).lower() if m else None


# --------------------------------------------------------------------------
# Rule handlers: (matched text, start, end, context) -> (type, value, anchor, flag) | None
# --------------------------------------------------------------------------

_Result = tuple[str, str, str | None, str | None]


def _h_iso(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{1,2}):(\d{2})(?::(\d{2}))?)?", s)
    if not m or not _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))):
        return None
    day = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    if m.group(4):
        return "TIME", f"{day}T{int(m.group(4)):02d}:{m.group(5)}", None, None
    return "DATE", day, None, None


def _h_numdate(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    m = re.match(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?:\s+(\d{1,2}):(\d{2}))?", s)
    if not m:
        return None
    first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if year < 100:
        year += 2000 if year < 50 else 1900
    # US order unless impossible; a "." or "-" separator with a day > 12 is European.
    if "/" in s and first <= 12:
        month, day = first, second
    elif second <= 12:
        day, month = first, second
    else:
        month, day = first, second
    found = _safe_date(year, month, day)
    if not found:
        return None
    if m.group(4) and int(m.group(4)) < 24:
        return "TIME", f"{found.isoformat()}T{int(m.group(4)):02d}:{m.group(5)}", None, None
    return "DATE", found.isoformat(), None, None


def _explicit_date(
    s: str, start: int, end: int, ctx: _Context
) -> tuple[str, str | None, str | None, date | None]:
    """Value of a day/month(/year)(/weekday) expression, with the weekday check."""
    month = _month_of(s)
    day = _day_of(s)
    year = _year_of(s)
    weekday = _weekday_of(s)
    if month is None or day is None:
        return "XXXX-XX-XX", None, None, None
    if year is not None:
        found = _safe_date(year, month, day)
        if found is None:
            return f"{year:04d}-{month:02d}", None, None, None
        flag = "weekday-mismatch" if weekday is not None and found.weekday() != weekday else None
        ctx.dated_days[(month, day)] = found
        return found.isoformat(), None, flag, found
    if (month, day) in ctx.dated_days and weekday is None:
        # "16 June 2021 ... meet in Geneva on 16 June": a repeated day is the same date.
        found = ctx.dated_days[(month, day)]
        return found.isoformat(), found.isoformat(), None, found
    if ctx.reference is None:
        return f"XXXX-{month:02d}-{day:02d}", None, None, None
    found = _resolve_month_day(
        ctx, month, day, _direction(ctx.text, start, end, reporting=False), weekday
    )
    if found is None:
        return f"XXXX-{month:02d}-{day:02d}", ctx.reference_value, None, None
    flag = "weekday-mismatch" if weekday is not None and found.weekday() != weekday else None
    return found.isoformat(), ctx.reference_value, flag, found


def _h_date(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    value, anchor, flag, _ = _explicit_date(s, start, end, ctx)
    return "DATE", value, anchor, flag


def _clock(s: str) -> str | None:
    """ "T15:00" from "3 p.m.", "15:00", "noon"; None when not a clock time."""
    for m in _CLOCK_IN.finditer(s):
        if m.group("word"):
            return "T24:00" if m.group("word").lower() == "midnight" else "T12:00"
        if m.group("h") is None or (
            m.group("m") is None
            and m.group("ampm") is None
            and "o'clock" not in s.lower()
            and "in the" not in s.lower()
        ):
            continue
        hour = int(m.group("h"))
        minute = m.group("m") or "00"
        ampm = (m.group("ampm") or "").lower()
        if "in the afternoon" in s.lower() or "in the evening" in s.lower():
            ampm = "pm"
        if ampm.startswith("p") and hour < 12:
            hour += 12
        elif ampm.startswith("a") and hour == 12:
            hour = 0
        if hour > 24:
            return None
        return f"T{hour:02d}:{minute}"
    return None


def _h_clock(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    clock = _clock(s)
    if clock is None:
        return None
    zone = "Z" if re.search(r"\b(?:UTC|GMT)\b", s) else ""
    day = ctx.reference.isoformat() if ctx.reference else "XXXX-XX-XX"
    return "TIME", f"{day}{clock}{zone}", ctx.reference_value, None


_LEADING_CLOCK = re.compile(rf"\s*\d{{1,2}}(?::\d{{2}})?\s*(?:{_AMPM})?", re.IGNORECASE)


def _h_clock_date(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    clock = _clock(s)
    if clock is None:
        return None
    zone = "Z" if re.search(r"\b(?:UTC|GMT)\b", s) else ""
    lowered = s.lower()
    anchor = ctx.reference_value
    flag = None
    if _month_of(s) is not None:
        # The day number is in the date part, not in the clock ("5 p.m. EST Nov. 9").
        clock_part = _LEADING_CLOCK.match(s)
        offset = clock_part.end() if clock_part else 0
        day, anchor, flag, _ = _explicit_date(s[offset:], start + offset, end, ctx)
    elif "yesterday" in lowered:
        day = (ctx.reference - timedelta(days=1)).isoformat() if ctx.reference else "XXXX-XX-XX"
    elif "tomorrow" in lowered:
        day = (ctx.reference + timedelta(days=1)).isoformat() if ctx.reference else "XXXX-XX-XX"
    elif (weekday := _weekday_of(s)) is not None:
        found = _resolve_weekday(ctx, weekday, None, _direction(ctx.text, start, end))
        day = found.isoformat() if found else f"XXXX-WXX-{weekday + 1}"
    else:
        day = ctx.reference.isoformat() if ctx.reference else "XXXX-XX-XX"
    if day.startswith("XXXX-WXX"):
        return "TIME", f"{day}{clock}{zone}", anchor, flag
    return "TIME", f"{day}{clock}{zone}", anchor, flag


def _h_month_year(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    month = _month_of(s)
    if month is None:
        return None
    year = _year_of(s)
    lowered = s.lower()
    anchor = None
    if year is None:
        if ctx.reference is None:
            return "DATE", f"XXXX-{month:02d}", None, None
        year = ctx.reference.year + (
            -1 if "last year" in lowered else 1 if "next year" in lowered else 0
        )
        anchor = ctx.reference_value
    return "DATE", f"{year:04d}-{month:02d}", anchor, None


def _h_month(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    month = _month_of(s)
    if month is None:
        return None
    lowered = s.lower()
    if re.search(r"\b(?:each|every)\b", lowered):
        return "SET", f"XXXX-{month:02d}", None, None
    # An abbreviation alone ("Jan", "Mar") is too ambiguous to tag.
    if not re.search(_MONTH_FULL, s, re.IGNORECASE) and not re.search(
        r"\b(?:this|last|next|coming|past)\b", lowered
    ):
        return None
    relation = _relation(lowered)
    year = _resolve_month(ctx, month, relation, _direction(ctx.text, start, end, reporting=False))
    if year is None:
        return "DATE", f"XXXX-{month:02d}", None, None
    return "DATE", f"{year:04d}-{month:02d}", ctx.reference_value, None


def _quarter_number(lowered: str, ref: date | None) -> tuple[int | None, bool]:
    """Quarter number named in the text, and whether it is the latest completed one."""
    ordinal = _ORDINAL_QUARTER_RE.search(lowered)
    if ordinal:
        number = _ORDINALS[ordinal.group(1)]
        return (number if number <= 4 else None), False
    if re.search(r"\b(?:final|last)[- ]+(?:fiscal[- ]+)?quarter", lowered) and not re.search(
        r"\b(?:the\s+)?last\s+quarter", lowered.split("quarter")[0][-6:] + "quarter"
    ):
        return 4, False
    if re.search(r"\bcurrent\b", lowered):
        return ((ref.month - 1) // 3 + 1) if ref else None, False
    return None, True


def _h_quarter(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    ref = ctx.reference
    year = _year_of(s)
    number, latest = _quarter_number(lowered, ref)
    relation = None
    if re.search(r"\b(?:last|previous)\s+quarter\b", lowered) and not re.search(
        r"\b(?:the\s+)?(?:final)", lowered
    ):
        relation = "last"
        number, latest = None, False
    elif re.search(r"\bnext\s+quarter\b", lowered):
        relation = "next"
        number, latest = None, False
    elif re.search(r"\bthis\s+quarter\b", lowered):
        relation = "this"
        number, latest = None, False
    back = (
        1
        if re.search(
            r"year-earlier|year-ago|a\s+year\s+(?:ago|earlier)|comparable|last\s+year", lowered
        )
        else 0
    )
    back = back or (1 if re.search(r"\blast\s+year", lowered) else 0)
    if ref is None and year is None:
        if number:
            return "DATE", f"XXXX-Q{number}", None, None
        return "DATE", "XXXX-QX", None, None
    anchor = None
    if year is None:
        anchor = ctx.reference_value
        assert ref is not None
        current_quarter = (ref.month - 1) // 3 + 1
        if relation == "last":
            point = _shift(date(ref.year, 3 * current_quarter - 2, 1), -1, "quarter")
            return "DATE", _Point(point, "quarter").value(), anchor, None
        if relation == "next":
            point = _shift(date(ref.year, 3 * current_quarter - 2, 1), 1, "quarter")
            return "DATE", _Point(point, "quarter").value(), anchor, None
        if relation == "this":
            return "DATE", f"{ref.year:04d}-Q{current_quarter}", anchor, None
        year = ref.year - back
        if (
            number is not None
            and number > current_quarter
            and not back
            and _direction(ctx.text, start, end) < 0
        ):
            year -= 1  # "the fourth quarter" reported in January
        if number is None:
            # "the quarter", "the latest quarter": the last completed one.
            latest_done = _shift(date(ref.year, 3 * current_quarter - 2, 1), -1, "quarter")
            number = (latest_done.month - 1) // 3 + 1
            year = latest_done.year - back
        if re.search(r"\bnext\s+year", lowered):
            year = ref.year + 1
    elif number is None:
        if ref is not None:
            latest_done = _shift(
                date(ref.year, 3 * ((ref.month - 1) // 3 + 1) - 2, 1), -1, "quarter"
            )
            number = (latest_done.month - 1) // 3 + 1
        else:
            return "DATE", f"{year:04d}-QX", None, None
    del latest
    return "DATE", f"{year:04d}-Q{number}", anchor, None


def _h_fiscal_code(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    """Business shorthand: "Q3", "Q4 2021", "H1'22", "FY2022" (the fiscal year, by its number)."""
    lowered = s.lower()
    digits = re.search(r"(\d{4}|\d\d)\s*$", lowered)
    code = re.match(r"([qh])([1-4])", lowered)
    part = f"-{code.group(1).upper()}{code.group(2)}" if code else ""
    if digits is not None:
        number = int(digits.group(1))
        return "DATE", f"{number if number >= 100 else 2000 + number:04d}{part}", None, None
    if ctx.reference is None:
        return "DATE", f"XXXX{part}", None, None
    return "DATE", f"{ctx.reference.year:04d}{part}", ctx.reference_value, None


def _h_half(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    half = 1 if "first" in lowered else 2
    year = _year_of(s)
    anchor = None
    if year is None:
        if ctx.reference is None:
            return "DATE", f"XXXX-H{half}", None, None
        year = ctx.reference.year + (
            -1 if "last year" in lowered else 1 if "next year" in lowered else 0
        )
        anchor = ctx.reference_value
    return "DATE", f"{year:04d}-H{half}", anchor, None


_DECADE_WORDS = {
    "twenties": 2,
    "thirties": 3,
    "forties": 4,
    "fifties": 5,
    "sixties": 6,
    "seventies": 7,
    "eighties": 8,
    "nineties": 9,
}


def _h_decade(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    m = re.search(r"((?:1[0-9]|20)\d)0s", lowered)
    if m:
        return "DATE", m.group(1), None, None
    m = re.search(r"(?<![\d])'?(\d)0s", lowered)
    digit = (
        int(m.group(1)) if m else next((v for k, v in _DECADE_WORDS.items() if k in lowered), None)
    )
    if digit is None:
        return None
    ref_year = ctx.reference.year if ctx.reference else None
    century = 19 if ref_year is None or ref_year // 10 % 10 < digit or ref_year < 2000 else 20
    if ref_year is not None and ref_year >= 2000 and digit * 10 + 2000 > ref_year:
        century = 19
    return "DATE", f"{century}{digit}", ctx.reference_value, None


def _h_century(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    m = re.search(r"(\d{1,2})(?:st|nd|rd|th)", s)
    if not m:
        return None
    number = int(m.group(1))
    if not 1 <= number <= 21:
        return None
    return "DATE", f"{number - 1:02d}", None, None


def _h_year(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    year = _year_of(s)
    if year is None:
        return None
    following = ctx.text[end : end + 24]
    preceding = ctx.text[max(0, start - 12) : start]
    # Numbers that merely look like years: amounts, counts, ranges of figures.
    if re.match(
        (
            r"\s*(?:[-–]\s*\d{1,2}\b(?!\s*(?:[-/]))|(?:people|shares|points"
            r"|units|barrels|tons|cars|jobs|employees|workers|troops|feet|meters"
            r"|miles|pages|copies|dollars|votes|seats|tonnes|kilometers|kilometres)\b)"
        ),
        following,
        re.IGNORECASE,
    ) and not re.match(r"\s*[-–]\s*\d{2}\b", following):
        return None
    if (
        re.search(
            r"(?:[$£€#]|\bNo\.|\bnumber|\broute|\bflight|\bmodel|\bitem)\s*$",
            preceding,
            re.IGNORECASE,
        )
        and "model year" not in s.lower()
    ):
        return None
    if (
        not re.match(
            r"(?:fiscal|calendar|model|the|early|late|mid|end|beginning|start|middle)",
            s,
            re.IGNORECASE,
        )
        and not 1800 <= year <= 2099
    ):
        return None
    return "DATE", f"{year:04d}", None, None


def _h_season(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    season = _SEASON_RE.search(lowered)
    if season is None:
        return None
    name = season.group(1)
    code = _SEASONS[name]
    year = _year_of(s)
    if year is not None:
        return "DATE", f"{year:04d}-{code}", None, None
    ref = ctx.reference
    if ref is None:
        return "DATE", f"XXXX-{code}", None, None
    relation = _relation(lowered)
    season_month = {"SP": 4, "SU": 7, "FA": 10, "WI": 1}[code]
    if relation in ("last", "past"):
        year = ref.year if season_month < ref.month - 1 else ref.year - 1
    elif relation in ("next", "coming"):
        year = ref.year if season_month > ref.month + 1 else ref.year + 1
    else:
        year = ref.year
    return "DATE", f"{year:04d}-{code}", ctx.reference_value, None


def _h_relday(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    offset = 0
    if "day before yesterday" in lowered:
        offset = -2
    elif "day after tomorrow" in lowered:
        offset = 2
    elif "yesterday" in lowered or "last night" in lowered:
        offset = -1
    elif "tomorrow" in lowered:
        offset = 1
    part = _PART_IN.search(lowered)
    day = (ctx.reference + timedelta(days=offset)).isoformat() if ctx.reference else "XXXX-XX-XX"
    if (
        "last night" in lowered
        or "overnight" in lowered
        or (part and part.group(1) not in ("tonight",))
    ):
        code = _PARTS_OF_DAY[part.group(1)] if part else "NI"
        return "TIME", f"{day}T{code}", ctx.reference_value, None
    return "DATE", day, ctx.reference_value, None


def _h_thispart(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    part = _PART_IN.search(s)
    if part is None:
        return None
    day = ctx.reference.isoformat() if ctx.reference else "XXXX-XX-XX"
    return "TIME", f"{day}T{_PARTS_OF_DAY[part.group(1).lower()]}", ctx.reference_value, None


def _h_weekday(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    weekday = _weekday_of(s)
    if weekday is None:
        return None
    lowered = s.lower()
    part = _PART_IN.search(lowered)
    if re.search(r"\b(?:every|each)\b", lowered) or re.search(
        r"days\b|(?:nights|mornings|afternoons|evenings)\b", lowered
    ):
        suffix = f"T{_PARTS_OF_DAY[part.group(1)]}" if part else ""
        return "SET", f"XXXX-WXX-{weekday + 1}{suffix}", None, None
    relation = _relation(lowered)
    found = _resolve_weekday(ctx, weekday, relation, _direction(ctx.text, start, end))
    if found is None:
        return "DATE", f"XXXX-WXX-{weekday + 1}", None, None
    # TimeBank annotates "Friday morning" as the DATE of that Friday, and
    # "Friday night" / "evening" with the part of day.
    if part is not None and part.group(1) in ("evening", "night"):
        return (
            "DATE",
            f"{found.isoformat()}T{_PARTS_OF_DAY[part.group(1)]}",
            ctx.reference_value,
            None,
        )
    return "DATE", found.isoformat(), ctx.reference_value, None


def _h_ago(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    unit = _unit(s)
    if unit is None:
        return None
    granularity = unit[0]
    amount = _number(s)
    if re.search(r"\b(?:before|after)\s*$", lowered):
        # "two days after" needs the event it is relative to: only the duration is known.
        return None
    sign = -1 if re.search(r"\b(?:ago|earlier|before|previously)\b", lowered) else 1
    anaphoric = bool(re.search(r"\b(?:earlier|later|before|after)\b", lowered))
    base: _Point | None
    previous = (
        ctx.last_day if _RANK[granularity] <= _RANK["week"] and ctx.last_day else ctx.last_point
    )
    if (
        granularity == "year"
        and ctx.last_point is not None
        and ctx.last_point.granularity == "quarter"
    ):
        # "a year ago" after "the third quarter": the same quarter a year before.
        base = ctx.last_point
    elif (
        granularity == "year"
        and (previous is None or previous.granularity != "day")
        and ctx.reference
    ):
        base = _Point(ctx.reference, "day")
    elif anaphoric and previous is not None:
        base = previous
    elif ctx.reference is not None:
        base = _Point(ctx.reference, "day")
    else:
        base = None
    if granularity in ("hour", "minute", "second"):
        granularity = "day"
    if base is None:
        return "DATE", _unknown(granularity), None, None
    if amount is None:
        return "DATE", "PAST_REF" if sign < 0 else "FUTURE_REF", base.value(), None
    steps = round(amount * unit[2])
    if unit[1] == "D" and unit[2] == 2:  # weekend
        steps = round(amount)
        granularity = "week"
    if granularity in ("decade", "century"):
        steps = round(amount * unit[2])
        shifted = _shift(base.day, sign * steps, "year")
    else:
        shifted = _shift(base.day, sign * steps, granularity)
    out_granularity = granularity
    if base.granularity == "quarter" or (
        _RANK.get(base.granularity, 0) > _RANK.get(granularity, 0) and base.granularity != "week"
    ):
        out_granularity = base.granularity
    return "DATE", _Point(shifted, out_granularity).value(), base.value(), None


def _h_relunit(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    unit_match = re.search(r"(week|weekend|month|year|decade|century)\b", lowered)
    if unit_match is None:
        return None
    unit_name = unit_match.group(1)
    relation = _relation(lowered)
    if relation is None and re.search(r"\bthat\b", lowered):
        if ctx.text[end : end + 1] == "-":
            return None  # "said that year-end results": "that" is the conjunction
        relation = "same"  # "later that year": the year of the event just told
    relation = relation or "this"
    granularity = {"weekend": "week"}.get(unit_name, unit_name)
    if (
        relation in ("past", "last")
        and re.search(r"\bthe\s+(?:past|last)\b", lowered)
        and unit_name in ("decade", "century")
    ):
        pass  # "the past decade" is the decade before, like "last decade"
    if relation == "recent":
        return "DATE", "PAST_REF", None, None
    base: _Point | None
    anaphoric = relation in ("following", "previous", "same")
    if anaphoric and ctx.last_point is not None:
        base = ctx.last_point
    elif ctx.reference is not None:
        base = _Point(ctx.reference, "day")
    else:
        base = None
    if base is None:
        value = _unknown(granularity)
        return "DATE", value + ("-WE" if unit_name == "weekend" else ""), None, None
    step = {"last": -1, "past": -1, "previous": -1, "next": 1, "coming": 1, "following": 1}.get(
        relation, 0
    )
    if (
        unit_name == "weekend"
        and relation in ("this", "current", "coming", "same", "latest")
        and ctx.reference is not None
    ):
        # The weekend of this week (TIMEX3 weeks end on Sunday).
        pass
    if unit_name == "decade" and relation in ("past", "last") and re.search(r"\bthe\b", lowered):
        return "DURATION", "P10Y", base.value(), None
    shifted = _shift(base.day, step, granularity)
    value = _Point(shifted, granularity).value()
    if unit_name == "weekend":
        value += "-WE"
    return "DATE", value, base.value(), None


def _h_this_year_mod(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    unit = re.search(r"(year|month|weekend|week|day)\b", lowered)
    if unit is None:
        return None
    if unit.group(1) == "weekend":
        # "the weekend": the one just past, unless the sentence looks ahead.
        if ctx.reference is None:
            return "DATE", "XXXX-WXX-WE", None, None
        ahead = _direction(ctx.text, start, end) > 0
        saturday = ctx.reference + timedelta(days=(5 - ctx.reference.weekday()) % 7)
        if not ahead and saturday > ctx.reference:
            saturday -= timedelta(days=7)
        return "DATE", _Point(saturday, "week").value() + "-WE", ctx.reference_value, None
    if re.fullmatch(r"the\s+(?:full\s+|calendar\s+|fiscal\s+)?year", lowered):
        # "for the year ended Sept. 30" is a span; "sales for the year" the current one.
        if re.match(r"\s+(?:ended|ending|to|through)\b", ctx.text[end : end + 12]):
            return "DURATION", "P1Y", None, None
        if ctx.reference is None:
            return "DATE", "XXXX", None, None
        return "DATE", f"{ctx.reference.year:04d}", ctx.reference_value, None
    if re.search(r"\b(?:end|beginning|start|middle|full|calendar)\b", lowered):
        base = _Point(ctx.reference, "day") if ctx.reference else None
    else:
        base = ctx.last_point or (_Point(ctx.reference, "day") if ctx.reference else None)
    granularity = unit.group(1)
    if base is None:
        return "DATE", _unknown(granularity), None, None
    return "DATE", _Point(base.day, granularity).value(), base.value(), None


def _h_year_end(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    """ "by year-end" is the end of this year, valued like "by the end of the year"."""
    if ctx.reference is None:
        return "DATE", "XXXX", None, None
    return "DATE", f"{ctx.reference.year:04d}", ctx.reference_value, None


def _h_fin_period(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    """Reporting periods: "the year-earlier period", "the latest period", "the 1988 period"."""
    ref = ctx.reference
    lowered = s.lower()
    year = _year_of(s)
    if ref is None:
        return "DATE", f"{year:04d}-QX" if year else "XXXX-QX", None, None
    if re.search(r"\b(?:month|week)\b", lowered) and re.search(r"year|ago|earlier", lowered):
        # "the same month a year ago": this month (or week), one year back.
        granularity = "month" if "month" in lowered else "week"
        return (
            "DATE",
            _Point(_shift(ref, -1, "year"), granularity).value(),
            ctx.reference_value,
            None,
        )
    # The period being reported is the last completed quarter.
    latest_done = _shift(date(ref.year, 3 * ((ref.month - 1) // 3) + 1, 1), -1, "quarter")
    quarter = (latest_done.month - 1) // 3 + 1
    if year is None:
        year = latest_done.year - (
            1 if re.search(r"year-earlier|year-ago|comparable", lowered) else 0
        )
    return "DATE", f"{year:04d}-Q{quarter}", ctx.reference_value, None


_SPELLED_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}


def _h_spelled_year(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    words = re.split(r"[\s-]+", s.lower())
    if "thousand" in words:
        rest = [w for w in words[words.index("thousand") + 1 :] if w != "and"]
        return "DATE", f"{2000 + sum(_NUMBER_WORDS.get(w, 0) for w in rest):04d}", None, None
    if words[:2] == ["the", "year"]:
        words = words[2:]
    century = _NUMBER_WORDS.get(words[0], 0)
    rest = words[1:]
    if not century or not rest:
        return None
    if rest[0] == "hundred":
        return "DATE", f"{century * 100:04d}", None, None
    total = sum(_SPELLED_TENS.get(w, _NUMBER_WORDS.get(w, 0)) for w in rest)
    return "DATE", f"{century * 100 + total:04d}", None, None


def _h_set(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    simple = {
        "daily": "P1D",
        "nightly": "P1D",
        "weekly": "P1W",
        "biweekly": "P2W",
        "monthly": "P1M",
        "yearly": "P1Y",
        "annually": "P1Y",
        "hourly": "PT1H",
        "quarterly": "P1Q",
        "semiannually": "P6M",
    }
    if lowered in simple:
        return "SET", simple[lowered], None, None
    part = re.search(r"\b(morning|afternoon|evening|night)s?\b", lowered)
    unit = _unit(s)
    if unit is None:
        if part:
            return "SET", f"XXXX-XX-XXT{_PARTS_OF_DAY[part.group(1)]}", None, None
        return None
    amount: float | None = 1.0
    m = re.search(r"\b(?:every|each|per)\s+(?:other\s+)?(.+)$", lowered)
    if m and _NUM_IN.match(m.group(1)) and not _UNIT_IN.match(m.group(1)):
        amount = _number(m.group(1))
    if "every other" in lowered:
        amount = 2.0
    return "SET", _duration_value(amount, unit), None, None


def _h_duration(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    unit = _unit(s)
    if unit is None:
        return None
    lowered = s.lower()
    if re.search(r"[\s-]old$", lowered):
        return None  # an age ("a 6-year-old boy"), not a time expression in TimeML
    amount = _number(
        re.sub(r"^(?:the|a|an|its|their|his|her)\s+(?=\S+\s)", "", lowered)
        if re.match(r"^(?:the|its|their|his|her)\s", lowered)
        else lowered
    )
    if amount is not None and re.search(r"\band\s+a\s+half\b", lowered) and amount == int(amount):
        amount += 0.5  # "two and a half years", "a minute and a half"
    # "a day" / "an hour" after a price or amount ("$5 a day", "24 hours a day") is a
    # rate, which TimeBank rarely annotates; "three-quarters of" is a fraction.
    if re.match(r"an?\s", lowered) and re.search(
        r"(?:\d|cents?|dollars?|times|once|twice|hours|days)\s*$",
        ctx.text[max(0, start - 20) : start],
        re.IGNORECASE,
    ):
        return None
    if unit[1] == "Q" and re.match(r"\s+of\b", ctx.text[end : end + 4]):
        return None
    if re.fullmatch(r"an?\s+second", lowered) and re.match(
        r"\s+(?!(?:later|earlier|ago|before|after|or|and|longer)\b)[A-Za-z0-9]",
        ctx.text[end : end + 12],
    ):
        return None  # "a second betrayal", "A second group": an ordinal, not a unit
    if (
        re.match(r"^(?:the|a|an)\s+\w+$", lowered)
        and amount == 1.0
        and re.match(r"^the\s", lowered)
    ):
        return None
    return "DURATION", _duration_value(amount, unit), None, None


def _h_vague_plural(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    if re.search(r"\brecent\s+(?:years|decades)\b", lowered):
        return "DATE", "PAST_REF", None, None  # a vague stretch of the past
    # "in recent weeks" is annotated like "the past few weeks": a vague duration.
    unit = _unit(s)
    if unit is None:
        return None
    return "DURATION", _duration_value(None, unit), None, None


def _easter(year: int) -> date:
    # Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year, month, monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _holiday(name: str, year: int) -> date:
    if "christmas eve" in name:
        return date(year, 12, 24)
    if "christmas" in name:
        return date(year, 12, 25)
    if "new year's eve" in name:
        return date(year, 12, 31)
    if "new year" in name:
        return date(year, 1, 1)
    if "thanksgiving" in name:
        return _nth_weekday(year, 11, 3, 4)
    if "easter" in name:
        return _easter(year)
    if "halloween" in name:
        return date(year, 10, 31)
    if "valentine" in name:
        return date(year, 2, 14)
    if "independence" in name:
        return date(year, 7, 4)
    if "election" in name:
        return _nth_weekday(year, 11, 0, 1) + timedelta(days=1)
    if "labor" in name:
        return _nth_weekday(year, 9, 0, 1)
    return _nth_weekday(year, 5, 0, -1)  # Memorial Day


def _h_holiday(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    ref = ctx.reference
    if ref is None:
        return None
    relation = _relation(lowered)
    direction = {"last": -1, "next": 1}.get(relation or "", 0) or _direction(ctx.text, start, end)
    this_year = _holiday(lowered, ref.year)
    if direction < 0 and this_year > ref:
        found = _holiday(lowered, ref.year - 1)
    elif direction > 0 and this_year < ref:
        found = _holiday(lowered, ref.year + 1)
    else:
        candidates = [_holiday(lowered, ref.year + k) for k in (-1, 0, 1)]
        found = min(candidates, key=lambda c: abs((c - ref).days))
    return "DATE", found.isoformat(), ctx.reference_value, None


def _h_ref(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    # TimeML annotates the temporal adjectives "current" and "recent" on their
    # own ("the current weakness", "the recent sale"), without the article.
    if lowered == "current":
        return "DATE", "PRESENT_REF", None, None
    if lowered == "recent":
        return "DATE", "PAST_REF", None, None
    if "future" in lowered:
        return "DATE", "FUTURE_REF", None, None
    if "soon" in lowered:
        return "DATE", "FUTURE_REF", None, None
    if re.search(r"recently|past|previously|formerly|to date", lowered):
        return "DATE", "PAST_REF", None, None
    return "DATE", "PRESENT_REF", None, None


_HANDLERS: dict[str, Callable[[str, int, int, _Context], _Result | None]] = {
    "iso": _h_iso,
    "numdate": _h_numdate,
    "clock_date": _h_clock_date,
    "date": _h_date,
    "month_year": _h_month_year,
    "month": _h_month,
    "clock": _h_clock,
    "quarter": _h_quarter,
    "half": _h_half,
    "fiscal_code": _h_fiscal_code,
    "decade": _h_decade,
    "century": _h_century,
    "year": _h_year,
    "season": _h_season,
    "relday": _h_relday,
    "thispart": _h_thispart,
    "weekday": _h_weekday,
    "ago": _h_ago,
    "relunit": _h_relunit,
    "this_year_mod": _h_this_year_mod,
    "set": _h_set,
    "year_end": _h_year_end,
    "fin_period": _h_fin_period,
    "spelled_year": _h_spelled_year,
    "duration": _h_duration,
    "vague_plural": _h_vague_plural,
    "holiday": _h_holiday,
    "ref": _h_ref,
}


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def _alone_on_line(text: str, start: int, end: int) -> bool:
    """A dateline ("December 28, 2021" on its own line) dates the article, not an event."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    return not text[line_start:start].strip() and not text[end:line_end].strip(" .,")


# Words that look like time expressions but name something else here:
# "the Communist Party daily Granma" (a newspaper), "the March for Life" (an
# event), "High Noon" (an idiom), "in his 30s" (an age).
_NEWSPAPER_DAILY = re.compile(r"(?i:daily)$")
_MONTH_AS_NOUN_AFTER = re.compile(r"\s+(?:for|of|on|against)\s+(?:the\s+)?[A-Z]")
_HIGH_NOON = re.compile(r"(?i:high\s+)$")
_AGE_BEFORE = re.compile(r"(?i:\b(?:his|her|their|my|your|our)\s+(?:early\s+|mid-?|late\s+)?)$")
_DECADE_ONLY = re.compile(r"(?:early\s+|mid-?|late\s+)?'?\d0s$", re.IGNORECASE)


def _not_a_time(text: str, start: int, end: int) -> bool:
    surface = text[start:end]
    before, after = text[max(0, start - 20) : start], text[end : end + 30]
    if _NEWSPAPER_DAILY.match(surface) and re.match(r"\s+[A-Z]", after):
        return True
    if surface == "March" and _MONTH_AS_NOUN_AFTER.match(after):
        return True
    if surface.lower() == "noon" and _HIGH_NOON.search(before):
        return True
    return bool(_DECADE_ONLY.match(surface) and _AGE_BEFORE.search(before))


def tag_times(text: str, reference: str | date | datetime | None = None) -> list[TimeExpression]:
    """Every time expression in `text`, normalised against `reference` (the publication date).

    Never raises: an expression whose value cannot be computed gets a TIMEX3
    value with "X" placeholders, and text that is not a string gives [].
    """
    if not isinstance(text, str) or not text:
        return []
    ctx = _Context(text=text, reference=parse_reference(reference))
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two; keep offsets aligned
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    candidates: dict[tuple[int, str], int] = {}  # (start, rule) -> end of the longest match

    def try_rules(position: int, rules: tuple[str, ...], leads: list[int]) -> None:
        for start in (position, *leads):
            for rule in rules if start != position else _AT_TRIGGER.get(rules, rules):
                m = _RULE_RES[rule].match(lowered, start)
                if m is not None and m.end() > position:
                    key = (start, rule)
                    if m.end() > candidates.get(key, -1):
                        candidates[key] = m.end()

    for m in _TRIGGER_RE.finditer(lowered):
        position = m.start()
        if position and lowered[position - 1].isalpha():
            continue
        try_rules(position, _TRIGGERS[m.group()], _lead_starts(lowered, position))
    for m in _DIGITS_RE.finditer(lowered):
        position = m.start()
        if position and (lowered[position - 1].isalnum() or lowered[position - 1] in ".,/:"):
            continue
        if position and lowered[position - 1] in "$£€#":
            continue
        rules = _digit_rules(lowered, m.end(), m.end() - position)
        if not rules:
            continue  # most numbers are amounts, not times
        if position and lowered[position - 1] == "'":  # "the '80s"
            leads = [position - 1, *_lead_starts(lowered, position - 1)]
        else:
            leads = _lead_starts(lowered, position)
        try_rules(position, rules, leads)

    ordered = sorted(
        candidates.items(), key=lambda item: (item[0][0], -item[1], _RULE_ORDER[item[0][1]])
    )
    found: list[TimeExpression] = []
    taken_until = 0
    for (start, rule), end in ordered:
        if start < taken_until:
            continue
        surface = text[start:end]
        if "\n" in surface:  # an expression does not run across lines
            surface = surface[: surface.index("\n")]
        surface = surface.rstrip(" ,-")
        end = start + len(surface)
        trimmed = _LEADING_DETERMINER.match(surface)
        if trimmed:
            start += trimmed.end()
            surface = text[start:end]
        if not surface or _not_a_time(text, start, end):
            continue
        try:
            result = _HANDLERS[rule](surface, start, end, ctx)
        except (ValueError, OverflowError, KeyError, IndexError, AttributeError, TypeError):
            result = None  # a value the calendar cannot hold: skip the expression, keep tagging
        if result is None:
            continue
        kind, value, anchor, flag = result
        if not TIMEX3_VALUE.match(value):
            value = {"DURATION": "PXD", "SET": "XXXX"}.get(kind, _unknown("day"))
        found.append(TimeExpression(surface, start, end, kind, value, anchor, flag))
        taken_until = end
        # A relative expression ("a year ago") does not become the anchor of the next one.
        if (
            kind in ("DATE", "TIME")
            and value[:1].isdigit()
            and (rule != "ago" or len(value) >= 10)
            and not _alone_on_line(text, start, end)
        ):
            point = _point_from_value(value)
            if point is not None:
                ctx.last_point = point
                if point.granularity == "day":
                    ctx.last_day = point
    return found
