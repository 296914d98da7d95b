"""Per-story comparison of the outlets, from the stored per-article analyses.

`compare_story` is pure: given a story and what the analysis stages stored for
each of its articles, it returns the story-level fields of the export (actors,
quotes, cited sources, …). Later comparison stages add their fields here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storyline.analyse.citations import PeopleAnalysis, story_people
from storyline.analyse.events import Event
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
    return fields
