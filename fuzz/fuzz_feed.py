"""Fuzz feed reading: `storyline.sources.feeds.read_feed` on bytes (no link following)."""

from __future__ import annotations

import atheris
from _harness import SETTINGS, main

with atheris.instrument_imports(include=["storyline"]):
    from storyline.records import Failure, RawDocument
    from storyline.sources.feeds import read_feed


def test_one_input(data: bytes) -> None:
    for item in read_feed(data, "fuzz.xml", SETTINGS, follow_link=None):
        assert isinstance(item, RawDocument | Failure)
        if isinstance(item, RawDocument):
            assert item.content.strip(), "a feed document has content"


if __name__ == "__main__":
    main(test_one_input)
