"""A real crash: a process dies (``os._exit``) inside a job handler; the next process runs the job."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from bot.db import Database
from bot.db.repos import jobs as jobs_repo
from bot.domain.jobs import Job
from bot.scheduler import Scheduler
from tests.fakes import FakeClock, json_kind, wait_until

CRASHING_PROCESS = textwrap.dedent(
    """
    import asyncio, os, sys
    from datetime import UTC, datetime
    from pathlib import Path

    from bot.db import Database
    from bot.domain.jobs import JobKind
    from bot.scheduler import Scheduler

    def json_kind(name):
        return JobKind(name, dict)

    async def main() -> None:
        db = await Database.open(Path(sys.argv[1]))
        scheduler = Scheduler(db)

        async def die_mid_handler(job):
            os._exit(17)  # no cleanup, no rollback, no release: like a power cut

        scheduler.register(json_kind("post"), die_mid_handler)
        await scheduler.schedule(json_kind("post"), datetime.now(UTC), {"n": 1}, "post:1")
        await scheduler.start()
        await asyncio.sleep(30)
        sys.exit("the handler never ran")

    asyncio.run(main())
    """
)


async def test_job_interrupted_by_a_process_crash_runs_after_restart(
    db_path: Path, clock: FakeClock
) -> None:
    crashed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_PROCESS, str(db_path), stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(crashed.communicate(), 60)
    assert crashed.returncode == 17, stderr.decode()

    db = await Database.open(db_path)
    async with db.read() as conn:
        left = await jobs_repo.get_job(conn, 1)
    assert left is not None
    assert (left.status, left.attempts) == ("running", 1)

    clock.advance(timedelta(days=400))  # whenever the bot comes back
    scheduler = Scheduler(db, clock)
    seen: list[Job] = []

    async def post(job: Job) -> None:
        seen.append(job)

    scheduler.register(json_kind("post"), post)
    try:
        await scheduler.start()
        await wait_until(lambda: scheduler.stats.succeeded == 1)
        async with db.read() as conn:
            done = await jobs_repo.get_job(conn, 1)
        assert done is not None
        assert (done.status, done.attempts) == ("done", 2)
        assert [job.payload for job in seen] == [{"n": 1}]
    finally:
        await scheduler.stop()
        await db.close()
