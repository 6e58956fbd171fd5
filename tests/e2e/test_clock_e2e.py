"""The real bot process follows the emulator's clock: a test jumps an hour ahead, and the durable
scheduler, asleep until the hourly outbox sweep, runs it at once and schedules the next one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.conftest import Stack
from tests.fakes import wait_until

SWEEP = "outbox.sweep"
PURGE = "archive.purge_removed"


def jobs(database: Path, kind: str) -> list[tuple[int, str]]:
    """``(run_at, status)`` of every job of ``kind``, read as a bystander."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT run_at, status FROM jobs WHERE kind = ? ORDER BY run_at", (kind,)
        ).fetchall()
    return [(int(run_at), str(status)) for run_at, status in rows]


def sweeps(database: Path) -> list[tuple[int, str]]:
    return jobs(database, SWEEP)


async def test_a_jump_wakes_the_scheduler_for_the_job_it_jumped_over(stack: Stack) -> None:
    await stack.bot.wait_for_log(
        r"Clock: following the local emulator's clock at http://127\.0\.0\.1:\d+/sandbox/clock"
    )
    # The runner starts once the bot is ready and runs today's purge (due at start) first;
    # then it sleeps until the sweep, an hour away.
    await stack.bot.wait_for_log(r"Ready as ")
    await wait_until(lambda: jobs(stack.database_path, PURGE)[0][1] == "done", what="today's purge")
    [(first_at, status)] = sweeps(stack.database_path)
    assert status == "pending"
    clock = stack.emulator.world_clock
    assert first_at - clock.time() > 30 * 60  # an hour from the start: no test waits for that

    await stack.driver.advance(first_at - clock.time() + 60)
    await wait_until(
        lambda: [s for _, s in sweeps(stack.database_path)] == ["done", "pending"],
        within=15,
        what="the sweep to run and the next to be scheduled",
    )
    [_, (next_at, _)] = sweeps(stack.database_path)
    assert next_at == first_at + 3600
    assert "Traceback" not in stack.bot.log_path.read_text()
