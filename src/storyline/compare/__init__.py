"""Per-story comparison of the outlets, from the stored per-article analyses.

`compare_story` is pure: given a story and what the analysis stages stored for
each of its articles, it returns the story-level fields of the export (actors,
quotes, cited sources, …). Later comparison stages add their fields here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from storyline.analyse.citations import PeopleAnalysis, story_people
from storyline.analyse.events import Event
from storyline.compare.claims import CLAIMS_KIND, embed_with_stored, stored_claim_vectors
from storyline.compare.facts import ArticleInput, Embed, compare_facts, facts_to_json
from storyline.compare.lineage import article_lineage
from storyline.compare.summary import summarise
from storyline.compare.timeline import TimelineEntry, build_timeline, timeline_to_json
from storyline.records import Story

StoryAnalyses = Mapping[str, Mapping[str, Any]]  # article id -> kind -> data


def story_timeline(story: Story, analyses: StoryAnalyses) -> list[TimelineEntry]:
    """The story's dated events, merged across outlets, in date order."""
    originals = [a for a in story.articles if not a.duplicate_of]
    events = {
        a.id: [Event(**e) for e in analyses.get(a.id, {}).get("events") or []] for a in originals
    }
    return build_timeline(events, {a.id: a.outlet for a in originals})


# Claim embeddings by text, so a story page served again costs no model call.
# Articles ingested with the "claims" analysis bring theirs (story_embed); the
# others are computed on first read and kept here.
_EMBED_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_EMBED_CACHE_SIZE = 50_000


def cached_embed(texts: Sequence[str]) -> np.ndarray:
    """Sentence embeddings (multilingual USE), memoised per text in this process."""
    from storyline.link.embed import load_embedder

    missing = [t for t in dict.fromkeys(texts) if t not in _EMBED_CACHE]
    if missing:
        for text, row in zip(missing, load_embedder().embed(missing), strict=True):
            _EMBED_CACHE[text] = row
        while len(_EMBED_CACHE) > _EMBED_CACHE_SIZE:
            _EMBED_CACHE.popitem(last=False)
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    return np.stack([_EMBED_CACHE[t] for t in texts])


def story_embed(inputs: Sequence[ArticleInput], analyses: StoryAnalyses) -> Embed:
    """Claim embeddings: those stored at ingest ("claims" analysis), else computed now."""
    from storyline.link.embed import DEFAULT_MODEL

    stored: dict[str, np.ndarray] = {}
    for a in inputs:
        stored.update(
            stored_claim_vectors(a.body, analyses.get(a.id, {}).get(CLAIMS_KIND), DEFAULT_MODEL)
        )
    return embed_with_stored(stored, cached_embed)


def fact_inputs(story: Story, analyses: StoryAnalyses) -> list[ArticleInput]:
    return [
        ArticleInput(
            id=a.id,
            outlet=a.outlet or a.source,
            body=a.body,
            wire_agencies=tuple(a.wire_agencies),
            time_expressions=tuple(analyses.get(a.id, {}).get("time_expressions") or ()),
            people=analyses.get(a.id, {}).get("people"),
            shared_passages=tuple(analyses.get(a.id, {}).get("shared_passages") or ()),
        )
        for a in story.articles
        if not a.duplicate_of and a.body
    ]


def story_lineage(story: Story, analyses: StoryAnalyses) -> dict[str, list[dict[str, Any]]]:
    """Article id -> its wire lineage (agency copies and own text, as shares)."""
    credits = {a.id: list(a.wire_agencies) for a in story.articles}
    return {
        a.id: article_lineage(
            a.body,
            a.wire_agencies,
            analyses.get(a.id, {}).get("shared_passages") or [],
            credits,
        )
        for a in story.articles
        if not a.duplicate_of and analyses.get(a.id, {}).get("shared_passages") is not None
    }


def compare_story(story: Story, analyses: StoryAnalyses) -> dict[str, Any]:
    originals = [a for a in story.articles if not a.duplicate_of]
    fields: dict[str, Any] = {}
    if any(analyses.get(a.id, {}).get("events") is not None for a in originals):
        fields["timeline"] = timeline_to_json(story_timeline(story, analyses))
    with_people = [a for a in originals if analyses.get(a.id, {}).get("people") is not None]
    if with_people:
        fields.update(
            story_people(
                [PeopleAnalysis.from_dict(analyses[a.id]["people"]) for a in with_people],
                [a.outlet for a in with_people],
                [a.id for a in with_people],
            )
        )
    inputs = fact_inputs(story, analyses)
    if inputs and with_people:
        # Only once the analyses are stored: claims need their dates and names.
        groups = compare_facts(inputs, story_embed(inputs, analyses))
        fields["facts"] = facts_to_json(groups)
        fields["summary"] = summarise(groups, {a.id: len(a.body) for a in inputs})
    return fields
