"""The outbox (``outbox``): one row per post the bot makes exactly once. See ``bot.outbox``."""

from __future__ import annotations

from typing import cast

import aiosqlite

from bot.db.rows import fetch_all, fetch_one
from bot.domain.outbox import OutboxEntry, OutboxKind, OutboxStatus, new_nonce_salt
from bot.domain.timeutil import from_epoch

INSERT_ENTRY = """
INSERT INTO outbox (
    key, kind, guild_id, channel_id, marker, nonce_salt, attempts, last_attempt_at,
    created_at, updated_at
)
VALUES (
    :key, :kind, :guild_id, :channel_id, :marker, :nonce_salt, :attempts, :last_attempt_at,
    :now, :now
)
ON CONFLICT (key) DO NOTHING
RETURNING *
"""
GET_ENTRY_BY_KEY = "SELECT * FROM outbox WHERE key = :key"
BEGIN_ATTEMPT = """
UPDATE outbox SET attempts = attempts + 1, last_attempt_at = :now, updated_at = :now
WHERE id = :id AND status IN ('pending', 'failed')
"""
MARK_POSTED = """
UPDATE outbox SET status = 'posted', posted_id = :posted_id, last_error = NULL, updated_at = :now
WHERE id = :id AND status <> 'posted'
"""
CLOSE_ENTRY = """
UPDATE outbox SET status = :status, last_error = :error, updated_at = :now
WHERE id = :id AND status = 'pending'
"""
NOTE_ERROR = "UPDATE outbox SET last_error = :error, updated_at = :now WHERE id = :id"
LIST_PENDING = """
SELECT * FROM outbox
WHERE status = 'pending' AND id > :after AND (:up_to IS NULL OR id <= :up_to)
ORDER BY id LIMIT :limit
"""
LAST_ID = "SELECT coalesce(max(id), 0) FROM outbox"


async def insert_entry(
    conn: aiosqlite.Connection,
    *,
    key: str,
    kind: OutboxKind,
    guild_id: int | None,
    channel_id: int | None,
    marker: str,
    nonce_salt: str,
    now: int,
) -> OutboxEntry | None:
    """Insert a pending entry; None if ``key`` already has one (which is left as it is).

    A ``response`` entry counts its first attempt at once: the caller answers the interaction
    right after committing, and nothing can tell afterwards whether that answer went out."""
    responding = kind == "response"
    params = {
        "key": key,
        "kind": kind,
        "guild_id": guild_id,
        "channel_id": channel_id,
        "marker": marker,
        "nonce_salt": nonce_salt,
        "attempts": 1 if responding else 0,
        "last_attempt_at": now if responding else None,
        "now": now,
    }
    row = await fetch_one(conn, INSERT_ENTRY, params)
    return None if row is None else _to_entry(row)


async def reserve_entry(
    conn: aiosqlite.Connection,
    *,
    key: str,
    kind: OutboxKind,
    guild_id: int | None,
    channel_id: int | None,
    marker: str,
    now: int,
) -> tuple[OutboxEntry, bool]:
    """The entry for ``key``, written now (with a fresh nonce salt) unless it exists already:
    ``(entry, created)``. Meant for the transaction that stores what the post is about."""
    created = await insert_entry(
        conn, key=key, kind=kind, guild_id=guild_id, channel_id=channel_id, marker=marker,
        nonce_salt=new_nonce_salt(), now=now,
    )  # fmt: skip
    if created is not None:
        return created, True
    existing = await get_entry(conn, key)
    assert existing is not None, "conflicting outbox key vanished inside a transaction"
    return existing, False


async def get_entry(conn: aiosqlite.Connection, key: str) -> OutboxEntry | None:
    row = await fetch_one(conn, GET_ENTRY_BY_KEY, {"key": key})
    return None if row is None else _to_entry(row)


async def begin_attempt(conn: aiosqlite.Connection, entry_id: int, now: int) -> bool:
    """Count an attempt about to be made (committed before the post goes out)."""
    cursor = await conn.execute(BEGIN_ATTEMPT, {"id": entry_id, "now": now})
    return cursor.rowcount > 0


async def mark_posted(conn: aiosqlite.Connection, entry_id: int, posted_id: int, now: int) -> bool:
    """Record what was posted; False (and nothing changed) if the entry was already posted."""
    cursor = await conn.execute(MARK_POSTED, {"id": entry_id, "posted_id": posted_id, "now": now})
    return cursor.rowcount > 0


async def close_entry(
    conn: aiosqlite.Connection, entry_id: int, status: OutboxStatus, error: str, now: int
) -> bool:
    """Stop trying a pending entry: ``dropped`` (nothing to post any more) or ``failed``."""
    if status not in ("dropped", "failed"):
        raise ValueError(f"an entry is closed as dropped or failed, not {status!r}")
    cursor = await conn.execute(
        CLOSE_ENTRY, {"id": entry_id, "status": status, "error": error, "now": now}
    )
    return cursor.rowcount > 0


async def note_error(conn: aiosqlite.Connection, entry_id: int, error: str, now: int) -> None:
    """Keep the last transient error of a pending entry (it stays pending)."""
    await conn.execute(NOTE_ERROR, {"id": entry_id, "error": error, "now": now})


async def list_pending(
    conn: aiosqlite.Connection, *, after: int = 0, up_to: int | None = None, limit: int = 100
) -> list[OutboxEntry]:
    """Pending entries with an id above ``after`` (and at most ``up_to``), oldest first (page
    with the last id seen)."""
    params = {"after": after, "up_to": up_to, "limit": limit}
    return [_to_entry(row) for row in await fetch_all(conn, LIST_PENDING, params)]


async def last_id(conn: aiosqlite.Connection) -> int:
    row = await fetch_one(conn, LAST_ID, {})
    return 0 if row is None else int(row[0])


def _to_entry(row: aiosqlite.Row) -> OutboxEntry:
    last_attempt = row["last_attempt_at"]
    return OutboxEntry(
        id=int(row["id"]),
        key=str(row["key"]),
        kind=cast(OutboxKind, row["kind"]),
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        marker=str(row["marker"]),
        nonce_salt=str(row["nonce_salt"]),
        posted_id=row["posted_id"],
        status=cast(OutboxStatus, row["status"]),
        attempts=int(row["attempts"]),
        last_attempt_at=None if last_attempt is None else from_epoch(last_attempt),
        last_error=row["last_error"],
        created_at=from_epoch(row["created_at"]),
    )


async def with_prefix(conn: aiosqlite.Connection, prefix: str) -> list[OutboxEntry]:
    """The entries whose key starts with ``prefix`` (a range over the unique index on
    ``key``), oldest first."""
    if not prefix:
        raise ValueError("a prefix is needed")
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = await fetch_all(
        conn,
        "SELECT * FROM outbox WHERE key >= :lower AND key < :upper ORDER BY id",
        {"lower": prefix, "upper": upper},
    )
    return [_to_entry(row) for row in rows]
