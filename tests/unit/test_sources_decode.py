"""Bytes to text: BOMs, UTF-8, declared and guessed charsets, mojibake repair."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from storyline.config import Settings
from storyline.records import Failure
from storyline.sources import read_inputs
from storyline.sources.decode import DecodeError, declared_charset, decode_bytes

FRENCH = "Le président a annoncé mercredi que l'économie était forte. Déjà vu, façade, naïve."
GERMAN = "Der Bürgermeister von München sagte, dass die Straße gesperrt wird. Größe, Übermaß."
SPANISH = "Él dijo: “¡Qué día!” — el señor Muñoz, año 2024. It’s fine."
POLISH = "Zażółć gęślą jaźń. Władysław powiedział, że świat jest piękny i łatwy."
RUSSIAN = "Москва заявила в среду, что переговоры продолжатся в январе в Женеве."
GREEK = "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για την οικονομία της χώρας."
JAPANESE = "日本の首相は水曜日、新しい経済対策を発表した。東京の記者会見で述べた。"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (FRENCH, "latin-1"),
        (FRENCH, "cp1252"),
        (GERMAN, "latin-1"),
        (SPANISH, "cp1252"),  # curly quotes and dashes live in 0x80-0x9f
        (POLISH, "cp1250"),
        (RUSSIAN, "cp1251"),
        (GREEK, "cp1253"),
        (JAPANESE, "shift_jis"),
        (JAPANESE, "utf-8"),
    ],
)
def test_undeclared_encodings_come_out_right(text: str, encoding: str) -> None:
    assert decode_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_byte_order_marks(bom: bytes, encoding: str) -> None:
    assert decode_bytes(bom + FRENCH.encode(encoding)) == FRENCH


def test_declared_charset_beats_guessing() -> None:
    data = "Größe".encode("cp1250")  # too short to guess; the header settles it
    assert decode_bytes(data, "windows-1250") == "Größe"
    # A stale declaration does not win over bytes that are valid UTF-8.
    assert decode_bytes("Größe".encode(), "iso-8859-1") == "Größe"


def test_charset_declared_inside_the_document() -> None:
    xml = '<?xml version="1.0" encoding="koi8-r"?><rss><title>Новости дня</title></rss>'
    assert declared_charset(xml.encode("koi8-r")) == "koi8-r"
    assert "Новости дня" in decode_bytes(xml.encode("koi8-r"))
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-7">'
    assert declared_charset(html.encode()) == "ISO-8859-7"


def test_mojibake_is_repaired() -> None:
    assert decode_bytes("CafÃ© crÃ¨me brÃ»lÃ©e".encode()) == "Café crème brûlée"
    assert decode_bytes("He said â€œyesâ€\x9d".encode()) == "He said “yes”"


@pytest.mark.parametrize(
    "text",
    [
        "“Curly quotes” and ‘single’ ones stay curly — with dashes…",
        "Fullwidth ＡＢＣ and ligature ﬁ stay as written.",
        "<p>Tom &amp; Jerry &lt;3</p>",
        "Ãlvaro Ñúñez and São Paulo",
        "ÆØÅ æøå — «guillemets» „Anführungszeichen“",
    ],
)
def test_correct_text_is_left_alone(text: str) -> None:
    assert decode_bytes(text.encode()) == text


def test_newlines_are_normalised() -> None:
    assert decode_bytes(b"a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert decode_bytes("é\r\nè\u2028x".encode()) == "é\nè\nx"


def test_undecodable_bytes_raise_and_become_a_decode_failure(tmp_path: Path) -> None:
    data = bytes(range(128, 256)) * 3
    with pytest.raises(DecodeError, match="could not work out the text encoding"):
        decode_bytes(data)
    path = tmp_path / "noise.txt"
    path.write_bytes(data)
    (failure,) = read_inputs([str(path)], Settings(db=":memory:"))
    assert isinstance(failure, Failure)
    assert failure.stage == "decode"
