"""Content-Encoding decompression with a hard cap on the output.

A gzip bomb (a few kB that inflate to gigabytes) is caught while it
inflates: every step asks the decompressor for at most the bytes still
allowed, so memory never exceeds the limit however the input is built.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

from storyline.sources.common import ReadError, human_size

try:
    import brotli
except ImportError:  # pragma: no cover - brotli comes with fastwarc
    brotli = None


class TooLarge(ReadError):
    pass


class _Step(Protocol):
    def feed(self, data: bytes, budget: int) -> Iterator[bytes]: ...
    def finish(self) -> bytes: ...


class _Zlib:
    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits  # None: decide from the first bytes (deflate is sent both ways)
        self._inflater: zlib._Decompress | None = None
        if wbits is not None:
            self._inflater = zlib.decompressobj(wbits)

    def feed(self, data: bytes, budget: int) -> Iterator[bytes]:
        if self._inflater is None:
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        inflater = self._inflater
        pending = data
        while pending:
            try:
                out = inflater.decompress(pending, budget + 1)
            except zlib.error as err:
                raise ReadError(f"corrupt compressed content: {err}") from None
            yield out
            budget -= len(out)
            if budget < 0:
                return
            pending = inflater.unconsumed_tail
            if inflater.eof:
                # Concatenated gzip members are legal; start the next one.
                rest = inflater.unused_data
                if rest and self._wbits is not None and rest[:2] == b"\x1f\x8b":
                    self._inflater = inflater = zlib.decompressobj(self._wbits)
                    pending = rest
                else:
                    return

    def finish(self) -> bytes:
        if self._inflater is None:
            return b""
        if not self._inflater.eof:
            raise ReadError("compressed content is truncated")
        return b""


class _Brotli:
    def __init__(self) -> None:
        if brotli is None:  # pragma: no cover
            raise ReadError("brotli-compressed content, but the brotli package is not installed")
        self._decoder = brotli.Decompressor()

    def feed(self, data: bytes, budget: int) -> Iterator[bytes]:
        try:
            out = self._decoder.process(data, output_buffer_limit=budget + 1)
            yield out
            budget -= len(out)
            while budget >= 0 and not self._decoder.can_accept_more_data():
                out = self._decoder.process(b"", output_buffer_limit=budget + 1)
                yield out
                budget -= len(out)
        except brotli.error as err:
            raise ReadError(f"corrupt brotli content: {err}") from None

    def finish(self) -> bytes:
        if not self._decoder.is_finished():
            raise ReadError("brotli content is truncated")
        return b""


def _step(coding: str) -> _Step | None:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(zlib.MAX_WBITS | 16)
    if coding == "deflate":
        return _Zlib(None)
    if coding == "br":
        return _Brotli()
    if coding in ("", "identity", "none"):
        return None
    raise ReadError(f"unsupported Content-Encoding: {coding}")


def parse_content_encoding(header: str | None) -> list[str]:
    """Codings in the order they were applied ('gzip, br' -> ['gzip', 'br'])."""
    if not header:
        return []
    return [
        c.strip().lower() for c in header.split(",") if c.strip().lower() not in ("", "identity")
    ]


class BoundedDecoder:
    """Undo a Content-Encoding chunk by chunk; TooLarge once the output passes `limit`."""

    def __init__(
        self, content_encoding: str | None, limit: int, what: str = "decompressed content"
    ):
        codings = parse_content_encoding(content_encoding)
        steps = [_step(c) for c in reversed(codings)]  # the last applied is undone first
        self._steps = [s for s in steps if s is not None]
        self._limit = limit
        self._what = what
        self.size = 0

    def _check(self, produced: int) -> None:
        self.size += produced
        if self.size > self._limit:
            raise TooLarge(f"{self._what} is larger than the {human_size(self._limit)} limit")

    def feed(self, data: bytes) -> bytes:
        chunks = [data]
        for step in self._steps:
            next_chunks: list[bytes] = []
            for chunk in chunks:
                # Each stage may use the whole remaining budget: its output is
                # what the next stage (or the caller) must hold.
                budget = self._limit - self.size
                produced = 0
                for out in step.feed(chunk, budget):
                    produced += len(out)
                    if produced > budget:
                        self._check(produced)
                    next_chunks.append(out)
            chunks = next_chunks
        out = b"".join(chunks)
        self._check(len(out))
        return out

    def finish(self) -> None:
        for step in self._steps:
            step.finish()


def decode_all(data: bytes, content_encoding: str | None, limit: int, what: str) -> bytes:
    """Decompress a body already in memory, refusing output above `limit`."""
    decoder = BoundedDecoder(content_encoding, limit, what)
    out = decoder.feed(data)
    decoder.finish()
    return out

