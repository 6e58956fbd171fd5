"""Reading rows in one round trip.

aiosqlite runs every call on its own thread, and ``async with conn.execute(...) as cursor`` then
``fetchone()`` is three trips there and back (execute, fetch, close): about 0.17 ms of waiting
per statement, against 0.06 ms for ``execute_fetchall``, which does all three in one. A search
runs four or five statements, so every repository reads through these two.

A read of many statements (a weekly digest runs a dozen or more) goes further: ``in_one_hop``
runs a plain function of ``sqlite3`` calls on the connection's own thread, so the whole read is
one trip there and back however many statements it runs. Repositories offer such functions as
``read_…``, taking a ``SyncConnection``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import aiosqlite

Params = Mapping[str, Any] | tuple[Any, ...]
#: The plain connection a ``read_…`` function is given, on aiosqlite's worker thread.
SyncConnection = sqlite3.Connection
T = TypeVar("T")


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> list[aiosqlite.Row]:
    return list(await conn.execute_fetchall(sql, params))


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> aiosqlite.Row | None:
    """The first row, or None; for statements that return at most one row."""
    rows = await conn.execute_fetchall(sql, params)
    return next(iter(rows), None)


async def in_one_hop(conn: aiosqlite.Connection, read: Callable[[SyncConnection], T]) -> T:
    """``read(connection)`` run on the connection's worker thread (where aiosqlite runs every
    statement, so it is never used from two threads): one round trip for all its statements.
    ``read`` only reads, and must not await or hold the thread long: everything else the
    process does with the database waits behind it."""
    # aiosqlite has no public way to queue a function on its thread; _execute is how its own
    # methods do it (aiosqlite 0.22).
    return cast(T, await conn._execute(read, conn._conn))  # type: ignore[no-untyped-call]


def read_all(conn: SyncConnection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    return conn.execute(sql, params).fetchall()


def read_one(conn: SyncConnection, sql: str, params: Params = ()) -> sqlite3.Row | None:
    """The first row, or None; for statements that return at most one row."""
    row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
    return row
