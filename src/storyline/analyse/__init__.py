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
from storyline.analyse.events import extract_events
from storyline.analyse.nlp import ModelUnavailable, load_nlp
from storyline.analyse.timex import TimeExpression, tag_times
from storyline.records import Article

ANALYSIS_KINDS = ("time_expressions", "people", "events", "claims")


def _english(article: Article) -> bool:
    # The time rules and the configured spaCy pipeline are English; other languages
    # get no analysis rather than a wrong one.
    return article.language in (None, "en")


def time_expressions(article: Article) -> list[TimeExpression]:
    return tag_times(article.body, article.published) if _english(article) else []


def people(article: Article) -> PeopleAnalysis:
    """Entities, quotes and cited sources (spaCy, loaded once per process)."""
    if not _english(article):
        return PeopleAnalysis(error=f"no pipeline for language {article.language!r}")
    try:
        nlp = load_nlp()
    except ModelUnavailable as exc:
        return PeopleAnalysis(error=str(exc))
    return analyse_people([article.body], nlp)[0]


def analyse_article(article: Article) -> dict[str, Any]:
    """Every per-article analysis of `article`, as JSON-serialisable data by kind."""
    times = time_expressions(article)
    found = people(article)
    events = (
        extract_events(
            article.body, article.published, times, [(m.text, m.label) for m in found.entities]
        )
        if _english(article)
        else []
    )
    # Imported here: the comparison package imports this one.
    from storyline.compare.claims import article_claims

    return {
        "time_expressions": [asdict(t) for t in times],
        "people": found.to_dict(),
        "events": [asdict(e) for e in events],
        # Claim spans and their embeddings, so a story's first view only reads them.
        "claims": article_claims(article.body),
    }
