"""REST API, feeds and safety, through FastAPI's TestClient (httpx)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storyline.interfaces.api import CONTENT_SECURITY_POLICY, create_app
from storyline.interfaces.export import story_to_dict
from storyline.service import Storyline

from .conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
ATOM = "{http://www.w3.org/2005/Atom}"


def test_list_stories_returns_summaries(client: TestClient) -> None:
    body = client.get("/api/v1/stories").json()
    assert body["limit"] == 50 and body["offset"] == 0 and body["next_offset"] is None
    outlets = [set(s["outlets"]) for s in body["stories"]]
    assert {"DW", "Euractiv"} in outlets
    assert all({"id", "title", "first_seen", "last_seen", "article_count"} <= s.keys()
               for s in body["stories"])


def test_story_json_is_the_export(client: TestClient, sample_db: str,
                                  sample_story: dict[str, Any]) -> None:
    with Storyline(sample_db) as sl:
        story = sl.story(sample_story["id"])
        assert story is not None
        expected = sl.story_json(story.id) if hasattr(sl, "story_json") else story_to_dict(story)
    assert sample_story == json.loads(json.dumps(expected))
    assert {a["outlet"] for a in sample_story["articles"]} == {"DW", "Euractiv"}


def test_story_by_unique_prefix(client: TestClient, sample_story: dict[str, Any]) -> None:
    r = client.get(f"/api/v1/stories/{sample_story['id'][:8]}")
    assert r.status_code == 200 and r.json()["id"] == sample_story["id"]


def test_unknown_story_is_a_json_404(client: TestClient) -> None:
    r = client.get("/api/v1/stories/doesnotexist")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"error": "no story doesnotexist", "status": 404}


def test_article_has_metadata_and_removed_blocks(client: TestClient,
                                                 sample_story: dict[str, Any]) -> None:
    dw = next(a for a in sample_story["articles"] if a["outlet"] == "DW")
    body = client.get(f"/api/v1/articles/{dw['id']}").json()
    assert body["story_id"] == sample_story["id"]
    assert body["wire_agencies"] == ["AFP", "Reuters"]
    assert any("Skip to content" in block["text"] for block in body["removed"])
    assert all(block["reason"] for block in body["removed"])


def test_search_finds_articles(client: TestClient, sample_story: dict[str, Any]) -> None:
    hits = client.get("/api/v1/search", params={"q": "Strategic Security Dialogue"}).json()["hits"]
    assert hits and all(h["story_id"] == sample_story["id"] for h in hits)
    # Broken query syntax is treated as words, not an error.
    r = client.get("/api/v1/search", params={"q": 'OSCE AND ("'})
    assert r.status_code == 200 and r.json()["hits"]


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"q": "Strategic Security Dialogue"}, True),
        ({"q": "ferries harbour"}, False),
        ({"outlet": "DW"}, True),
        ({"outlet": "Nobody"}, False),
        ({"language": "en"}, True),
        ({"language": "fr"}, False),
        ({"since": "2021-12-28", "until": "2021-12-28"}, True),
        ({"since": "2022-01-01"}, False),
        ({"until": "2021-12-27"}, False),
        ({"entity": "Jake Sullivan"}, False),
        ({"entity": "National Security Council"}, True),
        # An actor's canonical name, in any case; words of the text are no actor.
        ({"entity": "organization for security and co-operation in europe"}, True),
        ({"entity": "Strategic Security Dialogue"}, False),
        ({"q": "talks", "outlet": "Euractiv", "entity": "OSCE"}, True),
    ],
)
def test_story_filters(client: TestClient, sample_story: dict[str, Any],
                       params: dict[str, str], found: bool) -> None:
    ids = [s["id"] for s in client.get("/api/v1/stories", params=params).json()["stories"]]
    assert (sample_story["id"] in ids) is found


def test_bad_filter_values_are_422_json(client: TestClient) -> None:
    r = client.get("/api/v1/stories", params={"since": "last tuesday"})
    assert r.status_code == 422
    assert "since" in r.json()["error"]
    r = client.get("/api/v1/stories", params={"limit": 0})
    assert r.status_code == 422 and r.json()["status"] == 422


def test_facets_list_outlets_and_languages(client: TestClient) -> None:
    body = client.get("/api/v1/facets").json()
    names = {o["name"] for o in body["outlets"]}
    assert {"DW", "Euractiv"} <= names
    assert {"code": "en", "articles": 3} in body["languages"]


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/", "/api/v1/stories", "/api/v1/stories/nope", "/static/style.css"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_openapi_docs(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/stories/{story_id}" in spec["paths"]
    assert "/api/v1/ingest" in spec["paths"]
    assert client.get("/docs").status_code == 200


# ----------------------------------------------------------------------------- feeds


def test_atom_feed_is_valid_rfc4287(client: TestClient, sample_story: dict[str, Any]) -> None:
    r = client.get("/feeds/stories.atom")
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{tag}") is not None and feed.find(f"{ATOM}{tag}").text
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for tag in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{tag}").text, tag
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/stories/")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert sample_story["title"] in titles


def test_atom_feed_per_query(client: TestClient, sample_story: dict[str, Any]) -> None:
    feed = ET.fromstring(client.get("/feeds/stories.atom", params={"q": "OSCE"}).content)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link").get("href").rsplit("/", 1)[1] for e in entries] == [
        sample_story["id"]
    ]
    assert "OSCE" in feed.find(f"{ATOM}title").text


def test_calendar_feed(client: TestClient, sample_story: dict[str, Any]) -> None:
    r = client.get("/feeds/events.ics")
    if r.status_code == 404:
        assert "not available" in r.json()["error"]
        return
    assert r.headers["content-type"].startswith("text/calendar")
    assert r.text.startswith("BEGIN:VCALENDAR\r\n") and r.text.endswith("END:VCALENDAR\r\n")
    scheduled = [e for e in sample_story.get("timeline") or [] if e.get("status") == "scheduled"]
    days = sorted(e["date"] for e in scheduled if e.get("precision", "day") == "day")
    if "timeline" in sample_story:  # the samples announce talks on 10, 12 and 13 January
        assert {"2022-01-10", "2022-01-12", "2022-01-13"} <= set(days)
    assert r.text.count("BEGIN:VEVENT") == len(days)
    for day in days:
        assert f"DTSTART;VALUE=DATE:{day.replace('-', '')}" in r.text
    one = client.get("/feeds/events.ics", params={"story": sample_story["id"]})
    assert one.status_code == 200 and one.text.count("BEGIN:VEVENT") == len(days)
    missing = client.get("/feeds/events.ics", params={"story": "nope"})
    assert missing.status_code == 404 and missing.json()["error"] == "no story nope"


# ----------------------------------------------------------------------------- tokens


def test_reads_can_require_a_token(sample_db: str) -> None:
    with TestClient(create_app(db=sample_db, read_token="r3ad")) as c:
        r = c.get("/api/v1/stories")
        assert r.status_code == 401 and "read token" in r.json()["error"]
        wrong = {"Authorization": "Bearer wrong"}
        assert c.get("/api/v1/stories", headers=wrong).status_code == 401
        right = {"Authorization": "Bearer r3ad"}
        assert c.get("/api/v1/stories", headers=right).status_code == 200
        assert c.get("/feeds/stories.atom", params={"token": "r3ad"}).status_code == 200
        assert c.get("/", headers={"accept": "text/html"}).status_code == 401
        # A browser that opens a page with the token keeps it in a cookie for the links.
        r = c.get("/", params={"token": "r3ad"})
        assert r.status_code == 200
        assert "httponly" in r.headers["set-cookie"].lower()
        assert c.get("/api/v1/stories").status_code == 200  # the cookie, no header
        c.cookies.clear()
        assert c.get("/api/v1/stories").status_code == 401


def test_ingest_disabled_without_a_configured_token(sample_db: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORYLINE_API_TOKEN", raising=False)
    with TestClient(create_app(db=sample_db)) as c:
        r = c.post("/api/v1/ingest", content=b"text", headers={"content-type": "text/plain"})
        assert r.status_code == 403 and "STORYLINE_API_TOKEN" in r.json()["error"]


def test_ingest_needs_the_token(client: TestClient) -> None:
    r = client.post("/api/v1/ingest", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 401
    r = client.post("/api/v1/ingest", content=b"x",
                    headers={"content-type": "text/plain", "Authorization": "Bearer nope"})
    assert r.status_code == 401


# ----------------------------------------------------------------------------- ingest


@pytest.fixture()
def fresh_client(tmp_path: Any) -> Any:
    with TestClient(create_app(db=str(tmp_path / "fresh.db"), api_token=API_TOKEN,
                               max_body_bytes=20_000)) as c:
        yield c


ARTICLE = (
    "Harbour workers end strike\n\n"
    "Dock workers in the northern harbour returned to work on Friday after a five-day strike "
    "over pay, the union said.\n\n"
    "The port authority said ferries to the islands would resume their normal timetable on "
    "Saturday morning, and cargo handling would catch up within a week.\n\n"
    "The agreement raises wages by four percent this year and three percent next year."
)


def test_ingest_plain_text_then_read_it_back(fresh_client: TestClient) -> None:
    r = fresh_client.post(
        "/api/v1/ingest", content=ARTICLE.encode(),
        params={"outlet": "Harbour Times", "published": "2023-05-05"},
        headers={**AUTH, "content-type": "text/plain; charset=utf-8"},
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["new"], report["failed"]) == (1, 0)
    outcome = report["outcomes"][0]
    story = fresh_client.get(f"/api/v1/stories/{outcome['story_id']}").json()
    assert story["articles"][0]["outlet"] == "Harbour Times"
    assert story["articles"][0]["published"].startswith("2023-05-05")
    # Same text again: a duplicate, nothing new.
    again = fresh_client.post("/api/v1/ingest", content=ARTICLE.encode(), params={
        "outlet": "Harbour Times", "published": "2023-05-05"},
        headers={**AUTH, "content-type": "text/plain"}).json()
    assert again["new"] == 0 and again["duplicate"] == 1


def test_ingest_json_lines_reports_each_line(fresh_client: TestClient) -> None:
    lines = [
        json.dumps({"title": "Harbour workers end strike", "text": ARTICLE,
                    "outlet": "Harbour Times", "published": "2023-05-05"}),
        "{not json",
        json.dumps({"title": "nothing else"}),
    ]
    r = fresh_client.post("/api/v1/ingest", content="\n".join(lines).encode(),
                          headers={**AUTH, "content-type": "application/x-ndjson"})
    assert r.status_code == 200
    report = r.json()
    assert (report["new"], report["failed"]) == (1, 2)
    reasons = [o["reason"] for o in report["outcomes"] if o["status"] == "failed"]
    assert any("JSON" in reason for reason in reasons)
    assert any("neither text nor html" in reason for reason in reasons)


def test_ingest_all_failed_is_422(fresh_client: TestClient) -> None:
    r = fresh_client.post("/api/v1/ingest", content=b'{"title": "x"}',
                          headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["failed"] == 1


def test_ingest_rejects_unknown_content_type_and_empty_body(fresh_client: TestClient) -> None:
    r = fresh_client.post("/api/v1/ingest", content=b"\x00\x01",
                          headers={**AUTH, "content-type": "application/octet-stream"})
    assert r.status_code == 415 and "Content-Type" in r.json()["error"]
    r = fresh_client.post("/api/v1/ingest", content=b"  ",
                          headers={**AUTH, "content-type": "text/plain"})
    assert r.status_code == 400 and "empty" in r.json()["error"]


def test_request_body_size_is_limited(fresh_client: TestClient) -> None:
    big = b"word " * 10_000  # 50 kB, over the 20 kB limit of this app
    r = fresh_client.post("/api/v1/ingest", content=big,
                          headers={**AUTH, "content-type": "text/plain"})
    assert r.status_code == 413 and "20,000 byte limit" in r.json()["error"]

    def chunks() -> Any:  # no Content-Length: counted while streaming
        for _ in range(10):
            yield b"word " * 1_000

    r = fresh_client.post("/api/v1/ingest", content=chunks(),
                          headers={**AUTH, "content-type": "text/plain"})
    assert r.status_code == 413


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/x", "only http and https"),
        ("/etc/passwd", "only http and https"),
        ("http://127.0.0.1:8000/admin", "private or reserved"),
        ("http://localhost/", "private or reserved"),
        ("http://169.254.169.254/latest/meta-data/", "private or reserved"),
        ("http://10.1.2.3/", "private or reserved"),
        ("http://[::1]/", "private or reserved"),
        ("http:///nohost", "no host"),
    ],
)
def test_url_ingest_refuses_unsafe_urls(fresh_client: TestClient, url: str,
                                        message: str) -> None:
    r = fresh_client.post("/api/v1/ingest/url", json={"url": url}, headers=AUTH)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]


def test_url_ingest_body_must_name_a_url(fresh_client: TestClient) -> None:
    r = fresh_client.post("/api/v1/ingest/url", content=b"nope", headers=AUTH)
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = fresh_client.post("/api/v1/ingest/url", json={"link": "x"}, headers=AUTH)
    assert r.status_code == 400


def test_url_ingest_of_a_local_server_when_allowed(tmp_path: Any) -> None:
    """With private URLs allowed, a page on a loopback server is fetched and ingested."""
    import http.server
    import threading

    page = ("<html><head><title>Harbour workers end strike</title></head><body><article>"
            + "".join(f"<p>{p}</p>" for p in ARTICLE.split("\n\n")[1:])
            + "</article></body></html>").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/strike.html"
        app = create_app(db=str(tmp_path / "u.db"), api_token=API_TOKEN, allow_private_urls=True)
        with TestClient(app) as c:
            r = c.post("/api/v1/ingest/url", json={"url": url}, headers=AUTH)
            assert r.status_code == 200, r.text
            assert r.json()["new"] == 1
        refused = create_app(db=str(tmp_path / "v.db"), api_token=API_TOKEN)
        with TestClient(refused) as c:
            r = c.post("/api/v1/ingest/url", json={"url": url}, headers=AUTH)
            assert r.status_code == 400
    finally:
        server.shutdown()


def test_unexpected_errors_are_json_500_without_details(sample_db: str) -> None:
    app = create_app(db=sample_db)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    app.state.storyline.store.find_stories = broken  # type: ignore[method-assign]
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/stories")
        assert r.status_code == 500
        assert r.json() == {"error": "internal error (RuntimeError); see the server log",
                            "status": 500}
        assert "secret" not in r.text


def test_store_errors_are_json_503(sample_db: str) -> None:
    from storyline.store.base import StoreError

    app = create_app(db=sample_db)

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("the store stayed busy")

    app.state.storyline.store.find_stories = busy  # type: ignore[method-assign]
    with TestClient(app) as c:
        r = c.get("/api/v1/stories")
        assert r.status_code == 503 and r.json()["error"] == "the store stayed busy"


def _assert_security_headers(r: Any, what: str) -> None:
    assert r.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, what
    assert r.headers.get("x-content-type-options") == "nosniff", what
    assert r.headers.get("referrer-policy") == "no-referrer", what
    assert r.headers.get("x-frame-options") == "DENY", what


def test_every_error_carries_the_security_headers(sample_db: str) -> None:
    """404, 405, 413, 422, 500 (an unhandled exception) and 503: JSON on /api, headers on all."""
    from storyline.store.base import StoreError

    app = create_app(db=sample_db, api_token=API_TOKEN, max_body_bytes=1_000)
    store = app.state.storyline.store

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("secret internal detail")

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("the store stayed busy")

    store.find_stories = crash  # type: ignore[method-assign]
    store.search = busy  # type: ignore[method-assign]
    json_cases = [
        ("GET", "/api/v1/stories/nope", 404, {}),
        ("GET", "/api/v1/no-such-endpoint", 404, {}),
        ("DELETE", "/api/v1/stories", 405, {}),
        ("POST", "/api/v1/ingest", 413, {"content": b"x" * 5_000,
                                         "headers": {**AUTH, "content-type": "text/plain"}}),
        ("GET", "/api/v1/stories?limit=0", 422, {}),
        ("GET", "/api/v1/stories", 500, {}),
        ("GET", "/api/v1/search?q=talks", 503, {}),
    ]
    # Default TestClient: an exception escaping the app would fail the request here.
    with TestClient(app) as c:
        for method, path, status, extra in json_cases:
            r = c.request(method, path, **extra)
            what = f"{method} {path}"
            assert r.status_code == status, (what, r.text)
            assert r.headers["content-type"].startswith("application/json"), what
            body = r.json()
            assert body["status"] == status and body["error"], what
            assert "secret" not in r.text, what
            _assert_security_headers(r, what)
        # The same failures on pages: an HTML error page, with the same headers.
        for path, status in (("/stories/nope", 404), ("/", 500)):
            r = c.get(path, headers={"accept": "text/html"})
            assert r.status_code == status, path
            assert r.headers["content-type"].startswith("text/html"), path
            assert f"<h1>{status}</h1>" in r.text and "secret" not in r.text, path
            _assert_security_headers(r, path)
