"""Wire lineage of an article: which passages come from which agency's copy.

From the passages an article shares with other articles of its story (found at
ingest, per-article analysis kind "shared_passages") and the agencies each
article credits: a passage shared with an article that credits the same agency
is that agency's copy. What no other article shares is the outlet's own text.
Shares are fractions of the body's characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

UNCREDITED = "uncredited"  # shared copy, but no agency credited by both sides


def _merged_length(spans: Sequence[tuple[int, int]]) -> int:
    total, last_end = 0, -1
    for start, end in sorted(spans):
        start = max(start, last_end)
        if end > start:
            total += end - start
            last_end = end
    return total


def article_lineage(
    body: str,
    wire_agencies: Sequence[str],
    shared_passages: Sequence[Mapping[str, Any]],
    partner_agencies: Mapping[str, Sequence[str]],
) -> list[dict[str, Any]]:
    """[{"agency", "kind", "share", "passages"}]: agency copies first, the outlet's own text last.

    `partner_agencies` maps the other articles' ids to the agencies they credit.
    kind is "agency" (an agency both articles credit), "uncredited" (shared
    copy whose agency neither credit names) or "own" (agency None).
    """
    length = max(1, len(body))
    by_agency: dict[str, list[Mapping[str, Any]]] = {}
    mine = set(wire_agencies)
    for p in shared_passages:
        common = sorted(mine & set(partner_agencies.get(str(p.get("with_article_id")), ())))
        # Several common credits: the passage is one of their copies; name them all.
        agency = " / ".join(common) if common else UNCREDITED
        by_agency.setdefault(agency, []).append(p)
    out: list[dict[str, Any]] = []
    all_spans: list[tuple[int, int]] = []
    for agency, items in sorted(by_agency.items(), key=lambda kv: kv[0] == UNCREDITED):
        spans = [(int(p["start"]), int(p["end"])) for p in items]
        all_spans.extend(spans)
        out.append(
            {
                "agency": None if agency == UNCREDITED else agency,
                "kind": "uncredited" if agency == UNCREDITED else "agency",
                "share": round(_merged_length(spans) / length, 3),
                "passages": [
                    {
                        "text": p.get("text", body[int(p["start"]) : int(p["end"])]),
                        "start": int(p["start"]),
                        "end": int(p["end"]),
                        "with_article_id": p.get("with_article_id"),
                    }
                    for p in sorted(items, key=lambda p: int(p["start"]))
                ],
            }
        )
    own = 1 - _merged_length(all_spans) / length
    out.append({"agency": None, "kind": "own", "share": round(own, 3), "passages": []})
    return out
