"""The outbox table: an entry commits or rolls back with the caller's transaction, one entry per
key, and the bookkeeping of attempts, posted ids and closing."""

from __future__ import annotations

import sqlite3

import pytest

from bot.db import Database
from bot.db.repos import outbox as outbox_repo
from bot.domain.outbox import OutboxEntry

NOW = 1_767_614_400


async def insert(db: Database, key: str = "pick:1:card", **overrides: object) -> OutboxEntry:
    values: dict[str, object] = {
        "key": key,
        "kind": "message",
        "guild_id": 10,
        "channel_id": 20,
        "marker": "uc:pick:heard:1",
        "nonce_salt": "0123456789",
        "now": NOW,
    }
    values.update(overrides)
    async with db.transaction() as conn:
        entry = await outbox_repo.insert_entry(conn, **values)  # type: ignore[arg-type]
    assert entry is not None
    return entry


async def get(db: Database, key: str) -> OutboxEntry | None:
    async with db.read() as conn:
        return await outbox_repo.get_entry(conn, key)


async def test_an_entry_rolls_back_with_the_transaction_it_was_reserved_in(db: Database) -> None:
    with pytest.raises(RuntimeError, match="the pick could not be stored"):
        async with db.transaction() as conn:
            await outbox_repo.insert_entry(
                conn, key="pick:1:card", kind="message", guild_id=10, channel_id=20,
                marker="uc:pick:heard:1", nonce_salt="0123456789", now=NOW,
            )  # fmt: skip
            raise RuntimeError("the pick could not be stored")
    assert await get(db, "pick:1:card") is None


async def test_a_key_has_one_entry_and_the_first_one_stays(db: Database) -> None:
    first = await insert(db)
    async with db.transaction() as conn:
        again = await outbox_repo.insert_entry(
            conn, key="pick:1:card", kind="message", guild_id=10, channel_id=99,
            marker="other", nonce_salt="ffffffffff", now=NOW + 5,
        )  # fmt: skip
    assert again is None
    assert await get(db, "pick:1:card") == first
    assert first.status == "pending" and first.attempts == 0 and first.posted_id is None


async def test_a_response_entry_counts_its_attempt_at_once(db: Database) -> None:
    entry = await insert(db, kind="response")
    assert entry.attempts == 1 and entry.last_attempt_at is not None


async def test_attempt_then_posted_keeps_the_first_id(db: Database) -> None:
    entry = await insert(db)
    async with db.transaction() as conn:
        assert await outbox_repo.begin_attempt(conn, entry.id, NOW + 1)
        assert await outbox_repo.mark_posted(conn, entry.id, 555, NOW + 2)
        assert not await outbox_repo.mark_posted(conn, entry.id, 666, NOW + 3)
        assert not await outbox_repo.begin_attempt(conn, entry.id, NOW + 4)
    stored = await get(db, entry.key)
    assert stored is not None
    assert (stored.status, stored.posted_id, stored.attempts) == ("posted", 555, 1)


async def test_closed_entries_leave_the_pending_list(db: Database) -> None:
    kept, dropped, failed = [await insert(db, f"pick:{n}:card") for n in (1, 2, 3)]
    async with db.transaction() as conn:
        assert await outbox_repo.close_entry(conn, dropped.id, "dropped", "gone", NOW)
        assert await outbox_repo.close_entry(conn, failed.id, "failed", "403", NOW)
        with pytest.raises(ValueError):
            await outbox_repo.close_entry(conn, kept.id, "posted", "no", NOW)
    async with db.read() as conn:
        pending = await outbox_repo.list_pending(conn)
        assert [e.key for e in pending] == ["pick:1:card"]
        assert await outbox_repo.list_pending(conn, after=pending[0].id) == []


async def test_the_table_refuses_inconsistent_rows(db: Database) -> None:
    entry = await insert(db)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute("UPDATE outbox SET status = 'posted' WHERE id = ?", (entry.id,))
    with pytest.raises(sqlite3.IntegrityError):
        await insert(db, "pick:2:card", channel_id=None)
    with pytest.raises(sqlite3.IntegrityError):
        await insert(db, "party:3:event", kind="event", channel_id=None, guild_id=None)
    assert (await insert(db, "party:4:event", kind="event", channel_id=None)).kind == "event"
