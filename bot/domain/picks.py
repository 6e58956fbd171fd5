"""Picks: validation and normalisation of what a member shares.

Everything here is pure. Bad input raises ``UserError`` naming the field and the limit, so the
same rules serve ``/rec share``, ``/archive edit`` and ``/archive import``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import pycountry

from bot.domain.links import CanonicalLink, LinkError, canonicalize_link
from bot.domain.text import broken_text_message, has_lone_surrogate, strip_bidi_controls
from bot.errors import UserError

FORMATS = ("vinyl", "cassette", "CD", "CD-R", "minidisc", "digital", "other")
RELATIONS = ("influenced-by", "same-scene", "reissue-of", "side-project-of", "remix-of")
MAX_TAGS = 8
MIN_YEAR = 1900
# The ceiling a slash option's year can be given up to; ``validate_year`` checks the real one
# (next year at most), so a typo says what the limit is instead of being refused by Discord.
YEAR_OPTION_MAX = 2100
# Removed entries can be restored for this many days, then they are purged for good.
RESTORE_DAYS = 30
# Who a pick or second is credited to once its member asked to be forgotten.
FORMER_MEMBER = "a former member"

# Longest text a member may type into each field (Discord's own limits are larger).
LIMITS = {
    "artist": 200,
    "title": 200,
    "label": 100,
    "city": 100,
    "note": 1000,
    "subgenre": 32,
    "subgenres": 300,
    "country": 60,
    "link": 512,
    "query": 200,  # words to search the archive for
    "year": 4,  # digits, as a form takes it
    "format": 10,  # the longest of FORMATS, as a form takes it
}

_COUNTRY_ALIASES = {
    "uk": "GB", "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "great britain": "GB", "britain": "GB",
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "america": "US", "united states": "US",
    "russia": "RU", "south korea": "KR", "korea": "KR", "north korea": "KP", "holland": "NL",
    "ivory coast": "CI", "czech republic": "CZ", "vietnam": "VN", "iran": "IR", "syria": "SY",
    "laos": "LA", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "taiwan": "TW",
    "moldova": "MD", "macedonia": "MK", "turkey": "TR", "the netherlands": "NL",
    "congo": "CG", "drc": "CD", "dr congo": "CD", "palestine": "PS", "uae": "AE",
}  # fmt: skip
# Letters people type two ways, which Unicode does not decompose into a base letter and an
# accent (so neither NFD nor FTS5's remove_diacritics folds them). Keys are lower case; the
# search index's view (migration 0003) replaces the same letters in both cases.
LETTER_FOLDS = str.maketrans(
    {
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ß": "ss",
        "ð": "d",
        "þ": "th",
        "ł": "l",
        "đ": "d",
        "\u0131": "i",
    }
)
_COMBINING = re.compile(r"[\u0300-\u036f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class PickDraft:
    """A validated, normalised pick, ready to store."""

    artist: str
    title: str
    match_key: str
    link: CanonicalLink | None = None
    subgenres: tuple[str, ...] = ()
    label: str | None = None
    year: int | None = None
    country: str | None = None
    city: str | None = None
    format: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PickFields:
    """The ten things a member says about a pick, as given (before ``build_draft`` checks
    them): the one list of a pick's fields that shares, edits, forms and imports use."""

    artist: str
    title: str
    link: str | None = None
    subgenres: str | None = None  # comma-separated, as typed
    label: str | None = None
    year: int | None = None
    country: str | None = None  # a name, alias or ISO code
    city: str | None = None
    format: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, pick: Pick) -> PickFields:
        """A stored pick's fields, as a member would give them again."""
        return cls(
            artist=pick.artist, title=pick.title, link=pick.link_url,
            subgenres=", ".join(pick.subgenres) or None, label=pick.label, year=pick.year,
            country=pick.country, city=pick.city, format=pick.format, note=pick.note,
        )  # fmt: skip

    def changed(self, changes: Mapping[str, Any]) -> PickFields:
        """These fields with ``changes`` applied; a name that is not a field is a bug."""
        unknown = set(changes) - set(PICK_FIELDS)
        if unknown:
            raise ValueError(f"not pick fields: {sorted(unknown)}")
        return replace(self, **changes)

    def as_typed(self, name: str) -> str:
        """One field as a text input shows it (empty when unset)."""
        value = getattr(self, name)
        return "" if value is None else str(value)


def fold_diacritics(text: str) -> str:
    """``Sigur Rós`` → ``Sigur Ros`` (Latin accents only; other scripts are left intact)."""
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", text)))


def fold_for_matching(text: str) -> str:
    """Stronger than ``fold_diacritics``: also the letters people type two ways (æ/ae, ß/ss …)."""
    return fold_diacritics(unicodedata.normalize("NFKC", text)).casefold().translate(LETTER_FOLDS)


def clean_text(value: str | None, name: str, *, required: bool = False) -> str | None:
    """Trim, collapse runs of spaces (keeping line breaks in notes), drop control and
    text-direction characters, check the length limit."""
    if value is None:
        value = ""
    if has_lone_surrogate(value):
        raise UserError(broken_text_message(name))
    text = strip_bidi_controls(_CONTROL.sub("", unicodedata.normalize("NFC", value)))
    if name == "note":
        lines = [" ".join(line.split()) for line in text.strip().splitlines()]
        text = "\n".join(lines).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
    else:
        text = " ".join(text.split())
    if not text:
        if required:
            raise UserError(f"**{name}** is required.")
        return None
    limit = LIMITS[name]
    if len(text) > limit:
        raise UserError(f"**{name}** is too long: {len(text)} characters, the limit is {limit}.")
    return text


# Bumped whenever ``match_key`` changes, so stored keys are recomputed once at start-up
# (bot.services.archive_upkeep.refresh_match_keys).
MATCH_KEY_VERSION = 2


def word_runs(text: str) -> list[str]:
    """Runs of letters, digits and combining marks. The marks matter beyond Latin: the vowel
    signs of Devanagari or Thai are marks, and splitting at them would turn दिल and दाल into
    the same two letters."""
    runs: list[str] = []
    start = None
    for index, ch in enumerate(text):
        if ch.isalnum() or unicodedata.category(ch)[0] == "M":
            if start is None:
                start = index
        elif start is not None:
            runs.append(text[start:index])
            start = None
    if start is not None:
        runs.append(text[start:])
    return runs


def match_key(artist: str, title: str) -> str:
    """Equal for the same artist and title whatever the case, spacing, punctuation or accents:
    ``R.E.M.`` and ``REM``, ``AC/DC`` and ``ACDC``, ``Don't`` and ``Dont`` are one key."""

    def fold(text: str) -> str:
        folded = fold_for_matching(text).replace("&", " and ")
        words = word_runs(folded)
        return "".join(words) if words else "".join(folded.split())  # "!!!" is a band too

    return f"{fold(artist)}\x1f{fold(title)}"


def normalize_tag(raw: str) -> str:
    """``Minimal Synth``, ``minimal-synth`` and `` minimal  synth`` are all ``minimal-synth``.

    Tags are words joined by hyphens and nothing else (``Drum & Bass`` → ``drum-and-bass``,
    ``R&B`` → ``r-and-b``), so a tag is always one safe search token."""
    folded = fold_for_matching(raw).replace("&", " and ").replace("+", " plus ")
    return "-".join(word_runs(folded))


def parse_subgenres(raw: str | None) -> tuple[str, ...]:
    """A comma-separated list → normalised, de-duplicated tags in the order given."""
    if raw is None or not raw.strip():
        return ()
    if len(raw) > LIMITS["subgenres"]:
        raise UserError(
            f"**subgenres** is too long: the limit is {LIMITS['subgenres']} characters."
        )
    tags: list[str] = []
    for piece in raw.split(","):
        tag = normalize_tag(piece)
        if not tag:
            continue
        if len(tag) > LIMITS["subgenre"]:
            raise UserError(
                f"The subgenre `{tag[:40]}` is too long: the limit is {LIMITS['subgenre']} characters."
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise UserError(f"At most {MAX_TAGS} subgenres per pick (you gave {len(tags)}).")
    return tuple(tags)


def resolve_country(raw: str | None) -> str | None:
    """A country name, common alias or ISO code → ISO 3166-1 alpha-2, or a ``UserError``."""
    text = clean_text(raw, "country")
    if text is None:
        return None
    alias = _COUNTRY_ALIASES.get(text.casefold())
    if alias:
        return alias
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    folded = fold_diacritics(text).casefold()
    for country in pycountry.countries:
        names = (
            country.name,
            getattr(country, "common_name", ""),
            getattr(country, "official_name", ""),
        )
        if any(fold_diacritics(n).casefold() == folded for n in names if n):
            return str(country.alpha_2)
    suggestions = [name for _, name in match_countries(text, limit=3)]
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UserError(
        f"**country**: `{text}` is not a country I know (use a name or ISO code).{hint}"
    )


def _common_name(country: Any) -> str:
    return str(getattr(country, "common_name", None) or country.name)


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return code if country is None else _common_name(country)


def match_countries(
    query: str, limit: int = 25, used: Mapping[str, int] | None = None
) -> list[tuple[str, str]]:
    """``(code, name)`` pairs for autocomplete, best first: an exact code or alias (``de``,
    ``uk``), then names or aliases starting with what is typed, then names containing it. Within
    each, the countries in ``used`` (a server's, by number of picks) come first."""
    folded = fold_diacritics(query.strip()).casefold()
    used = used or {}
    best: dict[str, int] = {}  # code → 0 exact, 1 prefix, 2 substring
    for country in pycountry.countries:
        key = fold_diacritics(_common_name(country)).casefold()
        code = str(country.alpha_2)
        if folded == code.casefold():
            best[code] = 0
        elif key.startswith(folded):
            best[code] = 1
        elif folded in key:
            best[code] = 2
    for alias, code in _COUNTRY_ALIASES.items():
        if alias == folded:
            best[code] = 0
        elif len(folded) >= 3 and alias.startswith(folded):
            best[code] = min(best.get(code, 1), 1)
    names = {code: country_name(code) for code in best}
    order = sorted(
        best,
        key=lambda code: (best[code], -used.get(code, 0), names[code]),
    )
    return [(code, names[code]) for code in order[:limit]]


def validate_year(year: int | None, current_year: int) -> int | None:
    if year is None:
        return None
    if not MIN_YEAR <= year <= current_year + 1:
        raise UserError(f"**year** must be between {MIN_YEAR} and {current_year + 1}.")
    return year


def normalize_format(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    folded = raw.strip().casefold().replace(" ", "")
    for name in FORMATS:
        if name.casefold().replace(" ", "") == folded:
            return name
    raise UserError(f"**format** must be one of {', '.join(FORMATS)}.")


def parse_link(raw: str | None) -> CanonicalLink | None:
    if raw is None or not raw.strip():
        return None
    try:
        return canonicalize_link(raw)
    except LinkError as exc:
        raise UserError(f"**link**: {exc}") from exc


def build_draft(given: PickFields, *, current_year: int) -> PickDraft:
    """Validate and normalise every field; the first problem found raises ``UserError``."""
    artist = clean_text(given.artist, "artist", required=True)
    title = clean_text(given.title, "title", required=True)
    assert artist is not None and title is not None
    return PickDraft(
        artist=artist,
        title=title,
        match_key=match_key(artist, title),
        link=parse_link(given.link),
        subgenres=parse_subgenres(given.subgenres),
        label=clean_text(given.label, "label"),
        year=validate_year(given.year, current_year),
        country=resolve_country(given.country),
        city=clean_text(given.city, "city"),
        format=normalize_format(given.format),
        note=clean_text(given.note, "note"),
    )


@dataclass(frozen=True, slots=True)
class Pick:
    """A stored pick, as services hand it to cogs."""

    id: int
    guild_id: int
    artist: str
    title: str
    link_url: str | None
    link_platform: str | None
    subgenres: tuple[str, ...]
    label: str | None
    year: int | None
    country: str | None
    city: str | None
    format: str | None
    note: str | None
    shared_by: int | None
    created_at: int
    channel_id: int | None
    message_id: int | None
    edited_at: int | None = None
    edited_by: int | None = None
    deleted_at: int | None = None
    heard: int = 0
    loved: int = 0

    def jump_url(self) -> str | None:
        if self.channel_id is None or self.message_id is None:
            return None
        return f"https://discord.com/channels/{self.guild_id}/{self.channel_id}/{self.message_id}"


@dataclass(frozen=True, slots=True)
class Second:
    pick_id: int
    user_id: int | None
    note: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """``from_id`` —relation→ ``to_id``, e.g. a reissue-of its original; ``depth`` is 1 or 2."""

    from_id: int
    to_id: int
    relation: str
    depth: int


PICK_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(PickFields))
