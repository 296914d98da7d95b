"""Quotes and reported speech with their speakers and cues.

Rules over the dependency parse and the quotation marks of the text:

1. Cues: a reporting or cognition verb (`say`, `tell`, `add`, `warn`, `believe`,
   ...) with a clausal complement ("X said (that) ..."), the inverted order
   ("..., X said" / "..., said X", which parsers attach either way), a
   participle ("..., adding that ...") that inherits the subject of the verb it
   hangs on, and the phrase "according to X".
2. Direct quotes: spans between paired quotation marks, including quotes that
   run over several sentences and the news convention of a quote running over
   paragraphs (each paragraph reopens the quote, only the last one closes it).
   A cue clause whose content lies inside a quote takes the whole quote as its
   content; a quote introduced by "X said:" is attached to that cue; a quoted
   paragraph with no cue continues the speaker of the quote before it.
3. Speakers: the subject of the cue, resolved to a canonical entity when it
   names one ("US President Joe Biden" -> "Joe Biden"), to a described unnamed
   source otherwise ("a spokesperson for the National Security Council"), and a
   later definite description or pronoun ("the spokesperson said", "he said")
   to the most recent matching speaker.
4. Further PARC/PolNeAR-style cues: prepositional cues ("talked about X"),
   cue nouns ("X's criticism of Y", "the claim that Y"), unsourced
   judgements ("X seems to Y"), quotes credited after a dash ("..." ― Name),
   transcript labels ("NAME: ...") and ASCII quotation marks ('' and ``).
   Sources are whole noun phrases (appositives, ages, relative clauses),
   never running across a line break, without a set-off participle
   ("Trump, speaking to ...") or a dateline before a dash.
5. Unsourced judgements: "X seems Y", agentless passives of thinking ("X is
   widely seen as Y") and evidential adverbs ("X is reportedly Y").
6. Learned on PolNeAR train (logistic regressions over parse features, data
   file `analyse/data/attribution_model.json`, made by bench/quotes_train.py):
   cues outside the lexicon ("glossed over", "downplayed") with the dependents
   the model takes as their content; a veto on rule attributions (not
   quotations) whose cue word is very unlikely to be one; and how much of a
   subject's noun phrase is the source.

`may_hold_attribution` tells which sentences any of these rules can start
from, so that only those need a dependency parse (see `analyse.nlp`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from storyline.analyse.entities import ACTOR_TYPES, TITLE_WORDS, EntityMention
from storyline.analyse.nlp import doc_text

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token


# Verbs of the lists below that double their last consonant ("planned").
_DOUBLING = frozenset(
    {"refer", "plan", "slam", "blog", "concur", "admit", "quip", "regret", "omit", "prefer"}
)


def _inflect(base: str) -> set[str]:
    """Regular English verb forms of a base form (irregulars are listed apart)."""
    forms = {base}
    if base in _DOUBLING:  # "refer" -> "referred", "referring"
        forms |= {base + "s", base + base[-1] + "ed", base + base[-1] + "ing"}
    elif base.endswith("ee"):  # "agree" -> "agreeing"
        forms |= {base + "s", base + "d", base + "ing"}
    elif base.endswith("e"):
        forms |= {base + "s", base + "d", base[:-1] + "ing"}
    elif base.endswith("y") and base[-2:-1] not in "aeiou":
        forms |= {base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    elif base.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {base + "es", base + "ed", base + "ing"}
    else:
        forms |= {base + "s", base + "ed", base + "ing"}
    return forms


# Verbs of saying: a clausal complement of these is reported speech.
SPEECH_VERBS = [
    "say",
    "add",
    "tell",
    "quote",
    "write",
    "note",
    "ask",
    "announce",
    "report",
    "tweet",
    "post",
    "argue",
    "explain",
    "acknowledge",
    "insist",
    "state",
    "claim",
    "warn",
    "reply",
    "respond",
    "declare",
    "suggest",
    "continue",
    "conclude",
    "recall",
    "predict",
    "vow",
    "promise",
    "pledge",
    "admit",
    "concede",
    "confirm",
    "deny",
    "estimate",
    "contend",
    "maintain",
    "emphasize",
    "emphasise",
    "stress",
    "observe",
    "remark",
    "testify",
    "complain",
    "boast",
    "joke",
    "quip",
    "recount",
    "indicate",
    "allege",
    "charge",
    "counter",
    "caution",
    "agree",
    "assure",
    "reiterate",
    "repeat",
    "reveal",
    "disclose",
    "proclaim",
    "speculate",
    "assert",
    "affirm",
    "shout",
    "yell",
    "inform",
    "advise",
    "signal",
    "hint",
    "mention",
    "comment",
    "propose",
    "urge",
    "demand",
    "retort",
    "answer",
    "blog",
    "predict",
    "threaten",
    "swear",
    "acknowledge",
    "concur",
    "contend",
    "reason",
    "muse",
    "lament",
    "complain",
    "brag",
    "whisper",
    "scream",
    "cry",
    "sneer",
    "argue",
    "allege",
    "forecast",
    "project",
    "guarantee",
    "certify",
    "imply",
    "remind",
    "read",
]

# Verbs of thinking and evidence, also annotated as attributions in news corpora.
COGNITION_VERBS = [
    "think",
    "believe",
    "know",
    "feel",
    "hope",
    "fear",
    "expect",
    "worry",
    "doubt",
    "suspect",
    "understand",
    "realize",
    "realise",
    "assume",
    "guess",
    "wonder",
    "find",
    "show",
    "learn",
    "reckon",
    "figure",
    "decide",
    "recognize",
    "recognise",
    "imagine",
    "predict",
    "trust",
    "anticipate",
    "consider",
    "conclude",
    "prove",
    "demonstrate",
]

# Verbs of stance, intention and evaluation whose object or infinitive is the
# attributed content ("X called for Y", "X wants to Y", "X criticised Y").
# Kept apart: they are attributions, but not quotes, in the story export.
STANCE_VERBS = [
    "call",
    "cite",
    "attack",
    "criticize",
    "criticise",
    "praise",
    "endorse",
    "support",
    "oppose",
    "reject",
    "dismiss",
    "accuse",
    "urge",
    "propose",
    "want",
    "plan",
    "agree",
    "pledge",
    "vow",
    "refuse",
    "decline",
    "seek",
    "describe",
    "mention",
    "condemn",
    "question",
    "blame",
    "defend",
    "welcome",
    "back",
    "slam",
    "intend",
    "demand",
    "applaud",
    "dispute",
    "challenge",
    "highlight",
    "tout",
    "insist",
    "recommend",
    "favor",
    "favour",
    # Mined from PolNeAR train: verb forms that are annotated cues in at least
    # half of their occurrences (and at least 5 times), not in the lists above.
    "thank",
    "plead",
    "encourage",
    "remember",
    "blast",
    "denounce",
    "discuss",
    "order",
    "mock",
    "echo",
    "voice",
    "request",
    "decry",
    "prefer",
    "reference",
    "list",
    "retweet",
    "chant",
    "assail",
    "liken",
    "invoke",
    "rebuke",
    "lambaste",
    "unveil",
    "persuade",
    "bemoan",
    "portray",
    "characterize",
    "characterise",
    "deem",
    "label",
    "regard",
]

# Prepositions that belong to a stance cue ("called for", "pointed to").
CUE_PARTICLES = {
    "call": {"for", "on"},
    "point": {"to"},
    "refer": {"to"},
    "talk": {"about", "of"},
    "speak": {"about", "of"},
    "ask": {"about"},
    "respond": {"to"},
    "reply": {"to"},
    "write": {"about", "of"},
    "boast": {"about", "of"},
    "brag": {"about"},
    "worry": {"about"},
    "complain": {"about", "of"},
    "warn": {"about", "of", "against"},
    "argue": {"for", "against"},
    "advocate": {"for"},
    "push": {"for"},
    "apologize": {"for"},
    "apologise": {"for"},
    "comment": {"on"},
    "joke": {"about"},
    "rail": {"against", "about"},
    "side": {"with"},
    "distance": {"from"},
    "balk": {"at"},
    "focus": {"on"},
    "lash": {"at"},
    "weigh": {"on"},
    "liken": {"to"},
    "plead": {"for"},
    "remind": {"about", "of"},
}
# Verbs that are cues only with their preposition ("talked about X").
PARTICLE_ONLY_VERBS = [
    "point",
    "refer",
    "talk",
    "speak",
    "advocate",
    "push",
    "apologize",
    "apologise",
    "rail",
    "side",
    "distance",
    "balk",
    "focus",
    "lash",
    "weigh",
]

IRREGULAR = {
    "said": "say",
    "told": "tell",
    "wrote": "write",
    "written": "write",
    "thought": "think",
    "knew": "know",
    "known": "know",
    "found": "find",
    "shown": "show",
    "felt": "feel",
    "understood": "understand",
    "swore": "swear",
    "sworn": "swear",
    "forecast": "forecast",
    "learnt": "learn",
    "proven": "prove",
    "admitted": "admit",
    "admitting": "admit",
    "admits": "admit",
    "quipped": "quip",
    "quipping": "quip",
    "quips": "quip",
    "spoke": "speak",
    "spoken": "speak",
    "sought": "seek",
    "implied": "imply",
}

CUE_LEMMAS: dict[str, str] = {}
for _base in SPEECH_VERBS + COGNITION_VERBS + STANCE_VERBS + PARTICLE_ONLY_VERBS:
    for _form in _inflect(_base):
        CUE_LEMMAS.setdefault(_form, _base)
CUE_LEMMAS.update(IRREGULAR)
_CUE_WORDS = frozenset(CUE_LEMMAS)
COGNITION = frozenset(COGNITION_VERBS)
PARTICLE_ONLY = frozenset(PARTICLE_ONLY_VERBS)
STANCE = frozenset(STANCE_VERBS) | PARTICLE_ONLY
SPEECH = frozenset(SPEECH_VERBS)
# Cognition verbs whose object is rarely an attributed proposition ("found the
# money", "knew him", "proved costly"): only their clauses are content.
NO_OBJECT_CONTENT = frozenset({"find", "prove", "know", "feel", "decide", "learn", "assume"})
# "continued to campaign": an aspect, not speech.
ASPECTUAL = frozenset({"continue", "repeat"})
# Dependents of a stance verb that carry its content.
CONTENT_DEPS = frozenset({"dobj", "xcomp", "oprd", "prep", "dative", "attr", "acomp"})

# Nouns heading an unnamed source ("a senior official", "the spokesperson").
SOURCE_NOUNS = {
    "spokesperson": "spokesperson",
    "spokesman": "spokesperson",
    "spokeswoman": "spokesperson",
    "official": "official",
    "officials": "official",
    "source": "source",
    "sources": "source",
    "aide": "aide",
    "aides": "aide",
    "diplomat": "diplomat",
    "diplomats": "diplomat",
    "adviser": "adviser",
    "advisor": "adviser",
    "advisers": "adviser",
    "advisors": "adviser",
    "statement": "statement",
    "spokespeople": "spokesperson",
    "representative": "representative",
    "analyst": "analyst",
    "analysts": "analyst",
    "expert": "expert",
    "experts": "expert",
    "officer": "officer",
    "officers": "officer",
    "minister": "minister",
    "ministry": "ministry",
    "person": "person",
    "people": "person",
    "witness": "witness",
    "witnesses": "witness",
}

PRONOUNS_PERSON = frozenset({"he", "she", "him", "her"})
PRONOUNS_GROUP = frozenset({"they", "we", "it", "i", "you"})

OPEN_QUOTES = "“«„"
CLOSE_QUOTES = "”»"
_QUOTE_CHARS = '"“”«»„'
# ASCII renderings of typographic quotes (`` ... '' from LaTeX/PTB-style
# newswire, '' ... '' from some CMS exports): two characters, one mark.
_ASCII_OPEN = "``"
_ASCII_STRAIGHT = "''"
_QUOTE_TOKENS = frozenset(_QUOTE_CHARS) | {_ASCII_OPEN, _ASCII_STRAIGHT}
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n\s*")


@dataclass(slots=True)
class Quote:
    """One attribution: who (speaker) said or thought (cue) what (text)."""

    text: str
    start: int
    end: int
    speaker: str | None
    speaker_type: str  # person | organisation | place | group | unnamed | unknown
    cue: str | None
    direct: bool  # the whole content is inside quotation marks
    partial: bool = False  # indirect content with a quoted fragment inside
    kind: str = "speech"  # speech | thought | report | stance | according_to | continuation
    via: str | None = None  # who relayed the words ("TASS quoted the ministry as saying")
    speaker_start: int | None = None  # the source mention in the text, if any
    speaker_end: int | None = None
    speaker_mention: str | None = None
    cue_start: int | None = None
    cue_end: int | None = None


@dataclass(slots=True)
class StoryQuote:
    """A quote as reported by one or more articles of a story."""

    text: str
    speaker: str | None
    speaker_type: str
    cue: str | None
    direct: bool
    outlets: list[str] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- quote marks


def _paragraph_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph; paragraphs are separated by blank lines."""
    bounds = []
    position = 0
    for match in _PARAGRAPH_BREAK_RE.finditer(text):
        bounds.append((position, match.start()))
        position = match.end()
    bounds.append((position, len(text)))
    return [(s, e) for s, e in bounds if text[s:e].strip()]


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quoted passages, quotation marks included.

    Straight double quotes alternate open/close within a paragraph. A paragraph
    whose quote is still open at its end continues into the next paragraph if
    that one opens with a quotation mark (news convention for long quotes);
    otherwise the quote ends with its paragraph.
    """
    spans: list[tuple[int, int]] = []
    carried: int | None = None  # start of a quote left open by the previous paragraph
    carried_end = 0
    for start, end in _paragraph_bounds(text):
        position = start
        while position < end and text[position].isspace():
            position += 1
        open_at: int | None = None
        if carried is not None:
            mark = _mark_at(text, position, end)
            if mark is not None and mark[0] in {"open", "straight"}:
                open_at = carried
                position += mark[1]
            else:
                spans.append((carried, carried_end))
            carried = None
        for found in _MARK_RE.finditer(text, position, end):
            i = found.start()
            role, length = _MARK_ROLES[found.group()], len(found.group())
            if role == "open" and open_at is None:
                open_at = i
            elif role in {"close", "straight"} and open_at is not None:
                spans.append((open_at, i + length))
                open_at = None
            elif role == "straight":
                open_at = i
        if open_at is not None:
            carried = open_at
            carried_end = end
            while carried_end > open_at and text[carried_end - 1].isspace():
                carried_end -= 1
    if carried is not None:
        spans.append((carried, carried_end))
    return spans


_MARK_RE = re.compile(r"``|''|[\"“”«»„]")
_MARK_ROLES = {
    **{ch: "open" for ch in OPEN_QUOTES},
    **{ch: "close" for ch in CLOSE_QUOTES},
    '"': "straight",
    _ASCII_OPEN: "open",
    _ASCII_STRAIGHT: "straight",
}


def _mark_at(text: str, i: int, end: int) -> tuple[str, int] | None:
    """(role, length) of a quotation mark starting at i: open, close or straight."""
    ch = text[i]
    if ch in OPEN_QUOTES:
        return "open", 1
    if ch in CLOSE_QUOTES:
        return "close", 1
    if ch == '"':
        return "straight", 1
    pair = text[i : min(i + 2, end)]
    if pair == _ASCII_OPEN:
        return "open", 2
    if pair == _ASCII_STRAIGHT:
        return "straight", 2
    return None


def _inner(span: tuple[int, int], text: str) -> tuple[int, int]:
    """A quote span without its marks, surrounding spaces and trailing comma."""
    start, end = span
    if text[start : start + 2] in {_ASCII_OPEN, _ASCII_STRAIGHT}:
        start += 2
    if end - start >= 2 and text[end - 2 : end] == _ASCII_STRAIGHT:
        end -= 2
    while start < end and (text[start] in _QUOTE_CHARS or text[start].isspace()):
        start += 1
    while end > start and (text[end - 1] in _QUOTE_CHARS or text[end - 1].isspace()):
        end -= 1
    while end > start and text[end - 1] in ",;:":
        end -= 1
    return start, end


# --------------------------------------------------------------------------- cues


def _cue_lemma(token: Token) -> str | None:
    if token.pos_ not in {"VERB", "AUX"} and token.tag_ not in {
        "VBD",
        "VBZ",
        "VBP",
        "VB",
        "VBG",
        "VBN",
    }:
        return None
    return CUE_LEMMAS.get(token.lower_)


def _subject(verb: Token) -> Token | None:
    """The subject of a cue verb, inherited along conj/advcl/xcomp chains."""
    node = verb
    for _ in range(4):
        subjects = [
            child
            for child in node.children
            if child.dep_ in {"nsubj", "nsubjpass"} and not _line_break_between(child, node)
        ]
        if subjects:
            # Two subjects on one verb are a misparse across a dateline or
            # timestamp ("12:15 p.m. Donald Trump says"): the nearest one speaks.
            return min(subjects, key=lambda child: abs(node.i - child.i))
        if (
            node.dep_ == "xcomp"
            or node.dep_ == "conj"
            or (node.dep_ == "advcl" and node.tag_ == "VBG")
        ):
            node = node.head
            continue
        if node.dep_ == "pcomp" and node.tag_ == "VBG" and node.head.dep_ == "prep":
            # "responded by saying", "erred in saying": the verb the phrase modifies.
            node = node.head.head
            continue
        if node.dep_ == "acomp" and node.head.pos_ in {"AUX", "VERB"}:
            # "are more likely to say": the verb the adjective completes.
            node = node.head
            continue
        break
    # "... was told by X": the agent of a passive cue.
    for child in verb.children:
        if child.dep_ == "agent":
            for grandchild in child.children:
                if grandchild.dep_ == "pobj":
                    return grandchild
    return None


def _line_break_between(a: Token, b: Token) -> bool:
    doc = a.doc
    low, high = min(a.i, b.i), max(a.i, b.i)
    return any("\n" in doc[i].text or "\n" in doc[i].whitespace_ for i in range(low, high))


def _source_span(doc: Doc, head: Token) -> Span:
    """The source noun phrase: the subject's whole subtree, with appositives,
    ages and relative clauses ("Ann Ramos, 58, a nurse who lives in Miami,"),
    as PARC-style annotation marks sources (measured on PolNeAR: cutting the
    set-off clauses and ages matched fewer gold sources). The speaker name is
    resolved from the span's head, so the extra words do not change it."""
    start, end = head.left_edge.i, head.right_edge.i + 1
    # A line break ends a noun phrase: what the parser joined across it is a
    # dateline, timestamp or headline ("11:05 a.m.\n\nDonald Trump").
    for i in range(head.i - 1, start - 1, -1):
        if "\n" in doc[i].text or "\n" in doc[i].whitespace_:
            start = i + 1
            break
    for i in range(head.i, end):
        if "\n" in doc[i].text or "\n" in doc[i].whitespace_:
            end = i + 1
            break
    end = min(end, _participle_cut(doc, head, end))
    start = _dash_cut(doc, head, start)
    start, end = _learned_source_bounds(doc, head, start, end)
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    while start < end and (doc[start].is_punct or doc[start].is_space):
        start += 1
    return doc[start:end]


_SET_OFF = frozenset({",", "(", "-", "—", "–", "--"})


def _participle_cut(doc: Doc, head: Token, end: int) -> int:
    """Where the source stops before a participle set off by a comma, which says
    what the source was doing rather than who it is ("Trump, speaking to a
    veterans group", "a poll, released Monday,"). Relative clauses and nested
    appositions are kept: on PolNeAR train cutting them matched fewer sources."""
    for token in doc[head.i + 1 : end]:
        left = token.left_edge.i
        if (
            token.dep_ in {"acl", "advcl"}
            and token.tag_ in {"VBG", "VBN"}
            and left > head.i
            and doc[left - 1].text in _SET_OFF
        ):
            return left - 1
    return end


def _dash_cut(doc: Doc, head: Token, start: int) -> int:
    """Start after a spaced dash before the source's head: what precedes it is a
    dateline or another sentence ("New York (AFP) – Joe Biden said")."""
    for i in range(head.i - 1, start, -1):
        if doc[i].text in _SET_OFF - {",", "("} and doc[i - 1].whitespace_ and doc[i].whitespace_:
            return i + 1
    return start


def _trim(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Token bounds without edge punctuation other than quotation marks."""
    while end > start and doc[end - 1].is_punct and doc[end - 1].text not in _QUOTE_TOKENS:
        end -= 1
    while start < end and doc[start].is_punct and doc[start].text not in _QUOTE_TOKENS:
        start += 1
    return start, end


@dataclass(slots=True)
class _Raw:
    """An attribution found in the parse before speaker resolution."""

    content: tuple[int, int]  # char span
    cue: Token | None
    cue_text: str | None
    source: Span | None
    direct: bool = False
    partial: bool = False
    kind: str = "speech"
    via: Span | None = None  # "TASS quoted the ministry as saying": TASS
    learned: bool = False  # found by the learned cue model, not a rule


def _quoted_as(token: Token) -> tuple[Token, Token] | None:
    """(quoted source, relaying subject) of "X quoted/cited Y as saying"."""
    verb = token
    if token.dep_ == "pcomp" and token.head.lower_ == "as":
        verb = token.head.head
    if verb.lower_ not in {"quoted", "quoting", "quotes", "quote", "cited", "citing", "cites"}:
        return None
    if not any(c.dep_ == "prep" and c.lower_ == "as" for c in verb.children):
        return None
    quoted = next((c for c in verb.children if c.dep_ == "dobj"), None)
    relay = _subject(verb)
    if quoted is None or relay is None:
        return None
    return quoted, relay


def _kind(lemma: str) -> str:
    if lemma in SPEECH:
        return "speech"
    if lemma in COGNITION:
        return "thought"
    return "stance"


def _char_span(doc: Doc, start: int, end: int) -> tuple[int, int]:
    return doc[start].idx, doc[end - 1].idx + len(doc[end - 1])


@lru_cache(maxsize=32)
def _string_ids(words: frozenset[str]) -> np.ndarray:
    from spacy.strings import get_string_id

    return np.array(sorted(get_string_id(w) for w in words), dtype=np.uint64)


def _tokens_with(
    doc: Doc,
    lowers: frozenset[str] = frozenset(),
    pos: frozenset[str] = frozenset(),
    texts: frozenset[str] = frozenset(),
    parsed: bool = False,
) -> list[Token]:
    """The doc's tokens, in order, whose lower case form is one of `lowers`, or
    POS one of `pos`, or text one of `texts` (and that are tagged, if `parsed`).

    A necessary condition of a rule, read from arrays, so that the rule builds
    Token objects only for the few words it can fire on, not the whole article.
    """
    from spacy.attrs import LOWER, ORTH, POS, TAG
    from spacy.parts_of_speech import IDS

    rows = doc.to_array([LOWER, POS, ORTH, TAG])
    keep = np.isin(rows[:, 0], _string_ids(lowers)) | np.isin(rows[:, 2], _string_ids(texts))
    if pos:
        keep |= np.isin(rows[:, 1], np.array([int(IDS[p]) for p in pos], dtype=np.uint64))
    if parsed:
        keep &= rows[:, 3] != 0
    return [doc[int(i)] for i in np.flatnonzero(keep)]


def _clause_attributions(doc: Doc) -> list[_Raw]:
    found: list[_Raw] = []
    # `_cue_lemma` is None for any word outside CUE_LEMMAS.
    for token in _tokens_with(doc, lowers=_CUE_WORDS):
        lemma = _cue_lemma(token)
        if lemma is None:
            continue
        kind = _kind(lemma)
        # A clause after the cue first: one before it is often a misparse
        # across a headline or dateline.
        content_heads = sorted(
            (c for c in token.children if c.dep_ == "ccomp"), key=lambda c: c.i < token.i
        )
        subject = _subject(token)
        source = _source_span(doc, subject) if subject is not None else None
        via = None
        relayed = _quoted_as(token)
        if relayed is not None:
            source, via = _source_span(doc, relayed[0]), _source_span(doc, relayed[1])
        # "X said:" introducing what follows, which the parser may or may not
        # attach as a clause (it often runs into the next paragraph).
        colon = _colon_after(doc, token)
        if colon is not None and kind in {"speech", "thought"}:
            found.append(_Raw((-1, colon.idx + 1), token, _cue_text(token), source, kind=kind))
            continue
        if content_heads:
            comp = content_heads[0]
            # A "that" or "if" before the clause belongs to the content.
            start, end = _trim(doc, comp.left_edge.i, comp.right_edge.i + 1)
            if end <= start:
                continue
            found.append(
                _Raw(
                    _char_span(doc, start, end), token, _cue_text(token), source, kind=kind, via=via
                )
            )
            continue
        # Inverted order parsed with the content clause as head: "..., X said."
        head = token.head
        cue_left = token.left_edge.i  # the parser may hang the comma before "X said" on it
        while cue_left < token.i and doc[cue_left].is_punct:
            cue_left += 1
        if (
            token.dep_ in {"parataxis", "ccomp"}
            and head.i < token.i
            and subject is not None
            and subject.head.i == token.i
            and kind == "speech"
            and cue_left > 0
            and doc[cue_left - 1].text in {",", "”", '"', "’", "'", "—", "--", "-", "''"}
            and not any(c.dep_ == "dobj" for c in token.children)
        ):
            subtree = [t for t in head.subtree if t.i < cue_left]
            if len(subtree) >= 3:
                start, end = _trim(doc, subtree[0].i, subtree[-1].i + 1)
                if end > start:
                    found.append(
                        _Raw(
                            _char_span(doc, start, end), token, _cue_text(token), source, kind=kind
                        )
                    )
                    continue
        # Parenthetical cue inside the content: "This campaign, he says, is different."
        if (
            token.dep_ in {"parataxis", "ccomp", "advcl"}
            and head.i > token.i
            and subject is not None
            and subject.head.i == token.i
            and kind == "speech"
            and token.left_edge.i > head.left_edge.i
        ):
            start, end = _trim(doc, head.left_edge.i, head.right_edge.i + 1)
            if end - start >= 4:
                found.append(
                    _Raw(_char_span(doc, start, end), token, _cue_text(token), source, kind=kind)
                )
                continue
        # A clause the parser did not label as the complement ("X said having
        # Y puts Z at risk", "X says in a statement that ..."): the rest of the
        # cue's clause after its adjuncts.
        if kind == "speech" and subject is not None and token.i > subject.i:
            rest = _clause_after(doc, token, lemma)
            if rest is not None:
                found.append(
                    _Raw(_char_span(doc, *rest), token, _cue_text(token), source, kind=kind)
                )
                continue
        # Stance and intention: the object or infinitive is the content. Any
        # speech verb takes an infinitive as content ("vowed to", "agreed to").
        infinitive_only = False
        if kind == "speech" and lemma not in {
            "ask",
            "tell",
            "report",
            "announce",
            "confirm",
            "deny",
            "reveal",
            "note",
            "mention",
            "acknowledge",
            "predict",
            "propose",
            "urge",
            "demand",
        }:
            infinitive_only = True
        if lemma in NO_OBJECT_CONTENT or (infinitive_only and lemma in ASPECTUAL):
            continue
        if subject is None or subject.lower_ in {"it", "there", "which", "that", "who"}:
            continue
        right = [
            c
            for c in token.children
            if c.i > token.i
            and c.dep_ in CONTENT_DEPS
            # "told reporters": the addressee is not what was said.
            and not (c.dep_ in {"dobj", "dative"} and lemma in {"tell", "inform", "assure"})
            and (
                not infinitive_only
                or (c.dep_ == "xcomp" and c.tag_ == "VB")
                or (c.dep_ == "prep" and c.lower_ in CUE_PARTICLES.get(lemma, ()))
            )
        ]
        if not right:
            continue
        cue_end = token
        particles = CUE_PARTICLES.get(lemma, set())
        first = right[0]
        if first.dep_ == "prep" and first.lower_ in particles:
            objects = [c for c in first.children if c.dep_ in {"pobj", "pcomp"}]
            if not objects:
                continue
            cue_end = first
            right = objects + right[1:]
        elif first.dep_ == "prep" or lemma in PARTICLE_ONLY:
            continue  # "agreed with X", "talked to X": no content of its own
        start = min(c.left_edge.i for c in right)
        end = max(c.right_edge.i for c in right) + 1
        start, end = _trim(doc, start, end)
        if end - start < 1:
            continue
        cue_text = _cue_text(token) if cue_end is token else f"{_cue_text(token)} {cue_end.text}"
        # "X confirmed the talks" reports a claim without quoting it.
        found.append(
            _Raw(
                _char_span(doc, start, end),
                token,
                cue_text,
                source,
                kind="report" if kind == "speech" else "stance",
            )
        )
    found.extend(_noun_cues(doc))
    found.extend(_evidential_cues(doc))
    found.extend(_according_to(doc))
    found.extend(_colon_headlines(doc))
    return found


_HEADLINE_COLON_RE = re.compile(r'(?m)^[ \t]*["“]?([A-Z][^:\n]{1,48}?):[ \t]+(\S[^\n]*)$')


def _colon_headlines(doc: Doc) -> list[_Raw]:
    """ "Name: what they said" lines (headlines, transcripts): the name is the source."""
    found = []
    text = doc_text(doc)
    for match in _HEADLINE_COLON_RE.finditer(text):
        name = doc.char_span(match.start(1), match.end(1), alignment_mode="contract")
        if name is None or not 1 <= len(name) <= 6:
            continue
        # A source is a noun phrase: capitalised words, no verb ("Poll", "Sen. Ann Lee").
        if any(t.pos_ in {"VERB", "AUX", "PRON", "NUM"} for t in name):
            continue
        if not all(t.text[:1].isupper() or t.is_punct or t.lower_ in {"of", "the"} for t in name):
            continue
        # "Iowa: ..." heads a list or a section, not a quote: places do not speak here.
        if all(t.ent_type_ in {"GPE", "LOC"} for t in name if not t.is_punct):
            continue
        start, end = _strip_chars(text, match.start(2), match.end(2))
        if len(_WORD_RE.findall(text[start:end])) < 3:
            continue
        said = doc.char_span(start, end, alignment_mode="expand")
        if (
            said is not None
            and said.text.count(",") >= 4
            and not any(t.pos_ in {"VERB", "AUX"} for t in said)
        ):
            continue  # a list of names, not something said
        cue = doc.char_span(match.end(1), match.end(1) + 1, alignment_mode="expand")
        found.append(
            _Raw(
                (start, end),
                cue[0] if cue is not None and len(cue) else None,
                ":",
                name,
                kind="speech",
            )
        )
    return found


# Cues whose direct object is the addressee, not what was said ("told reporters").
ADDRESSEE_CUES = frozenset({"tell", "ask", "inform", "advise", "assure", "warn", "urge", "remind"})
_ADJUNCT_DEPS = frozenset({"prt", "advmod", "npadvmod", "dative", "punct", "neg", "agent"})


def _clause_after(doc: Doc, cue: Token, lemma: str) -> tuple[int, int] | None:
    """Token bounds of a clause following a cue's adjuncts, if one follows."""
    start = end = None
    for child in cue.rights:
        if child.dep_ in _ADJUNCT_DEPS or (child.dep_ == "dobj" and lemma in ADDRESSEE_CUES):
            continue
        if child.dep_ == "prep":
            # "in a statement that ...": the clause hangs inside the phrase.
            mark = next(
                (
                    t
                    for t in child.subtree
                    if t.dep_ == "mark" and t.lower_ in {"that", "if", "whether"}
                ),
                None,
            )
            if mark is None:
                continue
            start = mark.i
            end = child.right_edge.i + 1
        elif (
            child.dep_ == "xcomp"
            and child.tag_ == "VBG"
            and any(c.dep_ == "ccomp" and c.i > child.i for c in child.children)
        ):
            # A gerund subject read as the verb's complement: "said having X is Y".
            start = child.left_edge.i
            end = child.right_edge.i + 1
        break
    if start is None or end is None or start <= cue.i:
        return None
    start, end = _trim(doc, start, end)
    span = doc[start:end]
    if len(span) < 3 or doc[start].lower_ == "to" or "\n" in span.text:
        return None
    # A clause has a finite or gerund verb of its own.
    if not any(t.tag_ in {"VBD", "VBZ", "VBP", "MD", "VBG"} for t in span):
        return None
    return start, end


# Nouns of saying and stance, with the prepositions that introduce their
# content ("questions about X", "support for X"); with a "that" clause any of
# them states its content ("the claim that X").
CUE_NOUNS: dict[str, frozenset[str]] = {
    noun: frozenset(preps)
    for nouns, preps in (
        (("question", "questions", "concern", "concerns", "doubt", "doubts"), ("about", "over")),
        (("worry", "worries", "complaint", "complaints", "warning", "warnings"), ("about", "of")),
        (("comment", "comments", "remark", "remarks"), ("about", "on")),
        (("support", "call", "calls", "demand", "demands", "push", "plea"), ("for",)),
        (("criticism", "criticisms", "praise", "denunciation"), ("of",)),
        (("attack", "attacks", "assault"), ("on",)),
        (("opposition", "objection", "objections", "response", "reply"), ("to",)),
        (("claim", "claims", "assertion", "belief", "view", "argument", "promise", "pledge"), ()),
        (("allegation", "allegations", "accusation", "accusations", "statement"), ()),
        (("fear", "fears", "hope", "hopes", "suggestion", "insistence", "warning"), ()),
    )
    for noun in nouns
}
_CUE_NOUN_WORDS = frozenset(CUE_NOUNS)


def _noun_cues(doc: Doc) -> list[_Raw]:
    """ "X's criticism of Y", "the claim that Y": a cue noun and its content,
    the possessor (if any) being the source."""
    found = []
    for token in _tokens_with(doc, lowers=_CUE_NOUN_WORDS):
        preps = CUE_NOUNS.get(token.lower_)
        if preps is None or token.tag_ not in {"NN", "NNS"}:
            continue
        content: tuple[int, int] | None = None
        for child in token.rights:
            if child.dep_ == "prep" and child.lower_ in preps:
                objects = [c for c in child.children if c.dep_ in {"pobj", "pcomp"}]
                if objects:
                    content = (objects[0].left_edge.i, child.right_edge.i + 1)
                break
            if child.dep_ in {"acl", "ccomp"} and any(
                c.dep_ == "mark" and c.lower_ == "that" for c in child.children
            ):
                content = (child.left_edge.i, child.right_edge.i + 1)
                break
        if content is None:
            continue
        start, end = _trim(doc, *content)
        if end - start < 2 or "\n" in doc[start:end].text:
            continue
        owner = next((c for c in token.children if c.dep_ == "poss"), None)
        if owner is None and token.dep_ == "dobj":
            # "X raised questions about Y", "X voiced support for Y".
            owner = _subject(token.head)
        source = _source_span(doc, owner) if owner is not None else None
        found.append(_Raw(_char_span(doc, start, end), token, token.text, source, kind="stance"))
    return found


EVIDENTIAL_VERBS = frozenset(
    {"seem", "seems", "seemed", "seeming", "appear", "appears", "appeared", "appearing"}
)


def _evidential_cues(doc: Doc) -> list[_Raw]:
    """Unsourced judgements, whose content is the clause around the cue (the
    cue is cut out of it when scored):

    - "X seems to Y", "X appeared unperturbed": subject and complement;
    - "X is expected to Y", "X is widely seen as Y": a passive verb of thinking
      with no agent;
    - "X is reportedly Y": an evidential adverb on the clause.
    """
    found = []
    # Every branch below needs one of these words.
    words = EVIDENTIAL_ADVERBS | EVIDENTIAL_VERBS | PASSIVE_JUDGEMENT
    for token in _tokens_with(doc, lowers=words):
        lower = token.lower_
        if lower in EVIDENTIAL_ADVERBS and token.dep_ == "advmod":
            modified = token.head
            subject = _clause_subject(modified)
            first = subject.left_edge.i if subject is not None else modified.left_edge.i
            span = _line_bounded(doc, token, first, modified.right_edge.i + 1)
            if span is not None:
                found.append(_Raw(span, token, token.text, None, kind="stance"))
            continue
        if token.pos_ not in {"VERB", "AUX"}:
            continue
        passive = (
            lower in PASSIVE_JUDGEMENT
            and token.tag_ == "VBN"
            and any(c.dep_ == "auxpass" for c in token.children)
            and not any(c.dep_ == "agent" for c in token.children)
        )
        if lower not in EVIDENTIAL_VERBS and not passive:
            continue
        clause = next(
            (
                c
                for c in token.rights
                if c.dep_ in {"xcomp", "ccomp", "acomp", "oprd", "attr"}
                or (passive and c.dep_ == "prep" and c.lower_ == "as")
            ),
            None,
        )
        subject = next((c for c in token.lefts if c.dep_ in {"nsubj", "nsubjpass"}), None)
        if clause is None or subject is None or subject.lower_ in {"it", "there"}:
            continue
        span = _line_bounded(doc, token, subject.left_edge.i, clause.right_edge.i + 1)
        if span is not None:
            found.append(_Raw(span, token, token.text, None, kind="stance"))
    return found


# Adverbs that attribute the clause to unnamed others ("X is reportedly Y").
EVIDENTIAL_ADVERBS = frozenset(
    {"reportedly", "allegedly", "purportedly", "reputedly", "supposedly"}
)
# Participles of thinking whose agentless passive is an unsourced judgement
# ("is widely seen as"); "is expected to" is left out: mostly a schedule.
PASSIVE_JUDGEMENT = frozenset(
    {"seen", "viewed", "known", "believed", "thought", "considered", "regarded", "deemed", "said"}
)


def _clause_subject(verb: Token) -> Token | None:
    return next((c for c in verb.lefts if c.dep_ in {"nsubj", "nsubjpass"}), None)


def _line_bounded(doc: Doc, cue: Token, start: int, end: int) -> tuple[int, int] | None:
    """The char span of tokens [start, end) cut at line breaks around the cue,
    edge punctuation trimmed; None when fewer than three tokens remain."""
    for i in range(cue.i - 1, start - 1, -1):
        if "\n" in doc[i].text or "\n" in doc[i].whitespace_:
            start = i + 1
            break
    for i in range(cue.i, end):
        if "\n" in doc[i].text:
            end = i
            break
    start, end = _trim(doc, start, end)
    if end - start < 3:
        return None
    return _char_span(doc, start, end)


def _colon_after(doc: Doc, cue: Token) -> Token | None:
    """The colon ending a cue clause ("X said on Monday:", "X told reporters:")."""
    nxt = cue.i + 1
    while (
        nxt < len(doc)
        and nxt - cue.i <= 6
        and doc[nxt].dep_
        in {
            "prep",
            "pobj",
            "npadvmod",
            "dobj",
            "dative",
            "det",
            "compound",
            "amod",
            "advmod",
            "nummod",
        }
        and doc[nxt].text != ":"
        and "\n" not in doc[nxt].text
    ):
        nxt += 1
    if nxt < len(doc) and doc[nxt].text == ":":
        return doc[nxt]
    return None


def _cue_text(token: Token) -> str:
    """The cue with its auxiliaries and particles ("has said", "pointed out")."""
    parts = [c for c in token.children if c.dep_ in {"aux", "auxpass", "neg", "prt"}] + [token]
    parts.sort(key=lambda t: t.i)
    if len(parts) > 1 and parts[-1].i - parts[0].i > 4:
        parts = [token]
    return " ".join(t.text for t in parts)


def _according_to(doc: Doc) -> list[_Raw]:
    found = []
    for token in _tokens_with(doc, lowers=frozenset({"according"})):
        if (
            token.lower_ != "according"
            or token.i + 2 >= len(doc)
            or doc[token.i + 1].lower_ != "to"
        ):
            continue
        to = doc[token.i + 1]
        objects = [c for c in to.children if c.dep_ == "pobj"]
        if not objects:
            continue
        source = _source_span(doc, objects[0])
        sentence = token.sent
        # Content: the rest of the sentence outside "according to X".
        phrase_start, phrase_end = token.i, source.end
        left = (sentence.start, phrase_start)
        right = (phrase_end, sentence.end)
        left = _trim(doc, *left)
        right = _trim(doc, *right)
        pick = left if (left[1] - left[0]) >= (right[1] - right[0]) else right
        if pick[1] - pick[0] < 2:
            continue
        found.append(_Raw(_char_span(doc, *pick), to, "according to", source, kind="according_to"))
    return found


# --------------------------------------------------------------------------- speakers


def _head_noun(span: Span) -> Token:
    return span.root


def _entity_in(span: Span, entities: Sequence[EntityMention]) -> EntityMention | None:
    inside = [m for m in entities if m.start >= span.start_char and m.end <= span.end_char]
    if not inside:
        return None
    root = span.root
    for mention in inside:
        if mention.start <= root.idx < mention.end:
            return mention
    people = [m for m in inside if m.label == "PERSON"]
    return (people or inside)[0]


def _describe(span: Span) -> str:
    words = [t for t in span if not (t.i == span.start and t.lower_ in {"a", "an", "the", "one"})]
    return " ".join(t.text for t in words).strip()


class _Speakers:
    """Resolution of source spans to canonical speakers, carrying earlier ones forward."""

    def __init__(self, entities: Sequence[EntityMention], text: str = "") -> None:
        self.entities = entities
        self.text = text
        self.recent: list[tuple[str, str, str | None]] = []  # (speaker, type, source noun class)

    def resolve(self, source: Span | None) -> tuple[str | None, str]:
        if source is None or len(source) == 0:
            return None, "unknown"
        root = source.root
        lower = root.lower_
        if len(source) == 1 and lower in PRONOUNS_PERSON:
            for speaker, kind, _ in reversed(self.recent):
                if kind == "person":
                    return speaker, kind
            person = self._entity_before(source.start_char, "PERSON")
            return (person, "person") if person else (None, "unknown")
        if len(source) == 1 and lower in PRONOUNS_GROUP:
            if lower in {"they", "it", "we"} and self.recent:
                speaker, kind, _ = self.recent[-1]
                if kind != "person":
                    return speaker, kind
            return None, "unknown"
        noun_class = SOURCE_NOUNS.get(lower)
        mention = _entity_in(source, self.entities)
        if (
            noun_class is None
            and lower in TITLE_WORDS
            and source[0].lower_ in {"the", "his", "her"}
        ):
            # "the US president": the person introduced earlier with that title.
            person = self._titled_person(lower, source.start_char)
            if person is not None:
                self.recent.append((person, "person", None))
                return person, "person"
        if mention is not None and (noun_class is None or mention.start <= root.idx < mention.end):
            kind = ACTOR_TYPES.get(mention.label, "other")
            if kind in {"place", "group"}:
                kind = "organisation"  # a country or group speaking is an institution
            self.recent.append((mention.canonical, kind, None))
            return mention.canonical, kind
        description = _describe(source)
        first = source[0].lower_
        if noun_class and first in {"the", "that", "this"}:
            # "the spokesperson said", "the NSC spokesperson said": the source
            # described earlier, if it named every proper noun named here.
            names = {t.lower_ for t in source if t.pos_ == "PROPN"}
            for speaker, kind, cls in reversed(self.recent):
                if (
                    cls == noun_class
                    and kind == "unnamed"
                    and all(n in speaker.casefold().split() for n in names)
                ):
                    self.recent.append((speaker, kind, cls))
                    return speaker, kind
        if root.pos_ == "PROPN" and mention is None and noun_class is None:
            # A surname the NER missed: the person named in full earlier.
            person = self._person_named(root.text, source.start_char)
            if person is not None:
                self.recent.append((person, "person", None))
                return person, "person"
            self.recent.append((description, "unknown", None))
            return description, "unknown"
        self.recent.append((description, "unnamed", noun_class))
        return description, "unnamed"

    def _person_named(self, word: str, position: int) -> str | None:
        best = None
        for mention in self.entities:
            if mention.start >= position:
                break
            parts = mention.canonical.split()
            if mention.label == "PERSON" and len(parts) >= 2 and word in (parts[0], parts[-1]):
                best = mention.canonical
        return best

    def _titled_person(self, title: str, position: int) -> str | None:
        best = None
        for mention in self.entities:
            if mention.start >= position:
                break
            if mention.label == "PERSON":
                before = self.text[max(0, mention.start - 40) : mention.start].casefold()
                if title in before.split():
                    best = mention.canonical
        return best

    def _entity_before(self, position: int, label: str) -> str | None:
        best = None
        for mention in self.entities:
            if mention.start >= position:
                break
            if mention.label == label:
                best = mention.canonical
        return best

    def last(self) -> tuple[str | None, str]:
        if not self.recent:
            return None, "unknown"
        speaker, kind, _ = self.recent[-1]
        return speaker, kind


# --------------------------------------------------------------------------- extraction


def find_attributions(doc: Doc) -> tuple[list[_Raw], set[int]]:
    """Attributions found by the rules and the learned cue model, before the
    learned refinement and speaker resolution, in content order; with the
    indices of the `quote_spans` they took."""
    text = doc_text(doc)
    marks = quote_spans(text)
    raws = _clause_attributions(doc)
    raws.sort(key=lambda r: r.cue.idx if r.cue is not None else r.content[0])

    # A clause never runs across a paragraph break: clip what the parser joined.
    paragraphs = _paragraph_bounds(text)
    for raw in raws:
        if raw.cue is None or raw.content[0] < 0:
            continue
        bounds = next((b for b in paragraphs if b[0] <= raw.cue.idx < b[1]), None)
        if bounds is not None:
            start, end = max(raw.content[0], bounds[0]), min(raw.content[1], bounds[1])
            raw.content = _strip_chars(text, start, end) if end > start else (start, start)

    used_marks: set[int] = set()
    # Colon cues take the quote (or the sentence) right after the colon.
    for raw in raws:
        if raw.content[0] != -1:
            continue
        colon_end = raw.content[1]
        following = [
            k for k, (s, _) in enumerate(marks) if s >= colon_end and not text[colon_end:s].strip()
        ]
        if following:
            k = following[0]
            raw.content = _inner(marks[k], text)
            raw.direct = True
            used_marks.add(k)
        elif "\n" in text[colon_end : colon_end + 3] or not text[colon_end:].strip():
            # "X added:" closing its paragraph introduces the next paragraph.
            following_paragraph = next((b for b in paragraphs if b[0] >= colon_end), None)
            if following_paragraph is not None:
                raw.content = _strip_chars(text, *following_paragraph)
            else:
                raw.content = (colon_end, colon_end)
        else:
            sent_end = _sentence_end(doc, colon_end)
            paragraph_end = next((e for s, e in paragraphs if s <= colon_end < e), len(text))
            raw.content = _strip_chars(text, colon_end, min(sent_end, paragraph_end))

    for raw in raws:
        _fit_to_quotes(raw, marks, text, used_marks)

    # Quotes the parse did not attach: a speech cue right after the quote
    # ("“...,” I said, “...”") or right before it ("X said, “...”").
    cue_tokens = {r.cue.i for r in raws if r.cue is not None and r.direct}
    for k, mark in enumerate(marks):
        if k in used_marks:
            continue
        inner = _inner(mark, text)
        if len(_WORD_RE.findall(text[inner[0] : inner[1]])) < 2:
            continue
        cue = _adjacent_cue(doc, mark, cue_tokens)
        if cue is None:
            credit = _dash_credit(doc, text, mark)
            if credit is not None:
                raws.append(_Raw(inner, credit[0], credit[0].text, credit[1], direct=True))
                used_marks.add(k)
            continue
        subject = _subject(cue)
        raws.append(
            _Raw(
                inner,
                cue,
                _cue_text(cue),
                _source_span(doc, subject) if subject else None,
                direct=True,
                kind="speech",
            )
        )
        cue_tokens.add(cue.i)
        used_marks.add(k)
    flags = quote_context(doc) if load_attribution_model() else []
    raws = _drop_unlikely_cues(raws, flags)
    # Cues outside the lexicon, found by the learned model: only where no rule
    # attribution already holds the cue or most of the content.
    taken = {r.cue.i for r in raws if r.cue is not None}
    taken |= {r.cue.i - 1 for r in raws if r.cue is not None and r.kind == "according_to"}
    for raw in _learned_attributions(doc, taken, flags):
        size = raw.content[1] - raw.content[0]
        if any(_overlap(raw.content, r.content) * 2 > size for r in raws if r.content[0] >= 0):
            continue
        _fit_to_quotes(raw, marks, text, used_marks)
        raws.append(raw)
    raws.sort(key=lambda r: r.content[0])

    # A cue inside a quotation that is itself someone's quoted words ("“I think
    # we will win,” she said") is part of that quote, not a new attribution.
    quoted_contents = [r.content for r in raws if r.direct]
    raws = [
        r
        for r in raws
        if r.direct or r.cue is None or not any(s <= r.cue.idx < e for s, e in quoted_contents)
    ]
    return raws, used_marks


def extract_quotes(doc: Doc, entities: Sequence[EntityMention]) -> list[Quote]:
    """Direct and reported speech of one parsed article, in text order."""
    text = doc_text(doc)
    marks = quote_spans(text)
    raws, used_marks = find_attributions(doc)
    raws = refine_attributions(doc, raws)
    speakers = _Speakers(entities, text)
    quotes: list[Quote] = []
    by_mark_end: dict[int, Quote] = {}
    events: list[tuple[int, int, object]] = [
        (r.content[0] if r.cue is None else r.cue.idx, 0, r) for r in raws if r.content[0] >= 0
    ]
    # Unattributed quoted paragraphs continue the previous speaker.
    for k, mark in enumerate(marks):
        if k in used_marks:
            continue
        inner = _inner(mark, text)
        if len(_WORD_RE.findall(text[inner[0] : inner[1]])) < 4:
            continue  # scare quotes and titles
        paragraph_start = text.rfind("\n\n", 0, mark[0])
        opens_paragraph = not text[
            paragraph_start + 2 if paragraph_start >= 0 else 0 : mark[0]
        ].strip()
        events.append((mark[0], 1, (inner, opens_paragraph)))
    events.sort(key=lambda e: (e[0], e[1]))
    for _, kind, item in events:
        if kind == 0:
            raw = item
            assert isinstance(raw, _Raw)
            speaker, speaker_type = speakers.resolve(raw.source)
            relay = speakers.resolve(raw.via)[0] if raw.via is not None else None
            start, end = raw.content
            quote = Quote(
                text=text[start:end],
                start=start,
                end=end,
                speaker=speaker,
                speaker_type=speaker_type,
                cue=raw.cue_text,
                direct=raw.direct,
                partial=raw.partial and not raw.direct,
                kind=raw.kind,
                via=relay,
                speaker_start=raw.source.start_char
                if raw.source is not None and len(raw.source)
                else None,
                speaker_end=raw.source.end_char
                if raw.source is not None and len(raw.source)
                else None,
                speaker_mention=raw.source.text
                if raw.source is not None and len(raw.source)
                else None,
                cue_start=raw.cue.idx if raw.cue is not None else None,
                cue_end=raw.cue.idx + len(raw.cue) if raw.cue is not None else None,
            )
            quotes.append(quote)
        else:
            (start, end), opens_paragraph = item  # type: ignore[misc]
            # A stance or report read inside the cue clause ("he said, as he
            # traced her career") does not interrupt the quoted speaker.
            previous = next(
                (x for x in reversed(quotes) if x.direct or x.kind not in {"stance", "report"}),
                None,
            )
            # A quote continues the previous direct quote when it opens the next
            # paragraph, or follows it in the same paragraph after the cue clause
            # ("“...,” she said. “...”").
            if previous is None or not previous.direct:
                continue
            between = _paragraphs_between(text, previous.end, start)
            if opens_paragraph and between > 1:
                continue
            if not opens_paragraph and (
                between > 0 or len(_WORD_RE.findall(text[previous.end : start])) > 40
            ):
                continue
            quotes.append(
                Quote(
                    text=text[start:end],
                    start=start,
                    end=end,
                    speaker=previous.speaker,
                    speaker_type=previous.speaker_type,
                    cue=None,
                    direct=True,
                    kind="continuation",
                )
            )
    del by_mark_end
    return _dedupe(quotes)


def _fit_to_quotes(
    raw: _Raw, marks: Sequence[tuple[int, int]], text: str, used_marks: set[int]
) -> None:
    """Content inside a quote becomes the whole quote (direct); a quote inside
    the content makes it partial. Marks used are added to `used_marks`."""
    if raw.content[0] < 0 or raw.content[1] <= raw.content[0]:
        return
    for k, mark in enumerate(marks):
        inner = _inner(mark, text)
        if inner[1] <= inner[0]:
            continue
        if _overlap(raw.content, inner) >= 0.9 * (raw.content[1] - raw.content[0]) and not (
            raw.cue is not None and inner[0] <= raw.cue.idx < inner[1]
        ):
            raw.content = inner
            raw.direct = True
            used_marks.add(k)
            return
        if raw.content[0] <= inner[0] and inner[1] <= raw.content[1]:
            raw.partial = True
            used_marks.add(k)


def _token_index(doc: Doc, char: int) -> int:
    """Index of the first token starting at or after a character offset."""
    # The offsets as one array (no Token objects): this runs for every quote mark.
    return int(doc.to_array("IDX").searchsorted(char, side="left"))


_CLAUSE_STOP = frozenset({".", "!", "?", ";"})


def _adjacent_cue(doc: Doc, mark: tuple[int, int], taken: set[int]) -> Token | None:
    """A speech cue with its subject within a short clause touching the quote."""
    after = _token_index(doc, mark[1])
    for i in range(after, min(after + 8, len(doc))):
        token = doc[i]
        if token.text in _CLAUSE_STOP or token.text in _QUOTE_TOKENS or "\n" in token.text:
            break
        lemma = _cue_lemma(token)
        if lemma in SPEECH and i not in taken and _subject(token) is not None:
            return token
    before = _token_index(doc, mark[0]) - 1
    if before >= 0 and doc[before].text in {",", ":"}:
        for i in range(before - 1, max(before - 8, -1), -1):
            token = doc[i]
            if token.text in _CLAUSE_STOP or token.text in _QUOTE_TOKENS or "\n" in token.text:
                break
            lemma = _cue_lemma(token)
            if lemma in SPEECH and i not in taken and _subject(token) is not None:
                return token
    return None


_DASH_CREDIT_RE = re.compile(r"[ \t]*(?:[―—–]|--?)[ \t]*([A-Z][^\n]{0,60}?)[ \t]*(?:\n|$)")


def _dash_credit(doc: Doc, text: str, mark: tuple[int, int]) -> tuple[Token, Span] | None:
    """(dash, name) of a quote credited after a dash at the end of its line
    (“...” ― Jane Doe), the convention of epigraphs and collected reactions."""
    match = _DASH_CREDIT_RE.match(text, mark[1])  # (doc.text is rebuilt on each access)
    if match is None:
        return None
    name = doc.char_span(match.start(1), match.end(1), alignment_mode="contract")
    if name is None or not 1 <= len(name) <= 8:
        return None
    # A name, possibly with a short description ("Ann Lee, nurse"): no verb.
    if not name[0].text[:1].isupper() or any(t.pos_ in {"VERB", "AUX"} for t in name):
        return None
    dash = doc.char_span(mark[1], match.start(1), alignment_mode="expand")
    dashes = [t for t in dash if t.is_punct] if dash is not None else []
    if not dashes:
        return None
    return dashes[0], name


def _paragraphs_between(text: str, a: int, b: int) -> int:
    return text.count("\n\n", min(a, b), max(a, b))


def _dedupe(quotes: list[Quote]) -> list[Quote]:
    """One attribution per content span (two cues on one quote keep the first)."""
    seen: set[tuple[int, int]] = set()
    kept = []
    for quote in sorted(quotes, key=lambda q: q.start):
        key = (quote.start, quote.end)
        if key in seen or quote.end <= quote.start:
            continue
        seen.add(key)
        kept.append(quote)
    return kept


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _sentence_end(doc: Doc, char: int) -> int:
    """End of the sentence holding the first token at or after `char`."""
    index = _token_index(doc, char)
    if index >= len(doc):
        return len(doc_text(doc))
    return doc[index].sent.end_char


def _strip_chars(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in _QUOTE_CHARS):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;"):
        end -= 1
    return start, end


# --------------------------------------------------------------------------- story level


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD_RE.findall(text)]


def same_quote(a: str, b: str, threshold: float = 0.8) -> bool:
    """Whether two quote texts are the same words (one may be a trimmed copy)."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    shorter, longer = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if len(shorter) < 4:
        return shorter == longer
    joined = " ".join(longer)
    if " ".join(shorter) in joined:
        return True
    common = sum(1 for w in set(shorter) if w in set(longer))
    return common / len(set(shorter)) >= threshold and len(shorter) / len(longer) >= 0.5


_SPEAKER_RANK = {"person": 3, "organisation": 3, "unnamed": 2, "place": 2, "group": 2, "unknown": 0}


def merge_story_quotes(
    quotes_by_article: Mapping[str, Sequence[Quote]],
    outlet_by_article: Mapping[str, str | None],
) -> list[StoryQuote]:
    """One entry per quote of a story, listing every outlet and article that reports it."""
    merged: list[StoryQuote] = []
    for article_id, quotes in quotes_by_article.items():
        outlet = outlet_by_article.get(article_id) or "unknown"
        for quote in quotes:
            match = next((m for m in merged if same_quote(m.text, quote.text)), None)
            if match is None:
                merged.append(
                    StoryQuote(
                        text=quote.text,
                        speaker=quote.speaker,
                        speaker_type=quote.speaker_type,
                        cue=quote.cue,
                        direct=quote.direct,
                        outlets=[outlet],
                        article_ids=[article_id],
                    )
                )
                continue
            if outlet not in match.outlets:
                match.outlets.append(outlet)
            if article_id not in match.article_ids:
                match.article_ids.append(article_id)
            # Keep the most specific speaker and the longest wording.
            if _SPEAKER_RANK.get(quote.speaker_type, 1) > _SPEAKER_RANK.get(
                match.speaker_type, 1
            ) or (
                _SPEAKER_RANK.get(quote.speaker_type, 1) == _SPEAKER_RANK.get(match.speaker_type, 1)
                and quote.speaker
                and match.speaker
                and len(quote.speaker) > len(match.speaker)
            ):
                match.speaker, match.speaker_type = quote.speaker, quote.speaker_type
            if len(quote.text) > len(match.text):
                match.text = quote.text
            match.direct = match.direct or quote.direct
            match.cue = match.cue or quote.cue
    return merged


# --------------------------------------------------------------------------- learned attribution

# A small linear model learned on PolNeAR train (bench/quotes_train.py) over
# the parse, for what the lexicon rules above cannot list: the long tail of
# cues ("glossed over", "cast their votes for"), which dependents of a cue are
# its content, and how much of a subject's noun phrase annotators call the
# source. Absent model file: the rules run alone.
ATTRIBUTION_MODEL_PATH = Path(__file__).parent / "data" / "attribution_model.json"
# Coarse tags of the cue words the model scores: 89% of PolNeAR train cues
# (verbs 85%, nouns 4%); adpositions and adjectives (1%) added nothing on the
# held-out train documents and cost a quarter of the scoring time.
_CUE_POS = frozenset({"VERB", "AUX", "NOUN"})
_VERBAL_POS = frozenset({"VERB", "AUX"})
# Dependents that are never a cue's content on their own.
_NOT_CONTENT_DEPS = frozenset(
    {"punct", "aux", "auxpass", "neg", "cc", "det", "case", "prt", "mark", "expl"}
)


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Logistic regression over string features (absent features weigh 0)."""

    bias: float
    weights: Mapping[str, float]
    threshold: float = 0.5

    def probability(self, features: Sequence[str]) -> float:
        score = self.bias + sum(self.weights.get(f, 0.0) for f in features)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))

    def accepts(self, features: Sequence[str]) -> bool:
        return self.probability(features) >= self.threshold


@lru_cache(maxsize=2)
def load_attribution_model(path: Path | None = None) -> dict[str, LinearModel]:
    """The learned models by task ("cue", "cue_keep", "content", "source_part");
    empty when the data file is missing, so that the rules still run."""
    path = path or ATTRIBUTION_MODEL_PATH
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))["models"]
    models = {}
    for name, spec in data.items():
        weighed = data[spec["same_as"]] if "same_as" in spec else spec  # one model, two bars
        models[name] = LinearModel(
            float(weighed["bias"]), dict(weighed["weights"]), float(spec.get("threshold", 0.5))
        )
    return models


def _stem(lower: str) -> str:
    """A crude lemma (the pipeline has no lemmatizer): known cue forms map to
    their base, other words lose a regular inflection."""
    known = CUE_LEMMAS.get(lower)
    if known is not None:
        return known
    for suffix in ("ing", "ed", "es", "s"):
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 3:
            return lower[: -len(suffix)]
    return lower


def is_parsed(token: Token) -> bool:
    """Whether the token's sentence was parsed (the selective parse leaves
    other sentences untagged)."""
    return bool(token.tag_)


def cue_candidate(token: Token) -> bool:
    return is_parsed(token) and (token.pos_ in _CUE_POS or token.text == ":")


def cue_features(
    token: Token, quote_flags: Sequence[tuple[bool, bool, bool]] | None = None
) -> list[str]:
    """Features of a word as the head of an attribution cue; `quote_flags` is
    `quote_context(token.doc)`, computed once per document by callers that
    score many words."""
    doc = token.doc
    lower = token.lower_
    stem = _stem(lower)
    features = [
        "w=" + lower,
        "s=" + stem,
        "t=" + token.tag_,
        "d=" + token.dep_,
        "hd=" + token.head.dep_ + "|" + token.dep_,
        "ht=" + token.head.pos_,
        "s|d=" + stem + "|" + token.dep_,
        "suf=" + lower[-3:],
    ]
    if stem in SPEECH:
        features.append("lex=speech")
    elif stem in COGNITION:
        features.append("lex=thought")
    elif stem in STANCE:
        features.append("lex=stance")
    if lower in CUE_NOUNS:
        features.append("lex=noun")
    for child in token.children:
        dep = child.dep_
        features.append("c=" + dep)
        features.append("s|c=" + stem + "|" + dep)
        features.append("c|t=" + dep + "|" + child.tag_)
        if dep in {"prep", "prt", "agent", "mark", "dative"}:
            features.append("cw=" + child.lower_)
            features.append("s|cw=" + stem + "|" + child.lower_)
        if dep in {"nsubj", "nsubjpass"}:
            features.append("subj=" + (child.ent_type_ or child.pos_))
            if child.pos_ == "PRON":
                features.append("subj_w=" + child.lower_)
    if token.dep_ in {"xcomp", "conj", "advcl", "ccomp", "pcomp"}:
        # "continued to say", "said and added": what the word hangs on.
        features.append("hs|d=" + _stem(token.head.lower_) + "|" + token.dep_)
    if token.i + 1 < len(doc):
        features.append("n=" + doc[token.i + 1].lower_)
        features.append("s|n=" + stem + "|" + doc[token.i + 1].lower_)
        if token.i + 2 < len(doc):
            features.append(
                "s|n2=" + stem + "|" + doc[token.i + 1].lower_ + "|" + doc[token.i + 2].lower_
            )
    if token.i > 0:
        features.append("p=" + doc[token.i - 1].lower_)
    in_sentence, near, inside = (quote_flags or quote_context(doc))[token.i]
    if in_sentence:
        features.append("quote_in_sentence")
    if near:
        features.append("quote_near")
    if inside:
        features.append("in_quote")
        features.append("in_quote|t=" + token.tag_)
    return features


def quote_context(doc: Doc) -> list[tuple[bool, bool, bool]]:
    """Per token, in one pass: (its sentence holds a quotation mark, a mark is
    within three words in the sentence, it is inside someone's quoted words
    (an odd number of marks before it in the sentence))."""
    # Arrays and a regex over the text, not Token objects: this runs per article.
    starts = doc.to_array("IDX")
    sentence_starts = doc.to_array("SENT_START")
    candidates = {
        int(starts.searchsorted(m.start(), side="right")) - 1
        for m in _MARK_RE.finditer(doc_text(doc))
    }
    # Only marks that are tokens of their own ("plan!”—is" holds one but is a word).
    mark_tokens = sorted(i for i in candidates if doc[i].text in _QUOTE_TOKENS)
    bounds = [i for i in range(len(doc)) if i == 0 or sentence_starts[i] == 1] + [len(doc)]
    flags: list[tuple[bool, bool, bool]] = []
    for start, end in pairwise(bounds):
        marks = [m for m in mark_tokens if start <= m < end]
        before = 0
        for i in range(start, end):
            while before < len(marks) and marks[before] < i:
                before += 1
            near = any(abs(m - i) <= 3 for m in marks[max(0, before - 3) : before + 4])
            flags.append((bool(marks), near, before % 2 == 1))
    return flags


def _content_candidates(cue: Token) -> list[tuple[str, Token]]:
    """("child", dependent) or ("head", head) spans that may be a cue's content."""
    candidates = [("child", child) for child in cue.children if child.dep_ not in _NOT_CONTENT_DEPS]
    if cue.head.i != cue.i:
        candidates.append(("head", cue.head))
    return candidates


def content_features(cue: Token, role: str, node: Token) -> list[str]:
    """Features of one dependent (or the head) of a cue as its content."""
    stem = _stem(cue.lower_)
    direction = "L" if node.i < cue.i else "R"
    dep = node.dep_ if role == "child" else "HEAD|" + cue.dep_
    features = [
        "d=" + dep,
        "d|dir=" + dep + direction,
        "s|d=" + stem + "|" + dep,
        "t=" + node.tag_,
        "cd|d=" + cue.dep_ + "|" + dep,
        "cp|d=" + cue.pos_ + "|" + dep,
        "d|t=" + dep + "|" + node.tag_,
    ]
    if node.dep_ in {"prep", "advmod", "npadvmod", "dative", "agent"} and role == "child":
        features.append("w|d=" + node.lower_ + "|" + dep)
        features.append("s|w|d=" + stem + "|" + node.lower_)
    size = node.right_edge.i - node.left_edge.i + 1
    features.append("len=" + str(min(size, 8) if size < 8 else 8 + min(size // 8, 4)))
    if any(t.text in _QUOTE_TOKENS for t in node.subtree):
        features.append("quoted")
    if role == "child" and node.dep_ == "prep":
        objects = [c.dep_ for c in node.children]
        features.append("pobj=" + ",".join(sorted(set(objects))))
    return features


def source_part_features(head: Token, child: Token) -> list[str]:
    """Features of a dependent of a source's head: is it part of the source?"""
    doc = head.doc
    direction = "L" if child.i < head.i else "R"
    dep = child.dep_
    before = doc[child.left_edge.i - 1].text if child.left_edge.i > 0 else ""
    features = [
        "d=" + dep + direction,
        "t=" + child.tag_ + direction,
        "d|t=" + dep + "|" + child.tag_,
        "hp|d=" + head.pos_ + "|" + dep,
        "he|d=" + (head.ent_type_ or "-") + "|" + dep,
        "hd|d=" + head.dep_ + "|" + dep,
        "before=" + before + direction,
    ]
    if dep in {"prep", "advmod", "npadvmod", "det", "punct", "cc", "acl", "relcl", "amod"}:
        features.append("w|d=" + child.lower_ + "|" + dep)
    size = child.right_edge.i - child.left_edge.i + 1
    features.append("len=" + str(min(size, 6)))
    if any(t.tag_ in {"VBD", "VBZ", "VBP"} for t in child.subtree):
        features.append("finite_verb")
    return features


def _learned_source_bounds(doc: Doc, head: Token, start: int, end: int) -> tuple[int, int]:
    """Narrow [start, end) by dropping the head's outermost dependents that the
    learned model says annotators leave out of a source (a relative clause
    about the speaker, "at the time", "in a court filing", "Even")."""
    model = load_attribution_model().get("source_part")
    if model is None:
        return start, end
    rights = sorted((c for c in head.rights if c.i < end), key=lambda c: -c.i)
    for child in rights:
        if child.is_punct:
            continue  # edge punctuation is stripped anyway
        if child.right_edge.i + 1 < end and not all(
            doc[i].is_punct for i in range(child.right_edge.i + 1, end)
        ):
            break
        if model.accepts(source_part_features(head, child)):
            break
        end = min(end, child.left_edge.i)
    for child in sorted((c for c in head.lefts if c.i >= start), key=lambda c: c.i):
        if child.is_punct:
            continue
        if child.left_edge.i > start and not all(
            doc[i].is_punct for i in range(start, child.left_edge.i)
        ):
            break
        if model.accepts(source_part_features(head, child)):
            break
        start = max(start, child.right_edge.i + 1)
    return start, end


# A speech verb with an object ("the ministry confirmed the arrests") is kept
# whatever the cue model says: nested inside another attribution it is how
# source chains are found, and vetoing it gained only 0.001 content F1 on
# held-out train documents.
_VETO_EXEMPT = frozenset({"report"})


def _drop_unlikely_cues(raws: list[_Raw], flags: Sequence[tuple[bool, bool, bool]]) -> list[_Raw]:
    """Rule attributions without quotation marks whose cue word the learned
    model finds very unlikely to be one ("plans to build", "backed by")."""
    model = load_attribution_model().get("cue_keep")
    if model is None:
        return raws
    return [
        raw
        for raw in raws
        if raw.direct
        or raw.kind in _VETO_EXEMPT
        or raw.cue is None
        # "according to" and "Name:" cues are phrases the model does not score.
        or raw.kind == "according_to"
        or raw.cue_text == ":"
        # A cue noun with its own "that" clause states a claim ("the claim that X").
        or (raw.cue.pos_ == "NOUN" and any(c.dep_ in {"acl", "ccomp"} for c in raw.cue.children))
        or not cue_candidate(raw.cue)
        or model.accepts(cue_features(raw.cue, flags))
    ]


def _learned_attributions(
    doc: Doc, taken: set[int], flags: Sequence[tuple[bool, bool, bool]]
) -> list[_Raw]:
    """Attributions whose cue the learned model finds and no rule took: the
    content is the union of the dependents it accepts, the source the cue's
    subject."""
    models = load_attribution_model()
    cue_model, content_model = models.get("cue"), models.get("content")
    if cue_model is None or content_model is None:
        return []
    found = []
    # `cue_candidate` and not a noun: a tagged verb, auxiliary or colon.
    for token in _tokens_with(doc, pos=_VERBAL_POS, texts=frozenset({":"}), parsed=True):
        # Nouns are scored for the veto only: as new cues they added nothing on
        # held-out train documents (the noun rules cover the frequent ones).
        if token.i in taken or token.pos_ == "NOUN" or not cue_candidate(token):
            continue
        if not cue_model.accepts(cue_features(token, flags)):
            continue
        subject = _subject(token) if token.pos_ in {"VERB", "AUX"} else None
        clause_only = _stem(token.lower_) in NO_OBJECT_CONTENT  # "found the money"
        chosen = []
        for role, node in _content_candidates(token):
            if subject is not None and node.i == subject.i:
                continue
            if clause_only and role == "child" and node.dep_ != "ccomp":
                continue
            if content_model.accepts(content_features(token, role, node)):
                chosen.append((role, node))
        if not chosen:
            continue
        indices: set[int] = set()
        for role, node in chosen:
            if role == "head":
                cue_side = set(range(token.left_edge.i, token.right_edge.i + 1))
                indices |= {t.i for t in node.subtree if t.i not in cue_side}
            elif node.dep_ == "prep":
                # "focused on X": the preposition belongs to the cue.
                indices |= {t.i for c in node.children for t in c.subtree}
            else:
                indices |= {t.i for t in node.subtree}
        if not indices:
            continue
        start, end = _trim(doc, min(indices), max(indices) + 1)
        if end <= start or "\n\n" in doc[start:end].text:
            continue
        source = _source_span(doc, subject) if subject is not None else None
        if subject is None and token.dep_ == "acl" and token.head.pos_ in {"NOUN", "PROPN"}:
            # "the super PACs supporting X": the noun the participle describes.
            noun_phrase = _source_span(doc, token.head)
            start_i, end_i = noun_phrase.start, min(noun_phrase.end, token.left_edge.i)
            while end_i > start_i and doc[end_i - 1].is_punct:
                end_i -= 1
            source = doc[start_i:end_i] if end_i > start_i else None
        kind = _kind(_stem(token.lower_))
        found.append(
            _Raw(
                _char_span(doc, start, end),
                token,
                _cue_text(token),
                source,
                kind="stance" if kind == "stance" else "report",
                learned=True,
            )
        )
    return found


# --------------------------------------------------------------------------- learned refinement

# Size classes of a content or dependent, in words.
_SIZE_BOUNDS = (1, 2, 3, 5, 10, 20, 40)


def _size_class(words: int) -> str:
    return str(next((b for b in _SIZE_BOUNDS if words <= b), 99))


def _origin(raw: _Raw) -> str:
    if raw.learned:
        return "learned"
    if raw.direct:
        return "direct"
    if raw.cue_text == ":":
        return "colon"
    return raw.kind


def _content_tokens(doc: Doc, raw: _Raw) -> Span | None:
    if raw.content[0] < 0 or raw.content[1] <= raw.content[0]:
        return None
    span = doc.char_span(raw.content[0], raw.content[1], alignment_mode="expand")
    return span if span is not None and len(span) else None


def _span_head(span: Span) -> Token | None:
    """The word of a span whose head lies outside it with the largest subtree."""
    roots = [t for t in span if not (span.start <= t.head.i < span.end) or t.head.i == t.i]
    if not roots or not is_parsed(roots[0]):
        return None
    return max(roots, key=lambda t: t.right_edge.i - t.left_edge.i)


def content_part_features(raw: _Raw, node: Token, child: Token, side: str) -> list[str]:
    """Features of a dependent at the edge of a content: do annotators keep it?"""
    doc = child.doc
    dep = child.dep_
    origin = _origin(raw)
    left = child.left_edge.i
    before = doc[left - 1].text if left > 0 else ""
    size = child.right_edge.i - left + 1
    features = [
        "d=" + dep + side,
        "o|d=" + origin + "|" + dep + side,
        "t=" + child.tag_ + side,
        "nd|d=" + node.dep_ + "|" + dep + side,
        "nt|d=" + node.tag_ + "|" + dep,
        "before=" + before + side,
        "d|before=" + dep + "|" + before + side,
        "len=" + _size_class(size),
        "d|len=" + dep + "|" + _size_class(size),
        "first=" + doc[left].lower_ + side,
    ]
    if dep in {"prep", "advmod", "npadvmod", "cc", "mark", "advcl", "conj", "punct"}:
        features.append("w|d=" + child.lower_ + "|" + dep + side)
    if raw.cue is not None:
        features.append("cs|d=" + _stem(raw.cue.lower_) + "|" + dep + side)
    if any(t.tag_ in {"VBD", "VBZ", "VBP", "MD"} for t in child.subtree):
        features.append("finite_verb")
    if dep == "conj":
        cc = next((c for c in node.children if c.dep_ == "cc" and c.i < child.i), None)
        features.append("conj_cc=" + (cc.lower_ if cc is not None else "-"))
    return features


def content_edges(doc: Doc, raw: _Raw, keep) -> tuple[int, int] | None:
    """Token bounds of a content after dropping the dependents at its edges
    that `keep(node, child, side)` rejects, outermost first, descending into
    the last one kept; None when the content has no parsed head."""
    span = _content_tokens(doc, raw)
    if span is None:
        return None
    head = _span_head(span)
    if head is None:
        return None
    start, end = span.start, span.end
    for side in ("R", "L"):
        node = head
        for _ in range(3):
            if side == "R":
                children = sorted((c for c in node.rights if c.i < end), key=lambda c: -c.i)
            else:
                children = sorted((c for c in node.lefts if c.i >= start), key=lambda c: c.i)
            kept = None
            for child in children:
                if child.is_punct or child.dep_ in {"cc", "mark"}:
                    continue  # follows what it joins
                edge = child.right_edge.i + 1 if side == "R" else child.left_edge.i
                gap = range(edge, end) if side == "R" else range(start, edge)
                if not all(doc[i].is_punct or doc[i].dep_ in {"cc", "mark"} for i in gap):
                    break
                if keep(node, child, side):
                    kept = child
                    break
                if side == "R":
                    end = min(end, child.left_edge.i)
                else:
                    start = max(start, child.right_edge.i + 1)
            if kept is None:
                break
            node = kept
    return start, end


def refine_attributions(doc: Doc, raws: list[_Raw]) -> list[_Raw]:
    """The learned second pass over found attributions (not quotations): cut
    the dependents at a content's edges that annotators leave out ("..., but
    ...", trailing adjuncts)."""
    part = load_attribution_model().get("content_part")
    if part is None:
        return raws
    for raw in raws:
        if raw.direct:
            continue
        bounds = content_edges(
            doc,
            raw,
            lambda node, child, side, raw=raw: part.accepts(
                content_part_features(raw, node, child, side)
            ),
        )
        if bounds is not None:
            start, end = _trim(doc, *bounds)
            if end > start:
                raw.content = _char_span(doc, start, end)
    return raws


# --------------------------------------------------------------------------- parse selection

# Lower-cased words whose sentence can hold an attribution: every cue form the
# rules above read, plus quotation marks and the colon of "X said:" / "NAME:".
TRIGGER_WORDS = frozenset(
    set(CUE_LEMMAS)
    | set(CUE_NOUNS)
    | EVIDENTIAL_VERBS
    | EVIDENTIAL_ADVERBS
    | PASSIVE_JUDGEMENT
    | _QUOTE_TOKENS
    | {"according", ":"}
) - {
    # Forms that are mostly nouns in news and, on 300 PolNeAR train articles,
    # never started an attribution: parsing their sentences is wasted time.
    "state",
    "states",
    "post",
    "posts",
    "tweet",
    "side",
    "sides",
    "reason",
    "reasons",
    "list",
    "voice",
    "assault",
    "thanks",
    "counter",
    "advocates",
    "project",
    "favors",
    "decline",
    "charge",
    "charges",
}


def may_hold_attribution(sentence: Span) -> bool:
    """Whether a sentence has a word an attribution rule starts from (a cue, a
    quotation mark, "according to"): only those sentences need a parse."""
    return any(token.lower_ in TRIGGER_WORDS for token in sentence)
