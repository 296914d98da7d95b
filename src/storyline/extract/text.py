"""The plain-text cleaner: a page scraped as text, with its furniture, in;
title, clean paragraphs, metadata and the list of what was dropped out.

Furniture is recognised by general signals only:

* the *shape* of a line (a navigation item, a photo credit, a sign-off, a
  byline made of names, dates and agencies, a reading-time or label line,
  a breadcrumb trail),
* its *position* (short lines before the title or after the last real
  paragraph),
* *repetition* (inside the document, or across one outlet's articles via
  `known_boilerplate`, fingerprints made by `line_fingerprint`),
* known multilingual phrases of page furniture (cookie, login, newsletter).

A line with none of these signals is kept. Lines inside one blank-line
separated block that merely wrap a sentence are joined again.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storyline.extract import textmeta
from storyline.records import RemovedBlock

if TYPE_CHECKING:
    from collections.abc import Collection

    from storyline.extract.outlets import Outlet, OutletRegistry

# --------------------------------------------------------------------------- line shape

_SPACES = re.compile(r"\s+")  # inside one line: tabs, no-break and other odd spaces
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_TERMINAL = re.compile(r"[.!?…:;][\"'”’»)\]]*$|[\"”»]$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
_WORD = re.compile(r"\w+")

FINGERPRINT_MAX_WORDS = 30  # longer lines are article text, never per-outlet boilerplate
REAL_PARAGRAPH_WORDS = 12


# The cleaner asks for the word count and normal form of the same lines many times
# (every rule, and each paragraph against its neighbours); a small cache makes
# that one computation per line.
@functools.lru_cache(maxsize=4096)
def _words(text: str) -> int:
    return len(_WORD.findall(text))


@functools.lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def line_fingerprint(line: str) -> str:
    """Fingerprint of a short line, stable across dates, counts and case."""
    key = re.sub(r"\d+", "0", _norm(line)).strip(" .,:;|•·-–—")
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def fingerprint_candidates(text: str) -> list[str]:
    """The short lines of a text that could be boilerplate of its outlet."""
    lines = []
    for raw in text.splitlines():
        line = _SPACES.sub(" ", _INVISIBLE.sub("", raw)).strip()
        if line and _words(line) <= FINGERPRINT_MAX_WORDS:
            lines.append(line)
    return lines


def _is_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))


def _is_real_paragraph(text: str) -> bool:
    return _words(text) >= REAL_PARAGRAPH_WORDS and bool(_TERMINAL.search(text))


def _heading_like(text: str) -> bool:
    words = _words(text)
    if not 3 <= words <= 30 or len(text) > 250:
        return False
    if re.search(r"[.,;:]$", text):
        return False
    first = text.lstrip("\"'“‘«¿¡(")[:1]
    return first.isupper() or first.isdigit()


# --------------------------------------------------------------------------- furniture phrases


def _alternation(phrases: str) -> str:
    items = [p.strip() for p in phrases.split("|") if p.strip()]
    return "|".join(
        sorted((re.escape(i).replace(r"\ ", r"\s+") for i in items), key=len, reverse=True)
    )


# Whole-line interface words (a line that is nothing but one of these).
_UI_LINE = re.compile(
    r"^(?:"
    + _alternation(
        "share|share this|share this article|share this story|share article|share on facebook|"
        "share on twitter|share on x|share on linkedin|share via email|share via e-mail|print|"
        "print this page|print article|email|e-mail|mail|tweet|facebook|twitter|x|linkedin|"
        "whatsapp|telegram|reddit|pinterest|flipboard|copy link|copy url|link copied|"
        "advertisement|advertising|ad|sponsored|anzeige|werbung|publicité|publicidad|"
        "read more|read also|also read|see also|read next|read on|more|more on this|"
        "more on this story|more on this topic|related|related articles|related article|"
        "related stories|related content|related topics|related coverage|related news|topics|"
        "tags|comments|show comments|view comments|leave a comment|post a comment|back to top|"
        "top|menu|main menu|search|home|close|open|sign in|log in|login|log out|register|"
        "subscribe|subscribe now|newsletter|newsletters|sign up|follow us|follow|listen|"
        "listen to this article|listen to article|play|pause|save|saved|save article|bookmark|"
        "toggle navigation|navigation|continue reading|keep reading|most read|most popular|"
        "most viewed|trending|trending now|top stories|recommended|recommended for you|"
        "you may also like|you might also like|don't miss|watch|watch now|video|gallery|photos|"
        "next|previous|next article|previous article|next story|previous story|skip|skip ad|"
        "mehr zum thema|lesen sie auch|lesen sie mehr|auch interessant|teilen|artikel teilen|"
        "drucken|weiterlesen|kommentare|mehr|zum artikel|lire aussi|à lire aussi|a lire aussi|"
        "lire la suite|partager|imprimer|voir aussi|sur le même sujet|leer más|lee también|"
        "compartir|imprimir|ver más|te puede interesar|noticias relacionadas|relacionado|"
        "accept|accept all|reject all|i agree|ok|got it|manage preferences|cookie settings|"
        "privacy policy|terms of use|terms of service|terms and conditions|contact us|about us|"
        "impressum|datenschutz|mentions légales|aviso legal|all rights reserved"
    )
    + r")(?:\s*[(\[]?\d+[)\]]?)?$",
    re.IGNORECASE,
)
_NAV_PREFIX = re.compile(
    r"^(?:"
    + _alternation(
        "skip to|jump to|go to content|go to main|back to|zum inhalt|zur navigation|"
        "zur hauptnavigation|direkt zum|springe zu|aller au contenu|aller à|passer au contenu|"
        "ir al contenido|saltar al contenido|saltar a|read more:|read also:|also read:|"
        "related:|see also:|more:|watch:|listen:|lesen sie auch:|mehr dazu:|mehr zum thema:|"
        "lire aussi:|à lire aussi:|a lire aussi:|voir aussi:|lee también:|leer más:|"
        "te puede interesar:|leggi anche|vedi anche|leia também|lees ook|czytaj też|"
        "click here|tap here|klicken sie hier|cliquez ici|haga clic aquí|"
        "haz clic aquí|follow us on|folgen sie uns|suivez-nous|síguenos|share this with|"
        "share on|teilen auf|partager sur|compartir en"
    )
    + r")",
    re.IGNORECASE,
)
_AD_LINE = re.compile(
    r"^(?:advertisement|anzeige|werbung|publicité|publicidad)\b.{0,40}$|"
    r"\b(?:story|article|content|text) continues (?:below|after)\b|\bscroll to continue\b|"
    r"\bweiter nach der anzeige\b|\bla suite après (?:cette )?(?:la )?publicité\b",
    re.IGNORECASE,
)
_COOKIE = re.compile(r"\bcookies?\b", re.IGNORECASE)
_COOKIE_CONTEXT = re.compile(
    r"\b(?:we use|this (?:web)?site uses|uses cookies|accept|consent|cookie policy|cookie settings|"
    r"manage|preferences|wir verwenden|verwendet cookies|akzeptieren|zustimmen|einwilligung|"
    r"nous utilisons|utilise des cookies|accepter|consentement|utilizamos|usa cookies|"
    r"aceptar|consentimiento)\b",
    re.IGNORECASE,
)
_LOGIN = re.compile(
    r"^(?:"
    + _alternation(
        "sign in to|log in to|login to|already a subscriber|already have an account|"
        "create an account|create a free account|create your free account|register to|"
        "register for free|registrieren sie sich|melden sie sich an|jetzt anmelden|"
        "bereits abonnent|connectez-vous|se connecter|déjà abonné|inicia sesión|iniciar sesión|"
        "ya eres suscriptor|you have reached your|to continue reading|"
        "this article is for subscribers|"
        "this content is for subscribers|subscribe to continue|subscribe to read|"
        "you have one free article|you have 1 free article|dieser artikel ist nur für abonnenten|"
        "cet article est réservé aux abonnés|este artículo es exclusivo para suscriptores"
    )
    + r")",
    re.IGNORECASE,
)
_NEWSLETTER = re.compile(
    r"\b(?:subscribe|sign\s*-?\s*up|register|join|get)\b.{0,60}\b(?:newsletters?|mailing list|"
    r"briefing|bulletin|inbox|daily email|weekly email|alerts)\b|"
    r"\bnewsletters?\b.{0,30}\b(?:abonnieren|bestellen|anmelden|subscribe|sign up)\b|"
    r"\b(?:abonnez-vous|inscrivez-vous|suscríbete|suscribete|suscribirse|jetzt abonnieren|"
    r"abonnieren sie|enter your email|your email address|e-mail-adresse eingeben|"
    r"votre adresse e-?mail|tu correo electrónico|by subscribing|by signing up|"
    r"support (?:our|independent|quality) journalism|become a (?:member|subscriber|supporter)|"
    r"subscribe now|subscribe today|start your free trial|unlimited access|"
    r"unterstützen sie (?:unseren|unabhängigen) journalismus|soutenez notre journalisme)\b",
    re.IGNORECASE,
)
_BREADCRUMB_SEP = re.compile(r"\s+(?:>|»|›|/|\||→|::)\s+")
_NUMBERED_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[•·*▪►‣◦-])\s+\S")

# --------------------------------------------------------------------------- photos

_PHOTO_WORDS = (
    r"image|images|photo|photos|photograph|photography|picture|pictures|pic|foto|fotos|"
    r"fotografía|fotografia|bild|bilder|bildquelle|imagen|imágenes|illustration|grafik|graphic|"
    r"crédit photo|crédits photo|crédit|credit|credits|photo credit|image credit|image source|"
    r"cover image|header image|featured image|titelbild|symbolbild|video|quelle bild"
)
_PHOTO_CREDIT = re.compile(
    rf"^(?:{_PHOTO_WORDS})\s*(?::|©|\||-|–|—)\s*\S|^(?:photo|foto|image|picture|pictures|photograph)"
    r"\s+(?:by|von|de|par|por)\s+\S|^\(?(?:ap|afp|reuters|epa|dpa)\s+photo\b|"
    r"^(?:getty images|picture alliance|picture-alliance|imago|shutterstock|alamy|istock)\b",
    re.IGNORECASE,
)
_PHOTO_AGENCY_WORDS = re.compile(
    r"\b(?:photo|foto|image|images|picture|bild|getty|shutterstock|imago|alamy|istock|"
    r"picture alliance|picture-alliance|keystone|pool)\b",
    re.IGNORECASE,
)
_TRAILING_BRACKET = re.compile(r"[\[(](?P<credit>[^\[\]()]{2,100})[\])]\s*\.?$")
_FILE_PHOTO = re.compile(
    r"^(?:file photo|file picture|file image|file pic|archive photo|archive picture|archive image|"
    r"archivbild|archivfoto|symbolbild|symbolfoto|photo d['’]archive|image d['’]archive|"
    r"photo d['’]illustration|foto de archivo|imagen de archivo)\b\s*[.:]?",
    re.IGNORECASE,
)
_UPPER_CREDIT = re.compile(r"^[A-Z][A-Z .&'-]{1,30}/\s*\S")  # "REUTERS/Evgenia Novozhenina"


def _is_bracket_photo_credit(credit: str) -> bool:
    """ "[Pool/EPA/EFE]", "(AP Photo/Evan Vucci)", "(Photo: X)" — not "(AFP, Reuters)"."""
    if _words(credit) > 8:
        return False
    if _PHOTO_AGENCY_WORDS.search(credit):
        return True
    segments = [s.strip() for s in credit.split("/")]
    return len(segments) >= 2 and all(
        s and s[:1].isupper() and len(s.split()) <= 4 for s in segments
    )


def _is_photo_credit(line: str) -> bool:
    if _words(line) > 20:
        return False
    if _PHOTO_CREDIT.search(line) or _UPPER_CREDIT.match(line):
        return True
    m = _TRAILING_BRACKET.fullmatch(line.strip())
    return bool(m and _is_bracket_photo_credit(m.group("credit")))


def _is_caption(line: str) -> bool:
    if _FILE_PHOTO.match(line):
        return True
    m = _TRAILING_BRACKET.search(line)
    return bool(m and _words(line) <= 120 and _is_bracket_photo_credit(m.group("credit")))


# --------------------------------------------------------------------------- the cleaner


@dataclass(slots=True)
class _Unit:
    text: str
    block: int
    reason: str | None = None
    credit_text: bool = False  # a caption or photo credit: its names are not outlet signals


@dataclass(slots=True)
class CleanText:
    """What the cleaner made of one text."""

    title: str | None
    paragraphs: list[str]
    removed: list[RemovedBlock] = field(default_factory=list)
    published: str | None = None
    outlet: Outlet | None = None  # from signals in the page's own furniture
    wire_agencies: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    # Fingerprints of the lines the outlet's known boilerplate is checked against (those
    # no earlier rule removed): known lines outside this set cannot change the result.
    removable_lines: frozenset[str] = frozenset()

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    block = 0
    for raw in text.splitlines():
        line = _SPACES.sub(" ", _INVISIBLE.sub("", raw)).strip()
        if not line:
            block += 1
            continue
        units.append(_Unit(line, block))
    return _join_wrapped(units)


def _pattern_reason(line: str) -> str | None:
    """Furniture recognised by the phrase or shape of a single line."""
    words = _words(line)
    bare = line.strip(" |•·*▪►‣◦>»›→←-–—:").strip()
    if words == 0:
        return "no words"
    if _UI_LINE.match(bare) or _UI_LINE.match(re.sub(r"^\s*\d{1,2}[.)]\s+", "", bare)):
        return "interface text"
    if words <= 15 and _NAV_PREFIX.match(re.sub(r"^\s*\d{1,2}[.)]\s+", "", bare)):
        return "navigation"
    if words <= 20 and _AD_LINE.search(line):
        return "advertisement"
    if words <= 80 and _COOKIE.search(line) and _COOKIE_CONTEXT.search(line):
        return "cookie notice"
    if words <= 40 and _LOGIN.match(bare):
        return "login prompt"
    if words <= 30 and _NEWSLETTER.search(line):
        return "newsletter prompt"
    if words <= 12 and textmeta.has_reading_time(line) and not _is_sentence(line):
        return "reading time"
    if words <= 25 and textmeta.is_label_line(line):
        return "label"
    if words <= 15 and not _is_sentence(line):
        parts = _BREADCRUMB_SEP.split(line)
        # a table row ("| 3 | Kevin Harvick | 5033 |") is not a trail of section names
        if len(parts) >= 3 and all(
            1 <= _words(p) <= 4 and re.search(r"[^\W\d_]", p) for p in parts
        ):
            return "breadcrumb"
    return None


def _similar(a: str, b: str) -> bool:
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    if min(len(na), len(nb)) / max(len(na), len(nb)) < 0.6:
        return False  # a title is not a paragraph that happens to contain it
    if na in nb or nb in na:
        return True
    ta, tb = set(_WORD.findall(na)), set(_WORD.findall(nb))
    return len(ta & tb) / max(1, len(ta | tb)) >= 0.7


def _strip_outlet_suffix(title: str, registry: OutletRegistry) -> str:
    """ "Talks set for January | DW | 28.12.2021" -> "Talks set for January"."""
    parts = re.split(r"\s+[|–—-]\s+", title)
    while len(parts) > 1 and (
        registry.by_name(parts[-1]) is not None or textmeta.date_line(parts[-1]) is not None
    ):
        parts.pop()
    return " - ".join(parts) if len(parts) > 1 else parts[0]


def clean_text(
    text: str,
    registry: OutletRegistry,
    *,
    known_boilerplate: Collection[str] = frozenset(),
    title_hint: str | None = None,
    context_outlet: Outlet | None = None,
    extracted: bool = False,
) -> CleanText:
    """Split `text` into title, paragraphs and removed furniture, reading metadata on the way.

    `extracted=True` is for text that an HTML extractor already cleaned: only
    the high-precision rules run (metadata lines, sign-offs, boilerplate,
    repeats, interface phrases), not the positional ones.
    """
    units = _units(text)
    month_first = context_outlet is not None and context_outlet.country == "US"
    agencies: list[str] = []
    authors: list[str] = []
    published: str | None = None
    byline_outlets: list[Outlet] = []
    outlet_candidates: list[Outlet] = []
    removable: set[str] = set()

    real = [
        i
        for i, u in enumerate(units)
        if _is_real_paragraph(u.text) and _pattern_reason(u.text) is None
    ]
    first_real = real[0] if real else len(units)
    last_real = real[-1] if real else -1

    # 1. single-line signals: metadata first (they carry information), then furniture phrases
    for i, unit in enumerate(units):
        line = unit.text
        near_end = i > last_real or i >= len(units) - 3
        signoff = (
            textmeta.parse_signoff(line, registry) if (near_end or _words(line) <= 8) else None
        )
        if signoff is not None and (signoff.agencies or signoff.authors or near_end):
            unit.reason = signoff.kind
            agencies.extend(signoff.agencies)
            authors.extend(signoff.authors)
            if signoff.kind == "copyright line":
                outlet_candidates.extend(m.outlet for m in registry.mentions(line))
            continue
        if _is_photo_credit(line):
            unit.reason, unit.credit_text = "photo credit", True
            continue
        if _is_caption(line):
            unit.reason, unit.credit_text = "photo caption", True
            continue
        day = textmeta.date_line(line, month_first=month_first)
        if day is not None:
            unit.reason = "date line"
            if published is None and i <= first_real + 3:
                published = day
            continue
        byline = (
            textmeta.parse_byline(line, registry, context_outlet=context_outlet)
            if _words(line) <= 40 and not _is_real_paragraph(line)
            else None
        )
        if byline is not None:
            unit.reason = "byline"
            if byline.outlet is not None:
                byline_outlets.append(byline.outlet)
            agencies.extend(byline.agencies)
            authors.extend(byline.authors)
            if published is None and byline.published:
                published = byline.published
            continue
        unit.reason = _pattern_reason(line)
        if unit.reason is None:
            fingerprint = line_fingerprint(line)
            removable.add(fingerprint)
            if fingerprint in known_boilerplate:
                unit.reason = "boilerplate of this outlet"

    # 2. a caption directly followed by its credit line goes with it
    for i in range(len(units) - 1):
        unit, nxt = units[i], units[i + 1]
        if (
            unit.reason is None
            and nxt.reason == "photo credit"
            and _words(unit.text) <= 80
            and ((unit.block == nxt.block and not extracted) or not _is_sentence(unit.text))
        ):
            unit.reason, unit.credit_text = "photo caption", True

    # 3. title line and the navigation above it
    title: str | None = None
    head = [i for i in range(min(first_real + 1, len(units))) if units[i].reason is None]
    title_index: int | None = None
    if title_hint:
        title_index = next((i for i in head[:12] if _similar(units[i].text, title_hint)), None)
    elif not extracted:
        title_index = next((i for i in head if _heading_like(units[i].text)), None)
    if title_index is not None:
        title = _strip_outlet_suffix(units[title_index].text, registry)
        units[title_index].reason = "title"
        if not extracted:
            for i in head:
                if (
                    i < title_index
                    and _words(units[i].text) <= 8
                    and not _is_sentence(units[i].text)
                ):
                    units[i].reason = "navigation before the title"
        # a date written right under the title is the publication date
        for i in range(title_index + 1, min(title_index + 4, len(units))):
            if units[i].reason == "date line":
                published = textmeta.date_line(units[i].text, month_first=month_first) or published
                break

    if not extracted:
        # 4. short non-sentences after the last real paragraph: footer, related links, tags
        for i in range(last_real + 1, len(units)):
            unit = units[i]
            if unit.reason is None and _words(unit.text) <= 12 and not _is_sentence(unit.text):
                unit.reason = "page furniture after the article"
        # 5. numbered or bulleted menu items before the article starts
        for i in range(first_real):
            unit = units[i]
            if unit.reason is None and _NUMBERED_ITEM.match(unit.text) and _words(unit.text) <= 6:
                unit.reason = "navigation"
        # 6. short non-sentences that occur more than once are interface text
        short_counts = Counter(
            _norm(u.text) for u in units if _words(u.text) <= 6 and not _is_sentence(u.text)
        )
        for unit in units:
            if unit.reason is None and short_counts.get(_norm(unit.text), 0) > 1:
                unit.reason = "repeated short line"

    # 7. exact repeats (keep the first) and a short paragraph repeated inside a nearby longer one
    seen: set[str] = set()
    if title:
        seen.add(_norm(title))
    kept = [i for i, u in enumerate(units) if u.reason is None]
    for i in kept:
        key = _norm(units[i].text)
        # extracted text keeps legitimately repeated table and list rows
        if key in seen and _words(key) >= (20 if extracted else 3):
            units[i].reason = "repeat of an earlier paragraph"
        seen.add(key)
    kept = [i for i, u in enumerate(units) if u.reason is None]
    for pos, i in enumerate(kept):
        key = _norm(units[i].text)
        if _words(key) < 10:
            continue
        for j in kept[max(0, pos - 8) : pos + 9]:
            if j != i and units[j].reason is None:
                other = _norm(units[j].text)
                if len(other) > len(key) and key in other:
                    units[i].reason = "repeated inside another paragraph"
                    break

    # 8. metadata that only the kept text tells: wire datelines ("MOSCOW (Reuters) -")
    body_units = [u for u in units if u.reason is None]
    for unit in body_units[:3]:
        agencies.extend(textmeta.dateline_agencies(unit.text, registry))

    # 9. outlet signals: the page's own furniture names its outlet; captions and credits do not
    for unit in units:
        if (
            unit.reason not in (None, "title")
            and not unit.credit_text
            and unit.reason
            not in (
                "sign-off",
                "reporting credits",
                "contributor credit",
                "byline",
            )
        ):
            outlet_candidates.extend(m.outlet for m in registry.mentions(unit.text))
    outlet = _choose_outlet(byline_outlets, outlet_candidates)

    removed = [RemovedBlock(u.text, u.reason) for u in units if u.reason not in (None, "title")]
    return CleanText(
        title=title,
        paragraphs=_paragraphs(body_units),
        removed=removed,
        published=published,
        outlet=outlet,
        wire_agencies=textmeta._unique(agencies),
        authors=textmeta._unique(authors),
        removable_lines=frozenset(removable),
    )


def _choose_outlet(byline_outlets: list[Outlet], candidates: list[Outlet]) -> Outlet | None:
    for group in (byline_outlets, candidates):
        non_wire = [o for o in group if o.kind != "wire"]
        if non_wire:
            return Counter(non_wire).most_common(1)[0][0]
    if byline_outlets:
        return byline_outlets[0]
    return None


def _hard_wrapped_blocks(units: list[_Unit]) -> set[int]:
    """Blocks whose lines look cut at a fixed width (e-mail or terminal text)."""
    by_block: dict[int, list[int]] = {}
    for unit in units:
        by_block.setdefault(unit.block, []).append(len(unit.text))
    wrapped = set()
    for block, lengths in by_block.items():
        inner = lengths[:-1]
        if (
            len(inner) >= 2
            and min(inner) >= 40
            and max(inner) <= 100
            and max(inner) - min(inner) <= 20
        ):
            wrapped.add(block)
    return wrapped


def _join_wrapped(units: list[_Unit]) -> list[_Unit]:
    """Lines that merely continue a sentence cut by a hard wrap become one unit."""
    joined: list[_Unit] = []
    hard_wrapped = _hard_wrapped_blocks(units)
    for unit in units:
        previous = joined[-1] if joined else None
        wrapped = (
            previous is not None
            and previous.block == unit.block
            and not _TERMINAL.search(previous.text)
            and (
                (unit.text[:1].islower() and len(previous.text) >= 30)
                or (unit.block in hard_wrapped and re.search(r"[\w,]$", previous.text) is not None)
            )
        )
        if wrapped:
            previous.text = f"{previous.text} {unit.text}"  # type: ignore[union-attr]
        else:
            joined.append(unit)
    return joined


def _paragraphs(units: list[_Unit]) -> list[str]:
    return [unit.text for unit in units]
