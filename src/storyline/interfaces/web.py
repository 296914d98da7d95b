"""HTML pages: the story list, a story, an article.

Pages are rendered from the export JSON (`story_to_dict`), so every field an
analysis adds there can be shown here; a section appears only when its field
exists.  Article text is untrusted: Jinja2 autoescapes everything and nothing
from an article is ever marked safe.  Shared passages are highlighted by
cutting the text into segments that the template escapes one by one.
"""

from __future__ import annotations

import hmac
import itertools
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup

from storyline.interfaces.api import (
    READ_TOKEN_COOKIE,
    facets,
    require_read,
    service,
    story_json,
    story_query,
)
from storyline.interfaces.svg import coverage_svg
from storyline.records import as_datetime

TEMPLATES_DIR = Path(__file__).parent / "templates"
PAGE_SIZE = 30
BADGE_COLOURS = 8

templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # every template, whatever its name: article content is hostile
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# --------------------------------------------------------------------------- formatting


def outlet_colour(outlet: str) -> int:
    """A stable colour per outlet name, the same on every page."""
    return zlib.crc32(outlet.casefold().encode()) % BADGE_COLOURS


def story_colours(outlets: Sequence[str]) -> dict[str, int]:
    """Distinct colours for a story's outlets (as far as the palette goes).

    Each outlet keeps its own colour unless another outlet of the story has
    it already; then it takes the next free one.
    """
    taken: set[int] = set()
    colours: dict[str, int] = {}
    for outlet in outlets:
        colour = outlet_colour(outlet)
        if len(taken) < BADGE_COLOURS:
            while colour in taken:
                colour = (colour + 1) % BADGE_COLOURS
        taken.add(colour)
        colours[outlet] = colour
    return colours


@pass_context
def badge_class(context: Any, outlet: str | None) -> str:
    if not outlet:
        return "badge badge-none"
    colours = context.get("outlet_colours") or {}
    return f"badge badge-c{colours.get(outlet, outlet_colour(outlet))}"


def display_span(first: str | None, last: str | None) -> str:
    """A story's date span: '28 Dec 2021', or '28 Dec 2021 → 3 Jan 2022'."""
    if not first:
        return display_time(last)
    if not last or last[:10] == first[:10]:
        return display_time(first[:10])
    return f"{display_time(first)} → {display_time(last)}"


def display_time(value: str | None) -> str:
    """ISO date or datetime for people: '28 Dec 2021' or '28 Dec 2021 07:19'."""
    if not value:
        return ""
    parsed = as_datetime(value)
    if parsed is None:
        return value
    if len(value) <= 10:
        return parsed.strftime("%-d %b %Y")
    return parsed.strftime("%-d %b %Y %H:%M")


_MONTH_VALUE = re.compile(r"^(\d{4})-(\d{2})$")
_DAY_VALUE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def display_when(value: str | None) -> str:
    """A TIMEX3-like date value for people: '10 January 2022', 'June 2021', '2021'."""
    if not value:
        return "date unknown"
    if m := _DAY_VALUE.match(value):
        try:
            d = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return value
        rest = value[10:]
        time_part = f" {rest[1:6]}" if rest.startswith("T") and rest[1:3].isdigit() else ""
        return d.strftime("%-d %B %Y") + time_part
    if m := _MONTH_VALUE.match(value):
        try:
            return date(int(m[1]), int(m[2]), 1).strftime("%B %Y")
        except ValueError:
            return value
    return value


templates.filters["badge"] = badge_class
templates.filters["when"] = display_time
templates.filters["day"] = display_when
templates.globals["span"] = display_span


# --------------------------------------------------------------------------- shared passages


@dataclass(slots=True)
class Segment:
    text: str
    shared_with: list[str] = field(default_factory=list)  # outlets (or ids) sharing it


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def highlighted_paragraphs(body: str, spans: Iterable[tuple[int, int, str]]) -> list[list[Segment]]:
    """The body as paragraphs of segments, each segment shared (with whom) or not.

    `spans` are (start, end, label) character offsets into `body`; overlapping
    spans merge their labels.  The segments are plain text: the template
    escapes each one, so no markup from the article can reach the page.
    """
    clipped = [
        (max(0, s), min(len(body), e), label)
        for s, e, label in spans
        if isinstance(s, int) and isinstance(e, int) and e > s
    ]
    cuts = sorted({0, len(body), *(s for s, _, _ in clipped), *(e for _, e, _ in clipped)})
    pieces: list[Segment] = []
    for lo, hi in itertools.pairwise(cuts):
        if hi <= lo:
            continue
        labels = list(dict.fromkeys(label for s, e, label in clipped if s <= lo and e >= hi))
        pieces.append(Segment(body[lo:hi], labels))
    paragraphs: list[list[Segment]] = [[]]
    for piece in pieces:
        parts = _PARAGRAPH_BREAK.split(piece.text)
        for i, part in enumerate(parts):
            if i:
                paragraphs.append([])
            if part:
                paragraphs[-1].append(Segment(part, piece.shared_with))
    return [p for p in paragraphs if any(s.text.strip() for s in p)]


def _passage_spans(
    article: Mapping[str, Any], outlet_of: Mapping[str, str]
) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for p in article.get("shared_passages") or []:
        if not isinstance(p, Mapping):
            continue
        start, end = p.get("start"), p.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        other = p.get("with_article_id")
        label = outlet_of.get(other, "") if isinstance(other, str) else ""
        spans.append((start, end, label or str(other or "another article")))
    return spans


# --------------------------------------------------------------------------- story view model


def _text(item: Any, *keys: str) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        for key in keys:
            value = item.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return None


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [str(k) for k in value]
    if isinstance(value, Sequence):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


@dataclass(slots=True)
class TimelineEntry:
    when: str | None
    status: str  # "scheduled", "past", or what the analysis says
    text: str
    outlets: list[str]
    article_ids: list[str]


def timeline_entries(story: Mapping[str, Any]) -> list[TimelineEntry] | None:
    raw = story.get("timeline")
    if not isinstance(raw, list):
        return None
    entries = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        entries.append(
            TimelineEntry(
                when=_text(item, "date", "value", "when"),
                status=str(item.get("status") or item.get("tense") or "").lower() or "reported",
                text=_text(item, "text", "description", "event", "summary", "sentence") or "",
                outlets=_names(item.get("outlets")),
                article_ids=_names(item.get("article_ids")),
            )
        )
    entries.sort(key=lambda e: e.when or "")
    return entries


@dataclass(slots=True)
class FactRow:
    text: str
    cells: dict[str, str]  # outlet -> "corroborated" | "only here" | "conflicting"
    detail: dict[str, str] = field(default_factory=dict)  # outlet -> its version, if it differs


_STATE_NAMES = {
    "corroborated": "corroborated",
    "shared": "corroborated",
    "agreed": "corroborated",
    "single_source": "only here",
    "single": "only here",
    "only": "only here",
    "unique": "only here",
    "conflicting": "conflicting",
    "conflict": "conflicting",
    "contradicted": "conflicting",
}


def _fact_row(item: Any, status: str | None, outlets: list[str], all_outlets: list[str]) -> FactRow:
    text = _text(item, "text", "claim", "statement", "fact", "summary") or ""
    if isinstance(item, list):
        text = " · ".join(str(x) for x in item)
    detail: dict[str, str] = {}
    if isinstance(item, Mapping):
        status = str(item.get("status") or status or "")
        versions = item.get("versions") or item.get("variants") or item.get("by_outlet")
        if isinstance(versions, Mapping):
            for outlet, version in versions.items():
                shown = _text(version, "text", "value", "claim")
                if shown:
                    detail[str(outlet)] = shown
            outlets = outlets or list(detail)
        elif isinstance(versions, list) and status == "conflicting":
            # [{"text", "article_id", "outlet"}] (compare.facts): each outlet's version.
            for version in versions:
                outlet, shown = _text(version, "outlet"), _text(version, "text")
                if outlet and shown:
                    detail.setdefault(outlet, shown)
        outlets = _names(item.get("outlets")) or outlets
    state = _STATE_NAMES.get((status or "").lower())
    reporting = outlets or (all_outlets if state == "corroborated" else [])
    if state is None:
        state = "corroborated" if len(set(reporting)) > 1 else "only here"
    return FactRow(text=text, cells={o: state for o in reporting}, detail=detail)


def fact_rows(story: Mapping[str, Any], all_outlets: list[str]) -> list[FactRow] | None:
    raw = story.get("facts", story.get("comparison"))
    if raw is None:
        return None
    rows: list[FactRow] = []
    if isinstance(raw, list):
        rows = [_fact_row(item, None, [], all_outlets) for item in raw]
    elif isinstance(raw, Mapping):
        for status, items in raw.items():
            if isinstance(items, Mapping):  # {"single_source": {"Outlet": [facts]}}
                for outlet, facts in items.items():
                    for item in facts if isinstance(facts, list) else [facts]:
                        rows.append(_fact_row(item, status, [str(outlet)], all_outlets))
            elif isinstance(items, list):
                rows.extend(_fact_row(item, status, [], all_outlets) for item in items)
    return [r for r in rows if r.text]


@dataclass(slots=True)
class QuoteGroup:
    speaker: str
    speaker_type: str | None
    quotes: list[dict[str, Any]]


def quote_groups(story: Mapping[str, Any]) -> list[QuoteGroup] | None:
    raw = story.get("quotes")
    if not isinstance(raw, list):
        return None
    groups: dict[str, QuoteGroup] = {}
    for item in raw:
        if not isinstance(item, Mapping) or not _text(item, "text"):
            continue
        speaker = _text(item, "speaker") or "Unattributed"
        group = groups.setdefault(
            speaker.casefold(),
            QuoteGroup(speaker, _text(item, "speaker_type"), []),
        )
        group.quotes.append(
            {
                "text": _text(item, "text"),
                "direct": bool(item.get("direct", True)),
                "cue": _text(item, "cue"),
                "outlets": _names(item.get("outlets")),
            }
        )
    return sorted(groups.values(), key=lambda g: (g.speaker == "Unattributed", -len(g.quotes)))


@dataclass(slots=True)
class ActorView:
    name: str
    type: str
    aliases: list[str]
    mentions: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.mentions.values())


def actor_views(story: Mapping[str, Any]) -> list[ActorView] | None:
    raw = story.get("actors")
    if not isinstance(raw, list):
        return None
    actors = []
    for item in raw:
        name = _text(item, "name")
        if not name:
            continue
        mentions_raw = item.get("mentions_by_outlet") if isinstance(item, Mapping) else None
        mentions = (
            {str(k): int(v) for k, v in mentions_raw.items() if isinstance(v, int)}
            if isinstance(mentions_raw, Mapping)
            else {}
        )
        actors.append(
            ActorView(
                name=name,
                type=(_text(item, "type") or "other") if isinstance(item, Mapping) else "other",
                aliases=[a for a in _names(item.get("aliases")) if a != name]
                if isinstance(item, Mapping)
                else [],
                mentions=mentions,
            )
        )
    actors.sort(key=lambda a: (-a.total, a.name))
    return actors


def cited_sources(
    story: Mapping[str, Any], outlet_of: Mapping[str, str]
) -> list[dict[str, Any]] | None:
    raw = story.get("cited_sources")
    if not isinstance(raw, list):
        return None
    sources = []
    for item in raw:
        name = _text(item, "source", "name")
        if not name or not isinstance(item, Mapping):
            continue
        ids = _names(item.get("article_ids"))
        sources.append(
            {
                "source": name,
                "via": _names(item.get("via")),
                "outlets": sorted({outlet_of[i] for i in ids if i in outlet_of}),
            }
        )
    return sources


def story_view(story: dict[str, Any]) -> dict[str, Any]:
    """Everything the story page shows, from the export JSON."""
    articles: list[dict[str, Any]] = story.get("articles", [])
    outlet_of = {a["id"]: a.get("outlet") or "unknown outlet" for a in articles}
    counts = Counter(a.get("outlet") or "unknown outlet" for a in articles)
    outlets = [o for o, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    agencies = sorted({w for a in articles for w in a.get("wire_agencies") or []})
    languages = sorted({a["language"] for a in articles if a.get("language")})
    article_views = []
    for a in articles:
        spans = _passage_spans(a, outlet_of)
        shared_with = sorted({label for _, _, label in spans})
        article_views.append(
            {
                "data": a,
                "paragraphs": highlighted_paragraphs(a.get("body") or "", spans),
                "shared_with": shared_with,
                "has_passages": "shared_passages" in a,
            }
        )
    colours = story_colours(outlets)
    chart = coverage_svg(
        [(a.get("outlet") or "unknown outlet", a.get("published")) for a in articles],
        colour_index=colours,
    )
    summary = story.get("summary")
    return {
        "story": story,
        "summary": _text(summary, "text", "summary") if summary else None,
        "outlets": outlets,
        "outlet_counts": counts,
        "outlet_colours": colours,
        "agencies": agencies,
        "languages": languages,
        "articles": article_views,
        "timeline": timeline_entries(story),
        "facts": fact_rows(story, outlets),
        "quotes": quote_groups(story),
        "actors": actor_views(story),
        "cited_sources": cited_sources(story, outlet_of),
        "coverage_svg": Markup(chart),  # built by svg.py, every text in it escaped there
    }


# --------------------------------------------------------------------------- rendering


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("query", {})
    html = templates.get_template(name).render(request_path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status)
    expected = request.app.state.web_config.read_token
    token = request.query_params.get("token")
    if expected and token is not None and status < 400 and hmac.compare_digest(
        token.encode(), expected.encode()
    ):
        # Keep the token for the links of this site (never readable by scripts).
        response.set_cookie(
            READ_TOKEN_COOKIE, token, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/",
        )
    return response


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


# --------------------------------------------------------------------------- routes

pages = APIRouter(include_in_schema=False, dependencies=[Depends(require_read)])


@pages.get("/", response_class=HTMLResponse)
def story_list(
    request: Request,
    q: str | None = Query(None, max_length=500),
    entity: str | None = Query(None, max_length=200),
    outlet: str | None = Query(None, max_length=200),
    language: str | None = Query(None, max_length=20),
    since: str | None = Query(None, max_length=10),
    until: str | None = Query(None, max_length=10),
    page: int = Query(1, ge=1, le=10_000),
) -> HTMLResponse:
    query = story_query(q, entity, outlet, language, since, until)
    sl = service(request)
    offset = (page - 1) * PAGE_SIZE
    rows = sl.store.find_stories(query, limit=PAGE_SIZE + 1, offset=offset)
    hits = sl.search(query.text, limit=8) if query.text and page == 1 else []
    params = {
        k: v
        for k, v in {
            "q": q,
            "entity": entity,
            "outlet": outlet,
            "language": language,
            "since": since,
            "until": until,
        }.items()
        if v
    }
    known = facets(request)
    shown = [o for row in rows[:PAGE_SIZE] for o in row.outlets]
    return render(
        request,
        "stories.html",
        outlet_colours=story_colours(
            list(dict.fromkeys([*shown, *(name for name, _ in known.outlets)]))
        ),
        stories=rows[:PAGE_SIZE],
        hits=hits,
        query=params,
        filtered=bool(params),
        facets=known,
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        total=sl.store.count_stories(),
    )


@pages.get("/stories", response_class=HTMLResponse)
def story_list_alias(request: Request) -> Response:
    target = "/" + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(target, status_code=308)


def _story_or_404(request: Request, story_id: str) -> dict[str, Any]:
    data = story_json(service(request), story_id)
    if data is None:
        raise HTTPException(404, f"no story {story_id}")
    return data


@pages.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, story_id: str) -> Response:
    data = _story_or_404(request, story_id)
    if data["id"] != story_id:  # a prefix or a merged story: show its own address
        return RedirectResponse(f"/stories/{data['id']}", status_code=307)
    return render(request, "story.html", **story_view(data))


@pages.get("/stories/{story_id}/coverage.svg")
def story_coverage(request: Request, story_id: str) -> Response:
    data = _story_or_404(request, story_id)
    view = story_view(data)
    return Response(str(view["coverage_svg"]), media_type="image/svg+xml")


@pages.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: str) -> HTMLResponse:
    sl = service(request)
    article = sl.article(article_id)
    if article is None:
        raise HTTPException(404, f"no article {article_id}")
    story_id = sl.store.article_story_id(article.id)
    story = story_json(sl, story_id) if story_id else None
    exported: dict[str, Any] = {}
    outlet_of: dict[str, str] = {}
    if story is not None:
        outlet_of = {a["id"]: a.get("outlet") or "unknown outlet" for a in story["articles"]}
        exported = next((a for a in story["articles"] if a["id"] == article.id), {})
    spans = _passage_spans(exported, outlet_of)
    outlets = list(dict.fromkeys(outlet_of.values())) or [article.outlet or ""]
    return render(
        request,
        "article.html",
        article=article,
        exported=exported,
        story=story,
        paragraphs=highlighted_paragraphs(article.body, spans),
        shared_with=sorted({label for _, _, label in spans}),
        has_passages="shared_passages" in exported,
        outlet_colours=story_colours(outlets),
    )
