"""The outlet registry: bundled data, lookups by URL and name, mentions in text, user files."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from pathlib import Path

import pytest

from storyline.extract.outlets import (
    KINDS,
    Outlet,
    OutletMention,
    OutletRegistry,
    RegistryError,
)


@pytest.fixture(scope="module")
def registry() -> OutletRegistry:
    return OutletRegistry.load()


def names(mentions: list[OutletMention]) -> list[str]:
    return [m.outlet.name for m in mentions]


def surfaces(mentions: list[OutletMention]) -> list[str]:
    return [m.surface for m in mentions]


# --------------------------------------------------------------------------- bundled data


def test_bundled_registry_is_large_and_has_many_wire_agencies(registry: OutletRegistry) -> None:
    assert len(registry) >= 300
    assert len(list(registry)) == len(registry)
    wires = registry.wire_agencies()
    assert len(wires) >= 40
    assert all(o.kind == "wire" for o in wires)


def test_every_bundled_entry_is_valid(registry: OutletRegistry) -> None:
    domain_shape = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}")
    seen_names: set[str] = set()
    for outlet in registry:
        assert outlet.name and outlet.name == outlet.name.strip(), outlet
        assert outlet.name.casefold() not in seen_names, f"duplicate name {outlet.name}"
        seen_names.add(outlet.name.casefold())
        assert outlet.kind in KINDS, outlet
        assert outlet.country is not None and re.fullmatch(r"[A-Z]{2}|INT", outlet.country), outlet
        assert outlet.language is None or re.fullmatch(r"[a-z]{2}", outlet.language), outlet
        for domain in outlet.domains:
            assert domain_shape.fullmatch(domain), (outlet.name, domain)
            assert not domain.startswith("www."), (outlet.name, domain)
        assert outlet.name not in outlet.aliases
        assert len(set(outlet.aliases)) == len(outlet.aliases)
        assert all(a.strip() == a and a for a in outlet.aliases), outlet


def test_no_two_bundled_outlets_share_a_domain(registry: OutletRegistry) -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for outlet in registry:
        for domain in outlet.domains:
            owners[domain].append(outlet.name)
    assert {d: o for d, o in owners.items() if len(o) > 1} == {}


# Names that several outlets really go by: deliberately ambiguous, resolved by domain.
DELIBERATELY_SHARED = {
    "abc", "cna", "dn", "ntv", "publico", "público", "rts", "sbs",
    "the herald", "the standard", "the star",
}  # fmt: skip


def test_bundled_outlets_share_only_deliberately_ambiguous_names(
    registry: OutletRegistry,
) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for outlet in registry:
        for name in (outlet.name, *outlet.aliases):
            owners[" ".join(name.casefold().replace("-", " ").split())].add(outlet.name)
    shared = {key for key, outlets in owners.items() if len(outlets) > 1}
    assert shared == DELIBERATELY_SHARED


WIRE_AGENCIES = [
    "AFP", "Reuters", "AP", "dpa", "EFE", "ANSA", "Kyodo", "Jiji Press", "Xinhua", "TASS",
    "RIA Novosti", "Interfax", "Anadolu Agency", "PTI", "ANI", "IANS", "Yonhap", "KNA", "epd",
    "APA", "Keystone-SDA", "Belga", "ANP", "PAP", "ČTK", "MTI", "Lusa", "Agência Brasil",
    "Télam", "Notimex", "AAP", "The Canadian Press", "Bernama", "Antara", "PNA", "IRNA",
    "Ukrinform", "UNIAN", "BTA", "Agerpres", "Tanjug", "HINA", "STA", "Central News Agency",
    "KCNA", "SANA", "MENA", "WAFA", "APS", "MAP", "TAP", "NAN", "KUNA", "QNA", "WAM", "SPA",
    "BSS", "APP", "Prensa Latina", "Bloomberg", "Dow Jones", "UPI", "PA Media", "Europa Press",
]  # fmt: skip


@pytest.mark.parametrize("name", WIRE_AGENCIES)
def test_major_wire_agencies_are_wires(registry: OutletRegistry, name: str) -> None:
    outlet = registry.by_name(name)
    assert outlet is not None, name
    assert outlet.name == name
    assert outlet.kind == "wire"


@pytest.mark.parametrize(
    ("url", "name", "country", "kind"),
    [
        ("https://www.nytimes.com/2021/12/27/us/politics/x.html", "The New York Times", "US",
         "newspaper"),
        ("https://www.washingtonpost.com/world/x", "The Washington Post", "US", "newspaper"),
        ("https://www.theguardian.com/world/2021/dec/28/x", "The Guardian", "GB", "newspaper"),
        ("https://www.bbc.co.uk/news/world-europe-1", "BBC", "GB", "broadcaster"),
        ("https://www.bbc.com/news/world-europe-1", "BBC", "GB", "broadcaster"),
        ("https://www.spiegel.de/ausland/x", "Der Spiegel", "DE", "magazine"),
        ("https://www.lemonde.fr/international/article/x.html", "Le Monde", "FR", "newspaper"),
        ("https://elpais.com/internacional/x.html", "El País", "ES", "newspaper"),
        ("https://meduza.io/en/news/x", "Meduza", "LV", "online"),
        ("https://kyivindependent.com/x", "The Kyiv Independent", "UA", "online"),
        ("https://www.aljazeera.com/news/x", "Al Jazeera", "QA", "broadcaster"),
        ("https://www3.nhk.or.jp/nhkworld/en/news/x", "NHK", "JP", "broadcaster"),
        ("https://www.scmp.com/news/china/x", "South China Morning Post", "HK", "newspaper"),
        ("https://timesofindia.indiatimes.com/india/x.cms", "The Times of India", "IN",
         "newspaper"),
        ("https://www.abc.net.au/news/x", "ABC Australia", "AU", "broadcaster"),
        ("https://abcnews.go.com/Politics/x", "ABC News", "US", "broadcaster"),
        ("https://www.abc.es/internacional/x.html", "ABC (Spain)", "ES", "newspaper"),
        ("https://www1.folha.uol.com.br/mundo/x.shtml", "Folha de S.Paulo", "BR", "newspaper"),
        ("https://www.uol.com.br/x", "UOL", "BR", "online"),
        ("https://www.rferl.org/a/x.html", "RFE/RL", "US", "broadcaster"),
        ("https://tass.com/politics/1", "TASS", "RU", "wire"),
        ("https://www.reuters.com/world/europe/x", "Reuters", "GB", "wire"),
    ],
)  # fmt: skip
def test_by_url_knows_major_outlets(
    registry: OutletRegistry, url: str, name: str, country: str, kind: str
) -> None:
    outlet = registry.by_url(url)
    assert outlet is not None, url
    assert (outlet.name, outlet.country, outlet.kind) == (name, country, kind)


# --------------------------------------------------------------------------- by_url


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://www.dw.com/en/us-and-russia-to-hold-talks/a-60268394", "DW"),
        ("http://dw.com", "DW"),
        ("www.dw.de/x", "DW"),
        ("dw.com", "DW"),
        ("DW.COM:443/en", "DW"),
        ("https://edition.cnn.com/2021/12/27/politics/x", "CNN"),
        ("https://amp.theguardian.com/world/x", "The Guardian"),
        ("https://m.bbc.co.uk/news", "BBC"),
        ("https://mobile.reuters.com/article/x", "Reuters"),
        ("https://english.news.cn/20211228/x.htm", "Xinhua"),
        ("https://uk.news.yahoo.com/x.html", "Yahoo News"),
        ("https://www.euractiv.com/section/global-europe/news/x/", "Euractiv"),
        ("https://www.euractiv.de/section/x", "Euractiv"),
        ("//news.sky.com/story/x", "Sky News"),
        ("https://user:pw@www.nytimes.com./x", "The New York Times"),
        ("https://www-dw-com.cdn.ampproject.org/c/s/www.dw.com/en/x", "DW"),
        ("https://www.google.com/amp/s/www.theguardian.com/x", "The Guardian"),
        ("https://oglobo.globo.com/mundo/x", "O Globo"),
        ("https://g1.globo.com/x", "G1"),
        ("https://globo.com/x", "TV Globo"),
    ],
)
def test_by_url_finds_parent_domains(registry: OutletRegistry, url: str, name: str) -> None:
    outlet = registry.by_url(url)
    assert outlet is not None, url
    assert outlet.name == name


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/news/1",
        "https://sky.com/broadband",  # Sky News lives at news.sky.com only
        "https://notdw.com/x",
        "https://dw.com.evil.example/x",
        "",
        "   ",
        "not a url",
        "http://[::1/x",
        "mailto:someone",
    ],
)
def test_by_url_unknown_or_malformed_gives_none(registry: OutletRegistry, url: str) -> None:
    assert registry.by_url(url) is None


# --------------------------------------------------------------------------- by_name


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("DW", "DW"),
        ("dw", "DW"),
        ("Deutsche Welle", "DW"),
        ("deutsche  welle", "DW"),
        ("Agence France-Presse", "AFP"),
        ("agence france presse", "AFP"),
        ("AGENCE FRANCE-PRESSE", "AFP"),
        ("Associated Press", "AP"),
        ("the associated press", "AP"),
        ("Thomson Reuters", "Reuters"),
        ("euractiv.com", "Euractiv"),
        ("Euractiv.com", "Euractiv"),
        ("www.dw.com", "DW"),
        ("https://edition.cnn.com", "CNN"),
        ("New York Times", "The New York Times"),
        ("Hindu", "The Hindu"),  # the leading article is optional
        ("CTK", "ČTK"),
        ("Telam", "Télam"),
        ("Sueddeutsche Zeitung", "Süddeutsche Zeitung"),
        ("F.A.Z.", "Frankfurter Allgemeine Zeitung"),
        ("ria", "RIA Novosti"),
        ("sda", "Keystone-SDA"),  # lower-case sign-offs such as "(sda)"
        ("MENA", "MENA"),  # never matched in text, but found by name
        ("Time", "Time"),
        ("The Hill", "The Hill"),
        ("n-tv", "n-tv"),
    ],
)
def test_by_name_is_case_punctuation_and_space_insensitive(
    registry: OutletRegistry, query: str, name: str
) -> None:
    outlet = registry.by_name(query)
    assert outlet is not None, query
    assert outlet.name == name


@pytest.mark.parametrize("query", ["ABC", "CNA", "NTV", "SBS", "The Standard", "Público"])
def test_by_name_ambiguous_names_give_none(registry: OutletRegistry, query: str) -> None:
    assert registry.by_name(query) is None


@pytest.mark.parametrize("query", ["", "  ", "Jane Doe", "Staff", "Apple", "example.com"])
def test_by_name_unknown_gives_none(registry: OutletRegistry, query: str) -> None:
    assert registry.by_name(query) is None


# --------------------------------------------------------------------------- mentions


def test_mentions_byline_with_domain_and_agency(registry: OutletRegistry) -> None:
    line = "Euractiv.com with AFP 28-12-2021 07:19 3 min. read"
    found = registry.mentions(line)
    assert names(found) == ["Euractiv", "AFP"]
    assert surfaces(found) == ["Euractiv.com", "AFP"]
    for mention in found:
        assert line[mention.start : mention.end] == mention.surface


def test_mentions_wire_agencies_in_parentheses(registry: OutletRegistry) -> None:
    found = registry.mentions("dvv/fb (AFP, Reuters)")
    assert names(found) == ["AFP", "Reuters"]
    assert [o.kind for o in (m.outlet for m in found)] == ["wire", "wire"]
    assert names(registry.mentions("MOSCOW, Dec 28 (Reuters) - Russia said")) == ["Reuters"]
    assert names(registry.mentions("BERLIN (dpa/AP) -")) == ["dpa", "AP"]


def test_mentions_short_capitalised_alias_in_navigation_text(registry: OutletRegistry) -> None:
    assert names(registry.mentions("Skip to more DW sites")) == ["DW"]
    assert registry.mentions("a dw of text; DWELL; Dw") == []


def test_short_all_caps_aliases_match_only_as_written(registry: OutletRegistry) -> None:
    assert names(registry.mentions("a spokesman told AP on Monday")) == ["AP"]
    assert names(registry.mentions("AP's reporter, (AP) and AP.")) == ["AP", "AP", "AP"]
    assert registry.mentions("an ap of Apple in the APAC snap.ap") == []
    assert registry.mentions("Afp said") == []


def test_capitalised_aliases_need_their_capitals(registry: OutletRegistry) -> None:
    assert names(registry.mentions("according to the Guardian")) == ["The Guardian"]
    assert surfaces(registry.mentions("according to the Guardian")) == ["the Guardian"]
    assert registry.mentions("the guardian angel of reuters") == []
    assert names(registry.mentions("REUTERS/Jonathan Ernst")) == ["Reuters"]
    assert names(registry.mentions("the Fars news agency reported")) == ["Fars News Agency"]
    assert names(registry.mentions("in an al-Jazeera interview")) == ["Al Jazeera"]
    assert registry.mentions("India today is different") == []


def test_longest_match_wins_and_mentions_do_not_overlap(registry: OutletRegistry) -> None:
    found = registry.mentions("Interfax-Ukraine quoted The Associated Press and Interfax.")
    assert surfaces(found) == ["Interfax-Ukraine", "The Associated Press", "Interfax"]
    assert names(found) == ["Interfax-Ukraine", "AP", "Interfax"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    found = registry.mentions("Al Jazeera English and the Times of India")
    assert surfaces(found) == ["Al Jazeera English", "the Times of India"]


def test_names_across_line_breaks_and_odd_spaces(registry: OutletRegistry) -> None:
    for text in ("Deutsche\nWelle", "Deutsche\u00a0Welle", "Deutsche  Welle"):
        assert names(registry.mentions(text)) == ["DW"], repr(text)
    assert names(registry.mentions("Agence France\u2011Presse")) == ["AFP"]


def test_domains_match_in_any_case_with_subdomains(registry: OutletRegistry) -> None:
    text = "See https://edition.cnn.com/x, WWW.DW.COM and mail news@bbc.co.uk."
    found = registry.mentions(text)
    assert names(found) == ["CNN", "DW", "BBC"]
    assert surfaces(found) == ["edition.cnn.com", "WWW.DW.COM", "bbc.co.uk"]
    assert registry.mentions("notdw.com and dw.com.evil.example") == []


def test_outlets_unsafe_in_text_match_only_by_domain(registry: OutletRegistry) -> None:
    assert registry.mentions("It is Time to read The Hill on the Hill") == []
    assert names(registry.mentions("time.com and thehill.com")) == ["Time", "The Hill"]
    # Aliases marked not_in_text: ordinary words and other acronyms.
    assert registry.mentions("the MENA region; in Fars province; Welt und Zeit") == []
    assert names(registry.mentions("Middle East News Agency")) == ["MENA"]
    assert names(registry.mentions("WELT berichtet")) == ["Die Welt"]


def test_ambiguous_names_resolve_to_nothing_in_text(registry: OutletRegistry) -> None:
    assert registry.mentions("ABC reported; CNA said") == []
    assert names(registry.mentions("ABC News reported")) == ["ABC News"]


def test_foreign_article_in_lower_case_is_not_the_outlet(registry: OutletRegistry) -> None:
    assert registry.mentions("la Suprema Corte de Justicia de la Nación") == []
    assert names(registry.mentions("según La Nación")) == ["La Nación"]


def test_mentions_on_sample_article(registry: OutletRegistry) -> None:
    sample = Path(__file__).parents[2] / "src/storyline/examples/004_e50a90458ed870a9.txt"
    lines = sample.read_text(encoding="utf-8").splitlines()
    found = [names(registry.mentions(line)) for line in lines]
    assert ["DW"] in found
    assert found[-1] == ["AFP", "Reuters"]
    assert ["RIA Novosti"] in found  # "the RIA news agency reported"


def test_mentions_empty_text(registry: OutletRegistry) -> None:
    assert registry.mentions("") == []
    assert registry.mentions("no outlet here at all") == []


def test_mentions_on_a_long_text_are_ordered_and_disjoint(registry: OutletRegistry) -> None:
    # Speed is measured in bench/, not here; this checks the invariants on a long input.
    sample = Path(__file__).parents[2] / "src/storyline/examples/000_587596cb32f485fd.txt"
    words = sample.read_text(encoding="utf-8").split()
    text = " ".join((words * (5000 // len(words) + 1))[:5000])
    found = registry.mentions(text)
    assert len(found) > 10
    for before, after in itertools.pairwise(found):
        assert before.end <= after.start
    assert all(text[m.start : m.end] == m.surface for m in found)


# --------------------------------------------------------------------------- loading


def test_load_without_user_files_is_cached() -> None:
    assert OutletRegistry.load() is OutletRegistry.load()


USER_FILE = """
[[outlet]]
name = "DW"
aliases = ["Deutsche Welle", "DW News"]
domains = ["dw.com", "dw-news.example"]
country = "DE"
language = "de"
kind = "broadcaster"

[[outlet]]
name = "Example Gazette"
aliases = ["The Example Gazette", "EXG"]
domains = ["example-gazette.com"]
country = "nz"
kind = "newspaper"
not_in_text = ["EXG"]

[[outlet]]
name = "Metro Wire"
domains = ["metrowire.example"]
kind = "wire"
"""


def test_user_file_overrides_and_adds(tmp_path: Path, registry: OutletRegistry) -> None:
    user_file = tmp_path / "mine.toml"
    user_file.write_text(USER_FILE, encoding="utf-8")
    merged = OutletRegistry.load([user_file])
    assert len(merged) == len(registry) + 2
    dw = merged.by_name("DW")
    assert dw is not None and dw.language == "de"
    assert dw.domains == ("dw.com", "dw-news.example")
    assert merged.by_url("https://www.dw-news.example/x") is dw
    assert merged.by_url("https://dw.de/x") is None  # the override dropped dw.de
    gazette = merged.by_url("https://www.example-gazette.com/a/1")
    assert gazette is not None and gazette.name == "Example Gazette"
    assert gazette.country == "NZ" and gazette.language is None
    assert merged.by_name("exg") is gazette
    assert names(merged.mentions("The Example Gazette and DW News, EXG")) == [
        "Example Gazette",
        "DW",
    ]
    assert "Metro Wire" in names(merged.mentions("(Metro Wire)"))
    assert "Metro Wire" in [o.name for o in merged.wire_agencies()]
    # The bundled registry is untouched.
    assert registry.by_name("Example Gazette") is None
    assert registry.by_name("DW").language == "en"  # type: ignore[union-attr]


def test_later_files_win_shared_names(tmp_path: Path) -> None:
    first = tmp_path / "a.toml"
    second = tmp_path / "b.toml"
    first.write_text(
        '[[outlet]]\nname = "Alpha"\naliases = ["Zeta Daily"]\ndomains = ["alpha.example"]\n'
        'kind = "newspaper"\n',
        encoding="utf-8",
    )
    second.write_text(
        '[[outlet]]\nname = "Beta"\naliases = ["Zeta Daily", "ABC"]\n'
        'domains = ["beta.example", "alpha.example"]\nkind = "online"\n',
        encoding="utf-8",
    )
    merged = OutletRegistry.load([str(first), str(second)])
    assert merged.by_name("Zeta Daily").name == "Beta"  # type: ignore[union-attr]
    assert merged.by_url("alpha.example").name == "Beta"  # type: ignore[union-attr]
    # A user may settle a name the bundled file leaves ambiguous.
    assert merged.by_name("ABC").name == "Beta"  # type: ignore[union-attr]
    assert names(merged.mentions("ABC reported")) == ["Beta"]


def test_load_accepts_a_single_path(tmp_path: Path) -> None:
    user_file = tmp_path / "one.toml"
    user_file.write_text('[[outlet]]\nname = "Solo"\nkind = "online"\n', encoding="utf-8")
    assert OutletRegistry.load(user_file).by_name("Solo") is not None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[[outlet]\nname = "X"', r"not valid TOML"),
        ('[[outlet]]\nname = "X"\nkind = "blog"\n', r"outlet #1 \('X'\): kind 'blog' is not one"),
        ('[[outlet]]\nname = "X"\n', r"outlet #1 \('X'\): 'kind' is missing"),
        ('[[outlet]]\nkind = "wire"\n', r"outlet #1: 'name' is missing"),
        (
            '[[outlet]]\nname = "X"\nkind = "wire"\n[[outlet]]\nname = "Y"\nkind = "wire"\n'
            'country = "Germany"\n',
            r"outlet #2 \('Y'\): country 'GERMANY' is not an ISO 3166-1",
        ),
        (
            '[[outlet]]\nname = "X"\nkind = "wire"\ndomains = ["https://x.example/news"]\n',
            r"domain 'https://x.example/news' looks like a URL",
        ),
        ('[[outlet]]\nname = "X"\nkind = "wire"\ndomains = ["not a domain"]\n', r"does not look"),
        ('[[outlet]]\nname = "X"\nkind = "wire"\ndomain = ["x.example"]\n', r"unknown key"),
        ('[[outlet]]\nname = "X"\nkind = "wire"\naliases = "X News"\n', r"list of strings"),
        ('[[outlet]]\nname = "X"\nkind = "wire"\nlanguage = "English"\n', r"ISO 639-1"),
        ('[[outlet]]\nname = "X"\nkind = "wire"\nmatch_in_text = "no"\n', r"true or false"),
        (
            '[[outlet]]\nname = "X"\nkind = "wire"\nnot_in_text = ["Y"]\n',
            r"not_in_text 'Y' is not the name or an alias",
        ),
        (
            '[[outlet]]\nname = "X"\nkind = "wire"\n[[outlet]]\nname = "x"\nkind = "online"\n',
            r"outlet #2 \('x'\): duplicate name, already used by outlet #1",
        ),
        ('name = "X"\nkind = "wire"\n', r"unknown top-level key"),
        ('outlet = "X"\n', r"array of tables"),
    ],
)
def test_malformed_user_file_gives_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    user_file = tmp_path / "bad.toml"
    user_file.write_text(content, encoding="utf-8")
    with pytest.raises(RegistryError, match=expected) as info:
        OutletRegistry.load([user_file])
    assert str(user_file) in str(info.value)


def test_missing_user_file_gives_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(RegistryError, match="cannot read outlet file") as info:
        OutletRegistry.load([missing])
    assert str(missing) in str(info.value)


# --------------------------------------------------------------------------- from_entries


def _outlet(name: str, aliases: tuple[str, ...] = (), domains: tuple[str, ...] = ()) -> Outlet:
    return Outlet(name, aliases, domains, "INT", "en", "online")


def test_from_entries_builds_a_working_registry() -> None:
    small = OutletRegistry.from_entries(
        [
            _outlet("North Star", ("NSN",), ("northstar.example",)),
            _outlet("South Star", ("SSN", "Star"), ("southstar.example",)),
            _outlet("East Star", ("Star",), ("eaststar.example",)),
        ]
    )
    assert len(small) == 3
    assert [o.name for o in small] == ["North Star", "South Star", "East Star"]
    assert small.by_url("https://news.northstar.example/x").name == "North Star"  # type: ignore[union-attr]
    assert small.by_name("nsn").name == "North Star"  # type: ignore[union-attr]
    assert small.by_name("Star") is None  # shared alias: ambiguous
    found = small.mentions("NSN and Star and SSN quoted South Star.")
    assert names(found) == ["North Star", "South Star", "South Star"]
    assert small.wire_agencies() == []


def test_from_entries_rejects_invalid_outlets() -> None:
    with pytest.raises(RegistryError, match="kind 'tabloid'"):
        OutletRegistry.from_entries([Outlet("X", (), (), None, None, "tabloid")])
    with pytest.raises(RegistryError, match="duplicate name"):
        OutletRegistry.from_entries([_outlet("X"), _outlet("x")])
