"""Fuzz HTML extraction: `storyline.extract.extract` on kind "html" (with URL and hints)."""

from __future__ import annotations

import atheris
from _harness import SETTINGS, main

with atheris.instrument_imports(include=["storyline"]):
    from storyline.extract import extract
    from storyline.pipeline import load_registry
    from storyline.records import RawDocument

REGISTRY = load_registry()
URLS = [None, "https://www.example.org/news/2024/03/01/story", "not a url", "https://reuters.com/x"]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    url = URLS[fdp.ConsumeIntInRange(0, len(URLS) - 1)]
    title = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 80)) or None
    html = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    raw = RawDocument(source="fuzz", content=html, kind="html", url=url, title=title)
    article = extract(raw, REGISTRY, max_html_depth=SETTINGS.limits.html_max_depth)
    assert article.body.strip(), "an extracted article has a body"


if __name__ == "__main__":
    main(test_one_input)
