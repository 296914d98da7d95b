"""Fuzz the reader front door: `read_document` sniffs bytes as WARC, JSON Lines, JSON,
feed, HTML or text and decodes them (BOMs, charsets, mojibake repair)."""

from __future__ import annotations

import atheris
from _harness import SETTINGS, main

with atheris.instrument_imports(include=["storyline"]):
    from storyline.records import Failure, RawDocument
    from storyline.sources.files import read_document

KINDS = [None, "text", "html", "jsonl", "json", "feed"]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    kind = KINDS[fdp.ConsumeIntInRange(0, len(KINDS) - 1)]
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    for item in read_document(body, "fuzz", SETTINGS, kind=kind, follow_link=None):  # type: ignore[arg-type]
        assert isinstance(item, RawDocument | Failure)
        if isinstance(item, RawDocument):
            assert item.content.strip(), "a document has content"


if __name__ == "__main__":
    main(test_one_input)
