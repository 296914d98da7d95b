"""Stable identifiers.

An article's id comes from its canonical URL when it has one (so the same
page fetched twice, with tracking parameters or not, is one article), else
from its content (so the same file ingested twice is one article).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from courlan import normalize_url

_SPACE = re.compile(r"\s+")


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def canonical_url(url: str | None) -> str | None:
    """The URL without tracking parameters, fragments and case noise; None if unusable."""
    if not url:
        return None
    url = url.strip()
    if not re.match(r"^https?://", url, re.IGNORECASE):
        return None
    try:
        return str(normalize_url(url, strict=True))
    except Exception:  # courlan raises assorted errors on malformed URLs
        return url


def normalise_text(text: str) -> str:
    """Text as compared for identity: NFC, whitespace collapsed, case folded."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def content_hash(text: str) -> str:
    return _digest("text", normalise_text(text))


def article_id(url: str | None, content: str) -> str:
    """Stable id of a document: from its canonical URL if it has one, else its content."""
    canon = canonical_url(url)
    if canon:
        return _digest("url", canon)
    return _digest("content", normalise_text(content))


def story_id(seed_article_id: str) -> str:
    """A story is named after the article that started it, so re-runs give the same ids."""
    return _digest("story", seed_article_id)
