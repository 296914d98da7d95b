"""Fuzz WARC reading: `storyline.sources.warc.read_warc` on an in-memory stream.

Half of the inputs are gzip-compressed first, so the per-record gzip members
and the HTTP content codings are exercised as well as the plain format.
"""

from __future__ import annotations

import gzip
import io

import atheris
from _harness import SETTINGS, main

with atheris.instrument_imports(include=["storyline"]):
    from storyline.records import Failure, RawDocument
    from storyline.sources.warc import read_warc


def test_one_input(data: bytes) -> None:
    flag, data = data[:1], data[1:]
    if flag == b"\x01":
        data = gzip.compress(data, compresslevel=1)
    for item in read_warc(io.BytesIO(data), "fuzz.warc", SETTINGS):
        assert isinstance(item, RawDocument | Failure)
        if isinstance(item, RawDocument):
            assert len(item.content) <= SETTINGS.limits.max_warc_record_bytes * 4


if __name__ == "__main__":
    main(test_one_input)
