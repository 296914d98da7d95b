"""Per-article analysis: who, what, when. Pure functions over a clean Article.

`analyse_article` returns the analyses of one article keyed by kind; the
pipeline stores each kind as JSON with the article (same transaction), and the
story-level comparison reads them back. A kind that fails for one article is
reported, not fatal: the article is still stored without it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from storyline.analyse.timex import tag_times
from storyline.records import Article

ANALYSIS_KINDS = ("time_expressions",)


def time_expressions(article: Article) -> list[dict[str, Any]]:
    # The tagger's rules are English; other languages get none rather than wrong ones.
    if article.language not in (None, "en"):
        return []
    return [asdict(t) for t in tag_times(article.body, article.published)]


def analyse_article(article: Article) -> dict[str, Any]:
    """Every per-article analysis of `article`, as JSON-serialisable data by kind."""
    return {"time_expressions": time_expressions(article)}
