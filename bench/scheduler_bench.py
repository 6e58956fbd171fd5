"""Scheduler benchmark: the real runner on the real clock, over 100,000 pending jobs.

    .venv/bin/python bench/scheduler_bench.py [--jobs 100000] [--guilds 1000] [--idle-seconds 60]
    .venv/bin/python bench/scheduler_bench.py --quick
    .venv/bin/python bench/scheduler_bench.py --handler-ms 100   # handlers as slow as a post

Fills a fresh, migrated database (a folder under bench/.data/, removed afterwards) with ``--jobs``
pending jobs across ``--guilds`` servers: listening parties' reminders and track markers, and one
weekly digest per server, all due between an hour and a week from now. The real ``Scheduler``
with the real ``SystemClock`` runs them, through handlers that only note when they start. In order
it measures: the bulk insert (``schedule_all``); the idle runner's CPU over ``--idle-seconds`` of
wall time with nothing due; the lateness (handler start minus the job's ``run_at``) of every job of
a stream falling due over ``--window-seconds``; a burst of ``--burst`` jobs due in the same second;
the runner's query plans; RSS throughout. Handlers return at once unless ``--handler-ms`` says
otherwise: then the scheduler's ``concurrency`` bounds how many start a second. Figures, not
asserts: the README records them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import platform
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import SystemClock
from bot.db import Database
from bot.db.repos import jobs as jobs_repo
from bot.domain.jobs import Job, JobKind, JobSpec, RetryPolicy
from bot.scheduler import Scheduler

GUILD_BASE = 900_000_000_000_000_000  # snowflake-sized server ids
PARTY_HORIZON = timedelta(days=7)
FIRST_BACKGROUND_DUE = timedelta(hours=1)  # nothing in the background falls due during a run


@dataclass(frozen=True, slots=True)
class PartyReminder:
    party_id: int
    minutes_before: int


@dataclass(frozen=True, slots=True)
class TrackMarker:
    party_id: int
    track: int
    title: str


@dataclass(frozen=True, slots=True)
class WeeklyDigest:
    iso_week: str
    channel_id: int


REMINDER = JobKind(
    "bench.party_reminder",
    PartyReminder,
    max_lateness=timedelta(minutes=5),
    summary="a listening-party reminder",
)
MARKER = JobKind(
    "bench.track_marker",
    TrackMarker,
    max_lateness=timedelta(minutes=2),
    summary="a track marker",
)
DIGEST = JobKind(
    "bench.weekly_digest",
    WeeklyDigest,
    retry=RetryPolicy.fixed(timedelta(hours=1), retries=3),
    summary="the weekly digest",
)
KINDS: tuple[JobKind[PartyReminder] | JobKind[TrackMarker] | JobKind[WeeklyDigest], ...] = (
    REMINDER,
    MARKER,
    DIGEST,
)


# -- the jobs ---------------------------------------------------------------------------------


class JobMaker:
    """Job specs shaped like the bot's: every job has a server and a dedupe key."""

    def __init__(self, guilds: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.guilds = guilds
        self.parties = 0
        self.serial = 0

    def guild(self) -> int:
        return GUILD_BASE + self.rng.randrange(self.guilds)

    def party(self, start: datetime, earliest: datetime) -> Iterator[JobSpec]:
        """A party's reminders (24 h and 15 min before, those still ahead) and its track
        markers (8 to 14 tracks of 2½ to 7 minutes)."""
        self.parties += 1
        party_id, guild = self.parties, self.guild()
        for minutes in (24 * 60, 15):
            at = start - timedelta(minutes=minutes)
            if at >= earliest:
                key = f"party:{party_id}:reminder:{minutes}"
                yield REMINDER.spec(at, PartyReminder(party_id, minutes), key, guild_id=guild)
        at = start
        for track in range(self.rng.randint(8, 14)):
            title = f"track {track + 1}"
            key = f"party:{party_id}:marker:{track}"
            yield MARKER.spec(at, TrackMarker(party_id, track, title), key, guild_id=guild)
            at += timedelta(seconds=self.rng.randint(150, 420))

    def digest(self, guild: int, at: datetime) -> JobSpec:
        week = "{}-W{:02d}".format(*at.isocalendar()[:2])
        return DIGEST.spec(
            at, WeeklyDigest(week, guild + 1), f"digest:{guild}:{week}", guild_id=guild
        )

    def background(self, count: int, now: datetime) -> list[JobSpec]:
        """``count`` jobs between ``FIRST_BACKGROUND_DUE`` and a week ahead: each server's
        digest at a whole hour of its choosing, then parties starting on whole minutes."""
        earliest = now + FIRST_BACKGROUND_DUE
        first_hour = earliest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        specs = [
            self.digest(GUILD_BASE + g, first_hour + timedelta(hours=self.rng.randrange(160)))
            for g in range(min(self.guilds, count))
        ]
        minutes = int(PARTY_HORIZON.total_seconds() // 60)
        while len(specs) < count:
            start = first_hour + timedelta(minutes=self.rng.randrange(60, minutes - 120))
            specs.extend(self.party(start, earliest))
        return specs[:count]

    def soon(self, at: datetime, exact: bool) -> JobSpec:
        """One job due at ``at``: a reminder, a marker or a digest. ``exact`` keeps ``at`` as it
        is; otherwise it is moved by a random fraction of a second (a marker after a resume, a
        retry, a party set "in 2 hours")."""
        if not exact:
            at += timedelta(seconds=self.rng.random())
        self.serial += 1
        n, guild = self.serial, self.guild()
        roll = self.rng.random()
        if roll < 0.3:
            return REMINDER.spec(at, PartyReminder(-n, 15), f"soon:{n}:reminder", guild_id=guild)
        if roll < 0.9:
            payload = TrackMarker(-n, n % 12, f"track {n % 12 + 1}")
            return MARKER.spec(at, payload, f"soon:{n}:marker", guild_id=guild)
        return DIGEST.spec(at, WeeklyDigest("soon", guild + 1), f"soon:{n}:digest", guild_id=guild)

    def stream(self, count: int, start: datetime, seconds: int) -> list[JobSpec]:
        """``count`` jobs due over ``seconds`` from ``start`` (a whole second): 60 % at random
        moments, 40 % in clusters on the whole second every 5 s (reminders for parties on the
        hour, markers of parties started together)."""
        specs = []
        for n in range(count):
            if n % 5 < 3:
                specs.append(
                    self.soon(start + timedelta(seconds=self.rng.randrange(seconds)), False)
                )
            else:
                cluster = self.rng.randrange(max(1, seconds // 5)) * 5
                specs.append(self.soon(start + timedelta(seconds=cluster), True))
        return specs


# -- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    started: float  # time.time() when the handler began
    run_at: float  # the job's run_at, as stored (whole seconds, rounded up)


class StartLog:
    """The handlers: note when each job starts, and say when every awaited job has."""

    def __init__(self, handler_seconds: float) -> None:
        self.handler_seconds = handler_seconds
        self.starts: dict[int, Start] = {}
        self.skipped: set[int] = set()
        self.awaited: set[int] = set()
        self.all_started = asyncio.Event()

    def expect(self, job_ids: set[int]) -> None:
        self.awaited = set(job_ids)
        self.all_started.clear()

    def _seen(self, job_id: int) -> None:
        self.awaited.discard(job_id)
        if not self.awaited:
            self.all_started.set()

    async def handle(self, job: Job[object]) -> None:
        self.starts[job.id] = Start(time.time(), job.run_at.timestamp())
        self._seen(job.id)
        if self.handler_seconds:
            await asyncio.sleep(self.handler_seconds)  # a post to Discord, say

    async def skip(self, job: Job[object]) -> None:
        self.skipped.add(job.id)
        self._seen(job.id)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class Lateness:
    count: int
    p50: float
    p95: float
    p99: float
    worst: float
    earliest: float
    over_one_second: int

    @classmethod
    def of(cls, seconds: list[float]) -> Lateness:
        if not seconds:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan, 0)
        return cls(
            len(seconds),
            percentile(seconds, 0.50),
            percentile(seconds, 0.95),
            percentile(seconds, 0.99),
            max(seconds),
            min(seconds),
            sum(1 for s in seconds if s > 1.0),
        )

    def line(self) -> str:
        return (
            f"p50 {ms(self.p50)}  p95 {ms(self.p95)}  p99 {ms(self.p99)}  max {ms(self.worst)}"
            f"  (earliest {ms(self.earliest)}); > 1 s late: {self.over_one_second:,}"
        )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def memory_kb() -> dict[str, int]:
    """``VmRSS`` (current) and ``VmHWM`` (peak since the last reset), in kB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


class Steal:
    """The share of the machine's CPU time the hypervisor gave to others (``steal`` in
    /proc/stat) between ``start`` and ``share``: on a shared VM it says how far to trust a run."""

    def __init__(self) -> None:
        self.start = self._ticks()

    @staticmethod
    def _ticks() -> tuple[int, int]:
        fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return fields[7], sum(fields[:8])  # steal; user..steal

    def share(self) -> float:
        (steal0, total0), (steal1, total1) = self.start, self._ticks()
        return (steal1 - steal0) / max(1, total1 - total0)


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


async def insert(scheduler: Scheduler, specs: list[JobSpec]) -> tuple[list[int], float]:
    started = time.perf_counter()
    scheduled = await scheduler.schedule_all(specs)
    return [s.job_id for s in scheduled], time.perf_counter() - started


async def query_plans(db: Database) -> dict[str, str]:
    """What SQLite does for the runner's two queries, with every bench kind registered."""
    kinds = sorted(kind.name for kind in KINDS)
    params = {"kinds": json.dumps(kinds), "now": int(time.time()), "limit": 8}
    plans = {}
    async with db.read() as conn:
        for name, sql in (
            ("next_run_at", jobs_repo.NEXT_RUN_AT),
            ("claim_due", jobs_repo.CLAIM_DUE),
        ):
            rows = await conn.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
            plans[name] = "; ".join(str(row[3]) for row in rows)
    return plans


async def time_next_run_at(db: Database, runs: int = 200) -> float:
    kinds = [kind.name for kind in KINDS]
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        async with db.read() as conn:
            await jobs_repo.next_run_at(conn, kinds)
        samples.append(time.perf_counter() - t0)
    return percentile(samples, 0.5)


async def count_by_status(db: Database) -> dict[str, int]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT status, count(*) FROM jobs GROUP BY status")
    return {str(row[0]): int(row[1]) for row in rows}


# -- the run ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000, help="pending jobs (default 100,000)")
    parser.add_argument("--guilds", type=int, default=1_000, help="servers (default 1,000)")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--window-seconds", type=int, default=30, help="the due stream's length")
    parser.add_argument("--stream", type=int, default=3_000, help="jobs due over the window")
    parser.add_argument("--burst", type=int, default=5_000, help="jobs due in the same second")
    parser.add_argument(
        "--handler-ms",
        type=float,
        default=0.0,
        help="how long each handler takes after noting its start (default 0: the scheduler's "
        "own cost; 100 is about a post to Discord)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run: 10,000 jobs, 100 servers, 5 s idle, 300 jobs over 5 s, a burst of 1,000",
    )
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.guilds, args.idle_seconds = 10_000, 100, 5.0
        args.window_seconds, args.stream, args.burst = 5, 300, 1_000
    return args


async def main() -> None:
    args = parse_args()
    folder = Path(__file__).parent / ".data"
    folder.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="scheduler-", dir=folder))
    try:
        db = await Database.open(workdir / "jobs.sqlite3")
        try:
            await run(db, args)
        finally:
            await db.close()
    finally:
        shutil.rmtree(workdir)


async def run(db: Database, args: argparse.Namespace) -> None:
    print(
        f"Scheduler benchmark: {args.jobs:,} pending jobs across {args.guilds:,} servers "
        f"(Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}); "
        f"handlers take {args.handler_ms:g} ms\n"
    )
    rss_before = memory_kb()["VmRSS"]
    log = StartLog(args.handler_ms / 1000)
    scheduler = Scheduler(db, SystemClock())
    for kind in KINDS:
        scheduler.register(kind, log.handle, on_skip=log.skip)
    await scheduler.start()
    print(f"Scheduler concurrency {scheduler.concurrency}")
    maker = JobMaker(args.guilds, args.seed)

    # 1. The bulk insert, with the runner started.
    steal_insert = Steal()
    background = maker.background(args.jobs, datetime.now(UTC))
    mix = {kind.name: sum(1 for s in background if s.kind == kind.name) for kind in KINDS}
    print("Kinds: " + ", ".join(f"{name} {n:,}" for name, n in mix.items()))
    _, insert_seconds = await insert(scheduler, background)
    del background
    gc.collect()
    insert_rate = args.jobs / insert_seconds
    insert_steal = steal_insert.share()
    after_insert = memory_kb()
    print(f"Inserted {args.jobs:,} jobs in {insert_seconds:.1f} s ({insert_rate:,.0f} jobs/s)")

    plans = await query_plans(db)
    next_query = await time_next_run_at(db)
    for name, plan in plans.items():
        print(f"  {name}: {plan}")
    print(f"  next_run_at at {args.jobs:,} pending: {ms(next_query)} p50 (with the lock)")

    # 2. Idle: everything pending, nothing due for an hour.
    gc.freeze()  # as python -m bot does once it has started
    reset_peak_rss()
    await asyncio.sleep(1.0)  # let the runner settle on its sleep
    wakeups, cpu0, usage0 = (
        scheduler.stats.wakeups,
        time.process_time(),
        resource.getrusage(resource.RUSAGE_SELF),
    )
    wall0 = time.perf_counter()
    await asyncio.sleep(args.idle_seconds)
    idle_wall = time.perf_counter() - wall0
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    idle_cpu = time.process_time() - cpu0
    idle_wakeups = scheduler.stats.wakeups - wakeups
    switches = (usage1.ru_nvcsw - usage0.ru_nvcsw) + (usage1.ru_nivcsw - usage0.ru_nivcsw)
    after_idle = memory_kb()
    print(
        f"Idle {idle_wall:.1f} s: CPU {idle_cpu * 1000:.1f} ms = {idle_cpu / idle_wall:.4%} of a "
        f"core; runner wake-ups {idle_wakeups}; context switches {switches}"
    )

    # 3. A stream of jobs falling due, then a burst in one second.
    soon = args.stream + args.burst
    lead = max(3.0, 3 * soon / insert_rate)  # time to insert them before the first is due
    window_start = datetime.fromtimestamp(math.ceil(time.time() + lead), UTC)
    burst_at = window_start + timedelta(seconds=args.window_seconds + 2)
    stream = maker.stream(args.stream, window_start, args.window_seconds)
    burst = [maker.soon(burst_at, exact=True) for _ in range(args.burst)]
    requested = [spec.run_at.timestamp() for spec in stream]
    stream_ids, _ = await insert(scheduler, stream)
    burst_ids, _ = await insert(scheduler, burst)
    if time.time() > window_start.timestamp():
        print("  (warning: inserting the stream took longer than its lead; its first are late)")
    asked = dict(zip(stream_ids, requested, strict=True))
    log.expect(set(stream_ids) | set(burst_ids))
    steal_run = Steal()
    print(
        f"Stream of {args.stream:,} due over {args.window_seconds} s from "
        f"{window_start:%H:%M:%S}, burst of {args.burst:,} at {burst_at:%H:%M:%S} "
        f"({args.jobs + soon:,} pending)"
    )
    timeout = args.window_seconds + 2 + args.burst / 50 + 60
    try:
        await asyncio.wait_for(log.all_started.wait(), timeout)
    except TimeoutError:
        print(f"  (timed out after {timeout:.0f} s: {len(log.awaited):,} jobs never started)")
    run_steal = steal_run.share()
    await asyncio.sleep(0.5)  # let the last completions commit
    await scheduler.stop()
    after_run = memory_kb()

    stream_starts = [log.starts[i] for i in stream_ids if i in log.starts]
    stream_late = Lateness.of([s.started - s.run_at for s in stream_starts])
    asked_late = Lateness.of(
        [log.starts[i].started - asked[i] for i in stream_ids if i in log.starts]
    )
    burst_starts = sorted(log.starts[i].started for i in burst_ids if i in log.starts)
    burst_late = Lateness.of([t - burst_at.timestamp() for t in burst_starts])
    burst_span = burst_starts[-1] - burst_starts[0] if len(burst_starts) > 1 else math.nan
    burst_rate = len(burst_starts) / burst_span if burst_span else math.nan
    statuses = await count_by_status(db)
    print(f"  stream lateness:        {stream_late.line()}")
    print(
        f"  ... against the moment asked (before rounding up to a whole second): {asked_late.line()}"
    )
    print(f"  burst lateness:         {burst_late.line()}")
    print(f"  jobs by status after:   {statuses}; skipped as stale: {len(log.skipped):,}")

    print("\nSummary")
    rows = [
        (f"insert {args.jobs:,} jobs (schedule_all, one transaction)", f"{insert_seconds:.1f} s ({insert_rate:,.0f} jobs/s)"),
        ("next_run_at / claim_due use the partial run_at index", "yes" if all("jobs_pending_by_run_at" in p for p in plans.values()) else "NO"),
        (f"idle CPU over {idle_wall:.0f} s, {args.jobs:,} pending", f"{idle_cpu / idle_wall:.4%} of a core ({idle_cpu * 1000:.1f} ms); {idle_wakeups} wake-ups"),
        (f"stream: {stream_late.count:,} jobs due over {args.window_seconds} s, lateness", f"p50 {ms(stream_late.p50)}, p99 {ms(stream_late.p99)}, max {ms(stream_late.worst)}"),
        ("stream jobs started > 1 s after run_at", f"{stream_late.over_one_second:,}"),
        ("  against the moment asked (run_at rounds it up to a second)", f"p50 {ms(asked_late.p50)}, p99 {ms(asked_late.p99)}, max {ms(asked_late.worst)}; > 1 s: {asked_late.over_one_second:,}"),
        (f"burst: {len(burst_starts):,} due in one second, all started after", f"{ms(burst_late.worst)} ({burst_rate:,.0f} jobs/s)"),
        ("burst jobs started > 1 s after run_at", f"{burst_late.over_one_second:,}"),
        ("RSS before / after insert / after idle / after run", " / ".join(mb(kb) for kb in (rss_before, after_insert["VmRSS"], after_idle["VmRSS"], after_run["VmRSS"]))),
        ("CPU stolen by the hypervisor: insert / stream and burst", f"{insert_steal:.0%} / {run_steal:.0%} of the machine"),
        ("peak RSS: through insert / while running", f"{mb(after_insert['VmHWM'])} / {mb(after_run['VmHWM'])}"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    for label, figure in rows:
        print(f"  {label:<{width}}  {figure}")


if __name__ == "__main__":
    asyncio.run(main())
