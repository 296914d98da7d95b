"""Passages two articles share verbatim or lightly edited (syndicated wire copy).

Word-level alignment in three steps, all linear-ish in the text length:

1. Seeds: exact matches of word n-grams on normalised tokens (case, quote style
   and punctuation ignored), found with a hash index; consecutive seeds on the same
   diagonal become maximal exact runs.
2. Chaining: runs that follow each other in both texts are joined across small
   edits (a changed word, a dropped clause, a reworded attribution), smallest gaps
   first, as long as the gap is no longer than the runs on either side of it and
   the joined passage stays mostly shared.  Larger divergence ends a passage.
3. Passages shorter than `min_words` are dropped.

Offsets are character offsets into the original strings, snapped to word
boundaries (plus sentence punctuation / closing quotes attached to the last word).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

import numpy as np

# Word n-gram length of the seeds: long enough that stock phrases ("said on
# Monday", "the United States") do not seed, short enough to seed between edits.
SEED_WORDS = 4
# Largest gap (in words, on the longer side) bridged inside one passage.
MAX_GAP_WORDS = 12
# An n-gram this frequent in one text (boilerplate, lists) seeds nothing.
_MAX_SEED_OCCURRENCES = 32
_GAP_LEVELS = (1, 2, 4, 8)
# Odd multiplier that mixes token hashes into an n-gram hash (arithmetic mod 2**64).
_MIX = np.uint64(0x9E3779B97F4A7C15)

# A token is a run of word characters; apostrophes inside a word do not split it
# ("Russia's" / "Russia’s" -> "russias"), as removing them from the folded text does.
_TOKEN = re.compile(r"[\w\u0300-\u036f]+(?:['’ʼ‘]+[\w\u0300-\u036f]+)*")
_WORD = re.compile(r"[\w\u0300-\u036f]+")
_APOSTROPHE_CHARS = "'’ʼ‘"
_APOSTROPHES = str.maketrans("", "", _APOSTROPHE_CHARS)
# Characters glued to a passage's last word that belong to it (end of sentence, closing quote).
_TRAILING = re.compile(r"""[.!?,;:]?["”’»)]?""")
_OPENING = "\"“‘«('"


@dataclass(frozen=True, slots=True)
class SharedPassage:
    """A span of text A and the span of text B it corresponds to."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    a_text: str
    b_text: str
    similarity: float  # 1.0 = same words (after normalisation); lower = lightly edited

    def swapped(self) -> SharedPassage:
        """The same passage seen from text B."""
        return SharedPassage(self.b_start, self.b_end, self.a_start, self.a_end,
                             self.b_text, self.a_text, self.similarity)


class PreparedText:
    """A text tokenised once, to be compared with many others (e.g. all articles of a story).

    Token character offsets and the n-gram index are built on first use: most
    pairs share nothing, and then only the tokens are needed.
    """

    __slots__ = ("_keys", "_sorted", "_spans", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self._keys: np.ndarray | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._spans: list[tuple[int, int]] | None = None
        # Folding the whole text at once runs in C, token by token it would not.
        # Folding keeps the word segmentation of the original (checked in `spans`).
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        folded = text.casefold()
        for apostrophe in _APOSTROPHE_CHARS:
            if apostrophe in folded:
                folded = folded.replace(apostrophe, "")
        self.tokens: list[str] = _WORD.findall(folded)

    @property
    def spans(self) -> list[tuple[int, int]]:
        """(start, end) character offsets of each token in the original text."""
        if self._spans is None:
            self._spans = [m.span() for m in _TOKEN.finditer(self.text)]
            if len(self._spans) != len(self.tokens):
                # Folding changed the segmentation (not seen in practice): fold token by token.
                self.tokens = [_normalise_token(self.text[s:e]) for s, e in self._spans]
                self._keys = self._sorted = None
        return self._spans

    def gram_keys(self) -> np.ndarray:
        """A 64-bit hash of each seed n-gram, by start position (uint64)."""
        if self._keys is None:
            hashes = np.fromiter(map(hash, self.tokens), dtype=np.int64,
                                 count=len(self.tokens)).view(np.uint64)
            count = len(hashes) - SEED_WORDS + 1
            keys = np.zeros(max(count, 0), dtype=np.uint64)
            for offset in range(SEED_WORDS):
                keys = keys * _MIX + hashes[offset : offset + len(keys)]
            self._keys = keys
        return self._keys

    def sorted_gram_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted keys, their start positions), to look up many n-grams at once."""
        if self._sorted is None:
            keys = self.gram_keys()
            order = np.argsort(keys, kind="stable")
            self._sorted = (keys[order], order)
        return self._sorted


def _normalise_token(token: str) -> str:
    return unicodedata.normalize("NFC", token).casefold().translate(_APOSTROPHES)


def prepare(text: str) -> PreparedText:
    return PreparedText(text)


@dataclass(slots=True)
class _Chain:
    """Token span [a_start, a_end) of A aligned to [b_start, b_end) of B."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    matched: int  # tokens inside exact runs
    edits: int  # tokens bridged across gaps (longer side of each gap)

    @property
    def edit_ratio(self) -> float:
        return self.edits / (self.matched + self.edits)


def _exact_runs(a: PreparedText, b: PreparedText) -> list[_Chain]:
    """Maximal runs of equal tokens (length >= SEED_WORDS), as chains of one run."""
    a_keys = a.gram_keys()
    b_sorted, b_order = b.sorted_gram_keys()
    if not len(a_keys) or not len(b_sorted):
        return []
    first = np.searchsorted(b_sorted, a_keys, side="left")
    counts = np.searchsorted(b_sorted, a_keys, side="right") - first
    counts[counts > _MAX_SEED_OCCURRENCES] = 0
    hits = np.flatnonzero(counts)
    if not len(hits):
        return []
    # Every (a position, b position) pair of equal n-grams.
    repeats = counts[hits]
    a_positions = np.repeat(hits, repeats)
    within = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    b_positions = b_order[np.repeat(first[hits], repeats) + within]
    # Seeds on one diagonal (b - a) at consecutive positions form one run.
    i = a_positions.astype(np.int64)
    diagonal = b_positions.astype(np.int64) - i
    order = np.lexsort((i, diagonal))
    i, diagonal = i[order], diagonal[order]
    new_run = np.ones(len(i), dtype=bool)
    new_run[1:] = (diagonal[1:] != diagonal[:-1]) | (i[1:] != i[:-1] + 1)
    firsts = np.flatnonzero(new_run)
    lasts = np.append(firsts[1:], len(i)) - 1
    return [
        _Chain(start, end + SEED_WORDS, start + d, end + SEED_WORDS + d,
               end - start + SEED_WORDS, 0)
        for start, end, d in zip(i[firsts].tolist(), i[lasts].tolist(),
                                 diagonal[firsts].tolist(), strict=True)
    ]


def _words_matched_in_gap(a_gap: list[str], b_gap: list[str]) -> int:
    """Words a gap still shares (too few in a row to seed): "for the ministry" in
    "a spokesperson for the ministry said" / "a spokesman for the ministry told"."""
    if not a_gap or not b_gap:
        return 0
    matcher = SequenceMatcher(None, a_gap, b_gap, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


def _try_join(a: PreparedText, b: PreparedText, left: _Chain, right: _Chain, max_gap: int,
              max_edit_ratio: float) -> _Chain | None:
    """`right` appended to `left` across the gap between them, if the gap is small enough."""
    # Repeated words can make consecutive runs overlap; cut the overlap off the right one.
    overlap = max(left.a_end - right.a_start, left.b_end - right.b_start, 0)
    if overlap >= right.matched or overlap > max_gap:
        return None
    a_gap_end, b_gap_end = right.a_start + overlap, right.b_start + overlap
    gap = max(a_gap_end - left.a_end, b_gap_end - left.b_end)
    if gap > max_gap:
        return None
    in_gap = _words_matched_in_gap(a.tokens[left.a_end : a_gap_end],
                                   b.tokens[left.b_end : b_gap_end])
    edits = gap - in_gap
    matched_right = right.matched - overlap
    # A bridge needs support on both sides, so a stray match after a long gap
    # does not drag unrelated text into the passage.
    if edits > min(left.matched, matched_right):
        return None
    joined = _Chain(left.a_start, right.a_end, left.b_start, right.b_end,
                    left.matched + in_gap + matched_right, left.edits + right.edits + edits)
    if joined.edit_ratio > max_edit_ratio:
        return None
    return joined


def _join_pass(a: PreparedText, b: PreparedText, chains: list[_Chain], max_gap: int,
               max_edit_ratio: float) -> list[_Chain]:
    """One left-to-right pass joining chains separated by at most `max_gap` words."""
    chains = sorted(chains, key=lambda c: (c.a_start, c.b_start))
    by_a_end: dict[int, list[_Chain]] = {}
    alive: dict[int, _Chain] = {}  # id -> chain, in insertion order
    for chain in chains:
        best: _Chain | None = None
        best_left: _Chain | None = None
        best_key: tuple[int, int] | None = None
        for a_end in range(chain.a_start - max_gap, chain.a_start + max_gap + 1):
            for left in by_a_end.get(a_end, ()):
                joined = _try_join(a, b, left, chain, max_gap, max_edit_ratio)
                if joined is None:
                    continue
                key = (joined.edits - left.edits - chain.edits, -left.matched)
                if best_key is None or key < best_key:
                    best, best_left, best_key = joined, left, key
        if best is not None and best_left is not None:
            by_a_end[best_left.a_end].remove(best_left)
            del alive[id(best_left)]
            chain = best
        by_a_end.setdefault(chain.a_end, []).append(chain)
        alive[id(chain)] = chain
    return list(alive.values())


def _span(text: PreparedText, first: int, last: int) -> tuple[int, int]:
    """Character span from token `first` to token `last` (inclusive), with glued punctuation."""
    start, end = text.spans[first][0], text.spans[last][1]
    if start > 0 and text.text[start - 1] in _OPENING:
        start -= 1
    trailing = _TRAILING.match(text.text, end)
    if trailing is not None:
        end = trailing.end()
    return start, end


def _overlaps(x0: int, x1: int, y0: int, y1: int) -> bool:
    return x0 < y1 and y0 < x1


def shared_passages(a: str | PreparedText, b: str | PreparedText, *, min_words: int = 8,
                    max_edit_ratio: float = 0.2,
                    max_gap_words: int = MAX_GAP_WORDS) -> list[SharedPassage]:
    """Passages of `a` that `b` also contains verbatim or lightly edited, in order of `a`.

    `max_edit_ratio` is the largest share of a passage's words that may lie in
    bridged edits rather than in exact shared runs; `max_gap_words` the largest
    single edit bridged.  Passages shorter than `min_words` (on either side) are
    dropped.  Pass `PreparedText` (see `prepare`) to compare one text with many.
    """
    if min_words < 1:
        raise ValueError("min_words must be at least 1")
    if not 0.0 <= max_edit_ratio < 1.0:
        raise ValueError("max_edit_ratio must be in [0, 1)")
    pa = a if isinstance(a, PreparedText) else prepare(a)
    pb = b if isinstance(b, PreparedText) else prepare(b)
    chains = _exact_runs(pa, pb)
    if chains:
        tokens_before = (len(pa.tokens), len(pb.tokens))
        if (len(pa.spans), len(pb.spans)) != tokens_before:
            chains = _exact_runs(pa, pb)  # the tokens were re-made to match the offsets
    levels = sorted({level for level in _GAP_LEVELS if level < max_gap_words} | {max_gap_words})
    for level in levels:
        if len(chains) < 2:
            break
        chains = _join_pass(pa, pb, chains, level, max_edit_ratio)

    kept: list[_Chain] = []
    # Longest first, so a stray run crossing a kept passage in both texts is dropped.
    for chain in sorted(chains, key=lambda c: (-c.matched, c.a_start, c.b_start)):
        if min(chain.a_end - chain.a_start, chain.b_end - chain.b_start) < min_words:
            continue
        if any(_overlaps(chain.a_start, chain.a_end, k.a_start, k.a_end)
               and _overlaps(chain.b_start, chain.b_end, k.b_start, k.b_end) for k in kept):
            continue
        kept.append(chain)

    passages = []
    for chain in sorted(kept, key=lambda c: (c.a_start, c.b_start)):
        a_start, a_end = _span(pa, chain.a_start, chain.a_end - 1)
        b_start, b_end = _span(pb, chain.b_start, chain.b_end - 1)
        words = (chain.a_end - chain.a_start) + (chain.b_end - chain.b_start)
        passages.append(SharedPassage(
            a_start, a_end, b_start, b_end,
            pa.text[a_start:a_end], pb.text[b_start:b_end],
            round(2 * chain.matched / words, 3),
        ))
    return passages


@dataclass(frozen=True, slots=True)
class ArticlePassage:
    """A passage of one article shared with another (the export's `shared_passages` item)."""

    text: str
    start: int
    end: int
    with_article_id: str
    with_start: int
    with_end: int
    similarity: float


def passages_by_article(texts: Mapping[str, str], *, min_words: int = 8,
                        max_edit_ratio: float = 0.2) -> dict[str, list[ArticlePassage]]:
    """For every pair of articles (id -> text, e.g. one story), the passages each shares.

    Each article's list is ordered by position in that article.  Texts are
    tokenised once, so a story of k articles costs k tokenisations and k(k-1)/2
    alignments.
    """
    prepared = {article_id: prepare(text) for article_id, text in texts.items()}
    found: dict[str, list[ArticlePassage]] = {article_id: [] for article_id in texts}
    for a_id, b_id in combinations(sorted(prepared), 2):
        for p in shared_passages(prepared[a_id], prepared[b_id], min_words=min_words,
                                 max_edit_ratio=max_edit_ratio):
            found[a_id].append(ArticlePassage(p.a_text, p.a_start, p.a_end, b_id,
                                              p.b_start, p.b_end, p.similarity))
            found[b_id].append(ArticlePassage(p.b_text, p.b_start, p.b_end, a_id,
                                              p.a_start, p.a_end, p.similarity))
    for passages in found.values():
        passages.sort(key=lambda p: (p.start, p.with_article_id, p.with_start))
    return found
