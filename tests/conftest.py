"""Shared test fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def sample_paths() -> list[Path]:
    from storyline.service import sample_paths as bundled

    return bundled()


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    """What a careful reader gets out of the sample articles (copied from shared/seeds)."""
    return json.loads((FIXTURES / "seeds" / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def nlp() -> Any:
    """The analysis stage's spaCy pipeline (skips the test when it is not installed)."""
    from storyline.analyse.nlp import ModelUnavailable, load_nlp

    try:
        return load_nlp()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
