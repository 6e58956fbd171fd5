"""Swap rounds: rounds, the picks members bring, pairings and reviews. Every function runs in the
caller's connection (a read or an open transaction)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import aiosqlite

from bot.db.rows import SyncConnection, fetch_all, fetch_one, read_all
from bot.domain.swaps import Mode, Review, RoundStatus, SwapEntry, SwapRound
from bot.domain.timeutil import from_epoch, to_epoch

ROUND_COLUMNS = """
    id, guild_id, channel_id, opener_id, theme, join_until, review_until, zone, mode, anonymous,
    status, card_message_id, thread_id, seed, paired_at, revealed_at, cancel_reason
"""
ENTRY_COLUMNS = """
    id, round_id, user_id, artist, title, link_url, note, country, city, label, year, format,
    subgenres, existing_pick_id, pick_id, receiver_id
"""
ENTRIES = f"SELECT {ENTRY_COLUMNS} FROM swap_entries WHERE round_id = ? ORDER BY id"
REVIEWS = """
SELECT entry_id, reviewer_id, rating, favourite_track, thoughts FROM swap_reviews
WHERE round_id = ? ORDER BY id
"""
UPDATABLE = frozenset(
    {"status", "card_message_id", "thread_id", "seed", "paired_at", "revealed_at", "cancel_reason"}
)


def _time(value: int | None) -> datetime | None:
    return None if value is None else from_epoch(value)


def row_to_round(row: aiosqlite.Row) -> SwapRound:
    return SwapRound(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        opener_id=row["opener_id"],
        theme=row["theme"],
        join_until=from_epoch(row["join_until"]),
        review_until=from_epoch(row["review_until"]),
        zone=row["zone"],
        mode=cast(Mode, row["mode"]),
        anonymous=bool(row["anonymous"]),
        status=cast(RoundStatus, row["status"]),
        card_message_id=row["card_message_id"],
        thread_id=row["thread_id"],
        seed=row["seed"],
        paired_at=_time(row["paired_at"]),
        revealed_at=_time(row["revealed_at"]),
        cancel_reason=row["cancel_reason"],
    )


def row_to_entry(row: aiosqlite.Row) -> SwapEntry:
    return SwapEntry(
        id=row["id"],
        round_id=row["round_id"],
        user_id=row["user_id"],
        artist=row["artist"],
        title=row["title"],
        link_url=row["link_url"],
        note=row["note"],
        country=row["country"],
        city=row["city"],
        label=row["label"],
        year=row["year"],
        format=row["format"],
        subgenres=tuple(json.loads(row["subgenres"])),
        existing_pick_id=row["existing_pick_id"],
        pick_id=row["pick_id"],
        receiver_id=row["receiver_id"],
    )


# -- rounds ------------------------------------------------------------------------------------


async def insert_round(conn: aiosqlite.Connection, values: Mapping[str, Any]) -> int:
    row = await fetch_one(
        conn,
        """INSERT INTO swap_rounds (guild_id, channel_id, opener_id, theme, join_until,
            review_until, zone, mode, anonymous, created_at, updated_at)
        VALUES (:guild_id, :channel_id, :opener_id, :theme, :join_until, :review_until, :zone,
            :mode, :anonymous, :now, :now)
        RETURNING id""",
        dict(values),
    )
    assert row is not None
    return int(row[0])


async def get_round(
    conn: aiosqlite.Connection, round_id: int, guild_id: int | None = None
) -> SwapRound | None:
    sql = f"SELECT {ROUND_COLUMNS} FROM swap_rounds WHERE id = :id"
    if guild_id is not None:
        sql += " AND guild_id = :guild_id"
    row = await fetch_one(conn, sql, {"id": round_id, "guild_id": guild_id})
    return None if row is None else row_to_round(row)


async def live_in_channel(conn: aiosqlite.Connection, channel_id: int) -> SwapRound | None:
    row = await fetch_one(
        conn,
        f"""SELECT {ROUND_COLUMNS} FROM swap_rounds
        WHERE channel_id = ? AND status IN ('open', 'reviewing')""",
        (channel_id,),
    )
    return None if row is None else row_to_round(row)


async def update_round(
    conn: aiosqlite.Connection, round_id: int, now: datetime, **fields: object
) -> None:
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = {k: (to_epoch(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    await conn.execute(
        f"UPDATE swap_rounds SET {assignments}, updated_at = :now WHERE id = :id",
        {**values, "id": round_id, "now": to_epoch(now)},
    )


async def rounds_of_guild(
    conn: aiosqlite.Connection, guild_id: int, *, live: bool, limit: int = 25
) -> list[SwapRound]:
    """Live rounds (open or reviewing), soonest deadline first; or past ones, newest first."""
    if live:
        sql = f"""SELECT {ROUND_COLUMNS} FROM swap_rounds WHERE guild_id = :guild_id
            AND status IN ('open', 'reviewing') ORDER BY join_until, id LIMIT :limit"""
    else:
        sql = f"""SELECT {ROUND_COLUMNS} FROM swap_rounds WHERE guild_id = :guild_id
            AND status IN ('revealed', 'cancelled') ORDER BY join_until DESC, id DESC
            LIMIT :limit"""
    rows = await fetch_all(conn, sql, {"guild_id": guild_id, "limit": limit})
    return [row_to_round(row) for row in rows]


async def revealed_rounds(
    conn: aiosqlite.Connection, guild_id: int, member: int | None, limit: int
) -> list[SwapRound]:
    """Revealed rounds, newest first; those a member gave or received in, when given."""
    rows = await fetch_all(
        conn,
        f"""SELECT {ROUND_COLUMNS} FROM swap_rounds s WHERE guild_id = :guild_id
        AND status = 'revealed' AND (:member IS NULL OR EXISTS (
            SELECT 1 FROM swap_entries e WHERE e.round_id = s.id
              AND (e.user_id = :member OR e.receiver_id = :member)))
        ORDER BY review_until DESC, id DESC LIMIT :limit""",
        {"guild_id": guild_id, "member": member, "limit": limit},
    )
    return [row_to_round(row) for row in rows]


async def recent_pairs(
    conn: aiosqlite.Connection, guild_id: int, before_round: int, rounds: int
) -> list[tuple[int, int]]:
    """``(giver, receiver)`` of the server's last ``rounds`` paired rounds before this one."""
    rows = await fetch_all(
        conn,
        """SELECT e.user_id, e.receiver_id FROM swap_entries e
        WHERE e.round_id IN (
            SELECT id FROM swap_rounds WHERE guild_id = :guild_id AND id < :round_id
              AND paired_at IS NOT NULL ORDER BY paired_at DESC, id DESC LIMIT :rounds)
          AND e.user_id IS NOT NULL AND e.receiver_id IS NOT NULL""",
        {"guild_id": guild_id, "round_id": before_round, "rounds": rounds},
    )
    return [(r[0], r[1]) for r in rows]


# -- entries -----------------------------------------------------------------------------------


async def upsert_entry(
    conn: aiosqlite.Connection,
    round_id: int,
    user_id: int,
    fields: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Store the member's pick for the round (joining, or changing it); True if they joined
    now, False if they changed it."""
    values = {**fields, "round_id": round_id, "user_id": user_id, "now": to_epoch(now)}
    values["subgenres"] = json.dumps(list(fields.get("subgenres") or ()))
    existed = await get_entry(conn, round_id, user_id) is not None
    await conn.execute(
        """INSERT INTO swap_entries (round_id, user_id, artist, title, link_url, note, country,
            city, label, year, format, subgenres, existing_pick_id, joined_at, updated_at)
        VALUES (:round_id, :user_id, :artist, :title, :link_url, :note, :country, :city, :label,
            :year, :format, :subgenres, :existing_pick_id, :now, :now)
        ON CONFLICT (round_id, user_id) DO UPDATE SET artist = excluded.artist,
            title = excluded.title, link_url = excluded.link_url, note = excluded.note,
            country = excluded.country, city = excluded.city, label = excluded.label,
            year = excluded.year, format = excluded.format, subgenres = excluded.subgenres,
            existing_pick_id = excluded.existing_pick_id, updated_at = excluded.updated_at""",
        values,
    )
    return not existed


async def get_entry(conn: aiosqlite.Connection, round_id: int, user_id: int) -> SwapEntry | None:
    row = await fetch_one(
        conn,
        f"SELECT {ENTRY_COLUMNS} FROM swap_entries WHERE round_id = ? AND user_id = ?",
        (round_id, user_id),
    )
    return None if row is None else row_to_entry(row)


async def entry_given_to(
    conn: aiosqlite.Connection, round_id: int, receiver_id: int
) -> SwapEntry | None:
    row = await fetch_one(
        conn,
        f"SELECT {ENTRY_COLUMNS} FROM swap_entries WHERE round_id = ? AND receiver_id = ?",
        (round_id, receiver_id),
    )
    return None if row is None else row_to_entry(row)


async def entries(conn: aiosqlite.Connection, round_id: int) -> list[SwapEntry]:
    rows = await fetch_all(conn, ENTRIES, (round_id,))
    return [row_to_entry(row) for row in rows]


def read_entries(conn: SyncConnection, round_id: int) -> list[SwapEntry]:
    """``entries`` inside a read run in one hop (``bot.db.rows.in_one_hop``)."""
    return [row_to_entry(row) for row in read_all(conn, ENTRIES, (round_id,))]


async def count_entries(conn: aiosqlite.Connection, round_id: int) -> int:
    row = await fetch_one(conn, "SELECT count(*) FROM swap_entries WHERE round_id = ?", (round_id,))
    return 0 if row is None else int(row[0])


async def delete_entry(conn: aiosqlite.Connection, round_id: int, user_id: int) -> bool:
    cursor = await conn.execute(
        "DELETE FROM swap_entries WHERE round_id = ? AND user_id = ?", (round_id, user_id)
    )
    return cursor.rowcount > 0


async def delete_entries_of(
    conn: aiosqlite.Connection, round_id: int, user_ids: Sequence[int]
) -> None:
    await conn.executemany(
        "DELETE FROM swap_entries WHERE round_id = ? AND user_id = ?",
        [(round_id, user_id) for user_id in user_ids],
    )


async def set_receivers(
    conn: aiosqlite.Connection, round_id: int, receiver_of: Mapping[int, int]
) -> None:
    await conn.executemany(
        "UPDATE swap_entries SET receiver_id = ? WHERE round_id = ? AND user_id = ?",
        [(receiver, round_id, giver) for giver, receiver in receiver_of.items()],
    )


async def set_entry_pick(conn: aiosqlite.Connection, entry_id: int, pick_id: int) -> None:
    await conn.execute(
        "UPDATE swap_entries SET pick_id = ? WHERE id = ? AND pick_id IS NULL", (pick_id, entry_id)
    )
    await conn.execute(
        "UPDATE swap_reviews SET pick_id = ? WHERE entry_id = ?", (pick_id, entry_id)
    )


async def known_pairs(
    conn: aiosqlite.Connection, guild_id: int, round_id: int
) -> list[tuple[int, int]]:
    """``(giver, receiver)`` among the round's members where the receiver already knows the
    giver's pick: they shared an archive entry with its match key, or marked it Heard."""
    rows = await fetch_all(
        conn,
        """WITH brought AS (
            SELECT e.user_id AS giver, p.id AS pick_id, p.match_key
            FROM swap_entries e JOIN picks p ON p.id = e.existing_pick_id
            WHERE e.round_id = :round_id AND e.user_id IS NOT NULL),
        members AS (
            SELECT user_id FROM swap_entries WHERE round_id = :round_id AND user_id IS NOT NULL)
        SELECT b.giver, m.user_id FROM brought b JOIN members m ON m.user_id <> b.giver
        WHERE EXISTS (SELECT 1 FROM picks s WHERE s.guild_id = :guild_id
                        AND s.match_key = b.match_key AND s.shared_by = m.user_id)
           OR EXISTS (SELECT 1 FROM pick_votes v WHERE v.pick_id = b.pick_id
                        AND v.user_id = m.user_id AND v.kind = 'heard')""",
        {"guild_id": guild_id, "round_id": round_id},
    )
    return [(r[0], r[1]) for r in rows]


# -- reviews -----------------------------------------------------------------------------------


async def upsert_review(
    conn: aiosqlite.Connection,
    round_id: int,
    entry: SwapEntry,
    reviewer_id: int,
    rating: int,
    favourite_track: str | None,
    thoughts: str | None,
    now: datetime,
) -> bool:
    """Store (or change) a review; True when it is the reviewer's first."""
    before = await fetch_one(
        conn,
        "SELECT 1 FROM swap_reviews WHERE round_id = ? AND reviewer_id = ?",
        (round_id, reviewer_id),
    )
    await conn.execute(
        """INSERT INTO swap_reviews (round_id, entry_id, reviewer_id, rating, favourite_track,
            thoughts, pick_id, created_at, updated_at)
        VALUES (:round_id, :entry_id, :reviewer_id, :rating, :favourite_track, :thoughts,
            :pick_id, :now, :now)
        ON CONFLICT (round_id, reviewer_id) DO UPDATE SET rating = excluded.rating,
            favourite_track = excluded.favourite_track, thoughts = excluded.thoughts,
            updated_at = excluded.updated_at""",
        {
            "round_id": round_id, "entry_id": entry.id, "reviewer_id": reviewer_id,
            "rating": rating, "favourite_track": favourite_track, "thoughts": thoughts,
            "pick_id": entry.pick_id, "now": to_epoch(now),
        },
    )  # fmt: skip
    return before is None


async def reviews(conn: aiosqlite.Connection, round_id: int) -> list[Review]:
    rows = await fetch_all(conn, REVIEWS, (round_id,))
    return [Review(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def read_reviews(conn: SyncConnection, round_id: int) -> list[Review]:
    """``reviews`` inside a read run in one hop (``bot.db.rows.in_one_hop``)."""
    return [Review(r[0], r[1], r[2], r[3], r[4]) for r in read_all(conn, REVIEWS, (round_id,))]


async def reviewers(conn: aiosqlite.Connection, round_id: int) -> set[int]:
    rows = await fetch_all(
        conn,
        "SELECT reviewer_id FROM swap_reviews WHERE round_id = ? AND reviewer_id IS NOT NULL",
        (round_id,),
    )
    return {r[0] for r in rows}


async def review_by(conn: aiosqlite.Connection, round_id: int, reviewer_id: int) -> Review | None:
    row = await fetch_one(
        conn,
        """SELECT entry_id, reviewer_id, rating, favourite_track, thoughts FROM swap_reviews
        WHERE round_id = ? AND reviewer_id = ?""",
        (round_id, reviewer_id),
    )
    return None if row is None else Review(row[0], row[1], row[2], row[3], row[4])


async def reviews_of_pick(conn: aiosqlite.Connection, pick_id: int) -> list[aiosqlite.Row]:
    """Reviews written about an archive entry in swap rounds: reviewer, rating, favourite
    track, thoughts, round id and theme; newest first."""
    return await fetch_all(
        conn,
        """SELECT r.reviewer_id, r.rating, r.favourite_track, r.thoughts, r.round_id, s.theme
        FROM swap_reviews r JOIN swap_rounds s ON s.id = r.round_id
        WHERE r.pick_id = ? AND s.status = 'revealed' ORDER BY r.id DESC LIMIT 10""",
        (pick_id,),
    )


# -- a member's data (/privacy) ------------------------------------------------------------------


async def member_data(conn: aiosqlite.Connection, user_id: int) -> dict[str, list[dict[str, Any]]]:
    entries_rows = await fetch_all(
        conn,
        """SELECT s.guild_id, e.round_id, s.theme, e.artist, e.title, e.link_url, e.note,
            e.country, e.city, e.label, e.year, e.format, e.subgenres,
            CASE WHEN s.anonymous AND s.status <> 'revealed' THEN NULL ELSE e.receiver_id END
                AS receiver_id,
            e.joined_at
        FROM swap_entries e JOIN swap_rounds s ON s.id = e.round_id
        WHERE e.user_id = ? ORDER BY e.id""",
        (user_id,),
    )
    received = await fetch_all(
        conn,
        """SELECT s.guild_id, e.round_id,
            CASE WHEN s.anonymous AND s.status <> 'revealed' THEN NULL ELSE e.user_id END
                AS giver_id,
            e.artist, e.title
        FROM swap_entries e JOIN swap_rounds s ON s.id = e.round_id
        WHERE e.receiver_id = ? ORDER BY e.id""",
        (user_id,),
    )
    review_rows = await fetch_all(
        conn,
        """SELECT r.round_id, r.rating, r.favourite_track, r.thoughts, r.updated_at
        FROM swap_reviews r WHERE r.reviewer_id = ? ORDER BY r.id""",
        (user_id,),
    )
    opened = await fetch_all(
        conn,
        "SELECT guild_id, id AS round_id, theme FROM swap_rounds WHERE opener_id = ?",
        (user_id,),
    )
    return {
        "swap_picks_brought": [dict(r) for r in entries_rows],
        "swap_picks_received": [dict(r) for r in received],
        "swap_reviews": [dict(r) for r in review_rows],
        "swap_rounds_opened": [dict(r) for r in opened],
    }


async def forget_member(conn: aiosqlite.Connection, user_id: int, *, delete: bool) -> int:
    """Forget a member in swap rounds: the picks they brought to rounds not yet revealed are
    withdrawn; in revealed rounds their picks, pairs and reviews are deleted (``delete``) or
    kept without their name. Rounds they opened keep no opener. Returns rows touched."""
    touched = 0
    cursor = await conn.execute(
        """DELETE FROM swap_entries WHERE user_id = :user_id AND round_id IN (
            SELECT id FROM swap_rounds WHERE status IN ('open', 'reviewing', 'cancelled'))""",
        {"user_id": user_id},
    )
    touched += cursor.rowcount
    if delete:
        for sql in (
            "DELETE FROM swap_reviews WHERE reviewer_id = :user_id",
            "DELETE FROM swap_entries WHERE user_id = :user_id",
        ):
            cursor = await conn.execute(sql, {"user_id": user_id})
            touched += cursor.rowcount
    else:
        for sql in (
            "UPDATE swap_reviews SET reviewer_id = NULL WHERE reviewer_id = :user_id",
            "UPDATE swap_entries SET user_id = NULL WHERE user_id = :user_id",
        ):
            cursor = await conn.execute(sql, {"user_id": user_id})
            touched += cursor.rowcount
    await conn.execute(
        "UPDATE swap_entries SET receiver_id = NULL WHERE receiver_id = :user_id",
        {"user_id": user_id},
    )
    await conn.execute(
        "UPDATE swap_rounds SET opener_id = NULL WHERE opener_id = :user_id", {"user_id": user_id}
    )
    return touched
