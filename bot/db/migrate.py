"""Schema migrations: numbered ``migrations/NNNN_name.sql`` files tracked by ``PRAGMA user_version``.

Each file runs in its own transaction together with the bump of ``user_version``, so a crash
leaves the database at a whole version. A database at a newer version than this code knows is
refused before anything is written.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.errors import DatabaseRefused

log = logging.getLogger(__name__)

_FILENAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """Split the script into statements (trigger bodies stay whole)."""
        statements: list[str] = []
        pending = ""
        for line in self.sql.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                if pending.strip():
                    statements.append(pending.strip())
                pending = ""
        if pending.strip() and not _is_only_comments(pending):
            raise ValueError(f"migration {self.name} ends with an incomplete statement")
        return statements


def _is_only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())


def load_migrations() -> list[Migration]:
    """The packaged migrations in version order; versions must run 1, 2, 3 … without gaps."""
    folder = resources.files("bot.db") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILENAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"migration versions must be contiguous; {migration.name} is out of place"
            )
    return found


def latest_version() -> int:
    return len(load_migrations())


async def migrate(conn: aiosqlite.Connection, path: Path | str = "database") -> int:
    """Bring the database up to the latest schema; return the version it is now at."""
    migrations = load_migrations()
    latest = len(migrations)
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    if current > latest:
        raise DatabaseRefused(
            f"DATABASE_PATH {path} was written by a newer Undercurrent (schema v{current}; this "
            f"version knows up to v{latest}); upgrade Undercurrent or use another file"
        )
    for migration in migrations[current:]:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migration.statements():
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {migration.version:d}")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
        log.info("Applied migration %s", migration.name)
    return latest
