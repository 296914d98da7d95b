"""Temporal tagger: extents, types and TIMEX3 values against a publication date."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storyline.analyse.timex import TIMEX3_VALUE, TimeExpression, parse_reference, tag_times

DCT = "2021-12-28"  # a Tuesday


def only(text: str, reference: str | date | None = DCT) -> TimeExpression:
    found = tag_times(text, reference)
    assert len(found) == 1, found
    return found[0]


def values(text: str, reference: str | date | None = DCT) -> dict[str, str]:
    return {e.text: e.value for e in tag_times(text, reference)}


def test_weekday_with_date_in_brackets_is_the_past_monday() -> None:
    text = "A White House official told AFP Monday (27 December) that talks would go ahead."
    e = only(text)
    assert e.text == "Monday (27 December)"
    assert text[e.start : e.end] == e.text
    assert (e.type, e.value, e.flag) == ("DATE", "2021-12-27", None)


def test_scheduled_day_month_rolls_into_next_year() -> None:
    e = only("Bilateral talks are scheduled for 10 January, the spokesperson said.")
    assert (e.text, e.value) == ("10 January", "2022-01-10")
    assert e.anchor == DCT


def test_last_june_and_this_month() -> None:
    assert values("They met at their summit in Geneva last June.") == {"last June": "2021-06"}
    assert values("Russia made its security demands this month.") == {"this month": "2021-12"}


def test_month_alone_follows_tense() -> None:
    assert values("The two sides will hold talks in January.") == {"January": "2022-01"}
    assert values("The two sides held talks in March.") == {"March": "2021-03"}


def test_two_days_later_is_anchored_on_the_previous_date() -> None:
    found = tag_times(
        "The summit opened on 16 June 2021. Two days later, the leaders left Geneva.", DCT
    )
    assert [e.value for e in found] == ["2021-06-16", "2021-06-18"]
    assert found[1].text == "Two days later"
    assert found[1].anchor == "2021-06-16"


def test_a_repeated_day_keeps_the_year_it_was_given() -> None:
    text = "The summit on 16 June 2021 was tense. Biden and Putin meet in Geneva on 16 June."
    assert [e.value for e in tag_times(text, DCT)] == ["2021-06-16", "2021-06-16"]


def test_a_dateline_is_not_the_anchor_of_two_days_later() -> None:
    text = (
        "US and Russia to hold talks on January 10\n\nDecember 28, 2021\n\n"
        "Talks between NATO and Russia are expected two days later."
    )
    found = tag_times(text, DCT)
    assert [(e.text, e.value) for e in found] == [
        ("January 10", "2022-01-10"),
        ("December 28, 2021", "2021-12-28"),
        ("two days later", "2022-01-12"),
    ]


def test_relative_expressions_in_the_financial_style() -> None:
    text = "Third-quarter profit rose 5%, compared with a loss a year earlier."
    assert values(text, "1989-10-26") == {"Third-quarter": "1989-Q3", "a year earlier": "1988-Q3"}
    assert values("Sales for the year ended Sept. 30 rose.", "1989-10-26")["the year"] == "P1Y"


def test_inconsistent_weekday_and_date_keeps_the_date_and_flags_it() -> None:
    # 28 December 2021 is a Tuesday, not a Friday.
    e = only("The meeting took place on Friday, 28 December 2021 in Vienna.")
    assert e.value == "2021-12-28"
    assert e.flag == "weekday-mismatch"


def test_weekday_decides_the_year_of_a_date_without_one() -> None:
    # 26 October was a Monday in 1987, not in 1989.
    e = only("The newspaper said in an editorial on Monday, Oct. 26, that", "1989-10-30")
    assert e.value == "1989-10-26" or e.flag == "weekday-mismatch"


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("It happened on December 27, 2021.", DCT, ("December 27, 2021", "DATE", "2021-12-27")),
        ("It happened on Dec. 27 in Kyiv.", DCT, ("Dec. 27", "DATE", "2021-12-27")),
        ("Filed 2021-12-27 by the clerk.", DCT, ("2021-12-27", "DATE", "2021-12-27")),
        ("Filed 12/27/2021 by the clerk.", DCT, ("12/27/2021", "DATE", "2021-12-27")),
        (
            "Profit rose in the fourth quarter.",
            "1989-10-26",
            ("the fourth quarter", "DATE", "1989-Q4"),
        ),
        ("Sales in fiscal 1998 rose.", DCT, ("fiscal 1998", "DATE", "1998")),
        ("Prices doubled in the 1990s.", DCT, ("the 1990s", "DATE", "199")),
        ("He said yesterday that he would go.", DCT, ("yesterday", "DATE", "2021-12-27")),
        ("We will know tomorrow.", DCT, ("tomorrow", "DATE", "2021-12-29")),
        ("Prices rose last year.", DCT, ("last year", "DATE", "2020")),
        ("Orders fell last week.", DCT, ("last week", "DATE", "2021-W51")),
        ("The plan starts next month.", DCT, ("next month", "DATE", "2022-01")),
        ("He was elected three years ago.", DCT, ("three years ago", "DATE", "2018")),
        (
            "Prices fell over the past three years.",
            DCT,
            ("the past three years", "DURATION", "P3Y"),
        ),
        ("He signed a two-year contract.", DCT, ("two-year", "DURATION", "P2Y")),
        ("The talks lasted three days.", DCT, ("three days", "DURATION", "P3D")),
        ("It has existed for more than 10 years.", DCT, ("more than 10 years", "DURATION", "P10Y")),
        ("The strike lasted 48 hours.", DCT, ("48 hours", "DURATION", "PT48H")),
        ("The vote is at 3 p.m. today.", DCT, ("3 p.m. today", "TIME", "2021-12-28T15:00")),
        ("The market opened at 07:19.", DCT, ("07:19", "TIME", "2021-12-28T07:19")),
        ("He spoke this morning.", DCT, ("this morning", "TIME", "2021-12-28TMO")),
        ("The board meets every Monday.", DCT, ("every Monday", "SET", "XXXX-WXX-1")),
        ("Dividends are paid annually.", DCT, ("annually", "SET", "P1Y")),
        ("The index is now at a record.", DCT, ("now", "DATE", "PRESENT_REF")),
        ("Talks may resume in the future.", DCT, ("the future", "DATE", "FUTURE_REF")),
        ("It was recently announced.", DCT, ("recently", "DATE", "PAST_REF")),
        ("Revenue rose in Q4 2021.", DCT, ("Q4 2021", "DATE", "2021-Q4")),
        ("It expects FY2022 growth.", DCT, ("FY2022", "DATE", "2022")),
        ("Doors open at 7.30pm.", DCT, ("7.30pm", "TIME", "2021-12-28T19:30")),
        ("Growth slowed in the '80s.", DCT, ("the '80s", "DATE", "198")),
        ("He spent 2 1/2 years abroad.", DCT, ("2 1/2 years", "DURATION", "P2Y6M")),
        ("It was first sold in nineteen ninety-six.", DCT, ("nineteen ninety-six", "DATE", "1996")),
        ("Shops closed over the weekend.", DCT, ("the weekend", "DATE", "2021-W51-WE")),
    ],
)
def test_expression_kinds(text: str, reference: str, expected: tuple[str, str, str]) -> None:
    e = only(text, reference)
    assert (e.text, e.type, e.value) == expected
    assert text[e.start : e.end] == e.text


def test_ages_and_amounts_are_not_time_expressions() -> None:
    assert tag_times("A 6-year-old boy paid $1998 for 2000 shares.", DCT) == []


def test_may_the_modal_verb_is_not_a_month() -> None:
    assert tag_times("Prices may fall, analysts said.", DCT) == []
    assert values("Prices fell in May.") == {"May": "2021-05"}


def test_without_reference_relative_values_use_placeholders() -> None:
    found = values("He arrived yesterday and will leave on 10 January, not last year.", None)
    assert found == {"yesterday": "XXXX-XX-XX", "10 January": "XXXX-01-10", "last year": "XXXX"}


def test_reference_forms() -> None:
    assert parse_reference("2021-12-28T07:19:00+01:00") == date(2021, 12, 28)
    assert parse_reference(datetime(2021, 12, 28, 7, 19)) == date(2021, 12, 28)
    assert parse_reference("28-12-2021") == date(2021, 12, 28)
    assert parse_reference("not a date") is None
    assert values("talks on 10 January", date(2021, 12, 28)) == {"10 January": "2022-01-10"}


def test_offsets_survive_characters_that_lowercase_to_two() -> None:
    text = "İstanbul talks resumed on 10 January."
    e = only(text)
    assert text[e.start : e.end] == "10 January"


_REFERENCES = st.one_of(
    st.none(),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.text(max_size=25),
    st.dates().map(date.isoformat),
)
_TIMEY_WORDS = st.sampled_from(
    [
        "today",
        "yesterday",
        "tomorrow",
        "Monday",
        "Friday",
        "January",
        "May",
        "December",
        "last",
        "next",
        "this",
        "ago",
        "later",
        "earlier",
        "year",
        "years",
        "month",
        "week",
        "weekend",
        "quarter",
        "decade",
        "century",
        "two",
        "three",
        "a",
        "10",
        "1998",
        "2021",
        "31",
        "29",
        "Feb.",
        "3",
        "p.m.",
        "12:30",
        "noon",
        "every",
        "annually",
        "fiscal",
        "the",
        "past",
        "future",
        "now",
        "1990s",
        "'90s",
        "99/99/9999",
        "0000-00-00",
        "9999-12-31",
        "first",
        "fourth",
        "half",
        "summer",
        "fall",
        "Christmas",
        "Easter",
        "morning",
        "night",
        "1/2",
        "hours",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.lists(st.one_of(_TIMEY_WORDS, st.text(max_size=6)), max_size=30).map(" ".join),
    ),
    reference=_REFERENCES,
)
def test_never_raises_and_values_are_timex3(text: str, reference: object) -> None:
    for e in tag_times(text, reference):  # type: ignore[arg-type]
        assert TIMEX3_VALUE.match(e.value), e
        assert e.type in {"DATE", "TIME", "DURATION", "SET"}
        assert 0 <= e.start < e.end <= len(text)
        assert text[e.start : e.end] == e.text


# Direction from the sentence: intent verbs, passives, fronted expressions, no cue.
@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        # "agreed to sell ... in February": the sale lies ahead of the agreeing.
        ("The company agreed to sell the unit in February.", DCT, ("February", "2022-02")),
        # ... unless the plan itself is told in the past perfect.
        (
            "The offer had been scheduled to expire on Friday.",
            "2021-12-27",
            ("Friday", "2021-12-24"),
        ),
        # A passive participle ("is heard") is not a past tense.
        ("The case is heard in March, a court clerk said.", DCT, ("March", "2022-03")),
        # A fronted expression belongs to the verb that follows it.
        ("In September, the firm announced plans to expand.", DCT, ("September", "2021-09")),
        # No cue at all: news tilts to the past for a month five ahead / seven back.
        ("Shares hit a high of $42 in May.", DCT, ("May", "2021-05")),
        ("Shares hit a record on Aug. 6.", "2022-02-06", ("Aug. 6", "2021-08-06")),
        # "as early as Thursday" looks ahead whatever the reporting verb says.
        (
            "He could arrive as early as Thursday, officials said.",
            "2021-12-27",
            ("Thursday", "2021-12-30"),
        ),
    ],
)
def test_direction_cues(text: str, reference: str, expected: tuple[str, str]) -> None:
    e = only(text, reference)
    assert (e.text, e.value) == expected


def test_temporal_adjectives_current_and_recent() -> None:
    found = values("The current slowdown follows the recent sale of the unit.")
    assert found == {"current": "PRESENT_REF", "recent": "PAST_REF"}
    assert (
        tag_times("It sold the most recent model and cut the current account deficit.", DCT) == []
    )


def test_recent_weeks_is_a_vague_duration_and_recent_years_a_past_reference() -> None:
    e = only("Prices fell in recent weeks.")
    assert (e.text, e.type, e.value) == ("recent weeks", "DURATION", "PXW")
    assert values("Prices fell in recent years.") == {"recent years": "PAST_REF"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The deal should close by year-end.", ("year-end", "DATE", "2021")),
        ("The deal should close by year's end.", ("year's end", "DATE", "2021")),
        ("It took two and a half years.", ("two and a half years", "DURATION", "P2Y6M")),
        ("It ended a minute and a half later.", ("a minute and a half", "DURATION", "PT1M30S")),
        ("Prices will soon rise.", ("soon", "DATE", "FUTURE_REF")),
        (
            "Stocks fell for the past five trading days.",
            ("the past five trading days", "DURATION", "P5D"),
        ),
    ],
)
def test_more_expression_kinds(text: str, expected: tuple[str, str, str]) -> None:
    e = only(text)
    assert (e.text, e.type, e.value) == expected


def test_ordinal_second_and_conjunction_that_are_not_times() -> None:
    assert tag_times("It would be a second betrayal, she said.", DCT) == []
    assert tag_times("A second group of directors left soon after the vote.", DCT) == []
    assert tag_times("He said that year-end results were weak.", DCT) == []


def test_that_year_is_the_year_of_the_event_just_told() -> None:
    found = tag_times("He fled in June 1998 and returned later that year.", DCT)
    assert [(e.text, e.value) for e in found] == [
        ("June 1998", "1998-06"),
        ("later that year", "1998"),
    ]
