"""Archive search: turn what a member typed into a safe FTS5 expression, and plan the query.

Member text never reaches FTS5 syntax: it is split into words, and each word becomes a quoted
term, so ``AND``, quotes, colons or ``NEAR`` in a query are just words. The last word, the one
still being typed, matches as a prefix (``"yout"*``) once it has ``MIN_PREFIX`` letters and is
not already a whole word of the index: a one- or two-letter prefix expands to thousands of index
terms, which is slow and finds noise.
Filters become column-scoped tokens (see the ``facets`` column in migrations 0002 and 0003; a
year range rides on the subgenre, country and format tokens, see ``match_parts``), so a search
is one FTS5 query, ANDed with its server's ``scope`` token when the server is a small part of
the database (``use_scope_token``). How that query is read (newest first, or oldest first when
its parts are likely to combine rarely, with a year range of words-only searches then checked
on the rows) is planned in ``bot.services.picks``; the limits are ``FEW_MATCHES`` and
``RARE_MATCHES``.

A search reads the ``RANK_WINDOW`` newest matches (an early-stopping index scan), shows the
total up to that window and "1,000+" beyond it, and ranks the window with BM25 in
``bot.domain.ranking`` (FTS5's own ``bm25()`` counts every match of every word first).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain import ranking
from bot.domain.picks import LETTER_FOLDS, normalize_tag
from bot.domain.ranking import RankTerm

SUGGESTION_CUTOFF = 0.75  # difflib ratio: "synht"/"synth" 0.8, "desrt"/"desert" 0.91
SUGGESTIONS_PER_KIND = 3
RANK_WINDOW = 1000
PAGE_SIZE = 10
MAX_TERMS = 8
MIN_PREFIX = 3
TEXT_COLUMNS = "{" + " ".join(ranking.TEXT_COLUMNS) + "}"  # an FTS5 column filter
_WORD = re.compile(r"[^\W_]+")  # letters and digits: unicode61 splits words at "_" too


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
    def is_empty(self) -> bool:
        return not any(
            value is not None and value != ""
            for value in (
                self.query, self.subgenre, self.label, self.country, self.city, self.format,
                self.year_from, self.year_to, self.shared_by,
            )
        )  # fmt: skip


def words(text: str | None) -> list[str]:
    """The searchable words of ``text``, at most MAX_TERMS, lower-cased, with the letters FTS5
    does not fold (ø, æ, ß …) folded as the index's view folds them (``LETTER_FOLDS``,
    migration 0003). FTS5 folds case and accents itself."""
    if not text:
        return []
    return [w.lower().translate(LETTER_FOLDS) for w in _WORD.findall(text)][:MAX_TERMS]


def _phrase(text: str) -> str | None:
    found = words(text)
    return '"' + " ".join(found) + '"' if found else None


def text_terms(terms: list[str], prefix_last: bool = True) -> list[str]:
    """Quoted FTS5 terms; the last one a prefix if it is long enough and ``prefix_last``."""
    quoted = [f'"{t}"' for t in terms]
    if terms and prefix_last and len(terms[-1]) >= MIN_PREFIX:
        quoted[-1] += "*"
    return quoted


def rank_terms(filters: SearchFilters, prefix_last: bool = True) -> tuple[RankTerm, ...]:
    """The query's words as the ranking sees them: the same prefix rule as ``text_terms``."""
    terms = words(filters.query)
    return tuple(
        RankTerm(t, prefix=prefix_last and i == len(terms) - 1 and len(t) >= MIN_PREFIX)
        for i, t in enumerate(terms)
    )


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
    start, end = _clamped(year_from, year_to, lowest, highest)
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


# Measured costs at a million picks (bench/archive_bench.py), for planning a search.
SCOPE_SCAN_NS_PER_PICK = 15  # FTS5 stepping through the scope token's doclist, per pick
ROW_CHECK_NS_PER_PICK = 400  # reading a matched pick's row to check its server, per pick
# A search that ANDs several parts can be rare although each part is common, and then FTS5
# reads every doclist to the end whichever way it is asked: forwards, that is a third cheaper.
# So when the parts' sampled shares (``expected_matches``, from ``PART_SAMPLE`` newest matches
# each) promise fewer than ``FEW_MATCHES``, the search reads its oldest matches forwards first,
# up to that many (see bot.services.picks._search_window). A guess that was too low costs that
# many matches read forwards, then the newest are read backwards as usual.
PART_SAMPLE = 256
FEW_MATCHES = 1500
# A year range of several tokens with no filter to ride on is left out of the forward read and
# checked on the rows; the read is worth taking further then, because the alternative, an OR
# of year and decade doclists in the expression, costs more.
RARE_MATCHES = 8192


def use_scope_token(guild_picks: int, total_picks: int, window: int = RANK_WINDOW + 1) -> bool:
    """Whether to AND a search with its server's ``scope`` token, or check the server per row.

    With the token, a rare combination makes FTS5 step through the token's whole doclist, as
    long as the server's archive (15 ms at a million picks). Without it, each match from
    another server is read and dropped; when the query is common that is about ``window``
    times the other servers' share of matches. The cheaper worst case wins: a small server in
    a big database keeps the token, a server that is most of the database does not.
    """
    others = max(0, total_picks - guild_picks)
    if guild_picks <= 0 or others == 0:
        return others > 0
    with_token = SCOPE_SCAN_NS_PER_PICK * guild_picks
    per_row = ROW_CHECK_NS_PER_PICK * window * others / guild_picks
    return with_token <= per_row


def build_match(
    guild_id: int,
    filters: SearchFilters,
    *,
    lowest_year: int,
    highest_year: int,
    scoped: bool = True,
    prefix_last: bool = True,
    include_years: bool = True,
) -> str | None:
    """The FTS5 MATCH expression for ``filters`` in ``guild_id``, or None when there is nothing
    to match (an unscoped search with no words and no filters: a plain listing).

    ``prefix_last=False`` matches the last word exactly: the service does that when the word is
    already a whole indexed term, because a prefix of a common word costs a full doclist merge
    where the exact word stops after the first page. ``include_years=False`` leaves the year
    range out, for the caller to check on the rows."""
    parts = [f"scope:g{guild_id}"] if scoped else []
    parts += match_parts(
        filters, lowest_year=lowest_year, highest_year=highest_year,
        prefix_last=prefix_last, include_years=include_years,
    )  # fmt: skip
    return " AND ".join(parts) or None


def year_carriers(filters: SearchFilters) -> list[str]:
    """The filter tokens the index also holds paired with each pick's year and decade
    (``y1983cfr``, ``d1980tcoldwave``: migration 0003), so a year range rides on them."""
    tokens: list[str] = []
    if filters.subgenre:
        tokens.append(tag_token(filters.subgenre))
    if filters.country:
        tokens.append("c" + filters.country.casefold())
    if filters.format:
        tokens.append(format_token(filters.format))
    return tokens


def match_parts(
    filters: SearchFilters,
    *,
    lowest_year: int,
    highest_year: int,
    prefix_last: bool = True,
    include_years: bool = True,
) -> list[str]:
    """The FTS5 expressions ``build_match`` ANDs together, the server's scope aside: one per
    word, per filter, for the year range and for each of label and city (a phrase).

    A year range is an OR of year and decade tokens. With a subgenre, country or format, it is
    folded into each of them instead (``(y1979cfr OR d1980cfr)``): France-in-the-80s is a short
    doclist, where France and the 80s are two long ones that FTS5 would intersect in full."""
    parts = [f"{TEXT_COLUMNS}: {term}" for term in text_terms(words(filters.query), prefix_last)]
    facets = year_carriers(filters)
    if include_years and (filters.year_from is not None or filters.year_to is not None):
        years = year_tokens(filters.year_from, filters.year_to, lowest_year, highest_year)
        if not years:  # the range holds no year a pick can have
            facets.append("y0")
        elif facets:  # each filter paired with the years: a few short doclists, not two long
            facets = [_any_of([year + facet for year in years]) for facet in facets]
        else:
            facets.append(_any_of(years))
    if filters.shared_by is not None:
        facets.append(f"u{filters.shared_by}")
    parts += [f"facets: {facet}" for facet in facets]
    for column, value in (("label", filters.label), ("city", filters.city)):
        phrase = _phrase(value or "")
        if phrase:
            parts.append(f"{column}: {phrase}")
    return parts


def _any_of(tokens: list[str]) -> str:
    return tokens[0] if len(tokens) == 1 else "(" + " OR ".join(tokens) + ")"


def expected_matches(
    samples: Sequence[tuple[int, int]], sample_size: int, bounds: tuple[int, int]
) -> float:
    """About how many ids in ``bounds`` match every part of a search, were the parts independent.

    ``samples`` holds, per part, ``(matches, lowest id)`` over its ``sample_size`` newest
    matches in ``bounds``; a part's share of the range is read off the span its sample covers
    (exact when it has fewer matches than that). Parts that go together (a Malian city and
    Mali) make the guess low, which costs little: see ``FEW_MATCHES``."""
    first, last = bounds
    size = max(1, last - first + 1)
    expected = float(size)
    for matches, lowest in samples:
        span = max(1, last - lowest + 1) if matches >= sample_size else size
        expected *= min(1.0, matches / span)
    return expected


def year_bounds(filters: SearchFilters, lowest: int, highest: int) -> tuple[int, int] | None:
    """The year range asked for, open ends filled in and clamped to what can be stored (as
    ``year_tokens`` clamps it); None when no year was given."""
    if filters.year_from is None and filters.year_to is None:
        return None
    return _clamped(filters.year_from, filters.year_to, lowest, highest)


def _clamped(
    year_from: int | None, year_to: int | None, lowest: int, highest: int
) -> tuple[int, int]:
    return (
        lowest if year_from is None else max(year_from, lowest),
        highest if year_to is None else min(year_to, highest),
    )


def describe_total(total: int, capped: bool) -> str:
    return f"{RANK_WINDOW:,}+" if capped else f"{total:,}"


def _nearest(typed: set[str], candidates: Mapping[str, str]) -> list[str]:
    """The shown forms of the candidates (folded form → shown form) closest to what was typed,
    nearest first; ties keep the candidates' order (most used first).

    A candidate's score is the best ratio between a typed spelling and the candidate or one of
    its words (``desrt`` is close to the ``desert`` of ``desert-blues``). Each typed spelling is
    difflib's second sequence, which it indexes once; each distinct word is scored once (every
    label ending in "records" shares that word); the cheap upper bounds rule out most pairs
    before the real comparison, as in ``difflib.get_close_matches``."""
    matchers = [difflib.SequenceMatcher(None, b=spelling, autojunk=False) for spelling in typed]
    scores: dict[str, float] = {}

    def score(form: str) -> float:
        if form not in scores:
            best = 0.0
            for matcher in matchers:
                matcher.set_seq1(form)
                bar = max(best, SUGGESTION_CUTOFF)
                if matcher.real_quick_ratio() >= bar and matcher.quick_ratio() >= bar:
                    best = max(best, matcher.ratio())
            scores[form] = best
        return scores[form]

    scored = []
    for folded, shown in candidates.items():
        words_of = (part for part in re.split(r"[\s-]+", folded) if len(part) >= MIN_PREFIX)
        best = max([score(folded), *(score(part) for part in words_of)])
        if best >= SUGGESTION_CUTOFF:
            scored.append((best, shown))
    scored.sort(key=lambda pair: -pair[0])
    return [shown for _, shown in scored][:SUGGESTIONS_PER_KIND]


def suggest_alternatives(
    filters: SearchFilters, tags: Sequence[str], labels: Sequence[str]
) -> list[str]:
    """For a search that found nothing: the server's subgenres and labels closest to what was
    typed (``tags`` and ``labels`` most used first), as "subgenre `x`" and "label `y`"."""
    query_words = [w for w in words(filters.query) if len(w) >= MIN_PREFIX]
    tag_typed = {
        *query_words,
        normalize_tag(filters.query or ""),
        normalize_tag(filters.subgenre or ""),
    }
    label_words = words(filters.label)
    label_typed = {
        *query_words,
        *label_words,
        " ".join(words(filters.query)),
        " ".join(label_words),
    }
    found_tags = _nearest(tag_typed - {""}, {tag: tag for tag in tags})
    by_spelling: dict[str, str] = {}
    for label in labels:  # one entry per spelling, shown as the most used one writes it
        by_spelling.setdefault(" ".join(words(label)), label.replace("`", "'"))
    found_labels = _nearest(label_typed - {""}, by_spelling)
    return [f"subgenre `{tag}`" for tag in found_tags] + [
        f"label `{label}`" for label in found_labels
    ]
