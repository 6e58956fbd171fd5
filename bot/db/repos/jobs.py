"""The durable job queue (``jobs``). Kinds are passed as a JSON array so every query stays static."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import cast

import aiosqlite

from bot.db.rows import fetch_all, fetch_one
from bot.domain.jobs import Job, JobSpec, JobStatus
from bot.domain.timeutil import from_epoch, to_epoch

INSERT_JOB = """
INSERT INTO jobs (kind, guild_id, run_at, payload, dedupe_key, created_at, updated_at)
VALUES (:kind, :guild_id, :run_at, :payload, :dedupe_key, :now, :now)
ON CONFLICT (dedupe_key) DO UPDATE SET
    kind = excluded.kind, guild_id = excluded.guild_id, run_at = excluded.run_at,
    payload = excluded.payload, status = 'pending', attempts = 0, last_error = NULL,
    updated_at = excluded.updated_at
WHERE jobs.status = 'cancelled'
RETURNING id
"""
GET_JOB_ID_BY_DEDUPE_KEY = "SELECT id FROM jobs WHERE dedupe_key = :dedupe_key"
GET_JOB = "SELECT * FROM jobs WHERE id = :id"
NEXT_RUN_AT = """
SELECT run_at FROM jobs
WHERE status = 'pending' AND kind IN (SELECT value FROM json_each(:kinds))
ORDER BY run_at LIMIT 1
"""
CLAIM_DUE = """
UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = :now
WHERE id IN (
    SELECT id FROM jobs
    WHERE status = 'pending' AND run_at <= :now AND kind IN (SELECT value FROM json_each(:kinds))
    ORDER BY run_at, id LIMIT :limit
)
RETURNING *
"""
FINISH_JOB = """
UPDATE jobs SET status = :status, last_error = :error, updated_at = :now
WHERE id = :id AND status = 'running'
"""
RETRY_JOB = """
UPDATE jobs SET status = 'pending', run_at = :run_at, last_error = :error, updated_at = :now
WHERE id = :id AND status = 'running'
"""
RELEASE_JOB = """
UPDATE jobs SET status = 'pending', attempts = max(attempts - 1, 0), updated_at = :now
WHERE id = :id AND status = 'running'
"""
REQUEUE_RUNNING = "UPDATE jobs SET status = 'pending', updated_at = :now WHERE status = 'running'"
CANCEL_BY_ID = """
UPDATE jobs SET status = 'cancelled', updated_at = :now WHERE id = :id AND status = 'pending'
"""
CANCEL_BY_DEDUPE_KEY = """
UPDATE jobs SET status = 'cancelled', updated_at = :now
WHERE dedupe_key = :dedupe_key AND status = 'pending'
"""
CANCEL_GUILD_JOBS = """
UPDATE jobs SET status = 'cancelled', updated_at = :now
WHERE guild_id = :guild_id AND status = 'pending'
"""
RESCHEDULE_BY_DEDUPE_KEY = """
UPDATE jobs SET run_at = :run_at, attempts = 0, last_error = NULL, updated_at = :now
WHERE dedupe_key = :dedupe_key AND status = 'pending'
"""


async def insert_job(conn: aiosqlite.Connection, spec: JobSpec, now: int) -> tuple[int, bool]:
    """Insert ``spec``; return ``(job_id, created)``. An existing job with its dedupe key wins,
    unless it was cancelled, in which case it is revived with the new time and payload."""
    params = {
        "kind": spec.kind,
        "guild_id": spec.guild_id,
        "run_at": to_epoch(spec.run_at),
        "payload": json.dumps(dict(spec.payload), separators=(",", ":"), sort_keys=True),
        "dedupe_key": spec.dedupe_key,
        "now": now,
    }
    row = await fetch_one(conn, INSERT_JOB, params)
    if row is not None:
        return int(row["id"]), True
    existing = await fetch_one(conn, GET_JOB_ID_BY_DEDUPE_KEY, {"dedupe_key": spec.dedupe_key})
    assert existing is not None, "conflicting dedupe key vanished inside a transaction"
    return int(existing["id"]), False


async def get_job(conn: aiosqlite.Connection, job_id: int) -> Job[str] | None:
    row = await fetch_one(conn, GET_JOB, {"id": job_id})
    return None if row is None else _to_job(row)


async def next_run_at(conn: aiosqlite.Connection, kinds: Iterable[str]) -> int | None:
    row = await fetch_one(conn, NEXT_RUN_AT, {"kinds": json.dumps(sorted(kinds))})
    return None if row is None else int(row["run_at"])


async def claim_due(
    conn: aiosqlite.Connection, kinds: Iterable[str], now: int, limit: int
) -> list[Job[str]]:
    """Mark up to ``limit`` due jobs running (counting the attempt) and return them, oldest first."""
    params = {"kinds": json.dumps(sorted(kinds)), "now": now, "limit": limit}
    rows = await fetch_all(conn, CLAIM_DUE, params)
    return sorted((_to_job(row) for row in rows), key=lambda job: (job.run_at, job.id))


async def finish_job(
    conn: aiosqlite.Connection, job_id: int, status: JobStatus, now: int, error: str | None = None
) -> None:
    await conn.execute(FINISH_JOB, {"id": job_id, "status": status, "error": error, "now": now})


async def finish_jobs(
    conn: aiosqlite.Connection, job_ids: list[int], status: JobStatus, now: int
) -> None:
    """``finish_job`` for several jobs in one round trip (the runner records them in batches)."""
    params = [{"id": job_id, "status": status, "error": None, "now": now} for job_id in job_ids]
    await conn.executemany(FINISH_JOB, params)


async def retry_job(
    conn: aiosqlite.Connection, job_id: int, run_at: int, error: str, now: int
) -> None:
    await conn.execute(RETRY_JOB, {"id": job_id, "run_at": run_at, "error": error, "now": now})


async def release_job(conn: aiosqlite.Connection, job_id: int, now: int) -> None:
    """Put an interrupted job back without counting the interrupted attempt."""
    await conn.execute(RELEASE_JOB, {"id": job_id, "now": now})


async def requeue_running(conn: aiosqlite.Connection, now: int) -> int:
    """After a crash: every job left ``running`` goes back to ``pending``. Returns how many."""
    cursor = await conn.execute(REQUEUE_RUNNING, {"now": now})
    return cursor.rowcount


async def cancel_job(
    conn: aiosqlite.Connection,
    now: int,
    *,
    job_id: int | None = None,
    dedupe_key: str | None = None,
) -> bool:
    if (job_id is None) == (dedupe_key is None):
        raise ValueError("cancel by exactly one of job_id or dedupe_key")
    if job_id is not None:
        cursor = await conn.execute(CANCEL_BY_ID, {"id": job_id, "now": now})
    else:
        cursor = await conn.execute(CANCEL_BY_DEDUPE_KEY, {"dedupe_key": dedupe_key, "now": now})
    return cursor.rowcount > 0


async def reschedule_job(
    conn: aiosqlite.Connection, dedupe_key: str, run_at: int, now: int
) -> bool:
    """Move the pending job keyed ``dedupe_key`` to ``run_at`` (a fresh start: attempts and the
    last error are cleared). False if there is no such pending job."""
    params = {"dedupe_key": dedupe_key, "run_at": run_at, "now": now}
    cursor = await conn.execute(RESCHEDULE_BY_DEDUPE_KEY, params)
    return cursor.rowcount > 0


async def cancel_guild_jobs(conn: aiosqlite.Connection, guild_id: int, now: int) -> int:
    """Cancel every pending job of a server; returns how many."""
    cursor = await conn.execute(CANCEL_GUILD_JOBS, {"guild_id": guild_id, "now": now})
    return cursor.rowcount


def _to_job(row: aiosqlite.Row) -> Job[str]:
    """The stored job with its payload as stored (JSON text): parsing is its kind's business."""
    return Job(
        id=int(row["id"]),
        kind=str(row["kind"]),
        guild_id=row["guild_id"],
        run_at=from_epoch(row["run_at"]),
        payload=str(row["payload"]),
        dedupe_key=row["dedupe_key"],
        status=cast(JobStatus, row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
    )


async def pending_keys_with_prefix(conn: aiosqlite.Connection, prefix: str) -> list[str]:
    """The dedupe keys of pending jobs that start with ``prefix`` (``party:12:remind:``): a
    range over the unique index on ``dedupe_key``, not a scan."""
    if not prefix:
        raise ValueError("a prefix is needed")
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = await fetch_all(
        conn,
        """SELECT dedupe_key FROM jobs WHERE dedupe_key >= :lower AND dedupe_key < :upper
        AND status = 'pending' ORDER BY dedupe_key""",
        {"lower": prefix, "upper": upper},
    )
    return [str(row[0]) for row in rows]


async def pending_runs_with_prefix(
    conn: aiosqlite.Connection, prefix: str
) -> list[tuple[str, datetime, int]]:
    """``(dedupe_key, run_at, attempts)`` of the pending and running jobs whose key starts with
    ``prefix``, soonest first (a range over the unique index on ``dedupe_key``). A pending job
    with attempts is waiting to retry."""
    if not prefix:
        raise ValueError("a prefix is needed")
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = await fetch_all(
        conn,
        """SELECT dedupe_key, run_at, attempts FROM jobs
        WHERE dedupe_key >= :lower AND dedupe_key < :upper AND status IN ('pending', 'running')
        ORDER BY run_at""",
        {"lower": prefix, "upper": upper},
    )
    return [(str(row[0]), from_epoch(row[1]), int(row[2])) for row in rows]


async def status_of(conn: aiosqlite.Connection, dedupe_key: str) -> str | None:
    """The status of the job keyed ``dedupe_key``; None if there is none."""
    row = await fetch_one(
        conn, "SELECT status FROM jobs WHERE dedupe_key = :key", {"key": dedupe_key}
    )
    return None if row is None else str(row[0])
