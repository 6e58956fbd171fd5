"""Job kinds in the scheduler: typed payloads, per-kind retries and skip hooks, changes inside the
caller's transaction, and cancelling a server's jobs. Real SQLite file, fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import pytest_asyncio

from bot.db import Database
from bot.db.repos import jobs as jobs_repo
from bot.domain.jobs import Job, JobKind, JobSpec, NoPayload, RetryPolicy
from bot.scheduler import Scheduler
from tests.fakes import FakeClock, wait_until


@dataclass(frozen=True, slots=True)
class Reminder:
    party_id: int
    minutes_before: int


REMINDER = JobKind(
    "party.reminder",
    Reminder,
    max_lateness=timedelta(minutes=5),
    summary="a listening-party reminder",
    what_to_do="Check the party channel.",
)
DIGEST = JobKind(
    "digest.post",
    NoPayload,
    retry=RetryPolicy.fixed(timedelta(hours=1), retries=3),
    summary="the weekly digest",
    what_to_do="Give the bot Send Messages in the digest channel.",
)


@pytest_asyncio.fixture
async def scheduler(db: Database, clock: FakeClock) -> AsyncIterator[Scheduler]:
    sched = Scheduler(db, clock, max_attempts=3, base_backoff=timedelta(seconds=10))
    yield sched
    await sched.stop(grace=0)


async def stored(db: Database, job_id: int) -> Job[str]:
    async with db.read() as conn:
        job = await jobs_repo.get_job(conn, job_id)
    assert job is not None
    return job


class Failures:
    def __init__(self) -> None:
        self.seen: list[tuple[Job[object], str]] = []

    async def __call__(self, job: Job[object], error: str) -> None:
        self.seen.append((job, error))


async def test_the_handler_gets_its_payload_as_the_dataclass(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    seen: list[Reminder] = []

    async def remind(job: Job[Reminder]) -> None:
        seen.append(job.payload)

    scheduler.register(REMINDER, remind)
    await scheduler.schedule(REMINDER, clock.now(), Reminder(7, 60), "party:7:60", guild_id=1)
    assert await scheduler.run_due() == 1
    assert seen == [Reminder(7, 60)]


async def test_a_payload_that_does_not_parse_fails_that_job_only(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    seen: list[Reminder] = []
    failures = Failures()

    async def remind(job: Job[Reminder]) -> None:
        seen.append(job.payload)

    scheduler.on_failure(failures)
    scheduler.register(REMINDER, remind)
    # Written by an older version, with a field since renamed.
    async with db.transaction() as conn:
        bad, _ = await jobs_repo.insert_job(
            conn, JobSpec(REMINDER.name, clock.now(), {"party": 7, "minutes_before": 60}), 0
        )
    good = await scheduler.schedule(REMINDER, clock.now(), Reminder(8, 10))
    await scheduler.start()
    await wait_until(lambda: scheduler.stats.succeeded == 1 and scheduler.stats.failed == 1)

    failed = await stored(db, bad)
    assert (failed.status, failed.attempts) == ("failed", 1)  # no retries: they cannot help
    assert failed.last_error == (
        "payload did not match Reminder: missing field 'party_id'; unexpected field 'party'"
    )
    assert (await stored(db, good.job_id)).status == "done"
    assert seen == [Reminder(8, 10)]
    assert [(job.id, error) for job, error in failures.seen] == [(bad, failed.last_error)]
    assert scheduler.running


async def test_a_kind_retries_by_its_own_policy(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    calls: list[int] = []
    failures = Failures()

    async def post_digest(job: Job[NoPayload]) -> None:
        calls.append(job.attempts)
        raise RuntimeError("Discord is down")

    scheduler.on_failure(failures)
    scheduler.register(DIGEST, post_digest)
    job = await scheduler.schedule(DIGEST, clock.now(), None, "digest:1:2026-W02", guild_id=1)
    for attempt in (1, 2, 3):
        assert await scheduler.run_due() == 1
        again = await stored(db, job.job_id)
        assert (again.status, again.attempts) == ("pending", attempt)
        assert again.run_at == clock.now() + timedelta(hours=1)  # hourly, not the default 10 s
        clock.advance(timedelta(minutes=59))
        assert await scheduler.run_due() == 0
        clock.advance(timedelta(minutes=1))
    assert await scheduler.run_due() == 1
    assert (await stored(db, job.job_id)).status == "failed"
    assert calls == [1, 2, 3, 4]  # the first run and three retries (the default allows 3 in all)
    assert [(job.guild_id, error) for job, error in failures.seen] == [
        (1, "RuntimeError: Discord is down")
    ]


async def test_a_stale_job_is_skipped_and_its_kind_is_told(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    ran: list[Reminder] = []
    skipped: list[Reminder] = []

    async def remind(job: Job[Reminder]) -> None:
        ran.append(job.payload)

    async def reminder_skipped(job: Job[Reminder]) -> None:
        skipped.append(job.payload)

    scheduler.register(REMINDER, remind, on_skip=reminder_skipped)
    late = await scheduler.schedule(REMINDER, clock.now() - timedelta(hours=1), Reminder(1, 60))
    await scheduler.schedule(REMINDER, clock.now() - timedelta(minutes=1), Reminder(2, 60))
    assert await scheduler.run_due() == 2
    assert (ran, skipped) == ([Reminder(2, 60)], [Reminder(1, 60)])
    assert (await stored(db, late.job_id)).status == "skipped"


async def test_a_skip_hook_that_raises_does_not_stop_the_runner(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    async def remind(job: Job[Reminder]) -> None:
        pass

    async def broken(job: Job[Reminder]) -> None:
        raise RuntimeError("hook bug")

    scheduler.register(REMINDER, remind, on_skip=broken)
    await scheduler.schedule(REMINDER, clock.now() - timedelta(hours=1), Reminder(1, 60))
    await scheduler.schedule(REMINDER, clock.now(), Reminder(2, 60))
    await scheduler.start()
    await wait_until(lambda: scheduler.stats.skipped == 1 and scheduler.stats.succeeded == 1)


async def test_a_kind_name_is_registered_once(scheduler: Scheduler) -> None:
    async def remind(job: Job[Reminder]) -> None:
        pass

    scheduler.register(REMINDER, remind)
    with pytest.raises(ValueError, match="already registered"):
        scheduler.register(JobKind(REMINDER.name, Reminder), remind)  # another kind, same name
    assert scheduler.kind(REMINDER.name) is REMINDER


async def test_an_unloaded_feature_s_jobs_wait_until_it_loads_again(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    ran: list[int] = []

    async def remind(job: Job[Reminder]) -> None:
        ran.append(job.payload.party_id)

    scheduler.register(REMINDER, remind)
    scheduler.unregister(REMINDER)
    job = await scheduler.schedule(REMINDER, clock.now(), Reminder(1, 60))
    assert await scheduler.run_due() == 0
    assert (await stored(db, job.job_id)).status == "pending"
    scheduler.register(REMINDER, remind)
    assert await scheduler.run_due() == 1
    assert ran == [1]


class Abort(Exception):
    pass


async def test_reschedule_commits_with_the_caller(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    ran: list[Reminder] = []

    async def remind(job: Job[Reminder]) -> None:
        ran.append(job.payload)

    scheduler.register(REMINDER, remind)
    job = await scheduler.schedule(
        REMINDER, clock.now() + timedelta(hours=2), Reminder(7, 60), "party:7:60"
    )
    await scheduler.start()
    await clock.wait_for_sleeper(clock.now() + timedelta(hours=1))  # max_sleep

    moved_to = clock.now() + timedelta(minutes=10)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('party:7', 'moved')")
        assert await scheduler.reschedule_in(conn, "party:7:60", moved_to)
    assert (await stored(db, job.job_id)).run_at == moved_to
    await clock.wait_for_sleeper(moved_to)  # the runner woke and now sleeps until the new time
    clock.advance(timedelta(minutes=10))
    await wait_until(lambda: ran == [Reminder(7, 60)])


async def test_a_rolled_back_reschedule_leaves_the_job_untouched(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    due = clock.now() + timedelta(hours=2)
    job = await scheduler.schedule(REMINDER, due, Reminder(7, 60), "party:7:60")
    with pytest.raises(Abort):
        async with db.transaction() as conn:
            assert await scheduler.reschedule_in(conn, "party:7:60", clock.now())
            raise Abort  # the party row failed to save
    after = await stored(db, job.job_id)
    assert (after.status, after.run_at) == ("pending", due)
    async with db.transaction() as conn:
        assert not await scheduler.reschedule_in(conn, "party:8:60", clock.now())


async def test_cancel_in_commits_and_rolls_back_with_the_caller(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    later = clock.now() + timedelta(hours=2)
    kept = await scheduler.schedule(REMINDER, later, Reminder(7, 60), "party:7:60")
    dropped = await scheduler.schedule(REMINDER, later, Reminder(7, 10), "party:7:10")
    with pytest.raises(Abort):
        async with db.transaction() as conn:
            assert await scheduler.cancel_in(conn, dedupe_key="party:7:60")
            raise Abort
    async with db.transaction() as conn:
        assert await scheduler.cancel_in(conn, dedupe_key="party:7:10")
    assert (await stored(db, kept.job_id)).status == "pending"
    assert (await stored(db, dropped.job_id)).status == "cancelled"


async def test_schedule_in_rolls_back_with_the_caller(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    with pytest.raises(Abort):
        async with db.transaction() as conn:
            spec = REMINDER.spec(clock.now(), Reminder(7, 60), "party:7:60")
            await scheduler.schedule_in(conn, spec)
            raise Abort
    async with db.read() as conn:
        assert await jobs_repo.next_run_at(conn, [REMINDER.name]) is None


async def test_cancel_guild_jobs_cancels_only_that_server_s_pending_jobs(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    gate = asyncio.Event()
    started = asyncio.Event()

    async def remind(job: Job[Reminder]) -> None:
        started.set()
        await gate.wait()

    scheduler.register(REMINDER, remind)
    later = clock.now() + timedelta(hours=1)
    running = await scheduler.schedule(REMINDER, clock.now(), Reminder(1, 0), guild_id=1)
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    gone = [await scheduler.schedule(REMINDER, later, Reminder(n, 60), guild_id=1) for n in (2, 3)]
    other = await scheduler.schedule(REMINDER, later, Reminder(4, 60), guild_id=2)
    everywhere = await scheduler.schedule(DIGEST, later)

    assert await scheduler.cancel_guild_jobs(1) == 2
    assert [(await stored(db, job.job_id)).status for job in gone] == ["cancelled"] * 2
    assert (await stored(db, other.job_id)).status == "pending"
    assert (await stored(db, everywhere.job_id)).status == "pending"
    assert (await stored(db, running.job_id)).status == "running"
    gate.set()
    await wait_until(lambda: scheduler.stats.succeeded == 1)


async def test_a_kind_that_gives_up_tells_its_own_hook_first_then_the_shared_ones(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    from bot.scheduler import PermanentJobError

    told: list[str] = []

    async def remind(job: Job[Reminder]) -> None:
        raise PermanentJobError("channel deleted")

    async def its_own(job: Job[Reminder], error: str) -> None:
        told.append(f"own:{job.payload.party_id}")

    async def shared(job: Job[object], error: str) -> None:
        told.append(f"shared:{job.kind}")

    scheduler.register(REMINDER, remind, on_give_up=its_own)
    scheduler.on_failure(shared)
    await scheduler.schedule(REMINDER, clock.now(), Reminder(7, 60))
    assert await scheduler.run_due() == 1
    assert told == ["own:7", f"shared:{REMINDER.name}"]
