"""Digging through the archive: search (the planner over the full-text index), random picks,
and what the autocompletes and stats read.

Why the plans look as they do is explained in ``bot.domain.search``; the SQL is in
``bot.db.repos.archive_search``. This is one cohesive planner, kept whole rather than split
below ~400 lines: its steps share ``_SearchPlan`` and only make sense read together."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.db import Database
from bot.db.repos import archive_search as search_repo
from bot.db.repos import archive_terms as terms_repo
from bot.db.repos import picks as picks_repo
from bot.domain.picks import (
    MIN_YEAR,
    Pick,
    clean_text,
    match_countries,
    normalize_format,
    normalize_tag,
    resolve_country,
)
from bot.domain.ranking import (
    EMPTY,
    Candidates,
    RankTerm,
    bm25_order,
    estimate_document_frequency,
    idf,
)
from bot.domain.search import (
    FEW_MATCHES,
    PAGE_SIZE,
    PART_SAMPLE,
    RANK_WINDOW,
    RARE_MATCHES,
    TEXT_COLUMNS,
    SearchFilters,
    build_match,
    expected_matches,
    last_word,
    match_parts,
    rank_terms,
    suggest_alternatives,
    use_scope_token,
    words,
    year_bounds,
    year_carriers,
    year_tokens,
)
from bot.errors import UserError


@dataclass(frozen=True, slots=True)
class SearchPage:
    results: list[Pick]
    total: int
    capped: bool
    page: int
    pages: int
    suggestions: list[str]


async def search_archive(
    db: Database, guild_id: int, filters: SearchFilters, page: int, now: datetime
) -> SearchPage:
    """One page (``PAGE_SIZE``) of results: best first for a text query, else newest first.

    The ``RANK_WINDOW`` newest matches are read once (the total is their count, "1,000+" past
    it), ranked with BM25 when there are words to rank by, and the page is cut from them."""
    normalized = normalize_filters(filters, now)
    async with db.read() as conn:
        plan = await _plan_search(conn, guild_id, normalized, now)
        window = await _search_window(conn, guild_id, plan)
        if not window and plan.whole_last_word:
            # The last word is a whole word somewhere in the database, but no match here holds
            # it: what was typed is the start of a longer word after all.
            plan = await _plan_search(conn, guild_id, normalized, now, prefix_last=True)
            window = await _search_window(conn, guild_id, plan)
        capped = len(window) > RANK_WINDOW
        window = window.head(RANK_WINDOW)
        if plan.terms and len(window) > 1:
            weights = await _idfs(conn, plan)
            ordered = bm25_order(window, plan.terms, weights)
        else:
            ordered = list(window.ids)
        pages = max(1, -(-len(ordered) // PAGE_SIZE))
        page = min(max(page, 1), pages)
        shown = ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        found = await picks_repo.get_picks(conn, guild_id, shown)
        results = [found[pick_id] for pick_id in shown if pick_id in found]
        suggestions: list[str] = []
        if not ordered:
            tags = [tag for tag, _ in await terms_repo.top_tags(conn, guild_id, "", 500)]
            labels = await terms_repo.top_labels(conn, guild_id, 500)
            suggestions = suggest_alternatives(normalized, tags, labels)
    return SearchPage(results, len(ordered), capped, page, pages, suggestions)


@dataclass(frozen=True, slots=True)
class _SearchPlan:
    match: str | None  # the whole search as one FTS5 expression; None lists the server's picks
    forwards: str | None  # read first, oldest matches forwards (see _search_window); or None
    forwards_limit: int
    years: tuple[int, int] | None  # the year range left out of ``forwards``, checked on rows
    terms: tuple[RankTerm, ...]  # what the window is ranked by; empty: newest first
    context: search_repo.SearchContext
    whole_last_word: bool  # the last word could be a prefix, but is matched as a whole word


async def _plan_search(
    conn: aiosqlite.Connection,
    guild_id: int,
    filters: SearchFilters,
    now: datetime,
    prefix_last: bool | None = None,
) -> _SearchPlan:
    """Choose the FTS5 expressions for a search (see bot.domain.search for the why). The last
    word is a prefix unless it is a whole indexed word, or ``prefix_last`` says otherwise."""
    word = last_word(filters)
    known = None if word is None or prefix_last else f'{TEXT_COLUMNS}: "{word}"'
    context = await search_repo.search_context(conn, guild_id, known)
    if prefix_last is None:
        prefix_last = not context.word_known
    whole = word is not None and not prefix_last
    scope = (
        f"scope:g{guild_id} AND "
        if use_scope_token(context.guild_picks, context.total_picks)
        else ""
    )
    lowest, highest = MIN_YEAR, now.year + 1

    def parts(with_years: bool) -> list[str]:
        return match_parts(
            filters, lowest_year=lowest, highest_year=highest, prefix_last=prefix_last,
            include_years=with_years,
        )  # fmt: skip

    def expression(anded: list[str]) -> str | None:
        return scope + " AND ".join(anded) if anded else None

    every_part = parts(with_years=True)
    match = expression(every_part)
    terms = rank_terms(filters, prefix_last)
    years = year_bounds(filters, lowest, highest)
    # A range that is one token (a whole decade, a single year) is as cheap as any filter in
    # the expression, and one paired with the filters is cheaper; only an OR of several plain
    # year tokens is worth leaving out and checking on the rows.
    if (
        years is not None
        and not year_carriers(filters)
        and len(year_tokens(*years, lowest, highest)) > 1
    ):
        rest = expression(parts(with_years=False))
        if rest is not None:
            return _SearchPlan(match, rest, RARE_MATCHES, years, terms, context, whole)
    if len(every_part) > 1 and context.bounds is not None:
        shares = await search_repo.samples(conn, every_part, PART_SAMPLE, context.bounds)
        if expected_matches(shares, PART_SAMPLE, context.bounds) < FEW_MATCHES:
            return _SearchPlan(match, match, FEW_MATCHES, None, terms, context, whole)
    return _SearchPlan(match, None, 0, None, terms, context, whole)


async def _search_window(
    conn: aiosqlite.Connection, guild_id: int, plan: _SearchPlan
) -> Candidates:
    """The ``RANK_WINDOW + 1`` newest matches, newest first.

    Most searches are read newest first, and the LIMIT stops the read early. Several ANDed
    parts can each be common while their combination is rare, and then FTS5 reads every
    doclist to the end however it is asked; forwards, that is a third cheaper. So when the
    plan expects that, the search first reads its oldest matches forwards, up to a limit:

    * fewer than the limit: every match is in hand, and the window is their newest;
    * otherwise the newest are read backwards, down to where the forward read stopped, and
      the forward read fills the window if they fall short. Nothing is read twice.

    A year range with no filter to ride on (words only) is an OR of year and decade tokens,
    and when the rest is rare FTS5 merges those big doclists in full; so the forward read
    leaves the range out and the rows it found are checked for the year instead (the backward
    read keeps it in the expression).
    """
    bounds = plan.context.bounds
    if bounds is None:
        return EMPTY
    limit, with_text = RANK_WINDOW + 1, bool(plan.terms)
    if plan.forwards is None:
        return await search_repo.search_window(
            conn, guild_id, plan.match, bounds, limit=limit, with_text=with_text
        )
    oldest = await search_repo.oldest_matches(conn, plan.forwards, bounds, plan.forwards_limit)
    newer = EMPTY
    if len(oldest) == plan.forwards_limit:
        above = (oldest[-1] + 1 if oldest else bounds[0], bounds[1])
        newer = await search_repo.search_window(
            conn, guild_id, plan.match, above, limit=limit, with_text=with_text
        )
    if len(newer) >= limit:
        return newer
    older = await search_repo.window_of_ids(
        conn, guild_id, oldest, plan.years, limit=limit - len(newer), with_text=with_text
    )
    return newer.then(older)


WORD_SAMPLE_SIZE = 1000


async def _idfs(conn: aiosqlite.Connection, plan: _SearchPlan) -> list[float]:
    """Each word's inverse document frequency, from a sample of its newest matches. One word
    alone needs none: every candidate holds it, so its weight cannot change the order."""
    if len(plan.terms) < 2:
        return [1.0] * len(plan.terms)
    documents = max(plan.context.total_picks, 1)
    phrases = [f'{TEXT_COLUMNS}: "{t.word}"' + ("*" if t.prefix else "") for t in plan.terms]
    found = await search_repo.samples(conn, phrases, WORD_SAMPLE_SIZE)
    return [
        idf(
            estimate_document_frequency(
                sampled, WORD_SAMPLE_SIZE, oldest, plan.context.newest_id, documents
            ),
            documents,
        )
        for sampled, oldest in found
    ]


def normalize_filters(filters: SearchFilters, now: datetime) -> SearchFilters:
    query = clean_text(filters.query, "query") if filters.query else None
    if (
        filters.year_from is not None
        and filters.year_to is not None
        and filters.year_from > filters.year_to
    ):
        raise UserError("**year_from** must not be after **year_to**.")
    for name, value in (("query", query), ("label", filters.label), ("city", filters.city)):
        if value and value.strip() and not words(value):
            raise UserError(
                f"**{name}**: `{value.strip()[:40]}` has no letters or digits to search for."
            )
    subgenre = normalize_tag(filters.subgenre) if filters.subgenre else None
    if filters.subgenre and filters.subgenre.strip() and not subgenre:
        raise UserError(f"**subgenre**: `{filters.subgenre.strip()[:40]}` is not a subgenre name.")
    return SearchFilters(
        query=query,
        subgenre=subgenre or None,
        label=filters.label.strip() or None if filters.label else None,
        country=resolve_country(filters.country),
        city=filters.city.strip() or None if filters.city else None,
        format=normalize_format(filters.format),
        year_from=filters.year_from,
        year_to=filters.year_to,
        shared_by=filters.shared_by,
    )


async def random_unheard(
    db: Database,
    guild_id: int,
    user_id: int,
    now: datetime,
    *,
    subgenre: str | None = None,
    country: str | None = None,
    decade: int | None = None,
    rng: random.Random | None = None,
) -> Pick | None:
    """A uniformly-placed random pick the member has not marked heard, or None if none is left."""
    if decade is not None and not MIN_YEAR <= decade <= now.year:
        raise UserError(f"**decade** must be a year from {MIN_YEAR} to {now.year}, such as 1980.")
    first_year = None if decade is None else decade - decade % 10
    filters = normalize_filters(
        SearchFilters(
            subgenre=subgenre, country=country, year_from=first_year,
            year_to=None if first_year is None else first_year + 9,
        ),
        now,
    )  # fmt: skip
    chooser = rng or random.SystemRandom()
    async with db.read() as conn:
        match = (
            None
            if filters.is_empty
            else build_match(guild_id, filters, lowest_year=MIN_YEAR, highest_year=now.year + 1)
        )
        bounds = await search_repo.id_range(conn, guild_id)
        if bounds is None:
            return None
        pivot = chooser.randint(*bounds)
        found = await search_repo.random_unheard(conn, guild_id, match, pivot, user_id)
        if found is None:  # nothing unheard at or below the pivot: wrap around from the top
            found = await search_repo.random_unheard(conn, guild_id, match, bounds[1], user_id)
        if found is None:
            return None
        return await picks_repo.get_pick(conn, guild_id, found)


async def tag_suggestions(
    db: Database, guild_id: int, typed: str, limit: int = 25
) -> list[tuple[str, int]]:
    """The server's existing subgenres containing the one tag typed, most used first."""
    needle = normalize_tag(typed)
    async with db.read() as conn:
        return await terms_repo.top_tags(conn, guild_id, needle, limit)


async def country_choices(
    db: Database, guild_id: int, typed: str, limit: int = 25
) -> list[tuple[str, str]]:
    """``(code, name)`` for the country autocomplete: the server's own countries first."""
    async with db.read() as conn:
        used = await terms_repo.country_uses(conn, guild_id)
    return match_countries(typed, limit, used)


async def stats(
    db: Database, guild_id: int, limit: int = 10
) -> dict[str, list[tuple[object, int]]]:
    async with db.read() as conn:
        return dict(await terms_repo.stats(conn, guild_id, limit))
