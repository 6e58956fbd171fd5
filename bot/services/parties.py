"""Listening parties' use cases: schedule, edit, cancel, tracklist, RSVP, the host's controls,
settings, and the transactions the party's jobs run in.

Each use case is one transaction: the party row, its jobs and the outbox entries of what will be
posted for it commit together, so a party is never saved without its reminders, nor moved
without them. What touches Discord (the event, the card, the thread, DMs) is the cog's job
handlers' work (``cogs/party/jobs.py``); they read and record through the functions here.

Jobs (all keyed by the party, so asking twice makes one):
- ``party.sync`` puts the card and the Discord event up, or brings them in line after a change;
- ``party.remind`` / ``party.notify`` send a notice (a reminder; "the time changed"; "cancelled")
  to the members who RSVPed;
- ``party.start``, then ``party.step`` per beat (a track marker or a side break), then
  ``party.end`` run the party in its thread. Each step inserts the next as its follow-up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import aiosqlite

from bot.db import Database
from bot.db.repos import jobs as jobs_repo
from bot.db.repos import outbox as outbox_repo
from bot.db.repos import parties as parties_repo
from bot.db.repos import picks as picks_repo
from bot.db.repos import settings as settings_repo
from bot.domain.guild_options import PARTY_CHANNEL, PARTY_REMINDERS, PARTY_SIDE_BREAK, GuildOption
from bot.domain.jobs import JobKind, JobSpec, RetryPolicy
from bot.domain.markers import ControlKind
from bot.domain.outbox import stamp
from bot.domain.parties import (
    COUNTDOWN,
    DEFAULT_REMINDERS,
    DEFAULT_SIDE_BREAK,
    EVENTS_PER_GUILD,
    LATE_AFTER,
    MAX_DURATION,
    MAX_SIDE_BREAK,
    REPEATS,
    Party,
    RsvpChoice,
    RsvpCounts,
    RunPlan,
    event_marker,
    first_beat_at_or_after,
    format_offset,
    next_occurrence,
    parse_reminder_offsets,
    party_duration,
    reminder_times,
    run_plan,
)
from bot.domain.picks import Pick, parse_link
from bot.domain.text import member_text
from bot.domain.timeutil import to_epoch
from bot.domain.tracklist import Tracklist, form_parts
from bot.domain.when import ParsedMoment, parse_when
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services.settings import DEFAULT_TIMEZONE

T = TypeVar("T")

MAX_WHAT = 200
#: The command puts the card and event up itself; the sync job is the backstop if it can't.
SYNC_BACKSTOP = timedelta(seconds=30)
MAX_DESCRIPTION = 800
MAX_REASON = 300
#: Members mentioned in one "your DMs are closed" message.
MENTIONS_PER_MESSAGE = 50
_PICK_REF = re.compile(r"#(?P<id>\d{1,18})")

# -- jobs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyRef:
    party_id: int


@dataclass(frozen=True, slots=True)
class PartyNotice:
    party_id: int
    notice: str  # remind:{seconds} | moved:{n} | cancelled


@dataclass(frozen=True, slots=True)
class PartyStep:
    """Beat ``step`` of the run, planned in control generation ``gen`` (how many pauses,
    resumes and skips there had been): a job planned before a later control is stale and does
    nothing, so a pause can never be undone by a step that was already running."""

    party_id: int
    step: int
    gen: int = 0


@dataclass(frozen=True, slots=True)
class PartyEnd:
    party_id: int
    gen: int = 0


_RETRY = RetryPolicy.exponential(timedelta(seconds=20), timedelta(minutes=10), retries=6)
SYNC = JobKind(
    "party.sync",
    PartyRef,
    retry=_RETRY,
    summary="putting a listening party's card and Discord event up to date",
    what_to_do="Check that I can see and post in the party's channel (and have Create Events "
    "for the Events list); `/party edit` tries again.",
)
REMIND = JobKind(
    "party.remind",
    PartyNotice,
    retry=_RETRY,
    summary="a listening party's reminders",
    what_to_do="Members may have missed a reminder. Check that I can post in the party channel.",
)
NOTIFY = JobKind(
    "party.notify",
    PartyNotice,
    retry=_RETRY,
    summary="telling a listening party's RSVPs that it moved or was cancelled",
    what_to_do="Tell the members yourself in the party channel.",
)
START = JobKind(
    "party.start",
    PartyRef,
    retry=RetryPolicy.exponential(timedelta(seconds=5), timedelta(minutes=2), retries=8),
    summary="starting a listening party",
    what_to_do="Check that I can create threads and post in the party channel.",
)
STEP = JobKind(
    "party.step",
    PartyStep,
    retry=RetryPolicy.exponential(timedelta(seconds=3), timedelta(minutes=1), retries=8),
    summary="a listening party's track marker",
    what_to_do="Check that I can post in the party's thread.",
)
END = JobKind(
    "party.end",
    PartyEnd,
    retry=_RETRY,
    summary="a listening party's recap",
    what_to_do="Check that I can post in and archive the party's thread.",
)
KINDS: tuple[JobKind[object], ...] = (SYNC, REMIND, NOTIFY, START, STEP, END)  # type: ignore[assignment]


def sync_job(party: Party, at: datetime, tag: str) -> JobSpec:
    return SYNC.spec(
        at, PartyRef(party.id), f"party:{party.id}:sync:{tag}", guild_id=party.guild_id
    )


def remind_prefix(party_id: int) -> str:
    return f"party:{party_id}:remind:"


def remind_key(party_id: int, offset: timedelta) -> str:
    return f"{remind_prefix(party_id)}{int(offset.total_seconds())}"


def remind_job(party: Party, offset: timedelta, at: datetime) -> JobSpec:
    notice = f"remind:{int(offset.total_seconds())}"
    return REMIND.spec(
        at, PartyNotice(party.id, notice), remind_key(party.id, offset), guild_id=party.guild_id
    )


def notify_job(party: Party, notice: str, at: datetime) -> JobSpec:
    return NOTIFY.spec(
        at,
        PartyNotice(party.id, notice),
        f"party:{party.id}:notify:{notice}",
        guild_id=party.guild_id,
    )


def start_key(party_id: int) -> str:
    return f"party:{party_id}:start"


def start_job(party: Party) -> JobSpec:
    return START.spec(
        party.starts_at, PartyRef(party.id), start_key(party.id), guild_id=party.guild_id
    )


def step_key(party_id: int, step: int, gen: int) -> str:
    return f"party:{party_id}:step:{step}:g{gen}"


def end_key(party_id: int, gen: int) -> str:
    return f"party:{party_id}:end:g{gen}"


def next_run_job(party: Party, plan: RunPlan, done: int, gen: int) -> JobSpec:
    """The run's job after ``done`` beats, in control generation ``gen``: the next beat, or
    the end."""
    if done < len(plan.beats):
        return STEP.spec(
            plan.beats[done].at,
            PartyStep(party.id, done, gen),
            step_key(party.id, done, gen),
            guild_id=party.guild_id,
        )
    return END.spec(
        plan.ends, PartyEnd(party.id, gen), end_key(party.id, gen), guild_id=party.guild_id
    )


# -- outbox keys ------------------------------------------------------------------------------


def event_key(party_id: int) -> str:
    return f"party:{party_id}:event"


def card_key(party_id: int, channel_id: int) -> str:
    """The card's outbox key: one per channel the card has been in (``/party edit channel``)."""
    return f"party:{party_id}:card:{channel_id}"


def rsvp_custom_id(choice: RsvpChoice, party_id: int) -> str:
    return f"uc:party:rsvp:{choice}:{party_id}"


def card_marker(party_id: int) -> str:
    return rsvp_custom_id("going", party_id)


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyView:
    """A party with what its card and replies show."""

    party: Party
    tracklist: Tracklist | None
    counts: RsvpCounts
    pick: Pick | None = None


async def get_party(db: Database, party_id: int, guild_id: int | None = None) -> Party:
    async with db.read() as conn:
        party = await parties_repo.get_party(conn, party_id, guild_id)
    if party is None:
        raise UserError(f"There is no party #{party_id} here.")
    return party


async def find_party(db: Database, party_id: int, guild_id: int | None = None) -> Party | None:
    async with db.read() as conn:
        return await parties_repo.get_party(conn, party_id, guild_id)


async def party_view(db: Database, party_id: int, guild_id: int | None = None) -> PartyView:
    async with db.read() as conn:
        return await _view(conn, party_id, guild_id)


async def _view(conn: aiosqlite.Connection, party_id: int, guild_id: int | None) -> PartyView:
    party = await parties_repo.get_party(conn, party_id, guild_id)
    if party is None:
        raise UserError(f"There is no party #{party_id} here.")
    tracklist = await parties_repo.get_tracklist(conn, party_id)
    counts = await parties_repo.rsvp_counts(conn, party_id)
    pick = None
    if party.pick_id is not None:
        pick = await picks_repo.get_pick(conn, party.guild_id, party.pick_id)
    return PartyView(party, tracklist, counts, pick)


async def upcoming(db: Database, guild_id: int, now: datetime, limit: int = 25) -> list[PartyView]:
    async with db.read() as conn:
        parties = await parties_repo.upcoming(conn, guild_id, limit)
        return await _views(conn, guild_id, parties)


async def for_calendar(db: Database, guild_id: int, now: datetime) -> list[PartyView]:
    """Parties coming up, and those cancelled that would have been (so a calendar that imported
    them learns they are off)."""
    async with db.read() as conn:
        parties = await parties_repo.for_calendar(conn, guild_id, now)
        return await _views(conn, guild_id, parties)


async def _views(
    conn: aiosqlite.Connection, guild_id: int, parties: Sequence[Party]
) -> list[PartyView]:
    """Many parties with their tracklists, counts and archive entries, in four queries."""
    ids = [party.id for party in parties]
    tracklists = await parties_repo.tracklists_of(conn, ids)
    counts = await parties_repo.rsvp_counts_of(conn, ids)
    picks = await picks_repo.get_picks(
        conn, guild_id, sorted({p.pick_id for p in parties if p.pick_id is not None})
    )
    return [
        PartyView(
            party,
            tracklists.get(party.id),
            counts.get(party.id, RsvpCounts()),
            None if party.pick_id is None else picks.get(party.pick_id),
        )
        for party in parties
    ]


async def search(db: Database, guild_id: int, text: str, *, open_only: bool) -> list[Party]:
    async with db.read() as conn:
        return await parties_repo.search(conn, guild_id, text.strip()[:100], open_only=open_only)


async def history(
    db: Database, guild_id: int, pick_id: int | None, *, limit: int, offset: int
) -> tuple[list[Party], int]:
    async with db.read() as conn:
        parties = await parties_repo.past(
            conn, guild_id, pick_id=pick_id, limit=limit, offset=offset
        )
        total = await parties_repo.count_past(conn, guild_id, pick_id)
    return parties, total


@dataclass(frozen=True, slots=True)
class Replay:
    view: PartyView
    tracks: list[aiosqlite.Row]
    going: list[int]
    maybe: list[int]


async def replay(db: Database, guild_id: int, party_id: int) -> Replay:
    async with db.read() as conn:
        view = await _view(conn, party_id, guild_id)
        tracks = await parties_repo.track_records(conn, party_id)
        members = await parties_repo.rsvp_members(conn, party_id, ("going", "maybe"))
    going = [user for user, choice in members if choice == "going"]
    maybe = [user for user, choice in members if choice == "maybe"]
    return Replay(view, tracks, going, maybe)


async def zone_for(db: Database, guild_id: int, user_id: int) -> tuple[str, str]:
    """The zone a member's times are read in, and whose it is: ``yours``, ``the server's`` or
    ``UTC (no zone set)``."""
    async with db.read() as conn:
        mine = await settings_repo.get_user_timezone(conn, user_id)
        if mine:
            return mine, "your time zone"
        server = await settings_repo.get_guild_timezone(conn, guild_id)
    if server:
        return server, "the server's time zone"
    return DEFAULT_TIMEZONE, "UTC (set yours with `/settings timezone`)"


# -- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartySettings:
    channel_id: int | None
    reminders: tuple[timedelta, ...]
    side_break: timedelta


async def get_settings(db: Database, guild_id: int) -> PartySettings:
    async with db.read() as conn:
        return await _settings(conn, guild_id)


async def _settings(conn: aiosqlite.Connection, guild_id: int) -> PartySettings:
    channel = await _option(conn, guild_id, PARTY_CHANNEL)
    reminders = await _option(conn, guild_id, PARTY_REMINDERS)
    side_break = await _option(conn, guild_id, PARTY_SIDE_BREAK)
    return PartySettings(
        channel,
        tuple(timedelta(seconds=s) for s in reminders) if reminders else DEFAULT_REMINDERS,
        DEFAULT_SIDE_BREAK if side_break is None else timedelta(seconds=side_break),
    )


async def _option(conn: aiosqlite.Connection, guild_id: int, option: GuildOption[T]) -> T | None:
    text = await settings_repo.get_guild_option(conn, guild_id, option.name)
    if text is None:
        return None
    try:
        return option.decode(text)
    except ValueError:
        return None


async def update_settings(
    db: Database,
    guild_id: int,
    user_id: int,
    now: datetime,
    *,
    channel_id: int | None = None,
    reminders: str | None = None,
    side_break_seconds: int | None = None,
) -> PartySettings:
    """Change what was given (in one transaction) and return the settings now."""
    offsets = None if reminders is None else parse_reminder_offsets(reminders)
    if side_break_seconds is not None and not (
        0 <= side_break_seconds <= MAX_SIDE_BREAK.total_seconds()
    ):
        raise UserError(
            f"**side_break** is seconds between sides, from 0 to {int(MAX_SIDE_BREAK.total_seconds())}."
        )
    async with db.transaction() as conn:
        at = to_epoch(now)
        if channel_id is not None:
            await settings_repo.set_guild_option(
                conn, guild_id, PARTY_CHANNEL.name, PARTY_CHANNEL.encode(channel_id), user_id, at
            )
        if offsets is not None:
            seconds = tuple(int(o.total_seconds()) for o in offsets)
            await settings_repo.set_guild_option(
                conn, guild_id, PARTY_REMINDERS.name, PARTY_REMINDERS.encode(seconds), user_id, at
            )
        if side_break_seconds is not None:
            await settings_repo.set_guild_option(
                conn,
                guild_id,
                PARTY_SIDE_BREAK.name,
                PARTY_SIDE_BREAK.encode(side_break_seconds),
                user_id,
                at,
            )
        return await _settings(conn, guild_id)


def describe_reminders(offsets: Sequence[timedelta]) -> str:
    return ", ".join(format_offset(o) for o in offsets)


# -- scheduling -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyInput:
    """What the host typed, checked by the cog for what only Discord knows (channels)."""

    what: str
    when: str
    channel_id: int
    voice_id: int | None = None
    voice_name: str | None = None
    link: str | None = None
    duration_minutes: int | None = None
    repeat: str = "none"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduledParty:
    party: Party
    moment: ParsedMoment
    zone_source: str
    reminders: tuple[timedelta, ...]


async def schedule_party(
    db: Database,
    scheduler: Scheduler,
    *,
    guild_id: int,
    host_id: int,
    given: PartyInput,
    now: datetime,
) -> ScheduledParty:
    """Store the party, its jobs (the card and event, reminders, the start) and its outbox
    entries in one transaction."""
    zone, zone_source = await zone_for(db, guild_id, host_id)
    moment = parse_when(given.when, zone, now)
    duration = party_duration(given.duration_minutes, None)
    repeat_weeks = _repeat(given.repeat)
    link = _link(given.link)
    description = member_text(given.description, MAX_DESCRIPTION, "description", one_line=False)
    async with db.transaction() as conn:
        what, pick_id = await _what(conn, guild_id, given.what)
        if await parties_repo.count_open(conn, guild_id) >= EVENTS_PER_GUILD:
            raise UserError(
                f"This server already has {EVENTS_PER_GUILD} parties coming up, Discord's limit "
                "for scheduled events. Cancel one first (`/party cancel`)."
            )
        settings = await _settings(conn, guild_id)
        party_id = await parties_repo.insert_party(
            conn,
            {
                "guild_id": guild_id, "host_id": host_id, "series_id": None, "occurrence": 0,
                "what": what, "pick_id": pick_id, "starts_at": to_epoch(moment.at),
                "duration_s": int(duration.total_seconds()), "zone": zone,
                "duration_given": int(given.duration_minutes is not None),
                "repeat_weeks": repeat_weeks, "channel_id": given.channel_id,
                "voice_id": given.voice_id, "voice_name": given.voice_name, "link": link,
                "description": description,
                "side_break_s": int(settings.side_break.total_seconds()), "now": to_epoch(now),
            },
        )  # fmt: skip
        if repeat_weeks:
            await parties_repo.update_party(conn, party_id, now, series_id=party_id)
        party = await parties_repo.get_party(conn, party_id)
        assert party is not None
        await _plan_jobs(conn, scheduler, party, settings.reminders, now)
    return ScheduledParty(party, moment, zone_source, settings.reminders)


async def _plan_jobs(
    conn: aiosqlite.Connection,
    scheduler: Scheduler,
    party: Party,
    offsets: Sequence[timedelta],
    now: datetime,
) -> None:
    """A new party's outbox entries and jobs, inside the caller's transaction."""
    await outbox_repo.reserve_entry(
        conn, key=event_key(party.id), kind="event", guild_id=party.guild_id, channel_id=None,
        marker=event_marker(party.id), now=stamp(now),
    )  # fmt: skip
    await reserve_card(conn, party, now)
    await scheduler.schedule_in(conn, sync_job(party, now + SYNC_BACKSTOP, "0"))
    for offset, at in reminder_times(party.starts_at, tuple(offsets), now):
        await scheduler.schedule_in(conn, remind_job(party, offset, at))
    await scheduler.schedule_in(conn, start_job(party))


async def reserve_card(conn: aiosqlite.Connection, party: Party, now: datetime) -> str:
    key = card_key(party.id, party.channel_id)
    await outbox_repo.reserve_entry(
        conn, key=key, kind="message", guild_id=party.guild_id, channel_id=party.channel_id,
        marker=card_marker(party.id), now=stamp(now),
    )  # fmt: skip
    return key


def _repeat(text: str) -> int:
    if text not in REPEATS:
        raise UserError("**repeat** is `none`, `weekly` or `biweekly`.")
    return REPEATS[text]


def _link(text: str | None) -> str | None:
    link = parse_link(text)
    return None if link is None else link.url


async def _what(conn: aiosqlite.Connection, guild_id: int, text: str) -> tuple[str, int | None]:
    """The party's title and the archive entry it is of: ``#12`` (what the autocomplete fills
    in) is entry 12; anything else is free text."""
    text = member_text(text, MAX_WHAT, "what", one_line=True) or ""
    if match := _PICK_REF.fullmatch(text):
        pick = await picks_repo.get_pick(conn, guild_id, int(match["id"]))
        if pick is None or pick.deleted_at is not None:
            raise UserError(
                f"There is no archive entry #{match['id']} here. Pick one from the list, or type "
                "what you are playing, such as `Slowdive — Souvlaki`."
            )
        return f"{pick.artist} — {pick.title}", pick.id
    if not text:
        raise UserError(
            "**what** is empty: say what you are playing, such as `Slowdive — Souvlaki`."
        )
    if len(text) > MAX_WHAT:
        raise UserError(f"**what** is at most {MAX_WHAT} characters ({len(text)} given).")
    return text, None


# -- editing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyChange:
    what: str | None = None
    when: str | None = None
    channel_id: int | None = None
    duration_minutes: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Edited:
    before: Party
    party: Party
    moment: ParsedMoment | None
    zone_source: str | None
    moved: bool  # its time changed: RSVPs are told
    told: int = 0  # members Going or Maybe, who get one DM each about the new time


def may_manage(party: Party, user_id: int, manages_events: bool) -> bool:
    return manages_events or party.host_id == user_id


def _require_manager(party: Party, user_id: int, manages_events: bool, action: str) -> None:
    if not may_manage(party, user_id, manages_events):
        raise UserError(
            f"Only the host ({party.host}) or a member with Manage Events can {action} this party."
        )


async def edit_party(
    db: Database,
    scheduler: Scheduler,
    *,
    guild_id: int,
    party_id: int,
    user_id: int,
    manages_events: bool,
    change: PartyChange,
    now: datetime,
) -> Edited:
    """Change a party that has not started: its row, its reminders and start, and the sync of
    its card and event, in one transaction; a time change also tells its RSVPs (one DM each)."""
    moment = zone_source = None
    if change.when is not None:
        async with db.read() as conn:
            party_now = await parties_repo.get_party(conn, party_id, guild_id)
        if party_now is None:
            raise UserError(f"There is no party #{party_id} here.")
        zone, zone_source = await zone_for(db, guild_id, user_id)
        moment = parse_when(change.when, zone, now)
    description = member_text(change.description, MAX_DESCRIPTION, "description", one_line=False)
    async with db.transaction() as conn:
        before = await parties_repo.get_party(conn, party_id, guild_id)
        if before is None:
            raise UserError(f"There is no party #{party_id} here.")
        _require_manager(before, user_id, manages_events, "edit")
        if before.status != "scheduled":
            raise UserError(f"Party #{party_id} is {before.status}: only a party that has not "
                            "started can be edited.")  # fmt: skip
        fields: dict[str, object] = {}
        if change.what is not None:
            fields["what"], fields["pick_id"] = await _what(conn, guild_id, change.what)
        if moment is not None and moment.at != before.starts_at:
            fields["starts_at"] = to_epoch(moment.at)
        if change.channel_id is not None and change.channel_id != before.channel_id:
            fields["channel_id"] = change.channel_id
        if change.duration_minutes is not None:
            tracklist = await parties_repo.get_tracklist(conn, party_id)
            fields["duration_s"] = int(
                party_duration(change.duration_minutes, tracklist).total_seconds()
            )
        if change.description is not None:
            fields["description"] = description
        if not fields:
            raise UserError("Nothing to change: give at least one of what, when, channel, "
                            "duration or description.")  # fmt: skip
        moved = "starts_at" in fields
        fields["moves"] = before.moves + 1
        await parties_repo.update_party(conn, party_id, now, **fields)
        party = await parties_repo.get_party(conn, party_id)
        assert party is not None
        if "channel_id" in fields:
            await reserve_card(conn, party, now)
        told = 0
        if moved:
            await _move_jobs(conn, scheduler, party, now)
            told = len(await parties_repo.rsvp_members(conn, party_id, ("going", "maybe")))
            if told:
                await scheduler.schedule_in(conn, notify_job(party, f"moved:{party.moves}", now))
        await scheduler.schedule_in(conn, sync_job(party, now + SYNC_BACKSTOP, str(party.moves)))
    return Edited(before, party, moment, zone_source, moved, told)


async def _move_jobs(
    conn: aiosqlite.Connection, scheduler: Scheduler, party: Party, now: datetime
) -> None:
    """Reminders and the start follow a moved party. A reminder already sent stays sent (each
    goes out once per member per offset); one now in the past is dropped."""
    settings = await _settings(conn, party.guild_id)
    for key in await jobs_repo.pending_keys_with_prefix(conn, remind_prefix(party.id)):
        await scheduler.cancel_in(conn, dedupe_key=key)
    for offset, at in reminder_times(party.starts_at, settings.reminders, now):
        # A reminder already sent for this offset stays sent (its job is done, not revived).
        await scheduler.schedule_in(conn, remind_job(party, offset, at))
    if not await scheduler.reschedule_in(conn, start_key(party.id), party.starts_at):
        await scheduler.schedule_in(conn, start_job(party))


# -- cancelling -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cancelled:
    party: Party
    series_ended: bool
    told: int  # members who will be told


async def cancel_party(
    db: Database,
    scheduler: Scheduler,
    *,
    guild_id: int,
    party_id: int,
    user_id: int,
    manages_events: bool,
    reason: str | None,
    series: bool,
    now: datetime,
) -> Cancelled:
    reason = member_text(reason, MAX_REASON, "reason", one_line=False)
    async with db.transaction() as conn:
        party = await parties_repo.get_party(conn, party_id, guild_id)
        if party is None:
            raise UserError(f"There is no party #{party_id} here.")
        _require_manager(party, user_id, manages_events, "cancel")
        series_ended = False
        if series and party.repeat_weeks:
            series_ended = await _end_series(conn, scheduler, party, now)
            party = await parties_repo.get_party(conn, party_id)
            assert party is not None
        if party.status != "scheduled":
            if series_ended:
                party = await parties_repo.get_party(conn, party_id)
                assert party is not None
                return Cancelled(party, True, 0)
            raise UserError(
                f"Party #{party_id} is {party.status}: only a party that has not started can be "
                "cancelled."
                + (" Add `series:true` to end the series." if party.repeat_weeks else "")
            )
        await _cancel_one(conn, scheduler, party, reason, now)
        told = len(await parties_repo.rsvp_members(conn, party_id, ("going", "maybe")))
        party = await parties_repo.get_party(conn, party_id)
        assert party is not None
    return Cancelled(party, series_ended, told)


async def _cancel_one(
    conn: aiosqlite.Connection,
    scheduler: Scheduler,
    party: Party,
    reason: str | None,
    now: datetime,
) -> None:
    await parties_repo.update_party(conn, party.id, now, status="cancelled", cancel_reason=reason)
    for key in await jobs_repo.pending_keys_with_prefix(conn, remind_prefix(party.id)):
        await scheduler.cancel_in(conn, dedupe_key=key)
    await scheduler.cancel_in(conn, dedupe_key=start_key(party.id))
    await _ensure_next(conn, scheduler, party, now)
    if await parties_repo.rsvp_members(conn, party.id, ("going", "maybe")):
        await scheduler.schedule_in(conn, notify_job(party, "cancelled", now))
    await scheduler.schedule_in(conn, sync_job(party, now + SYNC_BACKSTOP, "cancelled"))


async def _end_series(
    conn: aiosqlite.Connection, scheduler: Scheduler, party: Party, now: datetime
) -> bool:
    """No more occurrences after this one: repeats stop on every occurrence of the series, and
    every occurrence already created ahead of it is cancelled."""
    series_id = party.series_id or party.id
    await parties_repo.end_series(conn, series_id, now)
    for ahead in await parties_repo.later_in_series(conn, series_id, party.starts_at):
        if ahead.status == "scheduled":
            await _cancel_one(conn, scheduler, ahead, "the series was ended", now)
    return True


# -- tracklist --------------------------------------------------------------------------------


async def set_tracklist(
    db: Database,
    *,
    guild_id: int,
    party_id: int,
    user_id: int,
    manages_events: bool,
    tracklist: Tracklist,
    now: datetime,
    scheduler: Scheduler,
) -> Party:
    async with db.transaction() as conn:
        party = await parties_repo.get_party(conn, party_id, guild_id)
        if party is None:
            raise UserError(f"There is no party #{party_id} here.")
        _require_manager(party, user_id, manages_events, "set the tracklist of")
        if party.status != "scheduled":
            raise UserError(f"Party #{party_id} is {party.status}: the tracklist can only be set "
                            "before it starts.")  # fmt: skip
        await parties_repo.replace_tracks(conn, party_id, tracklist)
        fields: dict[str, object] = {"moves": party.moves + 1}
        if not await parties_repo.duration_given(conn, party_id):
            plan = run_plan(party.starts_at, party.duration, tracklist, party.side_break)
            length = plan.ends - party.starts_at
            if length > MAX_DURATION:
                raise UserError(
                    f"This tracklist plays for {format_offset(length)}; a party lasts at most "
                    f"{int(MAX_DURATION.total_seconds()) // 3600} hours."
                )
            fields["duration_s"] = max(60, int(length.total_seconds()))
        await parties_repo.update_party(conn, party_id, now, **fields)
        party = await parties_repo.get_party(conn, party_id)
        assert party is not None
        await scheduler.schedule_in(conn, sync_job(party, now, str(party.moves)))
    return party


async def tracklist_text(db: Database, guild_id: int, party_id: int) -> list[str]:
    """The party's tracklist as the form's inputs hold it, to edit it."""
    async with db.read() as conn:
        party = await parties_repo.get_party(conn, party_id, guild_id)
        if party is None:
            raise UserError(f"There is no party #{party_id} here.")
        tracklist = await parties_repo.get_tracklist(conn, party_id)
    if tracklist is None:
        return []
    try:
        return form_parts(tracklist)
    except ValueError:
        raise UserError(
            "This tracklist is too long to reopen in the form (five boxes of 4,000 characters, "
            "with its side lines written out). It is kept as it is."
        ) from None


# -- RSVPs, opt-outs --------------------------------------------------------------------------


async def rsvp(
    db: Database, *, party_id: int, user_id: int, choice: RsvpChoice, now: datetime
) -> tuple[PartyView, RsvpChoice | None]:
    """A member's Going / Maybe / Can't; returns the party (with fresh counts) and the choice
    before."""
    async with db.transaction() as conn:
        party = await parties_repo.get_party(conn, party_id)
        if party is None or not party.is_open:
            state = "gone" if party is None else party.status
            raise UserError(f"This party is {state}: RSVPs are closed.")
        before = await parties_repo.set_rsvp(conn, party_id, user_id, choice, now)
        view = await _view(conn, party_id, None)
    return view, before


async def my_rsvps(db: Database, party_ids: Sequence[int], user_id: int) -> dict[int, RsvpChoice]:
    """A member's choice for each of ``party_ids`` they answered."""
    async with db.read() as conn:
        return await parties_repo.rsvps_of_member(conn, party_ids, user_id)


async def sync_interested(
    db: Database, party_id: int, user_ids: Sequence[int], now: datetime
) -> RsvpCounts:
    async with db.transaction() as conn:
        await parties_repo.sync_interested(conn, party_id, user_ids, now)
        return await parties_repo.rsvp_counts(conn, party_id)


async def set_reminders(
    db: Database, guild_id: int, user_id: int, *, on: bool, now: datetime
) -> bool:
    """Turn a member's reminder DMs in a server on or off; whether it changed."""
    async with db.transaction() as conn:
        return await parties_repo.set_optout(conn, guild_id, user_id, not on, now)


async def reminders_on(db: Database, guild_id: int, user_id: int) -> bool:
    async with db.read() as conn:
        return not await parties_repo.is_opted_out(conn, guild_id, user_id)


# -- the host's controls ----------------------------------------------------------------------


async def control(
    db: Database,
    scheduler: Scheduler,
    *,
    guild_id: int,
    party_id: int,
    user_id: int,
    manages_events: bool,
    kind: ControlKind,
    now: datetime,
) -> tuple[Party, RunPlan]:
    """Pause, resume or skip a running party: the control is recorded and the run's next job
    moves with it, in one transaction."""
    async with db.transaction() as conn:
        party = await parties_repo.get_party(conn, party_id, guild_id)
        if party is None:
            raise UserError(f"There is no party #{party_id} here.")
        _require_manager(party, user_id, manages_events, f"{kind}")
        if party.status != "running" or party.started_at is None:
            raise UserError(f"Party #{party_id} is not running: {kind} works during a party.")
        tracklist = await parties_repo.get_tracklist(conn, party_id)
        if tracklist is None:
            raise UserError("This party has no tracklist, so there are no track markers to "
                            f"{kind}.")  # fmt: skip
        controls = await parties_repo.get_controls(conn, party_id)
        plan = run_plan(party.started_at, party.duration, tracklist, party.side_break, controls)
        if kind == "pause" and plan.paused:
            raise UserError("The party is already paused: `/party resume` goes on.")
        if kind == "resume" and not plan.paused:
            raise UserError("The party is not paused.")
        if kind == "skip" and party.beat >= len(plan.beats):
            raise UserError("This is the last track: there is nothing to skip to.")
        old_gen = len(controls)
        await parties_repo.add_control(conn, party_id, kind, now, user_id)
        controls = await parties_repo.get_controls(conn, party_id)
        plan = run_plan(party.started_at, party.duration, tracklist, party.side_break, controls)
        # The run's pending job belongs to the old generation: cancel it (a copy already
        # running finds itself stale and does nothing), and plan the next in the new one.
        for step in (party.beat, party.beat + 1):
            await scheduler.cancel_in(conn, dedupe_key=step_key(party_id, step, old_gen))
        await scheduler.cancel_in(conn, dedupe_key=end_key(party_id, old_gen))
        if not plan.paused:
            await scheduler.schedule_in(conn, next_run_job(party, plan, party.beat, len(controls)))
    return party, plan


# -- what the jobs record ---------------------------------------------------------------------


async def record_id(db: Database, party_id: int, column: str, value: int, now: datetime) -> None:
    async with db.transaction() as conn:
        await parties_repo.set_if_unset(conn, party_id, column, value, now)


async def card_posted(
    db: Database, party_id: int, channel_id: int, message_id: int, now: datetime
) -> None:
    """The card's place, kept as the party's current card (a later card, after a channel move,
    replaces it)."""
    async with db.transaction() as conn:
        await parties_repo.set_card(conn, party_id, channel_id, message_id, now)


@dataclass(frozen=True, slots=True)
class RunState:
    """A party, its tracklist, its run plan once started, and its control generation."""

    party: Party
    tracklist: Tracklist | None
    plan: RunPlan | None
    gen: int


async def run_state(db: Database, party_id: int, guild_id: int | None = None) -> RunState:
    """The party's run as it stands; a ``UserError`` if there is no such party (in
    ``guild_id``, when given)."""
    async with db.read() as conn:
        party = await parties_repo.get_party(conn, party_id, guild_id)
        if party is None:
            raise UserError(f"There is no party #{party_id} here.")
        tracklist = await parties_repo.get_tracklist(conn, party_id)
        controls = await parties_repo.get_controls(conn, party_id)
    plan = None
    if party.started_at is not None:
        plan = run_plan(party.started_at, party.duration, tracklist, party.side_break, controls)
    return RunState(party, tracklist, plan, len(controls))


async def mark_started(
    db: Database, scheduler: Scheduler, party: Party, now: datetime
) -> tuple[Party, RunPlan, list[JobSpec]]:
    """The party starts: track 1 plays after the countdown from its planned time (the markers
    follow that plan even when the bot starts late, picking up at the track playing now).
    Returns the party, its plan and the run's first job; for a series, the next occurrence is
    created here, with its own jobs, in the same transaction."""
    async with db.transaction() as conn:
        current = await parties_repo.get_party(conn, party.id)
        assert current is not None
        tracklist = await parties_repo.get_tracklist(conn, party.id)
        # Track 1 starts after the "press play in 10 s" countdown.
        play_from = current.starts_at + COUNTDOWN
        plan = run_plan(play_from, current.duration, tracklist, current.side_break, ())
        first = 0
        if current.status == "scheduled":
            late = now - current.starts_at
            first = first_beat_at_or_after(plan, now) if late > LATE_AFTER else 0
            await parties_repo.update_party(
                conn, party.id, now, status="running", started_at=to_epoch(play_from),
                late_by_s=int(late.total_seconds()) if late > LATE_AFTER else None, beat=first,
            )  # fmt: skip
            await _ensure_next(conn, scheduler, current, now)
        controls = await parties_repo.get_controls(conn, party.id)
        if current.status != "scheduled":
            first = current.beat
            if current.started_at is not None:
                plan = run_plan(
                    current.started_at, current.duration, tracklist, current.side_break, controls
                )
        current = await parties_repo.get_party(conn, party.id)
        assert current is not None
    return current, plan, [next_run_job(current, plan, first, len(controls))]


async def _ensure_next(
    conn: aiosqlite.Connection, scheduler: Scheduler, party: Party, now: datetime
) -> None:
    """A repeating party's next occurrence, made once, when this one starts, is cancelled or
    is missed: a series goes on whatever becomes of one evening."""
    current = await parties_repo.get_party(conn, party.id)
    if current is not None and current.repeat_weeks and current.next_id is None:
        await _create_next(conn, scheduler, current, now)


async def _create_next(
    conn: aiosqlite.Connection, scheduler: Scheduler, party: Party, now: datetime
) -> None:
    """The series' next occurrence, with its own card, event, reminders and start."""
    series_id = party.series_id or party.id
    first = await parties_repo.get_party(conn, series_id)
    first_start = party.starts_at if first is None else first.starts_at
    occurrence = party.occurrence + 1
    starts = next_occurrence(first_start, party.zone, party.repeat_weeks, occurrence)
    next_id = await parties_repo.insert_party(
        conn,
        {
            "guild_id": party.guild_id, "host_id": party.host_id, "series_id": series_id,
            "occurrence": occurrence, "what": party.what, "pick_id": party.pick_id,
            "starts_at": to_epoch(starts), "duration_s": int(party.duration.total_seconds()),
            "duration_given": int(await parties_repo.duration_given(conn, party.id)),
            "zone": party.zone, "repeat_weeks": party.repeat_weeks,
            "channel_id": party.channel_id, "voice_id": party.voice_id,
            "voice_name": party.voice_name, "link": party.link,
            "description": party.description,
            "side_break_s": int(party.side_break.total_seconds()), "now": to_epoch(now),
        },
    )  # fmt: skip
    tracklist = await parties_repo.get_tracklist(conn, party.id)
    if tracklist is not None:
        await parties_repo.replace_tracks(conn, next_id, tracklist)
    await parties_repo.update_party(conn, party.id, now, next_id=next_id)
    nxt = await parties_repo.get_party(conn, next_id)
    assert nxt is not None
    settings = await _settings(conn, party.guild_id)
    await _plan_jobs(conn, scheduler, nxt, settings.reminders, now)


async def mark_missed(db: Database, scheduler: Scheduler, party: Party, now: datetime) -> Party:
    async with db.transaction() as conn:
        await parties_repo.update_party(
            conn, party.id, now, status="missed", ended_at=to_epoch(now)
        )
        await _ensure_next(conn, scheduler, party, now)
        updated = await parties_repo.get_party(conn, party.id)
    assert updated is not None
    return updated


async def beat_posted(
    db: Database,
    party: Party,
    step: int,
    track_number: int | None,
    message_id: int,
    now: datetime,
) -> None:
    async with db.transaction() as conn:
        if track_number is not None:
            await parties_repo.set_track_marker(conn, party.id, track_number, message_id, now)
        await parties_repo.advance_beat(conn, party.id, step + 1, now)


async def mark_ended(
    db: Database,
    party: Party,
    *,
    reactions: dict[int, int],
    writers: int | None,
    now: datetime,
) -> Party:
    async with db.transaction() as conn:
        await parties_repo.set_track_reactions(conn, party.id, reactions)
        await parties_repo.update_party(
            conn, party.id, now, status="ended", ended_at=to_epoch(now), writers=writers
        )
        updated = await parties_repo.get_party(conn, party.id)
    assert updated is not None
    return updated


# -- notices ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeWork:
    """Who still gets a notice: ``to_dm`` have no outcome yet; ``batches`` are the mention
    messages for those whose DMs were closed."""

    party: Party
    to_dm: list[int]
    done: int


async def notice_recipients(db: Database, party_id: int, notice: str) -> NoticeWork:
    """Going and Maybe, minus reminder opt-outs (for reminders), minus those already handled."""
    async with db.read() as conn:
        party = await parties_repo.get_party(conn, party_id)
        if party is None:
            raise LookupError(party_id)
        members = await parties_repo.rsvp_members(conn, party_id, ("going", "maybe"))
        handled = await parties_repo.notice_outcomes(conn, party_id, notice)
        opted_out = (
            await parties_repo.opted_out(conn, party.guild_id)
            if notice.startswith("remind:")
            else set()
        )
    to_dm = [user for user, _ in members if user not in handled and user not in opted_out]
    return NoticeWork(party, to_dm, len(handled))


async def notice_sent(db: Database, party_id: int, notice: str, user_id: int) -> None:
    async with db.transaction() as conn:
        await parties_repo.record_notice(conn, party_id, notice, user_id, "sent")


async def dm_closed(db: Database, party_id: int, notice: str, user_id: int) -> None:
    """The member's DMs are closed (``dm_once`` has dropped their DM): they wait for a
    mention. A restart in between finds the DM dropped, and records this then."""
    async with db.transaction() as conn:
        await parties_repo.record_notice(conn, party_id, notice, user_id, "dm_closed")


async def mention_batches(db: Database, party_id: int, notice: str) -> dict[int, list[int]]:
    async with db.transaction() as conn:
        return await parties_repo.assign_batches(conn, party_id, notice, MENTIONS_PER_MESSAGE)
