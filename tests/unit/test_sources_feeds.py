"""RSS and Atom feed files: entries, hints, the item limit."""

from __future__ import annotations

from pathlib import Path

from storyline.config import Limits, Settings
from storyline.records import Failure, RawDocument
from storyline.sources import read_inputs
from storyline.sources.feeds import read_feed

SETTINGS = Settings(db=":memory:")
LONG = "<p>" + "Officials met in Geneva to discuss arms control. " * 15 + "</p>"

RSS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>The Daily Example</title>
  <link>https://daily.example/</link>
  <language>en-gb</language>
  <item>
    <title>Talks set for January</title>
    <link>https://daily.example/talks</link>
    <pubDate>Tue, 28 Dec 2021 07:19:00 +0100</pubDate>
    <author>desk@daily.example (Jane Doe)</author>
    <description>Short teaser.</description>
    <content:encoded><![CDATA[{LONG}]]></content:encoded>
  </item>
  <item>
    <title>Only a teaser &amp; more</title>
    <link>https://daily.example/teaser</link>
    <dc:creator>John Smith</dc:creator>
    <description>&lt;p&gt;Just a teaser.&lt;/p&gt;</description>
  </item>
</channel>
</rss>"""

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Wire</title>
  <id>urn:example:feed</id>
  <updated>2021-12-28T10:00:00Z</updated>
  <entry>
    <title type="html">Ministers &lt;em&gt;meet&lt;/em&gt;</title>
    <link href="https://wire.example/ministers"/>
    <id>urn:example:1</id>
    <published>2021-12-28T09:30:00+02:00</published>
    <updated>2021-12-29T09:30:00+02:00</updated>
    <author><name>Ann Lee</name></author>
    <author><name>Bo Chan</name></author>
    <content type="html">{LONG.replace("<", "&lt;").replace(">", "&gt;")}</content>
  </entry>
  <entry>
    <title>Plain words</title>
    <link href="https://wire.example/plain"/>
    <id>urn:example:2</id>
    <updated>2021-12-30</updated>
    <content type="text">Plain text body.</content>
  </entry>
</feed>"""


def read(path: Path, settings: Settings = SETTINGS, **kwargs: object) -> list:
    return list(read_inputs([str(path)], settings, follow_links=False, **kwargs))  # type: ignore[arg-type]


def test_rss_entries_carry_their_hints(tmp_path: Path) -> None:
    path = tmp_path / "daily.rss"
    path.write_text(RSS, encoding="utf-8")
    first, second = read(path)
    assert isinstance(first, RawDocument) and isinstance(second, RawDocument)
    assert first.source == f"{path}#0" and second.source == f"{path}#1"
    assert first.kind == "html"
    assert "Officials met in Geneva" in first.content  # the full content, not the teaser
    assert first.title == "Talks set for January"
    assert first.url == "https://daily.example/talks"
    assert first.published == "2021-12-28T07:19:00+01:00"
    assert first.authors == ["Jane Doe"]
    assert first.outlet == "The Daily Example"
    assert first.language == "en-gb"
    assert second.title == "Only a teaser & more"
    assert "Just a teaser." in second.content
    assert second.authors == ["John Smith"]
    assert second.published is None


def test_atom_entries(tmp_path: Path) -> None:
    path = tmp_path / "wire.atom"
    path.write_text(ATOM, encoding="utf-8")
    first, second = read(path)
    assert isinstance(first, RawDocument)
    assert first.title == "Ministers meet"
    assert first.url == "https://wire.example/ministers"
    assert first.published == "2021-12-28T09:30:00+02:00"
    assert first.authors == ["Ann Lee", "Bo Chan"]
    assert first.outlet == "Atom Wire"
    assert "Officials met in Geneva" in first.content
    assert second.kind == "text" and second.content == "Plain text body."
    assert second.published == "2021-12-30"


def test_feed_is_sniffed_from_xml_and_unknown_names(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_text(RSS, encoding="utf-8")
    (tmp_path / "feed").write_text(ATOM, encoding="utf-8")
    items = list(
        read_inputs(
            [str(tmp_path / "feed.xml"), str(tmp_path / "feed")], SETTINGS, follow_links=False
        )
    )
    assert len(items) == 4 and all(isinstance(i, RawDocument) for i in items)


def test_item_limit_reads_the_first_entries_and_says_what_was_skipped(tmp_path: Path) -> None:
    items = "".join(
        f"<item><title>T{i}</title><link>https://x.example/{i}</link>"
        f"<description>Body {i}</description></item>"
        for i in range(25)
    )
    path = tmp_path / "big.rss"
    path.write_text(f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>')
    settings = Settings(db=":memory:", limits=Limits(max_feed_items=10))
    out = read(path, settings)
    assert len(out) == 11
    assert [d.title for d in out[:10]] == [f"T{i}" for i in range(10)]
    assert isinstance(out[10], Failure)
    assert out[10].reason == (
        "feed has 25 entries; read the first 10 and skipped 15 (STORYLINE_MAX_FEED_ITEMS)"
    )


def test_broken_and_empty_feeds_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rss"
    broken.write_text("this is <not a feed")
    empty = tmp_path / "empty.rss"
    empty.write_text('<rss version="2.0"><channel><title>Nothing</title></channel></rss>')
    first, second = read(broken) + read(empty)
    assert isinstance(first, Failure) and "not a valid RSS/Atom feed" in first.reason
    assert isinstance(second, Failure) and second.reason == "feed has no entries"


def test_teaser_entries_are_replaced_by_the_linked_page() -> None:
    fetched: list[str] = []

    def follow(url: str) -> RawDocument:
        fetched.append(url)
        return RawDocument(
            source=url,
            content=f"<html><body>{LONG}</body></html>",
            kind="html",
            url=url + "?final",
            title="Page title",
        )

    items = list(read_feed(RSS.encode(), "feed", SETTINGS, follow_link=follow))
    assert fetched == ["https://daily.example/teaser"]  # the full entry needs no fetch
    teaser = items[1]
    assert isinstance(teaser, RawDocument)
    assert teaser.source == "feed#1"
    assert teaser.url == "https://daily.example/teaser?final"
    assert teaser.title == "Only a teaser & more"  # the entry's title wins over the page's
    assert teaser.outlet == "The Daily Example"
    assert "Officials met" in teaser.content
