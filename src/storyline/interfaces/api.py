"""The web application: REST API under /api/v1, HTML pages, feeds.

`create_app()` builds a FastAPI app over one `Storyline` (one store
connection, guarded by the store's lock; sync routes run in the threadpool).

Configuration: keyword arguments, then environment variables, then defaults.

* ``STORYLINE_API_TOKEN``: bearer token that POST /api/v1/ingest requires.
  Without one, ingest over HTTP is disabled (403), never open.
* ``STORYLINE_READ_TOKEN``: when set, every read (API, pages, feeds) needs it,
  as ``Authorization: Bearer …`` or ``?token=…`` (feed readers cannot send headers);
  a page opened with ``?token=`` sets an HttpOnly cookie so that its links work.
* ``STORYLINE_ALLOW_PRIVATE_URLS``: ``1`` lets URL ingest fetch private,
  loopback and link-local addresses (off by default: server-side request forgery).
* ``STORYLINE_MAX_BODY_BYTES``: the largest request body accepted (413 beyond).

Article content is untrusted: templates autoescape and never mark it safe,
and every response carries a strict Content-Security-Policy.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from storyline.config import Settings
from storyline.interfaces.export import article_to_dict, story_to_dict
from storyline.records import Failure, IngestReport, RawDocument, SearchHit, StorySummary
from storyline.service import Storyline
from storyline.store.base import SEARCH_CANDIDATES, StoreError, StoryFacets, StoryQuery

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DEFAULT_MAX_BODY_BYTES = 10_000_000
STATIC_DIR = Path(__file__).parent / "static"
FACETS_TTL_S = 30.0
# A browser that opened a page with ?token= keeps the read token in this cookie.
READ_TOKEN_COOKIE = "storyline_read_token"  # the filter menus may lag new outlets by this long

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Swagger UI at /docs loads its bundle from a CDN and starts with an inline
# script; that page shows no article content, so it alone gets this policy.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class WebConfig:
    """What the web layer needs beyond `Settings`."""

    api_token: str | None = None
    read_token: str | None = None
    allow_private_urls: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def resolve(
        cls,
        api_token: str | None,
        read_token: str | None,
        allow_private_urls: bool | None,
        max_body_bytes: int | None,
    ) -> WebConfig:
        env_body = os.environ.get("STORYLINE_MAX_BODY_BYTES")
        return cls(
            api_token=api_token or os.environ.get("STORYLINE_API_TOKEN") or None,
            read_token=read_token or os.environ.get("STORYLINE_READ_TOKEN") or None,
            allow_private_urls=(
                allow_private_urls
                if allow_private_urls is not None
                else _env_flag("STORYLINE_ALLOW_PRIVATE_URLS")
            ),
            max_body_bytes=(
                max_body_bytes
                if max_body_bytes is not None
                else int(env_body)
                if env_body
                else DEFAULT_MAX_BODY_BYTES
            ),
        )


# --------------------------------------------------------------------------- errors


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than the {limit:,} byte limit")
        self.limit = limit


def wants_html(request: Request) -> bool:
    """Pages get an HTML error page; the API, feeds and scripts get JSON."""
    path = request.url.path
    if path.startswith(API_PREFIX) or path.startswith("/feeds"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, message: str, **extra: Any) -> Response:
    if wants_html(request):
        from storyline.interfaces.web import render_error

        return render_error(request, status, message)
    body: dict[str, Any] = {"error": message, "status": status, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page or resource: {request.url.path}"
        if exc.status_code == 405 and message == "Method Not Allowed":
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {
                "where": ".".join(str(p) for p in err.get("loc", ())),
                "problem": err.get("msg", "invalid"),
            }
            for err in exc.errors()
        ]
        shown = "; ".join(f"{p['where']}: {p['problem']}" for p in problems[:5])
        return error_response(request, 422, f"invalid request: {shown}", problems=problems)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return error_response(request, 413, str(exc))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        message = str(exc)
        # An ambiguous id prefix is the caller's mistake; anything else is ours.
        status = 400 if "ambiguous" in message else 503
        return error_response(request, status, message)

    # Exceptions no handler takes: `UnhandledErrors` below, not an `Exception`
    # handler, which Starlette would run outside every middleware (no security headers).


def internal_error_response(request: Request, exc: BaseException) -> Response:
    """The 500 for an unexpected exception: its type only, never its message (it may leak)."""
    message = f"internal error ({type(exc).__name__}); see the server log"
    return error_response(request, 500, message)


# --------------------------------------------------------------------------- middleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """Content-Security-Policy and friends on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        policy = (
            DOCS_CONTENT_SECURITY_POLICY
            if path in ("/docs", "/redoc")
            else (CONTENT_SECURITY_POLICY)
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-security-policy", policy.encode()))
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class UnhandledErrors:
    """An exception that no handler took becomes the clear 500 response here.

    Starlette's own fallback (ServerErrorMiddleware) sends its response outside
    every user middleware, so it would miss the security headers; this
    middleware sits inside `SecurityHeaders`.  The traceback goes to the log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for an error response: the client sees a cut-off one
                return
            try:
                response = internal_error_response(Request(scope, receive), exc)
            except Exception:  # the error page itself failed: plain JSON, still inside
                log.exception("the error page failed")
                response = JSONResponse(
                    {"error": f"internal error ({type(exc).__name__}); see the server log",
                     "status": 500},
                    status_code=500,
                )
            await response(scope, receive, send)


class BodySizeLimit:
    """Refuse bodies over `limit` bytes: by Content-Length up front, else while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    message = (
                        f"request body is larger than the {self.limit:,} byte limit"
                        if declared > self.limit
                        else "invalid Content-Length header"
                    )
                    status = 413 if declared > self.limit else 400
                    response = JSONResponse(
                        {"error": message, "status": status}, status_code=status
                    )
                    await response(scope, receive, send)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counting_receive, send)


# --------------------------------------------------------------------------- dependencies


def service(request: Request) -> Storyline:
    return request.app.state.storyline


def config(request: Request) -> WebConfig:
    return request.app.state.web_config


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _token_matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def require_read(request: Request) -> None:
    expected = config(request).read_token
    if expected is None:
        return
    given = (
        _bearer(request)
        or request.query_params.get("token")
        or request.cookies.get(READ_TOKEN_COOKIE)
    )
    if not _token_matches(given, expected):
        raise HTTPException(
            401, "this server requires a read token: send 'Authorization: Bearer TOKEN'"
        )


def require_ingest(request: Request) -> None:
    expected = config(request).api_token
    if expected is None:
        raise HTTPException(
            403, "ingest over HTTP is disabled: start the server with STORYLINE_API_TOKEN set"
        )
    if not _token_matches(_bearer(request), expected):
        raise HTTPException(401, "ingest needs the API token: send 'Authorization: Bearer TOKEN'")


# --------------------------------------------------------------------------- shared reads

MAX_PAGE = 200


def story_query(
    q: str | None = None,
    entity: str | None = None,
    outlet: str | None = None,
    language: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> StoryQuery:
    """Filters from request parameters; dates must be ISO (YYYY-MM-DD)."""
    for name, value in (("since", since), ("until", until)):
        if value and not _is_iso_date(value):
            raise HTTPException(422, f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    text = (q or "").strip() or None
    return StoryQuery(
        text=text,
        # One of the story's actors: a name its articles' "people" analyses found.
        entity=" ".join((entity or "").split()) or None,
        outlet=(outlet or "").strip() or None,
        language=(language or "").strip() or None,
        since=since or None,
        until=until or None,
        order="relevance" if text else "updated",
    )


def _is_iso_date(value: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return len(value) == 10


def facets(request: Request) -> StoryFacets:
    """The filter menus' values, cached briefly: they cost a scan of the articles."""
    state = request.app.state
    now = time.monotonic()
    cached = getattr(state, "facets_cache", None)
    if cached is not None and now - cached[0] < FACETS_TTL_S:
        return cached[1]
    value = service(request).store.story_facets()
    state.facets_cache = (now, value)
    return value


def story_json(sl: Storyline, story_id: str) -> dict[str, Any] | None:
    """The export JSON of a story (with whatever analyses the store holds)."""
    story_json_method = getattr(sl, "story_json", None)
    if story_json_method is not None:
        return story_json_method(story_id)
    story = sl.story(story_id)
    return None if story is None else story_to_dict(story)


def summary_to_dict(summary: StorySummary) -> dict[str, Any]:
    return asdict(summary)


def hit_to_dict(hit: SearchHit) -> dict[str, Any]:
    return asdict(hit)


def report_to_dict(report: IngestReport) -> dict[str, Any]:
    return {
        "new": report.count("new"),
        "duplicate": report.count("duplicate"),
        "failed": report.count("failed"),
        "outcomes": [asdict(o) for o in report.outcomes],
    }


# --------------------------------------------------------------------------- REST routes

api = APIRouter(prefix=API_PREFIX, tags=["api"])


@api.get(
    "/stories",
    dependencies=[Depends(require_read)],
    summary="List or search stories",
    description="Without `q`, the most recently updated stories first. With `q`, the best "
    "matches first: each story ranks by its best article among the newest "
    f"{SEARCH_CANDIDATES:,} articles matching `q` (a query matching more articles than that "
    "is ranked within that bound, so that its cost stays bounded).",
)
def list_stories(
    request: Request,
    q: str | None = Query(None, max_length=500, description="full-text query"),
    entity: str | None = Query(
        None,
        max_length=200,
        description="an actor of the story (person, organisation, place): a name that the "
        "entity analysis found in one of its articles, matched whole and case-insensitively",
    ),
    outlet: str | None = Query(None, max_length=200),
    language: str | None = Query(None, max_length=20),
    since: str | None = Query(None, description="YYYY-MM-DD: reported on or after"),
    until: str | None = Query(None, description="YYYY-MM-DD: begun on or before"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    query = story_query(q, entity, outlet, language, since, until)
    rows = service(request).store.find_stories(query, limit=limit + 1, offset=offset)
    return {
        "stories": [summary_to_dict(s) for s in rows[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(rows) > limit else None,
    }


@api.get(
    "/search",
    dependencies=[Depends(require_read)],
    summary="Full-text search of articles",
    description="The best `limit` matches (title words weigh 10x body words) among the newest "
    f"{SEARCH_CANDIDATES:,} articles matching `q`: a query that matches more articles than "
    "that is ranked within that bound (see `candidates` in the response), so that its cost "
    "stays bounded. Broken query syntax is searched as plain words.",
)
def search_articles(
    request: Request,
    q: str = Query(..., min_length=1, max_length=500),
    limit: int = Query(20, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:
    hits = service(request).search(q, limit=limit)
    # `candidates`: the ranking bound (the newest this-many matches are ranked).
    return {"query": q, "hits": [hit_to_dict(h) for h in hits], "candidates": SEARCH_CANDIDATES}


@api.get("/facets", dependencies=[Depends(require_read)], summary="Values of the story filters")
def story_facets(request: Request) -> dict[str, Any]:
    f = facets(request)
    return {
        "outlets": [{"name": n, "articles": c} for n, c in f.outlets],
        "languages": [{"code": n, "articles": c} for n, c in f.languages],
        "first_seen": f.first_seen,
        "last_seen": f.last_seen,
    }


@api.get(
    "/stories/{story_id}",
    dependencies=[Depends(require_read)],
    summary="One story: the same JSON as `storyline export`",
)
def get_story(request: Request, story_id: str) -> JSONResponse:
    data = story_json(service(request), story_id)
    if data is None:
        raise HTTPException(404, f"no story {story_id}")
    # Plain JSON already: skip FastAPI's re-encoding of every body.
    return JSONResponse(data)


@api.get("/articles/{article_id}", dependencies=[Depends(require_read)], summary="One article")
def get_article(request: Request, article_id: str) -> dict[str, Any]:
    sl = service(request)
    article = sl.article(article_id)
    if article is None:
        raise HTTPException(404, f"no article {article_id}")
    data = article_to_dict(article)
    data["canonical_url"] = article.canonical_url
    data["story_id"] = sl.store.article_story_id(article.id)
    data["removed"] = [asdict(b) for b in article.removed]
    return data


INGEST_KINDS = {
    "text/plain": "text",
    "text/markdown": "text",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/jsonlines": "jsonl",
    "application/json": "json",
}


def _ingest_lock(request: Request) -> threading.Lock:
    return request.app.state.ingest_lock


def _run_ingest(request: Request, documents: list[RawDocument | Failure]) -> IngestReport:
    # One pipeline at a time: the story linker reads then writes candidates.
    with _ingest_lock(request):
        return service(request).ingest_documents(documents)  # type: ignore[arg-type]


@api.post(
    "/ingest",
    dependencies=[Depends(require_ingest)],
    summary="Ingest a document in the request body",
    description=(
        "The body's Content-Type says what it is: text/plain (page text), text/html, "
        "application/x-ndjson (JSON Lines, one article a line) or application/json (one "
        "article object, or a list of them). Query parameters give hints for text and "
        "HTML bodies. Needs the API token."
    ),
)
async def ingest_body(
    request: Request,
    url: str | None = Query(None, max_length=2000, description="where the document came from"),
    title: str | None = Query(None, max_length=1000),
    outlet: str | None = Query(None, max_length=200),
    published: str | None = Query(None, max_length=40),
    language: str | None = Query(None, max_length=20),
) -> JSONResponse:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    kind = INGEST_KINDS.get(media_type)
    if kind is None:
        raise HTTPException(
            415,
            f"unsupported Content-Type {media_type or '(none)'!r}; use one of "
            + ", ".join(sorted(INGEST_KINDS)),
        )
    data = await request.body()
    if not data.strip():
        raise HTTPException(400, "the request body is empty")
    sl = service(request)
    documents: list[RawDocument | Failure]
    if kind in ("text", "html"):
        from storyline.sources.decode import decode_bytes

        params = request.headers.get("content-type", "").partition("charset=")[2]
        charset = params.split(";")[0].strip().strip('"')
        text = decode_bytes(data, charset or None)
        documents = [
            RawDocument(
                source=url or f"api:{kind}",
                content=text,
                kind=kind,  # type: ignore[arg-type]
                url=url,
                title=title,
                published=published,
                outlet=outlet,
                language=language,
            )
        ]
    else:
        from storyline.sources.files import read_document

        documents = list(read_document(data, "api", sl.settings, kind=kind))  # type: ignore[arg-type]
    report = await run_in_threadpool(_run_ingest, request, documents)
    request.app.state.facets_cache = None
    status = 422 if report.outcomes and report.count("failed") == len(report.outcomes) else 200
    return JSONResponse(jsonable_encoder(report_to_dict(report)), status_code=status)


def _checked_fetch_url(url: str, allow_private: bool) -> str:
    """The URL if it is http(s) with a host (and, unless allowed, a public one); 400 otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise HTTPException(
            400, f"only http and https URLs can be ingested, not {parts.scheme or 'no scheme'!r}"
        )
    if not parts.hostname:
        raise HTTPException(400, f"the URL has no host: {url!r}")
    if not allow_private:
        from storyline.sources.http import FetchError, public_addresses

        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            public_addresses(parts.hostname, port)
        except FetchError as exc:
            raise HTTPException(400, str(exc)) from None
        except ValueError as exc:  # an invalid port
            raise HTTPException(400, f"invalid URL {url!r}: {exc}") from None
    return url.strip()


@api.post(
    "/ingest/url",
    dependencies=[Depends(require_ingest)],
    summary="Fetch a URL (an article page or a feed) and ingest it",
    description='Body: `{"url": "https://…"}`. Private, loopback and link-local addresses '
    "are refused unless the server allows them. Needs the API token.",
)
async def ingest_url(request: Request) -> JSONResponse:
    try:
        payload = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        message = f'the body must be JSON like {{"url": "https://…"}}: {exc}'
        raise HTTPException(400, message) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
        raise HTTPException(400, 'the body must be JSON like {"url": "https://…"}')
    allow_private = config(request).allow_private_urls
    url = _checked_fetch_url(payload["url"], allow_private)

    def run() -> IngestReport:
        with _ingest_lock(request):
            return service(request).ingest([url], allow_private_addresses=allow_private)

    report = await run_in_threadpool(run)
    request.app.state.facets_cache = None
    status = 422 if report.outcomes and report.count("failed") == len(report.outcomes) else 200
    return JSONResponse(jsonable_encoder(report_to_dict(report)), status_code=status)


# --------------------------------------------------------------------------- feeds

feeds_router = APIRouter(prefix="/feeds", tags=["feeds"])


@feeds_router.get(
    "/stories.atom",
    dependencies=[Depends(require_read)],
    summary="Atom feed of new and updated stories (optionally for a search query)",
    response_class=Response,
)
def stories_feed(
    request: Request,
    q: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> Response:
    from storyline.interfaces.feeds import FeedStory, stories_atom

    sl = service(request)
    query = StoryQuery(text=(q or "").strip() or None, order="updated")
    rows = sl.store.find_stories(query, limit=limit)
    updated = sl.store.story_updated_at([r.id for r in rows])
    base = str(request.base_url).rstrip("/")
    entries = [FeedStory(summary=r, updated=updated.get(r.id)) for r in rows]
    xml = stories_atom(entries, base_url=base, self_url=str(request.url), query=query.text)
    return Response(xml, media_type="application/atom+xml; charset=utf-8")


@feeds_router.get(
    "/events.ics",
    dependencies=[Depends(require_read)],
    summary="iCalendar feed of the scheduled events of the stories' timelines",
    response_class=Response,
)
def events_feed(
    request: Request,
    story: str | None = Query(None, max_length=100, description="one story's events only"),
    limit: int = Query(200, ge=1, le=1000, description="how many recent stories to scan"),
) -> Response:
    try:
        from storyline.compare.timeline import TimelineEntry
        from storyline.interfaces.ics import scheduled_events_to_ics
    except ImportError:
        raise HTTPException(
            404, "the calendar of scheduled events is not available in this version"
        ) from None
    sl = service(request)
    calendars = []
    story_ids = [story] if story else [row.id for row in sl.store.list_stories(limit=limit)]
    for story_id in story_ids:
        data = story_json(sl, story_id)
        if data is None:
            if story:
                raise HTTPException(404, f"no story {story}")
            continue
        entries = [
            _timeline_entry(TimelineEntry, item)
            for item in data.get("timeline") or []
            if isinstance(item, dict) and item.get("status") == "scheduled" and item.get("date")
        ]
        if entries:
            calendars.append((data["id"], data.get("title") or "", entries))
    text = scheduled_events_to_ics(calendars)
    return Response(text, media_type="text/calendar; charset=utf-8")


def _timeline_entry(entry_type: Any, item: dict[str, Any]) -> Any:
    """A timeline entry back from its export JSON (the calendar needs a stable id)."""
    import hashlib

    date_value = str(item["date"])
    precision = str(item.get("precision") or "day")
    description = str(item.get("description") or "")
    entry_id = (
        item.get("id")
        or hashlib.sha1(f"{date_value}|{precision}|{description}".encode()).hexdigest()[:16]
    )
    return entry_type(
        id=str(entry_id),
        date=date_value,
        precision=precision,
        description=description,
        status="scheduled",
        outlets=[str(o) for o in item.get("outlets") or []],
        article_ids=[str(a) for a in item.get("article_ids") or []],
    )


# --------------------------------------------------------------------------- the app


def create_app(
    settings: Settings | None = None,
    *,
    db: str | None = None,
    api_token: str | None = None,
    read_token: str | None = None,
    allow_private_urls: bool | None = None,
    max_body_bytes: int | None = None,
) -> FastAPI:
    """The Storyline web app over the store named by `db` / `settings` / `$STORYLINE_DB`."""
    web_config = WebConfig.resolve(api_token, read_token, allow_private_urls, max_body_bytes)
    sl = Storyline(db, settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        try:
            yield
        finally:
            sl.close()

    app = FastAPI(
        title="Storyline",
        summary="Follow one news story across many outlets.",
        version="0.1.0",
        docs_url="/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.storyline = sl
    app.state.web_config = web_config
    app.state.ingest_lock = threading.Lock()
    app.state.facets_cache = None
    _install_error_handlers(app)

    from storyline.interfaces.web import pages

    app.include_router(api)
    app.include_router(feeds_router)
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Outermost last: SecurityHeaders wraps every response, the 500s of UnhandledErrors too.
    app.add_middleware(UnhandledErrors)
    app.add_middleware(BodySizeLimit, limit=web_config.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory storyline.interfaces.api:app_from_env`."""
    return create_app()


__all__ = ["API_PREFIX", "WebConfig", "app_from_env", "create_app"]
