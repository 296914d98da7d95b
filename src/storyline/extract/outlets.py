"""The outlet registry: which news outlet or wire agency a URL, a name or a text refers to.

Entries come from the bundled `data/outlets.toml` and from users' TOML files of
the same shape (see the header of that file). Three ways in:

* `by_url` - the host of an article's URL, matched on domain suffixes, so that
  "edition.cnn.com" and "amp.theguardian.com" find their parent domains;
* `by_name` - an explicit name ("Agence France-Presse", "afp", "dw.com"),
  forgiving about case, punctuation and spacing;
* `mentions` - every outlet named in free text. Names of outlets are often
  ordinary words or other acronyms, so text matching is strict: capitalised
  aliases ("AFP", "DW") match only as written, others with their capitalised
  words capitalised (or all in capitals), and names an entry marks as unsafe
  are never matched in text. An alias that two outlets claim at the same
  priority is ambiguous and resolves to nothing; the URL then decides.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

KINDS: tuple[str, ...] = ("wire", "newspaper", "broadcaster", "online", "magazine")

BUNDLED_FILE = "data/outlets.toml"  # relative to the storyline.extract package


@dataclass(frozen=True)
class Outlet:
    """A news outlet or wire agency."""

    name: str
    aliases: tuple[str, ...]
    domains: tuple[str, ...]
    country: str | None  # ISO 3166-1 alpha-2, or "INT"
    language: str | None  # ISO 639-1 of the main edition
    kind: str  # one of KINDS
    match_in_text: bool = True


@dataclass(frozen=True)
class OutletMention:
    """An outlet named in a text, at text[start:end] == surface."""

    outlet: Outlet
    start: int
    end: int
    surface: str


@dataclass(frozen=True, slots=True)
class OutletLines:
    """An outlet's known boilerplate: fingerprints of lines repeated across its articles.

    A snapshot of the store's per-outlet line memory (`line_fingerprints` seen in
    enough stored articles of the outlet), handed to the per-document stage so
    extraction drops the outlet's furniture in its first pass.
    """

    outlet: str
    lines: frozenset[str]

    def among(self, fingerprints: Iterable[str]) -> frozenset[str]:
        """The known lines among a document's fingerprints."""
        return frozenset(h for h in fingerprints if h in self.lines)


class RegistryError(Exception):
    """An outlet file (or entry) that cannot be used; the message names file and entry."""


@dataclass(frozen=True)
class _Entry:
    outlet: Outlet
    rank: int  # 0 = bundled / from_entries; n = n-th user file; higher wins a shared key
    not_in_text: frozenset[str]  # names/aliases (as `_squash`ed) never matched in free text


# --------------------------------------------------------------------------- keys

# Text is matched in a folded copy of the same length (so offsets carry over):
# lower case, every space to " ", every hyphen to "-", every apostrophe to "'".
_FOLD_MAP: dict[str, str] = {
    **dict.fromkeys("\t\n\r\x0b\x0c\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000", " "),
    **{chr(c): " " for c in range(0x2000, 0x200B)},
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u00ad", "-"),
    **dict.fromkeys("\u2018\u2019\u02bc", "'"),
    "\u0130": "I",  # Turkish dotted capital I: its lower case is two characters
}
# str.translate looks up every character; a regex touches only the rare ones.
_FOLD_CHARS = re.compile("[" + re.escape("".join(_FOLD_MAP)) + "]")
_SEPARATORS = re.compile(r"[ -]+")

# Leading articles written either way in running text ("the Guardian", "al-Jazeera").
# Only these: in other languages a lower-case article marks a common noun
# ("de la Nación" is the nation, not La Nación).
_ARTICLES = frozenset(["the", "al"])
# Descriptors that writers capitalise or not at will ("the Fars news agency").
_GENERIC_WORDS = frozenset(
    ["news", "agency", "press", "service", "newswire", "newswires", "network", "television",
     "tv", "radio", "channel", "broadcasting", "corporation", "company", "group", "online",
     "daily", "weekly", "magazine", "newspaper", "international", "world"]
)  # fmt: skip


def _unify(text: str) -> str:
    """Spaces to " ", hyphens to "-", apostrophes to "'"; same length as `text`."""
    return _FOLD_CHARS.sub(lambda m: _FOLD_MAP[m.group()], text)


def _fold(text: str) -> str:
    """`_unify`d and lower-cased; always as long as `text`, so offsets carry over."""
    text = _unify(text)
    lowered = text.lower()
    if len(lowered) != len(text):  # some character's lower case is longer
        lowered = "".join(low if len(low := c.lower()) == 1 else c for c in text)
    return lowered.replace("\u03c2", "\u03c3")  # final sigma: lower() decides it by context


def _squash(text: str) -> str:
    """`text` with separator runs as one space and uniform apostrophes (case kept)."""
    return _SEPARATORS.sub(" ", _unify(text)).strip()


def _text_key(text: str) -> str:
    """How a name is found in folded text: separators (space or hyphen) as one space."""
    return _SEPARATORS.sub(" ", _fold(text)).strip()


def _name_key(text: str) -> str:
    return " ".join(text.casefold().split())


def _compact_key(text: str) -> str:
    """Case-, accent-, punctuation- and space-insensitive form for name lookups."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def _without_article(text: str) -> str | None:
    first, _, rest = text.partition(" ")
    if rest and first.casefold() == "the":
        return rest
    return None


# --------------------------------------------------------------------------- hosts

_HOST = re.compile(
    r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]*[a-z][a-z0-9-]*"
)
_HOSTLIKE_NAME = re.compile(r"[\w-]+(?:\.[\w-]+)+\.?")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_AMP_CACHE_SUFFIX = ".cdn.ampproject.org"


def _normalise_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    return domain.removeprefix("www.")


def _host_of(url: str) -> str | None:
    """Lower-case host of a URL or bare host ("www.dw.com/en/x", "dw.com:443"), else None."""
    text = url.strip()
    if not text:
        return None
    if not _SCHEME.match(text) and not text.startswith("//"):
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    # Google's AMP viewers carry the publisher in the path or in the cache host.
    if host in ("google.com", "www.google.com") and parts.path.startswith("/amp/s/"):
        return _host_of(parts.path[len("/amp/s/") :])
    if host.endswith(_AMP_CACHE_SUFFIX):
        label = host[: -len(_AMP_CACHE_SUFFIX)]
        if "." not in label:
            return label.replace("--", "\0").replace("-", ".").replace("\0", "-")
    return host


# --------------------------------------------------------------------------- reading files


_ALLOWED_KEYS = frozenset(
    {"name", "aliases", "domains", "country", "language", "kind", "match_in_text", "not_in_text"}
)
_COUNTRY = re.compile(r"[A-Z]{2}|INT")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


def _string_list(table: dict[str, object], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key!r} must be a list of strings")
    items = [v.strip() for v in value]
    if any(not v or "\n" in v for v in items):
        raise ValueError(f"{key!r} has an empty or multi-line entry")
    return items


def _optional_code(table: dict[str, object], key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string")
    return value.strip()


def _check_outlet(outlet: Outlet) -> None:
    """Raise ValueError describing what is wrong with `outlet`."""
    if not outlet.name.strip() or "\n" in outlet.name or len(outlet.name) > 200:
        raise ValueError("'name' must be a non-empty single-line string")
    if outlet.kind not in KINDS:
        raise ValueError(f"kind {outlet.kind!r} is not one of {', '.join(KINDS)}")
    if outlet.country is not None and not _COUNTRY.fullmatch(outlet.country):
        raise ValueError(
            f"country {outlet.country!r} is not an ISO 3166-1 alpha-2 code (e.g. 'DE') or 'INT'"
        )
    if outlet.language is not None and not _LANGUAGE.fullmatch(outlet.language):
        raise ValueError(f"language {outlet.language!r} is not an ISO 639-1 code (e.g. 'en')")
    for domain in outlet.domains:
        if "/" in domain or ":" in domain:
            raise ValueError(f"domain {domain!r} looks like a URL; give the host only")
        if not _HOST.fullmatch(_normalise_domain(domain)):
            raise ValueError(f"domain {domain!r} does not look like a domain name")
    if any(not alias.strip() for alias in outlet.aliases):
        raise ValueError("'aliases' has an empty entry")


def _outlet_from_table(table: object) -> tuple[Outlet, frozenset[str]]:
    if not isinstance(table, dict):
        raise ValueError("must be a table")
    unknown = sorted(set(table) - _ALLOWED_KEYS)
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ALLOWED_KEYS))}"
        )
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'name' is missing or empty")
    name = name.strip()
    kind = table.get("kind")
    if not isinstance(kind, str):
        raise ValueError(f"'kind' is missing; one of {', '.join(KINDS)}")
    match_in_text = table.get("match_in_text", True)
    if not isinstance(match_in_text, bool):
        raise ValueError("'match_in_text' must be true or false")
    aliases = _string_list(table, "aliases")
    domains = [_normalise_domain(d) for d in _string_list(table, "domains")]
    country = _optional_code(table, "country")
    language = _optional_code(table, "language")
    outlet = Outlet(
        name=name,
        aliases=tuple(dict.fromkeys(a for a in aliases if a != name)),
        domains=tuple(dict.fromkeys(domains)),
        country=country.upper() if country else None,
        language=language.lower() if language else None,
        kind=kind.strip(),
        match_in_text=match_in_text,
    )
    _check_outlet(outlet)
    own_names = {_squash(n) for n in (outlet.name, *outlet.aliases)}
    not_in_text = set()
    for text in _string_list(table, "not_in_text"):
        spelling = _squash(text)
        if spelling not in own_names:
            raise ValueError(f"not_in_text {text!r} is not the name or an alias of this outlet")
        not_in_text.add(spelling)
    return outlet, frozenset(not_in_text)


def _parse_outlet_file(label: str, text: str, rank: int) -> list[_Entry]:
    """Entries of one TOML outlet file; `label` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{label}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"outlet"})
    if unknown:
        raise RegistryError(
            f"{label}: unknown top-level key(s) {', '.join(unknown)}; "
            "outlets are written as [[outlet]] tables"
        )
    tables = data.get("outlet", [])
    if not isinstance(tables, list):
        raise RegistryError(f"{label}: 'outlet' must be an array of tables ([[outlet]])")
    entries: list[_Entry] = []
    seen: dict[str, int] = {}
    for number, table in enumerate(tables, start=1):
        raw_name = table.get("name") if isinstance(table, dict) else None
        where = f"{label}: outlet #{number}" + (
            f" ({raw_name!r})" if isinstance(raw_name, str) else ""
        )
        try:
            outlet, not_in_text = _outlet_from_table(table)
        except ValueError as exc:
            raise RegistryError(f"{where}: {exc}") from None
        key = _compact_key(outlet.name)
        if key in seen:
            raise RegistryError(f"{where}: duplicate name, already used by outlet #{seen[key]}")
        seen[key] = number
        entries.append(_Entry(outlet, rank, not_in_text))
    return entries


def _read_outlet_file(path: Path, rank: int) -> list[_Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: cannot read outlet file: {exc}") from exc
    return _parse_outlet_file(str(path), text, rank)


@functools.cache
def _bundled_entries() -> tuple[_Entry, ...]:
    source = resources.files("storyline.extract").joinpath(BUNDLED_FILE)
    return tuple(
        _parse_outlet_file(f"storyline/extract/{BUNDLED_FILE}", source.read_text("utf-8"), 0)
    )


@functools.cache
def _bundled_registry() -> OutletRegistry:
    return OutletRegistry(_bundled_entries())


# --------------------------------------------------------------------------- resolution


def _resolve(claims: dict[str, dict[Outlet, tuple[int, ...]]]) -> dict[str, Outlet | None]:
    """Each key to the outlet with the highest claim; None where the best claims tie."""
    resolved: dict[str, Outlet | None] = {}
    for key, by_outlet in claims.items():
        best = max(by_outlet.values())
        winners = [outlet for outlet, priority in by_outlet.items() if priority == best]
        resolved[key] = winners[0] if len(winners) == 1 else None
    return resolved


def _claim(
    claims: dict[str, dict[Outlet, tuple[int, ...]]],
    key: str,
    outlet: Outlet,
    priority: tuple[int, ...],
) -> None:
    if not key:
        return
    by_outlet = claims.setdefault(key, {})
    by_outlet[outlet] = max(priority, by_outlet.get(outlet, priority))


def _trie_regex(keys: Iterable[str], emit: dict[str, str]) -> str:
    """One regex alternation for `keys`, factored as a trie; longest alternative first."""
    trie: dict[str, dict] = {}
    for key in keys:
        node = trie
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [
            (emit.get(char) or re.escape(char)) + build(child)
            for char, child in sorted(node.items())
            if char
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return build(trie)


def _case_fits(alias: str, surface: str) -> bool:
    """Whether `surface` (equal to `alias` but for case and separators) writes the alias.

    An alias with no lower-case letter ("AFP", "DW", "ZEIT ONLINE") must be written
    so; otherwise an all-capitals surface is fine, and each capitalised word of the
    alias must be capitalised, except a leading article and generic descriptors.
    """
    if not any(c.islower() for c in alias):
        return _squash(alias) == _squash(surface)
    if not any(c.islower() for c in surface):
        return True
    alias_words = _squash(alias).split(" ")
    surface_words = _squash(surface).split(" ")
    if len(alias_words) != len(surface_words):
        return False
    for index, (word, written) in enumerate(zip(alias_words, surface_words, strict=True)):
        if not word or not written or not word[0].isupper():
            continue
        lowered = word.casefold()
        if (
            index == 0 and len(alias_words) > 1 and lowered in _ARTICLES
        ) or lowered in _GENERIC_WORDS:
            continue
        if not written[0].isupper():
            return False
    return True


def _word_ends_at(text: str, end: int) -> bool:
    """The same boundary as the regex lookahead, checked against the full text."""
    if end >= len(text):
        return True
    after = text[end]
    if after.isalnum() or after in "_-":
        return False
    return not (
        after == "." and end + 1 < len(text) and (text[end + 1].isalnum() or text[end + 1] == "_")
    )


# --------------------------------------------------------------------------- registry


class OutletRegistry:
    """Outlets with lookups by URL, by name and in free text. Immutable once built.

    Build one with `load()` (bundled data plus user files) or `from_entries()`.
    """

    def __init__(self, entries: Iterable[_Entry]) -> None:
        self._entries: tuple[_Entry, ...] = tuple(entries)
        self._outlets: tuple[Outlet, ...] = tuple(e.outlet for e in self._entries)
        domain_claims: dict[str, dict[Outlet, tuple[int, ...]]] = {}
        name_claims: dict[str, dict[Outlet, tuple[int, ...]]] = {}
        compact_claims: dict[str, dict[Outlet, tuple[int, ...]]] = {}
        text_claims: dict[str, dict[Outlet, tuple[int, ...]]] = {}
        self._spellings: dict[tuple[str, Outlet], list[str]] = {}
        for entry in self._entries:
            outlet, rank = entry.outlet, entry.rank
            for domain in outlet.domains:
                _claim(domain_claims, _normalise_domain(domain), outlet, (rank,))
            for level, names in ((2, (outlet.name,)), (1, outlet.aliases)):
                for name in names:
                    _claim(name_claims, _name_key(name), outlet, (rank, level))
                    _claim(compact_claims, _compact_key(name), outlet, (rank, level))
                    # "Hindu" finds "The Hindu", below any real name or alias.
                    bare = _without_article(name)
                    if bare:
                        _claim(name_claims, _name_key(bare), outlet, (rank, 0))
                        _claim(compact_claims, _compact_key(bare), outlet, (rank, 0))
                    key = _text_key(name)
                    _claim(text_claims, key, outlet, (rank, level))
                    spellings = self._spellings.setdefault((key, outlet), [])
                    if outlet.match_in_text and _squash(name) not in entry.not_in_text:
                        spellings.append(name)
        self._by_domain = _resolve(domain_claims)
        self._by_name = _resolve(name_claims)
        self._by_compact = _resolve(compact_claims)
        # A key claimed by several outlets stays out of text even where one of them
        # may not be matched in text: the string is ambiguous either way.
        self._in_text: dict[str, Outlet] = {}
        for key, owner in _resolve(text_claims).items():
            if owner is not None and self._spellings[(key, owner)]:
                self._in_text[key] = owner
        self._matcher: re.Pattern[str] | None = None

    # ----------------------------------------------------------------- construction

    @classmethod
    def load(cls, extra_paths: Sequence[str | Path] = ()) -> OutletRegistry:
        """The bundled registry, with the entries of user TOML files merged over it.

        A user entry whose name is that of an earlier entry replaces it in place;
        others are added. Later files win keys (aliases, domains) shared with
        earlier ones. Raises RegistryError for a file that cannot be used.
        """
        if isinstance(extra_paths, str | Path):
            extra_paths = (extra_paths,)
        if not extra_paths:
            return _bundled_registry()
        entries = list(_bundled_entries())
        position = {_compact_key(e.outlet.name): i for i, e in enumerate(entries)}
        for rank, path in enumerate(extra_paths, start=1):
            for entry in _read_outlet_file(Path(path), rank):
                key = _compact_key(entry.outlet.name)
                if key in position:
                    entries[position[key]] = entry
                else:
                    position[key] = len(entries)
                    entries.append(entry)
        return cls(entries)

    @classmethod
    def from_entries(cls, entries: Iterable[Outlet]) -> OutletRegistry:
        """A registry of exactly these outlets (validated; names must be unique)."""
        checked: list[_Entry] = []
        seen: set[str] = set()
        for outlet in entries:
            try:
                _check_outlet(outlet)
            except ValueError as exc:
                raise RegistryError(f"outlet {outlet.name!r}: {exc}") from None
            key = _compact_key(outlet.name)
            if key in seen:
                raise RegistryError(f"outlet {outlet.name!r}: duplicate name")
            seen.add(key)
            checked.append(_Entry(outlet, 0, frozenset()))
        return cls(checked)

    # ----------------------------------------------------------------- lookups

    def by_url(self, url: str) -> Outlet | None:
        """The outlet whose domain is the URL's host or its nearest parent domain."""
        host = _host_of(url)
        if host is None:
            return None
        return self._by_host(host)

    def _by_host(self, host: str) -> Outlet | None:
        labels = host.lower().split(".")
        for i in range(len(labels) - 1):
            candidate = ".".join(labels[i:])
            if candidate in self._by_domain:
                return self._by_domain[candidate]  # None when ambiguous: stop there
        return None

    def by_name(self, name: str) -> Outlet | None:
        """The outlet called `name` (name, alias or domain), ignoring case and punctuation."""
        text = name.strip()
        if not text:
            return None
        key = _name_key(text)
        if key in self._by_name:
            return self._by_name[key]
        compact = _compact_key(text)
        if compact in self._by_compact:
            return self._by_compact[compact]
        if _SCHEME.match(text) or _HOSTLIKE_NAME.fullmatch(text):
            return self.by_url(text)
        return None

    def declared_outlet(self, hint: str | None, url: str | None) -> str | None:
        """The outlet a document's container declares: its outlet field, else its URL's.

        Named as extraction names it (the registry's name when the registry knows
        it), so a caller can look up what it remembers of the outlet before
        extracting; None when only the text can tell (a byline, a site name).
        """
        if hint and hint.strip():
            known = self.by_name(hint)
            return known.name if known else hint.strip()
        if url:
            known = self.by_url(url)
            return known.name if known else None
        return None

    def mentions(self, text: str) -> list[OutletMention]:
        """Outlets named in `text`, in order: word-bounded, longest first, non-overlapping.

        Names and aliases follow the case rules of `_case_fits`; domains
        ("Euractiv.com", "edition.cnn.com") match in any case.
        """
        if not text:
            return []
        matcher = self._text_matcher()
        folded = _fold(text)
        found: list[OutletMention] = []
        pos = 0
        while (match := matcher.search(folded, pos)) is not None:
            mention = self._mention(text, folded, match.start(), match.end(), matcher, pos)
            if mention is None:
                pos = match.start() + 1
            else:
                found.append(mention)
                pos = mention.end
        return found

    def wire_agencies(self) -> list[Outlet]:
        return [o for o in self._outlets if o.kind == "wire"]

    def __iter__(self) -> Iterator[Outlet]:
        return iter(self._outlets)

    def __len__(self) -> int:
        return len(self._outlets)

    def __repr__(self) -> str:
        return f"OutletRegistry({len(self)} outlets)"

    # ----------------------------------------------------------------- text matching

    def _text_matcher(self) -> re.Pattern[str]:
        """One regex over the folded text: a trie of every text key and domain.

        Built on first use, so that URL and name lookups never pay for it.
        """
        if self._matcher is None:
            keys = set(self._in_text)
            keys.update(domain for domain, outlet in self._by_domain.items() if outlet)
            trie = _trie_regex(sorted(keys), {" ": "[ -]+"})
            # Not inside a word or after a hyphen; not followed by a word, a hyphen
            # or ".x" (then it is part of a longer name or host).
            pattern = r"(?<![\w-])(?:" + (trie or r"(?!)") + r")(?![\w-]|\.\w)"
            self._matcher = re.compile(pattern)
        return self._matcher

    def _mention(
        self,
        text: str,
        folded: str,
        start: int,
        end: int,
        matcher: re.Pattern[str],
        floor: int,
    ) -> OutletMention | None:
        """The mention the match folded[start:end] stands for, if the rules accept it.

        `floor` is where the previous mention ended: mentions never overlap.
        """
        if folded[start:end] in self._by_domain:
            # Take in subdomains the match started after ("edition." of edition.cnn.com).
            while start > floor and (folded[start - 1].isalnum() or folded[start - 1] in ".-"):
                start -= 1
            start += len(folded[start:end]) - len(folded[start:end].lstrip(".-"))
            outlet = self._by_host(folded[start:end])
            return OutletMention(outlet, start, end, text[start:end]) if outlet else None
        if start > 0 and folded[start - 1] == "." and start > 1 and folded[start - 2].isalnum():
            return None  # the tail of a host or abbreviation, not a name
        # The regex is case-blind (it runs on folded text); when the case rules
        # reject the longest alias, a shorter one may start at the same place.
        while True:
            surface = text[start:end]
            key = _text_key(surface)
            outlet = self._in_text.get(key)
            if outlet is not None and any(
                _case_fits(spelling, surface) for spelling in self._spellings[(key, outlet)]
            ):
                return OutletMention(outlet, start, end, surface)
            shorter = matcher.match(folded, start, end - 1)
            # A match cut by `endpos` may end inside a word: check the real boundary.
            while shorter is not None and not _word_ends_at(folded, shorter.end()):
                shorter = matcher.match(folded, start, shorter.end() - 1)
            if shorter is None or shorter.end() <= start:
                return None
            end = shorter.end()
