from __future__ import annotations

import pytest

from storyline.extract.language import detect_language, normalise_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "The government said on Tuesday that it would hold talks with neighbours next month.",
            "en",
        ),
        (
            "Die Regierung teilte am Dienstag mit, sie werde im nächsten Monat Gespräche führen.",
            "de",
        ),
        ("Le gouvernement a annoncé mardi qu'il tiendrait des pourparlers le mois prochain.", "fr"),
        (
            "El gobierno anunció el martes que celebrará conversaciones con sus vecinos pronto.",
            "es",
        ),
    ],
)
def test_detects_language_of_body(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_short_text_has_no_language() -> None:
    assert detect_language("Hello there") is None
    assert detect_language("") is None


def test_hint_wins() -> None:
    assert detect_language("The government said on Tuesday that it would talk.", "de-AT") == "de"


@pytest.mark.parametrize(
    ("hint", "code"),
    [("en-US", "en"), ("EN", "en"), ("pt_BR", "pt"), ("English", None), ("", None)],
)
def test_normalise_hint(hint: str, code: str | None) -> None:
    assert normalise_language(hint) == code
