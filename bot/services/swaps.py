"""Swap rounds' use cases: open, join (and change), leave, pair, review, remind, reveal, cancel,
and what ``/swap status`` and ``/swap history`` show. Each is one transaction with its jobs.

Jobs (keyed by the round, so asking twice makes one):
- ``swap.sync`` puts the round card up (or brings it in line);
- ``swap.pair`` at join_until: pairs the members (``bot.domain.pairing``), and in the same
  transaction plans the assignment DMs, the reminder and the reveal;
- ``swap.notify``: a DM to each member concerned, once each (the assignments, "the round was
  cancelled"); ``swap.remind`` 24 hours before review_until, to those who have not reviewed;
- ``swap.reveal`` at review_until: the picks join the archive, the thread tells every pair.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.db import Database
from bot.db.repos import jobs as jobs_repo
from bot.db.repos import outbox as outbox_repo
from bot.db.repos import picks as picks_repo
from bot.db.repos import swaps as swaps_repo
from bot.domain.jobs import JobKind, JobSpec, RetryPolicy
from bot.domain.outbox import stamp
from bot.domain.pairing import Entrant, Pairing, pair_round
from bot.domain.picks import Pick, PickFields, build_draft, match_key
from bot.domain.swaps import (
    FAVOURITE_MAX,
    HISTORY_ROUNDS,
    MODES,
    REASON_MAX,
    REMIND_BEFORE,
    THEME_MAX,
    THOUGHTS_MAX,
    Review,
    SwapEntry,
    SwapRound,
    check_deadlines,
    check_review,
)
from bot.domain.text import member_text
from bot.domain.timeutil import to_epoch
from bot.domain.when import parse_when
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services.parties import zone_for

SYNC_BACKSTOP = timedelta(seconds=30)


# -- jobs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundRef:
    round_id: int


@dataclass(frozen=True, slots=True)
class RoundNotice:
    round_id: int
    notice: str  # assigned | cancelled | remind


_RETRY = RetryPolicy.exponential(timedelta(seconds=20), timedelta(minutes=10), retries=6)
SYNC = JobKind(
    "swap.sync",
    RoundRef,
    retry=_RETRY,
    summary="putting a swap round's card up to date",
    what_to_do="Check that I can see and post in the round's channel.",
)
PAIR = JobKind(
    "swap.pair",
    RoundRef,
    retry=_RETRY,
    summary="pairing a swap round",
    what_to_do="Check that I can post in the round's channel; cancel the round if it can't go on.",
)
NOTIFY = JobKind(
    "swap.notify",
    RoundNotice,
    retry=_RETRY,
    summary="a swap round's DMs to its members",
    what_to_do="Members can see their assignment with the round card's Show my assignment button.",
)
REVEAL = JobKind(
    "swap.reveal",
    RoundRef,
    retry=_RETRY,
    summary="a swap round's reveal",
    what_to_do="Check that I can create threads and post in the round's channel.",
)


def sync_job(round_: SwapRound, at: datetime, tag: str) -> JobSpec:
    return SYNC.spec(
        at, RoundRef(round_.id), f"swap:{round_.id}:sync:{tag}", guild_id=round_.guild_id
    )


def pair_job(round_: SwapRound) -> JobSpec:
    return PAIR.spec(
        round_.join_until, RoundRef(round_.id), f"swap:{round_.id}:pair", guild_id=round_.guild_id
    )


def notify_job(round_: SwapRound, notice: str, at: datetime) -> JobSpec:
    return NOTIFY.spec(
        at, RoundNotice(round_.id, notice), f"swap:{round_.id}:notify:{notice}",
        guild_id=round_.guild_id,
    )  # fmt: skip


def reveal_job(round_: SwapRound) -> JobSpec:
    return REVEAL.spec(
        round_.review_until, RoundRef(round_.id), f"swap:{round_.id}:reveal",
        guild_id=round_.guild_id,
    )  # fmt: skip


def card_key(round_id: int) -> str:
    return f"swap:{round_id}:card"


def join_custom_id(round_id: int) -> str:
    return f"uc:swap:join:{round_id}"


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundView:
    round: SwapRound
    joined: int
    reviewed: int


async def get_round(db: Database, round_id: int, guild_id: int | None = None) -> SwapRound:
    async with db.read() as conn:
        found = await swaps_repo.get_round(conn, round_id, guild_id)
    if found is None:
        raise UserError(f"There is no swap round #{round_id} here.")
    return found


async def round_view(db: Database, round_id: int) -> RoundView:
    async with db.read() as conn:
        return await _view(conn, round_id)


async def _view(conn: aiosqlite.Connection, round_id: int) -> RoundView:
    found = await swaps_repo.get_round(conn, round_id)
    if found is None:
        raise UserError(f"There is no swap round #{round_id} here.")
    joined = await swaps_repo.count_entries(conn, round_id)
    reviewed = len(await swaps_repo.reviewers(conn, round_id))
    return RoundView(found, joined, reviewed)


async def live_rounds(db: Database, guild_id: int) -> list[SwapRound]:
    async with db.read() as conn:
        return await swaps_repo.rounds_of_guild(conn, guild_id, live=True)


async def resolve_round(
    db: Database, guild_id: int, channel_id: int | None, round_id: int | None
) -> SwapRound:
    """The round meant: the one given, else the live one in this channel, else the server's
    only live round."""
    async with db.read() as conn:
        if round_id is not None:
            found = await swaps_repo.get_round(conn, round_id, guild_id)
            if found is None:
                raise UserError(f"There is no swap round #{round_id} here.")
            return found
        if channel_id is not None:
            here = await swaps_repo.live_in_channel(conn, channel_id)
            if here is not None and here.guild_id == guild_id:
                return here
        live = await swaps_repo.rounds_of_guild(conn, guild_id, live=True)
    if len(live) == 1:
        return live[0]
    if not live:
        raise UserError("No swap round is open here. Moderators open one with `/swap open`.")
    raise UserError("Several swap rounds are open: say which with **round**.")


# -- opening ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    round: SwapRound
    zone_source: str


async def open_round(
    db: Database,
    scheduler: Scheduler,
    *,
    guild_id: int,
    channel_id: int,
    opener_id: int,
    theme: str,
    join_until: str,
    review_until: str,
    mode: str,
    anonymous: bool,
    now: datetime,
) -> Opened:
    theme = member_text(theme, THEME_MAX, "theme", one_line=True) or ""
    if not theme:
        raise UserError(
            "**theme** is empty: give the round a theme, such as `Records from a city you've never been to`."
        )
    if mode not in MODES:
        raise UserError("**mode** is `random` or `cross-scene`.")
    zone, zone_source = await zone_for(db, guild_id, opener_id)
    joins = parse_when(join_until, zone, now, option="join_until")
    reviews = parse_when(review_until, zone, now, option="review_until")
    check_deadlines(joins, reviews)
    async with db.transaction() as conn:
        if await swaps_repo.live_in_channel(conn, channel_id) is not None:
            raise UserError(
                "This channel already has a swap round going: one at a time per channel. "
                "Open this one in another channel, or wait for the reveal."
            )
        round_id = await swaps_repo.insert_round(
            conn,
            {
                "guild_id": guild_id, "channel_id": channel_id, "opener_id": opener_id,
                "theme": theme, "join_until": to_epoch(joins.at),
                "review_until": to_epoch(reviews.at), "zone": zone, "mode": mode,
                "anonymous": int(anonymous), "now": to_epoch(now),
            },
        )  # fmt: skip
        found = await swaps_repo.get_round(conn, round_id)
        assert found is not None
        await outbox_repo.reserve_entry(
            conn, key=card_key(round_id), kind="message", guild_id=guild_id,
            channel_id=channel_id, marker=join_custom_id(round_id), now=stamp(now),
        )  # fmt: skip
        await scheduler.schedule_in(conn, sync_job(found, now + SYNC_BACKSTOP, "open"))
        await scheduler.schedule_in(conn, pair_job(found))
    return Opened(found, zone_source)


async def card_posted(db: Database, round_id: int, message_id: int, now: datetime) -> None:
    async with db.transaction() as conn:
        await swaps_repo.update_round(conn, round_id, now, card_message_id=message_id)


# -- joining ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Joined:
    entry: SwapEntry
    first_time: bool
    existing: Pick | None  # already in the archive: shared first by …


async def join(
    db: Database, *, guild_id: int, round_id: int, user_id: int, given: PickFields, now: datetime
) -> Joined:
    """Bring (or change) a member's pick for an open round. The archive's rules apply; a pick
    already in the archive is allowed (its details count where the member gave none)."""
    draft = build_draft(given, current_year=now.year)
    async with db.transaction() as conn:
        found = await _open_round(conn, guild_id, round_id, now)
        existing = await picks_repo.find_duplicate(
            conn, guild_id, draft.match_key, draft.link.key if draft.link else None
        )
        fields = {
            "artist": draft.artist,
            "title": draft.title,
            "link_url": draft.link.url if draft.link else (existing.link_url if existing else None),
            "note": draft.note,
            "country": draft.country or (existing.country if existing else None),
            "city": draft.city or (existing.city if existing else None),
            "label": draft.label or (existing.label if existing else None),
            "year": draft.year or (existing.year if existing else None),
            "format": draft.format or (existing.format if existing else None),
            "subgenres": draft.subgenres or (existing.subgenres if existing else ()),
            "existing_pick_id": existing.id if existing else None,
        }
        first = await swaps_repo.upsert_entry(conn, found.id, user_id, fields, now)
        entry = await swaps_repo.get_entry(conn, found.id, user_id)
    assert entry is not None
    return Joined(entry, first, existing)


async def _open_round(
    conn: aiosqlite.Connection, guild_id: int, round_id: int, now: datetime
) -> SwapRound:
    found = await swaps_repo.get_round(conn, round_id, guild_id)
    if found is None:
        raise UserError(f"There is no swap round #{round_id} here.")
    if found.status != "open" or now >= found.join_until:
        raise UserError(
            f"Joining this round has closed: it was paired at <t:{to_epoch(found.join_until)}:F>."
            if found.status != "cancelled"
            else "This round was cancelled."
        )
    return found


async def my_entry(db: Database, round_id: int, user_id: int) -> SwapEntry | None:
    async with db.read() as conn:
        return await swaps_repo.get_entry(conn, round_id, user_id)


async def leave(db: Database, *, guild_id: int, round_id: int, user_id: int, now: datetime) -> None:
    async with db.transaction() as conn:
        await _open_round(conn, guild_id, round_id, now)
        if not await swaps_repo.delete_entry(conn, round_id, user_id):
            raise UserError("You haven't joined this round.")


# -- pairing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paired:
    round: SwapRound
    pairing: Pairing | None  # None: fewer than two members, the round was cancelled
    dropped: int  # members who had left the server


async def members_of(db: Database, round_id: int) -> list[int]:
    async with db.read() as conn:
        return [e.user_id for e in await swaps_repo.entries(conn, round_id) if e.user_id]


async def pair(
    db: Database, scheduler: Scheduler, round_id: int, *, gone: Sequence[int], now: datetime
) -> Paired:
    """Pair the round (members in ``gone`` left the server and are dropped first), and plan
    the assignment DMs, the reminder and the reveal, in one transaction. Fewer than two members
    cancel the round. Pairing twice changes nothing."""
    async with db.transaction() as conn:
        found = await swaps_repo.get_round(conn, round_id)
        assert found is not None
        if found.status != "open":
            return Paired(found, None, 0)
        await swaps_repo.delete_entries_of(conn, round_id, list(gone))
        members = await swaps_repo.entries(conn, round_id)
        if len(members) < 2:
            await swaps_repo.update_round(
                conn, round_id, now, status="cancelled",
                cancel_reason="fewer than two members joined",
            )  # fmt: skip
            await scheduler.schedule_in(conn, sync_job(found, now, "cancelled"))
            if members:
                await scheduler.schedule_in(conn, notify_job(found, "cancelled", now))
            updated = await swaps_repo.get_round(conn, round_id)
            assert updated is not None
            return Paired(updated, None, len(gone))
        seed = random.SystemRandom().randrange(2**31)
        # Pure and CPU-bound (up to a few hundred ms for 10,000 members): off the event loop.
        pairing = await asyncio.to_thread(
            pair_round,
            [_entrant(e) for e in members],
            knows=[
                *await swaps_repo.known_pairs(conn, found.guild_id, round_id),
                *same_record_pairs(members),
            ],
            recent=await swaps_repo.recent_pairs(conn, found.guild_id, round_id, HISTORY_ROUNDS),
            cross_scene=found.mode == "cross-scene",
            seed=seed,
        )
        await swaps_repo.set_receivers(conn, round_id, pairing.receiver_of)
        await swaps_repo.update_round(
            conn, round_id, now, status="reviewing", seed=seed, paired_at=now
        )
        updated = await swaps_repo.get_round(conn, round_id)
        assert updated is not None
        await scheduler.schedule_in(conn, notify_job(updated, "assigned", now))
        remind_at = reminder_time(updated.review_until, now)
        if remind_at is not None:
            await scheduler.schedule_in(conn, notify_job(updated, "remind", remind_at))
        await scheduler.schedule_in(conn, reveal_job(updated))
        await scheduler.schedule_in(conn, sync_job(updated, now, "paired"))
    return Paired(updated, pairing, len(gone))


def reminder_time(review_until: datetime, paired_at: datetime) -> datetime | None:
    """24 hours before the reveal, or halfway through a shorter review time; None when there
    is less than an hour left."""
    left = review_until - paired_at
    if left < timedelta(hours=1):
        return None
    return review_until - min(REMIND_BEFORE, left / 2)


def same_record_pairs(entries: Sequence[SwapEntry]) -> list[tuple[int, int]]:
    """Members who bring the same record (same artist and title, as the archive compares them)
    know each other's: giving one the other's copy would break pairing's first rule."""
    by_key: dict[str, list[int]] = {}
    for entry in entries:
        if entry.user_id is not None:
            by_key.setdefault(match_key(entry.artist, entry.title), []).append(entry.user_id)
    return [(a, b) for same in by_key.values() for a in same for b in same if a != b]


def _entrant(entry: SwapEntry) -> Entrant:
    assert entry.user_id is not None
    return Entrant(
        user_id=entry.user_id,
        country=entry.country,
        city=entry.city.casefold() if entry.city else None,
        label=entry.label.casefold() if entry.label else None,
        subgenres=frozenset(entry.subgenres),
    )


@dataclass(frozen=True, slots=True)
class Assignment:
    round: SwapRound
    entry: SwapEntry  # the pick given to the member
    review: Review | None


async def assignment(db: Database, round_id: int, user_id: int) -> Assignment | None:
    async with db.read() as conn:
        found = await swaps_repo.get_round(conn, round_id)
        entry = await swaps_repo.entry_given_to(conn, round_id, user_id)
        if found is None or entry is None:
            return None
        review = await swaps_repo.review_by(conn, round_id, user_id)
    return Assignment(found, entry, review)


@dataclass(frozen=True, slots=True)
class NoticeWork:
    round: SwapRound
    members: list[int]


async def notice_recipients(db: Database, round_id: int, notice: str) -> NoticeWork:
    """Who gets a notice: the assignment goes to every paired member; the reminder only to
    those who have not reviewed; "cancelled" to everyone who joined."""
    async with db.read() as conn:
        found = await swaps_repo.get_round(conn, round_id)
        if found is None:
            raise LookupError(round_id)
        entries = await swaps_repo.entries(conn, round_id)
        reviewed = await swaps_repo.reviewers(conn, round_id)
    receivers = [e.receiver_id for e in entries if e.receiver_id is not None]
    if notice == "assigned":
        members = receivers
    elif notice == "remind":
        members = [user for user in receivers if user not in reviewed]
    else:
        members = [e.user_id for e in entries if e.user_id is not None]
    return NoticeWork(found, sorted(members))


# -- reviewing --------------------------------------------------------------------------------


async def open_assignments(db: Database, guild_id: int, user_id: int) -> list[SwapRound]:
    """Rounds in their review phase where the member was given a pick."""
    async with db.read() as conn:
        rounds = await swaps_repo.rounds_of_guild(conn, guild_id, live=True)
        return [
            r
            for r in rounds
            if r.status == "reviewing"
            and await swaps_repo.entry_given_to(conn, r.id, user_id) is not None
        ]


async def review(
    db: Database,
    *,
    guild_id: int | None,
    round_id: int | None,
    user_id: int,
    rating: int,
    favourite_track: str | None,
    thoughts: str | None,
    now: datetime,
) -> tuple[SwapRound, SwapEntry, bool]:
    """Store the member's review of the pick they were given; returns the round, that pick,
    and whether it is their first review (else it was changed)."""
    favourite_track = member_text(favourite_track, FAVOURITE_MAX, "favourite_track", one_line=True)
    thoughts = member_text(thoughts, THOUGHTS_MAX, "thoughts", one_line=False)
    check_review(rating, favourite_track, thoughts)
    if round_id is None:
        if guild_id is None:
            raise UserError("Say which round with **round**.")
        rounds = await open_assignments(db, guild_id, user_id)
        if not rounds:
            raise UserError("You have no swap assignment to review right now.")
        if len(rounds) > 1:
            raise UserError("You have assignments in several rounds: say which with **round**.")
        round_id = rounds[0].id
    async with db.transaction() as conn:
        found = await swaps_repo.get_round(conn, round_id, guild_id)
        if found is None:
            raise UserError(f"There is no swap round #{round_id} here.")
        entry = await swaps_repo.entry_given_to(conn, round_id, user_id)
        if entry is None:
            raise UserError(
                "You weren't given a pick in this round, so there is nothing to review."
            )
        if found.status != "reviewing" or now >= found.review_until:
            raise UserError(
                "Reviews for this round have closed: it was revealed."
                if found.status == "revealed"
                else "Reviews for this round are closed."
            )
        first = await swaps_repo.upsert_review(
            conn, round_id, entry, user_id, rating, favourite_track, thoughts, now
        )
    return found, entry, first


# -- cancelling -------------------------------------------------------------------------------


async def cancel(
    db: Database,
    scheduler: Scheduler,
    *,
    guild_id: int,
    round_id: int,
    user_id: int,
    manages_events: bool,
    reason: str | None,
    now: datetime,
) -> tuple[SwapRound, int]:
    """End a round before its reveal; its members are told once. Returns it and how many."""
    reason = member_text(reason, REASON_MAX, "reason", one_line=True)
    async with db.transaction() as conn:
        found = await swaps_repo.get_round(conn, round_id, guild_id)
        if found is None:
            raise UserError(f"There is no swap round #{round_id} here.")
        if not manages_events and found.opener_id != user_id:
            raise UserError(
                f"Only the member who opened this round ({found.opener}) or a member with "
                "Manage Events can cancel it."
            )
        if not found.is_live:
            raise UserError(f"Swap round #{round_id} is {found.status} already.")
        await swaps_repo.update_round(conn, round_id, now, status="cancelled", cancel_reason=reason)
        for key in await jobs_repo.pending_keys_with_prefix(conn, f"swap:{round_id}:"):
            await scheduler.cancel_in(conn, dedupe_key=key)
        members = await swaps_repo.count_entries(conn, round_id)
        if members:
            await scheduler.schedule_in(conn, notify_job(found, "cancelled", now))
        await scheduler.schedule_in(conn, sync_job(found, now + SYNC_BACKSTOP, "cancelled"))
        updated = await swaps_repo.get_round(conn, round_id)
    assert updated is not None
    return updated, members


# -- the reveal -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RevealData:
    round: SwapRound
    entries: list[SwapEntry]
    reviews: list[Review]

    @property
    def revealed(self) -> bool:
        """Whether the round is revealed (not, say, cancelled just before its reveal)."""
        return self.round.status == "revealed"


async def reveal(db: Database, round_id: int, now: datetime) -> RevealData:
    """The round's picks join the archive with their sharers (a pick already there keeps its
    entry) and the round is revealed, in one transaction; revealing twice changes nothing."""
    async with db.transaction() as conn:
        found = await swaps_repo.get_round(conn, round_id)
        assert found is not None
        if found.status == "reviewing":
            for entry in await swaps_repo.entries(conn, round_id):
                if entry.pick_id is None and entry.user_id is not None:
                    await swaps_repo.set_entry_pick(
                        conn, entry.id, await _archive_pick(conn, found, entry, now)
                    )
            await swaps_repo.update_round(conn, round_id, now, status="revealed", revealed_at=now)
        found = await swaps_repo.get_round(conn, round_id)
        assert found is not None
        entries = await swaps_repo.entries(conn, round_id)
        reviews = await swaps_repo.reviews(conn, round_id)
    return RevealData(found, entries, reviews)


async def _archive_pick(
    conn: aiosqlite.Connection, found: SwapRound, entry: SwapEntry, now: datetime
) -> int:
    given = PickFields(
        artist=entry.artist, title=entry.title, link=entry.link_url,
        subgenres=", ".join(entry.subgenres) or None, label=entry.label, year=entry.year,
        country=entry.country, city=entry.city, format=entry.format, note=entry.note,
    )  # fmt: skip
    draft = build_draft(given, current_year=now.year)
    existing = await picks_repo.find_duplicate(
        conn, found.guild_id, draft.match_key, draft.link.key if draft.link else None
    )
    if existing is not None:
        return existing.id
    return await picks_repo.insert_pick(conn, found.guild_id, draft, entry.user_id, to_epoch(now))


async def set_thread(db: Database, round_id: int, thread_id: int, now: datetime) -> None:
    async with db.transaction() as conn:
        await swaps_repo.update_round(conn, round_id, now, thread_id=thread_id)


# -- history ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PastRound:
    round: SwapRound
    entries: list[SwapEntry]
    reviews: list[Review]


async def history(db: Database, guild_id: int, member: int | None) -> list[PastRound]:
    async with db.read() as conn:
        rounds = await swaps_repo.revealed_rounds(conn, guild_id, member, limit=10)
        past = []
        for found in rounds:
            entries = await swaps_repo.entries(conn, found.id)
            if member is not None and not any(
                member in (e.user_id, e.receiver_id) for e in entries
            ):
                continue
            past.append(PastRound(found, entries, await swaps_repo.reviews(conn, found.id)))
    return past


async def reviews_of_pick(db: Database, pick_id: int) -> list[aiosqlite.Row]:
    async with db.read() as conn:
        return await swaps_repo.reviews_of_pick(conn, pick_id)


async def reveal_data(db: Database, round_id: int) -> RevealData:
    """A round's entries and reviews, as they stand (for the reveal's buttons)."""
    async with db.read() as conn:
        found = await swaps_repo.get_round(conn, round_id)
        if found is None:
            raise UserError(f"There is no swap round #{round_id} here.")
        return RevealData(
            found,
            await swaps_repo.entries(conn, round_id),
            await swaps_repo.reviews(conn, round_id),
        )
