"""A synthetic news corpus with known stories, for scale tests, built from real articles.

The source texts are the real articles of the evaluation data sets (ECB+,
NewsWCL50, MEANTIME, PolNeAR; see `storyline.eval.dataset_path`).  Each
output article is one source article re-dated, re-attributed to an outlet of
the outlet registry and lightly edited (a sentence dropped, synonyms swapped,
the headline rewritten, two paragraphs swapped), optionally wrapped in a
simple HTML page with the outlet's page furniture.

Story labels: a *story instance* is one source story (an ECB+ sub-topic, a
NewsWCL50 event, or a single MEANTIME/PolNeAR article, whose topics are too
broad to be one story) placed at one date; its articles (copies of its source
articles across outlets) are one story.  The same source story is reused for
later instances once every source story has been used, a few weeks later
(`INSTANCES_PER_DAY`), so a large corpus holds many distinct stories with the
same wording and a linker must use time to keep them apart, as in real news.

Generation is deterministic given the seed and streams: one article is built,
written and forgotten at a time, so 1M articles need no more memory than 100.
Articles go to `OUT/articles/`, labels to the sidecar `OUT/labels.jsonl`
(url -> story), never into the articles.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import IO, Literal

from storyline.eval import dataset_path
from storyline.extract.outlets import Outlet, OutletRegistry

CorpusFormat = Literal["jsonl", "warc"]
DATASETS = ("ecbplus", "newswcl50", "meantime", "polnear")
START = datetime(2024, 1, 1, 6, 0)
# Story instances begin at this rate: ~1,100 source stories are reused every ~3 weeks,
# three times the default linking window, and 100k articles span about nine months.
INSTANCES_PER_DAY = 50
MIN_ARTICLES_PER_STORY = 2
MAX_ARTICLES_PER_STORY = 12
SPREAD_HOURS = 48  # articles of one story appear within two days of its start

# Word swaps that keep a sentence grammatical and its meaning.
SYNONYMS = {
    "said": "stated",
    "announced": "revealed",
    "officials": "authorities",
    "began": "started",
    "large": "big",
    "help": "assist",
    "about": "around",
    "buy": "purchase",
    "shows": "reveals",
    "attempt": "bid",
    "spokesman": "spokesperson",
    "killed": "left dead",
}
_SYNONYM_RE = re.compile(r"\b(" + "|".join(map(re.escape, SYNONYMS)) + r")\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_DATE_LINE = re.compile(r"^[A-Z][a-z]+ \d{1,2}, \d{4}$")
_SLUG = re.compile(r"[^a-z0-9]+")
_HEADLINE_PREFIXES = ("Update: ", "Report: ", "Breaking: ", "Live: ")
_HEADLINE_SUFFIXES = (" - report", " (updated)", ", sources say")
_SECTIONS = ("World", "Politics", "Business", "Science", "Sport", "Culture")


class CorpusError(Exception):
    """The corpus cannot be generated (no source data, bad arguments)."""


@dataclass(frozen=True, slots=True)
class SourceArticle:
    dataset: str
    doc_id: str
    story: str  # the dataset's story key, e.g. "ecbplus:1ecb"
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CorpusArticle:
    url: str
    story: str  # the story instance label, e.g. "ecbplus:1ecb#3"
    source_doc: str  # dataset:doc_id of the source article
    outlet: str
    domain: str
    published: str
    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


# -- source texts (the I/O edge) ------------------------------------------------------
def _rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _paragraphs(text: str, title: str) -> tuple[str, ...]:
    lines = [ln.strip() for ln in re.split(r"\n+", text) if ln.strip()]
    if lines and lines[0].lower().startswith("http"):
        lines = lines[1:]  # ECB+ keeps the page URL as its first line
    if lines and title and lines[0].rstrip(".") == title.rstrip("."):
        lines = lines[1:]
    if lines and _DATE_LINE.match(lines[0]):
        lines = lines[1:]  # MEANTIME (Wikinews) dateline
    return tuple(lines)


def load_source_articles(datasets: Sequence[str] = DATASETS) -> list[SourceArticle]:
    """Every usable source article; raises CorpusError when no data set is present."""
    from storyline.eval import DataUnavailable

    found: list[SourceArticle] = []
    missing: list[str] = []
    for name in datasets:
        try:
            folder = dataset_path(name)
        except DataUnavailable as exc:
            missing.append(str(exc))
            continue
        found.extend(_load_one(name, folder))
    if not found:
        raise CorpusError(
            "no source articles: " + ("; ".join(missing) or "no data sets were named")
        )
    return [a for a in found if a.title and len(a.paragraphs) >= 2]


def _load_one(name: str, folder: Path) -> list[SourceArticle]:
    out: list[SourceArticle] = []
    if name == "ecbplus":
        for row in _rows(folder / "docs.jsonl"):
            lines = [ln for ln in row["text"].split("\n") if ln.strip()]
            if lines and lines[0].lower().startswith("http"):
                lines = lines[1:]
            if not lines:
                continue
            title = lines[0].strip()
            out.append(
                SourceArticle(
                    name,
                    row["id"],
                    f"ecbplus:{row['subtopic']}",
                    title,
                    _paragraphs("\n".join(lines[1:]), title),
                )
            )
    elif name == "newswcl50":
        for row in _rows(folder / "articles.jsonl"):
            title = row.get("title") or ""
            out.append(
                SourceArticle(
                    name,
                    row["id"],
                    f"newswcl50:{row['event_id']}",
                    title,
                    _paragraphs(row["text"], title),
                )
            )
    elif name == "meantime":
        for row in _rows(folder / "docs.jsonl"):
            title = row.get("title") or ""
            # Its topics (e.g. "airbus") span years of unrelated events: one article, one story.
            out.append(
                SourceArticle(
                    name, row["id"], f"meantime:{row['id']}", title, _paragraphs(row["text"], title)
                )
            )
    elif name == "polnear":
        seen: set[str] = set()
        for row in _rows(folder / "attributions.jsonl"):
            if row["doc_id"] in seen:
                continue  # one row per annotator
            seen.add(row["doc_id"])
            title = row.get("title") or ""
            out.append(
                SourceArticle(
                    name,
                    row["doc_id"],
                    f"polnear:{row['doc_id']}",
                    title,
                    _paragraphs(row["text"], title),
                )
            )
    else:
        raise CorpusError(f"unknown source data set {name!r} (known: {', '.join(DATASETS)})")
    return out


def news_outlets(registry: OutletRegistry) -> list[Outlet]:
    """Registry outlets that publish their own pages (not wire services), by name."""
    return sorted(
        (o for o in registry if o.domains and o.kind != "wire"), key=lambda o: o.name
    )


# -- generation (pure given the seed) -------------------------------------------------
def _swap_synonyms(text: str, rng: random.Random) -> str:
    return _SYNONYM_RE.sub(
        lambda m: SYNONYMS[m.group(1)] if rng.random() < 0.5 else m.group(1), text
    )


def _rewrite_headline(title: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return title
    if roll < 0.6:
        return rng.choice(_HEADLINE_PREFIXES) + title
    if roll < 0.8:
        return title.rstrip(".") + rng.choice(_HEADLINE_SUFFIXES)
    if _SYNONYM_RE.search(title):
        return _swap_synonyms(title, rng)
    return title.rstrip(".")


def edit_article(source: SourceArticle, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A lightly edited copy: (headline, paragraphs)."""
    paragraphs = [_swap_synonyms(p, rng) for p in source.paragraphs]
    if len(paragraphs) >= 4 and rng.random() < 0.3:
        # Editors swap later paragraphs; the lead stays.
        i, j = rng.sample(range(1, len(paragraphs)), 2)
        paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
    sentences = [(i, s) for i, p in enumerate(paragraphs) for s in _SENTENCE_END.split(p)]
    if len(sentences) >= 5 and rng.random() < 0.5:
        drop = rng.randrange(1, len(sentences))  # never the first sentence
        kept: dict[int, list[str]] = {}
        for k, (i, s) in enumerate(sentences):
            if k != drop:
                kept.setdefault(i, []).append(s)
        paragraphs = [" ".join(kept[i]) for i in sorted(kept)]
    return _rewrite_headline(source.title, rng), tuple(p for p in paragraphs if p.strip())


def generate_articles(
    sources: Sequence[SourceArticle], outlets: Sequence[Outlet], size: int, seed: int = 0
) -> Iterator[CorpusArticle]:
    """`size` articles, story instance after story instance, in roughly date order."""
    if size < 0:
        raise CorpusError("size must be >= 0")
    if not sources or len(outlets) < MAX_ARTICLES_PER_STORY:
        raise CorpusError("need source articles and at least a dozen outlets")
    rng = random.Random(seed)
    by_story: dict[str, list[SourceArticle]] = {}
    for source in sorted(sources, key=lambda s: (s.story, s.doc_id)):
        by_story.setdefault(source.story, []).append(source)
    story_keys = sorted(by_story)
    made = 0
    instance = 0
    order: list[str] = []
    while made < size:
        if instance % len(story_keys) == 0:
            order = story_keys[:]
            rng.shuffle(order)
        key = order[instance % len(story_keys)]
        round_no = instance // len(story_keys)
        start = START + timedelta(days=instance / INSTANCES_PER_DAY)
        count = min(size - made, rng.randint(MIN_ARTICLES_PER_STORY, MAX_ARTICLES_PER_STORY))
        for outlet in rng.sample(list(outlets), count):
            source = rng.choice(by_story[key])
            published = start + timedelta(minutes=rng.randrange(SPREAD_HOURS * 60))
            title, paragraphs = edit_article(source, rng)
            slug = _SLUG.sub("-", title.lower()).strip("-")[:60]
            made += 1
            yield CorpusArticle(
                url=f"https://www.{outlet.domains[0]}/{published:%Y/%m/%d}/{slug}-{made}",
                story=f"{key}#{round_no}",
                source_doc=f"{source.dataset}:{source.doc_id}",
                outlet=outlet.name,
                domain=outlet.domains[0],
                published=published.strftime("%Y-%m-%dT%H:%M:00"),
                title=title,
                paragraphs=paragraphs,
            )
        instance += 1


def render_html(article: CorpusArticle) -> str:
    """A simple news page: the article inside the outlet's navigation, promos and footer."""
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    nav = " ".join(f'<a href="/{s.lower()}">{s}</a>' for s in _SECTIONS)
    name = escape(article.outlet)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(article.title)} | {name}</title>
<link rel="canonical" href="{escape(article.url)}">
<meta property="og:site_name" content="{name}">
<meta property="og:title" content="{escape(article.title)}">
<meta property="article:published_time" content="{article.published}">
</head><body>
<header><a href="/">{name}</a><nav>{nav} <a href="/subscribe">Subscribe</a></nav></header>
<main><article>
<h1>{escape(article.title)}</h1>
<p class="byline">By {name} staff ·
<time datetime="{article.published}">{article.published[:10]}</time></p>
{paragraphs}
</article>
<aside><h2>Most read</h2><ul><li><a href="/latest">Latest news from {name}</a></li>
<li><a href="/newsletter">Sign up for our daily newsletter</a></li></ul></aside></main>
<footer><p>© {name}. All rights reserved.</p>
<a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>
</body></html>
"""


# -- writing (the I/O edge) -----------------------------------------------------------
@dataclass(slots=True)
class CorpusSummary:
    articles: int
    stories: int
    files: list[Path]
    labels: Path


def _warc_record(article: CorpusArticle, page: str) -> bytes:
    body = page.encode("utf-8")
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    record_id = uuid.uuid5(uuid.NAMESPACE_URL, article.url)
    headers = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        f"WARC-Date: {article.published}Z\r\n"
        f"WARC-Target-URI: {article.url}\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    ).encode()
    # One gzip member per record, as in Common Crawl: readers can seek to any record.
    return gzip.compress(headers + http + b"\r\n\r\n", compresslevel=5)


def write_corpus(
    out_dir: Path,
    size: int,
    fmt: CorpusFormat = "jsonl",
    *,
    seed: int = 0,
    html: bool = False,
    shards: int = 1,
    sources: Sequence[SourceArticle] | None = None,
    registry: OutletRegistry | None = None,
) -> CorpusSummary:
    """Write `size` articles to `shards` files in `out_dir/articles/`, labels to labels.jsonl.

    JSON Lines carry clean text (or the HTML page with `html=True`); WARC always
    carries HTML pages.
    """
    if fmt not in ("jsonl", "warc"):
        raise CorpusError(f"unknown format {fmt!r} (jsonl or warc)")
    shards = max(1, shards)
    sources = load_source_articles() if sources is None else sources
    outlets = news_outlets(registry or OutletRegistry.load())
    # Articles in their own folder, so that folder can be ingested without the labels.
    articles_dir = out_dir / "articles"
    articles_dir.mkdir(parents=True, exist_ok=True)
    suffix = "jsonl" if fmt == "jsonl" else "warc.gz"
    paths = [articles_dir / f"articles-{i:03d}.{suffix}" for i in range(shards)]
    labels_path = out_dir / "labels.jsonl"
    handles: list[IO[bytes]] = [p.open("wb") for p in paths]
    stories: set[str] = set()
    count = 0
    try:
        with labels_path.open("w", encoding="utf-8") as labels:
            for article in generate_articles(sources, outlets, size, seed):
                handle = handles[count % shards]
                if fmt == "warc":
                    handle.write(_warc_record(article, render_html(article)))
                else:
                    record: dict[str, object] = {
                        "url": article.url,
                        "title": article.title,
                        "published": article.published,
                        "outlet": article.outlet,
                        "language": "en",
                    }
                    if html:
                        record["html"] = render_html(article)
                    else:
                        record["text"] = article.text
                    handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
                labels.write(
                    json.dumps(
                        {"url": article.url, "story": article.story, "source": article.source_doc}
                    )
                    + "\n"
                )
                stories.add(article.story)
                count += 1
    finally:
        for h in handles:
            h.close()
    return CorpusSummary(count, len(stories), paths, labels_path)


def read_labels(path: Path) -> dict[str, str]:
    """url -> story label from a labels.jsonl sidecar."""
    return {row["url"]: row["story"] for row in _rows(path)}
