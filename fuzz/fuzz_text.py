"""Fuzz the plain-text cleaner: `extract` on kind "text", and `clean_text` never grows a text."""

from __future__ import annotations

import re

import atheris
from _harness import main

with atheris.instrument_imports(include=["storyline"]):
    from storyline.extract import extract
    from storyline.extract.text import clean_text
    from storyline.pipeline import load_registry
    from storyline.records import RawDocument

REGISTRY = load_registry()
_SPACE = re.compile(r"\s")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    outlet = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 30)) or None
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    cleaned = clean_text(text, REGISTRY)
    assert len(_SPACE.sub("", cleaned.body)) <= len(_SPACE.sub("", text)), "the cleaner grew"
    extract(RawDocument(source="fuzz", content=text, kind="text", outlet=outlet), REGISTRY)


if __name__ == "__main__":
    main(test_one_input)
