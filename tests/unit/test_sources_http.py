"""The network edge against a real HTTP server on 127.0.0.1, run in a thread."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from storyline.config import Limits, Settings
from storyline.records import Failure, RawDocument
from storyline.sources import read_inputs
from storyline.sources.http import FetchError, _is_public, fetch, public_addresses

PAGE = b"<html><head><title>Hello</title></head><body><p>Body text.</p></body></html>"
RELEASE = threading.Event()  # set at teardown so handlers that hang return


def _summary_feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>Entry {i}</title><link>{base}/article/{i}</link>"
        f"<pubDate>Tue, 28 Dec 2021 07:19:00 +0100</pubDate>"
        f"<description>Short teaser {i}.</description></item>"
        for i in range(2)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local Outlet</title>'
        f"{items}</channel></rss>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {"Content-Type": "text/html; charset=utf-8"}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if path == "/page":
            self._send(200, PAGE)
        elif path == "/ua":
            self._send(
                200, self.headers.get("User-Agent", "").encode(), {"Content-Type": "text/plain"}
            )
        elif path == "/redirect":
            self._send(302, b"", {"Location": "/page"})
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            self._send(302, b"", {"Location": f"/chain/{left - 1}" if left else "/page"})
        elif path == "/loop-a":
            self._send(301, b"", {"Location": f"{base}/loop-b"})
        elif path == "/loop-b":
            self._send(301, b"", {"Location": "/loop-a"})
        elif path == "/to-ftp":
            self._send(302, b"", {"Location": "ftp://127.0.0.1/file"})
        elif path == "/missing":
            self._send(404, b"not here", {"Content-Type": "text/plain"})
        elif path == "/latin1":
            body = "<html><body><p>Café à la crème, señor.</p></body></html>".encode("latin-1")
            self._send(200, body, {"Content-Type": "text/html; charset=ISO-8859-1"})
        elif path == "/gzip":
            self._send(
                200, gzip.compress(PAGE), {"Content-Type": "text/html", "Content-Encoding": "gzip"}
            )
        elif path == "/bomb":
            bomb = gzip.compress(b"<p>" + b"a" * 30_000_000)
            self._send(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"})
        elif path == "/png":
            self._send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, {"Content-Type": "image/png"})
        elif path == "/feed":
            self._send(200, _summary_feed(base), {"Content-Type": "application/rss+xml"})
        elif path.startswith("/article/"):
            n = path.rsplit("/", 1)[1]
            words = "Words. " * 100
            body = f"<html><body><article><p>Full article {n}. {words}</p></article></body></html>"
            self._send(200, body.encode())
        elif path == "/hang":
            RELEASE.wait(10)  # never answers within the test's timeout
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self._drip(b"<p>x</p>", 0.05)
        elif path == "/trickle-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self._drip(b"X-Slow: a\r\n", 0.05)
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"y" * 65_536 + b"</p>"
            try:
                while not RELEASE.is_set():
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif path == "/huge-headers":
            self.send_response(200)
            for i in range(200):
                self.send_header(f"X-Filler-{i}", "z" * 100)
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
        else:
            self._send(404, b"")

    def _drip(self, piece: bytes, pause: float) -> None:
        try:
            while not RELEASE.is_set():
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    RELEASE.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    RELEASE.set()
    httpd.shutdown()
    httpd.server_close()


def settings(**limits: object) -> Settings:
    base: dict[str, object] = {"http_timeout_s": 3.0}
    base.update(limits)
    return Settings(db=":memory:", limits=Limits(**base))  # type: ignore[arg-type]


def test_fetches_a_page_with_its_content_type(server: str) -> None:
    page = fetch(f"{server}/page", settings())
    assert page.status == 200
    assert page.body == PAGE
    assert page.content_type == "text/html"
    assert page.charset == "utf-8"
    assert page.final_url == f"{server}/page"


def test_sends_the_configured_user_agent(server: str) -> None:
    s = Settings(db=":memory:", user_agent="StorylineTest/9.9")
    assert fetch(f"{server}/ua", s).body == b"StorylineTest/9.9"


def test_follows_a_redirect_and_reports_the_final_url(server: str) -> None:
    page = fetch(f"{server}/redirect", settings())
    assert page.url == f"{server}/redirect"
    assert page.final_url == f"{server}/page"
    assert page.body == PAGE


def test_redirect_loop_is_an_error(server: str) -> None:
    with pytest.raises(FetchError, match="redirect loop"):
        fetch(f"{server}/loop-a", settings())


def test_too_many_redirects(server: str) -> None:
    assert fetch(f"{server}/chain/2", settings(http_max_redirects=3)).body == PAGE
    with pytest.raises(FetchError, match=r"too many redirects \(more than 3"):
        fetch(f"{server}/chain/5", settings(http_max_redirects=3))


def test_non_http_scheme_is_refused_also_after_a_redirect(server: str) -> None:
    with pytest.raises(FetchError, match="unsupported URL scheme 'file'"):
        fetch("file:///etc/passwd", settings())
    with pytest.raises(FetchError, match="unsupported URL scheme 'ftp'"):
        fetch(f"{server}/to-ftp", settings())


def test_error_status_is_an_error_with_the_status(server: str) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(f"{server}/missing", settings())


def test_server_that_never_answers_times_out(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"within 0.5 s|timed out"):
        fetch(f"{server}/hang", settings(http_timeout_s=0.5))
    assert time.monotonic() - started < 2.0


def test_trickling_body_is_cut_by_the_total_deadline(server: str) -> None:
    # Each byte arrives well within the read timeout; only a wall-clock deadline stops it.
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"no complete response within 1 s"):
        fetch(f"{server}/trickle", settings(http_timeout_s=1.0))
    assert time.monotonic() - started < 2.5


def test_trickling_headers_are_cut_by_the_total_deadline(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"no complete response within 1 s"):
        fetch(f"{server}/trickle-headers", settings(http_timeout_s=1.0))
    assert time.monotonic() - started < 2.5


def test_endless_body_is_cut_at_the_size_limit(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"response larger than the 1\.0 MB limit"):
        fetch(f"{server}/endless", settings(http_max_bytes=1_000_000))
    assert time.monotonic() - started < 3.0


def test_gzip_body_is_decoded(server: str) -> None:
    assert fetch(f"{server}/gzip", settings()).body == PAGE


def test_gzip_bomb_is_cut_while_it_inflates(server: str) -> None:
    with pytest.raises(FetchError, match="once decompressed"):
        fetch(f"{server}/bomb", settings(http_max_bytes=1_000_000))


def test_huge_headers_are_refused(server: str) -> None:
    with pytest.raises(FetchError, match=r"response headers are .* above the 4\.0 kB limit"):
        fetch(f"{server}/huge-headers", settings(http_max_header_bytes=4_000))
    assert fetch(f"{server}/huge-headers", settings()).body == PAGE  # 64 kB default is enough


def test_loopback_is_refused_when_private_addresses_are_not_allowed(server: str) -> None:
    with pytest.raises(FetchError, match="private or reserved address"):
        fetch(f"{server}/page", settings(), allow_private_addresses=False)
    with pytest.raises(FetchError, match="private or reserved address"):
        fetch(
            server.replace("127.0.0.1", "localhost") + "/page",
            settings(),
            allow_private_addresses=False,
        )


def test_redirect_to_a_private_address_is_refused_at_that_hop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list:
        if host == "news.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]
        return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(FetchError, match=r"127\.0\.0\.1.*private or reserved"):
        fetch("http://news.example/story", settings(), client=client, allow_private_addresses=False)
    assert seen == ["http://news.example/story"]  # the private hop was never requested


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert _is_public(address) is public


def test_unresolvable_host_is_a_clear_error() -> None:
    with pytest.raises(FetchError, match="cannot resolve host"):
        public_addresses("no-such-host.invalid", 80)


def test_read_inputs_turns_urls_into_documents_and_failures(server: str) -> None:
    items = list(
        read_inputs(
            [f"{server}/latin1", f"{server}/missing", f"{server}/png", "gopher://x/"], settings()
        )
    )
    doc, missing, png, gopher = items
    assert isinstance(doc, RawDocument)
    assert doc.kind == "html" and doc.source == f"{server}/latin1"
    assert "Café à la crème, señor." in doc.content
    assert doc.url == f"{server}/latin1" and doc.fetched_at
    assert isinstance(missing, Failure) and "HTTP 404" in missing.reason
    assert isinstance(png, Failure) and "image/png" in png.reason
    assert isinstance(gopher, Failure) and "unsupported URL scheme 'gopher'" in gopher.reason


def test_feed_url_with_teasers_follows_each_link(server: str) -> None:
    items = list(read_inputs([f"{server}/feed"], settings()))
    assert [type(i) for i in items] == [RawDocument, RawDocument]
    first = items[0]
    assert isinstance(first, RawDocument)
    assert first.source == f"{server}/feed#0"
    assert first.url == f"{server}/article/0"
    assert "Full article 0." in first.content
    assert first.title == "Entry 0"
    assert first.published == "2021-12-28T07:19:00+01:00"
    assert first.outlet == "Local Outlet"


def test_feed_links_are_not_followed_when_disabled(server: str) -> None:
    items = list(read_inputs([f"{server}/feed"], settings(), follow_links=False))
    assert all(isinstance(i, RawDocument) for i in items)
    assert "Short teaser 0." in items[0].content  # type: ignore[union-attr]
    assert items[0].url == f"{server}/article/0"  # type: ignore[union-attr]


def test_feed_file_links_to_private_addresses_fail_per_entry(server: str, tmp_path) -> None:
    feed = tmp_path / "local.rss"
    feed.write_bytes(_summary_feed(server))
    items = list(read_inputs([str(feed)], settings(), allow_private_addresses=False))
    assert [i.source for i in items] == [f"{feed}#0", f"{feed}#1"]
    for item in items:
        assert isinstance(item, Failure)
        assert "only a summary and its link failed" in item.reason
        assert "private or reserved" in item.reason
