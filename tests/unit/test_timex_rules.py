"""General rules of the temporal tagger added from error analysis (own small fixtures)."""

from __future__ import annotations

import pytest

from storyline.analyse.timex import tag_times

DCT = "1999-10-27"  # a Wednesday


def found(text: str, reference: str = DCT) -> list[tuple[str, str, str]]:
    return [(e.text, e.type, e.value) for e in tag_times(text, reference)]


# Broadcast transcripts spell years out; the month or season keeps them company.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It happened in March nineteen ninety-six.", ("March nineteen ninety-six", "1996-03")),
        (
            "Prices fell in the spring of nineteen eighty-two.",
            ("the spring of nineteen eighty-two", "1982-SP"),
        ),
        ("It closed in the year two thousand and one.", ("the year two thousand and one", "2001")),
    ],
)
def test_spelled_years_after_a_month_or_season(text: str, expected: tuple[str, str]) -> None:
    assert [(t, v) for t, _, v in found(text)] == [expected]


def test_two_thousand_people_is_a_count_not_a_year() -> None:
    assert found("In May two thousand workers marched.") == [("May", "DATE", "1999-05")]


def test_part_of_day_with_yesterday_is_one_expression() -> None:
    assert found("At mid-morning yesterday the index was flat.") == [
        ("mid-morning yesterday", "TIME", "1999-10-26TMO")
    ]


def test_the_morning_follows_the_narrative_day_and_this_morning_the_publication() -> None:
    text = "Shares slid on Monday. Traders sold in the morning, brokers said this morning."
    assert found(text) == [
        ("Monday", "DATE", "1999-10-25"),
        ("the morning", "TIME", "1999-10-25TMO"),
        ("this morning", "TIME", "1999-10-27TMO"),
    ]


def test_the_morning_without_a_narrative_day_is_the_publication_day() -> None:
    assert found("Traders sold in the morning.") == [("the morning", "TIME", "1999-10-27TMO")]


def test_the_previous_weekday_is_counted_from_the_day_just_told() -> None:
    text = "The index closed on Friday, down 2% from the previous Friday."
    assert found(text) == [
        ("Friday", "DATE", "1999-10-22"),
        ("the previous Friday", "DATE", "1999-10-15"),
    ]


def test_anaphoric_days_follow_the_day_just_told() -> None:
    text = (
        "He was arrested on Oct. 3, 1998. Earlier that day he met a lawyer, "
        "and he appeared in court the next morning."
    )
    assert found(text) == [
        ("Oct. 3, 1998", "DATE", "1998-10-03"),
        ("Earlier that day", "DATE", "1998-10-03"),
        ("the next morning", "TIME", "1998-10-04TMO"),
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # The tense tells when the state was set up, not where its end lies.
        ("The bank extended the loans through January.", "2000-01"),
        ("It created an office of the chairman, effective Dec. 1.", "1999-12-01"),
        ("It gave the bidder until mid-November to reply.", "1999-11"),
        # Far ahead, the past tense wins again.
        ("He stayed in the city until March 3.", "1999-03-03"),
        ("Sales through August fell.", "1999-08"),
    ],
)
def test_open_ended_dates_look_ahead_when_near(text: str, value: str) -> None:
    assert [v for _, _, v in found(text)] == [value]


def test_until_a_weekday_looks_ahead_unless_a_strong_cue_says_otherwise() -> None:
    assert found("Officials postponed the vote until Tuesday morning.") == [
        ("Tuesday morning", "DATE", "1999-11-02")
    ]
    assert found("Until Tuesday, the police had only a warrant.") == [
        ("Tuesday", "DATE", "1999-10-26")
    ]


def test_quarter_compounds_and_fractions_are_not_calendar_quarters() -> None:
    text = (
        "The quarter-to-quarter comparison improved, near a quarter-century low, "
        "and more than a quarter of the market."
    )
    assert found(text) == []
    assert found("Profit rose in the third quarter.") == [("the third quarter", "DATE", "1999-Q3")]


def test_an_expression_does_not_run_across_lines() -> None:
    # A headline ending in a weekday, then a dateline: two expressions, both resolved.
    text = "Markets to stay closed until Friday\nOctober 27, 1999\nMarkets stay closed."
    assert found(text) == [
        ("Friday", "DATE", "1999-10-29"),
        ("October 27, 1999", "DATE", "1999-10-27"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We see no gains in the near term.", [("the near term", "DATE", "FUTURE_REF")]),
        ("For the long term, it is fine.", [("the long term", "DATE", "FUTURE_REF")]),
        ("It cut long-term debt and short-term costs.", []),
        ("It will sell shares at a later date.", [("a later date", "DATE", "FUTURE_REF")]),
        ("Prices stay high for the time being.", [("the time being", "DATE", "PRESENT_REF")]),
    ],
)
def test_vague_references(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected


def test_lower_case_may_is_the_verb_and_capital_may_the_month() -> None:
    assert found("Prices may 5 times rise; the vote is in May.") == [("May", "DATE", "1999-05")]


# A possessive weekday names an event already known: "would" in another clause
# does not move it ahead; "will" and "ahead of" do.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("They said they would look for ways around Monday's ruling.", "1999-10-25"),
        ("Traders cited Friday's close, which was weak.", "1999-10-22"),
        ("Turnout will be high in Saturday's election.", "1999-10-30"),
        ("They would campaign hard until Saturday's election.", "1999-10-30"),
        ("It will be ready by next Monday's meeting.", "1999-11-01"),
    ],
)
def test_possessive_weekday_looks_back_unless_the_clause_looks_ahead(text: str, value: str) -> None:
    assert [v for _, _, v in found(text)] == [value]


def test_the_day_before_a_weekday_is_the_day_before_it() -> None:
    text = "The day before last Tuesday's hearing, he went to the house."
    assert [v for _, _, v in found(text)] == ["1999-10-25"]  # Tuesday 26 minus one
    assert [v for _, _, v in found("The day after Monday's vote, talks began.")] == ["1999-10-26"]


# "planned a rally on Saturday", "was planned for March": the plan lies ahead,
# as with "scheduled"; "vacation plans" is a noun and says nothing of the tense.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Protesters planned a large rally on Saturday.", "1999-10-30"),
        ("The launch was planned for early December, an official said.", "1999-12"),
        ("The move was arranged for November, aides said.", "1999-11"),
        ("On Monday, when she set aside vacation plans for the week, she flew home.", "1999-10-25"),
        ("The company plans to sell the unit on Friday.", "1999-10-29"),
    ],
)
def test_plans_look_ahead_only_as_verbs_of_arranging(text: str, value: str) -> None:
    assert [v for _, _, v in found(text)][:1] == [value]


def test_first_two_quarters_of_a_year_is_its_first_half() -> None:
    assert found("Demand stays weak through the first two quarters of 2000.") == [
        ("the first two quarters of 2000", "DATE", "2000-H1")
    ]
    assert found("Sales rise in the last two quarters of this year.") == [
        ("the last two quarters of this year", "DATE", "1999-H2")
    ]
    # Without a year it is a stretch of time, not a half.
    assert found("Profits rose in the last two quarters.") == [
        ("the last two quarters", "DURATION", "P2Q")
    ]
