"""Small helpers shared by the readers: the error type, size wording, dates."""

from __future__ import annotations

from storyline.extract.textmeta import to_iso8601
from storyline.records import Failure

__all__ = ["ReadError", "human_size", "over_limit", "to_iso8601"]

READ_STAGE = "read"
DECODE_STAGE = "decode"


class ReadError(Exception):
    """One item could not be read; `reason` is a sentence for the user."""

    def __init__(self, reason: str, stage: str = READ_STAGE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage

    def failure(self, source: str) -> Failure:
        return Failure(source=source, stage=self.stage, reason=self.reason)


def human_size(n: int) -> str:
    """Decimal units, as file managers show them: 52400000 -> '52.4 MB'."""
    if n < 1000:
        return f"{n} bytes"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n < scale * 1000 or unit == "GB":
            return f"{n / scale:.1f} {unit}"
    raise AssertionError("unreachable")


def over_limit(what: str, size: int, limit: int, setting: str) -> str:
    """'file is 52.4 MB, above the 20.0 MB limit (STORYLINE_MAX_DOCUMENT_BYTES)'."""
    return (
        f"{what} is {human_size(size)}, above the {human_size(limit)} limit "
        f"(STORYLINE_{setting.upper()})"
    )


