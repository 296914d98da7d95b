"""HTML pages and the pieces they are built from: escaping, highlighting, sections, chart."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.testclient import TestClient

from storyline.interfaces.svg import coverage_svg
from storyline.interfaces.web import (
    fact_rows,
    highlighted_paragraphs,
    quote_groups,
    story_view,
    templates,
    timeline_entries,
)

from .conftest import HOSTILE_TITLE


def test_highlighting_cuts_text_into_segments() -> None:
    body = "First para has shared words.\n\nSecond para also shared here.\n\nThird."
    start = body.index("shared words")
    end = body.index("also") + len("also")
    paragraphs = highlighted_paragraphs(body, [(start, end, "DW")])
    assert [[(s.text, s.shared_with) for s in p] for p in paragraphs] == [
        [("First para has ", []), ("shared words.", ["DW"])],
        [("Second para also", ["DW"]), (" shared here.", [])],
        [("Third.", [])],
    ]


def test_highlighting_merges_overlaps_and_ignores_bad_spans() -> None:
    body = "abcdefghij"
    paragraphs = highlighted_paragraphs(
        body, [(2, 6, "A"), (4, 8, "B"), (9, 3, "bad"), (-5, 1, "C"), (8, 99, "D")]
    )
    assert [(s.text, s.shared_with) for s in paragraphs[0]] == [
        ("a", ["C"]), ("b", []), ("cd", ["A"]), ("ef", ["A", "B"]), ("gh", ["B"]), ("ij", ["D"])
    ]


def _story(**extra: Any) -> dict[str, Any]:
    body_a = "Talks begin on 10 January. <script>alert(1)</script> Wire copy shared here."
    body_b = "Officials said wire copy shared here. Nothing else."
    story = {
        "id": "s1",
        "title": "A <b>story</b>",
        "first_seen": "2022-01-01",
        "last_seen": "2022-01-03T10:00:00",
        "similarity_method": "test",
        "articles": [
            {"id": "a1", "outlet": "Alpha", "title": "T1", "published": "2022-01-01",
             "authors": [], "wire_agencies": ["AFP"], "language": "en", "body": body_a,
             "url": None, "source": "x", "duplicate_of": None},
            {"id": "a2", "outlet": "Beta", "title": "T2", "published": "2022-01-03T10:00:00",
             "authors": [], "wire_agencies": [], "language": "en", "body": body_b,
             "url": None, "source": "y", "duplicate_of": None},
        ],
    }
    story.update(extra)
    return story


def test_sections_appear_only_for_fields_that_exist() -> None:
    html = templates.get_template("story.html").render(**story_view(_story()),
                                                       request_path="/", query={})
    for absent in ("h-timeline", "h-facts", "h-quotes", "h-actors", "h-summary"):
        assert absent not in html
    assert "h-coverage" in html and "h-glance" in html


def test_story_page_renders_every_analysis_field_escaped() -> None:
    body_a = _story()["articles"][0]["body"]
    start = body_a.index("Wire copy")
    story = _story(
        summary="Alpha and Beta report <i>talks</i>.",
        timeline=[
            {"date": "2022-01-10", "precision": "day", "description": "talks <em>begin</em>",
             "status": "scheduled", "outlets": ["Alpha", "Beta"], "article_ids": ["a1", "a2"]},
            {"date": "2021-06", "precision": "month", "description": "summit in Geneva",
             "status": "past", "outlets": ["Alpha"], "article_ids": ["a1"]},
        ],
        facts=[
            {"text": "troops at the border", "status": "corroborated",
             "outlets": ["Alpha", "Beta"]},
            {"text": "sanctions threatened", "outlets": ["Alpha"]},
            {"text": "number of troops", "status": "conflicting",
             "versions": {"Alpha": "100,000", "Beta": "70,000"}},
        ],
        quotes=[
            {"text": "We <3 talks", "speaker": "Spokesperson", "direct": True,
             "outlets": ["Alpha"]},
            {"text": "no comment", "speaker": None, "direct": False, "outlets": ["Beta"]},
        ],
        actors=[{"name": "NATO <org>", "type": "organisation", "aliases": ["North Atlantic"],
                 "mentions_by_outlet": {"Alpha": 2, "Beta": 1}}],
    )
    story["articles"][0]["shared_passages"] = [
        {"text": body_a[start:], "start": start, "end": len(body_a), "with_article_id": "a2",
         "with_start": 14, "with_end": 37, "similarity": 1.0}
    ]
    story["articles"][1]["shared_passages"] = []
    html = templates.get_template("story.html").render(**story_view(story),
                                                       request_path="/", query={})
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A &lt;b&gt;story&lt;/b&gt;" in html
    assert "Alpha and Beta report &lt;i&gt;talks&lt;/i&gt;." in html
    assert "10 January 2022" in html and "June 2021" in html
    assert "talks &lt;em&gt;begin&lt;/em&gt;" in html
    assert re.search(r'<mark class="shared" title="also in Beta">Wire copy shared here\.</mark>',
                     html)
    assert "We &lt;3 talks" in html and "Unattributed" in html
    assert "NATO &lt;org&gt;" in html and "3 mentions" in html
    cells = re.findall(r'<td class="cell cell-([a-z-]+)"', html)
    # rows: corroborated (Alpha, Beta), only here (Alpha), conflicting (Alpha, Beta)
    assert cells == ["corroborated", "corroborated", "only-here", "none",
                     "conflicting", "conflicting"]
    assert 'title="100,000"' in html


def test_timeline_is_ordered_by_date() -> None:
    entries = timeline_entries({"timeline": [
        {"date": "2022-01-13", "description": "c", "status": "scheduled"},
        {"date": "2021-06", "description": "a", "status": "past"},
        {"date": "2022-01-10", "description": "b", "status": "scheduled"},
    ]})
    assert entries is not None
    assert [e.text for e in entries] == ["a", "b", "c"]
    assert timeline_entries({}) is None


def test_fact_rows_from_grouped_shape() -> None:
    rows = fact_rows({"facts": {
        "corroborated": [["Putin", "denies"]],
        "single_source": {"Alpha": [["Crimea"]]},
    }}, ["Alpha", "Beta"])
    assert rows is not None
    assert [(r.text, r.cells) for r in rows] == [
        ("Putin · denies", {"Alpha": "corroborated", "Beta": "corroborated"}),
        ("Crimea", {"Alpha": "only here"}),
    ]


def test_quotes_grouped_by_speaker_most_quoted_first() -> None:
    groups = quote_groups({"quotes": [
        {"text": "one", "speaker": "B"},
        {"text": "two", "speaker": "A"},
        {"text": "three", "speaker": "a"},
        {"text": "four", "speaker": None},
    ]})
    assert groups is not None
    assert [(g.speaker, [q["text"] for q in g.quotes]) for g in groups] == [
        ("A", ["two", "three"]), ("B", ["one"]), ("Unattributed", ["four"])
    ]


def test_coverage_chart_is_escaped_valid_svg() -> None:
    svg = coverage_svg([
        ("Alpha", "2022-01-01"), ("Alpha", "2022-01-01T10:00:00"), ("Beta", "2022-01-03"),
        ('<script>"x"</script>', "2022-01-02"), ("Beta", None),
    ])
    root = ET.fromstring(svg)  # well-formed XML
    assert "<script>" not in svg
    circles = root.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 3  # Alpha on 1 Jan (2), Beta on 3 Jan, the hostile outlet on 2 Jan
    titles = [c.find("{http://www.w3.org/2000/svg}title").text for c in circles]
    assert "Alpha: 2 articles, 1 Jan" in titles
    assert "1 article without a publication date" in svg


def test_coverage_chart_buckets_long_stories_by_month() -> None:
    svg = coverage_svg([("A", "2020-01-05"), ("A", "2020-01-20"), ("A", "2021-03-01")])
    assert "Jan 2020" in svg and "1 Jan" not in svg
    circles = ET.fromstring(svg).findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 2


# ----------------------------------------------------------------------------- via HTTP


def test_story_page_shows_both_outlets(client: TestClient, sample_story: dict[str, Any]) -> None:
    r = client.get(f"/stories/{sample_story['id']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for article in sample_story["articles"]:
        assert f'href="/articles/{article["id"]}"' in r.text
    assert 'class="badge badge-c' in r.text and ">DW<" in r.text and ">Euractiv<" in r.text
    assert "<svg" in r.text


def test_story_prefix_redirects_to_the_full_id(client: TestClient,
                                               sample_story: dict[str, Any]) -> None:
    r = client.get(f"/stories/{sample_story['id'][:6]}", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == f"/stories/{sample_story['id']}"


def test_article_page_shows_removed_blocks(client: TestClient,
                                           sample_story: dict[str, Any]) -> None:
    dw = next(a for a in sample_story["articles"] if a["outlet"] == "DW")
    html = client.get(f"/articles/{dw['id']}").text
    assert "Removed by the cleaner" in html and "Skip to content" in html
    assert "AFP" in html and "Reuters" in html


def test_hostile_article_is_escaped_everywhere(client: TestClient) -> None:
    hits = client.get("/api/v1/search", params={"q": "harbour"}).json()["hits"]
    hostile = next(h for h in hits if "onerror" in h["title"])
    for path in ("/", f"/stories/{hostile['story_id']}", f"/articles/{hostile['article_id']}",
                 "/?q=harbour+strike"):
        html = client.get(path).text
        assert "<script>window" not in html and "<img src" not in html, path
        assert "onmouseover=\"window" not in html, path
    html = client.get(f"/articles/{hostile['article_id']}").text
    escaped_title = HOSTILE_TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;").replace('"', "&#34;")
    assert escaped_title in html


def test_html_errors_for_browsers_json_for_scripts(client: TestClient) -> None:
    r = client.get("/stories/nope", headers={"accept": "text/html"})
    assert r.status_code == 404 and "<h1>404</h1>" in r.text
    r = client.get("/stories/nope", headers={"accept": "application/json"})
    assert r.status_code == 404 and r.json()["error"] == "no story nope"


def test_list_page_filters_and_search(client: TestClient, sample_story: dict[str, Any]) -> None:
    html = client.get("/", params={"q": "OSCE", "outlet": "DW"}).text
    assert f'href="/stories/{sample_story["id"]}"' in html
    assert "Matching articles" in html
    html = client.get("/", params={"outlet": "Nobody"}).text
    assert "No story matches these filters" in html
    assert client.get("/", params={"since": "bad"}).status_code == 422


def test_every_actor_link_lists_its_story(client: TestClient,
                                          sample_story: dict[str, Any]) -> None:
    """An actor's link on the story page filters the list to stories with that actor."""
    html = client.get(f"/stories/{sample_story['id']}").text
    links = re.findall(r'<a class="actor[^"]*" href="(/\?entity=[^"]+)"', html)
    assert len(links) == len(sample_story["actors"]) > 0
    for link in links:
        listed = client.get(link.replace("&amp;", "&")).text
        assert f'href="/stories/{sample_story["id"]}"' in listed, link
    # A name that is no actor of any story lists nothing, even if the text has the words.
    listed = client.get("/", params={"entity": "Strategic Security Dialogue"}).text
    assert "No story matches these filters" in listed
