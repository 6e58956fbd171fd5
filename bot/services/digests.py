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
from collections.abc import Set
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import aiosqlite

from bot.db import Database
from bot.db.repos import digests as digests_repo
from bot.db.repos import jobs as jobs_repo
from bot.db.repos import outbox as outbox_repo
from bot.db.repos import picks as picks_repo
from bot.db.repos import settings as settings_repo
from bot.db.repos import swaps as swaps_repo
from bot.db.rows import SyncConnection, in_one_hop
from bot.domain.digest import (
    COMING_WITHIN,
    DEFAULT_AT,
    DEFAULT_WEEKDAY,
    RANKED_MAX,
    SECTIONS,
    SKIP_AFTER,
    DigestSchedule,
    DigestSettings,
    FirstOnMap,
    MapFact,
    WeekCounts,
    count_week,
    firsts_on_map,
    lateness,
    next_run,
    parse_at,
    previous_run,
    same_week_in_past_years,
    week_key,
)
from bot.domain.jobs import JobKind, JobSpec, RetryPolicy
from bot.domain.outbox import OutboxEntry
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
#: Picks of the week read in full for "Most loved": as many as are ranked.
SHOWN_MAX = RANKED_MAX
#: A week of more picks than this is counted in SQL (``digests_repo.read_week_counts``): a few
#: statements over the week's range of one index, whose cost hardly grows with the week, instead
#: of every pick read into Python (which is cheaper for a week of a few dozen).
COUNT_IN_SQL_OVER = 100


@dataclass(frozen=True, slots=True)
class DigestRun:
    """The payload of a week's job: the week (``2026-W49``), when it is due, and where the
    time it covers starts (epoch seconds). The window is fixed when the job is planned, so
    retries and restarts post the same week whatever changes meanwhile."""

    week: str
    due: int
    start: int


#: Retried hourly, three times (the digest's own policy, from the groundwork issue).
DIGEST_RETRY = RetryPolicy.fixed(timedelta(hours=1), retries=3)
DIGEST = JobKind(
    "digest.post",
    DigestRun,
    retry=DIGEST_RETRY,
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


def digest_job(guild_id: int, due: datetime, zone: str, start: datetime) -> JobSpec:
    week = week_key(due, zone)
    run = DigestRun(week, to_epoch(due), to_epoch(start))
    return DIGEST.spec(due, run, digest_key(guild_id, week), guild_id=guild_id)


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
    """Cancel the server's pending digest job and plan the next week not yet handled, in the
    caller's transaction. A week whose time has passed and is waiting (to retry: its channel
    was gone, say; or for the bot to start) is kept and tried again now, with these settings;
    it plans the next week when it is done. A week being posted right now is left to finish."""
    zone, source = await _zone(conn, settings)
    live = await digests_repo.live_jobs(conn, settings.guild_id)
    overdue = [job for job in live if job.status == "pending" and job.due <= now]
    for job in live:
        if job.status == "pending" and (not settings.enabled or job not in overdue[:1]):
            await scheduler.cancel_in(conn, dedupe_key=job.key)
    if not settings.enabled:
        return Planned(settings, zone, source, None)
    if overdue:
        await scheduler.reschedule_in(conn, overdue[0].key, now)
        return Planned(settings, zone, source, now, retrying=True)
    posting = {job.week for job in live if job.status == "running"}
    spec = await _next_spec(conn, settings.guild_id, settings.schedule(zone), now, posting)
    await scheduler.schedule_in(conn, spec)
    return Planned(settings, zone, source, spec.run_at)


async def _next_spec(
    conn: aiosqlite.Connection,
    guild_id: int,
    schedule: DigestSchedule,
    after: datetime,
    skip: Set[str] = frozenset(),
    *,
    start: datetime | None = None,
) -> JobSpec:
    """The job of the first run after ``after`` whose week is not handled (recorded, or its job
    already ran) nor in ``skip``. Its window starts at ``start`` if given and at most eight days
    back, else where the last digest's ended (after a move), else a week back."""
    due = next_run(schedule, after)
    while True:
        week = week_key(due, schedule.zone)
        if (
            week not in skip
            and await digests_repo.get_post(conn, guild_id, week) is None
            and await jobs_repo.status_of(conn, digest_key(guild_id, week)) in (None, "cancelled")
        ):
            break
        due = next_run(schedule, due)
    if start is None or due - start > timedelta(days=8):
        start = previous_run(schedule, due)
        last = await digests_repo.last_weekly(conn, guild_id)
        if last is not None and due - timedelta(days=14) < from_epoch(last["due_at"]) < due:
            start = from_epoch(last["due_at"])
    return digest_job(guild_id, due, schedule.zone, start)


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
    # Every pick of the week, in the order shared; none when the week was busier than
    # COUNT_IN_SQL_OVER (its counts were counted in SQL, and only its shown picks read).
    facts: list[MapFact]
    picks: list[Pick]  # in full, the ones a digest shows (the most loved, the firsts), in order
    firsts: list[FirstOnMap]
    swaps: list[SwapResult]
    parties: list[PartyRecap]
    coming: list[Party]
    from_archive: Pick | None
    counts: WeekCounts

    @property
    def quiet(self) -> bool:
        """Nothing to show: no section has anything."""
        return not (
            self.counts.picks or self.swaps or self.parties or self.coming or self.from_archive
        )

    def pick(self, pick_id: int) -> Pick | None:
        return next((p for p in self.picks if p.id == pick_id), None)


def map_fact(pick: Pick) -> MapFact:
    return MapFact(
        pick.id, pick.created_at, pick.country, pick.city, pick.label, pick.subgenres,
        pick.shared_by, pick.loved, pick.heard,
    )  # fmt: skip


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
        return await _gather(conn, WeekAsked(guild_id, start, end, now, sections_off, zone))


async def preview(
    db: Database, guild_id: int, start: datetime, end: datetime, now: datetime
) -> DigestContent:
    """What the server's digest would show for ``[start, end)``, with its sections and in its
    zone (those of a server without a digest yet: all sections, the server's zone)."""
    async with db.read() as conn:
        settings = await digests_repo.get_settings(conn, guild_id)
        if settings is None:
            server = await settings_repo.get_guild_timezone(conn, guild_id)
            zone, off = server or DEFAULT_TIMEZONE, frozenset[str]()
        else:
            zone, off = (await _zone(conn, settings))[0], settings.sections_off
        return await _gather(conn, WeekAsked(guild_id, start, end, now, off, zone))


@dataclass(frozen=True, slots=True)
class WeekAsked:
    """A digest to read: whose, of which ``[start, end)``, as of ``now``, without the sections
    turned off, in the digest's zone."""

    guild_id: int
    start: datetime
    end: datetime
    now: datetime
    sections_off: frozenset[str] = frozenset()
    zone: str = DEFAULT_TIMEZONE


async def _gather(conn: aiosqlite.Connection, asked: WeekAsked) -> DigestContent:
    return await in_one_hop(conn, lambda c: read_week(c, asked))


def read_week(conn: SyncConnection, asked: WeekAsked) -> DigestContent:
    """What the digest of ``asked`` shows, read on the connection's thread: a dozen statements
    and more (a busy week), one round trip (``bot.db.rows.in_one_hop``)."""
    guild_id, start, end, now = asked.guild_id, asked.start, asked.end, asked.now
    sections_off, zone = asked.sections_off, asked.zone
    # Most weeks have few picks: a digest then shows them all, read in full in one statement
    # (their facts with them). A busier week's facts are read alone and only the shown in full;
    # a busy one's are not read at all: its counts are counted in SQL, and "new on the map"
    # looks only at the picks shared when a value was first seen.
    few = digests_repo.read_few_week_picks(conn, guild_id, start, end, SHOWN_MAX)
    if few is not None:
        facts = looked_at = [map_fact(pick) for pick in few]
        counts = count_week(facts)
    else:
        size = digests_repo.read_week_size(conn, guild_id, start, end)
        if size[0] > COUNT_IN_SQL_OVER:
            facts = []
            counts = digests_repo.read_week_counts(conn, guild_id, start, end, size)
            # the only picks that can be firsts: those shared when a value was first seen
            looked_at = (
                []
                if "new" in sections_off
                else digests_repo.read_week_firsts_facts(conn, guild_id, start, end)
            )
        else:
            facts = looked_at = digests_repo.read_week_facts(conn, guild_id, start, end)
            counts = count_week(facts)
    firsts = [] if "new" in sections_off else _firsts(conn, guild_id, looked_at, start)
    if few is not None:
        picks = few
    else:
        shown = set(counts.ranked[:SHOWN_MAX]) | {first.pick_id for first in firsts}
        full = picks_repo.read_picks(conn, guild_id, sorted(shown))
        picks = sorted(full.values(), key=lambda p: (p.created_at, p.id))
    swaps: list[SwapResult] = []
    if "swaps" not in sections_off:
        for found in digests_repo.read_rounds_revealed(conn, guild_id, start, end):
            entries = swaps_repo.read_entries(conn, found.id)
            own = {e.user_id: e for e in entries if e.user_id is not None}
            summary = reveal_summary(entries, swaps_repo.read_reviews(conn, found.id), own)
            swaps.append(SwapResult(found, summary))
    parties: list[PartyRecap] = []
    if "parties" not in sections_off:
        for party in digests_repo.read_parties_held(conn, guild_id, start, end):
            parties.append(
                PartyRecap(
                    party,
                    digests_repo.read_came(conn, party.id),
                    digests_repo.read_top_track(conn, party.id),
                )
            )
    coming = (
        []
        if "coming" in sections_off
        else digests_repo.read_parties_coming(conn, guild_id, now, now + COMING_WITHIN, COMING_MAX)
    )
    from_archive = None if "archive" in sections_off else _from_archive(conn, guild_id, start, zone)
    return DigestContent(
        guild_id, start, end, now, sections_off, facts, picks, firsts, swaps, parties, coming,
        from_archive, counts,
    )  # fmt: skip


def _firsts(
    conn: SyncConnection, guild_id: int, facts: list[MapFact], start: datetime
) -> list[FirstOnMap]:
    """The week's firsts on the map: values of its picks (``facts``: all of them, or at least
    those shared when a value was first seen) first seen on a live pick of the server since the
    week began (migration 0013 keeps when each was first seen)."""
    return firsts_on_map(facts, digests_repo.read_first_seen_since(conn, guild_id, start))


def _from_archive(conn: SyncConnection, guild_id: int, start: datetime, zone: str) -> Pick | None:
    """The most loved pick (then heard, then the earliest) shared in this same ISO week in an
    earlier year, the most recent such year that has one."""
    first = digests_repo.read_first_pick_at(conn, guild_id)
    if first is None:
        return None
    for begin, end in same_week_in_past_years(start, zone, first):
        best = digests_repo.read_best_of_week(conn, guild_id, begin, end)
        if best is not None:
            return best
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


async def plan_week(db: Database, guild_id: int, run: DigestRun, now: datetime) -> WeekPlan:
    """What the job does with its week: nothing if the digest is off or the week was handled,
    skip it if it is 3 days late or more (``bot.domain.digest.lateness``), else post what the
    week's window holds."""
    due = from_epoch(run.due)
    async with db.read() as conn:
        settings = await digests_repo.get_settings(conn, guild_id)
        if settings is None or not settings.enabled:
            return WeekPlan("done", settings, DEFAULT_TIMEZONE)
        zone, _ = await _zone(conn, settings)
        if await digests_repo.get_post(conn, guild_id, run.week) is not None:
            return WeekPlan("done", settings, zone)
        if lateness(due, now) == "skip":
            return WeekPlan("skip", settings, zone)
        asked = WeekAsked(guild_id, from_epoch(run.start), due, now, settings.sections_off, zone)
        content = await _gather(conn, asked)
    return WeekPlan("post", settings, zone, content)


@dataclass(frozen=True, slots=True)
class WeekOf:
    """One server's week: its key (``2026-W49``) and when its digest was due."""

    guild_id: int
    week: str
    due: datetime


async def record_week(
    db: Database,
    of: WeekOf,
    *,
    status: str,
    now: datetime,
    channel_id: int | None = None,
    message_id: int | None = None,
    problem: str | None = None,
) -> JobSpec | None:
    """Record how a week ended and return the next week's job, for the scheduler to insert in
    the transaction that marks this week's job done (None when the digest is off)."""
    async with db.transaction() as conn:
        await digests_repo.record(
            conn, guild_id=of.guild_id, week=of.week, status=status, due=of.due, now=now,
            channel_id=channel_id, message_id=message_id,
        )  # fmt: skip
        if problem is not None:
            await digests_repo.set_problem(conn, of.guild_id, problem, now)
        return await _next_job(conn, of, now)


async def _next_job(conn: aiosqlite.Connection, of: WeekOf, now: datetime) -> JobSpec | None:
    """The week after ``of``: the first run after its due time, or, after downtime, the first
    that is not yet 3 days late (those in between are past saving: they are not posted, as a
    digest that late would not be). Its window starts where ``of``'s ended."""
    settings = await digests_repo.get_settings(conn, of.guild_id)
    if settings is None or not settings.enabled:
        return None
    zone, _ = await _zone(conn, settings)
    after = max(of.due, now - SKIP_AFTER)
    return await _next_spec(conn, of.guild_id, settings.schedule(zone), after, start=of.due)


async def give_up_week(
    db: Database, scheduler: Scheduler, of: WeekOf, problem: str, now: datetime
) -> None:
    """A week's job failed for good outside the digest's own handling (an unexpected error):
    record the week as not posted and plan the next, in one transaction."""
    async with db.transaction() as conn:
        await digests_repo.record(
            conn, guild_id=of.guild_id, week=of.week, status="failed", due=of.due, now=now
        )
        await digests_repo.set_problem(conn, of.guild_id, problem, now)
        spec = await _next_job(conn, of, now)
        if spec is not None:
            await scheduler.schedule_in(conn, spec)


async def plan_missing(
    db: Database, scheduler: Scheduler, now: datetime, guild_id: int | None = None
) -> int:
    """Give every digest that is on and has no week planned (its job was lost: the bot left the
    server and came back, say) its next week, the server's or every one's; returns how many."""
    async with db.transaction() as conn:
        planned = 0
        for settings in await digests_repo.unplanned(conn, guild_id):
            await _plan(conn, scheduler, settings, now)
            planned += 1
    return planned


async def note_problem(db: Database, guild_id: int, problem: str | None, now: datetime) -> None:
    async with db.transaction() as conn:
        await digests_repo.set_problem(conn, guild_id, problem, now)


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


async def week_posts(db: Database, guild_id: int, week: str) -> list[OutboxEntry]:
    """The outbox entries of a week's digest, one per channel it was ever meant for."""
    async with db.read() as conn:
        return await outbox_repo.with_prefix(conn, f"{digest_key(guild_id, week)}:")


async def next_job(db: Database, of: WeekOf, now: datetime) -> JobSpec | None:
    """The week after ``of``, from the settings as they are now (None when the digest is off)."""
    async with db.read() as conn:
        return await _next_job(conn, of, now)
