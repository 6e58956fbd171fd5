"""Picks, one at a time: share, vote, second, edit, remove and restore, link lineage.

Searching and browsing the archive is ``bot.services.archive_search``; its upkeep (dedupe keys,
the daily purge) is ``bot.services.archive_upkeep``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.db import Database
from bot.db.repos import lineage as lineage_repo
from bot.db.repos import outbox as outbox_repo
from bot.db.repos import parties as parties_repo
from bot.db.repos import picks as picks_repo
from bot.db.repos import reactions as reactions_repo
from bot.db.repos import swaps as swaps_repo
from bot.domain.cards import VOTE_KINDS, card_key, card_marker, pick_of_card_key
from bot.domain.outbox import OutboxEntry, stamp
from bot.domain.parties import Party
from bot.domain.picks import (
    RELATIONS,
    RESTORE_DAYS,
    LineageEdge,
    Pick,
    PickFields,
    Second,
    build_draft,
    clean_text,
)
from bot.domain.timeutil import to_epoch
from bot.errors import UserError

RESTORE_WINDOW = timedelta(days=RESTORE_DAYS)


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
    parties: list[Party] = field(default_factory=list)  # held, running or coming up, newest first
    #: Reviews from swap rounds: (reviewer id or None, rating, favourite track, thoughts, theme)
    reviews: list[tuple[int | None, int, str | None, str | None, str]] = field(default_factory=list)


async def share_pick(
    db: Database,
    *,
    guild_id: int,
    user_id: int,
    channel_id: int,
    now: datetime,
    given: PickFields,
) -> ShareResult:
    """Validate and store a pick, unless the server already has it (same link, or same artist and
    title ignoring case, spacing, punctuation and accents).

    The card's outbox entry (``card_key``) is written in the same transaction: the caller posts
    the card as its interaction response and records it with the outbox; if the process dies
    before that is recorded, the next start finds the card in ``channel_id`` or posts it."""
    draft = build_draft(given, current_year=now.year)
    async with db.transaction() as conn:
        duplicate = await picks_repo.find_duplicate(
            conn, guild_id, draft.match_key, draft.link.key if draft.link else None
        )
        if duplicate is not None:
            return ShareResult(None, duplicate)
        pick_id = await picks_repo.insert_pick(conn, guild_id, draft, user_id, to_epoch(now))
        _, fresh = await outbox_repo.reserve_entry(
            conn, key=card_key(pick_id), kind="response", guild_id=guild_id,
            channel_id=channel_id, marker=card_marker(pick_id), now=stamp(now),
        )  # fmt: skip
        if not fresh:  # ids are never reused (migration 0008): a stale entry is a bug
            raise RuntimeError(f"pick #{pick_id} already had a card entry")
        pick = await picks_repo.get_pick(conn, guild_id, pick_id)
    assert pick is not None
    return ShareResult(pick, None)


async def attach_card_in(conn: aiosqlite.Connection, entry: OutboxEntry, message_id: int) -> None:
    """The outbox's ``on_posted`` hook for cards: remember where the pick's card is (for the
    jump link and later updates), in the transaction that records the post."""
    pick_id = pick_of_card_key(entry.key)
    if pick_id is not None and entry.channel_id is not None:
        await picks_repo.set_card(conn, pick_id, entry.channel_id, message_id)


async def pick_for_card(db: Database, guild_id: int, pick_id: int) -> Pick | None:
    """The pick a card is to be posted for, or None if it was removed or forgotten meanwhile."""
    async with db.read() as conn:
        pick = await picks_repo.get_pick(conn, guild_id, pick_id)
    return None if pick is None or pick.deleted_at is not None else pick


async def discard_unposted(
    db: Database, guild_id: int, pick_id: int, now: datetime, reason: str
) -> bool:
    """Take back a pick whose card could not be posted, so sharing it again starts afresh (a pick
    with a card is never touched), and close its card's outbox entry with ``reason``."""
    async with db.transaction() as conn:
        entry = await outbox_repo.get_entry(conn, card_key(pick_id))
        if entry is not None:
            await outbox_repo.close_entry(conn, entry.id, "dropped", reason, stamp(now))
        return await picks_repo.delete_unposted(conn, guild_id, pick_id)


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
        is_set = await reactions_repo.toggle_vote(conn, pick_id, kind, user_id, to_epoch(now))
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
        await reactions_repo.add_second(conn, pick_id, user_id, clean_note, to_epoch(now))
    return pick


async def pick_details(db: Database, guild_id: int, pick_id: int) -> PickDetails:
    async with db.read() as conn:
        pick = _live(await picks_repo.get_pick(conn, guild_id, pick_id), pick_id)
        seconds = await reactions_repo.list_seconds(conn, pick_id)
        grew_from, grew_into = await lineage_repo.lineage(conn, pick_id)
        ids = {e.from_id for e in grew_from + grew_into} | {e.to_id for e in grew_from + grew_into}
        related = await picks_repo.get_picks(conn, guild_id, sorted(ids - {pick_id}))
        parties = await parties_repo.of_pick(conn, guild_id, pick_id)
        reviews = [
            (r["reviewer_id"], r["rating"], r["favourite_track"], r["thoughts"], r["theme"])
            for r in await swaps_repo.reviews_of_pick(conn, pick_id)
        ]
    return PickDetails(pick, seconds, grew_from, grew_into, related, parties, reviews)


def can_manage(pick: Pick, user_id: int, is_moderator: bool) -> bool:
    return is_moderator or (pick.shared_by is not None and pick.shared_by == user_id)


def _require_manager(pick: Pick, user_id: int, is_moderator: bool, action: str) -> Pick:
    if not can_manage(pick, user_id, is_moderator):
        raise UserError(f"Only the member who shared this pick, or a moderator, can {action}.")
    return pick


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
    """Apply ``changes`` (some of ``PickFields``' fields) over the entry as it is now, so a
    form that stayed open never reverts someone else's edit of the fields it does not show."""
    async with db.transaction() as conn:
        pick = _live(await picks_repo.get_pick(conn, guild_id, pick_id), pick_id)
        _require_manager(pick, user_id, is_moderator, "edit it")
        draft = build_draft(PickFields.of(pick).changed(changes), current_year=now.year)
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
                f"Entry #{pick_id} was removed more than {RESTORE_DAYS} days ago and cannot be restored."
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
        if relation in await lineage_repo.existing_link(conn, from_id, to_id):
            raise UserError(f"#{from_id} and #{to_id} are already linked as {relation}.")
        await lineage_repo.insert_link(
            conn, guild_id, from_id, to_id, relation, user_id, to_epoch(now)
        )
    return source, target
