"""Small helpers shared by the readers: the error type, size wording, dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from storyline.records import Failure

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


_EPOCH = re.compile(r"^\d{9,13}(?:\.\d+)?$")


def to_iso8601(value: object) -> str | None:
    """A date given by a container (JSON field, feed entry, header) as ISO 8601, else None.

    Accepts ISO 8601, RFC 2822 (feeds, HTTP), Unix epochs in seconds or
    milliseconds, and written dates ("28 December 2021"). A date-only value
    stays a date so that its precision survives.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _EPOCH.match(text):
        return _from_epoch(float(text))
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        pass
    else:
        if len(text) <= 10:  # a bare date: keep it a date
            return parsed.date().isoformat()
        return parsed.isoformat()
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        from storyline.extract.textmeta import parse_date  # written dates, many languages
    except ImportError:  # pragma: no cover - extract is optional for the readers
        return None
    return parse_date(text)


def _from_epoch(seconds: float) -> str | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None
