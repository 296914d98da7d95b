"""Shared plumbing for the atheris harnesses in this folder.

Each harness calls `main(test_one_input)`.  An input may make Storyline raise
one of its own declared errors (`ExtractionError`, `ReadError` and its
subclasses): that is a clear refusal of one document, not a finding.  Any
other exception propagates, so atheris reports it with the input that caused
it; a hang is caught by libFuzzer's `-timeout` (per input, in seconds).

Run one: `python fuzz/fuzz_html.py -max_total_time=60 -timeout=20 WORKDIR fuzz/seeds/html`
(libFuzzer writes new inputs to the first folder, so give it a scratch one).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports(include=["storyline"]):
    from storyline.config import Limits, Settings
    from storyline.extract import ExtractionError
    from storyline.sources.common import ReadError

DECLARED_ERRORS: tuple[type[BaseException], ...] = (ExtractionError, ReadError)

# Small limits: the fuzzer explores the limit checks instead of spending its time
# on 20 MB inputs, and the harness process stays small.
SETTINGS = Settings(
    db=":memory:",
    limits=Limits(
        max_document_bytes=1_000_000,
        max_warc_record_bytes=1_000_000,
        max_feed_items=200,
        max_jsonl_line_bytes=1_000_000,
        html_max_depth=400,
    ),
)


def main(test_one_input: Callable[[bytes], None]) -> None:
    def guarded(data: bytes) -> None:
        with contextlib.suppress(DECLARED_ERRORS):
            test_one_input(data)

    atheris.Setup(sys.argv, guarded)
    atheris.Fuzz()
