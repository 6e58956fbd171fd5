"""The process's one SQLite connection, and the only ways to use it: ``read()`` and ``transaction()``.

aiosqlite runs every statement on one worker thread, so two coroutines sharing the connection
would otherwise interleave their statements inside each other's transactions. Both context
managers take one asyncio lock: a transaction is ``BEGIN IMMEDIATE`` … ``COMMIT`` (or
``ROLLBACK`` on any exception) with nobody else's statements in between, and a read never sees
another coroutine's uncommitted writes.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.db.migrate import migrate
from bot.errors import DatabaseRefused

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5_000
WAL_AUTOCHECKPOINT_PAGES = 10_000
CACHE_KIB = 64 * 1024


class Database:
    """An open, migrated database. Create with ``Database.open``; close with ``close``."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._conn = connection
        self.path = path
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[object] | None = None

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if absent) and migrate the database at ``path``.

        Raises ``DatabaseRefused`` without writing anything if ``path`` holds something that is
        not an SQLite database, or a database written by a newer Undercurrent.
        """
        check_database_path(path)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseRefused(f"DATABASE_PATH {path}: cannot open it ({exc})") from exc
        conn.row_factory = sqlite3.Row
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await migrate(conn, path)
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            # SQLite checkpoints the WAL inside whichever commit crosses the threshold; at the
            # default 1,000 pages that commit takes 10-140 ms, often enough to be the p99 of a
            # busy archive. 10,000 pages (40 MB of WAL) makes it ten times rarer.
            await conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
            # SQLite's default page cache is 2 MiB; archive searches reread the same index and
            # row pages, and 64 MiB (taken only as pages are used) makes them ~15 % faster.
            await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise DatabaseRefused(f"DATABASE_PATH {path} cannot be used: {exc}") from exc
        except BaseException:
            await conn.close()
            raise
        log.info("Database %s open", path)
        return cls(conn, path)

    async def close(self) -> None:
        async with self._lock:
            try:
                await self._conn.execute("PRAGMA optimize")
                await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                log.warning("PRAGMA optimize/checkpoint failed on close", exc_info=True)
            await self._conn.close()
        log.info("Database %s closed", self.path)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one write transaction; any exception rolls it back and propagates.

        BEGIN, COMMIT and ROLLBACK always run to completion, even if the task is cancelled while
        waiting on them (the statement is already on aiosqlite's worker thread and will run
        regardless); the cancellation is re-raised afterwards, and whatever the transaction had
        done is rolled back, so a cancelled task never leaves the shared connection mid-transaction.
        """
        async with self._locked():
            try:
                await self._execute_to_completion("BEGIN IMMEDIATE")
                yield self._conn
                await self._execute_to_completion("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    await self._execute_to_completion("ROLLBACK")
                raise

    async def _execute_to_completion(self, sql: str) -> None:
        statement = asyncio.ensure_future(self._conn.execute(sql))
        cancelled = False
        while True:
            try:
                await asyncio.shield(statement)
                break
            except asyncio.CancelledError:
                if statement.done():
                    raise
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Use the connection for reads, seeing only committed data."""
        async with self._locked():
            yield self._conn

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        current = asyncio.current_task()
        if current is not None and self._holder is current:
            # asyncio.Lock is not re-entrant: say so rather than hang forever.
            raise RuntimeError("nested database transaction/read in the same task")
        async with self._lock:
            self._holder = current
            try:
                yield
            finally:
                self._holder = None


def check_database_path(path: Path) -> None:
    """Refuse, without touching anything, a DATABASE_PATH the bot cannot use: something that is
    not an SQLite database, or a file in a folder that does not exist."""
    check_is_sqlite(path)
    if not path.parent.exists():
        raise DatabaseRefused(f"DATABASE_PATH {path}: the folder {path.parent} does not exist")


def check_is_sqlite(path: Path) -> None:
    """Refuse, without touching it, anything at ``path`` that is not an SQLite database."""
    if path.is_dir():
        raise DatabaseRefused(f"DATABASE_PATH {path} is a folder, not a database file")
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseRefused(f"DATABASE_PATH {path}: cannot read it ({exc.strerror})") from exc
    if header != SQLITE_MAGIC:
        raise DatabaseRefused(
            f"DATABASE_PATH {path} is not an SQLite database; refusing to touch it "
            "(point DATABASE_PATH at a new file name, or move that file away)"
        )
