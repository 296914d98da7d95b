"""Dates, bylines, sign-offs and datelines read from text lines."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from storyline.extract.textmeta import (
    date_line,
    dateline_agencies,
    find_dates,
    parse_byline,
    parse_date,
    parse_signoff,
)

TESTS = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "extract_fixture_registry", TESTS / "fixtures" / "extract" / "registry.py"
)
assert _spec and _spec.loader
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
REGISTRY = _fixture.load_registry()


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("28-12-2021 07:19", "2021-12-28T07:19:00"),
        ("December 28, 2021", "2021-12-28"),
        ("Dec. 28, 2021", "2021-12-28"),
        ("28 December 2021", "2021-12-28"),
        ("2021-12-28", "2021-12-28"),
        ("2021-12-28T07:19:05", "2021-12-28T07:19:05"),
        ("28. Dezember 2021, 07:19 Uhr", "2021-12-28T07:19:00"),
        ("28.12.2021 um 7.19 Uhr", "2021-12-28T07:19:00"),
        ("28 décembre 2021", "2021-12-28"),
        ("1er janvier 2022", "2022-01-01"),
        ("28 de diciembre de 2021", "2021-12-28"),
        ("Tuesday, March 3, 2022 at 4:05 p.m.", "2022-03-03T16:05:00"),
        ("12/28/2021", "2021-12-28"),  # the 28 settles the order
        ("05/06/2021", "2021-06-05"),  # ambiguous: day first
    ],
)
def test_dates_in_text(text: str, iso: str) -> None:
    assert parse_date(text) == iso


def test_ambiguous_numeric_date_is_month_first_for_us_outlets() -> None:
    assert parse_date("05/06/2021", month_first=True) == "2021-05-06"


@pytest.mark.parametrize("text", ["31/02/2021", "version 1.2.3", "call 555-1234", "in 2021 alone"])
def test_no_date_in_non_dates(text: str) -> None:
    assert find_dates(text) == []


def test_date_line_only_for_lines_that_are_dates() -> None:
    assert date_line("December 28, 2021") == "2021-12-28"
    assert date_line("Updated: Tue 28 Dec 2021 07:19 GMT") == "2021-12-28T07:19:00"
    assert date_line("Talks begin on December 28, 2021 in Geneva") is None


def test_byline_with_outlet_credit_date_and_reading_time() -> None:
    line = (
        "Euractiv.com with AFP 28-12-2021 07:19 3 min. read "
        "Content type: Euractiv is part of the Trust Project"
    )
    byline = parse_byline(line, REGISTRY)
    assert byline is not None
    assert byline.outlet is not None and byline.outlet.name == "Euractiv"
    assert byline.agencies == ["AFP"]
    assert byline.published == "2021-12-28T07:19:00"


@pytest.mark.parametrize(
    ("line", "authors", "agencies"),
    [
        ("By Jane Doe | AP", ["Jane Doe"], ["AP"]),
        ("By Jane Doe and John Roe, Reuters", ["Jane Doe", "John Roe"], ["Reuters"]),
        ("Von Max Mustermann, dpa", ["Max Mustermann"], ["dpa"]),
    ],
)
def test_bylines_with_agency(line: str, authors: list[str], agencies: list[str]) -> None:
    byline = parse_byline(line, REGISTRY)
    assert byline is not None
    assert byline.authors == authors
    assert byline.agencies == agencies


@pytest.mark.parametrize(
    "line",
    [
        "A White House official told AFP on Monday that talks would go ahead.",
        "TASS news agency quoted the Foreign Ministry as saying on Sunday (26 December).",
        "Biden, Putin hail positive talks, but bad blood stays on",
        "Talks on December 28, 2021",
        "Reuters",
    ],
)
def test_prose_and_crossheads_are_not_bylines(line: str) -> None:
    assert parse_byline(line, REGISTRY) is None


@pytest.mark.parametrize(
    ("line", "agencies", "authors"),
    [
        ("dvv/fb (AFP, Reuters)", ["AFP", "Reuters"], ["dvv", "fb"]),
        ("jsi/rt (dpa, AP)", ["dpa", "AP"], ["jsi", "rt"]),
        ("(dpa)", ["dpa"], []),
        ("Mit Material von dpa und AFP", ["dpa", "AFP"], []),
        ("Source: Reuters", ["Reuters"], []),
        ("(Reporting by Jane Roe in Moscow; Editing by Mark Smith)", [], ["Jane Roe"]),
    ],
)
def test_signoffs(line: str, agencies: list[str], authors: list[str]) -> None:
    signoff = parse_signoff(line, REGISTRY)
    assert signoff is not None
    assert signoff.agencies == agencies
    assert signoff.authors == authors


@pytest.mark.parametrize(
    "line",
    [
        "(See related story)",
        "He said the talks (with Russia) would go ahead.",
        "Source of the leak: unclear",
    ],
)
def test_not_signoffs(line: str) -> None:
    assert parse_signoff(line, REGISTRY) is None


@pytest.mark.parametrize(
    ("paragraph", "agencies"),
    [
        ("MOSCOW (Reuters) - Russia said on Tuesday ...", ["Reuters"]),
        ("PARIS, Dec 28 (Reuters) - France said ...", ["Reuters"]),
        ("WASHINGTON (AP) — The Senate voted ...", ["AP"]),
        ("Berlin (dpa) - Die Regierung ...", ["dpa"]),
        ("(AFP) - Officials said ...", ["AFP"]),
        ("Officials (from Reuters) said ...", []),
        ("The talks (AFP reported) went well.", []),
    ],
)
def test_wire_datelines(paragraph: str, agencies: list[str]) -> None:
    assert dateline_agencies(paragraph, REGISTRY) == agencies
