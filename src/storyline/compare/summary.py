"""Extractive story summary: 3-6 claims, each with the outlets that report it.

Sentences are taken whole from the fact groups (compare.facts), so every
sentence is something at least one outlet wrote, and it lists the outlets of
its group. Chosen: the main event (the best-supported claim nearest the top of
the articles), then claims carrying key dates, then the main statements
(attributed words), then the best-supported rest, without near-repeats.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from storyline.compare.facts import FactGroup

MIN_SENTENCES = 3
MAX_SENTENCES = 6
# Two summary sentences sharing this share of content words say the same thing.
REPEAT_OVERLAP = 0.5

_ATTRIBUTION = re.compile(
    r"[\"“”]|\b(?:said|says|told|added|according to|announced|confirmed|denied|denies|stated)\b",
    re.IGNORECASE,
)


def _position(group: FactGroup, lengths: dict[str, int]) -> float:
    # Where the claim sits in its article (0 = top), best over the outlets.
    return min(c.start / max(1, lengths.get(c.article_id, 1)) for c in group.claims)


def _words(group: FactGroup) -> frozenset[str]:
    return min(group.claims, key=lambda c: c.start).words


def _representative(group: FactGroup) -> str:
    # The earliest-placed variant: ledes are written to stand alone.
    return min(group.claims, key=lambda c: c.start).text


def summarise(
    groups: Sequence[FactGroup], body_lengths: dict[str, int], limit: int = MAX_SENTENCES
) -> list[dict[str, Any]]:
    """[{"text", "outlets"}] in reading order; conflicting groups are left out."""
    usable = [g for g in groups if g.status != "conflicting"]
    if not usable:
        return []
    # Where several outlets agree on claims, the summary keeps to those.
    widest = max(len(g.outlets) for g in usable)
    shared = [g for g in usable if len(g.outlets) == widest] if widest > 1 else usable

    def support(g: FactGroup) -> float:
        return len(g.outlets) + g.independent_sources * 0.5 - _position(g, body_lengths)

    main = max(usable, key=lambda g: (len(g.outlets), -_position(g, body_lengths)))
    dated = sorted((g for g in shared if any(c.dates for c in g.claims)), key=support, reverse=True)
    statements = sorted(
        (g for g in shared if any(_ATTRIBUTION.search(c.text) for c in g.claims)),
        key=support,
        reverse=True,
    )
    rest = sorted(usable, key=support, reverse=True)
    chosen: list[FactGroup] = []
    seen_dates: set[str] = set()

    def take(g: FactGroup) -> None:
        if len(chosen) >= limit or g in chosen:
            return
        words = _words(g)
        for other in chosen:
            other_words = _words(other)
            if (
                len(words & other_words) / max(1, min(len(words), len(other_words)))
                > REPEAT_OVERLAP
            ):
                return
        chosen.append(g)

    take(main)
    seen_dates |= {d for c in main.claims for d in c.dates}
    for g in dated:
        new = {d for c in g.claims for d in c.dates} - seen_dates
        if new and len(chosen) < 3:
            take(g)
            if g in chosen:
                seen_dates |= new
    for g in statements[:1]:
        take(g)
    for g in rest:
        if len(chosen) >= max(MIN_SENTENCES, limit - 1):
            break
        take(g)
    chosen.sort(key=lambda g: _position(g, body_lengths))
    return [{"text": _representative(g), "outlets": g.outlets} for g in chosen]
