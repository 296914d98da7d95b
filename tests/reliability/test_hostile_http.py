"""Hostile HTTP servers on loopback, fetched by `storyline ingest URL ...` in a subprocess.

A raw-socket server plays each misbehaviour (a server that never answers, one
that drips a byte at a time, redirect loops, huge headers, endless bodies
plain and chunked, a gzip bomb); one `ingest` run fetches them all with a good
page among them and must: give each URL its own clear reason, read the good
page, finish within the configured time budget and a memory bound.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_inputs import good_html, gzip_bomb
from reliability_helpers import run_cli, stored_failures

from storyline.service import Storyline

TIMEOUT_S = 3.0  # STORYLINE_HTTP_TIMEOUT_S for these runs: each fetch's whole budget


class _Handler(socketserver.BaseRequestHandler):
    server: _HostileServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        try:
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                request += chunk
            path = request.split(b" ", 2)[1].decode().split("?", 1)[0]
            getattr(self, "do_" + path.strip("/").replace("-", "_"), self.do_missing)(sock)
        except OSError:
            pass  # the client gave up: that is what these tests want

    def _send(self, sock: socket.socket, status: str, headers: dict[str, str], body: bytes) -> None:
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(head.encode() + b"\r\n" + body)

    def do_missing(self, sock: socket.socket) -> None:
        self._send(sock, "404 Not Found", {"Content-Length": "0"}, b"")

    def do_good(self, sock: socket.socket) -> None:
        body = good_html("Harbour bridge reopens, fetched copy").encode()
        self._send(
            sock,
            "200 OK",
            {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))},
            body,
        )

    def do_hang(self, sock: socket.socket) -> None:
        self.server.stop.wait(60)  # never answers

    def do_drip(self, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>")
        while not self.server.stop.wait(0.2):  # one byte at a time: no read ever times out
            sock.sendall(b"x")

    def do_loop_a(self, sock: socket.socket) -> None:
        self._send(sock, "302 Found", {"Location": "/loop-b", "Content-Length": "0"}, b"")

    def do_loop_b(self, sock: socket.socket) -> None:
        self._send(sock, "302 Found", {"Location": "/loop-a", "Content-Length": "0"}, b"")

    def do_chain(self, sock: socket.socket) -> None:
        self.server.hops += 1  # a fresh URL every time: no loop, just too many redirects
        location = f"/chain?{self.server.hops}"
        self._send(sock, "302 Found", {"Location": location, "Content-Length": "0"}, b"")

    def do_huge_headers(self, sock: socket.socket) -> None:
        pad = {f"X-Pad-{i}": "p" * 1000 for i in range(1000)}  # 1 MB of headers
        self._send(sock, "200 OK", {"Content-Type": "text/html", **pad}, b"<p>hi</p>")

    def do_endless(self, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
        block = b"<p>" + b"endless body " * 5000 + b"</p>"
        while not self.server.stop.is_set():
            sock.sendall(block)

    def do_endless_chunked(self, sock: socket.socket) -> None:
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        block = b"<p>" + b"endless chunk " * 5000 + b"</p>"
        chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        while not self.server.stop.is_set():
            sock.sendall(chunk)

    def do_bomb(self, sock: socket.socket) -> None:
        body = self.server.bomb
        headers = {
            "Content-Type": "text/html",
            "Content-Encoding": "gzip",
            "Content-Length": str(len(body)),
        }
        self._send(sock, "200 OK", headers, body)


class _HostileServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stop = threading.Event()
        self.hops = 0
        self.bomb = gzip_bomb(500 * (1 << 20))


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[str]:
    server = _HostileServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


EXPECTED = {
    "/hang": r"no complete response within 3 s \(STORYLINE_HTTP_TIMEOUT_S\)",
    "/drip": r"no complete response within 3 s \(STORYLINE_HTTP_TIMEOUT_S\)",
    "/loop-a": r"redirect loop: .*/loop-a redirects back to a visited URL",
    "/chain": r"too many redirects \(more than 5, STORYLINE_HTTP_MAX_REDIRECTS\)",
    "/huge-headers": r"header|invalid HTTP response",
    "/endless": r"response larger than the 20\.0 MB limit \(STORYLINE_HTTP_MAX_BYTES\)",
    "/endless-chunked": r"response larger than the 20\.0 MB limit",
    "/bomb": r"response larger than the 20\.0 MB limit \(STORYLINE_HTTP_MAX_BYTES\) once "
    r"decompressed",
    "/missing": r"HTTP 404 Not Found",
}


def test_hostile_servers_each_fail_alone_within_the_time_budget(
    hostile_server: str, tmp_path: Path, max_rss_mb: float
) -> None:
    db = tmp_path / "s.db"
    urls = [hostile_server + path for path in EXPECTED]
    urls.insert(4, hostile_server + "/good")
    started = time.monotonic()
    run = run_cli(
        ["ingest", "--db", str(db), "-q", *urls],
        env={"STORYLINE_HTTP_TIMEOUT_S": str(TIMEOUT_S)},
        timeout_s=120,
    )
    elapsed = time.monotonic() - started
    print(f"hostile HTTP batch: {elapsed:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB")
    assert not run.timed_out, run.output
    assert "Traceback" not in run.output, run.output
    # Every fetch is bounded by the timeout; the rest is start-up and the one good page.
    assert elapsed < len(urls) * TIMEOUT_S + 30
    assert 0 < run.peak_rss_mb < max_rss_mb
    assert run.code == 0
    summary = " ".join(run.stdout.split())
    assert f"new: 1 duplicate: 0 failed: {len(EXPECTED)}" in summary, run.output

    failures = {source: reason for source, _stage, reason in stored_failures(db)}
    for path, pattern in EXPECTED.items():
        url = hostile_server + path
        assert url in failures, f"no failure stored for {url}: {failures}"
        assert re.search(pattern, failures[url]), f"{path}: {failures[url]}"
        assert " ".join(failures[url].split()) in summary  # printed by `ingest`
    with Storyline(str(db)) as sl:
        assert sl.check() == []
        assert [s.title for s in sl.stories()] == ["Harbour bridge reopens, fetched copy"]
