"""Regression tests for what fuzzing found, one input each, fixed in the readers."""

from __future__ import annotations

import pytest

from storyline.config import Settings
from storyline.records import Failure
from storyline.sources.feeds import read_feed
from storyline.sources.files import read_document

# fuzz_feed: an XML declaration whose encoding name is not UTF-8 made feedparser raise
# UnicodeDecodeError out of read_feed (the batch survived only through the generic
# "unexpected error" guard).
FEED_WITH_UNDECODABLE_ENCODING_NAME = (
    b"<?xml ve|\xd5iHarbourg Herald</title><link>https://feed.example.org/</link><item>"
    b"<title>Item<?xml version='1.0' encoding='utf-8" + b"\xd6" * 40 + b"'?>"
)

# fuzz_feed, after the first fix: an encoding name spanning NUL bytes made feedparser's
# `data.decode(name)` raise ValueError("embedded null character").
FEED_WITH_NUL_IN_ENCODING_NAME = (
    b"<?xml version='0.0' encoding='utof the budget</descript\x00\x00n></item><link>'?>"
    b"<rss version='2.0'><channel><title>Harbourg Herald</title><item><title>Item 0</title>"
    b"rroded ca\x01\x00\x00\x00bles</item></channel></rss>"
)


@pytest.mark.parametrize(
    "data", [FEED_WITH_UNDECODABLE_ENCODING_NAME, FEED_WITH_NUL_IN_ENCODING_NAME]
)
def test_feed_with_a_broken_encoding_name_is_a_clear_failure(data: bytes) -> None:
    items = list(read_feed(data, "f.xml", Settings()))
    assert len(items) == 1 and isinstance(items[0], Failure)
    assert items[0].reason.startswith("not a valid RSS/Atom feed: unreadable encoding")


def test_the_same_bytes_through_the_sniffing_front_door() -> None:
    items = list(
        read_document(FEED_WITH_UNDECODABLE_ENCODING_NAME, "f.xml", Settings(), kind="feed")
    )
    assert [type(i) for i in items] == [Failure]
    assert "unexpected" not in items[0].reason  # type: ignore[union-attr]


# fuzz_feed: an RFC 822 date with a year past C's int ("Fri, 01 Mar 20249999999 10:02:00
# GMT") made email.utils raise OverflowError out of the date parser, ending read_feed.
FEED_WITH_AN_OVERFLOWING_YEAR = (
    b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Herald</title>"
    b"<item><title>Item 0</title><link>https://feed.example.org/0</link>"
    b"<pubDate>Fri, 01 Mar 20249999999 10:02:00 GMT</pubDate>"
    b"<description>Word word word word word.</description></item></channel></rss>"
)


# Found by CI's fuzz run: an Atom date whose year feedparser reads as -1 ("0000…017").
FEED_WITH_A_YEAR_BEFORE_ONE = (
    b"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
    b"<title>T</title><entry><title>A</title><link href='https://e.org/a'/>"
    b"<updated>" + b"0" * 60 + b"17-03-01T10:00:00Z</updated>"
    b"<content type='html'>&lt;p&gt;Word word word word word.&lt;/p&gt;</content>"
    b"</entry></feed>"
)


@pytest.mark.parametrize(
    "feed",
    [FEED_WITH_AN_OVERFLOWING_YEAR, FEED_WITH_A_YEAR_BEFORE_ONE],
    ids=["year-past-int", "year-before-one"],
)
def test_a_feed_date_no_calendar_holds_is_no_date_not_a_crash(feed: bytes) -> None:
    items = list(read_feed(feed, "f.xml", Settings(), follow_link=None))
    assert len(items) == 1
    assert not isinstance(items[0], Failure)
    assert items[0].published is None
