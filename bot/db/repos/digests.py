"""Weekly digests: each server's digest settings, the digests handled, and what a week's digest
reads (its picks, what was new on the map, parties held and coming, swap rounds revealed, the
same week in earlier years). Every function runs inside the caller's connection."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import aiosqlite

from bot.db.repos.parties import PARTY_COLUMNS, row_to_party
from bot.db.repos.picks import PICK_COLUMNS, row_to_pick
from bot.db.repos.swaps import ROUND_COLUMNS, row_to_round
from bot.db.rows import SyncConnection, fetch_all, fetch_one, read_all, read_one
from bot.domain.digest import (
    CURATORS_MAX,
    MAP_KINDS,
    RANKED_MAX,
    Curator,
    DigestSettings,
    MapFact,
    MapKind,
    WeekCounts,
    chart_of,
)
from bot.domain.parties import Party
from bot.domain.picks import Pick
from bot.domain.swaps import SwapRound
from bot.domain.timeutil import from_epoch, to_epoch

GET_SETTINGS = "SELECT * FROM digest_settings WHERE guild_id = :guild_id"
SAVE_SETTINGS = """
INSERT INTO digest_settings (guild_id, channel_id, weekday, at_minute, zone, sections_off, quiet,
                             enabled, updated_at, updated_by)
VALUES (:guild_id, :channel_id, :weekday, :at_minute, :zone, :sections_off, :quiet, :enabled,
        :now, :user_id)
ON CONFLICT (guild_id) DO UPDATE SET
    channel_id = excluded.channel_id, weekday = excluded.weekday,
    at_minute = excluded.at_minute, zone = excluded.zone, sections_off = excluded.sections_off,
    quiet = excluded.quiet, enabled = excluded.enabled, updated_at = excluded.updated_at,
    updated_by = excluded.updated_by
"""
SET_PROBLEM = """
UPDATE digest_settings SET problem = :problem, problem_at = :now WHERE guild_id = :guild_id
"""
RECORD = """
INSERT INTO digest_posts (guild_id, week, status, channel_id, message_id, due_at, done_at,
                          late_by_s, posted_by)
VALUES (:guild_id, :week, :status, :channel_id, :message_id, :due_at, :now, :late_by_s, :posted_by)
ON CONFLICT (guild_id, week) DO NOTHING
"""
GET_POST = "SELECT * FROM digest_posts WHERE guild_id = :guild_id AND week = :week"
LAST_POSTED = """
SELECT * FROM digest_posts WHERE guild_id = :guild_id AND status = 'posted'
ORDER BY done_at DESC LIMIT 1
"""
LAST_WEEKLY = """
SELECT * FROM digest_posts WHERE guild_id = :guild_id AND week NOT LIKE 'extra:%'
ORDER BY done_at DESC LIMIT 1
"""

WEEK_PICKS = f"""
SELECT {PICK_COLUMNS} FROM picks p
WHERE p.guild_id = :guild_id AND p.created_at >= :start AND p.created_at < :end
  AND p.deleted_at IS NULL
ORDER BY p.created_at, p.id
"""
# A quiet week's picks in full (at most :limit): when they are few a digest shows them all, and
# its facts are read from them.
WEEK_PICKS_UP_TO = WEEK_PICKS + "LIMIT :limit\n"
# The pick of a past week that "From the archive" shows: the most loved, then heard, earliest.
# Chosen on picks_week alone (migration 0012), then read in full.
BEST_OF_WEEK = f"""
SELECT {PICK_COLUMNS} FROM picks p
WHERE p.id = (
    SELECT id FROM picks INDEXED BY picks_week
    WHERE guild_id = :guild_id AND created_at >= :start AND created_at < :end
      AND deleted_at IS NULL
    ORDER BY loved_count DESC, heard_count DESC, created_at, id LIMIT 1)
"""
# One week's live picks: one range of picks_week (migration 0012), which holds all a digest
# reads of them, so no statement below goes back to the table.
_WEEK = """
FROM picks INDEXED BY picks_week
WHERE guild_id = :guild_id AND created_at >= :start AND created_at < :end
  AND deleted_at IS NULL
"""
# What a digest needs of a pick of the week (a MapFact).
_FACT_COLUMNS = (
    "SELECT id, created_at, country, city, label, tags, shared_by, loved_count, heard_count"
)
# Every live pick of a week with what a digest needs of it, in the order shared.
WEEK_FACTS = _FACT_COLUMNS + _WEEK + "ORDER BY created_at, id\n"
# A busy week counted in SQL, each statement one range of picks_week, so a digest reads a few
# dozen rows instead of every pick (bot.domain.digest.WeekCounts says what each count is;
# count_week is the same counted from every pick's facts).
# How many picks, and how many members shared them (the picks of forgotten members, whose
# shared_by is NULL, count as one more).
WEEK_SIZE = "SELECT count(*), count(DISTINCT shared_by) + (total(shared_by IS NULL) > 0)" + _WEEK
# "Most loved": the first :limit picks by Loved, then Heard, then the first shared.
WEEK_RANKED = (
    "SELECT id" + _WEEK + "ORDER BY loved_count DESC, heard_count DESC, created_at, id\n"
    "LIMIT :limit\n"
)
# "Curators of the week": each sharer's Loved marks on their loved picks, and how many.
WEEK_CURATORS = (
    "SELECT shared_by, sum(loved_count) AS loved, count(*) AS picks" + _WEEK
    + "AND shared_by IS NOT NULL AND loved_count != 0\n"
    "GROUP BY shared_by ORDER BY loved DESC, picks DESC, shared_by LIMIT :limit\n"
)  # fmt: skip
# The chart's counts: the week's picks by subgenre (through pick_tags, the tags column's own
# rows) and by country, most first, then by value (BINARY: as Python orders strings).
WEEK_SUBGENRES = """
SELECT t.tag, count(*) AS n
FROM picks p INDEXED BY picks_week JOIN pick_tags t ON t.pick_id = p.id
WHERE p.guild_id = :guild_id AND p.created_at >= :start AND p.created_at < :end
  AND p.deleted_at IS NULL
GROUP BY t.tag ORDER BY n DESC, t.tag COLLATE BINARY
"""
WEEK_COUNTRIES = (
    "SELECT country, count(*) AS n" + _WEEK
    + "AND country IS NOT NULL AND country != ''\n"
    "GROUP BY country ORDER BY n DESC, country COLLATE BINARY\n"
)  # fmt: skip
# The picks of a week that can be a first on the map: those shared at the moment a value was
# first seen (map_firsts, migration 0013), when that moment is in the week. The first pick of
# the week with a new value is among them (no live pick had it earlier).
WEEK_FIRSTS_FACTS = (
    _FACT_COLUMNS
    + """
FROM picks INDEXED BY picks_week
WHERE guild_id = :guild_id AND deleted_at IS NULL AND created_at IN (
    SELECT first_at FROM map_firsts
    WHERE guild_id = :guild_id AND first_at >= :start AND first_at < :end)
ORDER BY created_at, id
"""
)
FIRST_PICK_AT = "SELECT min(created_at) FROM picks WHERE guild_id = :guild_id"
# The server's countries, cities, labels and subgenres (map_firsts' keys, migration 0013) first
# seen on a live pick at or after :start: one range of map_firsts_by_time.
FIRST_SEEN_SINCE = """
SELECT kind, key FROM map_firsts WHERE guild_id = :guild_id AND first_at >= :start
"""
PARTIES_HELD = f"""
SELECT {PARTY_COLUMNS} FROM parties
WHERE guild_id = :guild_id AND ended_at >= :start AND ended_at < :end AND status = 'ended'
ORDER BY starts_at, id
"""
PARTIES_COMING = f"""
SELECT {PARTY_COLUMNS} FROM parties
WHERE guild_id = :guild_id AND status = 'scheduled' AND starts_at >= :now AND starts_at < :until
ORDER BY starts_at, id LIMIT :limit
"""
TOP_TRACK = """
SELECT title, reactions FROM party_tracks WHERE party_id = :party_id AND reactions > 0
ORDER BY reactions DESC, number LIMIT 1
"""
GOING = """
SELECT count(*) FROM party_rsvps WHERE party_id = :party_id AND choice IN ('going', 'maybe')
"""
ROUNDS_REVEALED = f"""
SELECT {ROUND_COLUMNS} FROM swap_rounds
WHERE guild_id = :guild_id AND revealed_at >= :start AND revealed_at < :end
  AND status = 'revealed'
ORDER BY revealed_at, id
"""

# The server's digest jobs still to run (``digest:{guild}:{week}``), with what their payload
# says: the week and when it is due.
LIVE_JOBS = """
SELECT dedupe_key, status, json_extract(payload, '$.week') AS week,
       json_extract(payload, '$.due') AS due
FROM jobs
WHERE dedupe_key >= :lower AND dedupe_key < :upper AND status IN ('pending', 'running')
ORDER BY run_at
"""
UNPLANNED = """
SELECT s.* FROM digest_settings s
WHERE s.enabled = 1 AND (:guild_id IS NULL OR s.guild_id = :guild_id)
  AND NOT EXISTS (
    SELECT 1 FROM jobs j WHERE j.guild_id = s.guild_id AND j.status IN ('pending', 'running')
      AND j.kind = 'digest.post')
"""

MEMBER_SETTINGS = "SELECT guild_id, updated_at FROM digest_settings WHERE updated_by = :user_id"
MEMBER_EXTRAS = """
SELECT guild_id, week, channel_id, message_id, done_at FROM digest_posts WHERE posted_by = :user_id
"""
FORGET_EDITOR = "UPDATE digest_settings SET updated_by = NULL WHERE updated_by = :user_id"
FORGET_POSTER = "UPDATE digest_posts SET posted_by = NULL WHERE posted_by = :user_id"


# -- settings ----------------------------------------------------------------------------------


def row_to_settings(row: aiosqlite.Row) -> DigestSettings:
    minute = int(row["at_minute"])
    return DigestSettings(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        weekday=row["weekday"],
        at=time(minute // 60, minute % 60),
        zone=row["zone"],
        sections_off=frozenset(json.loads(row["sections_off"])),
        quiet=row["quiet"],
        enabled=bool(row["enabled"]),
        problem=row["problem"],
        problem_at=None if row["problem_at"] is None else from_epoch(row["problem_at"]),
    )


async def get_settings(conn: aiosqlite.Connection, guild_id: int) -> DigestSettings | None:
    row = await fetch_one(conn, GET_SETTINGS, {"guild_id": guild_id})
    return None if row is None else row_to_settings(row)


async def save_settings(
    conn: aiosqlite.Connection, settings: DigestSettings, user_id: int | None, now: datetime
) -> None:
    await conn.execute(
        SAVE_SETTINGS,
        {
            "guild_id": settings.guild_id,
            "channel_id": settings.channel_id,
            "weekday": settings.weekday,
            "at_minute": settings.at.hour * 60 + settings.at.minute,
            "zone": settings.zone,
            "sections_off": json.dumps(sorted(settings.sections_off)),
            "quiet": settings.quiet,
            "enabled": int(settings.enabled),
            "now": to_epoch(now),
            "user_id": user_id,
        },
    )


async def set_problem(
    conn: aiosqlite.Connection, guild_id: int, problem: str | None, now: datetime
) -> None:
    await conn.execute(
        SET_PROBLEM, {"guild_id": guild_id, "problem": problem, "now": to_epoch(now)}
    )


@dataclass(frozen=True, slots=True)
class LiveJob:
    key: str
    status: str  # pending | running
    week: str
    due: datetime


async def live_jobs(conn: aiosqlite.Connection, guild_id: int) -> list[LiveJob]:
    """The server's digest jobs that are pending or running, soonest first."""
    prefix = f"digest:{guild_id}:"
    rows = await fetch_all(conn, LIVE_JOBS, {"lower": prefix, "upper": prefix[:-1] + ";"})
    return [
        LiveJob(str(r["dedupe_key"]), str(r["status"]), str(r["week"]), from_epoch(int(r["due"])))
        for r in rows
    ]


async def unplanned(conn: aiosqlite.Connection, guild_id: int | None) -> list[DigestSettings]:
    """Digests that are on but have no job pending or running (of one server, or all)."""
    rows = await fetch_all(conn, UNPLANNED, {"guild_id": guild_id})
    return [row_to_settings(row) for row in rows]


# -- digests handled ---------------------------------------------------------------------------


async def record(
    conn: aiosqlite.Connection,
    *,
    guild_id: int,
    week: str,
    status: str,
    due: datetime,
    now: datetime,
    channel_id: int | None = None,
    message_id: int | None = None,
    posted_by: int | None = None,
) -> bool:
    """Record how a week's digest (or an extra one) ended; the first record of a week stands.
    Returns whether this call recorded it."""
    cursor = await conn.execute(
        RECORD,
        {
            "guild_id": guild_id, "week": week, "status": status, "channel_id": channel_id,
            "message_id": message_id, "due_at": to_epoch(due), "now": to_epoch(now),
            "late_by_s": max(0, to_epoch(now) - to_epoch(due)), "posted_by": posted_by,
        },
    )  # fmt: skip
    return cursor.rowcount == 1


async def get_post(conn: aiosqlite.Connection, guild_id: int, week: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, GET_POST, {"guild_id": guild_id, "week": week})


async def last_posted(conn: aiosqlite.Connection, guild_id: int) -> aiosqlite.Row | None:
    return await fetch_one(conn, LAST_POSTED, {"guild_id": guild_id})


async def last_weekly(conn: aiosqlite.Connection, guild_id: int) -> aiosqlite.Row | None:
    return await fetch_one(conn, LAST_WEEKLY, {"guild_id": guild_id})


# -- what a week holds ---------------------------------------------------------------------------
# A digest reads a week in one hop (``bot.db.rows.in_one_hop``): these are plain functions.


def _window(guild_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    return {"guild_id": guild_id, "start": to_epoch(start), "end": to_epoch(end)}


async def week_picks(
    conn: aiosqlite.Connection, guild_id: int, start: datetime, end: datetime
) -> list[Pick]:
    """The live picks shared in ``[start, end)``, in the order they were shared, with their
    Heard and Loved counts."""
    rows = await fetch_all(conn, WEEK_PICKS, _window(guild_id, start, end))
    return [row_to_pick(row) for row in rows]


def read_few_week_picks(
    conn: SyncConnection, guild_id: int, start: datetime, end: datetime, most: int
) -> list[Pick] | None:
    """The live picks shared in ``[start, end)``, in full, in the order shared, if there are
    at most ``most``; else None (and none is made into a ``Pick``)."""
    params = {**_window(guild_id, start, end), "limit": most + 1}
    rows = read_all(conn, WEEK_PICKS_UP_TO, params)
    return None if len(rows) > most else [row_to_pick(row) for row in rows]


def read_week_facts(
    conn: SyncConnection, guild_id: int, start: datetime, end: datetime
) -> list[MapFact]:
    """What a digest needs of every live pick shared in ``[start, end)``, in the order they
    were shared (read by position: a busy server's week is hundreds of rows)."""
    return _facts(read_all(conn, WEEK_FACTS, _window(guild_id, start, end)))


def _facts(rows: list[sqlite3.Row]) -> list[MapFact]:
    return [
        MapFact(r[0], r[1], r[2], r[3], r[4], tuple(r[5].split()) if r[5] else (), r[6], r[7], r[8])
        for r in rows
    ]


def read_week_size(
    conn: SyncConnection, guild_id: int, start: datetime, end: datetime
) -> tuple[int, int]:
    """How many live picks were shared in ``[start, end)``, and by how many members."""
    row = read_one(conn, WEEK_SIZE, _window(guild_id, start, end))
    assert row is not None
    return int(row[0]), int(row[1])


def read_week_counts(
    conn: SyncConnection,
    guild_id: int,
    start: datetime,
    end: datetime,
    size: tuple[int, int] | None = None,
) -> WeekCounts:
    """A week's counts (``bot.domain.digest.WeekCounts``) counted in SQL: the same as
    ``count_week`` of every pick's facts, reading a few dozen rows instead. ``size`` is
    ``read_week_size``'s answer when the caller has it already."""
    window = _window(guild_id, start, end)
    picks, sharers = size or read_week_size(conn, guild_id, start, end)
    ranked = read_all(conn, WEEK_RANKED, {**window, "limit": RANKED_MAX})
    curators = read_all(conn, WEEK_CURATORS, {**window, "limit": CURATORS_MAX})
    title, bars = chart_of(
        [(r[0], r[1]) for r in read_all(conn, WEEK_SUBGENRES, window)],
        lambda: [(r[0], r[1]) for r in read_all(conn, WEEK_COUNTRIES, window)],
    )
    return WeekCounts(
        picks=picks,
        sharers=sharers,
        ranked=tuple(r[0] for r in ranked),
        curators=tuple(Curator(r[0], r[1], r[2]) for r in curators),
        chart_title=title,
        chart=tuple(bars),
    )


def read_week_firsts_facts(
    conn: SyncConnection, guild_id: int, start: datetime, end: datetime
) -> list[MapFact]:
    """The facts of the week's picks shared when a value was first seen on the server's map:
    the only picks of ``[start, end)`` that can be its firsts (``firsts_on_map`` of these is
    that of the whole week)."""
    return _facts(read_all(conn, WEEK_FIRSTS_FACTS, _window(guild_id, start, end)))


def read_best_of_week(
    conn: SyncConnection, guild_id: int, start: datetime, end: datetime
) -> Pick | None:
    row = read_one(conn, BEST_OF_WEEK, _window(guild_id, start, end))
    return None if row is None else row_to_pick(row)


def read_first_pick_at(conn: SyncConnection, guild_id: int) -> datetime | None:
    row = read_one(conn, FIRST_PICK_AT, {"guild_id": guild_id})
    return None if row is None or row[0] is None else from_epoch(row[0])


def read_first_seen_since(
    conn: SyncConnection, guild_id: int, start: datetime
) -> dict[MapKind, set[str]]:
    """The keys (``bot.domain.digest.map_key``) of each kind that no live pick of the server
    had before ``start``: those first seen since, on picks still live."""
    seen: dict[MapKind, set[str]] = {kind: set() for kind in MAP_KINDS}
    for kind, key in read_all(
        conn, FIRST_SEEN_SINCE, {"guild_id": guild_id, "start": to_epoch(start)}
    ):
        seen[kind].add(str(key))
    return seen


def read_parties_held(
    conn: SyncConnection, guild_id: int, start: datetime, end: datetime
) -> list[Party]:
    return [
        row_to_party(row) for row in read_all(conn, PARTIES_HELD, _window(guild_id, start, end))
    ]


def read_parties_coming(
    conn: SyncConnection, guild_id: int, now: datetime, until: datetime, limit: int
) -> list[Party]:
    rows = read_all(
        conn,
        PARTIES_COMING,
        {"guild_id": guild_id, "now": to_epoch(now), "until": to_epoch(until), "limit": limit},
    )
    return [row_to_party(row) for row in rows]


def read_top_track(conn: SyncConnection, party_id: int) -> tuple[str, int] | None:
    row = read_one(conn, TOP_TRACK, {"party_id": party_id})
    return None if row is None else (str(row["title"]), int(row["reactions"]))


def read_came(conn: SyncConnection, party_id: int) -> int:
    """Members who said Going or Maybe (Interested on the event counts as Going)."""
    row = read_one(conn, GOING, {"party_id": party_id})
    return int(row[0]) if row else 0


def read_rounds_revealed(
    conn: SyncConnection, guild_id: int, start: datetime, end: datetime
) -> list[SwapRound]:
    rows = read_all(conn, ROUNDS_REVEALED, _window(guild_id, start, end))
    return [row_to_round(row) for row in rows]


# -- a member's data -------------------------------------------------------------------------------


async def member_data(conn: aiosqlite.Connection, user_id: int) -> dict[str, list[dict[str, Any]]]:
    params = {"user_id": user_id}
    return {
        "digest_settings_set": [dict(r) for r in await fetch_all(conn, MEMBER_SETTINGS, params)],
        "extra_digests_asked": [dict(r) for r in await fetch_all(conn, MEMBER_EXTRAS, params)],
    }


async def forget_member(conn: aiosqlite.Connection, user_id: int) -> int:
    params = {"user_id": user_id}
    changed = (await conn.execute(FORGET_EDITOR, params)).rowcount
    return changed + (await conn.execute(FORGET_POSTER, params)).rowcount
