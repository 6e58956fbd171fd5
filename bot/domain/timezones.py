"""IANA time-zone names: lookup that forgives case and spaces, ranked autocomplete, suggestions."""

from __future__ import annotations

import difflib
import zoneinfo
from functools import cache

AUTOCOMPLETE_LIMIT = 25
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
_LEGACY_PREFIXES = ("Etc/", "US/", "Canada/", "Brazil/", "Chile/", "Mexico/", "SystemV/")


def _fold(text: str) -> str:
    """Case- and separator-insensitive form: ``new york`` and ``New_York`` fold alike."""
    return "_".join(text.strip().replace("_", " ").split()).casefold()


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name tzdata knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_ZONES))


@cache
def _folded_index() -> dict[str, str]:
    return {_fold(name): name for name in zone_names()}


def _is_legacy(name: str) -> bool:
    return "/" not in name or name.startswith(_LEGACY_PREFIXES)


def resolve_zone(text: str) -> str | None:
    """The canonical spelling of the zone ``text`` names, or None if it names none."""
    return _folded_index().get(_fold(text))


def match_zones(query: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[str]:
    """Zones whose name contains ``query`` (case-insensitive), best first, at most ``limit``.

    Best means: an exact name, then names that start with the query, then names with a part
    (``Europe/Berlin`` has parts ``europe`` and ``berlin``) that starts with it, then any
    substring; within each, region/city names before legacy aliases, then shorter, then alphabetical.
    An empty query lists common region/city zones alphabetically.
    """
    folded = _fold(query)
    ranked: list[tuple[int, bool, int, str]] = []
    for key, name in _folded_index().items():
        if folded not in key:
            continue
        if key == folded:
            rank = 0
        elif key.startswith(folded):
            rank = 1
        elif any(part.startswith(folded) for part in key.split("/")[1:]):
            rank = 2
        else:
            rank = 3
        ranked.append((rank, _is_legacy(name), len(name), name))
    ranked.sort()
    return [name for *_, name in ranked[:limit]]


def suggest_zones(text: str, limit: int = 5) -> list[str]:
    """Close matches for a name that resolved to nothing: substrings first, then near-spellings."""
    found = match_zones(text, limit)
    if found:
        return found
    folded = _fold(text)
    index = _folded_index()
    by_city = {key.rsplit("/", 1)[-1]: name for key, name in index.items() if not _is_legacy(name)}
    close = difflib.get_close_matches(folded, list(index), n=limit, cutoff=0.6)
    close += difflib.get_close_matches(folded, list(by_city), n=limit, cutoff=0.6)
    names = [index.get(key) or by_city[key] for key in close]
    return list(dict.fromkeys(names))[:limit]
