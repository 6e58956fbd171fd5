"""The connection, transactions and migrations, on real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.migrate import latest_version, load_migrations
from bot.db.repos import picks as picks_repo
from bot.domain.picks import PickFields, build_draft
from bot.domain.search import SearchFilters
from bot.errors import DatabaseRefused
from bot.services.archive_search import search_archive


def schema_of(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
    return [(name, " ".join(sql.split())) for name, sql in rows]


def build_at_version(path: Path, version: int) -> None:
    """A database as an older Undercurrent left it: the first ``version`` migrations applied."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        for migration in load_migrations()[:version]:
            for statement in migration.statements():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")


async def test_fresh_database_is_at_the_latest_version(db: Database, db_path: Path) -> None:
    async with db.read() as conn:
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == latest_version()
        tables = {name for name, _ in schema_of(db_path)}
    assert {"guild_settings", "user_settings", "jobs", "bot_meta"} <= tables


async def test_connection_pragmas(db: Database) -> None:
    async with db.read() as conn:
        values = {}
        for pragma in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"):
            async with conn.execute(f"PRAGMA {pragma}") as cursor:
                row = await cursor.fetchone()
                assert row is not None
                values[pragma] = row[0]
    assert values == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "synchronous": 1,
    }


@pytest.mark.parametrize("start", range(latest_version()))
async def test_upgrade_from_every_earlier_version(start: int, tmp_path: Path) -> None:
    fresh_path = tmp_path / "fresh.sqlite3"
    old_path = tmp_path / "old.sqlite3"
    fresh = await Database.open(fresh_path)
    await fresh.close()
    build_at_version(old_path, start)

    upgraded = await Database.open(old_path)
    await upgraded.close()
    assert schema_of(old_path) == schema_of(fresh_path)
    with sqlite3.connect(old_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()


async def test_upgrade_to_v3_indexes_existing_picks_by_place_and_time(tmp_path: Path) -> None:
    # v3 pairs each pick's year with its country, format and subgenres in the search index;
    # picks shared before the upgrade must be found that way too, so the index is rebuilt.
    path = tmp_path / "v2.sqlite3"
    build_at_version(path, 2)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO picks (guild_id, artist, title, match_key, year, country, format, tags,"
            " shared_by, created_at) VALUES (1, 'Kas Product', 'Mind', 'kas product mind', 1982,"
            " 'FR', 'vinyl', 'cold-wave minimal-synth', 5, 0)"
        )
    db = await Database.open(path)
    try:
        now = datetime(2026, 11, 21, tzinfo=UTC)
        for filters in (
            SearchFilters(country="FR", year_from=1978, year_to=1991),
            SearchFilters(subgenre="minimal-synth", format="vinyl", year_from=1980, year_to=1989),
            SearchFilters(query="mind", subgenre="cold-wave", year_from=1982, year_to=1982),
        ):
            page = await search_archive(db, 1, filters, 1, now)
            assert [p.title for p in page.results] == ["Mind"], filters
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO picks_fts (picks_fts, rank) VALUES ('integrity-check', 1)"
            )
    finally:
        await db.close()


def country_counts(path: Path) -> list[tuple[int, str, int]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT guild_id, country, uses FROM archive_countries ORDER BY 1, 2"
        ).fetchall()


async def test_upgrade_to_v4_counts_existing_picks_by_country_and_keeps_counting(
    tmp_path: Path,
) -> None:
    # The country autocomplete offers a server's own countries first, from counts kept by
    # triggers; picks shared before v4 must be counted by the upgrade itself.
    path = tmp_path / "v3.sqlite3"
    build_at_version(path, 3)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO picks (guild_id, artist, title, match_key, country, created_at)"
            " VALUES (?, ?, 'T', ?, ?, 0)",
            [
                (1, "A", "at", "ML"),
                (1, "B", "bt", "ML"),
                (1, "C", "ct", None),
                (2, "D", "dt", "ML"),
            ],
        )
    db = await Database.open(path)
    await db.close()
    assert country_counts(path) == [(1, "ML", 2), (2, "ML", 1)]

    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE picks SET country = 'NE' WHERE artist = 'A'")  # moved
        conn.execute("UPDATE picks SET country = 'NE' WHERE artist = 'C'")  # had none
        conn.execute("UPDATE picks SET title = 'U' WHERE artist = 'B'")  # country untouched
        conn.execute("DELETE FROM picks WHERE artist = 'D'")  # purged
    assert country_counts(path) == [(1, "ML", 1), (1, "NE", 2), (2, "ML", 0)]


async def test_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    build_at_version(path, latest_version())
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    before = path.read_bytes()

    with pytest.raises(
        DatabaseRefused, match=r"newer Undercurrent \(schema v\d+; this version knows up to v\d+\)"
    ):
        await Database.open(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [b"not a database at all\n", b"\x00" * 4096, b"SQLite format 2\x00" + b"\x00" * 100],
    ids=["text", "zeros", "wrong-magic"],
)
async def test_file_that_is_not_sqlite_is_refused_untouched(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(content)
    mtime = path.stat().st_mtime_ns

    with pytest.raises(DatabaseRefused, match="is not an SQLite database; refusing to touch it"):
        await Database.open(path)
    assert path.read_bytes() == content
    assert path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite3"]  # no -wal, no -journal


async def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseRefused, match="is a folder"):
        await Database.open(tmp_path)


async def test_missing_parent_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseRefused, match="does not exist"):
        await Database.open(tmp_path / "nope" / "db.sqlite3")


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO user_settings (user_id, timezone, updated_at) VALUES (1, 'UTC', 0)"
            )
            raise Boom
    async with db.read() as conn, conn.execute("SELECT count(*) FROM user_settings") as cursor:
        row = await cursor.fetchone()
    assert row is not None and row[0] == 0


async def test_transaction_commits_and_survives_reopen(db_path: Path) -> None:
    first = await Database.open(db_path)
    async with first.transaction() as conn:
        await conn.execute(
            "INSERT INTO user_settings (user_id, timezone, updated_at) VALUES (1, 'Asia/Tokyo', 0)"
        )
    await first.close()
    second = await Database.open(db_path)
    async with second.read() as conn, conn.execute("SELECT timezone FROM user_settings") as cursor:
        rows = [tuple(r) for r in await cursor.fetchall()]
    await second.close()
    assert rows == [("Asia/Tokyo",)]


async def test_concurrent_transactions_do_not_interleave(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('counter', '0')")

    async def increment() -> None:
        async with db.transaction() as conn:
            async with conn.execute("SELECT value FROM bot_meta WHERE key = 'counter'") as cursor:
                row = await cursor.fetchone()
            assert row is not None
            await asyncio.sleep(0)  # give every other writer a chance to barge in
            await conn.execute(
                "UPDATE bot_meta SET value = :v WHERE key = 'counter'", {"v": str(int(row[0]) + 1)}
            )

    await asyncio.gather(*(increment() for _ in range(50)))
    async with db.read() as conn, conn.execute("SELECT value FROM bot_meta") as cursor:
        row = await cursor.fetchone()
    assert row is not None and row[0] == "50"


async def test_reads_never_see_another_tasks_uncommitted_writes(db: Database) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('draft', 'x')")
                inside.set()
                await release.wait()
                raise RuntimeError("changed my mind")

    task = asyncio.create_task(writer())
    await inside.wait()
    reader = asyncio.create_task(_count_meta(db))
    await asyncio.sleep(0.01)
    assert not reader.done()  # waits for the writer rather than reading its draft
    release.set()
    await task
    assert await reader == 0


async def _count_meta(db: Database) -> int:
    async with db.read() as conn, conn.execute("SELECT count(*) FROM bot_meta") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_nested_transaction_fails_loudly_instead_of_deadlocking(db: Database) -> None:
    async with db.transaction():
        with pytest.raises(RuntimeError, match="nested"):
            async with db.transaction():
                pass


async def test_due_job_lookup_uses_the_partial_index(db: Database) -> None:
    from bot.db.repos.jobs import NEXT_RUN_AT

    async with (
        db.read() as conn,
        conn.execute("EXPLAIN QUERY PLAN " + NEXT_RUN_AT, {"kinds": '["a"]'}) as cursor,
    ):
        plan = " ".join(str(row[3]) for row in await cursor.fetchall())
    assert "jobs_pending_by_run_at" in plan


@pytest.mark.parametrize("turns", range(6))
async def test_cancelling_a_writer_never_leaves_the_connection_in_a_transaction(
    db: Database, turns: int
) -> None:
    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('cancelled', 'x')")
            await asyncio.sleep(1)

    task = asyncio.create_task(writer())
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as conn:  # the next writer works, and saw nothing half-done
        await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('after', 'y')")
    async with db.read() as conn, conn.execute("SELECT key FROM bot_meta ORDER BY key") as cursor:
        assert [row[0] for row in await cursor.fetchall()] == ["after"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM picks WHERE edited_by = 5",
        "SELECT id FROM picks WHERE deleted_by = 5",
        "UPDATE picks SET edited_by = NULL WHERE edited_by = 5",
        "SELECT from_id FROM pick_links WHERE created_by = 5",
    ],
)
async def test_a_members_traces_are_found_by_index_not_by_reading_every_pick(
    db: Database, sql: str
) -> None:
    async with db.read() as conn, conn.execute(f"EXPLAIN QUERY PLAN {sql}") as cursor:
        plan = " ".join(str(row[3]) for row in await cursor.fetchall())
    assert "INDEX picks_by_" in plan or "INDEX pick_links_by_creator" in plan, plan
    assert "SCAN" not in plan, plan


async def test_the_upgrade_numbers_new_picks_above_every_id_still_named(tmp_path: Path) -> None:
    """Migration 0008: a database that deleted its newest picks while their cards' outbox
    entries stayed must not give those ids out again."""
    path = tmp_path / "v7.sqlite3"
    build_at_version(path, 7)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO outbox (key, kind, guild_id, channel_id, marker, nonce_salt, created_at,"
            " updated_at) VALUES ('pick:41:card', 'response', 1, 2, 'uc:pick:heard:41', "
            "'0123456789', 0, 0)"
        )
    db = await Database.open(path)
    try:
        async with db.transaction() as conn:
            draft = build_draft(
                PickFields(artist="Kas Product", title="Try Out"), current_year=2026
            )
            assert await picks_repo.insert_pick(conn, 1, draft, 11, 0) == 42
    finally:
        await db.close()
