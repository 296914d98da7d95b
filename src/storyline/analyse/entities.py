"""Named entities and their canonical names, within an article and across a story.

spaCy's NER finds the mentions; canonicalisation is rule-based and explainable:

- titles, determiners and possessives are dropped ("US President Joe Biden's"
  -> "Joe Biden"); a surname or first name alone joins the full name used in
  the same article ("Biden" -> "Joe Biden");
- an expansion followed by its acronym in parentheses makes one organisation
  ("Organization for Security and Co-operation in Europe (OSCE)"), detected
  from the text itself because NER often splits such long names;
- spelling variants and abbreviations of places and bodies come from a small
  gazetteer (`VARIANTS`: "Kiev"/"Kyiv", "U.S."/"United States");
- a capital city used as an actor (subject, possessor, or modifier of a noun
  such as "Moscow-NATO talks") stands for its country's government, while the
  same name after "in"/"to"/"from" stays the city;
- across the articles of a story, names that share any alias are one actor
  (union-find over canonical names and surface forms).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storyline.analyse.nlp import doc_text

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

# NER labels kept as actors; dates, numbers, works of art etc. are not actors.
ACTOR_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"})

ACTOR_TYPES = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "group",
}

# Words that precede a name without being part of it.
TITLE_WORDS = frozenset(
    [
        "mr",
        "mr.",
        "mrs",
        "mrs.",
        "ms",
        "ms.",
        "dr",
        "dr.",
        "sir",
        "dame",
        "lord",
        "lady",
        "prof",
        "prof.",
        "professor",
        "president",
        "vice",
        "prime",
        "minister",
        "chancellor",
        "secretary",
        "general",
        "gen.",
        "gen",
        "sen.",
        "sen",
        "senator",
        "rep.",
        "rep",
        "representative",
        "gov.",
        "gov",
        "governor",
        "mayor",
        "king",
        "queen",
        "prince",
        "princess",
        "pope",
        "sheikh",
        "ambassador",
        "judge",
        "justice",
        "chairman",
        "chairwoman",
        "chair",
        "ceo",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "leader",
        "candidate",
        "nominee",
        "former",
        "late",
        "foreign",
        "defence",
        "defense",
        "state",
        "interior",
        "finance",
        "deputy",
        "acting",
        "chief",
        "us",
        "u.s.",
        "uk",
        "u.k.",
        "russian",
        "american",
        "british",
        "french",
        "german",
        "chinese",
        "ukrainian",
        "democratic",
        "republican",
        "democrat",
        "gop",
        "colonel",
        "col.",
        "lt.",
        "captain",
        "capt.",
        "sgt.",
    ]
)

# Spelling variants and abbreviations: variant (casefolded) -> canonical name.
# A gazetteer of transliterations and standard abbreviations, not of any story.
VARIANTS: dict[str, str] = {
    "kiev": "Kyiv",
    "kharkov": "Kharkiv",
    "odessa": "Odesa",
    "lvov": "Lviv",
    "nikolaev": "Mykolaiv",
    "lugansk": "Luhansk",
    "chernobyl": "Chornobyl",
    "bombay": "Mumbai",
    "calcutta": "Kolkata",
    "madras": "Chennai",
    "peking": "Beijing",
    "burma": "Myanmar",
    "byelorussia": "Belarus",
    "ivory coast": "Côte d'Ivoire",
    "us": "United States",
    "u.s.": "United States",
    "u.s.a.": "United States",
    "usa": "United States",
    "united states of america": "United States",
    "america": "United States",
    "uk": "United Kingdom",
    "u.k.": "United Kingdom",
    "britain": "United Kingdom",
    "great britain": "United Kingdom",
    "un": "United Nations",
    "u.n.": "United Nations",
    "eu": "European Union",
    "e.u.": "European Union",
    "russian federation": "Russia",
    "prc": "China",
    "people's republic of china": "China",
    "uae": "United Arab Emirates",
    "dprk": "North Korea",
}

# Capitals that news uses as metonyms for their governments.
CAPITAL_OF: dict[str, str] = {
    "washington": "United States",
    "moscow": "Russia",
    "beijing": "China",
    "kyiv": "Ukraine",
    "kiev": "Ukraine",
    "london": "United Kingdom",
    "paris": "France",
    "berlin": "Germany",
    "tokyo": "Japan",
    "tehran": "Iran",
    "ankara": "Turkey",
    "pyongyang": "North Korea",
    "seoul": "South Korea",
    "new delhi": "India",
    "ottawa": "Canada",
    "canberra": "Australia",
    "minsk": "Belarus",
    "warsaw": "Poland",
    "damascus": "Syria",
    "riyadh": "Saudi Arabia",
    "brussels": "European Union",
    "tel aviv": "Israel",
    "jerusalem": "Israel",
    "havana": "Cuba",
    "caracas": "Venezuela",
    "islamabad": "Pakistan",
    "kabul": "Afghanistan",
    "baghdad": "Iraq",
    "cairo": "Egypt",
    "rome": "Italy",
    "madrid": "Spain",
}

# Dependency relations in which a place name acts rather than locates.
AGENT_DEPS = frozenset({"nsubj", "nsubjpass", "poss", "agent"})
LOCATIVE_PREPS = frozenset({"in", "to", "from", "at", "near", "into", "outside", "across"})

_ACRONYM_RE = re.compile(
    r"((?:[A-Z][\w'’.&-]*)"
    r"(?:[ \t]+(?:[A-Z][\w'’.&-]*|of|for|and|the|in|on|de|du|des|la|le|&)){1,12})"
    r"[ \t]*\(([A-Z][A-Za-z.&-]{1,11})\)"
)
_SPACE_RE = re.compile(r"\s+")
_POSSESSIVE_RE = re.compile(r"(?:'s|’s|'|’)$")


@dataclass(slots=True)
class EntityMention:
    """One named-entity mention in an article (character offsets into its text)."""

    text: str
    start: int
    end: int
    label: str  # spaCy NER label: PERSON, ORG, GPE, LOC, NORP, FAC
    canonical: str


@dataclass(slots=True)
class Actor:
    """One real-world actor of a story with the names it goes by."""

    name: str
    type: str  # person | organisation | place | group
    aliases: list[str] = field(default_factory=list)
    mentions_by_outlet: dict[str, int] = field(default_factory=dict)


def clean_name(text: str, label: str) -> str:
    """A mention's surface text without determiners, possessives and titles."""
    name = _SPACE_RE.sub(" ", text).strip(" \t\n\"'“”‘’,.;:()[]")
    name = _POSSESSIVE_RE.sub("", name).strip()
    if text.rstrip().endswith(".") and re.search(r"\b(?:[A-Z]\.){2,}$", text.strip()):
        name = text.strip()  # keep "U.S." whole
    words = name.split(" ")
    while words and words[0].casefold() in {"the", "a", "an"}:
        words = words[1:]
    if label == "PERSON":
        while len(words) > 1 and words[0].casefold().rstrip(",") in TITLE_WORDS:
            words = words[1:]
    return " ".join(words)


def name_key(name: str) -> str:
    """A comparison key: casefolded, dots and dashes neutralised."""
    key = name.casefold().replace("’", "'")
    key = key.replace("-", " ").replace(".", "")
    return _SPACE_RE.sub(" ", key).strip()


def _variant(name: str) -> str | None:
    return VARIANTS.get(name.casefold()) or VARIANTS.get(name_key(name))


def _initials(words: Sequence[str]) -> str:
    letters: list[str] = []
    for word in words:
        for part in word.split("-"):
            if part[:1].isupper():
                letters.append(part[0])
    return "".join(letters)


def find_acronyms(text: str) -> list[tuple[str, str, int, int, int, int]]:
    """ "Long Name (ACR)" definitions: (long, acronym, long_start, long_end, acr_start, acr_end)."""
    found = []
    for match in _ACRONYM_RE.finditer(text):
        acronym = match.group(2).replace(".", "")
        words = match.group(1).split()
        # Shrink the long form from the left until its initials end with the acronym.
        for begin in range(len(words)):
            if words[begin].casefold() in {"the", "of", "for", "and", "in", "on"}:
                continue
            initials = _initials(words[begin:])
            if initials.upper() == acronym.upper() or (
                len(acronym) >= 2
                and initials.upper().startswith(acronym.upper())
                and len(initials) - len(acronym) <= 1
                and initials[0] == acronym[0]
            ):
                long_words = words[begin:]
                offset = match.start(1) + len(" ".join(words[:begin])) + (1 if begin else 0)
                long_text = " ".join(long_words)
                long_start = text.index(long_text, match.start(1)) if long_text in text else offset
                found.append(
                    (
                        long_text,
                        match.group(2),
                        long_start,
                        long_start + len(long_text),
                        match.start(2),
                        match.end(2),
                    )
                )
                break
    return found


def _is_agentive(span: Span) -> bool:
    """Whether a place name acts (subject, possessor, modifier) rather than locates."""
    root = span.root
    node = root
    while node.dep_ == "conj" and node.head.i != node.i:
        node = node.head
    if node.dep_ in AGENT_DEPS:
        return True
    if node.dep_ == "pobj" and node.head.lower_ in LOCATIVE_PREPS:
        return False
    if node.dep_ == "pobj" and node.head.lower_ in {"by", "with", "between", "against"}:
        return True
    # "Moscow-NATO talks", "Washington officials": a name modifying a noun.
    return node.dep_ in {"compound", "nmod", "amod"} and node.head.pos_ in {"NOUN", "PROPN"}


def doc_entities(doc: Doc) -> list[EntityMention]:
    """Entity mentions of one parsed article, canonical within the article."""
    text = doc_text(doc)
    acronyms = find_acronyms(text)
    # Acronym definitions override NER spans they overlap (NER splits long names).
    covered: list[tuple[int, int]] = []
    mentions: list[EntityMention] = []
    long_of: dict[str, str] = {}
    for long_text, acronym, ls, le, as_, ae in acronyms:
        long_of[name_key(acronym)] = long_text
        mentions.append(EntityMention(long_text, ls, le, "ORG", long_text))
        mentions.append(EntityMention(acronym, as_, ae, "ORG", long_text))
        covered.append((ls, ae + 1))
    for ent in doc.ents:
        if ent.label_ not in ACTOR_LABELS:
            continue
        if any(s < ent.end_char and ent.start_char < e for s, e in covered):
            continue
        if "\n" in ent.text.strip():
            continue  # a span across paragraphs is a tagging accident
        name = clean_name(ent.text, ent.label_)
        if not name or not any(ch.isalpha() for ch in name):
            continue
        mentions.append(EntityMention(ent.text, ent.start_char, ent.end_char, ent.label_, name))
        capital = CAPITAL_OF.get(name.casefold())
        if ent.label_ == "GPE" and capital and _is_agentive(ent):
            mentions[-1].canonical = capital
    mentions.sort(key=lambda m: m.start)
    _link_within(mentions, long_of)
    return mentions


def _link_within(mentions: list[EntityMention], long_of: Mapping[str, str]) -> None:
    """Give short forms the canonical name of the full form used in the same article."""
    full_people: list[str] = []
    for mention in mentions:
        if mention.label == "PERSON" and len(mention.canonical.split()) >= 2:
            full_people.append(mention.canonical)
    by_part: dict[str, set[str]] = defaultdict(set)
    for full in full_people:
        parts = full.split()
        by_part[name_key(parts[-1])].add(full)
        by_part[name_key(parts[0])].add(full)
    for mention in mentions:
        key = name_key(mention.canonical)
        if key in long_of:
            mention.canonical = long_of[key]
            mention.label = "ORG"
            continue
        variant = _variant(mention.canonical)
        if variant:
            mention.canonical = variant
            continue
        if len(mention.canonical.split()) == 1 and mention.label in {
            "PERSON",
            "ORG",
            "GPE",
            "NORP",
        }:
            candidates = by_part.get(key, set())
            if len(candidates) == 1:
                # NER sometimes tags a lone surname as ORG or GPE; the full name decides.
                mention.canonical = next(iter(candidates))
                mention.label = "PERSON"


def extract_entities(
    texts_or_docs: Iterable[str | Doc], nlp: Language | None = None, batch_size: int = 32
) -> list[list[EntityMention]]:
    """Entity mentions per article; raw texts are parsed in batches with `nlp.pipe`."""
    items = list(texts_or_docs)
    if items and all(not isinstance(item, str) for item in items):
        return [doc_entities(doc) for doc in items]  # type: ignore[arg-type]
    if nlp is None:
        from storyline.analyse.nlp import load_nlp

        nlp = load_nlp()
    texts = [item if isinstance(item, str) else item.text for item in items]
    return [doc_entities(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]


def _is_metonym(surface: str, canonical: str) -> bool:
    """A capital standing for its government ("Washington" -> "United States")."""
    return CAPITAL_OF.get(surface.casefold()) == canonical


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def canonicalise_story(
    mentions_by_article: Mapping[str, Sequence[EntityMention]],
    outlet_by_article: Mapping[str, str | None],
) -> list[Actor]:
    """One actor per real-world entity across the articles of a story.

    Canonical names and surface forms that co-occur on a mention are linked;
    a lone surname joins the one full name in the story that ends or starts
    with it. Actors are sorted by number of mentions, most named first.
    """
    groups = _story_groups(mentions_by_article)
    return _actors(groups, mentions_by_article, outlet_by_article)


def story_actor_keys(
    mentions_by_article: Mapping[str, Sequence[EntityMention]],
) -> dict[str, list[str]]:
    """For each article, the story-level actor key of each of its mentions (same order)."""
    groups = _story_groups(mentions_by_article)
    return {
        article_id: [groups.find(name_key(m.canonical)) for m in mentions]
        for article_id, mentions in mentions_by_article.items()
    }


def _story_groups(mentions_by_article: Mapping[str, Sequence[EntityMention]]) -> _UnionFind:
    groups = _UnionFind()
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    for mentions in mentions_by_article.values():
        for mention in mentions:
            canonical_key = name_key(mention.canonical)
            groups.union(canonical_key, canonical_key)
            surface = clean_name(mention.text, mention.label)
            # Link the surface form only when it names the same thing as the
            # canonical (not a capital standing for its government).
            if name_key(surface) != canonical_key and not _is_metonym(surface, mention.canonical):
                groups.union(canonical_key, name_key(surface))
            labels[canonical_key][mention.label] += 1
    # Lone names join a unique full person name of the story.
    people = [k for k, c in labels.items() if c.most_common(1)[0][0] == "PERSON"]
    full_by_part: dict[str, set[str]] = defaultdict(set)
    for key in people:
        parts = key.split()
        if len(parts) >= 2:
            full_by_part[parts[-1]].add(key)
            full_by_part[parts[0]].add(key)
    for key in list(labels):
        if len(key.split()) == 1 and len(full_by_part.get(key, ())) == 1:
            groups.union(next(iter(full_by_part[key])), key)
    return groups


def _actors(
    groups: _UnionFind,
    mentions_by_article: Mapping[str, Sequence[EntityMention]],
    outlet_by_article: Mapping[str, str | None],
) -> list[Actor]:
    names: dict[str, Counter[str]] = defaultdict(Counter)
    aliases: dict[str, set[str]] = defaultdict(set)
    type_votes: dict[str, Counter[str]] = defaultdict(Counter)
    by_outlet: dict[str, Counter[str]] = defaultdict(Counter)
    for article_id, mentions in mentions_by_article.items():
        outlet = outlet_by_article.get(article_id) or "unknown"
        for mention in mentions:
            root = groups.find(name_key(mention.canonical))
            names[root][mention.canonical] += 1
            surface = clean_name(mention.text, mention.label)
            if not _is_metonym(surface, mention.canonical):
                aliases[root].add(surface)
            aliases[root].add(mention.canonical)
            type_votes[root][mention.label] += 1
            by_outlet[root][outlet] += 1

    actors = []
    for root, counter in names.items():
        # The most used canonical; ties go to the longer (fuller) name.
        name = max(counter, key=lambda n: (counter[n], len(n)))
        label = type_votes[root].most_common(1)[0][0]
        if label == "PERSON":
            name = max(counter, key=lambda n: (len(n.split()) >= 2, counter[n], len(n)))
        actors.append(
            Actor(
                name=name,
                type=ACTOR_TYPES.get(label, "other"),
                aliases=sorted(a for a in aliases[root] if a != name),
                mentions_by_outlet=dict(sorted(by_outlet[root].items())),
            )
        )
    actors.sort(key=lambda a: (-sum(a.mentions_by_outlet.values()), a.name))
    return actors
