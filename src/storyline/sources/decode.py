"""Bytes to text, the same way for every reader.

Order of evidence: a byte-order mark; valid UTF-8 (multi-byte UTF-8 almost
never happens by accident, so it beats a stale declaration); a declared
charset (HTTP header, <meta>, XML prolog) if the bytes decode under it; then
a guess. The guess weighs charset-normalizer against Windows-1252, the
browsers' default for undeclared Western text, because the detector often
picks a wrong single-byte code page for short Latin-script text. Finally
ftfy repairs mojibake ("CafÃ©" -> "Café") with options that leave correct
text alone (no quote uncurling, no width folding, no HTML unescaping).
"""

from __future__ import annotations

import codecs
import contextlib
import re
import unicodedata

import ftfy
from charset_normalizer import from_bytes
from ftfy.chardata import CONTROL_CHARS

from storyline.sources.common import DECODE_STAGE, ReadError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG: these labels mean windows-1252 on the web.
_WEB_ALIASES = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{2,40})""")

_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,  # HTML stays markup; entities are the parser's business
    uncurl_quotes=False,
    fix_character_width=False,  # fullwidth forms are correct in CJK text
    fix_latin_ligatures=False,
    normalization="NFC",
    explain=False,
)

# Symbols that do not occur inside words (apostrophes and hyphens do, so they are not here).
_WEDGE_CATEGORIES = frozenset({"No", "Po", "Sc", "Sk", "Sm", "So"})

# What mojibake looks like: a UTF-8 lead byte read as Windows-1252/Latin-1 ("Ã", "â")
# followed by a continuation byte read the same way ("©", "€"); the same for UTF-8
# read as Windows-1251 ("Р", "С" then "ѕ", "џ"...); or C1 control characters.
_CP1252_CONTINUATION = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
_CP1251_CONTINUATION = (
    "\u0400-\u040f\u0450-\u045f\u00a0-\u00bf\u0490\u0491"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2116\u2122"
)
_MOJIBAKE_HINT = re.compile(
    # The lookahead lets the regex engine skip quickly to candidate characters.
    "(?=[\u0080-\u009f\u00c2-\u00f4\u0420\u0421])"
    f"(?:[\u0080-\u009f]|[\u00c2-\u00f4][{_CP1252_CONTINUATION}]"
    f"|[\u0420\u0421][{_CP1251_CONTINUATION}])"
)

# The invisible characters ftfy removes (NUL, escape codes, BOMs, deprecated formatting).
_CONTROL = re.compile("[" + re.escape("".join(sorted(map(chr, CONTROL_CHARS)))) + "]")
_ASCII_CONTROL = bytes(c for c in CONTROL_CHARS if c < 128)


class DecodeError(ReadError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, stage=DECODE_STAGE)


def normalise_encoding(name: str | None) -> str | None:
    """A Python codec name for a declared charset, or None when unknown."""
    if not name:
        return None
    try:
        canonical = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    return _WEB_ALIASES.get(canonical, canonical)


def declared_charset(data: bytes) -> str | None:
    """The charset a document declares about itself (<meta charset>, XML prolog)."""
    head = data[:4096]
    found = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    return found.group(1).decode("ascii") if found else None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode a document to clean text with `\\n` newlines; DecodeError when impossible.

    `declared` is the charset from outside the document (an HTTP header);
    a charset the document declares about itself is found here.
    """
    return repair_text(_decode(data, declared))


def repair_text(text: str) -> str:
    """Repair mojibake and normalise newlines in text that is already a str (JSON fields)."""
    text = _normalise_newlines(text)
    # The common cases, and cheap: ftfy costs about a second per MB even on clean text.
    if text.isascii():
        raw = text.encode("ascii")
        if len(raw.translate(None, _ASCII_CONTROL)) == len(raw):
            return text
    elif not (_MOJIBAKE_HINT.search(text) or _CONTROL.search(text)):
        return unicodedata.normalize("NFC", text)
    # ftfy works line by line anyway; sending it only the suspect lines gives the same
    # result, faster.
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _MOJIBAKE_HINT.search(line):
            lines[i] = ftfy.fix_text(line, _FTFY_CONFIG)
        elif not line.isascii() or _CONTROL.search(line):
            lines[i] = unicodedata.normalize("NFC", _CONTROL.sub("", line))
    return _normalise_newlines("\n".join(lines))


def _normalise_newlines(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        for separator in ("\u2028", "\u2029", "\x85"):
            if separator in text:
                text = text.replace(separator, "\n")
    return text


def _decode(data: bytes, declared: str | None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as err:
                raise DecodeError(
                    f"invalid {encoding.upper()} after a byte-order mark: {err.reason}"
                ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for name in (declared, declared_charset(data)):
        candidate = normalise_encoding(name)
        if candidate and candidate != "utf-8":
            try:
                return data.decode(candidate)
            except UnicodeDecodeError:
                continue
    return _guess(data)


def _guess(data: bytes) -> str:
    candidates: list[str] = []
    with contextlib.suppress(UnicodeDecodeError):
        candidates.append(data.decode("cp1252"))
    best = from_bytes(data[:200_000]).best()  # a prefix is plenty and keeps this fast
    if best is not None:
        with contextlib.suppress(UnicodeDecodeError, LookupError):
            candidates.append(data.decode(best.encoding))
    if not candidates:
        raise DecodeError("could not work out the text encoding (not UTF-8, no declared charset)")
    # Windows-1252 first: it wins ties.
    return min(candidates, key=_implausibility)


def _implausibility(text: str) -> tuple[int, float]:
    """How unlike real text a decoding looks: lower is better.

    First, symbols wedged between letters ("wia³o" is Polish read as
    Windows-1252); then the share of letters outside ASCII, which is small
    in Latin-script text and near 1 when Cyrillic or Greek bytes are read
    as Latin-1 ("Ïðèâåò"). Non-Latin scripts decoded right score 0 on the
    second count because their letters are compared to their own script.
    """
    sample = text[:200_000]
    wedged = 0
    for i in range(1, len(sample) - 1):
        ch = sample[i]
        if ord(ch) < 128:
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Co", "Cn") or (
            category in _WEDGE_CATEGORIES
            and ch != "·"  # Catalan l·l
            and sample[i - 1].isalpha()
            and sample[i + 1].isalpha()
        ):
            wedged += 1
    letters = [ch for ch in sample if ch.isalpha()]
    if not letters:
        return wedged, 0.0
    latin_like = [ch for ch in letters if ord(ch) < 0x250]
    if len(latin_like) < len(letters) / 2:  # a non-Latin script: judge it on its own terms
        return wedged, 0.0
    accented = sum(1 for ch in latin_like if ord(ch) > 127)
    share = accented / len(latin_like)
    return wedged, round(share, 1) if share > 0.3 else 0.0
