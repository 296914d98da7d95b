"""The network edge: fetch one URL with every cost bounded.

Bounds: http(s) only; connect and read timeouts plus a wall-clock deadline
for the whole fetch (a server that trickles a byte a second is cut);
redirects followed by hand, each hop checked; headers and body size capped,
the body while it streams (after decompression too, so a gzip bomb is cut
while it inflates). With `allow_private_addresses=False` every host is
resolved and refused when any address is private, loopback, link-local or
reserved; clients made by `make_client` also check the address they
actually connect to, so a DNS answer that changes between the check and
the connection (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import typing
from dataclasses import dataclass, field

import httpcore
import httpx

from storyline.config import Settings
from storyline.sources.common import ReadError, human_size
from storyline.sources.decompress import BoundedDecoder, TooLarge, brotli

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"
)
_ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"


class FetchError(ReadError):
    """A URL could not be fetched; `reason` says why in a sentence."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # as asked for
    final_url: str  # after redirects
    status: int
    content_type: str | None  # media type only, lower case: "text/html"
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        raw = self.headers.get("content-type", "")
        for param in raw.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


# --------------------------------------------------------------------------- addresses


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def public_addresses(host: str, port: int) -> list[str]:
    """Resolve `host`; FetchError unless every address it has is a public one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise FetchError(f"cannot resolve host {host}: {err}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if not _is_public(address):
            raise FetchError(
                f"refused to fetch from {host}: it resolves to a private or reserved address "
                f"({address}); allow private addresses to fetch it"
            )
    return addresses


# --------------------------------------------------------------------------- transport


class _Guard:
    """Per-client state the network backend consults on every socket operation."""

    def __init__(self, allow_private_addresses: bool) -> None:
        self.allow_private_addresses = allow_private_addresses
        self.deadline: float | None = None  # time.monotonic() value; set per fetch

    def remaining(self, timeout: float | None, error: type[Exception]) -> float | None:
        if self.deadline is None:
            return timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise error("deadline passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, guard: _Guard) -> None:
        self._inner = inner
        self._guard = guard

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._guard.remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._guard.remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, self._guard.remaining(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner, self._guard)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, guard: _Guard) -> None:
        self._inner = httpcore.SyncBackend()
        self._guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        targets = [host]
        if not self._guard.allow_private_addresses:
            # Connect to the addresses just vetted, not to a fresh DNS answer.
            targets = public_addresses(host, port)
        last_error: Exception | None = None
        for target in targets:
            try:
                stream = self._inner.connect_tcp(
                    target,
                    port,
                    self._guard.remaining(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectError as err:
                last_error = err
                continue
            return _DeadlineStream(stream, self._guard)
        assert last_error is not None
        raise last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - never used for URLs
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedClient(httpx.Client):
    """An httpx client whose sockets obey the fetch deadline and the address policy."""

    def __init__(self, settings: Settings, *, allow_private_addresses: bool = True) -> None:
        self.guard = _Guard(allow_private_addresses)
        transport = httpx.HTTPTransport(retries=0)
        # httpx has no public hook for a network backend; its transport keeps
        # the httpcore pool in `_pool`, which we replace with one that uses ours.
        transport._pool.close()
        transport._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_GuardedBackend(self.guard),
            max_connections=10,
            max_keepalive_connections=5,
        )
        super().__init__(
            transport=transport,
            timeout=httpx.Timeout(settings.limits.http_timeout_s),
            headers={"User-Agent": settings.user_agent},
            follow_redirects=False,
            # Environment proxies would bypass the address checks.
            trust_env=allow_private_addresses,
        )


def make_client(settings: Settings, *, allow_private_addresses: bool = True) -> GuardedClient:
    """A client to reuse across many fetches (connection reuse); close it when done."""
    return GuardedClient(settings, allow_private_addresses=allow_private_addresses)


# --------------------------------------------------------------------------- fetch


def fetch(
    url: str,
    settings: Settings,
    client: httpx.Client | None = None,
    allow_private_addresses: bool = True,
) -> FetchedPage:
    """GET `url` within the limits in `settings.limits`; FetchError with the reason otherwise."""
    own_client = client is None
    if client is None:
        client = make_client(settings, allow_private_addresses=allow_private_addresses)
    try:
        return _fetch(url, settings, client, allow_private_addresses)
    finally:
        if own_client:
            client.close()


def _checked_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as err:
        raise FetchError(f"invalid URL {url!r}: {err}") from None
    if parsed.scheme not in ("http", "https"):
        shown = parsed.scheme or "none"
        raise FetchError(f"unsupported URL scheme '{shown}' in {url}: only http and https")
    if not parsed.host:
        raise FetchError(f"URL has no host: {url}")
    return parsed


def _fetch(
    url: str, settings: Settings, client: httpx.Client, allow_private_addresses: bool
) -> FetchedPage:
    limits = settings.limits
    deadline = time.monotonic() + limits.http_timeout_s
    guard = client.guard if isinstance(client, GuardedClient) else None
    if guard is not None:
        guard.deadline = deadline
    current = url
    visited: set[str] = set()
    try:
        for _hop in range(limits.http_max_redirects + 1):
            target = _checked_url(current)
            if not allow_private_addresses:
                public_addresses(
                    target.host, target.port or (443 if target.scheme == "https" else 80)
                )
            visited.add(str(target))
            next_url, page = _request(url, target, settings, client, deadline)
            if page is not None:
                return page
            assert next_url is not None
            if next_url in visited:
                raise FetchError(f"redirect loop: {next_url} redirects back to a visited URL")
            current = next_url
        raise FetchError(
            f"too many redirects (more than {limits.http_max_redirects}, "
            "STORYLINE_HTTP_MAX_REDIRECTS)"
        )
    except httpx.TimeoutException as err:
        if time.monotonic() >= deadline - 0.05:
            raise FetchError(
                f"no complete response within {limits.http_timeout_s:g} s "
                "(STORYLINE_HTTP_TIMEOUT_S)"
            ) from None
        raise FetchError(f"timed out: {type(err).__name__} for {current}") from None
    except httpx.RemoteProtocolError as err:
        raise FetchError(f"invalid HTTP response from {current}: {err}") from None
    except httpx.ConnectError as err:
        raise FetchError(f"could not connect to {current}: {err}") from None
    except httpx.HTTPError as err:
        raise FetchError(f"HTTP error for {current}: {type(err).__name__}: {err}") from None
    finally:
        if guard is not None:
            guard.deadline = None


def _request(
    original: str,
    target: httpx.URL,
    settings: Settings,
    client: httpx.Client,
    deadline: float,
) -> tuple[str | None, FetchedPage | None]:
    """One hop: (next URL, None) for a redirect, (None, page) for a 2xx answer."""
    limits = settings.limits
    headers = {
        "User-Agent": settings.user_agent,
        "Accept": _ACCEPT,
        "Accept-Encoding": _ACCEPT_ENCODING,
    }
    with client.stream("GET", target, headers=headers, follow_redirects=False) as response:
        header_bytes = sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
        if header_bytes > limits.http_max_header_bytes:
            raise FetchError(
                f"response headers are {human_size(header_bytes)}, above the "
                f"{human_size(limits.http_max_header_bytes)} limit "
                "(STORYLINE_HTTP_MAX_HEADER_BYTES)"
            )
        status = response.status_code
        if status in _REDIRECTS and response.headers.get("location"):
            return str(response.url.join(response.headers["location"])), None
        if not 200 <= status < 300:
            raise FetchError(f"HTTP {status} {response.reason_phrase} for {target}".rstrip())
        declared = response.headers.get("content-length", "")
        too_large = (
            f"response larger than the {human_size(limits.http_max_bytes)} limit "
            "(STORYLINE_HTTP_MAX_BYTES)"
        )
        if declared.isdigit() and int(declared) > limits.http_max_bytes:
            raise FetchError(too_large)
        try:
            decoder = BoundedDecoder(
                response.headers.get("content-encoding"), limits.http_max_bytes, "response"
            )
        except ReadError as err:
            raise FetchError(err.reason) from None
        parts: list[bytes] = []
        received = 0
        try:
            for chunk in response.iter_raw():
                received += len(chunk)
                if received > limits.http_max_bytes:
                    raise FetchError(too_large)
                parts.append(decoder.feed(chunk))
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("deadline passed")
            decoder.finish()
        except TooLarge:
            raise FetchError(too_large + " once decompressed") from None
        except FetchError:
            raise
        except ReadError as err:
            raise FetchError(err.reason) from None
        content_type = response.headers.get("content-type")
        media_type = content_type.split(";", 1)[0].strip().lower() if content_type else None
        return None, FetchedPage(
            url=original,
            final_url=str(response.url),
            status=status,
            content_type=media_type or None,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=b"".join(parts),
        )
