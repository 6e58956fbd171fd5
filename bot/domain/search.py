"""Archive search: turn what a member typed into a safe FTS5 expression, and the ranking window.

Member text never reaches FTS5 syntax: it is split into words, and each word becomes a quoted
term, so ``AND``, quotes, colons or ``NEAR`` in a query are just words. The last word, the one
still being typed, matches as a prefix (``"yout"*``) once it has ``MIN_PREFIX`` letters and is
not already a whole word of the index: a one- or two-letter prefix expands to thousands of index
terms, which is slow and finds noise.
Filters become column-scoped tokens (see the ``facets`` column in migration 0002), so a search is
always one FTS5 query, ANDed with its server's ``scope`` token.

Ranking every match with bm25 costs ~1 s at p99 for a word in 20 % of a million picks, so search
ranks a bounded window: the ``RANK_WINDOW`` newest matches, best first; the total is counted up to
that window and shown as "1,000+" beyond it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.picks import normalize_tag

RANK_WINDOW = 1000
PAGE_SIZE = 10
MAX_TERMS = 8
MIN_PREFIX = 3
TEXT_COLUMNS = "{artist title label city note tags}"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class SearchFilters:
    query: str | None = None
    subgenre: str | None = None
    label: str | None = None
    country: str | None = None  # ISO alpha-2, already resolved
    city: str | None = None
    format: str | None = None  # one of picks.FORMATS, already normalised
    year_from: int | None = None
    year_to: int | None = None
    shared_by: int | None = None

    @property
    def has_text(self) -> bool:
        return bool(words(self.query))

    @property
    def is_empty(self) -> bool:
        return not any(
            value is not None and value != ""
            for value in (
                self.query, self.subgenre, self.label, self.country, self.city, self.format,
                self.year_from, self.year_to, self.shared_by,
            )
        )  # fmt: skip


def words(text: str | None) -> list[str]:
    """The searchable words of ``text``, at most MAX_TERMS (FTS5 itself folds case and accents)."""
    if not text:
        return []
    return [w.casefold() for w in _WORD.findall(text)][:MAX_TERMS]


def _phrase(text: str) -> str | None:
    found = words(text)
    return '"' + " ".join(found) + '"' if found else None


def text_terms(terms: list[str], prefix_last: bool = True) -> list[str]:
    """Quoted FTS5 terms; the last one a prefix if it is long enough and ``prefix_last``."""
    quoted = [f'"{t}"' for t in terms]
    if terms and prefix_last and len(terms[-1]) >= MIN_PREFIX:
        quoted[-1] += "*"
    return quoted


def last_word(filters: SearchFilters) -> str | None:
    """The word that would be matched as a prefix, if any."""
    terms = words(filters.query)
    return terms[-1] if terms and len(terms[-1]) >= MIN_PREFIX else None


def format_token(name: str) -> str:
    return "f" + name.casefold().replace("-", "")


def tag_token(tag: str) -> str:
    return "t" + normalize_tag(tag).replace("-", "")


def year_tokens(year_from: int | None, year_to: int | None, lowest: int, highest: int) -> list[str]:
    """Tokens matching any year in the range: whole decades as ``d1980``, the rest as ``y1979``."""
    start = lowest if year_from is None else max(year_from, lowest)
    end = highest if year_to is None else min(year_to, highest)
    tokens: list[str] = []
    year = start
    while year <= end:
        if year % 10 == 0 and year + 9 <= end:
            tokens.append(f"d{year}")
            year += 10
        else:
            tokens.append(f"y{year}")
            year += 1
    return tokens


def use_scope_token(guild_picks: int, total_picks: int) -> bool:
    """Whether to AND a search with its server's ``scope`` token.

    The token's doclist is as long as the server's archive, and FTS5 reads it whole (bm25 counts
    every phrase's documents), so for a server that is most of the database it costs more than
    it saves: 17 ms at a million picks. Such searches filter by ``guild_id`` in the join instead,
    which wastes little because most matches are the server's own. A small server in a big
    database keeps the token, so it never wades through other servers' matches.
    """
    return guild_picks * 4 < total_picks


def build_match(
    guild_id: int,
    filters: SearchFilters,
    *,
    lowest_year: int,
    highest_year: int,
    scoped: bool = True,
    prefix_last: bool = True,
) -> str | None:
    """The FTS5 MATCH expression for ``filters`` in ``guild_id``, or None when there is nothing
    to match (an unscoped search with no words and no filters: a plain listing).

    ``prefix_last=False`` matches the last word exactly: the service does that when the word is
    already a whole indexed term, because a prefix of a common word costs a full doclist merge
    (4 ms at a million picks, 13 ms ranked) where the exact word stops after the first page."""
    parts = [f"scope:g{guild_id}"] if scoped else []
    terms = words(filters.query)
    if terms:
        parts.append(f"{TEXT_COLUMNS}: (" + " ".join(text_terms(terms, prefix_last)) + ")")
    facets: list[str] = []
    if filters.subgenre:
        facets.append(tag_token(filters.subgenre))
    if filters.country:
        facets.append("c" + filters.country.casefold())
    if filters.format:
        facets.append(format_token(filters.format))
    if filters.shared_by is not None:
        facets.append(f"u{filters.shared_by}")
    if filters.year_from is not None or filters.year_to is not None:
        years = year_tokens(filters.year_from, filters.year_to, lowest_year, highest_year)
        facets.append("(" + (" OR ".join(years) if years else "y0") + ")")
    if facets:
        parts.append("facets: (" + " AND ".join(facets) + ")")
    for column, value in (("label", filters.label), ("city", filters.city)):
        phrase = _phrase(value or "")
        if phrase:
            parts.append(f"{column}: {phrase}")
    return " AND ".join(parts) or None


def decade_token(decade: int) -> str:
    return f"d{decade - decade % 10}"


def describe_total(total: int, capped: bool) -> str:
    return f"{RANK_WINDOW:,}+" if capped else f"{total:,}"
