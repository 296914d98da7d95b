"""The scale-test corpus generator: known stories, deterministic, streaming, readable."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from storyline.config import Settings
from storyline.corpus import (
    MAX_ARTICLES_PER_STORY,
    MIN_ARTICLES_PER_STORY,
    SPREAD_HOURS,
    CorpusError,
    SourceArticle,
    edit_article,
    generate_articles,
    load_source_articles,
    news_outlets,
    read_labels,
    write_corpus,
)
from storyline.eval import DataUnavailable
from storyline.extract import extract
from storyline.extract.outlets import OutletRegistry
from storyline.records import RawDocument
from storyline.sources import read_inputs


def _source(story: str, n: int, topic: str) -> SourceArticle:
    return SourceArticle(
        "fixture",
        f"{story}-{n}",
        story,
        f"{topic} report number {n} on the {topic} affair",
        (
            f"The {topic} affair took a new turn on Monday when officials said the inquiry "
            f"would widen. Witnesses described the scene in detail.",
            f"Officials announced that a large team would help the {topic} inquiry. "
            f"The spokesman said more arrests were possible. Markets reacted calmly.",
            f"Critics said the {topic} response came too late. Residents began to gather "
            f"outside the town hall. The council will meet again on Friday.",
            f"A second {topic} hearing is planned for next month, the spokesman said.",
        ),
    )


SOURCES = [
    _source(f"fixture:{topic}", n, topic)
    for topic in ("harbour", "election", "wildfire", "merger")
    for n in range(2)
]


@pytest.fixture(scope="module")
def outlets():
    return news_outlets(OutletRegistry.load())


def test_same_seed_same_corpus_other_seed_other_corpus(tmp_path: Path) -> None:
    a = write_corpus(tmp_path / "a", 50, "jsonl", seed=7, sources=SOURCES)
    b = write_corpus(tmp_path / "b", 50, "jsonl", seed=7, sources=SOURCES)
    c = write_corpus(tmp_path / "c", 50, "jsonl", seed=8, sources=SOURCES)
    assert a.files[0].read_bytes() == b.files[0].read_bytes()
    assert a.labels.read_bytes() == b.labels.read_bytes()
    assert a.files[0].read_bytes() != c.files[0].read_bytes()


def test_generation_streams(outlets) -> None:
    # A billion-article corpus starts producing at once: nothing is built up front.
    first = list(itertools.islice(generate_articles(SOURCES, outlets, 10**9, seed=1), 25))
    assert len(first) == 25


def test_story_instances_are_copies_across_outlets_close_in_time(outlets) -> None:
    articles = list(generate_articles(SOURCES, outlets, 300, seed=3))
    assert len(articles) == 300
    assert len({a.url for a in articles}) == 300
    by_story = defaultdict(list)
    for a in articles:
        by_story[a.story].append(a)
    sizes = [len(v) for v in by_story.values()]
    assert max(sizes) <= MAX_ARTICLES_PER_STORY
    assert sum(s >= MIN_ARTICLES_PER_STORY for s in sizes) >= len(sizes) - 1  # the last may be cut
    for label, members in by_story.items():
        base = label.split("#")[0]
        assert {m.source_doc.split(":", 1)[1].rsplit("-", 1)[0] for m in members} == {base}
        assert len({m.outlet for m in members}) == len(members)  # one copy per outlet
        dates = sorted(datetime.fromisoformat(m.published) for m in members)
        assert dates[-1] - dates[0] <= timedelta(hours=SPREAD_HOURS)
    # Source stories are reused as new, later story instances.
    assert any(label.endswith("#1") for label in by_story)


def test_edits_keep_the_lead_and_change_something() -> None:
    import random

    rng = random.Random(0)
    source = SOURCES[0]
    edited = [edit_article(source, rng) for _ in range(40)]
    first_sentence = source.paragraphs[0].split(". ")[0]
    assert all(paragraphs[0].startswith(first_sentence[:20]) for _, paragraphs in edited)
    assert any(paragraphs != source.paragraphs for _, paragraphs in edited)
    assert any(title != source.title for title, _ in edited)


def test_jsonl_and_warc_read_back_with_dates_outlets_and_labels(tmp_path: Path) -> None:
    settings = Settings.from_env()
    registry = OutletRegistry.load()
    j = write_corpus(tmp_path / "j", 20, "jsonl", seed=1, sources=SOURCES)
    w = write_corpus(tmp_path / "w", 20, "warc", seed=1, sources=SOURCES)
    labels = read_labels(j.labels)
    assert labels == read_labels(w.labels)
    assert len(labels) == 20
    for summary in (j, w):
        docs = list(read_inputs([str(summary.files[0])], settings))
        assert all(isinstance(d, RawDocument) for d in docs)
        assert [d.url for d in docs] == list(labels)
        article = extract(docs[3], registry)
        assert article.published and article.published.startswith("2024-")
        assert article.outlet
        assert "All rights reserved" not in article.body
    first = json.loads(j.files[0].read_text().splitlines()[0])
    assert "story" not in first  # labels never leak into the articles


def test_shards_split_the_articles(tmp_path: Path) -> None:
    summary = write_corpus(tmp_path, 30, "jsonl", seed=2, sources=SOURCES, shards=3)
    assert len(summary.files) == 3
    assert sum(len(p.read_text().splitlines()) for p in summary.files) == 30


def test_missing_data_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("STORYLINE_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(CorpusError, match="not found"):
        load_source_articles()


@pytest.mark.data
def test_real_sources_have_story_labels() -> None:
    try:
        sources = load_source_articles()
    except CorpusError as exc:
        pytest.skip(str(exc))
    except DataUnavailable as exc:  # pragma: no cover - load_source_articles wraps it
        pytest.skip(str(exc))
    stories = {s.story for s in sources}
    assert len(sources) > 1000
    # ECB+ sub-topics group several source articles into one story.
    assert sum(1 for s in sources if s.story.startswith("ecbplus:")) > len(
        {s.story for s in sources if s.story.startswith("ecbplus:")}
    )
    assert len(stories) < len(sources)
