"""Keeping the archive in shape: dedupe keys recomputed when their rules change (at start-up),
and the daily purge of entries removed more than ``RESTORE_WINDOW`` ago, with its schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db import Database
from bot.db.repos import match_keys as match_keys_repo
from bot.db.repos import meta as meta_repo
from bot.db.repos import picks as picks_repo
from bot.domain.jobs import JobKind, JobSpec, NoPayload
from bot.domain.picks import MATCH_KEY_VERSION, match_key
from bot.domain.timeutil import to_epoch
from bot.services.picks import RESTORE_WINDOW

MATCH_KEY_META = "match_key_version"
MATCH_KEY_BATCH = 5000


async def refresh_match_keys(db: Database) -> int | None:
    """Recompute every stored dedupe key when the rules for them (``match_key``) have changed
    since they were stored, in one transaction; None when they are current, else how many
    picks got a new key. Run at start-up, before any share can compare keys."""
    async with db.transaction() as conn:
        if await meta_repo.get_meta(conn, MATCH_KEY_META) == str(MATCH_KEY_VERSION):
            return None
        await match_keys_repo.start_new_match_keys(conn)
        last = 0
        while batch := await match_keys_repo.match_key_sources(conn, last, MATCH_KEY_BATCH):
            keys = [(pick_id, match_key(artist, title)) for pick_id, artist, title in batch]
            await match_keys_repo.add_new_match_keys(conn, keys)
            last = batch[-1][0]
        changed = await match_keys_repo.replace_match_keys(conn)
        await meta_repo.set_meta(conn, MATCH_KEY_META, str(MATCH_KEY_VERSION))
        return changed


async def purge_removed(db: Database, now: datetime) -> int:
    """Delete for good what was removed more than ``RESTORE_WINDOW`` ago."""
    async with db.transaction() as conn:
        return await picks_repo.purge_removed(conn, to_epoch(now - RESTORE_WINDOW))


PURGE = JobKind(
    "archive.purge_removed",
    NoPayload,
    summary="the daily purge of removed archive entries",
    what_to_do="Nothing is lost: the next day's purge catches up. If it keeps failing, check "
    "the bot's log for the error.",
)


def purge_job(day: datetime) -> JobSpec:
    """The purge that runs at ``day``: one per calendar day (UTC), however often it is asked for."""
    return PURGE.spec(day, NoPayload(), f"{PURGE.name}:{day:%Y-%m-%d}")


def first_purges(now: datetime) -> list[JobSpec]:
    """Today's and tomorrow's purge, asked for at every start: even if one run fails for good,
    the chain of daily runs goes on (each run also schedules the next)."""
    return [purge_job(now), purge_job(now + timedelta(days=1))]


async def run_purge(db: Database, run_at: datetime, now: datetime) -> tuple[int, JobSpec]:
    """Purge what is due, and the next day's run: ``(picks purged, next job)``."""
    purged = await purge_removed(db, now)
    return purged, purge_job(run_at + timedelta(days=1))
