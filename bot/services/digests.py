"""Weekly digests' use cases: set a server's digest up (or move, change or stop it), read what a
week holds, and what the weekly job does with one week: post it, call it a quiet week, skip it
as too late, or record a problem. Each change is one transaction with its job.

One job per server per week: ``digest.post`` keyed ``digest:{guild}:{iso_week}`` (the week in
the digest's zone), so a week can never be scheduled twice. When a week is handled (posted,
quiet, skipped, or given up on) it is recorded in ``digest_posts``, and the job hands the
scheduler the next week's job, inserted in the transaction that marks this one done. Planning
always skips weeks already handled: moving a digest from Monday to Friday after Monday's went
out plans next week's, not a second one this week.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import aiosqlite

from bot.db import Database
from bot.db.repos import digests as digests_repo
from bot.db.repos import jobs as jobs_repo
from bot.db.repos import outbox as outbox_repo
from bot.db.repos import settings as settings_repo
from bot.db.repos import swaps as swaps_repo
from bot.domain.digest import (
    COMING_WITHIN,
    DEFAULT_AT,
    DEFAULT_WEEKDAY,
    MAP_KINDS,
    SECTIONS,
    DigestSchedule,
    DigestSettings,
    FirstOnMap,
    MapFact,
    MapKind,
    firsts_on_map,
    map_key,
    next_run,
    parse_at,
    same_week_in_past_years,
    week_key,
    week_window,
)
from bot.domain.jobs import JobKind, JobSpec, RetryPolicy
from bot.domain.parties import Party
from bot.domain.picks import Pick
from bot.domain.swaps import RevealSummary, SwapRound, reveal_summary
from bot.domain.timeutil import from_epoch, to_epoch
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services.settings import DEFAULT_TIMEZONE, parse_timezone

log = logging.getLogger(__name__)

#: Parties listed under "Coming up" at most.
COMING_MAX = 10


@dataclass(frozen=True, slots=True)
class DigestRun:
    """The payload of a week's job: the week (``2026-W49``) and when it was due (epoch)."""

    week: str
    due: int


DIGEST = JobKind(
    "digest.post",
    DigestRun,
    retry=RetryPolicy.fixed(timedelta(hours=1), retries=3),
    summary="the weekly digest",
    what_to_do=(
        "`/digest status` says what stopped it. Give me View Channel, Send Messages, Embed Links "
        "and Attach Files in the digest channel, or pick another with `/digest setup`; next "
        "week's digest comes at its time."
    ),
)


def digest_key(guild_id: int, week: str) -> str:
    """The job's key, and (with the channel) the outbox's: one per server per week."""
    return f"digest:{guild_id}:{week}"


def post_key(guild_id: int, week: str, channel_id: int) -> str:
    """The outbox key of a week's digest in one channel. The channel is part of it so that a
    digest stuck on a deleted channel can go to the one a moderator picks instead."""
    return f"{digest_key(guild_id, week)}:{channel_id}"


def digest_job(guild_id: int, due: datetime, zone: str) -> JobSpec:
    week = week_key(due, zone)
    return DIGEST.spec(
        due, DigestRun(week, to_epoch(due)), digest_key(guild_id, week), guild_id=guild_id
    )


# -- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Planned:
    settings: DigestSettings
    zone: str
    zone_source: str  # "given", "the server's", "UTC (…)"
    next_run: datetime | None
    retrying: bool = False  # a week that could not be posted is tried again at next_run


async def get_settings(db: Database, guild_id: int) -> DigestSettings | None:
    async with db.read() as conn:
        return await digests_repo.get_settings(conn, guild_id)


async def _zone(conn: aiosqlite.Connection, settings: DigestSettings) -> tuple[str, str]:
    if settings.zone:
        return settings.zone, "as set with /digest setup"
    server = await settings_repo.get_guild_timezone(conn, settings.guild_id)
    if server:
        return server, "the server's time zone"
    return DEFAULT_TIMEZONE, "UTC: no zone given and the server has none"


async def setup(
    db: Database,
    scheduler: Scheduler,
    *,
    guild_id: int,
    user_id: int,
    channel_id: int,
    weekday: int | None,
    at: str | None,
    zone: str | None,
    now: datetime,
) -> Planned:
    """Set up (or change, or restart) the server's digest; options left out keep what was set
    before, else the defaults (Monday, 10:00, the server's zone). The pending week's job moves
    in the same transaction."""
    at_time = parse_at(at) if at is not None else None
    zone_name = parse_timezone(zone) if zone is not None else None
    async with db.transaction() as conn:
        before = await digests_repo.get_settings(conn, guild_id)
        settings = DigestSettings(
            guild_id=guild_id,
            channel_id=channel_id,
            weekday=weekday if weekday is not None else (before.weekday if before else DEFAULT_WEEKDAY),
            at=at_time or (before.at if before else DEFAULT_AT),
            zone=zone_name or (before.zone if before else None),
            sections_off=before.sections_off if before else frozenset(),
            quiet=before.quiet if before else "post",
            enabled=True,
        )  # fmt: skip
        await digests_repo.save_settings(conn, settings, user_id, now)
        return await _plan(conn, scheduler, settings, now)


async def _plan(
    conn: aiosqlite.Connection, scheduler: Scheduler, settings: DigestSettings, now: datetime
) -> Planned:
    """Cancel the server's pending digest job and schedule the next week not yet handled. A
    week waiting to retry (its channel was gone, say) is not given up: it is tried again now,
    with these settings, and plans the next week when it is done."""
    zone, source = await _zone(conn, settings)
    runs = await jobs_repo.pending_runs_with_prefix(conn, f"digest:{settings.guild_id}:")
    retrying = [key for key, _, attempts in runs if attempts > 0]
    for key, _, _ in runs:
        if not settings.enabled or key not in retrying:
            await scheduler.cancel_in(conn, dedupe_key=key)
    if not settings.enabled:
        return Planned(settings, zone, source, None)
    if retrying:
        await scheduler.reschedule_in(conn, retrying[0], now)
        return Planned(settings, zone, source, now, retrying=True)
    due = await _next_unhandled(conn, settings.guild_id, settings.schedule(zone), now)
    await scheduler.schedule_in(conn, digest_job(settings.guild_id, due, zone))
    return Planned(settings, zone, source, due)


async def _next_unhandled(
    conn: aiosqlite.Connection, guild_id: int, schedule: DigestSchedule, after: datetime
) -> datetime:
    due = next_run(schedule, after)
    while await digests_repo.get_post(conn, guild_id, week_key(due, schedule.zone)) is not None:
        due = next_run(schedule, due)
    return due


async def turn_off(
    db: Database, scheduler: Scheduler, guild_id: int, user_id: int, now: datetime
) -> bool:
    """Stop the digest (settings kept). False if it was not on."""
    async with db.transaction() as conn:
        settings = await digests_repo.get_settings(conn, guild_id)
        if settings is None or not settings.enabled:
            return False
        settings = replace(settings, enabled=False)
        await digests_repo.save_settings(conn, settings, user_id, now)
        await _plan(conn, scheduler, settings, now)
    return True


async def _set_up_first(conn: aiosqlite.Connection, guild_id: int) -> DigestSettings:
    settings = await digests_repo.get_settings(conn, guild_id)
    if settings is None:
        raise UserError("This server has no digest yet: start one with `/digest setup`.")
    return settings


async def set_quiet(db: Database, guild_id: int, user_id: int, quiet: str, now: datetime) -> None:
    if quiet not in ("post", "skip"):
        raise UserError("**quiet** is `post` (a one-line quiet week) or `skip` (nothing).")
    async with db.transaction() as conn:
        settings = await _set_up_first(conn, guild_id)
        await digests_repo.save_settings(conn, replace(settings, quiet=quiet), user_id, now)


async def set_sections(
    db: Database, guild_id: int, user_id: int, shown: set[str], now: datetime
) -> DigestSettings:
    unknown = shown - SECTIONS.keys()
    if unknown:
        raise UserError(f"There is no digest section called {', '.join(sorted(unknown))}.")
    async with db.transaction() as conn:
        settings = await _set_up_first(conn, guild_id)
        settings = replace(settings, sections_off=frozenset(SECTIONS.keys() - shown))
        await digests_repo.save_settings(conn, settings, user_id, now)
    return settings


async def follow_server_zone(
    conn: aiosqlite.Connection, scheduler: Scheduler, guild_id: int, now: datetime
) -> None:
    """The server's zone changed (inside that change's transaction): a digest that follows it
    moves to the same local time in the new zone."""
    settings = await digests_repo.get_settings(conn, guild_id)
    if settings is not None and settings.enabled and settings.zone is None:
        await _plan(conn, scheduler, settings, now)


@dataclass(frozen=True, slots=True)
class DigestStatus:
    settings: DigestSettings
    zone: str
    zone_source: str
    next_run: datetime | None
    last_posted: aiosqlite.Row | None
    last_weekly: aiosqlite.Row | None


async def status(db: Database, guild_id: int) -> DigestStatus:
    async with db.read() as conn:
        settings = await _set_up_first(conn, guild_id)
        zone, source = await _zone(conn, settings)
        runs = await jobs_repo.pending_runs_with_prefix(conn, f"digest:{guild_id}:")
        return DigestStatus(
            settings, zone, source, runs[0][1] if runs else None,
            await digests_repo.last_posted(conn, guild_id),
            await digests_repo.last_weekly(conn, guild_id),
        )  # fmt: skip


# -- what a week holds --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyRecap:
    party: Party
    came: int  # Going or Maybe
    top_track: tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class SwapResult:
    round: SwapRound
    summary: RevealSummary


@dataclass(frozen=True, slots=True)
class DigestContent:
    """Everything a digest shows, for the week ``[start, end)`` of one server."""

    guild_id: int
    start: datetime
    end: datetime
    now: datetime
    sections_off: frozenset[str]
    picks: list[Pick]
    firsts: list[FirstOnMap]
    swaps: list[SwapResult]
    parties: list[PartyRecap]
    coming: list[Party]
    from_archive: Pick | None

    @property
    def quiet(self) -> bool:
        """Nothing to show: no section has anything."""
        return not (self.picks or self.swaps or self.parties or self.coming or self.from_archive)

    def pick(self, pick_id: int) -> Pick | None:
        return next((p for p in self.picks if p.id == pick_id), None)


def map_fact(pick: Pick) -> MapFact:
    return MapFact(pick.id, pick.created_at, pick.country, pick.city, pick.label, pick.subgenres)


async def gather(
    db: Database,
    guild_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    sections_off: frozenset[str] = frozenset(),
    zone: str = DEFAULT_TIMEZONE,
) -> DigestContent:
    """What the digest of ``[start, end)`` shows (sections turned off are not read), in one
    read."""
    async with db.read() as conn:
        return await _gather(conn, guild_id, start, end, now, sections_off, zone)


async def _gather(
    conn: aiosqlite.Connection,
    guild_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    sections_off: frozenset[str],
    zone: str,
) -> DigestContent:
    picks = await digests_repo.week_picks(conn, guild_id, start, end)
    firsts = [] if "new" in sections_off else await _firsts(conn, guild_id, picks, start)
    swaps: list[SwapResult] = []
    if "swaps" not in sections_off:
        for found in await digests_repo.rounds_revealed(conn, guild_id, start, end):
            entries = await swaps_repo.entries(conn, found.id)
            own = {e.user_id: e for e in entries if e.user_id is not None}
            summary = reveal_summary(entries, await swaps_repo.reviews(conn, found.id), own)
            swaps.append(SwapResult(found, summary))
    parties: list[PartyRecap] = []
    if "parties" not in sections_off:
        for party in await digests_repo.parties_held(conn, guild_id, start, end):
            parties.append(
                PartyRecap(
                    party,
                    await digests_repo.came(conn, party.id),
                    await digests_repo.top_track(conn, party.id),
                )
            )
    coming = (
        []
        if "coming" in sections_off
        else await digests_repo.parties_coming(conn, guild_id, now, now + COMING_WITHIN, COMING_MAX)
    )
    from_archive = (
        None if "archive" in sections_off else await _from_archive(conn, guild_id, start, zone)
    )
    return DigestContent(
        guild_id, start, end, now, sections_off, picks, firsts, swaps, parties, coming,
        from_archive,
    )  # fmt: skip


async def _firsts(
    conn: aiosqlite.Connection, guild_id: int, picks: list[Pick], start: datetime
) -> list[FirstOnMap]:
    facts = [map_fact(pick) for pick in picks]
    seen: dict[MapKind, set[str]] = {}
    for kind in MAP_KINDS:
        values = sorted({value for fact in facts for value in fact.values(kind)})
        found = await digests_repo.seen_before(conn, guild_id, kind, values, start)
        seen[kind] = {map_key(kind, value) for value in found}
    return firsts_on_map(facts, seen)


async def _from_archive(
    conn: aiosqlite.Connection, guild_id: int, start: datetime, zone: str
) -> Pick | None:
    """The most loved pick (then heard, then the earliest) shared in this same ISO week in an
    earlier year, the most recent such year that has one."""
    first = await digests_repo.first_pick_at(conn, guild_id)
    if first is None:
        return None
    for begin, end in same_week_in_past_years(start, zone, first):
        picks = await digests_repo.week_picks(conn, guild_id, begin, end)
        if picks:
            return max(picks, key=lambda p: (p.loved, p.heard, -p.created_at, -p.id))
    return None


# -- the weekly job --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeekPlan:
    """What the job does with a week: ``done`` (handled already, or the digest is off or gone:
    nothing), ``skip`` (too late), ``post``."""

    action: str
    settings: DigestSettings | None
    zone: str
    content: DigestContent | None = None


async def plan_week(
    db: Database, guild_id: int, week: str, due: datetime, now: datetime
) -> WeekPlan:
    async with db.read() as conn:
        settings = await digests_repo.get_settings(conn, guild_id)
        if settings is None or not settings.enabled:
            return WeekPlan("done", settings, DEFAULT_TIMEZONE)
        zone, _ = await _zone(conn, settings)
        if await digests_repo.get_post(conn, guild_id, week) is not None:
            return WeekPlan("done", settings, zone)
        if now - due >= timedelta(days=3):
            return WeekPlan("skip", settings, zone)
        start, end = week_window(settings.schedule(zone), due)
        # After the day or time moved, the week starts where the last one ended instead (no
        # gap, no overlap).
        last = await digests_repo.last_weekly(conn, guild_id)
        if last is not None and end - timedelta(days=14) < from_epoch(last["due_at"]) < end:
            start = from_epoch(last["due_at"])
        content = await _gather(conn, guild_id, start, end, now, settings.sections_off, zone)
    return WeekPlan("post", settings, zone, content)


@dataclass(frozen=True, slots=True)
class WeekOf:
    """One server's week: its key (``2026-W49``) and when its digest was due."""

    guild_id: int
    week: str
    due: datetime


async def record_week(
    db: Database,
    scheduler: Scheduler,
    of: WeekOf,
    *,
    status: str,
    now: datetime,
    channel_id: int | None = None,
    message_id: int | None = None,
    problem: str | None = None,
    schedule_next: bool = False,
) -> JobSpec | None:
    """Record how a week ended and return the next week's job (for the scheduler to insert as
    this job completes), or schedule it here when the job did not complete (it gave up)."""
    async with db.transaction() as conn:
        await digests_repo.record(
            conn, guild_id=of.guild_id, week=of.week, status=status, due=of.due, now=now,
            channel_id=channel_id, message_id=message_id,
        )  # fmt: skip
        if problem is not None:
            await digests_repo.set_problem(conn, of.guild_id, problem, now)
        spec = await _next_job(conn, of.guild_id, now)
        if spec is not None and schedule_next:
            await scheduler.schedule_in(conn, spec)
            return None
    return spec


async def _next_job(conn: aiosqlite.Connection, guild_id: int, after: datetime) -> JobSpec | None:
    settings = await digests_repo.get_settings(conn, guild_id)
    if settings is None or not settings.enabled:
        return None
    zone, _ = await _zone(conn, settings)
    due = await _next_unhandled(conn, guild_id, settings.schedule(zone), after)
    return digest_job(guild_id, due, zone)


async def note_problem(db: Database, guild_id: int, problem: str | None, now: datetime) -> None:
    async with db.transaction() as conn:
        await digests_repo.set_problem(conn, guild_id, problem, now)


async def post_recorded(db: Database, guild_id: int, week: str) -> aiosqlite.Row | None:
    async with db.read() as conn:
        return await digests_repo.get_post(conn, guild_id, week)


# -- extra digests (/digest now) ----------------------------------------------------------------


async def record_extra(
    db: Database,
    *,
    guild_id: int,
    tag: str,
    channel_id: int,
    message_id: int,
    user_id: int,
    now: datetime,
) -> None:
    async with db.transaction() as conn:
        await digests_repo.record(
            conn, guild_id=guild_id, week=f"extra:{tag}", status="posted", due=now, now=now,
            channel_id=channel_id, message_id=message_id, posted_by=user_id,
        )  # fmt: skip


def last_seven_days(now: datetime) -> tuple[datetime, datetime]:
    """The window of ``/digest now`` and ``/digest preview``: up to and including this second."""
    end = now.replace(microsecond=0) + timedelta(seconds=1)
    return end - timedelta(days=7), end


async def week_picks(db: Database, guild_id: int, start: datetime, end: datetime) -> list[Pick]:
    async with db.read() as conn:
        return await digests_repo.week_picks(conn, guild_id, start, end)


async def posted_elsewhere(db: Database, guild_id: int, week: str) -> tuple[int, int] | None:
    """``(channel_id, message_id)`` of a week's digest the outbox posted, in whichever channel
    (the digest channel may have changed since): a week is never posted twice."""
    async with db.read() as conn:
        for entry in await outbox_repo.with_prefix(conn, f"{digest_key(guild_id, week)}:"):
            if entry.status == "posted" and entry.channel_id and entry.posted_id:
                return entry.channel_id, entry.posted_id
    return None


async def next_job(db: Database, guild_id: int, after: datetime) -> JobSpec | None:
    """The next week's job, from the settings as they are now (None when the digest is off)."""
    async with db.read() as conn:
        return await _next_job(conn, guild_id, after)
