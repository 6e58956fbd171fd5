"""Listening parties: the occurrences, their tracklists, the host's controls, RSVPs, notices and
members' reminder opt-outs. Every function runs inside the caller's connection (a read or an open
transaction)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import aiosqlite

from bot.db.rows import fetch_all, fetch_one
from bot.domain.markers import Control, ControlKind
from bot.domain.parties import Party, PartyStatus, RsvpChoice, RsvpCounts
from bot.domain.timeutil import from_epoch, to_epoch
from bot.domain.tracklist import Track, Tracklist

PARTY_COLUMNS = """
    id, guild_id, host_id, series_id, occurrence, what, pick_id, starts_at, duration_s, zone,
    repeat_weeks, channel_id, voice_id, voice_name, link, description, side_break_s, status,
    event_id, card_channel_id, card_message_id, thread_id, playing_message_id, beat, started_at, ended_at,
    late_by_s, cancel_reason, moves, next_id, writers
"""

INSERT_PARTY = """
INSERT INTO parties (guild_id, host_id, series_id, occurrence, what, pick_id, starts_at,
                     duration_s, duration_given, zone, repeat_weeks, channel_id, voice_id, voice_name, link,
                     description, side_break_s, created_at, updated_at)
VALUES (:guild_id, :host_id, :series_id, :occurrence, :what, :pick_id, :starts_at,
        :duration_s, :duration_given, :zone, :repeat_weeks, :channel_id, :voice_id, :voice_name, :link,
        :description, :side_break_s, :now, :now)
RETURNING id
"""
# The columns a party's fields may be updated through (``update_party``), nothing else.
UPDATABLE = frozenset(
    {
        "what", "pick_id", "starts_at", "duration_s", "duration_given", "channel_id", "voice_id", "voice_name",
        "link", "description", "status", "event_id", "card_channel_id", "card_message_id", "thread_id",
        "playing_message_id", "beat", "started_at", "ended_at", "late_by_s", "cancel_reason",
        "moves", "next_id", "writers", "repeat_weeks", "series_id",
    }
)  # fmt: skip


def row_to_party(row: aiosqlite.Row) -> Party:
    return Party(
        id=row["id"],
        guild_id=row["guild_id"],
        host_id=row["host_id"],
        series_id=row["series_id"],
        occurrence=row["occurrence"],
        what=row["what"],
        pick_id=row["pick_id"],
        starts_at=from_epoch(row["starts_at"]),
        duration=timedelta(seconds=row["duration_s"]),
        zone=row["zone"],
        repeat_weeks=row["repeat_weeks"],
        channel_id=row["channel_id"],
        voice_id=row["voice_id"],
        voice_name=row["voice_name"],
        link=row["link"],
        description=row["description"],
        side_break=timedelta(seconds=row["side_break_s"]),
        status=cast(PartyStatus, row["status"]),
        event_id=row["event_id"],
        card_channel_id=row["card_channel_id"],
        card_message_id=row["card_message_id"],
        thread_id=row["thread_id"],
        playing_message_id=row["playing_message_id"],
        beat=row["beat"],
        started_at=None if row["started_at"] is None else from_epoch(row["started_at"]),
        ended_at=None if row["ended_at"] is None else from_epoch(row["ended_at"]),
        late_by=None if row["late_by_s"] is None else timedelta(seconds=row["late_by_s"]),
        cancel_reason=row["cancel_reason"],
        moves=row["moves"],
        next_id=row["next_id"],
        writers=row["writers"],
    )


async def insert_party(conn: aiosqlite.Connection, values: Mapping[str, Any]) -> int:
    row = await fetch_one(conn, INSERT_PARTY, dict(values))
    assert row is not None
    return int(row[0])


async def get_party(
    conn: aiosqlite.Connection, party_id: int, guild_id: int | None = None
) -> Party | None:
    """The party; scoped to ``guild_id`` when given (a command in a server), else by id alone
    (a button in a DM, a job)."""
    sql = f"SELECT {PARTY_COLUMNS} FROM parties WHERE id = :id"
    if guild_id is not None:
        sql += " AND guild_id = :guild_id"
    row = await fetch_one(conn, sql, {"id": party_id, "guild_id": guild_id})
    return None if row is None else row_to_party(row)


async def update_party(
    conn: aiosqlite.Connection, party_id: int, now: datetime, **fields: object
) -> None:
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not fields:
        return
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    await conn.execute(
        f"UPDATE parties SET {assignments}, updated_at = :now WHERE id = :id",
        {**fields, "id": party_id, "now": to_epoch(now)},
    )


async def set_if_unset(
    conn: aiosqlite.Connection, party_id: int, column: str, value: int, now: datetime
) -> bool:
    """Set an id column (event, card, thread, now-playing message) only if it is still unset:
    the first recorded id wins. Whether it was set now."""
    if column not in {"event_id", "card_message_id", "thread_id", "playing_message_id"}:
        raise ValueError(column)
    cursor = await conn.execute(
        f"UPDATE parties SET {column} = :value, updated_at = :now "
        f"WHERE id = :id AND {column} IS NULL",
        {"value": value, "id": party_id, "now": to_epoch(now)},
    )
    return cursor.rowcount > 0


async def advance_beat(conn: aiosqlite.Connection, party_id: int, beat: int, now: datetime) -> None:
    """Record that the run has posted ``beat`` beats (never moving back)."""
    await conn.execute(
        "UPDATE parties SET beat = max(beat, :beat), updated_at = :now WHERE id = :id",
        {"beat": beat, "id": party_id, "now": to_epoch(now)},
    )


async def upcoming(conn: aiosqlite.Connection, guild_id: int, limit: int) -> list[Party]:
    """Parties not yet over (scheduled, or running), soonest first."""
    rows = await fetch_all(
        conn,
        f"""SELECT {PARTY_COLUMNS} FROM parties
        WHERE guild_id = :guild_id AND status IN ('scheduled', 'running')
        ORDER BY starts_at, id LIMIT :limit""",
        {"guild_id": guild_id, "limit": limit},
    )
    return [row_to_party(row) for row in rows]


async def past(
    conn: aiosqlite.Connection,
    guild_id: int,
    *,
    pick_id: int | None = None,
    limit: int = 10,
    offset: int = 0,
) -> list[Party]:
    """Parties that were held (or missed), newest first; of one archive entry when given."""
    rows = await fetch_all(
        conn,
        f"""SELECT {PARTY_COLUMNS} FROM parties
        WHERE guild_id = :guild_id AND status IN ('ended', 'missed')
          AND (:pick_id IS NULL OR pick_id = :pick_id)
        ORDER BY starts_at DESC, id DESC LIMIT :limit OFFSET :offset""",
        {"guild_id": guild_id, "pick_id": pick_id, "limit": limit, "offset": offset},
    )
    return [row_to_party(row) for row in rows]


async def count_past(conn: aiosqlite.Connection, guild_id: int, pick_id: int | None) -> int:
    row = await fetch_one(
        conn,
        """SELECT count(*) FROM parties WHERE guild_id = :guild_id
        AND status IN ('ended', 'missed') AND (:pick_id IS NULL OR pick_id = :pick_id)""",
        {"guild_id": guild_id, "pick_id": pick_id},
    )
    return 0 if row is None else int(row[0])


async def of_pick(conn: aiosqlite.Connection, guild_id: int, pick_id: int) -> list[Party]:
    """Every party of an archive entry except cancelled ones, newest first."""
    rows = await fetch_all(
        conn,
        f"""SELECT {PARTY_COLUMNS} FROM parties
        WHERE guild_id = :guild_id AND pick_id = :pick_id AND status <> 'cancelled'
        ORDER BY starts_at DESC, id DESC LIMIT 10""",
        {"guild_id": guild_id, "pick_id": pick_id},
    )
    return [row_to_party(row) for row in rows]


async def search(
    conn: aiosqlite.Connection, guild_id: int, text: str, *, open_only: bool, limit: int = 25
) -> list[Party]:
    """Parties whose what contains ``text`` (autocomplete), upcoming first, then newest."""
    rows = await fetch_all(
        conn,
        f"""SELECT {PARTY_COLUMNS} FROM parties
        WHERE guild_id = :guild_id AND instr(lower(what), lower(:text)) > 0
          AND (NOT :open_only OR status IN ('scheduled', 'running'))
        ORDER BY status NOT IN ('scheduled', 'running'),
                 CASE WHEN status IN ('scheduled', 'running') THEN starts_at END,
                 starts_at DESC
        LIMIT :limit""",
        {"guild_id": guild_id, "text": text, "open_only": open_only, "limit": limit},
    )
    return [row_to_party(row) for row in rows]


async def count_open(conn: aiosqlite.Connection, guild_id: int) -> int:
    row = await fetch_one(
        conn,
        "SELECT count(*) FROM parties WHERE guild_id = ? AND status IN ('scheduled', 'running')",
        (guild_id,),
    )
    return 0 if row is None else int(row[0])


async def duration_given(conn: aiosqlite.Connection, party_id: int) -> bool:
    """Whether the host gave the party's duration (else it follows the tracklist)."""
    row = await fetch_one(conn, "SELECT duration_given FROM parties WHERE id = ?", (party_id,))
    return bool(row is not None and row[0])


async def end_series(conn: aiosqlite.Connection, series_id: int, now: datetime) -> None:
    """No occurrence of the series repeats any more."""
    await conn.execute(
        "UPDATE parties SET repeat_weeks = 0, updated_at = ? WHERE series_id = ?",
        (to_epoch(now), series_id),
    )


async def later_in_series(
    conn: aiosqlite.Connection, series_id: int, after: datetime
) -> list[Party]:
    """The series' occurrences that start after ``after``, soonest first."""
    rows = await fetch_all(
        conn,
        f"""SELECT {PARTY_COLUMNS} FROM parties
        WHERE series_id = :series_id AND starts_at > :after ORDER BY starts_at""",
        {"series_id": series_id, "after": to_epoch(after)},
    )
    return [row_to_party(row) for row in rows]


async def set_card(
    conn: aiosqlite.Connection, party_id: int, channel_id: int, message_id: int, now: datetime
) -> bool:
    """Record the card posted in ``channel_id`` as the party's card, unless the party has moved
    to another channel meanwhile (a sync that read it before the move must not point it back
    at the card it left). Whether it was recorded."""
    cursor = await conn.execute(
        """UPDATE parties SET card_channel_id = :channel_id, card_message_id = :message_id,
            updated_at = :now
        WHERE id = :id AND channel_id = :channel_id""",
        {"id": party_id, "channel_id": channel_id, "message_id": message_id, "now": to_epoch(now)},
    )
    return cursor.rowcount > 0


async def for_calendar(conn: aiosqlite.Connection, guild_id: int, now: datetime) -> list[Party]:
    """Open parties, and cancelled ones that were still to come, soonest first (at most 100)."""
    rows = await fetch_all(
        conn,
        f"""SELECT {PARTY_COLUMNS} FROM parties
        WHERE guild_id = :guild_id AND (status IN ('scheduled', 'running')
              OR (status = 'cancelled' AND starts_at > :now))
        ORDER BY starts_at, id LIMIT 100""",
        {"guild_id": guild_id, "now": to_epoch(now)},
    )
    return [row_to_party(row) for row in rows]


# -- tracklist --------------------------------------------------------------------------------


async def replace_tracks(conn: aiosqlite.Connection, party_id: int, tracklist: Tracklist) -> None:
    await conn.execute("DELETE FROM party_tracks WHERE party_id = ?", (party_id,))
    await conn.executemany(
        """INSERT INTO party_tracks (party_id, number, title, seconds, note, side)
        VALUES (?, ?, ?, ?, ?, ?)""",
        [(party_id, t.number, t.title, t.seconds, t.note, t.side) for t in tracklist.tracks],
    )


async def get_tracklist(conn: aiosqlite.Connection, party_id: int) -> Tracklist | None:
    rows = await fetch_all(
        conn,
        "SELECT number, title, seconds, note, side FROM party_tracks WHERE party_id = ? "
        "ORDER BY number",
        (party_id,),
    )
    if not rows:
        return None
    return Tracklist(
        tuple(Track(r["number"], r["title"], r["seconds"], r["note"], r["side"]) for r in rows)
    )


async def tracklists_of(
    conn: aiosqlite.Connection, party_ids: Sequence[int]
) -> dict[int, Tracklist]:
    """The tracklists of several parties at once (parties without one are left out)."""
    rows = await fetch_all(
        conn,
        """SELECT party_id, number, title, seconds, note, side FROM party_tracks
        WHERE party_id IN (SELECT value FROM json_each(?)) ORDER BY party_id, number""",
        (_json_list(list(party_ids)),),
    )
    tracks: dict[int, list[Track]] = {}
    for r in rows:
        tracks.setdefault(r["party_id"], []).append(
            Track(r["number"], r["title"], r["seconds"], r["note"], r["side"])
        )
    return {party_id: Tracklist(tuple(found)) for party_id, found in tracks.items()}


async def track_records(conn: aiosqlite.Connection, party_id: int) -> list[aiosqlite.Row]:
    """Per track: number, title, seconds, note, side, message_id, posted_at, reactions."""
    return await fetch_all(
        conn, "SELECT * FROM party_tracks WHERE party_id = ? ORDER BY number", (party_id,)
    )


async def set_track_marker(
    conn: aiosqlite.Connection, party_id: int, number: int, message_id: int, posted_at: datetime
) -> None:
    await conn.execute(
        """UPDATE party_tracks SET message_id = ?, posted_at = coalesce(posted_at, ?)
        WHERE party_id = ? AND number = ?""",
        (message_id, to_epoch(posted_at), party_id, number),
    )


async def set_track_reactions(
    conn: aiosqlite.Connection, party_id: int, counts: Mapping[int, int]
) -> None:
    await conn.executemany(
        "UPDATE party_tracks SET reactions = ? WHERE party_id = ? AND number = ?",
        [(count, party_id, number) for number, count in counts.items()],
    )


# -- controls ---------------------------------------------------------------------------------


async def add_control(
    conn: aiosqlite.Connection, party_id: int, kind: ControlKind, at: datetime, user_id: int
) -> None:
    await conn.execute(
        """INSERT INTO party_controls (party_id, seq, kind, at, by_user)
        VALUES (:party_id,
                (SELECT coalesce(max(seq), 0) + 1 FROM party_controls WHERE party_id = :party_id),
                :kind, :at, :user_id)""",
        {"party_id": party_id, "kind": kind, "at": to_epoch(at), "user_id": user_id},
    )


async def get_controls(conn: aiosqlite.Connection, party_id: int) -> list[Control]:
    rows = await fetch_all(
        conn, "SELECT kind, at FROM party_controls WHERE party_id = ? ORDER BY seq", (party_id,)
    )
    return [Control(cast(ControlKind, r["kind"]), from_epoch(r["at"])) for r in rows]


# -- RSVPs ------------------------------------------------------------------------------------


async def set_rsvp(
    conn: aiosqlite.Connection, party_id: int, user_id: int, choice: RsvpChoice, now: datetime
) -> RsvpChoice | None:
    """A member's own choice (a button); returns what it was before (None: nothing)."""
    before = await get_rsvp(conn, party_id, user_id)
    await conn.execute(
        """INSERT INTO party_rsvps (party_id, user_id, choice, source, updated_at)
        VALUES (?, ?, ?, 'button', ?)
        ON CONFLICT (party_id, user_id) DO UPDATE SET choice = excluded.choice,
            source = 'button', updated_at = excluded.updated_at""",
        (party_id, user_id, choice, to_epoch(now)),
    )
    return before


async def get_rsvp(conn: aiosqlite.Connection, party_id: int, user_id: int) -> RsvpChoice | None:
    row = await fetch_one(
        conn,
        "SELECT choice FROM party_rsvps WHERE party_id = ? AND user_id = ?",
        (party_id, user_id),
    )
    return None if row is None else cast(RsvpChoice, row[0])


async def sync_interested(
    conn: aiosqlite.Connection, party_id: int, user_ids: Iterable[int], now: datetime
) -> None:
    """Discord's Interested users of the party's event, as read now: each counts as Going unless
    they chose on the card; those no longer interested lose what Interested gave them."""
    ids = sorted(set(user_ids))
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS interested_now (user_id INTEGER PRIMARY KEY)"
    )
    await conn.execute("DELETE FROM temp.interested_now")
    await conn.executemany("INSERT INTO temp.interested_now VALUES (?)", [(i,) for i in ids])
    await conn.execute(
        """DELETE FROM party_rsvps WHERE party_id = ? AND source = 'event'
        AND user_id NOT IN (SELECT user_id FROM temp.interested_now)""",
        (party_id,),
    )
    await conn.execute(
        """INSERT INTO party_rsvps (party_id, user_id, choice, source, updated_at)
        SELECT ?, user_id, 'going', 'event', ? FROM temp.interested_now WHERE true
        ON CONFLICT (party_id, user_id) DO NOTHING""",
        (party_id, to_epoch(now)),
    )
    await conn.execute("DELETE FROM temp.interested_now")


async def rsvp_counts(conn: aiosqlite.Connection, party_id: int) -> RsvpCounts:
    rows = await fetch_all(
        conn,
        "SELECT choice, count(*) AS n FROM party_rsvps WHERE party_id = ? GROUP BY choice",
        (party_id,),
    )
    counts = {r["choice"]: r["n"] for r in rows}
    return RsvpCounts(counts.get("going", 0), counts.get("maybe", 0), counts.get("cant", 0))


async def rsvp_counts_of(
    conn: aiosqlite.Connection, party_ids: Sequence[int]
) -> dict[int, RsvpCounts]:
    rows = await fetch_all(
        conn,
        """SELECT party_id, choice, count(*) AS n FROM party_rsvps
        WHERE party_id IN (SELECT value FROM json_each(?)) GROUP BY party_id, choice""",
        (_json_list(list(party_ids)),),
    )
    found: dict[int, dict[str, int]] = {}
    for r in rows:
        found.setdefault(r["party_id"], {})[r["choice"]] = r["n"]
    return {
        party_id: RsvpCounts(c.get("going", 0), c.get("maybe", 0), c.get("cant", 0))
        for party_id, c in found.items()
    }


async def rsvp_members(
    conn: aiosqlite.Connection, party_id: int, choices: Sequence[RsvpChoice]
) -> list[tuple[int, RsvpChoice]]:
    """``(user_id, choice)`` of the members who chose one of ``choices``, by user id."""
    rows = await fetch_all(
        conn,
        """SELECT user_id, choice FROM party_rsvps WHERE party_id = ?
        AND choice IN (SELECT value FROM json_each(?)) ORDER BY user_id""",
        (party_id, _json_list(choices)),
    )
    return [(r["user_id"], cast(RsvpChoice, r["choice"])) for r in rows]


async def rsvps_of_member(
    conn: aiosqlite.Connection, party_ids: Sequence[int], user_id: int
) -> dict[int, RsvpChoice]:
    rows = await fetch_all(
        conn,
        """SELECT party_id, choice FROM party_rsvps WHERE user_id = ?
        AND party_id IN (SELECT value FROM json_each(?))""",
        (user_id, _json_list(list(party_ids))),
    )
    return {r["party_id"]: cast(RsvpChoice, r["choice"]) for r in rows}


# -- notices: reminders, "the time changed", "cancelled" --------------------------------------


async def notice_outcomes(
    conn: aiosqlite.Connection, party_id: int, notice: str
) -> dict[int, tuple[str, int | None]]:
    rows = await fetch_all(
        conn,
        "SELECT user_id, outcome, batch FROM party_notices WHERE party_id = ? AND notice = ?",
        (party_id, notice),
    )
    return {r["user_id"]: (r["outcome"], r["batch"]) for r in rows}


async def record_notice(
    conn: aiosqlite.Connection, party_id: int, notice: str, user_id: int, outcome: str
) -> None:
    await conn.execute(
        """INSERT INTO party_notices (party_id, notice, user_id, outcome) VALUES (?, ?, ?, ?)
        ON CONFLICT (party_id, notice, user_id) DO NOTHING""",
        (party_id, notice, user_id, outcome),
    )


async def assign_batches(
    conn: aiosqlite.Connection, party_id: int, notice: str, per_batch: int
) -> dict[int, list[int]]:
    """Give every member whose DMs were closed, and who has no mention batch yet, one (new
    batches after the highest taken, ``per_batch`` members each); return every batch's members.
    A batch once given never changes, so a mention message is the same on every retry."""
    rows = await fetch_all(
        conn,
        """SELECT user_id, batch FROM party_notices WHERE party_id = ? AND notice = ?
        AND outcome = 'dm_closed' ORDER BY user_id""",
        (party_id, notice),
    )
    batches: dict[int, list[int]] = {}
    waiting: list[int] = []
    for row in rows:
        if row["batch"] is None:
            waiting.append(row["user_id"])
        else:
            batches.setdefault(row["batch"], []).append(row["user_id"])
    next_batch = max(batches, default=0) + 1
    for start in range(0, len(waiting), per_batch):
        members = waiting[start : start + per_batch]
        await conn.executemany(
            "UPDATE party_notices SET batch = ? WHERE party_id = ? AND notice = ? AND user_id = ?",
            [(next_batch, party_id, notice, user_id) for user_id in members],
        )
        batches[next_batch] = members
        next_batch += 1
    return batches


# -- reminder opt-outs ------------------------------------------------------------------------


async def set_optout(
    conn: aiosqlite.Connection, guild_id: int, user_id: int, off: bool, now: datetime
) -> bool:
    """Turn a member's reminders off (``off``) or back on; whether anything changed."""
    if off:
        cursor = await conn.execute(
            """INSERT INTO party_reminder_optouts (guild_id, user_id, since) VALUES (?, ?, ?)
            ON CONFLICT (guild_id, user_id) DO NOTHING""",
            (guild_id, user_id, to_epoch(now)),
        )
    else:
        cursor = await conn.execute(
            "DELETE FROM party_reminder_optouts WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
    return cursor.rowcount > 0


async def opted_out(conn: aiosqlite.Connection, guild_id: int) -> set[int]:
    rows = await fetch_all(
        conn, "SELECT user_id FROM party_reminder_optouts WHERE guild_id = ?", (guild_id,)
    )
    return {r[0] for r in rows}


async def is_opted_out(conn: aiosqlite.Connection, guild_id: int, user_id: int) -> bool:
    row = await fetch_one(
        conn,
        "SELECT 1 FROM party_reminder_optouts WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    )
    return row is not None


# -- a member's data (/privacy) ---------------------------------------------------------------


async def member_data(conn: aiosqlite.Connection, user_id: int) -> dict[str, list[dict[str, Any]]]:
    rsvps = await fetch_all(
        conn,
        """SELECT p.guild_id, r.party_id, p.what, p.starts_at, r.choice, r.source, r.updated_at
        FROM party_rsvps r JOIN parties p ON p.id = r.party_id
        WHERE r.user_id = ? ORDER BY p.starts_at""",
        (user_id,),
    )
    optouts = await fetch_all(
        conn, "SELECT guild_id, since FROM party_reminder_optouts WHERE user_id = ?", (user_id,)
    )
    notices = await fetch_all(
        conn,
        "SELECT party_id, notice, outcome FROM party_notices WHERE user_id = ? ORDER BY party_id",
        (user_id,),
    )
    hosted = await fetch_all(
        conn,
        "SELECT guild_id, id AS party_id, what, starts_at, status FROM parties WHERE host_id = ?",
        (user_id,),
    )
    return {
        "party_rsvps": [dict(r) for r in rsvps],
        "party_reminder_optouts": [dict(r) for r in optouts],
        "party_notices": [dict(r) for r in notices],
        "parties_hosted": [dict(r) for r in hosted],
    }


async def forget_member(conn: aiosqlite.Connection, user_id: int) -> int:
    """Delete a member's RSVPs, reminder opt-outs and notice records (how many rows went); the
    parties they hosted keep no host."""
    removed = 0
    for table in ("party_rsvps", "party_reminder_optouts", "party_notices"):
        cursor = await conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
        removed += cursor.rowcount
    await conn.execute("UPDATE parties SET host_id = NULL WHERE host_id = ?", (user_id,))
    return removed


def _json_list(values: Sequence[object]) -> str:
    return json.dumps(list(values))
