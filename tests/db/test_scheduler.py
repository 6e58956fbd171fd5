"""The durable scheduler against a real SQLite file and a fake clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.db import Database
from bot.db.repos import jobs as jobs_repo
from bot.domain.jobs import Job, JobSpec
from bot.scheduler import PermanentJobError, Scheduler
from tests.fakes import FakeClock, json_kind, wait_until


@pytest_asyncio.fixture
async def scheduler(db: Database, clock: FakeClock) -> AsyncIterator[Scheduler]:
    sched = Scheduler(db, clock, max_attempts=3, base_backoff=timedelta(seconds=10))
    yield sched
    await sched.stop(grace=0)


class Recorder:
    """A handler that records every job it is given, and can be told to fail or block."""

    def __init__(self) -> None:
        self.calls: list[Job] = []
        self.fail_times = 0
        self.error: Exception = RuntimeError("boom")
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.follow_ups: list[JobSpec] = []

    async def __call__(self, job: Job) -> list[JobSpec]:
        self.calls.append(job)
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_times > 0:
            self.fail_times -= 1
            raise self.error
        return self.follow_ups


async def status_of(db: Database, job_id: int) -> str:
    async with db.read() as conn:
        job = await jobs_repo.get_job(conn, job_id)
    assert job is not None
    return job.status


async def test_job_runs_at_its_time_and_not_before(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    scheduler.register(json_kind("ping"), handler)
    job = await scheduler.schedule(json_kind("ping"), clock.now() + timedelta(minutes=1), {"n": 1})
    await scheduler.start()
    await clock.wait_for_sleeper(clock.now() + timedelta(minutes=1))

    clock.advance(59)
    await asyncio.sleep(0.05)
    assert handler.calls == []

    clock.advance(1)
    await wait_until(lambda: scheduler.stats.succeeded == 1, what="job to succeed")
    assert [c.payload for c in handler.calls] == [{"n": 1}]
    assert await status_of(db, job.job_id) == "done"


async def test_job_is_done_only_after_handler_returns(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    handler.gate = asyncio.Event()
    scheduler.register(json_kind("slow"), handler)
    job = await scheduler.schedule(json_kind("slow"), clock.now(), {})
    await scheduler.start()
    await asyncio.wait_for(handler.started.wait(), 5)
    assert await status_of(db, job.job_id) == "running"

    handler.gate.set()
    await wait_until(lambda: scheduler.stats.succeeded == 1)
    assert await status_of(db, job.job_id) == "done"


async def test_failure_retries_with_backoff_then_records_failed(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    handler.fail_times = 99
    failures: list[tuple[int, str]] = []

    async def on_failure(job: Job, error: str) -> None:
        failures.append((job.id, error))

    scheduler.on_failure(on_failure)
    scheduler.register(json_kind("flaky"), handler)
    job = await scheduler.schedule(json_kind("flaky"), clock.now(), {})
    await scheduler.start()

    await wait_until(lambda: scheduler.stats.retried == 1)
    async with db.read() as conn:
        stored = await jobs_repo.get_job(conn, job.job_id)
    assert stored is not None
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.run_at == clock.now() + timedelta(seconds=10)  # base backoff
    assert stored.last_error == "RuntimeError: boom"

    await clock.wait_for_sleeper(clock.now() + timedelta(seconds=10))
    clock.advance(10)
    await wait_until(lambda: scheduler.stats.retried == 2)
    async with db.read() as conn:
        stored = await jobs_repo.get_job(conn, job.job_id)
    assert stored is not None
    assert stored.run_at == clock.now() + timedelta(seconds=20)  # doubled

    await clock.wait_for_sleeper(clock.now() + timedelta(seconds=20))
    clock.advance(20)
    await wait_until(lambda: scheduler.stats.failed == 1)
    async with db.read() as conn:
        stored = await jobs_repo.get_job(conn, job.job_id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.last_error) == (
        "failed",
        3,
        "RuntimeError: boom",
    )
    assert failures == [(job.job_id, "RuntimeError: boom")]
    assert len(handler.calls) == 3


async def test_retry_then_success(scheduler: Scheduler, clock: FakeClock, db: Database) -> None:
    handler = Recorder()
    handler.fail_times = 1
    scheduler.register(json_kind("flaky"), handler)
    job = await scheduler.schedule(json_kind("flaky"), clock.now(), {})
    await scheduler.start()
    await wait_until(lambda: scheduler.stats.retried == 1)
    await clock.wait_for_sleeper(clock.now() + timedelta(seconds=10))
    clock.advance(10)
    await wait_until(lambda: scheduler.stats.succeeded == 1)
    assert await status_of(db, job.job_id) == "done"
    assert [c.attempts for c in handler.calls] == [1, 2]


async def test_permanent_error_fails_without_retrying(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    handler.fail_times = 1
    handler.error = PermanentJobError("channel deleted")
    scheduler.register(json_kind("post"), handler)
    job = await scheduler.schedule(json_kind("post"), clock.now(), {})
    await scheduler.start()
    await wait_until(lambda: scheduler.stats.failed == 1)
    assert await status_of(db, job.job_id) == "failed"
    assert len(handler.calls) == 1


async def test_dedupe_key_makes_one_job(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    scheduler.register(json_kind("digest"), handler)
    key = "digest:1:2026-W02"
    first = await scheduler.schedule(json_kind("digest"), clock.now(), {"week": 2}, key)
    second = await scheduler.schedule(json_kind("digest"), clock.now(), {"week": 2}, key)
    assert first.created and not second.created
    assert first.job_id == second.job_id

    await scheduler.start()
    await wait_until(lambda: scheduler.stats.succeeded == 1)
    again = await scheduler.schedule(json_kind("digest"), clock.now(), {"week": 2}, key)
    assert not again.created
    await asyncio.sleep(0.05)
    assert len(handler.calls) == 1


async def test_cancelled_job_does_not_run_and_its_key_can_be_reused(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    scheduler.register(json_kind("reminder"), handler)
    job = await scheduler.schedule(
        json_kind("reminder"), clock.now() + timedelta(hours=1), {}, dedupe_key="party:7"
    )
    assert await scheduler.cancel(dedupe_key="party:7")
    assert not await scheduler.cancel(job.job_id)  # nothing pending any more
    await scheduler.start()
    clock.advance(timedelta(hours=2))
    await asyncio.sleep(0.05)
    assert handler.calls == []
    assert await status_of(db, job.job_id) == "cancelled"

    revived = await scheduler.schedule(json_kind("reminder"), clock.now(), {"v": 2}, "party:7")
    assert revived.created and revived.job_id == job.job_id
    await wait_until(lambda: scheduler.stats.succeeded == 1)
    assert handler.calls[0].payload == {"v": 2}


async def test_earlier_insert_wakes_the_runner(scheduler: Scheduler, clock: FakeClock) -> None:
    handler = Recorder()
    scheduler.register(json_kind("ping"), handler)
    await scheduler.schedule(json_kind("ping"), clock.now() + timedelta(hours=1), {"which": "late"})
    await scheduler.start()
    await clock.wait_for_sleeper(clock.now() + timedelta(hours=1))

    await scheduler.schedule(
        json_kind("ping"), clock.now() + timedelta(seconds=10), {"which": "early"}
    )
    await clock.wait_for_sleeper(clock.now() + timedelta(seconds=10))
    clock.advance(10)
    await wait_until(lambda: len(handler.calls) == 1)
    assert handler.calls[0].payload == {"which": "early"}


async def test_follow_up_jobs_are_inserted_with_completion(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    next_week = clock.now() + timedelta(days=7)
    handler.follow_ups = [JobSpec("digest", next_week, {"week": 3}, "digest:1:2026-W03")]
    scheduler.register(json_kind("digest"), handler)
    await scheduler.schedule(json_kind("digest"), clock.now(), {"week": 2}, "digest:1:2026-W02")
    await scheduler.start()
    await wait_until(lambda: scheduler.stats.succeeded == 1)
    async with db.read() as conn:
        assert await jobs_repo.next_run_at(conn, ["digest"]) == int(next_week.timestamp())


async def test_stale_jobs_are_skipped_by_their_own_rule(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    scheduler.register(json_kind("reminder", timedelta(minutes=5)), handler)
    stale = await scheduler.schedule(json_kind("reminder"), clock.now() - timedelta(hours=1), {})
    fresh = await scheduler.schedule(json_kind("reminder"), clock.now() - timedelta(minutes=1), {})
    await scheduler.start()
    await wait_until(lambda: scheduler.stats.skipped == 1 and scheduler.stats.succeeded == 1)
    assert await status_of(db, stale.job_id) == "skipped"
    assert await status_of(db, fresh.job_id) == "done"
    assert len(handler.calls) == 1


async def test_unregistered_kinds_wait_untouched(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    scheduler.register(json_kind("known"), handler)
    orphan = await scheduler.schedule(json_kind("from-an-unloaded-cog"), clock.now(), {})
    await scheduler.schedule(json_kind("known"), clock.now(), {})
    await scheduler.start()
    await wait_until(lambda: scheduler.stats.succeeded == 1)
    assert await status_of(db, orphan.job_id) == "pending"


async def test_start_twice_starts_one_runner(scheduler: Scheduler, clock: FakeClock) -> None:
    handler = Recorder()
    scheduler.register(json_kind("ping"), handler)
    await scheduler.schedule(json_kind("ping"), clock.now(), {})
    await scheduler.start()
    runner = scheduler._runner
    await scheduler.start()  # as a second on_ready after a reconnect would
    assert scheduler._runner is runner
    await wait_until(lambda: scheduler.stats.succeeded == 1)
    await asyncio.sleep(0.05)
    assert len(handler.calls) == 1


async def test_stop_mid_handler_puts_the_job_back_without_counting_it(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    handler.gate = asyncio.Event()  # never set: the handler hangs
    scheduler.register(json_kind("slow"), handler)
    job = await scheduler.schedule(json_kind("slow"), clock.now(), {})
    await scheduler.start()
    await asyncio.wait_for(handler.started.wait(), 5)
    await scheduler.stop(grace=0)
    async with db.read() as conn:
        stored = await jobs_repo.get_job(conn, job.job_id)
    assert stored is not None
    assert (stored.status, stored.attempts) == ("pending", 0)


async def test_restart_runs_jobs_scheduled_by_the_previous_process(
    db_path: Path, clock: FakeClock
) -> None:
    first_db = await Database.open(db_path)
    first = Scheduler(first_db, clock)
    await first.schedule(
        json_kind("ping"), clock.now() + timedelta(minutes=30), {"from": "before restart"}
    )
    await first.stop()
    await first_db.close()

    clock.advance(timedelta(hours=1))  # the bot was down when the job fell due
    second_db = await Database.open(db_path)
    second = Scheduler(second_db, clock)
    handler = Recorder()
    second.register(json_kind("ping"), handler)
    try:
        await second.start()
        await wait_until(lambda: second.stats.succeeded == 1)
        assert handler.calls[0].payload == {"from": "before restart"}
    finally:
        await second.stop()
        await second_db.close()


async def test_job_left_running_by_a_crash_runs_again(db_path: Path, clock: FakeClock) -> None:
    # The first "process" claims the job and is then abandoned mid-handler, as a crash would leave
    # it; a second process, on its own connection to the same file, starts up.
    first_db = await Database.open(db_path)
    first = Scheduler(first_db, clock)
    hung = Recorder()
    hung.gate = asyncio.Event()
    first.register(json_kind("post"), hung)
    job = await first.schedule(json_kind("post"), clock.now(), {"n": 1})
    await first.start()
    await asyncio.wait_for(hung.started.wait(), 5)
    assert await status_of(first_db, job.job_id) == "running"

    second_db = await Database.open(db_path)
    second = Scheduler(second_db, clock)
    handler = Recorder()
    second.register(json_kind("post"), handler)
    try:
        await second.start()
        await wait_until(lambda: second.stats.succeeded == 1)
        async with second_db.read() as conn:
            stored = await jobs_repo.get_job(conn, job.job_id)
        assert stored is not None
        assert (stored.status, stored.attempts) == ("done", 2)
    finally:
        await second.stop()
        await first.stop(grace=0)
        await first_db.close()
        await second_db.close()


async def test_ten_thousand_pending_jobs_without_busy_polling(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    scheduler.register(json_kind("later"), handler)
    due = clock.now() + timedelta(days=1)
    async with db.transaction() as conn:
        for n in range(10_000):
            await jobs_repo.insert_job(
                conn, JobSpec("later", due + timedelta(seconds=n % 600), {"n": n}), 0
            )
    await scheduler.start()
    await clock.wait_for_sleeper()
    # Let the loop run freely for a while: a polling runner would query again and again.
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert scheduler.stats.wakeups == 1
    assert scheduler.stats.claimed == 0
    assert len(clock.sleeping_until) == 1  # one sleeper, for (at most) max_sleep

    clock.advance(timedelta(hours=1))  # max_sleep: it re-checks once, finds nothing due
    await wait_until(lambda: scheduler.stats.wakeups == 2)
    await asyncio.sleep(0.05)
    assert scheduler.stats.wakeups == 2
    assert handler.calls == []


async def trace_statements(db: Database) -> list[str]:
    """Every statement the connection runs from now on, as SQLite ran it (parameters bound)."""
    statements: list[str] = []
    async with db.read() as conn:
        await conn.set_trace_callback(statements.append)
    return statements


def transactions_marking_done(statements: list[str]) -> int:
    transactions, marks_done = 0, False
    for statement in statements:
        if statement.startswith("BEGIN"):
            marks_done = False
        elif "SET status = 'done'" in statement:
            marks_done = True
        elif statement == "COMMIT" and marks_done:
            transactions += 1
    return transactions


async def test_jobs_that_finish_together_are_recorded_in_one_transaction(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    handler = Recorder()
    handler.gate = asyncio.Event()
    scheduler.register(json_kind("post"), handler)
    jobs = [await scheduler.schedule(json_kind("post"), clock.now(), {"n": n}) for n in range(5)]
    await scheduler.start()
    await wait_until(lambda: len(handler.calls) == 5, what="five handlers to start")
    statements = await trace_statements(db)

    handler.gate.set()
    await wait_until(lambda: scheduler.stats.succeeded == 5)
    assert [await status_of(db, job.job_id) for job in jobs] == ["done"] * 5
    assert transactions_marking_done(statements) == 1  # one commit, not one a job


async def test_a_follow_up_that_cannot_be_stored_fails_only_its_own_job(
    scheduler: Scheduler, clock: FakeClock, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    gate = asyncio.Event()
    tomorrow = clock.now() + timedelta(days=1)

    async def post(job: Job) -> list[JobSpec]:
        await gate.wait()
        n = job.payload["n"]
        if n == 1:
            return [JobSpec("next", tomorrow, {"unstorable": {1, 2}})]  # a set is not JSON
        return [JobSpec("next", tomorrow, {"after": n}, f"next:{n}")]

    scheduler.register(json_kind("post"), post)
    jobs = [await scheduler.schedule(json_kind("post"), clock.now(), {"n": n}) for n in range(3)]
    await scheduler.start()
    await wait_until(lambda: len(scheduler._in_flight) == 3, what="three handlers to start")
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        gate.set()
        await wait_until(lambda: "Could not record the outcome" in caplog.text)
        await wait_until(lambda: scheduler.stats.succeeded == 2)

    statuses = [await status_of(db, job.job_id) for job in jobs]
    assert statuses == ["done", "running", "done"]  # the next start runs job 1 again
    async with db.read() as conn:
        assert await jobs_repo.next_run_at(conn, ["next"]) == int(tomorrow.timestamp())
        rows = await conn.execute_fetchall("SELECT payload FROM jobs WHERE kind = 'next'")
    assert sorted(row[0] for row in rows) == ['{"after":0}', '{"after":2}']


async def test_a_handler_that_returned_is_recorded_done_even_when_stop_cannot_wait(
    scheduler: Scheduler, clock: FakeClock, db: Database
) -> None:
    started, finish, returned = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def post(job: Job) -> None:
        started.set()
        await finish.wait()
        returned.set()

    scheduler.register(json_kind("post"), post)
    job = await scheduler.schedule(json_kind("post"), clock.now(), {})
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_the_database() -> None:
        async with db.read():
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_database())
    try:
        await holding.wait()
        finish.set()
        await asyncio.wait_for(returned.wait(), 5)  # its completion now waits for the database
        stopping = asyncio.create_task(scheduler.stop(grace=0))
        await wait_until(lambda: not scheduler._in_flight, what="stop to interrupt the job's task")
    finally:
        release.set()
        await holder
    await stopping
    assert await status_of(db, job.job_id) == "done"  # not run again at the next start
