"""Picks and the scene archive: share, vote, second, edit, remove/restore, lineage, search, random."""

from __future__ import annotations

import difflib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.db import Database
from bot.db.repos import picks as picks_repo
from bot.domain.picks import (
    RELATIONS,
    LineageEdge,
    Pick,
    Second,
    build_draft,
    clean_text,
    normalize_format,
    normalize_tag,
    resolve_country,
)
from bot.domain.search import (
    PAGE_SIZE,
    RANK_WINDOW,
    SearchFilters,
    build_match,
    decade_token,
    last_word,
    use_scope_token,
    words,
)
from bot.domain.timeutil import to_epoch
from bot.errors import UserError

RESTORE_WINDOW = timedelta(days=30)
VOTE_KINDS = ("heard", "loved")


@dataclass(frozen=True, slots=True)
class ShareResult:
    """Exactly one of ``pick`` (newly stored) and ``duplicate`` (already there) is set."""

    pick: Pick | None
    duplicate: Pick | None


@dataclass(frozen=True, slots=True)
class PickDetails:
    pick: Pick
    seconds: list[Second]
    grew_from: list[LineageEdge]
    grew_into: list[LineageEdge]
    related: dict[int, Pick]


@dataclass(frozen=True, slots=True)
class SearchPage:
    results: list[Pick]
    total: int
    capped: bool
    page: int
    pages: int
    suggestions: list[str]


async def share_pick(
    db: Database,
    *,
    guild_id: int,
    user_id: int,
    now: datetime,
    artist: str,
    title: str,
    link: str | None = None,
    subgenres: str | None = None,
    label: str | None = None,
    year: int | None = None,
    country: str | None = None,
    city: str | None = None,
    format: str | None = None,
    note: str | None = None,
) -> ShareResult:
    """Validate and store a pick, unless the server already has it (same link, or same artist and
    title ignoring case, spacing, punctuation and accents)."""
    draft = build_draft(
        artist=artist, title=title, current_year=now.year, link=link, subgenres=subgenres,
        label=label, year=year, country=country, city=city, format=format, note=note,
    )  # fmt: skip
    async with db.transaction() as conn:
        duplicate = await picks_repo.find_duplicate(
            conn, guild_id, draft.match_key, draft.link.key if draft.link else None
        )
        if duplicate is not None:
            return ShareResult(None, duplicate)
        pick_id = await picks_repo.insert_pick(conn, guild_id, draft, user_id, to_epoch(now))
        pick = await picks_repo.get_pick(conn, guild_id, pick_id)
    assert pick is not None
    return ShareResult(pick, None)


async def attach_card(db: Database, pick_id: int, channel_id: int, message_id: int) -> None:
    """Remember where the pick's card was posted (for the jump link and later updates)."""
    async with db.transaction() as conn:
        await picks_repo.set_card(conn, pick_id, channel_id, message_id)


async def get_live_pick(db: Database, guild_id: int, pick_id: int) -> Pick:
    async with db.read() as conn:
        pick = await picks_repo.get_pick(conn, guild_id, pick_id)
    return _live(pick, pick_id)


def _live(pick: Pick | None, pick_id: int) -> Pick:
    if pick is None:
        raise UserError(f"There is no entry #{pick_id} in this server's archive.")
    if pick.deleted_at is not None:
        raise UserError(f"Entry #{pick_id} was removed from the archive.")
    return pick


async def toggle_vote(
    db: Database, guild_id: int, pick_id: int, kind: str, user_id: int, now: datetime
) -> tuple[Pick, bool]:
    """Flip the member's ``heard``/``loved`` mark; returns the updated pick and the new state."""
    if kind not in VOTE_KINDS:
        raise ValueError(kind)
    async with db.transaction() as conn:
        _live(await picks_repo.get_pick(conn, guild_id, pick_id), pick_id)
        is_set = await picks_repo.toggle_vote(conn, pick_id, kind, user_id, to_epoch(now))
        pick = await picks_repo.get_pick(conn, guild_id, pick_id)
    assert pick is not None
    return pick, is_set


async def second_pick(
    db: Database, guild_id: int, pick_id: int, user_id: int, note: str | None, now: datetime
) -> Pick:
    """Add the member's voice (and note) to an existing entry."""
    clean_note = clean_text(note, "note")
    async with db.transaction() as conn:
        pick = _live(await picks_repo.get_pick(conn, guild_id, pick_id), pick_id)
        if pick.shared_by == user_id:
            raise UserError("That's your own pick: you can edit it with `/archive edit` instead.")
        await picks_repo.add_second(conn, pick_id, user_id, clean_note, to_epoch(now))
    return pick


async def pick_details(db: Database, guild_id: int, pick_id: int) -> PickDetails:
    async with db.read() as conn:
        pick = _live(await picks_repo.get_pick(conn, guild_id, pick_id), pick_id)
        seconds = await picks_repo.list_seconds(conn, pick_id)
        grew_from, grew_into = await picks_repo.lineage(conn, pick_id)
        ids = {e.from_id for e in grew_from + grew_into} | {e.to_id for e in grew_from + grew_into}
        related = await picks_repo.get_picks(conn, guild_id, sorted(ids - {pick_id}))
    return PickDetails(pick, seconds, grew_from, grew_into, related)


def can_manage(pick: Pick, user_id: int, is_moderator: bool) -> bool:
    return is_moderator or (pick.shared_by is not None and pick.shared_by == user_id)


def _require_manager(pick: Pick, user_id: int, is_moderator: bool, action: str) -> Pick:
    if not can_manage(pick, user_id, is_moderator):
        raise UserError(f"Only the member who shared this pick, or a moderator, can {action}.")
    return pick


EDITABLE_FIELDS = (
    "artist", "title", "link", "subgenres", "label", "year", "country", "city", "format", "note",
)  # fmt: skip


def current_fields(pick: Pick) -> dict[str, Any]:
    """The pick's fields in the form ``build_draft`` takes them."""
    return {
        "artist": pick.artist, "title": pick.title, "link": pick.link_url,
        "subgenres": ", ".join(pick.subgenres), "label": pick.label, "year": pick.year,
        "country": pick.country, "city": pick.city, "format": pick.format, "note": pick.note,
    }  # fmt: skip


async def edit_pick(
    db: Database,
    *,
    guild_id: int,
    pick_id: int,
    user_id: int,
    is_moderator: bool,
    now: datetime,
    changes: Mapping[str, Any],
) -> Pick:
    """Apply ``changes`` (a subset of ``EDITABLE_FIELDS``) over the entry as it is now, so a
    form that stayed open never reverts someone else's edit of the fields it does not show."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    async with db.transaction() as conn:
        pick = _live(await picks_repo.get_pick(conn, guild_id, pick_id), pick_id)
        _require_manager(pick, user_id, is_moderator, "edit it")
        draft = build_draft(current_year=now.year, **(current_fields(pick) | dict(changes)))
        clash = await picks_repo.find_duplicate(
            conn,
            guild_id,
            draft.match_key,
            draft.link.key if draft.link else None,
            other_than=pick_id,
        )
        if clash is not None:
            raise UserError(
                f"That would make it a duplicate of entry #{clash.id} "
                f"({clash.artist} — {clash.title}); nothing was changed."
            )
        await picks_repo.update_pick(conn, guild_id, pick_id, draft, user_id, to_epoch(now))
        updated = await picks_repo.get_pick(conn, guild_id, pick_id)
    assert updated is not None
    return updated


async def check_can_manage(
    db: Database, guild_id: int, pick_id: int, user_id: int, is_moderator: bool
) -> Pick:
    pick = await get_live_pick(db, guild_id, pick_id)
    return _require_manager(pick, user_id, is_moderator, "do that")


async def remove_pick(
    db: Database, guild_id: int, pick_id: int, user_id: int, is_moderator: bool, now: datetime
) -> Pick:
    async with db.transaction() as conn:
        pick = _live(await picks_repo.get_pick(conn, guild_id, pick_id), pick_id)
        _require_manager(pick, user_id, is_moderator, "remove it")
        await picks_repo.soft_delete(conn, pick_id, user_id, to_epoch(now))
    return pick


async def restore_pick(db: Database, guild_id: int, pick_id: int, now: datetime) -> Pick:
    """Moderators only (the cog checks): undo a removal within ``RESTORE_WINDOW``."""
    async with db.transaction() as conn:
        pick = await picks_repo.get_pick(conn, guild_id, pick_id)
        if pick is None:
            raise UserError(f"There is no entry #{pick_id} in this server's archive.")
        if pick.deleted_at is None:
            raise UserError(f"Entry #{pick_id} is not removed.")
        if pick.deleted_at < to_epoch(now - RESTORE_WINDOW):
            raise UserError(
                f"Entry #{pick_id} was removed more than 30 days ago and cannot be restored."
            )
        clash = await picks_repo.find_restore_clash(conn, pick_id)
        if clash is not None:
            raise UserError(
                f"It was shared again since as entry #{clash.id}; restoring would duplicate it."
            )
        await picks_repo.restore(conn, pick_id)
        restored = await picks_repo.get_pick(conn, guild_id, pick_id)
    assert restored is not None
    return restored


async def purge_removed(db: Database, now: datetime) -> int:
    """Delete for good what was removed more than ``RESTORE_WINDOW`` ago."""
    async with db.transaction() as conn:
        return await picks_repo.purge_removed(conn, to_epoch(now - RESTORE_WINDOW))


async def link_picks(
    db: Database,
    guild_id: int,
    from_id: int,
    to_id: int,
    relation: str,
    user_id: int,
    now: datetime,
) -> tuple[Pick, Pick]:
    if relation not in RELATIONS:
        raise UserError(f"**relation** must be one of {', '.join(RELATIONS)}.")
    if from_id == to_id:
        raise UserError("An entry cannot be linked to itself.")
    async with db.transaction() as conn:
        source = _live(await picks_repo.get_pick(conn, guild_id, from_id), from_id)
        target = _live(await picks_repo.get_pick(conn, guild_id, to_id), to_id)
        if relation in await picks_repo.existing_link(conn, from_id, to_id):
            raise UserError(f"#{from_id} and #{to_id} are already linked as {relation}.")
        await picks_repo.insert_link(
            conn, guild_id, from_id, to_id, relation, user_id, to_epoch(now)
        )
    return source, target


async def search_archive(
    db: Database, guild_id: int, filters: SearchFilters, page: int, now: datetime
) -> SearchPage:
    """One page (``PAGE_SIZE``) of results: best first for a text query, else newest first."""
    normalized = normalize_filters(filters, now)
    async with db.read() as conn:
        plan = await _plan_search(conn, guild_id, normalized, now)
        total = await picks_repo.count_matches(conn, guild_id, plan.scoped, RANK_WINDOW + 1)
        capped = total > RANK_WINDOW
        shown = min(total, RANK_WINDOW)
        if plan.ranked is not None and capped:
            shown = await picks_repo.ranked_window_size(
                conn, guild_id, plan.ranked, RANK_WINDOW, plan.fetch
            )
        pages = max(1, -(-shown // PAGE_SIZE))
        page = min(max(page, 1), pages)
        results = await picks_repo.search(
            conn,
            guild_id,
            plan.ranked if plan.ranked is not None else plan.scoped,
            ranked=plan.ranked is not None,
            window=RANK_WINDOW,
            fetch=plan.fetch,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        suggestions: list[str] = []
        if total == 0:
            tags = [tag for tag, _ in await picks_repo.top_tags(conn, guild_id, "", 500)]
            labels = await picks_repo.top_labels(conn, guild_id, 500)
            suggestions = suggest_alternatives(normalized, tags, labels)
    return SearchPage(results, shown, capped, page, pages, suggestions)


@dataclass(frozen=True, slots=True)
class _SearchPlan:
    scoped: str | None  # scoped to the server; None for a plain listing of everything
    ranked: str | None  # what bm25 ranks (scoped only for a small server); None if no words
    fetch: int  # how many newest matches of ``ranked`` hold the server's RANK_WINDOW


async def _plan_search(
    conn: aiosqlite.Connection, guild_id: int, filters: SearchFilters, now: datetime
) -> _SearchPlan:
    """Choose the FTS5 expressions for a search (see bot.domain.search for the why)."""
    word = last_word(filters)
    prefix_last = word is None or not await picks_repo.term_exists(conn, f'"{word}"')

    def expression(scoped: bool) -> str | None:
        return build_match(
            guild_id, filters, lowest_year=1900, highest_year=now.year + 1,
            scoped=scoped, prefix_last=prefix_last,
        )  # fmt: skip

    scoped = None if filters.is_empty else expression(scoped=True)
    if not filters.has_text:
        return _SearchPlan(scoped, None, RANK_WINDOW)
    mine, total = await picks_repo.archive_share(conn, guild_id)
    if use_scope_token(mine, total):
        return _SearchPlan(scoped, scoped, RANK_WINDOW)
    return _SearchPlan(
        scoped, expression(scoped=False), RANK_WINDOW * min(4, -(-total // max(mine, 1)))
    )


def normalize_filters(filters: SearchFilters, now: datetime) -> SearchFilters:
    query = clean_text(filters.query, "title") if filters.query else None
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


def suggest_alternatives(filters: SearchFilters, tags: list[str], labels: list[str]) -> list[str]:
    """Existing subgenres and labels that look like what was searched for."""
    wanted = words(filters.query) + ([filters.subgenre] if filters.subgenre else [])
    found: list[str] = []
    for word in wanted:
        found += [f"subgenre `{t}`" for t in difflib.get_close_matches(word, tags, n=3, cutoff=0.6)]
    folded_labels = {label.casefold(): label for label in labels}
    for word in [*words(filters.query), *words(filters.label)]:
        found += [
            f"label `{folded_labels[m]}`"
            for m in difflib.get_close_matches(word, list(folded_labels), n=3, cutoff=0.6)
        ]
    return list(dict.fromkeys(found))[:6]


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
    filters = normalize_filters(SearchFilters(subgenre=subgenre, country=country), now)
    if decade is not None and not 1900 <= decade <= now.year:
        raise UserError(f"**decade** must be between 1900 and {now.year - now.year % 10}.")
    chooser = rng or random.SystemRandom()
    async with db.read() as conn:
        plan = await _plan_search(conn, guild_id, filters, now)
        match = plan.scoped
        if decade is not None:
            match = f"{match or f'scope:g{guild_id}'} AND facets: {decade_token(decade)}"
        bounds = await picks_repo.id_range(conn, guild_id)
        if bounds is None:
            return None
        pivot = chooser.randint(*bounds)
        found = await picks_repo.random_unheard(conn, guild_id, match, pivot, user_id)
        if found is None:  # nothing unheard at or below the pivot: wrap around from the top
            found = await picks_repo.random_unheard(conn, guild_id, match, bounds[1], user_id)
        if found is None:
            return None
        return await picks_repo.get_pick(conn, guild_id, found)


async def tag_suggestions(
    db: Database, guild_id: int, typed: str, limit: int = 25
) -> list[tuple[str, int]]:
    """The server's existing subgenres containing what is typed, most used first."""
    needle = normalize_tag(typed.split(",")[-1]) if typed else ""
    async with db.read() as conn:
        return await picks_repo.top_tags(conn, guild_id, needle, limit)


async def stats(
    db: Database, guild_id: int, limit: int = 10
) -> dict[str, list[tuple[object, int]]]:
    async with db.read() as conn:
        return dict(await picks_repo.stats(conn, guild_id, limit))
