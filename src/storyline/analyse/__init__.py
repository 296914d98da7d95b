"""Per-article analysis: who, what, when. Pure functions over a clean Article.

`analyse_article` returns the analyses of one article keyed by kind; the
pipeline stores each kind as JSON with the article (same transaction), and the
story-level comparison reads them back. A kind that fails for one article is
reported, not fatal: the article is still stored without it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from storyline.analyse.citations import PeopleAnalysis, analyse_people
from storyline.analyse.nlp import ModelUnavailable, load_nlp
from storyline.analyse.timex import tag_times
from storyline.records import Article

ANALYSIS_KINDS = ("time_expressions", "people")


def time_expressions(article: Article) -> list[dict[str, Any]]:
    # The tagger's rules are English; other languages get none rather than wrong ones.
    if article.language not in (None, "en"):
        return []
    return [asdict(t) for t in tag_times(article.body, article.published)]


def people(article: Article) -> dict[str, Any]:
    """Entities, quotes and cited sources (spaCy, loaded once per process)."""
    # The configured spaCy pipeline is English; other languages are left unanalysed.
    if article.language not in (None, "en"):
        return PeopleAnalysis(error=f"no pipeline for language {article.language!r}").to_dict()
    try:
        nlp = load_nlp()
    except ModelUnavailable as exc:
        return PeopleAnalysis(error=str(exc)).to_dict()
    return analyse_people([article.body], nlp)[0].to_dict()


def analyse_article(article: Article) -> dict[str, Any]:
    """Every per-article analysis of `article`, as JSON-serialisable data by kind."""
    return {"time_expressions": time_expressions(article), "people": people(article)}
