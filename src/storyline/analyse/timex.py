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
from functools import lru_cache
from typing import TypeVar

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


@lru_cache(maxsize=512)
def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A compiled regex, memoised: a cheaper look-up per call than the `re` module's cache."""
    return re.compile(pattern, flags)


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
# A year in words, as broadcast transcripts write it: "nineteen ninety-four".
_SPELLED_YEAR = (
    r"(?:(?:nineteen|eighteen)[\s-]+(?:(?:twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen"
    r"|nineteen|hundred)|two\s+thousand(?:\s+and\s+(?:one|two|three|four|five"
    r"|six|seven|eight|nine|ten))?)\b"
)
# After a month or season: not a bare "two thousand" ("in May two thousand people").
_SPELLED_YEAR_AFTER = rf"(?!two\s+thousand\b(?!\s+and\b)){_SPELLED_YEAR}"
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
            rf"(?:\s+of)?,?\s+(?:{_YEAR}|{_SPELLED_YEAR_AFTER}|(?:last|this|next)\s+year\b)"
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
            # "the first two quarters of 1990" is that year's first half; without
            # a year, "the last two quarters" is a stretch of six months instead.
            rf"|(?:the\s+)?(?:first|last)\s+two\s+quarters\s+of\s+(?:"
            rf"(?:fiscal\s+)?{_YEAR}|this\s+year|last\s+year|next\s+year)"
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
            rf"|past|coming)\s+)?(?:spring|summer|autumn|winter|fall)(?:\s+of)?\s+"
            rf"(?:{_YEAR}|{_SPELLED_YEAR_AFTER})"
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
            r"(?:(?:(?:early|late|earlier|later)\s+)?(?:this|the|that)\s+(?:morning"
            r"|afternoon|evening)\b|mid-?\s?(?:morning|afternoon)\b)"
            r"(?:\s+(?:yesterday|today|tomorrow)\b)?"
        ),
    ),
    (
        # A day told relative to the one the narrative is on: "earlier that day",
        # "the same day", "the next morning".
        "anaphoric_day",
        (
            r"(?:(?:earlier|later)\s+that|the\s+(?:same|next|following|previous))\s+"
            r"(?:day|morning|afternoon|evening|night)\b"
        ),
    ),
    (
        "weekday",
        (
            rf"(?:(?:last|next|this|coming|past|every|each|(?:the\s+)?(?:previous"
            rf"|preceding|following))\s+)?(?:{_WEEKDAY})"
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
        (rf"(?:the\s+year\s+)?{_SPELLED_YEAR}"),
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
            r"|at\s+present\b|to\s+date\b|a\s+later\s+date\b"
            # "in the near term", "for the long term" (not "long-term debt")
            r"|the\s+(?:near|short|long)\s+term\b(?!-)"
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
    _TRIGGERS[_word] = _R_UNIT + (
        ("relday", "anaphoric_day")
        if _word == "night"
        else ("anaphoric_day",)
        if _word == "day"
        else ()
    )
    _TRIGGERS[_word + "s"] = _R_UNIT
_R_YEAR_UNIT = (*_R_UNIT, "year_end")  # "by year-end"
_TRIGGERS["year"] = _R_YEAR_UNIT
_TRIGGERS["centuries"] = _R_UNIT
_TRIGGERS["half"] = ("half",)
_TRIGGERS["quarters"] = (*_R_UNIT, "half")  # "the first two quarters of 1990"
for _word in ("q1", "q2", "q3", "q4", "h1", "h2", "fy"):
    _TRIGGERS[_word] = ("fiscal_code",)
# Rules that can match starting at the trigger word itself (the others need a
# lead word before it: "the past three years", "a year ago", "last week").
_AT_TRIGGER: dict[tuple[str, ...], tuple[str, ...]] = {
    _R_UNIT: ("vague_plural", "fin_period"),
    _R_YEAR_UNIT: ("vague_plural", "fin_period", "year_end"),
    (*_R_UNIT, "relday", "anaphoric_day"): ("vague_plural", "relday"),
    (*_R_UNIT, "anaphoric_day"): ("vague_plural", "fin_period"),
}
for _word in ("today", "yesterday", "tomorrow", "tonight", "overnight"):
    _TRIGGERS[_word] = ("relday",)
for _word in ("morning", "afternoon", "evening", "noon", "midnight", "midday"):
    _TRIGGERS[_word] = ("clock_date", "clock", "thispart", "relday", "set", "anaphoric_day")
for _word in (
    "now",
    "currently",
    "recently",
    "future",
    "past",
    "soon",
    "current",
    "recent",
    "nowadays",
    "present",
    "date",
    # Multi-word triggers: "being", "these" alone are frequent and never a time.
    "time being",
    "these days",
    "term",
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
    "new year's",  # not "new" alone: one of the commonest words in news
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


_Plan = tuple[tuple[tuple[str, re.Pattern[str]], ...], tuple[tuple[str, re.Pattern[str]], ...]]
_PLANS: dict[tuple[str, ...], _Plan] = {}


def _rule_plan(rules: tuple[str, ...]) -> _Plan:
    """The compiled rules to try at a trigger itself and at its lead words (memoised)."""
    plan = _PLANS.get(rules)
    if plan is None:
        at_trigger = tuple((rule, _RULE_RES[rule]) for rule in _AT_TRIGGER.get(rules, rules))
        with_lead = tuple((rule, _RULE_RES[rule]) for rule in rules)
        plan = _PLANS[rules] = (at_trigger, with_lead)
    return plan


# One scan finds both: a run of digits or a trigger word, not inside a word,
# an amount or a time ("$1990", "3.1990", "12:30").  One pass is a third faster
# than two; the scan runs on the text after one space and takes the character
# before each match as its first, which is faster than a look-behind.
_SCAN_RE = re.compile(rf"[^a-z0-9.,/:$£€#](?:\d+|(?:{_trie_pattern(sorted(_TRIGGERS))})(?![a-z]))")

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
    "until distant near foreseeable straight consecutive year half trading business that "
    "preceding short long"
) | frozenset(_NUMBER_WORDS)


_FRACTION = re.compile(r"\d/\d$")


# Word separators for the lead-word scan, all mapped to a space so that one
# `rfind` finds the previous word.
_SEPARATORS_TO_SPACE = str.maketrans("\n\t-", "   ")


def _lead_starts(lowered: str, position: int, spaced: str | None = None) -> list[int]:
    """Start offsets of the lead words just before `position`, nearest first.

    `spaced` is `lowered` with its separators as spaces (computed when absent).
    """
    if spaced is None:
        spaced = lowered.translate(_SEPARATORS_TO_SPACE)
    starts: list[int] = []
    cursor = position
    while len(starts) < 6 and cursor > 0 and spaced[cursor - 1] == " ":
        end = cursor - 1
        while end > 0 and lowered[end - 1] == " ":
            end -= 1
        window = max(0, end - 21)  # a lead word is short; never scan further back
        begin = spaced.rfind(" ", window, end) + 1
        if begin == 0 and window > 0:
            break
        word = lowered[begin:end].strip(".")
        if not word or end - begin > 20:
            break
        if (
            word in _LEAD_WORDS
            or (
                word[0].isdigit()  # numbers, fractions and ordinals: "3", "1/2", "3rd"
                and (
                    word.isdigit()
                    or _FRACTION.match(word)
                    or (word[-2:] in ("st", "nd", "rd", "th") and word[:-2].isdigit())
                )
            )
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

_DETERMINER_INITIALS = frozenset("ithomyaITHOMYA")  # first letters of those determiners

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
# After these a cue word is a noun ("the plan", "its start"), not a verb.
_DETERMINERS = _words("the a an its their his her our this that these those")


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


_CALENDAR_VALUE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?|-W(\d{2})|-Q([1-4])|-H([12]))?")


@lru_cache(maxsize=2048)  # the same few values recur through a text and a batch
def _point_from_value(value: str) -> _Point | None:
    """Parse a TIMEX3 calendar value back into a point (for anchoring)."""
    m = _CALENDAR_VALUE.match(value)
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
    m = _rx(r"^(\d{4})-?(\d{2})-?(\d{2})").match(text)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _rx(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})").match(text)
        if m:
            first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            day, month = (first, second) if second <= 12 else (second, first)
            return date(year, month, day)
        m = _rx(r"^(\d{4})-(\d{2})$").match(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------
# Context: tense cues and anchors
# --------------------------------------------------------------------------


_AFTER_STOP = re.compile(r"\s+(?=[A-Z\"'])")


def _sentence_left(text: str, start: int) -> str:
    """The part of the sentence before `start` (at most 160 characters)."""
    low = max(0, start - 160)
    cut = text.rfind("\n", low, start) + 1 or low
    # The nearest stop followed by spaces and a capital; found from the right
    # with `rfind`, far cheaper than scanning the window with a regex.
    right = start
    while True:
        stop = max(
            text.rfind(".", cut, right), text.rfind("!", cut, right), text.rfind("?", cut, right)
        )
        if stop < 0:
            return text[cut:start]
        after = _AFTER_STOP.match(text, stop + 1, start)
        if after is not None:
            return text[after.end() : start]
        right = stop


def _sentence_right(text: str, end: int) -> str:
    """The part of the sentence after `end` (at most 100 characters)."""
    m = _SENTENCE_END.search(text, end, end + 100)
    return text[end : m.start()] if m else text[end : end + 100]


_REPORTING = frozenset(
    ["said", "says", "told", "added", "reported", "announced", "noted", "stated"]
)


# Verbs of intent: what follows "agreed to", "decided to", "plans to" lies ahead
# of the deciding ("agreed to buy the unit in February", said in October).
_INTENT = _words(
    "agreed decided planned promised pledged vowed intended offered threatened hoped "
    "proposed voted sought wanted expected scheduled supposed set due prepared"
)


# Each cue word with its direction: one dictionary look-up per word.
_CUE_OF: dict[str, int] = {**dict.fromkeys(_PAST_CUES, -1), **dict.fromkeys(_FUTURE_CUES, 1)}

# Verbs whose object is an arrangement for later: what was "planned for March"
# or "planned a rally on Saturday" lies ahead of the planning, like "scheduled".
_ARRANGED = frozenset(["planned", "arranged"])
_ARRANGED_OBJECT = frozenset(["for", "a", "an"])

# Nouns as often as verbs of intent: "plans" is future only as "plans to";
# "vacation plans for the holiday", "the hope" say nothing about the tense.
_INTENT_NOUNS = frozenset(["plans", "plan", "hopes", "hope", "aims", "aim"])
_INTENT_COMPLEMENT = frozenset(["to"])


def _first_cue(words: list[str], reporting: bool = True, weak: bool = True) -> int:
    """The first strong cue among `words` (nearest first), else the first weak one.

    A weak cue is a regular past tense ("agreed"), unless a passive ("will be
    held") or an adjective in a compound ("much-anticipated").
    """
    weak_cue = 0
    last = len(words) - 1
    for i, word in enumerate(words):
        if not reporting and i > 1 and word in _REPORTING:
            continue  # "officials said talks resume in January": the saying is past, not January
        before = words[i + 1] if i < last else None
        if word in _INTENT and i > 0 and words[i - 1] == "to":
            # "decided to admit them in March" looks ahead; "had been scheduled to
            # expire Friday", "was expected to close Monday" look back on it.
            earlier = before in ("had", "was", "were") or (
                before == "been" and i + 2 < len(words) and words[i + 2] == "had"
            )
            return -1 if earlier else 1
        if word in _ARRANGED and i > 0 and words[i - 1] in _ARRANGED_OBJECT:
            return 1  # "planned a large demonstration on Saturday", "was planned for March"
        cue = _CUE_OF.get(word, 0)
        if cue and before in _DETERMINERS:
            cue = 0  # a noun: "announced the plan Aug. 21", "the start of talks"
        if cue and word in _INTENT_NOUNS and (i == 0 or words[i - 1] not in _INTENT_COMPLEMENT):
            cue = 0  # "vacation plans", "our hopes": a noun, not "plans to"
        if cue == 1:
            return 1
        if before in _PASSIVE_AUX:
            continue  # "will be held", "is heard", "be paid": the auxiliary further on decides
        if cue:
            return cue
        if not weak_cue and len(word) > 4 and word.endswith("ed") and "-" not in word:
            weak_cue = -1
    return weak_cue if weak else 0


# Before a date, these name the end or start of a state that the clause sets
# up ("loans through January", "an office created effective Feb. 1"): the
# tense of the clause tells when it was set up, not where the date lies.
_OPEN_ENDED_BEFORE = re.compile(r"\b(?:until|till|through|thru|effective)\s+$", re.IGNORECASE)


# An open-ended date this many days ahead of the publication date or fewer is
# taken as upcoming whatever the tense ("stayed until March" said in October
# stays in the past).
_OPEN_ENDED_AHEAD_DAYS = 120


def _weekday_direction(text: str, start: int, end: int) -> int:
    """Tense cue for a weekday: "until Friday" looks ahead unless a strong cue
    says otherwise ("postponed until Tuesday" is still to come; "Until Thursday,
    police had only a warrant" is not)."""
    if _OPEN_ENDED_BEFORE.search(text, max(0, start - 12), start):
        return _direction(text, start, end, weak=False) or 1
    if (
        text.startswith(("'s", "\u2019s"), end)
        and not _AHEAD_OF_BEFORE.search(text, max(0, start - 16), start)
        and not _PLAIN_FUTURE.search(_sentence_left(text, start))
        and _relation(text[start:end]) is None
    ):
        # A possessive weekday names an event as already known ("get around
        # Wednesday's ruling", "Friday's close"): the verbs around belong to
        # another clause, and "would" is a future seen from the past.  "ahead
        # of Sunday's vote" and "will be high in Sunday's vote" look forward.
        return -1
    return _direction(text, start, end)


_PLAIN_FUTURE = re.compile(r"\b(?:will|shall|won't)\b|'ll\b", re.IGNORECASE)
_AHEAD_OF_BEFORE = re.compile(
    r"\b(?:ahead\s+of|before|until|till|for|await|awaits|awaiting|upcoming)\s+$", re.IGNORECASE
)


def _date_direction(text: str, start: int, end: int, days_ahead: int | None = None) -> int:
    """Tense cue for a calendar date or month named without its year.

    `days_ahead`: how far the next such date lies after the reference.
    """
    if (
        days_ahead is not None
        and days_ahead <= _OPEN_ENDED_AHEAD_DAYS
        and _OPEN_ENDED_BEFORE.search(text, max(0, start - 12), start)
    ):
        return 1
    return _direction(text, start, end, reporting=False)


_FRONTING = _words("in on by since until during early late and but then also at so")


def _direction(text: str, start: int, end: int, reporting: bool = True, weak: bool = True) -> int:
    """+1 if the words around say the expression is after the reference, -1 before, 0 unknown.

    The closest strong cue (auxiliary, reporting verb, "ago", "scheduled") to
    the left in the same sentence decides, then one to the right, then a
    regular past tense on either side.
    """
    left = _WORD.findall(_sentence_left(text, start).lower())[-14:]
    left.reverse()  # nearest first; "before" of a word is the one after it in this list
    if left[:3] in (["as", "early", "as"], ["as", "soon", "as"]):
        return 1  # "as early as Tuesday": the earliest time something may still happen
    right = _WORD.findall(_sentence_right(text, end).lower())[:10]
    cue = _first_cue(left, reporting, weak)
    if cue:
        return cue
    if not reporting and all(word in _FRONTING for word in left):
        # A fronted expression ("In September, it announced plans") belongs to the
        # verb of the clause that follows, reporting verb or not.
        reporting = True
    weak_cue = 0
    last = len(right) - 1
    for i, word in enumerate(right):
        if not reporting and word in _REPORTING:
            continue
        passive = i > 0 and right[i - 1] in _PASSIVE_AUX
        if passive and word.endswith("ed"):
            continue
        cue = _CUE_OF.get(word, 0) if i == 0 or right[i - 1] not in _DETERMINERS else 0
        if cue and word in _INTENT_NOUNS and (i == last or right[i + 1] not in _INTENT_COMPLEMENT):
            cue = 0  # "when Albright set aside vacation plans": a noun
        if cue:
            return cue
        if (
            not weak_cue
            and not passive
            and len(word) > 4
            and word.endswith("ed")
            and "-" not in word
        ):
            weak_cue = -1
    return weak_cue if weak else 0


@dataclass(slots=True)
class _Context:
    text: str
    reference: date | None
    last_point: _Point | None = None  # the latest resolved calendar expression
    last_day: _Point | None = None  # the latest one precise to the day
    last_day_end: int = -1  # where that expression ends in the text
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
    words = _rx(r"[\s-]+").split(m.group("word").lower())
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


_Resolved = TypeVar("_Resolved")


def _decide(resolve: Callable[[int], _Resolved], cue: Callable[[], int]) -> _Resolved:
    """`resolve(direction)`, reading the tense cue (the costly part) only when
    the direction changes the answer: for about half of all dates it does not."""
    before, unknown, after = resolve(-1), resolve(0), resolve(1)
    if before == unknown == after:
        return unknown
    return {-1: before, 0: unknown, 1: after}[cue()]


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


def _days_ahead(ctx: _Context, month: int, day: int) -> int | None:
    """Days from the reference to the next `day` of `month` (None without a reference)."""
    ref = ctx.reference
    if ref is None:
        return None
    for year in (ref.year, ref.year + 1):
        found = _safe_date(year, month, day)
        if found is not None and found >= ref:
            return (found - ref).days
    return None


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


_RELATION_WORD = re.compile(
    r"\b(this|last|next|past|previous|preceding|coming|following|current|same|latest|recent)\b",
    re.IGNORECASE,
)


def _relation(text: str) -> str | None:
    m = _RELATION_WORD.search(text)
    return m.group(1).lower() if m else None


# --------------------------------------------------------------------------
# Rule handlers: (matched text, start, end, context) -> (type, value, anchor, flag) | None
# --------------------------------------------------------------------------

_Result = tuple[str, str, str | None, str | None]


def _h_iso(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    m = _rx(r"(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{1,2}):(\d{2})(?::(\d{2}))?)?").match(s)
    if not m or not _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))):
        return None
    day = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    if m.group(4):
        return "TIME", f"{day}T{int(m.group(4)):02d}:{m.group(5)}", None, None
    return "DATE", day, None, None


def _h_numdate(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    m = _rx(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?:\s+(\d{1,2}):(\d{2}))?").match(s)
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
    found = _decide(
        lambda direction: _resolve_month_day(ctx, month, day, direction, weekday),
        lambda: _date_direction(ctx.text, start, end, _days_ahead(ctx, month, day)),
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
    zone = "Z" if _rx(r"\b(?:UTC|GMT)\b").search(s) else ""
    if ctx.last_day is not None and start - ctx.last_day_end <= _NARRATIVE_REACH:
        # A clock time without a day belongs to the day the narrative is on:
        # "He was shot on Oct. 23. ... He died at 10 p.m."
        return "TIME", f"{ctx.last_day.value()}{clock}{zone}", ctx.last_day.value(), None
    day = ctx.reference.isoformat() if ctx.reference else "XXXX-XX-XX"
    return "TIME", f"{day}{clock}{zone}", ctx.reference_value, None


_LEADING_CLOCK = re.compile(rf"\s*\d{{1,2}}(?::\d{{2}})?\s*(?:{_AMPM})?", re.IGNORECASE)


def _h_clock_date(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    clock = _clock(s)
    if clock is None:
        return None
    zone = "Z" if _rx(r"\b(?:UTC|GMT)\b").search(s) else ""
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
        found = _decide(
            lambda direction: _resolve_weekday(ctx, weekday, None, direction),
            lambda: _weekday_direction(ctx.text, start, end),
        )
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
    year = _year_of(s) or _spelled_year_of(s)
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
    if _rx(r"\b(?:each|every)\b").search(lowered):
        return "SET", f"XXXX-{month:02d}", None, None
    # An abbreviation alone ("Jan", "Mar") is too ambiguous to tag.
    if not _rx(_MONTH_FULL, re.IGNORECASE).search(s) and not _rx(
        r"\b(?:this|last|next|coming|past)\b"
    ).search(lowered):
        return None
    relation = _relation(lowered)
    days_ahead = 30 * ((month - ctx.reference.month) % 12) if ctx.reference else None
    year = _decide(
        lambda direction: _resolve_month(ctx, month, relation, direction),
        lambda: _date_direction(ctx.text, start, end, days_ahead),
    )
    if year is None:
        return "DATE", f"XXXX-{month:02d}", None, None
    return "DATE", f"{year:04d}-{month:02d}", ctx.reference_value, None


def _quarter_number(lowered: str, ref: date | None) -> tuple[int | None, bool]:
    """Quarter number named in the text, and whether it is the latest completed one."""
    ordinal = _ORDINAL_QUARTER_RE.search(lowered)
    if ordinal:
        number = _ORDINALS[ordinal.group(1)]
        return (number if number <= 4 else None), False
    if _rx(r"\b(?:final|last)[- ]+(?:fiscal[- ]+)?quarter").search(lowered) and not _rx(
        r"\b(?:the\s+)?last\s+quarter"
    ).search(lowered.split("quarter")[0][-6:] + "quarter"):
        return 4, False
    if _rx(r"\bcurrent\b").search(lowered):
        return ((ref.month - 1) // 3 + 1) if ref else None, False
    return None, True


def _h_quarter(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    if ctx.text[end : end + 1] == "-" or _rx(r"an?\s+quarter").fullmatch(lowered):
        # "quarter-century", "quarter-to-quarter", "a quarter of the market":
        # a fraction or a compound, not a calendar quarter.
        return None
    ref = ctx.reference
    year = _year_of(s)
    number, latest = _quarter_number(lowered, ref)
    relation = None
    if _rx(r"\b(?:last|previous)\s+quarter\b").search(lowered) and not _rx(
        r"\b(?:the\s+)?(?:final)"
    ).search(lowered):
        relation = "last"
        number, latest = None, False
    elif _rx(r"\bnext\s+quarter\b").search(lowered):
        relation = "next"
        number, latest = None, False
    elif _rx(r"\bthis\s+quarter\b").search(lowered):
        relation = "this"
        number, latest = None, False
    back = (
        1
        if _rx(r"year-earlier|year-ago|a\s+year\s+(?:ago|earlier)|comparable|last\s+year").search(
            lowered
        )
        else 0
    )
    back = back or (1 if _rx(r"\blast\s+year").search(lowered) else 0)
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
        if _rx(r"\bnext\s+year").search(lowered):
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
    digits = _rx(r"(\d{4}|\d\d)\s*$").search(lowered)
    code = _rx(r"([qh])([1-4])").match(lowered)
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
    m = _rx(r"((?:1[0-9]|20)\d)0s").search(lowered)
    if m:
        return "DATE", m.group(1), None, None
    m = _rx(r"(?<![\d])'?(\d)0s").search(lowered)
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
    m = _rx(r"(\d{1,2})(?:st|nd|rd|th)").search(s)
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
    if _rx(
        r"\s*(?:[-–]\s*\d{1,2}\b(?!\s*(?:[-/]))|(?:people|shares|points"
        r"|units|barrels|tons|cars|jobs|employees|workers|troops|feet|meters"
        r"|miles|pages|copies|dollars|votes|seats|tonnes|kilometers|kilometres)\b)",
        re.IGNORECASE,
    ).match(following) and not _rx(r"\s*[-–]\s*\d{2}\b").match(following):
        return None
    if (
        _rx(
            r"(?:[$£€#]|\bNo\.|\bnumber|\broute|\bflight|\bmodel|\bitem)\s*$", re.IGNORECASE
        ).search(preceding)
        and "model year" not in s.lower()
    ):
        return None
    if (
        not _rx(
            r"(?:fiscal|calendar|model|the|early|late|mid|end|beginning|start|middle)",
            re.IGNORECASE,
        ).match(s)
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
    year = _year_of(s) or _spelled_year_of(s)
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


# How far back (in characters) a day told in the narrative still anchors "the morning".
_NARRATIVE_REACH = 400


def _h_thispart(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    part = _PART_IN.search(s)
    if part is None:
        return None
    lowered = s.lower()
    base, anchor = ctx.reference, ctx.reference_value
    if "yesterday" in lowered or "tomorrow" in lowered:
        # "mid-afternoon yesterday"
        shift = -1 if "yesterday" in lowered else 1
        base = base + timedelta(days=shift) if base else None
    elif (
        _rx(r"(?:(?:early|late|earlier|later)\s+)?(?:the|that)\s").match(lowered)
        and "today" not in lowered
        and ctx.last_day is not None
        and start - ctx.last_day_end <= _NARRATIVE_REACH
    ):
        # "this morning" is the publication day; "the morning" / "that evening"
        # follow the narrative: "stocks fell Friday. Dealers bought in the morning".
        base, anchor = ctx.last_day.day, ctx.last_day.value()
    day = base.isoformat() if base else "XXXX-XX-XX"
    return "TIME", f"{day}T{_PARTS_OF_DAY[part.group(1).lower()]}", anchor, None


def _h_anaphoric_day(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    anchor: str | None
    if ctx.last_day is not None and start - ctx.last_day_end <= 2 * _NARRATIVE_REACH:
        base, anchor = ctx.last_day.day, ctx.last_day.value()
    elif ctx.reference is not None:
        base, anchor = ctx.reference, ctx.reference_value
    else:
        return "DATE", "XXXX-XX-XX", None, None
    shift = 1 if _rx(r"\b(?:next|following)\b").search(lowered) else 0
    shift = -1 if _rx(r"\bprevious\b").search(lowered) else shift
    day = (base + timedelta(days=shift)).isoformat()
    part = _PART_IN.search(lowered)
    if part is not None and part.group(1) != "night":
        return "TIME", f"{day}T{_PARTS_OF_DAY[part.group(1)]}", anchor, None
    return "DATE", day, anchor, None


_DAY_AROUND_BEFORE = re.compile(r"\bday\s+(before|after)\s+$", re.IGNORECASE)


def _h_weekday(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    weekday = _weekday_of(s)
    if weekday is None:
        return None
    lowered = s.lower()
    part = _PART_IN.search(lowered)
    if _rx(r"\b(?:every|each)\b").search(lowered) or _rx(
        r"days\b|(?:nights|mornings|afternoons|evenings)\b"
    ).search(lowered):
        suffix = f"T{_PARTS_OF_DAY[part.group(1)]}" if part else ""
        return "SET", f"XXXX-WXX-{weekday + 1}{suffix}", None, None
    relation = _relation(lowered)
    anchor = ctx.reference_value
    if relation in ("previous", "preceding", "following") and ctx.last_day is not None:
        # "down 4.5% from the previous Friday": the one before the day just told.
        base = ctx.last_day.day
        if relation == "following":
            found: date | None = base + timedelta(days=(weekday - base.weekday()) % 7 or 7)
        else:
            found = base - timedelta(days=(base.weekday() - weekday) % 7 or 7)
        anchor = base.isoformat()
    else:
        found = _decide(
            lambda direction: _resolve_weekday(ctx, weekday, relation, direction),
            lambda: _weekday_direction(ctx.text, start, end),
        )
    if found is None:
        return "DATE", f"XXXX-WXX-{weekday + 1}", None, None
    day_around = _DAY_AROUND_BEFORE.search(ctx.text, max(0, start - 20), start)
    if day_around is not None:
        # "the day before last Tuesday's hearing" is the Monday.
        found += timedelta(days=-1 if day_around.group(1).lower() == "before" else 1)
    # TimeBank annotates "Friday morning" as the DATE of that Friday, and
    # "Friday night" / "evening" with the part of day.
    if part is not None and part.group(1) in ("evening", "night"):
        return (
            "DATE",
            f"{found.isoformat()}T{_PARTS_OF_DAY[part.group(1)]}",
            anchor,
            None,
        )
    return "DATE", found.isoformat(), anchor, None


def _h_ago(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    unit = _unit(s)
    if unit is None:
        return None
    granularity = unit[0]
    amount = _number(s)
    if _rx(r"\b(?:before|after)\s*$").search(lowered):
        # "two days after" needs the event it is relative to: only the duration is known.
        return None
    sign = -1 if _rx(r"\b(?:ago|earlier|before|previously)\b").search(lowered) else 1
    anaphoric = bool(_rx(r"\b(?:earlier|later|before|after)\b").search(lowered))
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
    unit_match = _rx(r"(week|weekend|month|year|decade|century)\b").search(lowered)
    if unit_match is None:
        return None
    unit_name = unit_match.group(1)
    relation = _relation(lowered)
    if relation is None and _rx(r"\bthat\b").search(lowered):
        if ctx.text[end : end + 1] == "-":
            return None  # "said that year-end results": "that" is the conjunction
        relation = "same"  # "later that year": the year of the event just told
    relation = relation or "this"
    granularity = {"weekend": "week"}.get(unit_name, unit_name)
    if (
        relation in ("past", "last")
        and _rx(r"\bthe\s+(?:past|last)\b").search(lowered)
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
    if unit_name == "decade" and relation in ("past", "last") and _rx(r"\bthe\b").search(lowered):
        return "DURATION", "P10Y", base.value(), None
    shifted = _shift(base.day, step, granularity)
    value = _Point(shifted, granularity).value()
    if unit_name == "weekend":
        value += "-WE"
    return "DATE", value, base.value(), None


def _h_this_year_mod(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    unit = _rx(r"(year|month|weekend|week|day)\b").search(lowered)
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
    if _rx(r"the\s+(?:full\s+|calendar\s+|fiscal\s+)?year").fullmatch(lowered):
        # "for the year ended Sept. 30" is a span; "sales for the year" the current one.
        if _rx(r"\s+(?:ended|ending|to|through)\b").match(ctx.text[end : end + 12]):
            return "DURATION", "P1Y", None, None
        if ctx.reference is None:
            return "DATE", "XXXX", None, None
        return "DATE", f"{ctx.reference.year:04d}", ctx.reference_value, None
    if _rx(r"\b(?:end|beginning|start|middle|full|calendar)\b").search(lowered):
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
    if _rx(r"\b(?:month|week)\b").search(lowered) and _rx(r"year|ago|earlier").search(lowered):
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
            1 if _rx(r"year-earlier|year-ago|comparable").search(lowered) else 0
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


_SPELLED_YEAR_IN = re.compile(_SPELLED_YEAR, re.IGNORECASE)


def _spelled_year_of(text: str) -> int | None:
    """The year written in words in `text` ("nineteen ninety-four" -> 1994)."""
    found = _SPELLED_YEAR_IN.search(text)
    if found is None:
        return None
    words = _rx(r"[\s-]+").split(found.group(0).lower())
    if "thousand" in words:
        rest = [w for w in words[words.index("thousand") + 1 :] if w != "and"]
        return 2000 + sum(_NUMBER_WORDS.get(w, 0) for w in rest)
    century = _NUMBER_WORDS.get(words[0], 0)
    rest = words[1:]
    if not century or not rest:
        return None
    if rest[0] == "hundred":
        return century * 100
    return century * 100 + sum(_SPELLED_TENS.get(w, _NUMBER_WORDS.get(w, 0)) for w in rest)


def _h_spelled_year(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    if _rx(r"two\s+thousand", re.IGNORECASE).fullmatch(s) and _rx(r"\s+[A-Za-z]").match(
        ctx.text[end : end + 2]
    ):
        return None  # "two thousand people": a count
    year = _spelled_year_of(s)
    return None if year is None else ("DATE", f"{year:04d}", None, None)


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
    part = _rx(r"\b(morning|afternoon|evening|night)s?\b").search(lowered)
    unit = _unit(s)
    if unit is None:
        if part:
            return "SET", f"XXXX-XX-XXT{_PARTS_OF_DAY[part.group(1)]}", None, None
        return None
    amount: float | None = 1.0
    m = _rx(r"\b(?:every|each|per)\s+(?:other\s+)?(.+)$").search(lowered)
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
    if _rx(r"[\s-]old$").search(lowered):
        return None  # an age ("a 6-year-old boy"), not a time expression in TimeML
    amount = _number(
        _rx(r"^(?:the|a|an|its|their|his|her)\s+(?=\S+\s)").sub("", lowered)
        if _rx(r"^(?:the|its|their|his|her)\s").match(lowered)
        else lowered
    )
    if amount is not None and _rx(r"\band\s+a\s+half\b").search(lowered) and amount == int(amount):
        amount += 0.5  # "two and a half years", "a minute and a half"
    # "a day" / "an hour" after a price or amount ("$5 a day", "24 hours a day") is a
    # rate, which TimeBank rarely annotates; "three-quarters of" is a fraction.
    if _rx(r"an?\s").match(lowered) and _rx(
        r"(?:\d|cents?|dollars?|times|once|twice|hours|days)\s*$", re.IGNORECASE
    ).search(ctx.text[max(0, start - 20) : start]):
        return None
    if unit[1] == "Q" and _rx(r"\s+of\b").match(ctx.text[end : end + 4]):
        return None
    if _rx(r"an?\s+second").fullmatch(lowered) and _rx(
        r"\s+(?!(?:later|earlier|ago|before|after|or|and|longer)\b)[A-Za-z0-9]"
    ).match(ctx.text[end : end + 12]):
        return None  # "a second betrayal", "A second group": an ordinal, not a unit
    if (
        _rx(r"^(?:the|a|an)\s+\w+$").match(lowered)
        and amount == 1.0
        and _rx(r"^the\s").match(lowered)
    ):
        return None
    return "DURATION", _duration_value(amount, unit), None, None


def _h_vague_plural(s: str, start: int, end: int, ctx: _Context) -> _Result | None:
    lowered = s.lower()
    if _rx(r"\brecent\s+(?:years|decades)\b").search(lowered):
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
    if "future" in lowered or "term" in lowered or "later" in lowered:
        return "DATE", "FUTURE_REF", None, None
    if "soon" in lowered:
        return "DATE", "FUTURE_REF", None, None
    if _rx(r"recently|past|previously|formerly|to date").search(lowered):
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
    "anaphoric_day": _h_anaphoric_day,
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
    # Walk outwards only while the line holds nothing else: usually one step.
    i = start
    while i > 0 and text[i - 1] != "\n":
        if not text[i - 1].isspace():
            return False
        i -= 1
    j, size = end, len(text)
    while j < size and text[j] != "\n":
        if text[j] not in " .,":
            return False
        j += 1
    return True


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
    if surface[-2:].lower() not in ("ly", "ch", "on", "0s"):
        return False  # none of the cases below: "daily", "March", "noon", "30s"
    before, after = text[max(0, start - 20) : start], text[end : end + 30]
    if _NEWSPAPER_DAILY.match(surface) and _rx(r"\s+[A-Z]").match(after):
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
    spaced = lowered.translate(_SEPARATORS_TO_SPACE)
    candidates: dict[tuple[int, str], int] = {}  # (start, rule) -> end of the longest match

    def try_rules(position: int, rules: tuple[str, ...], leads: list[int]) -> None:
        at_trigger, with_lead = _rule_plan(rules)
        for rule, pattern in at_trigger:
            m = pattern.match(lowered, position)
            if m is not None:
                found_end = m.end()
                if found_end > position and found_end > candidates.get((position, rule), -1):
                    candidates[(position, rule)] = found_end
        for start in leads:
            for rule, pattern in with_lead:
                m = pattern.match(lowered, start)
                if m is not None:
                    found_end = m.end()
                    if found_end > position and found_end > candidates.get((start, rule), -1):
                        candidates[(start, rule)] = found_end

    for m in _SCAN_RE.finditer(" " + lowered):
        # Offsets in `lowered`: the match starts one character before the word.
        position = m.start()
        previous = m.group()[0]
        if previous.isalpha():
            continue  # inside a word (the scan excludes ASCII letters only)
        word = m.group()[1:]
        if not word[0].isdigit():
            if word == "may" and text[position] == "m":
                continue  # the modal verb; the month is written "May"
            try_rules(position, _TRIGGERS[word], _lead_starts(lowered, position, spaced))
            continue
        if previous.isdigit():
            continue
        rules = _digit_rules(lowered, m.end() - 1, len(word))
        if not rules:
            continue  # most numbers are amounts, not times
        if previous == "'":  # "the '80s"
            leads = [position - 1, *_lead_starts(lowered, position - 1, spaced)]
        else:
            leads = _lead_starts(lowered, position, spaced)
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
        if "\n" in surface:
            # An expression does not run across lines, and the rule's handler expects
            # the whole match ("Friday\nSeptember 18"): a shorter candidate takes over.
            continue
        surface = surface.rstrip(" ,-")
        end = start + len(surface)
        trimmed = (
            _LEADING_DETERMINER.match(surface) if surface[:1] in _DETERMINER_INITIALS else None
        )
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
                    ctx.last_day_end = end
    return found
